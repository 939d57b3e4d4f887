"""`privacy export STUDENT --by 工号 -o FILE.xlsx` and `privacy erase STUDENT --by 工号 [--yes]`:
a guardian's request to see, or to erase, everything the school holds about their child.

STUDENT is the 学号. `--by` names the member of staff acting; only one whose roles in the
permission matrix reach `privacy.export` / `privacy.erase` (the principal) may. A refusal is one
line `错误：…` and status 2, with nothing written.

Export writes every record about the student on separate sheets (`models.privacy.subject`) and
audits it. Erase shows what will be anonymised and asks for confirmation (`--yes` answers it;
without a terminal and without `--yes` it refuses), then anonymises in one transaction
(`models.privacy.erase`), audited and recorded as a retention run.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import col, select

from bot.command_line import school_or_say
from bot.exports.xlsx import excel_time, output_path, save_workbook, table_sheet
from bot.settings import Settings
from models.audit.tables import audit
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CommandRefused
from models.permissions.matrix import ACTION_LABELS, Action, permits
from models.permissions.roles import roles_of
from models.privacy.erase import ErasePlan, erase_plan, erase_student
from models.privacy.subject import Sheet, find_student, student_records
from models.roster.duties import staff_duties
from models.roster.tables import Staff, Student
from models.school.tables import School, SchoolClass

#: The widest a sheet's column is drawn.
_WIDTH = 18


async def acting_staff(db: Database, school: School, staff_no: str, action: Action) -> Staff:
    """The member of staff `--by` names, if their roles reach `action`; else `CommandRefused`."""
    async with db.session() as session:
        query = select(Staff).where(
            col(Staff.school_id) == school.id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
        if staff is None or not staff.active:
            raise CommandRefused(f"名册中没有工号为“{staff_no}”的在职教职工。")
        duties = await staff_duties(session=session, staff=staff)
    if not permits(roles_of(staff, duties, None), action):
        raise CommandRefused(
            f"{staff.name}（{staff.staff_no}）无权{ACTION_LABELS[action]}：只有校长可以。"
        )
    return staff


async def _student(db: Database, school: School, student_no: str) -> Student:
    async with db.session() as session:
        student = await find_student(
            session=session, school_id=school.id or 0, student_no=student_no
        )
    if student is None:
        raise CommandRefused(
            f"名册中没有学号为“{student_no}”的学生（或其数据已删除）。没有任何改动。"
        )
    return student


def _workbook(sheets: list[Sheet], zone: ZoneInfo) -> Workbook:
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        page = table_sheet(workbook, sheet.title, [(c, _WIDTH) for c in sheet.columns])
        for row in sheet.rows:
            page.append([excel_time(v, zone) if isinstance(v, datetime) else v for v in row])
    return workbook


async def export_student(
    db: Database, school: School, *, student_no: str, staff_no: str, output: Path, zone: ZoneInfo
) -> int:
    """Write the student's records to `output`; the number of records written."""
    path = output_path(output)
    staff = await acting_staff(db, school, staff_no, Action.PRIVACY_EXPORT)
    student = await _student(db, school, student_no)
    async with db.session() as session:
        sheets = await student_records(session=session, student=student)
    await save_workbook(_workbook(sheets, zone), path)
    count = sum(len(sheet.rows) for sheet in sheets)
    async with db.session() as session:
        await audit(
            session=session,
            actor=f"staff:{staff.id}",
            action="privacy.export",
            subject=f"student:{student.id}",
            detail=f"{count} records",
            student_id=student.id,
        )
    return count


def plan_text(plan: ErasePlan, class_name: str) -> str:
    student = plan.student
    lines = [
        f"将匿名化学生 {class_name}{student.name}（学号 {student.student_no}）的数据：",
        "· 姓名改为“已删除学生”，学号改为占位编号，特殊类型标记清空；",
        f"· 家访记录 {plan.visits} 条：文字内容清空，保留日期、方式、类别用于统计；",
        f"· 突发事件 {plan.incidents} 条、关爱室个案 {plan.cases} 个：文字内容清空；",
        f"· 问题台账 {plan.ledger_items} 条：描述改为“已删除”；",
    ]
    if plan.guardians_erased:
        names = "、".join(g.name for g in plan.guardians_erased)
        lines.append(
            f"· 家长 {names}（没有其他孩子在校）：姓名改为“已删除家长”，手机号清除，"
            f"解除 {plan.accounts} 个账号绑定；"
        )
    if plan.guardians_kept:
        names = "、".join(g.name for g in plan.guardians_kept)
        lines.append(f"· 家长 {names} 还有其他孩子在校，保留。")
    lines.append("此操作不能撤销。")
    return "\n".join(lines)


Ask = Callable[[str], str]


async def erase(
    db: Database,
    school: School,
    *,
    student_no: str,
    staff_no: str,
    yes: bool,
    interactive: bool,
    ask: Ask = input,
    now: datetime | None = None,
) -> int:
    """Show the plan, confirm, anonymise; the exit status."""
    staff = await acting_staff(db, school, staff_no, Action.PRIVACY_ERASE)
    student = await _student(db, school, student_no)
    async with db.session() as session:
        plan = await erase_plan(session=session, student=student)
        klass = await session.get(SchoolClass, student.class_id)
    print(plan_text(plan, klass.name if klass is not None else ""))
    if not yes:
        if not interactive:
            raise CommandRefused("没有确认：请在终端中运行并输入“确认”，或加 --yes。没有任何改动。")
        answer = ask("输入“确认”继续，其他任何内容取消：").strip()
        if answer not in ("确认", "yes", "y"):
            print("已取消，没有任何改动。")
            return 1
    async with db.session() as session:
        fresh = await session.get(Student, student.id)
        if fresh is None or fresh.erased_at is not None:
            raise CommandRefused("这名学生的数据已经删除过了。")
        plan = await erase_plan(session=session, student=fresh)
        changed = await erase_student(
            session=session,
            plan=plan,
            actor=f"staff:{staff.id}",
            now=now or datetime.now(UTC),
        )
    print(f"已匿名化：共改动 {changed} 条记录。")
    return 0


async def _with_school(
    settings: Settings, school_name: str | None
) -> tuple[Database, School | None]:
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    school = await school_or_say(db, school_name or settings.school_name)
    return db, school


async def run_privacy_export(
    settings: Settings, *, student_no: str, staff_no: str, output: Path, school_name: str | None
) -> int:
    db, school = await _with_school(settings, school_name)
    try:
        if school is None:
            return 1
        count = await export_student(
            db,
            school,
            student_no=student_no,
            staff_no=staff_no,
            output=output,
            zone=ZoneInfo(settings.timezone),
        )
    finally:
        await db.dispose()
    print(f"已导出 {count} 条记录到 {output}。")
    return 0


async def run_privacy_erase(
    settings: Settings, *, student_no: str, staff_no: str, yes: bool, school_name: str | None
) -> int:
    db, school = await _with_school(settings, school_name)
    try:
        if school is None:
            return 1
        return await erase(
            db,
            school,
            student_no=student_no,
            staff_no=staff_no,
            yes=yes,
            interactive=sys.stdin.isatty(),
        )
    finally:
        await db.dispose()
