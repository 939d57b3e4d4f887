"""Joining: invite codes and a guardian's own phone number, through the channel-neutral engine."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from handlers.dispatcher import Dispatcher
from handlers.onboarding import without_title
from handlers.types import Inbound, Reply
from models.accounts.invites import issue_invite
from models.accounts.tables import ChannelAccount, Invite, PersonKind
from models.audit.tables import AuditEntry
from models.db.engine import Database
from tests.helpers import factories
from tests.helpers.clock import FakeClock


@pytest.fixture
def dispatcher(db: Database, clock: FakeClock, school: factories.TestSchool) -> Dispatcher:
    return Dispatcher(db, [], zone=ZoneInfo("Asia/Shanghai"), clock=clock)


async def say(dispatcher: Dispatcher, user: str, text: str) -> list[Reply]:
    return (
        await dispatcher.handle(Inbound(channel="console", user_id=user, chat_id=user, text=text))
    ).replies


async def share(dispatcher: Dispatcher, user: str, phone: str) -> list[Reply]:
    inbound = Inbound(channel="console", user_id=user, chat_id=user, contact_phone=phone)
    return (await dispatcher.handle(inbound)).replies


async def code_for(
    db: Database, clock: FakeClock, kind: PersonKind, person_id: int | None, **ttl: float
) -> str:
    async with db.session() as session:
        invite = await issue_invite(
            session=session,
            school_id=1,
            kind=kind,
            person_id=person_id or 0,
            now=clock(),
            ttl=timedelta(**(ttl or {"days": 30})),
        )
        return invite.code


async def account(db: Database, user: str) -> ChannelAccount | None:
    async with db.session() as session:
        query = select(ChannelAccount).where(ChannelAccount.external_id == user)
        return (await session.exec(query)).first()


@pytest.mark.parametrize(
    ("name", "role_words"),
    [
        ("王芳", "三(2)班班主任、三(1)班数学老师"),
        ("李强", "三(1)班班主任"),
        ("赵敏", "德育处管理员"),
        ("钱进", "篮球队教练"),
    ],
)
async def test_start_with_a_code_binds_the_teacher_and_greets_them_by_role(
    db: Database,
    clock: FakeClock,
    dispatcher: Dispatcher,
    school: factories.TestSchool,
    name: str,
    role_words: str,
) -> None:
    code = await code_for(db, clock, PersonKind.STAFF, school.staff[name].id)
    (reply,) = await say(dispatcher, "u1", f"/start {code}")
    assert reply.text.startswith(f"{name}老师，您好！您已绑定为测试小学的{role_words}。")
    bound = await account(db, "u1")
    assert bound is not None and bound.person_id == school.staff[name].id


async def test_a_code_is_accepted_in_lower_case_with_spaces(
    db: Database, clock: FakeClock, dispatcher: Dispatcher, school: factories.TestSchool
) -> None:
    code = await code_for(db, clock, PersonKind.STAFF, school.staff["李强"].id)
    (reply,) = await say(dispatcher, "u1", f"/start  {code.lower()} ")
    assert reply.text.startswith("李强老师")


async def test_start_with_a_guardian_code_names_all_their_children(
    db: Database, clock: FakeClock, dispatcher: Dispatcher, school: factories.TestSchool
) -> None:
    code = await code_for(db, clock, PersonKind.GUARDIAN, school.guardians["刘梅"].id)
    (reply,) = await say(dispatcher, "p1", f"/start {code}")
    assert reply.text.startswith(
        "张小明、张小红家长，您好！您已绑定为测试小学三(2)班张小明、四(1)班张小红的家长。"
    )


async def test_an_unknown_code_is_refused_clearly(dispatcher: Dispatcher) -> None:
    (reply,) = await say(dispatcher, "u1", "/start NOSUCHCODE")
    assert "邀请码无效" in reply.text


async def test_an_expired_code_is_refused_clearly(
    db: Database, clock: FakeClock, dispatcher: Dispatcher, school: factories.TestSchool
) -> None:
    code = await code_for(db, clock, PersonKind.STAFF, school.staff["王芳"].id, days=1)
    clock.advance(days=2)
    (reply,) = await say(dispatcher, "u1", f"/start {code}")
    assert "已过期" in reply.text
    assert await account(db, "u1") is None


async def test_a_code_used_by_another_account_is_refused(
    db: Database, clock: FakeClock, dispatcher: Dispatcher, school: factories.TestSchool
) -> None:
    code = await code_for(db, clock, PersonKind.STAFF, school.staff["王芳"].id)
    await say(dispatcher, "u1", f"/start {code}")
    (reply,) = await say(dispatcher, "u2", f"/start {code}")
    assert "已经被使用过" in reply.text
    assert await account(db, "u2") is None


async def test_a_repeated_start_with_the_same_code_greets_again_and_binds_once(
    db: Database, clock: FakeClock, dispatcher: Dispatcher, school: factories.TestSchool
) -> None:
    code = await code_for(db, clock, PersonKind.STAFF, school.staff["王芳"].id)
    await say(dispatcher, "u1", f"/start {code}")
    (reply,) = await say(dispatcher, "u1", f"/start {code}")
    assert reply.text.startswith("王芳老师，您好！")
    async with db.session() as session:
        binds = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "account.bind"))
        ).all()
        invite = (await session.exec(select(Invite))).one()
    assert len(binds) == 1
    assert invite.used_at == clock()


@pytest.mark.parametrize("text", ["/start", "/visit", "你好", "/help"])
async def test_an_unbound_user_gets_the_explanation_and_no_data(
    dispatcher: Dispatcher, text: str
) -> None:
    (reply,) = await say(dispatcher, "stranger", text)
    assert "还没有与学校名册绑定" in reply.text
    assert reply.request_contact
    assert "测试小学" not in reply.text and "张" not in reply.text


@pytest.mark.parametrize(
    "phone", ["+86 137 0000 0000", "8613700000000", "+86-137-0000-0000", "13700000000"]
)
async def test_a_guardian_sharing_their_phone_is_bound_by_the_roster_number(
    db: Database, dispatcher: Dispatcher, school: factories.TestSchool, phone: str
) -> None:
    (reply,) = await share(dispatcher, "p1", phone)
    assert reply.text.startswith("张小明、张小红家长，您好！")
    bound = await account(db, "p1")
    assert bound is not None
    assert (bound.person_kind, bound.person_id) == (
        PersonKind.GUARDIAN,
        school.guardians["刘梅"].id,
    )


async def test_a_phone_not_on_the_roster_is_refused_and_binds_nothing(
    db: Database, dispatcher: Dispatcher
) -> None:
    (reply,) = await share(dispatcher, "p1", "+86 135 1234 5678")
    assert "没有在学校名册中找到这个手机号" in reply.text
    assert await account(db, "p1") is None


async def test_binding_is_audited_without_the_phone_number(
    db: Database, dispatcher: Dispatcher, school: factories.TestSchool
) -> None:
    await share(dispatcher, "p1", "13700000000")
    async with db.session() as session:
        entry = (await session.exec(select(AuditEntry))).one()
    assert (entry.action, entry.detail) == ("account.bind", "contact")
    assert "137" not in entry.subject + entry.detail


@pytest.mark.parametrize(
    ("name", "greeted"),
    [("王芳", "王芳"), ("王老师", "王"), ("赵主任", "赵"), ("老师", "老师"), ("李校长", "李")],
)
def test_a_title_already_in_the_roster_name_is_not_doubled(name: str, greeted: str) -> None:
    assert without_title(name) == greeted
