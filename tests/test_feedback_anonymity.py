"""An anonymous parent stays anonymous: after an anonymous complaint has gone through the whole
ledger (listed, opened, classified, noted, closed, reminded of, counted in the digest and the
monthly summary, exported), nothing any member of staff was shown, sent or can export carries the
parent's name, phone, children or account."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import select

from bot.exports.ledger import export_ledger
from models.db.engine import Database
from models.ledger.tables import LedgerItem
from models.outbox.tables import OutboxMessage
from scheduler.jobs.digest import send_daily_digest
from scheduler.jobs.feedback_summary import send_feedback_summary
from scheduler.jobs.ledger import LEDGER_REMINDERS
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local, run_at
from tests.helpers.factories import TestSchool
from tests.helpers.outbox import reply_of
from tests.helpers.visits import ChatUser, full_dispatcher, person


class Seen:
    """Every text and button label shown to one member of staff."""

    def __init__(self, user: ChatUser) -> None:
        self.user = user
        self.texts: list[str] = []

    async def steps(self, *actions: str) -> None:
        for action in actions:
            await self.user.steps(action)
            self.texts.append(self.user.text)
            self.texts.extend(self.user.labels)
            self.texts.extend(b.data for b in self.user.buttons)


async def test_nothing_staff_see_or_export_names_the_author_of_anonymous_feedback(
    db: Database, school: TestSchool, clock: FakeClock, tmp_path: Path
) -> None:
    dispatcher = full_dispatcher(db, clock)
    mother_of = school.guardians["刘梅"]
    mother = await person(db, clock, dispatcher, mother_of)
    await mother.steps(
        "/feedback", "投诉", "三(2)班", ">班里有同学经常欺负别人，希望老师多关注", "匿名", "提交"
    )
    assert "请记下反馈编号" in mother.text
    async with db.session() as session:
        [item] = (await session.exec(select(LedgerItem))).all()
    office = Seen(await person(db, clock, dispatcher, school.staff["赵敏"]))
    teacher = Seen(await person(db, clock, dispatcher, school.staff["王芳"]))

    await office.steps("/ledger", f"/ledger {item.id}", "查看记录")
    await office.steps(
        f"/ledger {item.id}", "分类并指派", "跟踪解决", "王芳", "今天", "每7天", "确认"
    )
    assert "反映人：匿名" in "\n".join(office.texts)
    await run_at(db, school.school, LEDGER_REMINDERS.func, local("2026-11-16 08:00"))
    clock.advance(hours=2)
    await teacher.steps("/ledger", f"/ledger {item.id}", "记录进展", ">已在班会上讲了同学相处")
    await teacher.steps("办结", "已解决", ">班主任已与相关学生谈话，情况好转")
    await run_at(db, school.school, send_daily_digest, local("2026-11-17 07:30"))
    await run_at(db, school.school, LEDGER_REMINDERS.func, local("2026-11-17 08:00"))
    await run_at(db, school.school, send_feedback_summary, local("2026-12-01 08:00"))
    exported = tmp_path / "ledger.xlsx"
    await export_ledger(
        db,
        date_from=local("2026-11-01 00:00").date(),
        date_to=local("2026-11-30 00:00").date(),
        status=None,
        path=exported,
    )

    staff_chats = {office.user.user_id, teacher.user.user_id}
    async with db.session() as session:
        rows = list((await session.exec(select(OutboxMessage))).all())
    to_staff = [r for r in rows if r.chat_id != mother.user_id]
    assert {r.chat_id for r in to_staff} <= staff_chats
    assert any("台账" in reply_of(r).text for r in to_staff)
    sent = [reply_of(r).text for r in to_staff] + [
        b.data for r in to_staff for b in reply_of(r).flat_buttons()
    ]
    workbook = load_workbook(exported)
    cells = [
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    assert any("欺负" in c for c in cells)
    everything = "\n".join([*office.texts, *teacher.texts, *sent, *cells])
    assert "欺负" in everything
    for trace in (
        mother_of.name,
        mother_of.phone,
        mother.user_id,
        "张小明",
        "张小红",
        f"guardian:{mother_of.id}",
    ):
        assert trace not in everything, trace
