"""`export meetings [--semester 学期名称或日期] --by 工号 -o FILE.xlsx`: a semester's parent meetings
家长会 as an .xlsx workbook, for 德育处 and the principal.

The semester is the school calendar's (校历): named by its name (`2026秋季学期`), by a date in it
(its start date, `2026-09-01`), or, without `--semester` or with it bare, the one today falls in.
The member of staff named by `--by` must be one whose roles reach `Action.EXPORT_MEETINGS` in the
permission matrix (德育处, the principal); the export is audited in their name
(`export.meetings`). A refusal is one line and status 2, with no file written.

* sheet 会议: one row per meeting starting in the semester (cancelled ones too, as such): whose
  meeting (the class, 家长委员会 or 全校), its kind, time, place, organiser and status, its
  notice's 文号 and state, the families invited, how many answered 确认参加 and 不能参加 and how
  many did not answer, how many came (blank until attendance is recorded), and whether minutes
  exist and in what form;
* sheet 出席: one row per family (student) invited to each meeting: the class, 学号 and student,
  the answer and whether they came. No guardian's name or phone number is written.

Semester with no meeting: the file is written with its headers, and the command says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import col, select

from bot.exports.xlsx import (
    excel_time,
    export_school,
    output_path,
    run_export,
    save_audited,
    table_sheet,
)
from bot.meetings_cli import permitted_staff
from bot.settings import Settings
from models.db.engine import Database
from models.errors import CommandRefused
from models.meetings.queries import FamilyReply, meeting_families, meetings_between
from models.meetings.tables import (
    MEETING_KIND_LABELS,
    MEETING_STATUS_LABELS,
    Meeting,
    MeetingKind,
    MinutesKind,
)
from models.notices.tables import (
    NOTICE_STATUS_LABELS,
    RECEIPT_ANSWER_LABELS,
    Notice,
    ReceiptAnswer,
)
from models.permissions.matrix import Action
from models.quota.rules import semester_on, semesters
from models.roster.tables import Staff
from models.school.calendar_store import stored_calendar
from models.school.tables import SchoolClass, Term

MEETINGS_SHEET = "会议"
FAMILIES_SHEET = "出席"
MEETING_COLUMNS: tuple[tuple[str, int], ...] = (
    ("编号", 6),
    ("对象", 12),
    ("类型", 14),
    ("时间", 18),
    ("地点", 16),
    ("组织者", 10),
    ("状态", 8),
    ("文号", 16),
    ("通知状态", 14),
    ("邀请（户）", 10),
    ("确认参加", 10),
    ("不能参加", 10),
    ("未回复", 8),
    ("出席（户）", 10),
    ("纪要", 6),
    ("纪要形式", 8),
)
FAMILY_COLUMNS: tuple[tuple[str, int], ...] = (
    ("会议编号", 8),
    ("会议时间", 18),
    ("班级", 10),
    ("学号", 12),
    ("学生", 10),
    ("回复", 10),
    ("出席", 8),
)
AUDIENCE_LABELS = {MeetingKind.COMMITTEE: "家长委员会", MeetingKind.OTHER: "全校"}
MINUTES_LABELS = {MinutesKind.TEXT: "文字", MinutesKind.PHOTO: "照片", MinutesKind.DOCUMENT: "文件"}
NO_ANSWER = "未回复"


def _semester_names(terms: list[Term]) -> str:
    return "、".join(f"{t.name}（{t.start_date.isoformat()} 起）" for t in terms)


def choose_semester(terms: list[Term], wanted: str | None, today: date) -> Term:
    """The semester `wanted` names (its name, or a date in it), else the one `today` is in; a
    clear refusal otherwise."""
    known = semesters(terms)
    if not known:
        raise CommandRefused(
            "校历中还没有学期。请先导入校历：python -m bot calendar import 校历.xlsx。"
        )
    text = (wanted or "").strip()
    if not text:
        term = semester_on(today, known)
        if term is None:
            raise CommandRefused(
                f"今天（{today.isoformat()}）不在任何学期内，请用 --semester 写明学期名称或开始日期。"
                f"校历中的学期：{_semester_names(known)}。"
            )
        return term
    named = [t for t in known if t.name == text]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise CommandRefused(
            f"校历中有 {len(named)} 个学期名为“{text}”，请写它的开始日期，例如 "
            f"--semester {named[-1].start_date.isoformat()}。"
        )
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandRefused(
            f"校历中没有名为“{text[:40]}”的学期。校历中的学期：{_semester_names(known)}。"
        ) from None
    term = semester_on(day, known)
    if term is None:
        raise CommandRefused(
            f"{day.isoformat()} 不在任何学期内。校历中的学期：{_semester_names(known)}。"
        )
    return term


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    notice: Notice | None
    audience: str
    organiser: str
    families: list[FamilyReply]

    def answered(self, answer: ReceiptAnswer) -> int:
        return sum(1 for f in self.families if f.answered and f.answer == answer)

    def cells(self, zone: ZoneInfo) -> list[Any]:
        m, notice, families = self.meeting, self.notice, self.families
        attend = self.answered(ReceiptAnswer.ATTEND)
        decline = self.answered(ReceiptAnswer.DECLINE)
        recorded = m.attendance_at is not None
        minutes = MINUTES_LABELS[MinutesKind(m.minutes_kind)] if m.has_minutes else None
        return [
            m.id,
            self.audience,
            MEETING_KIND_LABELS[m.kind],
            excel_time(m.starts_at, zone),
            m.place,
            self.organiser,
            MEETING_STATUS_LABELS[m.status],
            (notice.number or None) if notice is not None else None,
            NOTICE_STATUS_LABELS[notice.status] if notice is not None else None,
            len(families),
            attend,
            decline,
            len(families) - attend - decline,
            sum(1 for f in families if f.attended) if recorded else None,
            "有" if m.has_minutes else "无",
            minutes,
        ]


def family_cells(meeting: Meeting, family: FamilyReply, zone: ZoneInfo) -> list[Any]:
    answer = NO_ANSWER
    if family.answered and family.answer in {a.value for a in ReceiptAnswer}:
        answer = RECEIPT_ANSWER_LABELS[ReceiptAnswer(family.answer)]
    present = {None: "未记录", True: "出席", False: "缺席"}[family.attended]
    return [
        meeting.id,
        excel_time(meeting.starts_at, zone),
        family.klass.name,
        family.student.student_no,
        family.student.name,
        answer,
        present,
    ]


@dataclass(frozen=True)
class MeetingsExport:
    term: Term
    meetings: int


async def _rows(db: Database, school_id: int, term: Term, zone: ZoneInfo) -> list[MeetingRow]:
    async with db.session() as session:
        found = await meetings_between(
            session=session,
            school_id=school_id,
            first=term.start_date,
            last=term.end_date,
            zone=zone,
        )
        classes = {
            k.id: k.name
            for k in (
                await session.exec(select(SchoolClass).where(SchoolClass.school_id == school_id))
            ).all()
        }
        staff = await session.exec(
            select(col(Staff.id), col(Staff.name)).where(Staff.school_id == school_id)
        )
        names = {staff_id: name for staff_id, name in staff.all()}
        rows: list[MeetingRow] = []
        for meeting, notice in found:
            audience = (
                classes.get(meeting.class_id, "")
                if meeting.kind is MeetingKind.CLASS
                else AUDIENCE_LABELS[meeting.kind]
            )
            families = await meeting_families(session=session, meeting=meeting)
            organiser = names.get(meeting.organiser_id, "")
            rows.append(MeetingRow(meeting, notice, audience, organiser, families))
    return rows


async def export_meetings(
    db: Database,
    *,
    semester: str | None,
    staff_no: str,
    path: Path,
    today: date | None = None,
    school_name: str | None = None,
) -> MeetingsExport:
    """Write the semester's meetings and their families to `path` for `staff_no`."""
    path = output_path(path)
    async with db.session() as session:
        school = await export_school(session, school_name)
        calendar = await stored_calendar(session=session, school_id=school.id or 0)
    staff = await permitted_staff(
        db,
        school.id or 0,
        staff_no,
        Action.EXPORT_MEETINGS,
        "不能导出家长会记录：只有德育处和校长可以导出。",
    )
    zone = ZoneInfo(school.timezone)
    term = choose_semester(list(calendar.terms), semester, today or datetime.now(zone).date())
    rows = await _rows(db, school.id or 0, term, zone)
    workbook = Workbook(write_only=True)
    sheet = table_sheet(workbook, MEETINGS_SHEET, MEETING_COLUMNS)
    for row in rows:
        sheet.append(row.cells(zone))
    families = table_sheet(workbook, FAMILIES_SHEET, FAMILY_COLUMNS)
    for row in rows:
        for family in row.families:
            families.append(family_cells(row.meeting, family, zone))
    await save_audited(
        db,
        workbook,
        path,
        actor=f"staff:{staff.id}",
        action="export.meetings",
        subject=f"school:{school.id}",
        detail=f"{term.name} {term.start_date.isoformat()}~{term.end_date.isoformat()} "
        f"{len(rows)} meetings",
    )
    return MeetingsExport(term, len(rows))


async def run_export_meetings(
    settings: Settings,
    *,
    semester: str | None,
    staff_no: str,
    output: Path,
    school_name: str | None,
) -> int:
    """`python -m bot export meetings …`: export and say what was written."""

    async def export(db: Database) -> MeetingsExport:
        return await export_meetings(
            db,
            semester=semester,
            staff_no=staff_no,
            path=output,
            school_name=school_name or settings.school_name,
        )

    def said(done: MeetingsExport) -> str:
        term = done.term
        span = f"{term.name}（{term.start_date.isoformat()} 至 {term.end_date.isoformat()}）"
        if done.meetings == 0:
            return f"{span}没有安排家长会；已写出只有表头的文件 {output}。"
        return f"已导出{span}的 {done.meetings} 次会议及各家庭的回复和出席到 {output}。"

    return await run_export(settings, export, said)
