"""The school calendar (校历): the sheet's rules, `calendar import` / `calendar show`, `/calendar`,
and a school without a calendar being told so."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.errors import CalendarError
from models.school.calendar_sheet import parse_calendar, parse_date
from models.school.tables import CalendarDay, CalendarDayKind, Term, TermKind
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.visits import chat_as

__all__ = ["cli_environment"]

HEADER = ["类型", "名称", "开始日期", "结束日期"]
GOOD = [
    HEADER,
    ["学年", "2026-2027学年", "2026-09-01", "2027-08-31"],
    ["学期", "第一学期", "2026-09-01", "2027-01-22"],
    ["寒假", "", "2027-01-23", "2027-02-21"],
    ["学期", "", "2027-02-22", "2027-07-02"],
    ["暑假", "暑假", "2027-07-03", "2027-08-31"],
    ["放假", "运动会", "2026-11-19", "2026-11-20"],
    ["调休上课", "补国庆", "2026-10-11", ""],
]


def numbered(rows: list[list[str]]) -> list[tuple[int, list[str]]]:
    return list(enumerate(rows, start=1))


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2027-02-17", date(2027, 2, 17)),
        ("2027/2/17", date(2027, 2, 17)),
        ("2027.2.17", date(2027, 2, 17)),
        ("2027年2月17日", date(2027, 2, 17)),
        ("２０２７年２月１７日", date(2027, 2, 17)),  # typed with a full-width input method
        ("2027 年 2 月 17 日", date(2027, 2, 17)),
        ("46435", date(2027, 2, 17)),  # an Excel serial number
        ("2027-02-17 00:00:00", date(2027, 2, 17)),
        ("2027-02-30", None),
        ("明天", None),
        ("", None),
        ("17", None),  # a number too small to be an Excel date here
        ("2027年13月1日", None),
    ],
)
def test_dates_as_schools_type_them(text: str, day: date | None) -> None:
    assert parse_date(text) == day


def test_a_good_sheet_becomes_the_school_years_plan() -> None:
    plan = parse_calendar(numbered(GOOD))
    assert (plan.year_name, plan.first, plan.last) == (
        "2026-2027学年",
        date(2026, 9, 1),
        date(2027, 8, 31),
    )
    assert [(t.kind, t.name, t.start, t.end) for t in plan.terms] == [
        (TermKind.SEMESTER, "第一学期", date(2026, 9, 1), date(2027, 1, 22)),
        (TermKind.WINTER_BREAK, "寒假", date(2027, 1, 23), date(2027, 2, 21)),
        (TermKind.SEMESTER, "第二学期", date(2027, 2, 22), date(2027, 7, 2)),
        (TermKind.SUMMER_BREAK, "暑假", date(2027, 7, 3), date(2027, 8, 31)),
    ]
    assert [(d.kind, d.name, d.day) for d in plan.days] == [
        (CalendarDayKind.SCHOOL_DAY, "补国庆", date(2026, 10, 11)),
        (CalendarDayKind.OFF, "运动会", date(2026, 11, 19)),
        (CalendarDayKind.OFF, "运动会", date(2026, 11, 20)),
    ]


def _with(row: int, cells: list[str]) -> list[list[str]]:
    rows = [list(r) for r in GOOD]
    rows[row - 1] = cells
    return rows


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            _with(3, ["学期", "第一学期", "2026-09-01", "2027-02-30"]),
            "校历 第 3 行 D 列（结束日期）：“2027-02-30”不是有效日期",
        ),
        (
            _with(4, ["寒假", "", "2027-01-10", "2027-02-21"]),
            "校历 第 4 行 C 列（开始日期）：“寒假”（2027-01-10 至 2027-02-21）与第 3 行的"
            "“第一学期”（2026-09-01 至 2027-01-22）重叠",
        ),
        (
            _with(6, ["暑假", "暑假", "2027-07-03", "2027-09-05"]),
            "校历 第 6 行 D 列（结束日期）：“暑假”（2027-07-03 至 2027-09-05）"
            "不在学年 2026-09-01 至 2027-08-31 之内",
        ),
        (
            _with(7, ["放假", "运动会", "2026-11-20", "2026-11-19"]),
            "校历 第 7 行 D 列（结束日期）：结束日期 2026-11-19 早于开始日期 2026-11-20",
        ),
        (
            _with(7, ["春游", "", "2026-11-20", ""]),
            "校历 第 7 行 A 列（类型）：“春游”不是可用的类型",
        ),
        (
            _with(7, ["放假", "", "", ""]),
            "校历 第 7 行 C 列（开始日期）：空白不是有效日期",
        ),
        (
            _with(7, ["放假", "秋游", "2026-10-11", ""]),
            "校历 第 8 行 C 列（开始日期）：2026-10-11 在第 7 行已是放假日，不能同时是调休上课日",
        ),
        (
            _with(2, ["学期", "第一学期", "2026-09-01", "2027-01-22"]),
            "校历：缺少“学年”一行",
        ),
        (
            [["种类", "名称", "开始日期"], *GOOD[1:]],
            "校历 第 1 行（标题）：缺少“类型”列",
        ),
    ],
)
def test_each_problem_is_named_by_sheet_row_and_column(rows: list[list[str]], problem: str) -> None:
    with pytest.raises(CalendarError) as refused:
        parse_calendar(numbered(rows))
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_every_problem_is_listed_at_once() -> None:
    rows = _with(3, ["学期", "第一学期", "2026-09-01", "2027-02-30"])
    rows[5] = ["暑假", "暑假", "2027-07-03", "2027-09-05"]
    rows.append(["春游", "", "2026-11-20", ""])
    with pytest.raises(CalendarError) as refused:
        parse_calendar(numbered(rows))
    assert [p.split("：")[0] for p in refused.value.problems] == [
        "校历 第 3 行 D 列（结束日期）",
        "校历 第 9 行 A 列（类型）",
        "校历 第 6 行 D 列（结束日期）",
    ]


# -- the command line ---------------------------------------------------------------------------


def workbook(path: Path, rows: list[list[object]], sheet: str = "校历") -> Path:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "说明"
    first.append(["本工作簿的“校历”表可导入"])
    calendar = book.create_sheet(sheet)
    for row in rows:
        calendar.append(row)
    book.save(path)
    return path


async def stored(db: Database) -> tuple[list[tuple[str, date, date]], list[tuple[str, date]]]:
    async with db.session() as session:
        terms = (await session.exec(select(Term).order_by(col(Term.start_date)))).all()
        days = (await session.exec(select(CalendarDay).order_by(col(CalendarDay.day)))).all()
    return (
        [(t.name, t.start_date, t.end_date) for t in terms],
        [(d.name, d.day) for d in days],
    )


@pytest.mark.usefixtures("cli_environment")
async def test_an_excel_calendar_with_date_cells_and_serials_is_imported_and_shown(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    rows: list[list[object]] = [
        [*HEADER],
        ["学年", "2026-2027学年", datetime(2026, 9, 1), datetime(2027, 8, 31)],
        ["学期", "第一学期", datetime(2026, 9, 1), 46409],  # 46409: 22 January 2027
        ["寒假", "寒假", "2027年1月23日", "2027年2月21日"],
        ["学期", "第二学期", "2027/2/22", "2027/7/2"],
        ["暑假", "暑假", "2027.7.3", "2027.8.31"],
        ["放假", "运动会", datetime(2026, 11, 20), None],
    ]
    path = workbook(tmp_path / "校历.xlsx", rows)

    assert await run_main("calendar", "import", str(path)) == 0
    out = capsys.readouterr().out
    assert "已导入「测试小学」2026-2027学年校历：2 个学期，假期 寒假、暑假；学校放假 1 天" in out

    terms, days = await stored(db)
    assert terms == [
        ("第一学期", date(2026, 9, 1), date(2027, 1, 22)),
        ("寒假", date(2027, 1, 23), date(2027, 2, 21)),
        ("第二学期", date(2027, 2, 22), date(2027, 7, 2)),
        ("暑假", date(2027, 7, 3), date(2027, 8, 31)),
    ]
    assert days == [("运动会", date(2026, 11, 20))]

    assert await run_main("calendar", "show", "--today", "2026-12-07") == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == "2026-2027学年校历"
    # 1 Sep – 22 Jan: 104 weekdays (22 + 22 + 21 + 23 + 16), less 7 statutory weekdays off
    # (中秋 25 Sep; 国庆 1, 2, 5, 6, 7 Oct; 元旦) and the sports day, plus the 调休 Sunday
    # 20 September and Saturday 10 October: 98.
    assert shown[1] == "第一学期 2026-09-01 至 2027-01-22（上学日 98 天）"
    assert "学校放假：2026-11-20 运动会" in shown
    assert "法定调休上课日：2026-09-20；2026-10-10" in shown
    assert any(line.startswith("2027 年的法定调休安排尚未收录") for line in shown)


@pytest.mark.usefixtures("cli_environment")
async def test_a_gbk_csv_is_read_and_a_reimport_replaces_the_year(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    first = tmp_path / "first.csv"
    first.write_bytes("\n".join(",".join(row) for row in GOOD).encode("gbk"))
    assert await run_main("calendar", "import", str(first)) == 0

    again = [list(row) for row in GOOD[:6]]
    again[2][3] = "2027-01-29"
    again[3][2] = "2027-01-30"
    second = tmp_path / "second.csv"
    second.write_bytes("\n".join(",".join(row) for row in again).encode("gbk"))
    assert await run_main("calendar", "import", str(second)) == 0

    terms, days = await stored(db)
    assert terms[0] == ("第一学期", date(2026, 9, 1), date(2027, 1, 29))
    assert terms[1] == ("寒假", date(2027, 1, 30), date(2027, 2, 21))
    assert days == []
    async with db.session() as session:
        actions = (await session.exec(select(AuditEntry.action))).all()
    assert actions.count("calendar.import") == 2


@pytest.mark.usefixtures("cli_environment")
async def test_a_calendar_with_problems_imports_nothing(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    rows: list[list[object]] = [[str(c) for c in row] for row in GOOD]
    rows[3] = ["寒假", "", "2027-01-10", "2027-02-21"]
    path = workbook(tmp_path / "校历.xlsx", rows)

    assert await run_main("calendar", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert "校历 第 4 行 C 列（开始日期）" in err
    assert "校历未导入，数据库没有任何改动。" in err
    assert await stored(db) == ([], [])

    missing = workbook(tmp_path / "other.xlsx", rows, sheet="Sheet2")
    assert await run_main("calendar", "import", str(missing)) == 1
    assert "缺少工作表“校历”（现有工作表：说明、Sheet2）" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_environment")
async def test_show_without_a_calendar_says_what_to_do(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    assert await run_main("calendar", "show", "--today", "2026-12-07") == 1
    assert "本校还没有导入2026-2027学年的校历" in capsys.readouterr().out


# -- /calendar ----------------------------------------------------------------------------------


async def test_staff_see_the_calendar_and_are_told_when_there_is_none(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/calendar")
    assert user.text.startswith("本校还没有导入2026-2027学年的校历")
    assert "python -m bot calendar import" in user.text

    from models.school.calendar_store import replace_calendar

    async with db.session() as session:
        await replace_calendar(
            session=session,
            school_id=ts.school.id or 0,
            plan=parse_calendar(numbered(GOOD)),
            actor="test",
        )
    await user.send("校历")
    lines = user.text.splitlines()
    assert lines[0] == "2026-2027学年校历"
    assert lines[2] == "寒假 2027-01-23 至 2027-02-21"
    assert "调休上课：2026-10-11 补国庆" in lines
