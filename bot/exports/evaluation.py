"""`export evaluation [--semester 名称或开始日期] [--year] [--teacher 工号] --by 工号 -o FILE.xlsx`:
teachers' evaluation 家访工作考核 as an .xlsx workbook.

The period is `models.evaluation.period.choose_period`'s: a semester by its name or a date in it
(default: the one today falls in, in a break the one just ended) with the break that follows
it, or with `--year` its school year. The member of staff named by `--by` must reach
`Action.EVALUATION_VIEW` in the permission matrix: 德育处 and the principal export every teacher
(or `--teacher`'s), a teacher only their own figures. The export is audited in their name
(`export.evaluation`). A refusal is one line and status 2, with no file written: an unknown
semester, a 工号 not on the roster, a period with no visit yet (本学期还没有家访数据).

The figures are `models.evaluation.queries.evaluation_report`'s, the same `/evaluation` shows:

* sheet 总表: one row per teacher, best score first: each part's figures and its score in
  percent (blank where the teacher has no such target), and the score; then 说明 rows: the
  period, the weights in use, what a late record is;
* sheet 月度: one row per teacher and month: routine visits and parent contacts against the
  month's targets (pro-rated over its term days; the month in progress against the pace);
* sheet 立即家访: one row per immediate-visit duty due in the period: the teacher, the student
  and class, why, when it was due and done, the outcome and how late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import col, select

from bot.exports.xlsx import (
    bold_row,
    excel_time,
    export_school,
    output_path,
    run_export,
    save_audited,
    table_sheet,
)
from bot.schools import rules_for
from bot.settings import Settings
from models.campaigns.evaluation import PART_LABELS, DutyOutcome, Part, duty_outcome
from models.db.engine import Database
from models.duties.tables import TRIGGER_LABELS
from models.errors import CommandRefused
from models.evaluation.period import Period, PeriodRefused, choose_period
from models.evaluation.queries import (
    EvaluationReport,
    TeacherReport,
    evaluation_report,
    school_terms,
)
from models.permissions.matrix import Action, Reach, reach
from models.permissions.roles import roles_of
from models.quota.rules import QuotaRole, Tally
from models.roster.duties import staff_duties
from models.roster.tables import Staff
from models.school.rules import SchoolRules

SUMMARY_SHEET = "总表"
MONTHS_SHEET = "月度"
DUTIES_SHEET = "立即家访"
ROLE_LABELS = {
    QuotaRole.HEAD_TEACHER: "班主任",
    QuotaRole.SUBJECT_TEACHER: "任课教师",
    QuotaRole.COACH: "教练",
}
OUTCOME_LABELS = {
    DutyOutcome.ON_TIME: "按时",
    DutyOutcome.LATE: "逾期完成",
    DutyOutcome.MISSED: "未完成",
    DutyOutcome.PENDING: "未到期",
}
SUMMARY_COLUMNS: tuple[tuple[str, int], ...] = (
    ("工号", 8),
    ("姓名", 10),
    ("角色", 10),
    ("所带班级", 12),
    ("常规家访达标月数", 10),
    ("常规家访得分（%）", 10),
    ("联系家长达标月数", 10),
    ("联系家长得分（%）", 10),
    ("重点家访（完成/应完成，人）", 12),
    ("重点家访得分（%）", 10),
    ("假期家访（完成/应完成）", 12),
    ("假期家访得分（%）", 10),
    ("立即家访按时", 8),
    ("立即家访逾期完成", 8),
    ("立即家访未完成", 8),
    ("逾期中位数（小时）", 10),
    ("立即家访得分（%）", 10),
    ("家访记录（条）", 8),
    ("晚记录（条）", 8),
    ("记录及时得分（%）", 10),
    ("班级遍访（人）", 10),
    ("班级遍访得分（%）", 10),
    ("大走访包保（户）", 10),
    ("大走访得分（%）", 10),
    ("台账负责（条）", 8),
    ("台账办结（条）", 8),
    ("台账得分（%）", 10),
    ("总分", 8),
)
MONTH_COLUMNS: tuple[tuple[str, int], ...] = (
    ("工号", 8),
    ("姓名", 10),
    ("月份", 10),
    ("常规家访", 8),
    ("常规家访指标", 10),
    ("联系家长（人次）", 10),
    ("联系家长指标", 10),
)
DUTY_COLUMNS: tuple[tuple[str, int], ...] = (
    ("工号", 8),
    ("姓名", 10),
    ("学生", 10),
    ("班级", 10),
    ("事由", 16),
    ("应完成时间", 18),
    ("完成时间", 18),
    ("结果", 10),
    ("逾期（小时）", 10),
)


def _percent(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value) * 100, 1)


def _tally(tally: Tally | None) -> str | None:
    return None if tally is None or tally.target == 0 else f"{tally.done}/{tally.target}"


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 1)


def summary_cells(teacher: TeacherReport) -> list[Any]:
    found = teacher.evaluation
    inputs, parts, duties = found.inputs, found.parts, found.duties
    routine = found.months_met(Part.ROUTINE_VISITS)
    contacts = found.months_met(Part.PARENT_CONTACTS)
    ledger = inputs.ledger
    return [
        teacher.staff_no,
        teacher.name,
        ROLE_LABELS[teacher.role],
        "、".join(teacher.headed) or None,
        _tally(routine),
        _percent(parts.get(Part.ROUTINE_VISITS)),
        _tally(contacts),
        _percent(parts.get(Part.PARENT_CONTACTS)),
        _tally(inputs.key_visits),
        _percent(parts.get(Part.KEY_VISITS)),
        _tally(inputs.break_visits),
        _percent(parts.get(Part.BREAK_VISITS)),
        duties.on_time,
        duties.late,
        duties.missed,
        _hours(duties.median_delay.total_seconds()) if duties.median_delay else None,
        _percent(parts.get(Part.DUTIES)),
        found.records,
        found.late_records,
        _percent(parts.get(Part.RECORDS_ON_TIME)),
        _tally(inputs.class_coverage),
        _percent(parts.get(Part.CLASS_COVERAGE)),
        _tally(inputs.campaign),
        _percent(parts.get(Part.CAMPAIGN)),
        ledger.target if ledger else None,
        ledger.done if ledger else None,
        _percent(parts.get(Part.LEDGER)),
        teacher.score,
    ]


def month_rows(teacher: TeacherReport) -> list[list[Any]]:
    inputs = teacher.evaluation.inputs
    routine = {m.month: m for m in inputs.routine}
    rows = []
    for contacts in inputs.contacts:
        visits = routine.get(contacts.month)
        rows.append(
            [
                teacher.staff_no,
                teacher.name,
                f"{contacts.month.year}-{contacts.month.month:02d}",
                visits.done if visits else None,
                visits.target if visits else None,
                contacts.done,
                contacts.target,
            ]
        )
    return rows


def duty_rows(teacher: TeacherReport, as_of: datetime, zone: ZoneInfo) -> list[list[Any]]:
    rows = []
    for duty in teacher.duties:
        outcome = duty_outcome(duty.record, as_of)
        late = None
        if outcome is DutyOutcome.LATE and duty.done_at is not None:
            late = _hours((duty.done_at - duty.due_at).total_seconds())
        rows.append(
            [
                teacher.staff_no,
                teacher.name,
                duty.student,
                duty.class_name,
                TRIGGER_LABELS[duty.trigger],
                excel_time(duty.due_at, zone),
                excel_time(duty.done_at, zone),
                OUTCOME_LABELS[outcome],
                late,
            ]
        )
    return rows


def notes(report: EvaluationReport, zone: ZoneInfo) -> list[str]:
    period, weights = report.period, report.weights
    as_of = report.as_of.astimezone(zone)
    listed = "、".join(f"{PART_LABELS[p]} {getattr(weights, p.value):g}" for p in Part)
    return [
        f"考核期间：{period.label}（{period.first.isoformat()} 至 {period.last.isoformat()}），"
        f"统计截至 {as_of:%Y-%m-%d %H:%M}。",
        f"权重：{listed}。各项按 0–100% 计，没有指标的项目不计分，其余权重按比例折算为百分制总分。",
        f"晚记录：家访后超过 {report.late_days} 天才记录；立即家访按时计 1、逾期完成计 ½、"
        "未完成计 0，未到期的不计。",
        "常规家访和联系家长逐月计算（指标按当月在校天数折算，进行中的月份按进度），"
        "再取各月平均；重点家访、班级遍访按本学年计。",
    ]


@dataclass(frozen=True)
class EvaluationExport:
    period: Period
    teachers: int


async def _exporter(db: Database, school_id: int, staff_no: str) -> tuple[Staff, Reach]:
    async with db.session() as session:
        query = select(Staff).where(
            col(Staff.school_id) == school_id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
        if staff is None or not staff.active:
            raise CommandRefused(f"名册中没有工号为“{staff_no}”的在职教职工。")
        duties = await staff_duties(session=session, staff=staff)
    found = reach(roles_of(staff, duties, None), Action.EVALUATION_VIEW)
    if found == Reach.NONE:
        raise CommandRefused(
            f"{staff.name}（{staff.staff_no}）不能导出家访工作考核：只有德育处、校长和任课教师"
            "（本人的）可以导出。"
        )
    return staff, found


async def export_evaluation(
    db: Database,
    *,
    semester: str | None,
    year: bool,
    teacher_no: str | None,
    staff_no: str,
    path: Path,
    rules: SchoolRules,
    now: datetime | None = None,
    school_name: str | None = None,
) -> EvaluationExport:
    """Write the period's evaluation to `path` for `staff_no`."""
    path = output_path(path)
    async with db.session() as session:
        school = await export_school(session, school_name)
    staff, scope = await _exporter(db, school.id or 0, staff_no)
    zone = ZoneInfo(school.timezone)
    moment = now or datetime.now(zone)
    wanted_no = (teacher_no or "").strip() or None
    if scope < Reach.SCHOOL:
        if wanted_no is not None and wanted_no != staff.staff_no:
            raise CommandRefused(f"{staff.name}（{staff.staff_no}）只能导出本人的家访工作考核。")
        wanted_no = staff.staff_no
    async with db.session() as session:
        terms = await school_terms(session, school.id or 0)
        try:
            period = choose_period(
                terms,
                semester,
                moment.astimezone(zone).date(),
                year=year,
                month=school.year_start_month,
                start_day=school.year_start_day,
            )
        except PeriodRefused as refused:
            raise CommandRefused(str(refused)) from None
        report = await evaluation_report(session, school, period, now=moment, rules=rules)
    if report.visits == 0 and not any(t.duties for t in report.teachers):
        raise CommandRefused(
            "本学年还没有家访数据。" if period.is_year else "本学期还没有家访数据。"
        )
    teachers = list(report.teachers)
    if wanted_no is not None:
        teachers = [t for t in teachers if t.staff_no == wanted_no]
        if not teachers:
            raise CommandRefused(
                f"没有工号为“{wanted_no}”的参加考核的教师（任课、带班或带队的在职教职工）。"
            )
    workbook = Workbook(write_only=True)
    summary = table_sheet(workbook, SUMMARY_SHEET, SUMMARY_COLUMNS)
    for teacher in teachers:
        summary.append(summary_cells(teacher))
    summary.append([])
    bold_row(summary, ["说明"])
    for line in notes(report, zone):
        summary.append([line])
    months = table_sheet(workbook, MONTHS_SHEET, MONTH_COLUMNS)
    for teacher in teachers:
        for row in month_rows(teacher):
            months.append(row)
    duties = table_sheet(workbook, DUTIES_SHEET, DUTY_COLUMNS)
    for teacher in teachers:
        for row in duty_rows(teacher, report.as_of, zone):
            duties.append(row)
    await save_audited(
        db,
        workbook,
        path,
        actor=f"staff:{staff.id}",
        action="export.evaluation",
        subject=f"school:{school.id}",
        detail=f"{period.label} {period.first.isoformat()}~{period.last.isoformat()} "
        f"{len(teachers)} teachers",
    )
    return EvaluationExport(period, len(teachers))


async def run_export_evaluation(
    settings: Settings,
    *,
    semester: str | None,
    year: bool,
    teacher_no: str | None,
    staff_no: str,
    output: Path,
    school_name: str | None,
) -> int:
    """`python -m bot export evaluation …`: export and say what was written."""

    async def export(db: Database) -> EvaluationExport:
        return await export_evaluation(
            db,
            semester=semester,
            year=year,
            teacher_no=teacher_no,
            staff_no=staff_no,
            path=output,
            rules=await rules_for(db, settings, school_name),
            school_name=school_name or settings.school_name,
        )

    def said(done: EvaluationExport) -> str:
        period = done.period
        return (
            f"已导出{period.label}（{period.first.isoformat()} 至 {period.last.isoformat()}）"
            f" {done.teachers} 位教师的家访工作考核到 {output}。"
        )

    return await run_export(settings, export, said)
