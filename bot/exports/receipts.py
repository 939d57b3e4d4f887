"""`export receipts NOTICE -o FILE.xlsx`: a notice's receipts 回执, one row per student, for 德育处.

NOTICE is the notice's id or its 文号 (`〔2026〕第012号`, `2026-012`). The first sheet has a row per
student of the audience — class, student, every guardian with their roster phone, whether the
family confirmed, who confirmed (relation and name), when and through which channel, and whether
the message reached the family; the second sheet describes the notice and its totals. Headers in
Chinese, times in the school's zone as real Excel times, like `bot.exports.visits`; every export is
audited. A fixed handful of queries, whatever the size of the audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.exports.xlsx import (
    CHANNEL_LABELS,
    ExportError,
    bold_row,
    excel_time,
    export_school,
    output_path,
    run_export,
    save_audited,
    set_widths,
    table_sheet,
)
from bot.settings import Settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.notices.tables import NOTICE_KIND_LABELS, NOTICE_STATUS_LABELS, Notice, NoticeReceipt
from models.notices.tracking import REACH_LABELS, Reach, best_reach, find_notice, guardian_reach
from models.roster.tables import Guardian, Staff, Student, StudentGuardian
from models.school.tables import SchoolClass

#: (header, column width) in sheet order.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("班级", 10),
    ("学号", 12),
    ("学生", 10),
    ("家长及电话", 40),
    ("是否确认", 8),
    ("确认家长", 14),
    ("确认时间", 18),
    ("确认渠道", 10),
    ("送达情况", 14),
    ("机器人可送达", 12),
)
HEADERS = tuple(header for header, _width in COLUMNS)
SUMMARY_SHEET = "通知"
RECEIPTS_SHEET = "回执"


@dataclass
class ReceiptRow:
    class_name: str
    student_no: str
    student_name: str
    #: (relation, name, phone, reach) of every guardian, in roster order.
    guardians: list[tuple[str, str, str, Reach]]
    confirmed_at: datetime | None
    confirmed_by: str
    channel: str

    @property
    def reach(self) -> Reach:
        return best_reach([g[3] for g in self.guardians])

    def cells(self, zone: ZoneInfo) -> list[Any]:
        guardians = "；".join(
            " ".join(part for part in (relation, name, phone) if part)
            for relation, name, phone, _reach in self.guardians
        )
        return [
            self.class_name,
            self.student_no,
            self.student_name,
            guardians or None,
            "已确认" if self.confirmed_at is not None else "未确认",
            self.confirmed_by or None,
            excel_time(self.confirmed_at, zone),
            CHANNEL_LABELS.get(self.channel, self.channel) or None,
            REACH_LABELS[self.reach],
            "是" if self.reach is Reach.SENT else "否",
        ]


async def receipt_rows(*, session: AsyncSession, notice_id: int) -> list[ReceiptRow]:
    """The notice's students in class and student-number order, with guardians and receipts."""
    confirmer = aliased(Guardian)
    query = (
        select(NoticeReceipt, Student, col(SchoolClass.name), col(confirmer.name))
        .join(Student, col(Student.id) == col(NoticeReceipt.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(NoticeReceipt.class_id))
        .outerjoin(confirmer, col(confirmer.id) == col(NoticeReceipt.confirmed_by))
        .where(col(NoticeReceipt.notice_id) == notice_id)
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    rows: list[ReceiptRow] = []
    by_student: dict[int, tuple[ReceiptRow, int | None]] = {}
    for receipt, student, class_name, confirmer_name in (await session.exec(query)).all():
        row = ReceiptRow(
            class_name=class_name,
            student_no=student.student_no,
            student_name=student.name,
            guardians=[],
            confirmed_at=receipt.confirmed_at,
            confirmed_by=confirmer_name or "",
            channel=receipt.channel,
        )
        rows.append(row)
        by_student[receipt.student_id] = (row, receipt.confirmed_by)
    in_notice = select(col(NoticeReceipt.student_id)).where(
        col(NoticeReceipt.notice_id) == notice_id
    )
    links = (
        await session.exec(
            select(StudentGuardian, Guardian)
            .join(Guardian, col(Guardian.id) == col(StudentGuardian.guardian_id))
            .where(col(StudentGuardian.student_id).in_(in_notice))
            .order_by(col(StudentGuardian.position), col(Guardian.id))
        )
    ).all()
    reach = await guardian_reach(session=session, notice_id=notice_id)
    for link, guardian in links:
        row, confirmed_by = by_student[link.student_id]
        row.guardians.append(
            (
                link.relation,
                guardian.name,
                guardian.phone,
                reach.get(guardian.id or 0, Reach.UNBOUND),
            )
        )
        if confirmed_by == guardian.id and link.relation:
            row.confirmed_by = f"{link.relation} {guardian.name}"
    return rows


def _receipts_sheet(workbook: Workbook, rows: list[ReceiptRow], zone: ZoneInfo) -> None:
    sheet = table_sheet(workbook, RECEIPTS_SHEET, COLUMNS)
    for row in rows:
        sheet.append(row.cells(zone))


def _summary_sheet(
    workbook: Workbook,
    notice: Notice,
    rows: list[ReceiptRow],
    zone: ZoneInfo,
    *,
    author: str,
    approver: str,
    now: datetime,
) -> None:
    sheet: WriteOnlyWorksheet = workbook.create_sheet(SUMMARY_SHEET)
    set_widths(sheet, [12, 40])
    confirmed = sum(1 for r in rows if r.confirmed_at is not None)
    unreachable = sum(1 for r in rows if r.reach is not Reach.SENT)
    bold_row(sheet, ["项目", "内容"])
    for label, value in (
        ("文号", notice.number or None),
        ("标题", notice.title),
        ("类型", NOTICE_KIND_LABELS[notice.kind]),
        ("拟稿", author or None),
        ("批准", approver or None),
        ("发布时间", excel_time(notice.published_at, zone)),
        (
            "回执截止",
            excel_time(notice.receipt_deadline, zone) if notice.receipt_required else "不需要回执",
        ),
        ("展示截止", notice.display_until),
        ("状态", NOTICE_STATUS_LABELS[notice.status]),
        ("学生数", len(rows)),
        ("已确认", confirmed),
        ("未确认", len(rows) - confirmed),
        ("未送达的家庭", unreachable),
        ("导出时间", excel_time(now, zone)),
    ):
        sheet.append([label, value])


async def export_receipts(
    db: Database,
    *,
    notice_ref: str,
    path: Path,
    school_name: str | None = None,
    now: datetime,
) -> int:
    """Write the receipts of the notice `notice_ref` (id or 文号) to `path`; the student count."""
    path = output_path(path)
    async with db.session() as session:
        school = await export_school(session, school_name)
        notice = await find_notice(session=session, school_id=school.id or 0, reference=notice_ref)
        if notice is None:
            raise ExportError(
                f"没有找到通知“{notice_ref.strip()}”。请写通知的编号（如 12）或文号"
                "（如 〔2026〕第012号 或 2026-012）。"
            )
        if notice.published_at is None:
            raise ExportError(
                f"通知《{notice.title}》还没有发布（{NOTICE_STATUS_LABELS[notice.status]}），"
                "没有回执可导出。"
            )
        zone = ZoneInfo(school.timezone)
        rows = await receipt_rows(session=session, notice_id=notice.id or 0)
        author = await session.get(Staff, notice.author_id)
        approver = await session.get(Staff, notice.approved_by) if notice.approved_by else None
        workbook = Workbook(write_only=True)
        _receipts_sheet(workbook, rows, zone)
        _summary_sheet(
            workbook,
            notice,
            rows,
            zone,
            author=author.name if author else "",
            approver=approver.name if approver else "",
            now=now,
        )
    await save_audited(
        db,
        workbook,
        path,
        action="export.receipts",
        subject=f"notice:{notice.id}",
        detail=f"{len(rows)} rows",
    )
    return len(rows)


async def run_export_receipts(settings: Settings, *, notice_ref: str, output: Path) -> int:
    """`python -m bot export receipts NOTICE -o FILE.xlsx`: export and say what was written."""
    return await run_export(
        settings,
        lambda db: export_receipts(
            db, notice_ref=notice_ref, path=output, school_name=settings.school_name, now=utcnow()
        ),
        lambda count: f"已导出 {count} 名学生的回执到 {output}。",
    )
