"""`export cases --by 工号 [--from DATE --to DATE] -o FILE.xlsx`: the care room's cases 关爱室个案,
for the care room and the principal only.

The member of staff named by `--by` must be one whose roles reach `Action.EXPORT_CASES` in the
permission matrix (a care-room teacher, the principal); anyone else gets one line and exit
status 2, with nothing written. The export is audited in their name (`export.cases`).

Sheet 个案 has one row per case opened in the range (all cases without one): its intake, the
student, what was noticed, the worker, the assessment, the help plan, the last contact and the
effect evaluation; sheet 辅导记录 one row per line of those cases' chronology. Two streamed
queries whatever the number of cases.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from bot.exports.ledger import local_span
from bot.exports.visits import check_range
from bot.exports.xlsx import (
    excel_time,
    export_school,
    output_path,
    run_export,
    save_audited,
    table_sheet,
)
from bot.settings import Settings
from models.care.tables import (
    ENTRY_LABELS,
    INTAKE_LABELS,
    NATURE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    CareCase,
    CareEntry,
    CareEntryKind,
    CaseIntake,
    CaseNature,
    CaseSeverity,
    CaseStatus,
    CaseUrgency,
)
from models.db.engine import Database
from models.errors import CommandRefused
from models.permissions.matrix import Action, permits
from models.permissions.roles import roles_of
from models.roster.duties import staff_duties
from models.roster.tables import Guardian, Staff, Student
from models.school.tables import SchoolClass

CASES_SHEET = "个案"
ENTRIES_SHEET = "辅导记录"
CASE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("编号", 8),
    ("受理时间", 18),
    ("来源", 12),
    ("紧急程度", 8),
    ("班级", 10),
    ("学生", 10),
    ("转介人/求助人", 12),
    ("反映情况", 40),
    ("跟进人", 10),
    ("状态", 8),
    ("性质", 8),
    ("程度", 6),
    ("心理支持", 30),
    ("学业帮扶", 30),
    ("生活帮扶", 30),
    ("帮扶人", 14),
    ("联系间隔（天）", 10),
    ("上次辅导", 18),
    ("结案时间", 18),
    ("学生反馈", 30),
    ("教师反馈", 30),
    ("家长反馈", 30),
)
ENTRY_COLUMNS: tuple[tuple[str, int], ...] = (
    ("个案编号", 8),
    ("时间", 18),
    ("类型", 10),
    ("记录人", 10),
    ("地点", 12),
    ("问题", 30),
    ("措施", 30),
    ("效果", 30),
    ("说明", 40),
)
FETCH_SIZE = 2000

_Worker = aliased(Staff)
_Referrer = aliased(Staff)


async def exporter(db: Database, school_id: int, staff_no: str) -> Staff:
    """The member of staff named by 工号, if the matrix lets them export cases; else refused."""
    async with db.session() as session:
        query = sqlmodel_select(Staff).where(
            col(Staff.school_id) == school_id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
        if staff is None or not staff.active:
            raise CommandRefused(f"名册中没有工号为“{staff_no}”的在职教职工。")
        duties = await staff_duties(session=session, staff=staff)
    if not permits(roles_of(staff, duties, None), Action.EXPORT_CASES):
        raise CommandRefused(
            f"{staff.name}（{staff.staff_no}）不能导出关爱室个案：只有关爱室老师和校长可以导出。"
        )
    return staff


def _cases(school_id: int, start: datetime | None, end: datetime | None) -> Any:
    query = (
        select(  # type: ignore[call-overload]
            CareCase,
            col(SchoolClass.name),
            col(Student.name),
            _Referrer.name,
            col(Guardian.name),
            _Worker.name,
        )
        .join(Student, col(Student.id) == col(CareCase.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .outerjoin(_Referrer, col(_Referrer.id) == col(CareCase.referred_by_staff_id))
        .outerjoin(Guardian, col(Guardian.id) == col(CareCase.referred_by_guardian_id))
        .outerjoin(_Worker, col(_Worker.id) == col(CareCase.worker_id))
        .where(col(CareCase.school_id) == school_id)
        .order_by(col(CareCase.opened_at), col(CareCase.id))
    )
    if start is not None:
        query = query.where(col(CareCase.opened_at) >= start)
    if end is not None:
        query = query.where(col(CareCase.opened_at) < end)
    return query


def _entries(cases: Any) -> Any:
    ids = cases.with_only_columns(col(CareCase.id)).order_by(None)
    return (
        select(CareEntry, col(Staff.name))
        .outerjoin(Staff, col(Staff.id) == col(CareEntry.recorded_by))
        .where(col(CareEntry.case_id).in_(ids))
        .order_by(col(CareEntry.case_id), col(CareEntry.at), col(CareEntry.id))
    )


def _blank(values: list[Any]) -> list[Any]:
    return [None if value == "" else value for value in values]


def case_cells(row: Any, zone: ZoneInfo) -> list[Any]:
    case, class_name, student, referrer, guardian, worker = row
    assert isinstance(case, CareCase)
    nature, severity = case.nature, case.severity
    return _blank(
        [
            case.id,
            excel_time(case.opened_at, zone),
            INTAKE_LABELS[CaseIntake(case.intake)],
            "紧急" if case.urgency == CaseUrgency.URGENT else "一般",
            class_name,
            student,
            referrer or guardian,
            case.noticed,
            worker,
            STATUS_LABELS[CaseStatus(case.status)],
            NATURE_LABELS[CaseNature(nature)] if nature else None,
            SEVERITY_LABELS[CaseSeverity(severity)] if severity else None,
            case.plan_support,
            case.plan_study,
            case.plan_daily,
            case.plan_who,
            case.plan_every_days,
            excel_time(case.last_contact_at, zone),
            excel_time(case.closed_at, zone),
            case.eval_student,
            case.eval_teacher,
            case.eval_parents,
        ]
    )


def _note(entry: CareEntry) -> str:
    kind = CareEntryKind(entry.kind)
    if kind is CareEntryKind.ASSESSED:
        nature, _sep, severity = entry.text.partition("/")
        try:
            return f"{NATURE_LABELS[CaseNature(nature)]}，程度{SEVERITY_LABELS[CaseSeverity(severity)]}"
        except ValueError:
            return entry.text
    if kind is CareEntryKind.PLANNED:
        return f"每{entry.text}天联系一次"
    return entry.text


def entry_cells(row: Any, zone: ZoneInfo) -> list[Any]:
    entry, staff_name = row
    assert isinstance(entry, CareEntry)
    kind = CareEntryKind(entry.kind)
    place, problem, measures, effect = entry.place, entry.problem, entry.measures, entry.effect
    note = _note(entry)
    if kind is CareEntryKind.PLANNED:
        # A plan's line keeps its parts in the contact's columns (`models.care.tables`).
        parts = zip(("心理支持", "学业帮扶", "生活帮扶"), (problem, measures, effect), strict=True)
        note = "；".join([f"{note}，帮扶人：{place}", *(f"{k}：{v}" for k, v in parts if v)])
        place = problem = measures = effect = ""
    return _blank(
        [
            entry.case_id,
            excel_time(entry.at, zone),
            ENTRY_LABELS[kind],
            staff_name,
            place,
            problem,
            measures,
            effect,
            note,
        ]
    )


async def export_cases(
    db: Database,
    *,
    staff_no: str,
    date_from: date | None,
    date_to: date | None,
    path: Path,
    school_name: str | None = None,
) -> int:
    """Write the cases opened `date_from`..`date_to` (all without a range) and their chronology
    to `path` for the member of staff `staff_no`; returns the number of cases."""
    if date_from is not None and date_to is not None:
        check_range(date_from, date_to)
    path = output_path(path)
    async with db.session() as session:
        school = await export_school(session, school_name)
    staff = await exporter(db, school.id or 0, staff_no)
    zone = ZoneInfo(school.timezone)
    start = datetime.combine(date_from, time(0), zone) if date_from is not None else None
    end = local_span(date_to, date_to, zone)[1] if date_to is not None else None
    count = 0
    async with db.session() as session:
        cases = _cases(school.id or 0, start, end)
        workbook = Workbook(write_only=True)
        sheet = table_sheet(workbook, CASES_SHEET, CASE_COLUMNS)
        async for row in await session.stream(cases.execution_options(yield_per=FETCH_SIZE)):
            sheet.append(case_cells(row, zone))
            count += 1
        chronology = table_sheet(workbook, ENTRIES_SHEET, ENTRY_COLUMNS)
        entries = _entries(cases).execution_options(yield_per=FETCH_SIZE)
        async for row in await session.stream(entries):
            chronology.append(entry_cells(row, zone))
    scope = "~".join(d.isoformat() if d else "…" for d in (date_from, date_to))
    await save_audited(
        db,
        workbook,
        path,
        actor=f"staff:{staff.id}",
        action="export.cases",
        subject=f"school:{school.id}",
        detail=f"{scope} {count} cases",
    )
    return count


async def run_export_cases(
    settings: Settings,
    *,
    staff_no: str,
    date_from: date | None,
    date_to: date | None,
    output: Path,
) -> int:
    """`python -m bot export cases …`: export and say what was written."""

    def said(count: int) -> str:
        if count == 0:
            return f"没有符合条件的关爱室个案；已写出只有表头的文件 {output}。"
        return f"已导出 {count} 个关爱室个案及其记录到 {output}。文件含学生隐私，请妥善保管。"

    return await run_export(
        settings,
        lambda db: export_cases(
            db,
            staff_no=staff_no,
            date_from=date_from,
            date_to=date_to,
            path=output,
            school_name=settings.school_name,
        ),
        said,
    )
