"""Two schools on one database, each with its own bot (`bot run` once per school, SCHOOL_NAME
each): its own dispatcher, its own Telegram application over its own fake Bot API, its own
delivery worker and its own scheduled jobs. Telegram numbers users and updates alike in both
bots; nothing of one school's bot may reach, move or be taken by the other's."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import SQLModel, select

from handlers.context import Context
from handlers.flow import Flow
from handlers.types import Inbound, Reply, Transition
from models.accounts.invites import issue_invite
from models.accounts.tables import ChannelAccount, PersonKind
from models.conversations.store import Conversation, InboundSeen
from models.db.engine import Database
from models.jobs.tables import JobRun
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from scheduler.run import RunConfig, RunStatus, run_job
from scheduler.service import JobScheduler
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.scheduler import SHANGHAI, RecordingJob
from tests.test_telegram import Draft, State, _colour, _start

#: One person on Telegram, who works at both schools: the same user id in both bots.
TEACHER = TgUser(5001, "芳")
ONE, TWO = "第一小学", "第二小学"
SLOT = datetime(2026, 11, 16, 23, 30, tzinfo=UTC)  # 07:30 in Shanghai


# -- two tiny flows, so these tests do not depend on the real ones ----------------------------------


class Nothing(BaseModel):
    pass


async def _who(inbound: Inbound, draft: Nothing, ctx: Context, args: str) -> Transition:
    """What the bot knows of the person and their school, from the school's own rows."""
    assert ctx.staff is not None and ctx.account is not None
    return Transition.end(
        Reply(f"{ctx.school.name}：{ctx.staff.name}，名册工号 {ctx.staff.staff_no}")
    )


# The colour-then-name flow of tests/test_telegram.py, ending with the school that answers.


async def _name(inbound: Inbound, draft: Draft, ctx: Context) -> Transition:
    return Transition.end(Reply(f"{ctx.school.name}记下：{draft.colour} {inbound.text}"))


WHO = Flow(
    name="who",
    draft_type=Nothing,
    steps={},
    start=_who,
    commands=("who",),
    allowed=lambda ctx: ctx.staff is not None,
    describe="我是谁",
    read_only=True,
)
PICK = Flow(
    name="pick",
    draft_type=Draft,
    steps={State.COLOUR: _colour, State.NAME: _name},
    start=_start,
    commands=("pick",),
    allowed=lambda ctx: ctx.staff is not None,
    describe="选一个颜色",
)


@dataclasses.dataclass
class District:
    one: TestSchool
    two: TestSchool
    #: Each school's bot, by school name.
    bots: dict[str, TelegramHarness]

    def bot(self, name: str) -> TelegramHarness:
        return self.bots[name]

    def school_id(self, name: str) -> int:
        school = (self.one if name == ONE else self.two).school
        assert school.id is not None
        return school.id


@pytest.fixture
async def district(db: Database, clock: FakeClock) -> AsyncIterator[District]:
    one = await seed_school(db, name=ONE)
    two = await seed_school(db, name=TWO)
    bots: dict[str, TelegramHarness] = {}
    for name in (ONE, TWO):
        # Each bot's updates are numbered from 100, as two real bots' may well be.
        bots[name] = await TelegramHarness(db, clock, [WHO, PICK], school_name=name).start()
    yield District(one, two, bots)
    for harness in bots.values():
        await harness.stop()


async def invite(db: Database, clock: FakeClock, school: TestSchool, staff: str) -> str:
    async with db.session() as session:
        issued = await issue_invite(
            session=session,
            school_id=school.school.id or 0,
            kind=PersonKind.STAFF,
            person_id=school.staff[staff].id or 0,
            now=clock(),
            ttl=timedelta(days=30),
        )
        return issued.code


async def bound_in_both(d: District, db: Database, clock: FakeClock) -> None:
    """The teacher redeems 一小's invite (as 王芳) in 一小's bot and 二小's (as 李强) in 二小's."""
    for name, school, staff in ((ONE, d.one, "王芳"), (TWO, d.two, "李强")):
        texts = await d.bot(name).say(TEACHER, f"/start {await invite(db, clock, school, staff)}")
        assert name in texts[-1] and staff[0] in texts[-1]


Row = TypeVar("Row", bound=SQLModel)


async def rows(db: Database, table: type[Row]) -> list[Row]:
    """Every row of `table`, in the order written."""
    async with db.session() as session:
        return list((await session.exec(select(table).order_by(text("id")))).all())


# -- people and updates ----------------------------------------------------------------------------


async def test_the_same_telegram_user_bound_in_two_schools_is_two_accounts_each_answered_with_its_own(
    district: District, db: Database, clock: FakeClock
) -> None:
    await bound_in_both(district, db, clock)

    accounts = await rows(db, ChannelAccount)
    assert [(a.school_id, a.channel, a.external_id, a.person_id) for a in accounts] == [
        (district.school_id(ONE), "telegram", "5001", district.one.staff["王芳"].id),
        (district.school_id(TWO), "telegram", "5001", district.two.staff["李强"].id),
    ]
    one = await district.bot(ONE).say(TEACHER, "/who")
    two = await district.bot(TWO).say(TEACHER, "/who")
    assert one == [f"{ONE}：王芳，名册工号 T01"]
    assert two == [f"{TWO}：李强，名册工号 T02"]


async def test_a_user_bound_in_one_school_only_is_a_stranger_to_the_other_schools_bot(
    district: District, db: Database, clock: FakeClock
) -> None:
    code = await invite(db, clock, district.one, "王芳")
    await district.bot(ONE).say(TEACHER, f"/start {code}")

    texts = await district.bot(TWO).say(TEACHER, "/who")

    assert "还没有与学校名册绑定" in texts[0]


async def test_one_schools_invite_is_unknown_to_the_other_schools_bot(
    district: District, db: Database, clock: FakeClock
) -> None:
    code = await invite(db, clock, district.one, "王芳")

    texts = await district.bot(TWO).say(TEACHER, f"/start {code}")

    assert "邀请码无效" in texts[0]
    assert await rows(db, ChannelAccount) == []
    # In its own school's bot the code still works.
    assert ONE in (await district.bot(ONE).say(TEACHER, f"/start {code}"))[-1]


async def test_the_same_update_id_in_both_bots_is_handled_by_both_and_a_repeat_by_neither(
    district: District, db: Database, clock: FakeClock
) -> None:
    await bound_in_both(district, db, clock)
    one, two = district.bot(ONE), district.bot(TWO)
    update = one.updates.text(TEACHER, "/who", update_id=777)

    for bot in (one, two):
        before = len(bot.api.calls)
        await bot.feed(update)
        assert len(bot.texts_since(before)) == 1  # each bot answers its own update 777
    for bot in (one, two):
        before = len(bot.api.calls)
        await bot.feed(update)  # Telegram delivers it again: already handled
        assert bot.texts_since(before) == []

    seen = await rows(db, InboundSeen)
    keys = [(s.school_id, s.update_key) for s in seen]
    assert (district.school_id(ONE), "777") in keys and (district.school_id(TWO), "777") in keys


async def test_a_conversation_in_one_school_leaves_the_same_users_conversation_in_the_other_alone(
    district: District, db: Database, clock: FakeClock
) -> None:
    await bound_in_both(district, db, clock)
    one, two = district.bot(ONE), district.bot(TWO)

    await one.say(TEACHER, "/pick")
    await two.say(TEACHER, "/pick")
    await one.press_label(TEACHER, "红色")
    await two.press_label(TEACHER, "蓝色")
    done_one = await one.say(TEACHER, "小红")

    assert done_one == [f"{ONE}记下：red 小红"]
    # 二小's conversation is where it was: still waiting for the name, with its own colour.
    [left] = await rows(db, Conversation)
    assert (left.school_id, left.state) == (district.school_id(TWO), "name")
    assert await two.say(TEACHER, "小蓝") == [f"{TWO}记下：blue 小蓝"]


async def test_idle_conversations_are_ended_by_their_own_schools_bot_only(
    district: District, db: Database, clock: FakeClock
) -> None:
    await bound_in_both(district, db, clock)
    one, two = district.bot(ONE), district.bot(TWO)
    await one.say(TEACHER, "/pick")
    await two.say(TEACHER, "/pick")
    clock.advance(hours=2)

    assert one.dispatcher is not None
    assert await one.dispatcher.expire_idle() == 1

    [left] = await rows(db, Conversation)
    assert left.school_id == district.school_id(TWO)
    timeouts = [
        r.school_id for r in await rows(db, OutboxMessage) if r.kind == "conversation_timeout"
    ]
    assert timeouts == [district.school_id(ONE)]


# -- delivery --------------------------------------------------------------------------------------


async def test_each_schools_worker_sends_only_its_own_schools_rows_with_its_own_bot(
    district: District, db: Database, clock: FakeClock
) -> None:
    one, two = district.bot(ONE), district.bot(TWO)
    async with db.session() as session:
        for name in (ONE, TWO):
            # The same key, channel and chat in both schools: two rows.
            await enqueue(
                session=session,
                school_id=district.school_id(name),
                key="notice:1:guardian:1:telegram",
                kind="notice",
                channel="telegram",
                chat_id="5001",
                payload=Reply(f"{name}的通知").to_dict(),
                due_at=clock(),
            )

    for bot in (one, two):  # each bot's own worker, running as `bot run` runs it
        bot.worker.wake()
        await bot.settle()

    assert one.api.sent_texts() == [f"{ONE}的通知"]
    assert two.api.sent_texts() == [f"{TWO}的通知"]
    statuses = [r.status for r in await rows(db, OutboxMessage)]
    assert statuses == [OutboxStatus.SENT, OutboxStatus.SENT]


async def test_a_worker_does_not_even_claim_another_schools_rows_on_its_channels(
    district: District, db: Database, clock: FakeClock
) -> None:
    one = district.bot(ONE)
    await district.bot(TWO).stop()  # 二小's bot is down: its rows wait for it
    async with db.session() as session:
        for n in range(3):
            await enqueue(
                session=session,
                school_id=district.school_id(TWO),
                key=f"reminder:{n}",
                kind="reminder",
                channel="telegram",
                chat_id="5001",
                payload=Reply("二小的提醒").to_dict(),
                due_at=clock(),
            )

    one.worker.wake()
    assert await one.worker.run_once() == 0
    assert await one.worker.claim() == []
    assert one.api.sent_texts() == []
    statuses = {r.status for r in await rows(db, OutboxMessage)}
    assert statuses == {OutboxStatus.PENDING}


# -- scheduled jobs --------------------------------------------------------------------------------


def school_config(name: str) -> RunConfig:
    return RunConfig(zone=SHANGHAI, school_name=name, owner=f"{name}:1")


async def test_a_slot_runs_once_for_each_school_not_once_overall(
    district: District, db: Database
) -> None:
    digest = RecordingJob(chats=("42",))
    outcomes = [
        await run_job(db, school_config(name), digest.job, slot=SLOT, now=SLOT)
        for name in (ONE, TWO, ONE, TWO)
    ]

    assert [o.status for o in outcomes] == [
        RunStatus.DONE,
        RunStatus.DONE,
        RunStatus.SKIPPED,
        RunStatus.SKIPPED,
    ]
    assert [jc.school.name for jc in digest.runs] == [ONE, TWO]
    runs = await rows(db, JobRun)
    assert [(r.school_id, r.job) for r in runs] == [
        (district.school_id(ONE), "test_digest"),
        (district.school_id(TWO), "test_digest"),
    ]
    queued = await rows(db, OutboxMessage)
    assert [r.school_id for r in queued] == [
        district.school_id(ONE),
        district.school_id(TWO),
    ]


async def stored_jobs(db: Database) -> list[str]:
    async with db.engine.connect() as connection:
        result = await connection.execute(text("SELECT id FROM apscheduler_jobs ORDER BY id"))
        return [str(row[0]) for row in result.all()]


async def test_each_schools_scheduler_keeps_its_own_stored_jobs(
    district: District, db: Database, clock: FakeClock
) -> None:
    if db.url.endswith(":memory:"):
        pytest.fail("the stored jobs need a database file")
    for name in (ONE, TWO):  # each school's bot starts (and stops) in its own process
        service = JobScheduler(db, school_config(name), jobs=[RecordingJob().job], clock=clock)
        await service.start()
        assert [job.id for job in service.scheduler.get_jobs()] == [f"{name}/test_digest"]
        await service.stop()
    assert await stored_jobs(db) == [f"{ONE}/test_digest", f"{TWO}/test_digest"]

    # 一小's bot starts again with no job left: it removes its own, not 二小's.
    service = JobScheduler(db, school_config(ONE), jobs=[], clock=clock)
    await service.start()
    await service.stop()
    assert await stored_jobs(db) == [f"{TWO}/test_digest"]
