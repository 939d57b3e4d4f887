"""Driving /notice and its buttons as people would, and reading what it left behind."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from handlers.dispatcher import Dispatcher
from handlers.types import Button, Inbound, Reply
from models.db.engine import Database
from models.notices.tables import Notice, NoticeDelivery, NoticeReceipt
from models.outbox.tables import OutboxMessage
from models.roster.tables import Guardian, StudentGuardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from scheduler.base import JobContext
from scheduler.jobs.publish_notices import publish_due_notices
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser, person

ZONE = ZoneInfo("Asia/Shanghai")

#: The kind, title, body and no attachment: every notice starts like this.
OPENING = (
    "/notice",
    "外出活动",
    ">秋季研学活动通知",
    ">11月20日（周五）全天赴科技馆研学，请穿校服。",
    "跳过",
)
#: Receipt by tomorrow 18:00, published at once, shown until 1 December.
CLOSING = ("需要回执", "明天 18:00", ">12月1日")
#: An admin's notice to 三(2)班 (six students, one of them 张小明, sibling of 四(1)班 张小红).
ADMIN_TO_CLASS = (
    *OPENING,
    "按班级",
    "三(2)班",
    "完成",
    "需要回执",
    "明天 18:00",
    "提交后立即发布",
    ">12月1日",
)
#: A head teacher's notice to her own class.
TEACHER_TO_CLASS = (
    *OPENING,
    "三(2)班全体家长",
    "需要回执",
    "明天 18:00",
    "批准后立即发布",
    ">12月1日",
)


async def bind_guardians(
    db: Database, clock: FakeClock, dispatcher: Dispatcher, ts: TestSchool, *names: str
) -> dict[str, ChatUser]:
    return {name: await person(db, clock, dispatcher, ts.guardians[name]) for name in names}


async def notices(db: Database) -> list[Notice]:
    async with db.session() as session:
        return list((await session.exec(select(Notice).order_by(col(Notice.id)))).all())


async def the_notice(db: Database) -> Notice:
    [notice] = await notices(db)
    return notice


async def notice_rows(db: Database, prefix: str = "notice:") -> list[OutboxMessage]:
    return await outbox(db, prefix=prefix)


async def receipts(db: Database) -> list[NoticeReceipt]:
    async with db.session() as session:
        query = select(NoticeReceipt).order_by(col(NoticeReceipt.student_id))
        return list((await session.exec(query)).all())


async def deliveries(db: Database) -> list[NoticeDelivery]:
    async with db.session() as session:
        query = select(NoticeDelivery).order_by(col(NoticeDelivery.id))
        return list((await session.exec(query)).all())


async def received(db: Database, user: ChatUser, prefix: str = "notice:") -> list[Reply]:
    """What the outbox holds for this person (the messages they will receive)."""
    return [reply_of(r) for r in await notice_rows(db, prefix) if r.chat_id == user.user_id]


async def press_on(
    user: ChatUser, reply: Reply, label: str, *, update_key: str | None = None
) -> None:
    """Press a button of a message delivered through the outbox (not the last answer)."""
    matches = [b for row in reply.buttons for b in row if b.label == label]
    if not matches:
        raise AssertionError(f"no button {label!r} in {reply.buttons!r}")
    await press_data(user, matches[0], update_key=update_key)


async def press_data(
    user: ChatUser, button: Button | str, *, update_key: str | None = None
) -> None:
    data = button.data if isinstance(button, Button) else button
    response = await user.dispatcher.handle(
        Inbound(
            channel=user.channel,
            user_id=user.user_id,
            chat_id=user.user_id,
            callback=data,
            update_key=update_key,
        )
    )
    user.replies = response.replies


async def add_guardian(
    db: Database, ts: TestSchool, student: str, name: str, phone: str, relation: str
) -> Guardian:
    """A second guardian for a student (the roster's families have one)."""
    async with db.session() as session:
        guardian = Guardian(school_id=ts.school.id or 0, name=name, phone=phone)
        session.add(guardian)
        await session.flush()
        session.add(
            StudentGuardian(
                student_id=ts.students[student].id or 0,
                guardian_id=guardian.id or 0,
                relation=relation,
                position=2,
            )
        )
    ts.guardians[name] = guardian
    return guardian


async def run_publish_job(
    db: Database, school: School, now: datetime, rules: SchoolRules = DEFAULT_RULES
) -> int:
    """One run of the publishing job in its own transaction, as the scheduler runs it."""
    async with db.session() as session:
        context = JobContext(session=session, now=now, school=school, zone=ZONE, rules=rules)
        return await publish_due_notices(context)
