"""Flood limits on the real dispatcher: a guardian's questions about one notice, repeats, and
messages to staff in an hour (a guardian's questions, a head teacher's notices for approval).
What a limit holds back is not queued, the sender is told so kindly, and 德育处 can see it in the
audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, select

from bot.settings import Settings
from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.notices.queries import NoticeSpec, submit_notice
from models.notices.tables import AudienceKind, Notice, NoticeKind, NoticeQuestion
from models.school.rules import DEFAULT_RULES, SchoolRules
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.notices import TEACHER_TO_CLASS, ZONE, notices
from tests.helpers.outbox import outbox
from tests.helpers.receipts import published_notice
from tests.helpers.visits import ChatUser, full_dispatcher, person

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool


@dataclass
class Asking:
    ts: TestSchool
    notice: Notice
    parent: ChatUser
    head: ChatUser


async def _asking(db: Database, clock: FakeClock, rules: SchoolRules = DEFAULT_RULES) -> Asking:
    """李娜's father and her head teacher 王芳 (三(2)班), and an outing notice to 三(2)班."""
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock, rules)
    notice = await published_notice(db, ts, clock())
    head = await person(db, clock, dispatcher, ts.staff["王芳"])
    parent = await person(db, clock, dispatcher, ts.guardians["李娜家长"])
    return Asking(ts, notice, parent, head)


async def _ask(parent: ChatUser, notice: Notice, text: str) -> None:
    """有疑问 on the notice, then the question (when the flow asks for it)."""
    await parent.callback(f"!nq:{notice.id}")
    if "请写下您对" in parent.text:
        await parent.send(text)


async def _forwarded(db: Database) -> list[str]:
    return [str(r.payload["text"]) for r in await outbox(db, prefix="notice-question:")]


async def _refusals(db: Database) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        query = select(AuditEntry).where(AuditEntry.action == "limit.refused")
        rows = (await session.exec(query.order_by(col(AuditEntry.id)))).all()
    return [(r.actor, r.subject, r.detail) for r in rows]


# -- questions about one notice ----------------------------------------------------------------


async def test_the_fifth_question_about_a_notice_is_forwarded(
    db: Database, clock: FakeClock
) -> None:
    asking = await _asking(db, clock)
    for number in range(1, 6):
        await _ask(asking.parent, asking.notice, f"第{number}个问题")
    assert asking.parent.text == "您的疑问已转给三(2)班班主任，老师会尽快答复您。"
    assert len(await _forwarded(db)) == 5
    assert any("第5个问题" in text for text in await _forwarded(db))


async def test_the_sixth_question_about_a_notice_is_refused_politely_and_not_queued(
    db: Database, clock: FakeClock
) -> None:
    asking = await _asking(db, clock)
    for number in range(1, 6):
        await _ask(asking.parent, asking.notice, f"第{number}个问题")
    await asking.parent.callback(f"!nq:{asking.notice.id}")
    assert asking.parent.text == (
        "您对这份通知已提了 5 个疑问，每份通知最多可提 5 个。"
        "请等待老师答复；如需进一步沟通，请直接打电话给班主任。"
    )
    assert len(await _forwarded(db)) == 5
    async with db.session() as session:
        assert len((await session.exec(select(NoticeQuestion))).all()) == 5


async def test_a_question_written_while_the_limit_was_reached_elsewhere_is_not_forwarded(
    db: Database, clock: FakeClock
) -> None:
    asking = await _asking(db, clock)
    for number in range(1, 5):
        await _ask(asking.parent, asking.notice, f"第{number}个问题")
    await asking.parent.callback(f"!nq:{asking.notice.id}")
    guardian = asking.ts.guardians["李娜家长"].id or 0
    async with db.session() as session:  # meanwhile the fifth, on the WeCom receipt page
        session.add(
            NoticeQuestion(
                notice_id=asking.notice.id or 0,
                guardian_id=guardian,
                student_id=asking.ts.students["李娜"].id or 0,
                text="第5个问题",
                channel="wecom-parent",
                asked_at=clock(),
            )
        )
    await asking.parent.send("第6个问题")
    assert asking.parent.text.startswith("这条疑问没有转发。您对这份通知已提了 5 个疑问")
    assert not any("第6个问题" in text for text in await _forwarded(db))
    assert await _refusals(db) == [
        (f"guardian:{guardian}", f"notice:{asking.notice.id}", "per_notice")
    ]


async def test_the_questions_per_notice_follow_the_setting(db: Database, clock: FakeClock) -> None:
    asking = await _asking(db, clock, SchoolRules(questions_per_notice=2))
    for number in range(1, 4):
        await _ask(asking.parent, asking.notice, f"第{number}个问题")
    assert "已提了 2 个疑问" in asking.parent.text
    assert len(await _forwarded(db)) == 2


async def test_an_exact_repeat_of_a_question_is_not_forwarded_twice(
    db: Database, clock: FakeClock
) -> None:
    asking = await _asking(db, clock)
    await _ask(asking.parent, asking.notice, "几点集合？")
    clock.advance(minutes=3)
    await _ask(asking.parent, asking.notice, "几点集合？")
    assert asking.parent.text == "您的疑问已转给班主任，无需重复发送。老师会尽快答复您。"
    assert len(await _forwarded(db)) == 1
    assert await _refusals(db) == []


# -- messages to staff in an hour ----------------------------------------------------------------


async def test_the_21st_message_to_staff_within_an_hour_is_refused_and_accepted_after_it(
    db: Database, clock: FakeClock
) -> None:
    asking = await _asking(db, clock)
    others = [await published_notice(db, asking.ts, clock(), title=f"通知{n}") for n in range(1, 4)]
    first_at = clock()
    for notice in [asking.notice, *others]:
        for number in range(1, 6):
            await _ask(asking.parent, notice, f"{notice.title}第{number}问")
            clock.advance(minutes=2)
    assert len(await _forwarded(db)) == 20
    last = await published_notice(db, asking.ts, clock(), title="最后一个通知")
    await asking.parent.callback(f"!nq:{last.id}")
    assert asking.parent.text == (
        "为免打扰老师，每人每小时最多给老师发 20 条消息。"
        "请在 11月16日 11:00 以后再发送；如有急事，请直接打电话给班主任。"
    )
    assert len(await _forwarded(db)) == 20
    clock.now = first_at.replace(hour=3)  # an hour after the first question
    await _ask(asking.parent, last, "还能问吗？")
    assert asking.parent.text == "您的疑问已转给三(2)班班主任，老师会尽快答复您。"
    assert any("还能问吗？" in text for text in await _forwarded(db))


async def _submitted_for_approval(
    db: Database, ts: TestSchool, clock: FakeClock, count: int
) -> None:
    """`count` notices 王芳 submitted for approval just now (as her 提交 saves them)."""
    spec = NoticeSpec(
        kind=NoticeKind.OTHER,
        title="家长会通知",
        body="本周五下午家长会。",
        audience_kind=AudienceKind.CLASSES,
        audience_ids=(ts.classes["三(2)班"].id or 0,),
        receipt_required=False,
        receipt_deadline=None,
        publish_at=None,
        display_until=clock().date().replace(day=30),
    )
    for _ in range(count):
        async with db.session() as session:
            await submit_notice(
                session=session,
                school_id=ts.school.id or 0,
                author_id=ts.staff["王芳"].id or 0,
                spec=spec,
                now=clock(),
                zone=ZONE,
                self_approved=False,
            )


async def test_a_head_teacher_beyond_the_hourly_limit_stays_at_the_summary_and_submits_after_the_hour(
    db: Database, clock: FakeClock
) -> None:
    asking = await _asking(db, clock)
    await person(db, clock, asking.head.dispatcher, asking.ts.staff["赵敏"])
    await _submitted_for_approval(db, asking.ts, clock, 20)
    clock.advance(minutes=10)
    head = asking.head
    await head.steps(*TEACHER_TO_CLASS, "提交")
    assert head.text.startswith(
        "这条通知暂未提交：为免打扰德育处，每人每小时最多提交 20 条通知审批。"
        "请在 11月16日 11:00 以后再点“提交”。\n请核对这条通知："
    )
    assert len(await notices(db)) == 21
    assert len(await outbox(db, prefix="notice-approval:")) == 0
    staff = asking.ts.staff["王芳"].id
    assert await _refusals(db) == [(f"staff:{staff}", "notice", "hourly")]
    clock.advance(minutes=25)
    await head.press("提交")
    assert head.text.startswith("这条通知暂未提交")
    clock.advance(minutes=25)
    await head.press("提交")
    assert head.text.startswith("已提交德育处审批：《秋季研学活动通知》。")
    assert len(await outbox(db, prefix="notice-approval:")) == 1


def test_the_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULES__QUESTIONS_PER_NOTICE", "3")
    monkeypatch.setenv("RULES__MESSAGES_TO_STAFF_PER_HOUR", "10")
    rules = Settings(_env_file=None).rules
    assert (rules.questions_per_notice, rules.messages_to_staff_per_hour) == (3, 10)


# -- the WeCom receipt page: the same rule, the same counts -------------------------------------


async def _post_on_page(
    db: Database, clock: FakeClock, asking: Asking, rules: SchoolRules, text: str
) -> str:
    """李娜's father sends `text` with his receipt page's 有疑问 form; the page he is shown."""
    app = web.Application()
    signer = LinkSigner("message-limits-test-secret-0123456789")
    add_parent_pages(app, db=db, signer=signer, zone=ZONE, now=clock, rules=rules)
    token = signer.sign(
        notice_id=asking.notice.id or 0,
        guardian_id=asking.ts.guardians["李娜家长"].id or 0,
        expires_at=link_expiry(asking.notice.display_until, ZONE),
    )
    async with TestClient(TestServer(app)) as client:
        response = await client.post(f"/n/{token}/question", data={"text": text})
        assert response.status == 200 and response.history[0].status == 303
        return await response.text()


async def test_the_receipt_page_counts_the_chats_questions_against_the_same_setting(
    db: Database, clock: FakeClock
) -> None:
    rules = SchoolRules(questions_per_notice=2)
    asking = await _asking(db, clock, rules)
    for number in range(1, 3):
        await _ask(asking.parent, asking.notice, f"第{number}个问题")
    text = await _post_on_page(db, clock, asking, rules, "第3个问题")
    assert "这条疑问没有转发。您对这份通知已提了 2 个疑问，每份通知最多可提 2 个。" in text
    assert len(await _forwarded(db)) == 2
    assert [detail for _, _, detail in await _refusals(db)] == ["per_notice"]


async def test_the_receipt_page_does_not_forward_a_question_already_asked_in_the_chat(
    db: Database, clock: FakeClock
) -> None:
    asking = await _asking(db, clock)
    await _ask(asking.parent, asking.notice, "几点集合？")
    text = await _post_on_page(db, clock, asking, DEFAULT_RULES, "几点集合？")
    assert "您的疑问已转给班主任，无需重复发送。" in text
    assert len(await _forwarded(db)) == 1


async def test_the_receipt_page_says_when_a_guardian_may_write_to_staff_again(
    db: Database, clock: FakeClock
) -> None:
    rules = SchoolRules(messages_to_staff_per_hour=2)
    asking = await _asking(db, clock, rules)
    other = await published_notice(db, asking.ts, clock(), title="另一个通知")
    await _ask(asking.parent, other, "第一个问题")
    clock.advance(minutes=30)
    await _ask(asking.parent, asking.notice, "第二个问题")
    text = await _post_on_page(db, clock, asking, rules, "第三个问题")
    assert "每人每小时最多给老师发 2 条消息。请在 11月16日 11:00 以后再发送" in text
    assert len(await _forwarded(db)) == 2
