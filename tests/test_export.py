"""The visits export round trip: write visits through `models`, export, read back with openpyxl."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.exports.visits import HEADERS, export_visits
from bot.exports.xlsx import ExportError
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.helpers import factories
from tests.helpers.factories import seed_school

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


async def _visit(
    db: Database,
    ts: factories.TestSchool,
    student: str,
    day: date,
    teacher: str = "王芳",
    **fields: Any,
) -> None:
    values: dict[str, Any] = {
        "form": VisitForm.HOME,
        "category": VisitCategory.ROUTINE,
        "channel": "telegram",
        "created_at": datetime(2026, 11, 16, 2, 30, tzinfo=UTC),
        **fields,
    }
    async with db.session() as session:
        session.add(
            Visit(
                school_id=ts.school.id or 0,
                teacher_id=ts.staff[teacher].id or 0,
                student_id=ts.students[student].id or 0,
                visit_date=day,
                **values,
            )
        )


async def _export(
    db: Database, path: Path, class_name: str | None = None, *, span: tuple[date, date] = NOVEMBER
) -> list[tuple[Any, ...]]:
    await export_visits(db, date_from=span[0], date_to=span[1], class_name=class_name, path=path)
    sheet = load_workbook(path).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


async def test_the_header_row_is_chinese_bold_and_frozen(db: Database, tmp_path: Path) -> None:
    await seed_school(db)
    path = tmp_path / "visits.xlsx"
    await export_visits(db, date_from=NOVEMBER[0], date_to=NOVEMBER[1], class_name=None, path=path)
    sheet = load_workbook(path).active
    assert sheet is not None
    assert tuple(c.value for c in sheet[1]) == HEADERS
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["K"].width == 30


async def test_a_visit_becomes_one_row_with_chinese_labels(db: Database, tmp_path: Path) -> None:
    ts = await seed_school(db)
    await _visit(
        db,
        ts,
        "张小明",
        date(2026, 11, 10),
        form=VisitForm.PHONE,
        category=VisitCategory.KEY,
        met="奶奶",
        school_report="作业按时完成",
        home_learned="会做家务",
        family="父母在外地打工",
        guidance="多鼓励",
        measures="每周电话一次",
        problems="情绪低落",
        needs_school=True,
        notes="一句话记录",
    )
    rows = await _export(db, tmp_path / "v.xlsx")
    assert rows[1:] == [
        (
            datetime(2026, 11, 10),
            "三(2)班",
            "S007",
            "张小明",
            "单亲、留守",
            "王芳",
            "T01",
            "电访",
            "重点",
            "奶奶",
            "作业按时完成",
            "会做家务",
            "父母在外地打工",
            "多鼓励",
            "每周电话一次",
            "情绪低落",
            "是",
            "一句话记录",
            datetime(2026, 11, 16, 10, 30),  # 02:30 UTC in Shanghai
            "Telegram",
        )
    ]


async def test_dates_are_real_excel_dates(db: Database, tmp_path: Path) -> None:
    ts = await seed_school(db)
    await _visit(db, ts, "李娜", date(2026, 11, 3))
    path = tmp_path / "v.xlsx"
    await _export(db, path)
    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet["A2"].is_date
    assert sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["S2"].is_date


async def test_rows_come_in_date_order_within_the_inclusive_range(
    db: Database, tmp_path: Path
) -> None:
    ts = await seed_school(db)
    for name, day in [
        ("李娜", date(2026, 11, 30)),
        ("张小明", date(2026, 11, 1)),
        ("王磊", date(2026, 10, 31)),
        ("刘洋", date(2026, 12, 1)),
        ("陈静", date(2026, 11, 15)),
    ]:
        await _visit(db, ts, name, day)
    rows = await _export(db, tmp_path / "v.xlsx")
    assert [(r[0].date(), r[3]) for r in rows[1:]] == [
        (date(2026, 11, 1), "张小明"),
        (date(2026, 11, 15), "陈静"),
        (date(2026, 11, 30), "李娜"),
    ]


@pytest.mark.parametrize("spelling", ["三(2)班", "三（2）班", "3-2", "三年级2班", "3(2)"])
async def test_the_class_filter_accepts_any_spelling(
    db: Database, tmp_path: Path, spelling: str
) -> None:
    ts = await seed_school(db)
    await _visit(db, ts, "张小明", date(2026, 11, 10))
    await _visit(db, ts, "李华", date(2026, 11, 11))
    rows = await _export(db, tmp_path / "v.xlsx", spelling)
    assert [r[3] for r in rows[1:]] == ["张小明"]


async def test_an_unknown_class_is_a_clear_error_naming_the_real_ones(
    db: Database, tmp_path: Path
) -> None:
    await seed_school(db)
    with pytest.raises(
        ExportError, match=r"没有找到班级“五\(3\)班”.*三\(1\)班、三\(2\)班、四\(1\)班"
    ):
        await _export(db, tmp_path / "v.xlsx", "五(3)班")
    assert not (tmp_path / "v.xlsx").exists()


async def test_from_after_to_is_refused(db: Database, tmp_path: Path) -> None:
    await seed_school(db)
    with pytest.raises(ExportError, match="晚于结束日期"):
        await _export(db, tmp_path / "v.xlsx", span=(date(2026, 12, 1), date(2026, 11, 1)))


async def test_no_visits_still_writes_the_header(db: Database, tmp_path: Path) -> None:
    await seed_school(db)
    rows = await _export(db, tmp_path / "v.xlsx")
    assert rows == [HEADERS]


async def test_an_export_is_audited_with_its_range_and_count(db: Database, tmp_path: Path) -> None:
    ts = await seed_school(db)
    await _visit(db, ts, "张小明", date(2026, 11, 10))
    await _export(db, tmp_path / "v.xlsx", "3-2")
    async with db.session() as session:
        entry = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "export.visits"))
        ).one()
    assert entry.detail == "2026-11-01~2026-11-30 三(2)班 1 rows"
