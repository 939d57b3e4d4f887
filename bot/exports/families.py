"""`python -m bot export families -o FILE.xlsx`: every active student with the household as the
visits recorded it (seed 003 附2), one row each, for 德育处's statistics.

Students without a recorded household are listed too (their fields empty), so the file counts
how many households are still unknown. Sorted by class and student number.
"""

from __future__ import annotations

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
from bot.settings import Settings
from models.db.engine import Database
from models.families.rules import FIELDS, label_of
from models.families.tables import FamilyProfile
from models.roster.tables import Student
from models.school.tables import SchoolClass

COLUMNS: tuple[tuple[str, int], ...] = (
    ("班级", 10),
    ("学号", 12),
    ("学生", 10),
    ("特殊类型", 14),
    *((spec.name, 12) for spec in FIELDS),
    ("登记时间", 18),
)


def family_row(
    klass: str, student: Student, profile: FamilyProfile | None, zone: ZoneInfo
) -> list[Any]:
    """One student's cells: the roster's columns, then each household field (empty if unknown)."""
    cells: list[Any] = [klass, student.student_no, student.name, "、".join(student.tag_list())]
    for spec in FIELDS:
        value = getattr(profile, spec.field.value) if profile is not None else None
        if value is None:
            cells.append(None)
        elif isinstance(value, int) and not isinstance(value, bool):
            cells.append(value)  # counts stay numbers, for the sheet's sums
        else:
            cells.append(label_of(spec, value))
    cells.append(excel_time(profile.updated_at, zone) if profile is not None else None)
    return cells


async def export_families(db: Database, *, path: Path, school_name: str | None = None) -> int:
    """Write every active student's household to `path`; how many had one recorded."""
    path = output_path(path)
    recorded = 0
    async with db.session() as session:
        school = await export_school(session, school_name)
        zone = ZoneInfo(school.timezone)
        query = (
            select(SchoolClass.name, Student, FamilyProfile)
            .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
            .outerjoin(FamilyProfile, col(FamilyProfile.student_id) == col(Student.id))
            .where(Student.school_id == school.id, col(Student.active))
            .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
        )
        rows = (await session.exec(query)).all()
        workbook = Workbook(write_only=True)
        sheet = table_sheet(workbook, "家庭情况", COLUMNS)
        tagged: list[int] = []
        for klass, student, profile in rows:
            sheet.append(family_row(klass, student, profile, zone))
            recorded += profile is not None
            if student.tags:
                tagged.append(student.id or 0)
    await save_audited(
        db,
        workbook,
        path,
        action="export.families",
        subject=f"school:{school.id}",
        detail=f"{len(rows)} students, {recorded} households recorded",
        tags_shown=tagged,
    )
    return recorded


async def run_export_families(settings: Settings, *, output: Path) -> int:
    """`python -m bot export families -o FILE.xlsx`: export and say what was written."""
    return await run_export(
        settings,
        lambda db: export_families(db, path=output, school_name=settings.school_name),
        lambda count: f"已导出全校学生的家庭情况到 {output}（已登记 {count} 户）。",
    )
