"""`export visits`: the visit records 家访记录 of a date range as an .xlsx workbook for 德育处.

One joined query, streamed from the database into openpyxl's write-only mode, so a school year
of a large school exports in seconds with flat memory. Headers, forms and categories are in
Chinese as teachers and admins read them; dates are real Excel dates; every export is audited.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import Select, select
from sqlmodel import col
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.exports.xlsx import (
    CHANNEL_LABELS,
    ExportError,
    excel_time,
    export_school,
    output_path,
    run_export,
    save_audited,
    table_sheet,
)
from bot.settings import Settings
from models.db.engine import Database
from models.roster.classnames import normalise_class_name, parse_class_name
from models.roster.tables import Staff, Student
from models.school.tables import School, SchoolClass
from models.visits.tables import CATEGORY_LABELS, FORM_LABELS, Visit, VisitCategory, VisitForm

#: (header, column width) in sheet order.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("日期", 12),
    ("班级", 10),
    ("学号", 12),
    ("学生", 10),
    ("特殊类型", 14),
    ("家访教师", 10),
    ("工号", 8),
    ("形式", 10),
    ("分类", 6),
    ("见到的家长", 10),
    ("在校情况反馈", 30),
    ("家庭表现", 30),
    ("家庭情况", 30),
    ("指导意见", 30),
    ("商定措施", 30),
    ("发现问题", 30),
    ("需学校处理", 10),
    ("记录", 30),
    ("录入时间", 18),
    ("渠道", 10),
)
HEADERS = tuple(header for header, _width in COLUMNS)
#: Rows fetched from the database per round trip while streaming.
FETCH_SIZE = 2000


#: The one query's columns, in sheet order (see `sheet_row`).
EXPORT_COLUMNS = (
    col(Visit.visit_date),
    col(SchoolClass.name),
    col(Student.student_no),
    col(Student.name),
    col(Student.tags),
    col(Staff.name),
    col(Staff.staff_no),
    col(Visit.form),
    col(Visit.category),
    col(Visit.met),
    col(Visit.school_report),
    col(Visit.home_learned),
    col(Visit.family),
    col(Visit.guidance),
    col(Visit.measures),
    col(Visit.problems),
    col(Visit.needs_school),
    col(Visit.notes),
    col(Visit.created_at),
    col(Visit.channel),
)

#: Where the student's tags are among them (each tagged student's read is audited).
TAGS_COLUMN = next(i for i, c in enumerate(EXPORT_COLUMNS) if c is col(Student.tags))


def _query(
    school_id: int, date_from: date, date_to: date, class_id: int | None
) -> Select[*tuple[Any, ...]]:
    query = (
        select(*EXPORT_COLUMNS, col(Student.id))
        .join(Student, col(Student.id) == col(Visit.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .join(Staff, col(Staff.id) == col(Visit.teacher_id))
        .where(
            col(Visit.school_id) == school_id,
            col(Visit.visit_date) >= date_from,
            col(Visit.visit_date) <= date_to,
        )
        .order_by(col(Visit.visit_date), col(Visit.created_at), col(Visit.id))
    )
    if class_id is not None:
        query = query.where(col(Student.class_id) == class_id)
    return query.execution_options(yield_per=FETCH_SIZE)


def sheet_row(row: Any, zone: ZoneInfo) -> list[Any]:
    """One database row (`EXPORT_COLUMNS`) → the cells of one sheet row (labels in Chinese, times in `zone`)."""
    (
        visit_date,
        class_name,
        student_no,
        student_name,
        tags,
        teacher_name,
        staff_no,
        form,
        category,
        met,
        school_report,
        home_learned,
        family,
        guidance,
        measures,
        problems,
        needs_school,
        notes,
        created_at,
        channel,
    ) = row
    return [
        visit_date,
        class_name,
        student_no,
        student_name,
        "、".join(t for t in tags.split(",") if t),
        teacher_name,
        staff_no,
        FORM_LABELS[VisitForm(form)],
        CATEGORY_LABELS[VisitCategory(category)],
        met,
        school_report,
        home_learned,
        family,
        guidance,
        measures,
        problems,
        "是" if needs_school else "否",
        notes,
        excel_time(created_at, zone),
        CHANNEL_LABELS.get(channel, channel),
    ]


def _cells(values: list[Any]) -> list[Any]:
    """Empty texts become no cell at all: sections are often skipped, and every cell costs time.

    Dates and times need nothing more: openpyxl stores them as Excel serial numbers formatted
    `yyyy-mm-dd` and `yyyy-mm-dd h:mm:ss`.
    """
    return [None if value == "" else value for value in values]


async def _find_class(session: AsyncSession, school: School, class_name: str) -> SchoolClass:
    """The class however it is spelt (`三(2)班`, `3-2`, `三年级2班`), or a clear error."""
    query = sqlmodel_select(SchoolClass).where(SchoolClass.school_id == school.id)
    try:
        grade, number = parse_class_name(class_name)
    except ValueError:
        found = (await session.exec(query.where(SchoolClass.name == class_name.strip()))).first()
    else:
        found = (
            await session.exec(
                query.where(SchoolClass.grade == grade, SchoolClass.number == number)
            )
        ).first()
    if found is not None:
        return found
    names = (
        await session.exec(
            sqlmodel_select(SchoolClass.name)
            .where(SchoolClass.school_id == school.id)
            .order_by(col(SchoolClass.grade), col(SchoolClass.number))
        )
    ).all()
    known = "、".join(names) if names else "（还没有任何班级）"
    raise ExportError(f"没有找到班级“{class_name.strip()}”。本校的班级有：{known}")


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise ExportError(
            f"开始日期 {date_from.isoformat()} 晚于结束日期 {date_to.isoformat()}，"
            "请检查 --from 和 --to。"
        )


async def export_visits(
    db: Database,
    *,
    date_from: date,
    date_to: date,
    class_name: str | None,
    path: Path,
    school_name: str | None = None,
) -> int:
    """Write the visits of `date_from`..`date_to` (inclusive) to `path`; returns the row count."""
    check_range(date_from, date_to)
    path = output_path(path)
    count = 0
    async with db.session() as session:
        school = await export_school(session, school_name)
        klass = await _find_class(session, school, class_name) if class_name else None
        zone = ZoneInfo(school.timezone)
        # Created only once the request is known to be valid: nothing half-written on errors.
        workbook = Workbook(write_only=True)
        sheet = table_sheet(workbook, "家访记录", COLUMNS)
        result = await session.stream(
            _query(school.id or 0, date_from, date_to, klass.id if klass else None)
        )
        tagged: set[int] = set()
        async for row in result:
            *cells, student_id = row
            sheet.append(_cells(sheet_row(cells, zone)))
            count += 1
            if cells[TAGS_COLUMN]:
                tagged.add(student_id)
    scope = klass.name if klass else "全校"
    await save_audited(
        db,
        workbook,
        path,
        action="export.visits",
        subject=f"school:{school.id}",
        detail=f"{date_from.isoformat()}~{date_to.isoformat()} {scope} {count} rows",
        tags_shown=tagged,
    )
    return count


async def run_export_visits(
    settings: Settings,
    *,
    date_from: date,
    date_to: date,
    class_name: str | None,
    output: Path,
) -> int:
    """`python -m bot export visits …`: export and say what was written."""
    check_range(date_from, date_to)
    span = f"{date_from.isoformat()} 至 {date_to.isoformat()}"
    scope = _display_class(class_name) if class_name else "全校"

    def said(count: int) -> str:
        if count == 0:
            return f"{span}（{scope}）没有家访记录；已写出只有表头的文件 {output}。"
        return f"已导出 {count} 条家访记录（{span}，{scope}）到 {output}。"

    return await run_export(
        settings,
        lambda db: export_visits(
            db,
            date_from=date_from,
            date_to=date_to,
            class_name=class_name,
            path=output,
            school_name=settings.school_name,
        ),
        said,
    )


def _display_class(class_name: str) -> str:
    try:
        return normalise_class_name(class_name)
    except ValueError:
        return class_name.strip()
