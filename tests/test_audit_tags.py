"""Every read and change of a student's special-type tags 特殊类型 is in the audit log with the
student: the visit's category question, the 留守 proposal and its approval, /quota's and the
winter reminder's must-visit list, the exports, a roster import. A list of many students is one
INSERT, not one per student. The log's other entries name the student they concern."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from bot.exports.families import export_families
from bot.exports.visits import export_visits
from bot.roster.importer import import_roster, load_roster
from models.absences.queries import record_absence, record_flag
from models.absences.tables import AbsenceKind
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.duties.tables import DutyTrigger
from models.roster.tables import Student
from scheduler.jobs.reminders import break_start_reminder
from tests.helpers.clock import FakeClock
from tests.helpers.duties import run_at
from tests.helpers.factories import TestSchool, bind, seed_school
from tests.helpers.notices import press_on
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.quota import YEAR_2026, add_terms
from tests.helpers.visits import FULL_VISIT, ZONE, ChatUser, chat_as, full_dispatcher

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


async def log(db: Database, action: str | None = None) -> list[AuditEntry]:
    async with db.session() as session:
        query = select(AuditEntry).order_by(col(AuditEntry.id))
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list((await session.exec(query)).all())


def readers(entries: list[AuditEntry], ts: TestSchool) -> set[tuple[str, str]]:
    """(actor's name or the actor, student's name) of each entry."""
    staff = {f"staff:{s.id}": name for name, s in ts.staff.items()}
    students = {s.id: name for name, s in ts.students.items()}
    return {
        (staff.get(e.actor, e.actor), students[e.student_id or 0])
        for e in entries
        if e.subject == f"student:{e.student_id}"
    }


@contextmanager
def audit_inserts(db: Database) -> Iterator[list[str]]:
    """The INSERT statements into the audit log run on `db` while inside."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_the_category_question_that_names_the_tags_is_audited_with_the_student(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps("/visit", "三(2)班", "李娜", "上门家访")
    assert "建议选择重点家访" not in wang.text
    assert await log(db, "tags.read") == []  # no tag: nothing shown, nothing read

    await wang.steps("/visit", "放弃", "三(2)班", "张小明", "上门家访")

    assert "该生为单亲、留守学生，建议选择重点家访。" in wang.text
    [entry] = await log(db, "tags.read")
    assert readers([entry], ts) == {("王芳", "张小明")}
    assert entry.student_id == ts.students["张小明"].id


#: /visit for 李娜 up to the household form, parents away; then to the summary.
TO_FAMILY = ("/visit", "三(2)班", "李娜", "上门家访", "常规", "今天", "母亲", "跳过", "跳过")
FORM = ("填写家庭情况表", "4", "2", "工人", "祖辈", "一般", "是")
AFTER_FAMILY = ("跳过", "跳过", "跳过", "无", "保存")


async def _proposal_for(db: Database, user: ChatUser) -> Any:
    rows = await outbox(db, kind="tag_proposal", prefix="tag-proposal:")
    [message] = [reply_of(row) for row in rows if row.chat_id == user.user_id]
    return message


async def test_a_proposed_tag_is_read_by_teacher_and_office_and_its_approval_is_a_change(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await chat_as(db, clock, ts.staff["赵敏"], dispatcher)
    wang = await chat_as(db, clock, ts.staff["王芳"], dispatcher)
    await wang.steps(*TO_FAMILY, *FORM, *AFTER_FAMILY)
    assert "已请德育处确认是否将该生标记为留守儿童。" in wang.text
    lina = ts.students["李娜"].id
    assert readers(await log(db, "tags.read"), ts) == {("王芳", "李娜"), ("赵敏", "李娜")}

    await press_on(admin, await _proposal_for(db, admin), "同意")

    assert admin.text == "已将李娜标记为留守儿童。"
    [decided] = await log(db, "tag_proposal.approved")
    [changed] = await log(db, "tags.change")
    assert (decided.student_id, changed.student_id) == (lina, lina)
    assert changed.actor == f"staff:{ts.staff['赵敏'].id}"
    assert changed.subject == f"student:{lina}" and changed.detail.startswith("+留守")
    await press_on(admin, await _proposal_for(db, admin), "同意")  # decided already
    assert len(await log(db, "tags.change")) == 1


async def test_winter_must_visit_lists_are_reads_of_every_name_shown_in_one_statement(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    for name in ("王芳", "孙丽", "李强"):
        await bind(db, clock, ts.staff[name])
    first_day = datetime(2027, 1, 23, 8, 0, tzinfo=ZONE)

    with audit_inserts(db) as inserts:
        assert await run_at(db, ts.school, break_start_reminder, first_day) == 3
    assert len(inserts) == 1
    entries = await log(db, "tags.read")
    assert readers(entries, ts) == {
        ("王芳", "张小明"),
        ("王芳", "王磊"),
        ("孙丽", "赵刚"),
        ("李强", "周杰"),
    }
    assert {e.detail for e in entries} == {"break_start_reminder"}
    # The job run again sends nothing, and nobody read anything more.
    assert await run_at(db, ts.school, break_start_reminder, first_day) == 0
    assert len(await log(db, "tags.read")) == 4

    clock.now = datetime(2027, 1, 25, 2, 0, tzinfo=UTC)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.send("/quota")
    assert "尚未家访：张小明、王磊" in wang.text
    quota = [e for e in await log(db, "tags.read") if e.detail == "quota"]
    assert readers(quota, ts) == {("王芳", "张小明"), ("王芳", "王磊")}


async def test_the_exports_audit_each_tagged_student_they_hold_in_one_statement(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(*FULL_VISIT, "保存")  # 张小明 (单亲·留守)

    with audit_inserts(db) as inserts:
        await export_families(db, path=tmp_path / "families.xlsx")
    assert len(inserts) == 2  # the export's own entry, and every tagged student's read
    families = [e for e in await log(db, "tags.read") if e.detail == "export.families"]
    tagged = {name for name, s in ts.students.items() if s.tags}
    assert readers(families, ts) == {("cli", name) for name in tagged}

    day = date(2026, 11, 16)
    await export_visits(db, date_from=day, date_to=day, class_name=None, path=tmp_path / "v.xlsx")
    visits = [e for e in await log(db, "tags.read") if e.detail == "export.visits"]
    assert readers(visits, ts) == {("cli", "张小明")}


async def test_a_roster_import_that_changes_tags_records_each_change(
    db: Database, tmp_path: Path
) -> None:
    teachers, students = EXAMPLES / "teachers.csv", EXAMPLES / "students.csv"
    await import_roster(db, load_roster([teachers, students]), school_name="名册小学")
    first = await log(db, "tags.change")
    async with db.session() as session:
        rows = list((await session.exec(select(Student))).all())
    assert first and {e.student_id for e in first} == {s.id for s in rows if s.tags}
    assert {e.actor for e in first} == {"cli"}
    # 20240101 张小明 has no tag in the file; the next file gives him one.
    lines = students.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("20240101,张小明,三(1)班,,")
    lines[1] = lines[1].replace("三(1)班,,", "三(1)班,孤儿,", 1)
    changed = tmp_path / "students.csv"
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")

    await import_roster(db, load_roster([teachers, changed]), school_name="名册小学")

    [change] = (await log(db, "tags.change"))[len(first) :]
    xiaoming = next(s for s in rows if s.student_no == "20240101")
    assert (change.student_id, change.subject) == (xiaoming.id, f"student:{xiaoming.id}")
    assert (change.actor, change.detail) == ("cli", "+孤儿")


async def test_visits_absences_and_flags_name_their_student_in_the_log(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    wang = await chat_as(db, clock, ts.staff["王芳"])
    await wang.steps(*FULL_VISIT, "保存")
    lina = ts.students["李娜"]
    async with db.session() as session:
        await record_absence(
            session=session,
            student=lina,
            kind=AbsenceKind.SICK,
            since=date(2026, 11, 16),
            reporter=ts.staff["王芳"],
            now=clock.now,
        )
        await record_flag(
            session=session,
            student=lina,
            trigger=DutyTrigger.FAMILY_CHANGE,
            note="",
            reporter=ts.staff["王芳"],
            now=clock.now,
        )
    entries = {e.action: e for e in await log(db)}
    assert entries["visit.create"].student_id == ts.students["张小明"].id
    assert entries["absence.create"].student_id == lina.id
    assert entries["flag.create"].student_id == lina.id
