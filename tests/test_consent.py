"""A guardian's consent (PIPL) through the real dispatcher: asked when bound and on every update
until given; every guardian feature answers with the question meanwhile, except 已知悉 on an
urgent incident; 同意 (pressed or typed) records it with version, time and channel; a new wording
asks again; staff are never asked."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.dispatcher import Dispatcher
from handlers.privacy.consent import AGREE
from handlers.types import Inbound
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.feedback.tables import Feedback
from models.incidents.tables import Incident
from models.notices.tables import NoticeQuestion
from models.parents.tables import ParentMessage
from models.privacy.consent import CONSENT_VERSION, record_consent, version_number
from models.privacy.tables import GuardianConsent
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.incidents import REPORT, outbox_for
from tests.helpers.notices import press_on, receipts
from tests.helpers.receipts import published_notice
from tests.helpers.visits import ChatUser, full_dispatcher, person

QUESTION = "家长知情同意"


async def _family(
    db: Database, clock: FakeClock, name: str = "刘梅"
) -> tuple[TestSchool, Dispatcher, ChatUser]:
    """The test school with no consent given; `name` bound on the console."""
    ts = await seed_school(db, consent=False)
    dispatcher = full_dispatcher(db, clock)
    user = ChatUser(dispatcher, await bind(db, clock, ts.guardians[name], consent=False))
    return ts, dispatcher, user


async def _consents(db: Database) -> list[GuardianConsent]:
    async with db.session() as session:
        return list((await session.exec(select(GuardianConsent))).all())


async def _count(db: Database, model: type[object]) -> int:
    async with db.session() as session:
        return len((await session.exec(select(model))).all())


def _asked(user: ChatUser) -> bool:
    return QUESTION in user.text and user.labels == ["同意"]


async def test_every_guardian_feature_answers_with_the_consent_question_until_agreed(
    db: Database, clock: FakeClock
) -> None:
    ts, _dispatcher, mother = await _family(db, clock)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班",))
    attempts = [
        "/notices",
        "/feedback",
        "/mydata",
        "/help",
        "/care",  # asking the care room for help
        "/drafts",
        "/consent",
        "老师您好，孩子明天发烧想请假一天",  # a parent message
        "收到",  # confirming the notice by word
    ]
    for text in attempts:
        await mother.send(text)
        assert _asked(mother), text
    for data in (f"!nok:{notice.id}", f"!nq:{notice.id}", f"!nshow:{notice.id}"):
        await mother.callback(data)  # 确认收到, 有疑问, opening the notice
        assert _asked(mother), data
    assert all(r.confirmed_at is None for r in await receipts(db))
    assert await _count(db, ParentMessage) == 0
    assert await _count(db, Feedback) == 0
    assert await _count(db, NoticeQuestion) == 0
    assert await _consents(db) == []


async def test_pressing_agree_records_the_consent_and_the_features_work(
    db: Database, clock: FakeClock
) -> None:
    ts, _dispatcher, mother = await _family(db, clock)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班",))
    await mother.send("/notices")
    await mother.press("同意")
    assert "已记录您的同意" in mother.text
    [consent] = await _consents(db)
    assert (consent.guardian_id, consent.version, consent.channel) == (
        ts.guardians["刘梅"].id,
        CONSENT_VERSION,
        "console",
    )
    assert consent.agreed_at == clock()
    async with db.session() as session:
        audited = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "consent.agree"))
        ).all()
    assert [(a.actor, a.subject) for a in audited] == [
        (f"guardian:{consent.guardian_id}", f"guardian:{consent.guardian_id}")
    ]
    await mother.callback(f"!nok:{notice.id}")
    assert QUESTION not in mother.text
    assert all(
        r.confirmed_at is not None
        for r in await receipts(db)
        if r.student_id == ts.students["张小明"].id
    )
    await mother.callback(f"!{AGREE}:{version_number()}")
    assert mother.text == "您已经同意过了，无需再次确认。"
    assert len(await _consents(db)) == 1


async def test_typing_the_word_agrees_too(db: Database, clock: FakeClock) -> None:
    _ts, _dispatcher, mother = await _family(db, clock)
    await mother.send("同意")
    assert "已记录您的同意" in mother.text
    await mother.send("/mydata")
    assert "学校保存的您孩子的信息" in mother.text


async def test_a_parent_message_goes_through_once_agreed(db: Database, clock: FakeClock) -> None:
    _ts, _dispatcher, mother = await _family(db, clock)
    await mother.send("同意")
    await mother.send("/feedback")
    assert QUESTION not in mother.text
    await mother.send("/cancel")
    await mother.send("老师您好，孩子明天发烧想请假一天")
    assert QUESTION not in mother.text


async def test_a_new_wording_asks_again_and_an_old_buttons_press_does_not_agree(
    db: Database, clock: FakeClock
) -> None:
    ts, _dispatcher, mother = await _family(db, clock)
    async with db.session() as session:
        await record_consent(
            session=session,
            school_id=ts.school.id or 0,
            guardian_id=ts.guardians["刘梅"].id or 0,
            channel="console",
            now=clock(),
            version="2025-09",
        )
    await mother.send("/notices")
    assert _asked(mother)
    await mother.callback(f"!{AGREE}:202509")  # the button of the older wording
    assert _asked(mother)
    assert {c.version for c in await _consents(db)} == {"2025-09"}
    await mother.press("同意")
    assert {c.version for c in await _consents(db)} == {"2025-09", CONSENT_VERSION}


async def test_binding_by_invite_or_contact_asks_for_consent_after_the_greeting(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db, consent=False)
    dispatcher = full_dispatcher(db, clock)
    stranger = ChatUser(dispatcher, "p9")
    response = await dispatcher.handle(
        Inbound(channel="console", user_id="p9", chat_id="p9", contact_phone="13700000000")
    )
    stranger.replies = response.replies
    greeting, question = response.replies
    assert greeting.text.startswith("张小明、张小红家长，您好！")
    assert QUESTION in question.text
    assert [b.label for row in question.buttons for b in row] == ["同意"]
    await stranger.press("同意")
    assert "已记录您的同意" in stranger.text
    await stranger.send("/start")
    assert QUESTION not in stranger.text


async def test_staff_are_never_asked(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db, consent=False)
    teacher = await person(db, clock, full_dispatcher(db, clock), ts.staff["王芳"])
    for text in ("/start", "/help", "同意"):
        await teacher.send(text)
        assert QUESTION not in teacher.text
    assert await _consents(db) == []


async def test_an_urgent_incident_reaches_a_family_without_consent_and_its_acknowledgement_works(
    db: Database, clock: FakeClock
) -> None:
    ts, dispatcher, mother = await _family(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    await teacher.steps(*REPORT, "确认上报")
    [message] = await outbox_for(db, mother, "incident_family")
    assert "意外伤害" in message.text
    await press_on(mother, message, "已知悉")
    assert QUESTION not in mother.text
    async with db.session() as session:
        incident = (await session.exec(select(Incident))).one()
    assert incident.acknowledged_by == ts.guardians["刘梅"].id
    # 已知悉 acknowledged the urgent message only: everything else still asks.
    await mother.send("/notices")
    assert _asked(mother)


async def test_typed_acknowledgement_of_an_incident_works_without_consent(
    db: Database, clock: FakeClock
) -> None:
    ts, dispatcher, mother = await _family(db, clock)
    teacher = await person(db, clock, dispatcher, ts.staff["王芳"])
    await teacher.steps(*REPORT, "确认上报")
    await mother.send("已知悉")
    assert QUESTION not in mother.text
    async with db.session() as session:
        incident = (await session.exec(select(Incident))).one()
    assert incident.acknowledged_at is not None


async def test_a_guardian_reads_the_wording_again_with_consent(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    mother = await person(db, clock, full_dispatcher(db, clock), ts.guardians["刘梅"])
    await mother.send("/consent")
    assert QUESTION in mother.text
    assert "您已于 2026-09-01" in mother.text
    assert mother.labels == []
