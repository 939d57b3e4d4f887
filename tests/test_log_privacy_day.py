"""A whole school day through the real dispatcher, with the process's logging at DEBUG: no
student's, guardian's or staff member's name, no phone number of the roster and no text anyone
sent reaches the log. And nothing a family is shown — notices, the receipt page, /notices,
/mydata, answers to their messages and feedback, incident alerts — carries a child's
special-type tags.

The day (Monday 16 November 2026, the test school): 王芳 logs a visit in one message and one step
by step (张小明, 单亲·留守, a problem for the school), reports an incident, records an absence,
refers 张小明 to the care room, whose teacher looks at the cases;
德育处 publishes a notice, 刘梅 confirms it and asks a question, 王芳 answers; 李娜's father asks
for a sick leave and writes to the teacher; 刘梅 sends feedback; 德育处 classifies the ledger items
and 王芳 closes hers; every scheduled job runs, morning and evening; the outbox is delivered.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, select

from bot.delivery.worker import DeliveryWorker
from bot.private_logging import configure_logging
from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from handlers.dispatcher import Response
from handlers.types import Inbound, Reply
from models.db.engine import Database
from models.ledger.tables import LedgerItem
from models.notices.tables import Notice
from models.outbox.tables import OutboxMessage
from models.roster.tables import STUDENT_TAGS, Guardian
from scheduler.registry import all_jobs
from tests.helpers.care import add_care_staff, refer
from tests.helpers.clock import FakeClock
from tests.helpers.delivery import RecordingChannel
from tests.helpers.duties import run_at
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.notices import ADMIN_TO_CLASS, press_on, received
from tests.helpers.outbox import reply_of
from tests.helpers.visits import FULL_VISIT, ZONE, ChatUser, full_dispatcher, person

#: What people typed during the day (besides FULL_VISIT's texts).
ONE_MESSAGE_VISIT = "今天上门家访了三(2)班李娜，见了爸爸，最近作业按时完成"
INCIDENT_WHAT = "课间在操场摔倒，右膝擦伤流血"
QUESTION = "研学需要自带午餐吗"
ANSWER = "学校统一安排午餐"
LEAVE = "孩子今天发烧请假"
TO_TEACHER = "老师，孩子最近数学作业写得很慢，怎么办？"
TEACHER_REPLY = "每天先做数学，我会在课上多关注"
FEEDBACK = "作业太多，孩子每天写到十点"
PROGRESS = "已和奶奶通电话，孩子情绪好转"
CLOSING_NOTE = "心理老师跟进两周，孩子已恢复正常"
REFERRAL = "这两周上课常走神，午饭几乎不吃"
SECRET = "receipt-page-secret-for-the-day-0123456789"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The process's own logging (`bot.private_logging`) at DEBUG, into a buffer; the test
    runner's handlers are put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer, force=True)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


class Recorded(ChatUser):
    """A chat user who keeps every reply of the day, not only the last."""

    def __init__(self, user: ChatUser) -> None:
        super().__init__(user.dispatcher, user.user_id, user.channel)
        self.everything: list[Reply] = []

    async def _handle(self, inbound: Inbound) -> Response:
        response = await super()._handle(inbound)
        self.everything += response.replies
        return response


@dataclass
class Day:
    ts: TestSchool
    typed: list[str] = field(default_factory=list)
    #: Everything families were shown: chat replies, messages queued for them, web pages.
    family_saw: list[str] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)


async def _family_pages(db: Database, clock: FakeClock, day: Day, notice: Notice) -> list[str]:
    """The receipt page of the day's notice as each family opens it."""
    app = web.Application()
    signer = LinkSigner(SECRET)
    add_parent_pages(app, db=db, signer=signer, zone=ZONE, now=clock, on_outbox=lambda: None)
    pages: list[str] = []
    async with TestClient(TestServer(app)) as client:
        for name in ("刘梅", "李娜家长"):
            token = signer.sign(
                notice_id=notice.id or 0,
                guardian_id=day.ts.guardians[name].id or 0,
                expires_at=link_expiry(notice.display_until, ZONE),
            )
            response = await client.get(f"/n/{token}")
            assert response.status == 200
            pages.append(await response.text())
    return pages


async def _run_jobs(db: Database, ts: TestSchool, moment: datetime) -> None:
    for job in all_jobs():
        await run_at(db, ts.school, job.func, moment)


async def _deliver(db: Database, clock: FakeClock) -> list[tuple[str, str]]:
    channel = RecordingChannel()
    worker = DeliveryWorker(db, {"console": channel}, clock, monotonic=lambda: clock().timestamp())
    while await worker.run_once():
        pass
    return channel.sent


async def school_day(db: Database, clock: FakeClock) -> Day:
    ts = await seed_school(db)
    await add_care_staff(db, ts)
    day = Day(ts)
    dispatcher = full_dispatcher(db, clock)

    async def who(name: str) -> Recorded:
        someone = ts.staff.get(name) or ts.guardians[name]
        return Recorded(await person(db, clock, dispatcher, someone))

    wang, office, care = await who("王芳"), await who("赵敏"), await who("周心")
    mother, father = await who("刘梅"), await who("李娜家长")

    # Visits: one message, then step by step (a problem for the school: a ledger item).
    await wang.send(ONE_MESSAGE_VISIT)
    await wang.steps("常规", "保存")
    await wang.steps(*FULL_VISIT, "保存")
    assert "已保存" in wang.text
    day.typed += [ONE_MESSAGE_VISIT, *(s[1:] for s in FULL_VISIT if s.startswith(">"))]

    # An incident with its alerts, and an absence.
    await wang.steps("/incident", "三(2)班", "张小明", "意外伤害", f">{INCIDENT_WHAT}")
    await wang.steps("已送医院", "确认上报")
    await wang.steps("/absence 刘洋", "病假", "今天", "确认")
    day.typed.append(INCIDENT_WHAT)

    # A referral to the care room, which takes it up.
    await refer(wang, "张小明", REFERRAL)
    await care.send("/cases")
    assert "张小明" in care.text
    day.typed.append(REFERRAL)

    # A notice: published, confirmed, asked about and answered.
    await office.steps(*ADMIN_TO_CLASS, "提交")
    [message] = await received(db, mother)
    await press_on(mother, message, "确认收到")
    await press_on(mother, message, "有疑问")
    if "哪个孩子" in mother.text:
        await mother.press("张小明（三(2)班）")
    await mother.send(QUESTION)
    [forwarded] = await received(db, wang, "notice-question:")
    await press_on(wang, forwarded, "回复家长")
    await wang.send(ANSWER)
    await mother.send("/notices")
    await mother.send("/mydata")  # what the school keeps about her children
    day.typed += [QUESTION, ANSWER]

    # A parent's messages: a sick leave and a word to the teacher.
    await father.send(LEAVE)
    [leave] = await received(db, wang, "parent-message:")
    await press_on(wang, leave, "确认为病假")
    clock.advance(minutes=5)
    await father.send(TO_TEACHER)
    assert "您的消息已转给三(2)班班主任" in father.text
    forwarded_message = (await received(db, wang, "parent-message:"))[-1]
    await press_on(wang, forwarded_message, "回复家长")
    await wang.send(TEACHER_REPLY)
    assert wang.text == "答复已发给家长。"
    day.typed += [LEAVE, TO_TEACHER, TEACHER_REPLY]

    # Feedback, named.
    await mother.steps("/feedback", "投诉", "老师", "王芳老师（三(2)班班主任）")
    await mother.steps(f">{FEEDBACK}", "实名", "提交")
    day.typed.append(FEEDBACK)

    # The ledger: 德育处 looks and classifies the visit's problem; 王芳 notes and closes it.
    await office.send("/ledger")
    async with db.session() as session:
        items = (await session.exec(select(LedgerItem).order_by(col(LedgerItem.id)))).all()
    visit_item = next(i for i in items if i.student_id == ts.students["张小明"].id)
    await office.send(f"/ledger {visit_item.id}")
    await office.steps("分类并指派", "跟踪解决", "王芳", "1周内", "每7天", "确认")
    clock.advance(hours=1)
    await wang.send(f"/ledger {visit_item.id}")
    await wang.steps("记录进展", f">{PROGRESS}")
    assert "已记录进展。" in wang.text
    await wang.steps("办结", "已解决", f">{CLOSING_NOTE}")
    assert "已办结。" in wang.text
    day.typed += [PROGRESS, CLOSING_NOTE]

    # The jobs, this evening and the next days; then the outbox is delivered.
    start = clock.now.astimezone(ZONE).replace(hour=0, minute=0)
    for offset in (timedelta(hours=18), timedelta(days=1, hours=8), timedelta(days=3, hours=8)):
        await _run_jobs(db, ts, start + offset)
    async with db.session() as session:
        notice = (await session.exec(select(Notice))).one()
    pages = await _family_pages(db, clock, day, notice)
    clock.advance(days=4)
    day.delivered = await _deliver(db, clock)

    families = {mother.user_id, father.user_id}
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    day.family_saw += [reply_of(r).text for r in rows if r.chat_id in families]
    day.family_saw += [r.text for user in (mother, father) for r in user.everything]
    day.family_saw += [text for chat, text in day.delivered if chat in families]
    day.family_saw += pages
    return day


def personal_data(ts: TestSchool) -> list[str]:
    """Every name and phone number of the roster."""
    guardians: list[Guardian] = list(ts.guardians.values())
    words = [*ts.students, *ts.staff, *(g.name for g in guardians)]
    words += [g.phone for g in guardians] + [s.phone for s in ts.staff.values() if s.phone]
    return words


async def test_a_whole_school_day_leaves_no_personal_data_in_the_debug_log(
    db: Database, clock: FakeClock, debug_log: io.StringIO
) -> None:
    logging.getLogger("handlers.dispatcher").debug("the day begins")
    day = await school_day(db, clock)

    log = debug_log.getvalue()
    assert "DEBUG handlers.dispatcher: the day begins" in log  # DEBUG records do reach it
    assert day.delivered  # the day did reach people
    leaks = [word for word in [*personal_data(day.ts), *day.typed] if word in log]
    assert leaks == []


async def test_nothing_a_family_is_shown_carries_a_childs_special_type_tags(
    db: Database, clock: FakeClock
) -> None:
    day = await school_day(db, clock)

    shown = "\n".join(day.family_saw)
    # The family did see the day: the notice, its answer, the incident, their feedback.
    assert "秋季研学活动通知" in shown and ANSWER in shown and TEACHER_REPLY in shown
    assert "意外伤害" in shown and "已收到您的意见" in shown and "您的通知（1 条" in shown
    assert "张小红" in shown  # /mydata named both her children
    assert "张小明" in shown  # their child, 单亲·留守 on the roster
    assert [tag for tag in (*STUDENT_TAGS, "特殊类型", "重点家访") if tag in shown] == []
