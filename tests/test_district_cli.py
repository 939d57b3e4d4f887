"""`district digest` and `export district`: every school side by side from the command line,
counts only, and one clear line for an empty database or a bad date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.district_cli import report_moment
from bot.settings import Settings
from models.db.engine import Database
from models.school.config import SchoolConfig
from tests.helpers.cli import run_main
from tests.helpers.district import (
    FIRST,
    NOW,
    PEOPLE,
    REST_OF_A_LARGE_DISTRICT,
    SECOND,
    as_a_large_district,
    build_district,
)

pytestmark = pytest.mark.usefixtures("cli_environment")

DATE = "2026-11-16"


async def test_the_digest_prints_every_school_with_no_persons_name(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_district(db)
    code = await run_main("district", "digest", "--date", DATE)
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("区域家访合规日报 · 11月16日\n全区 2 所学校")
    assert out.index(f"1. {FIRST}：突发事件未联系上家长 1 起") < out.index(f"2. {SECOND}：")
    assert [name for name in PEOPLE if name in out] == []


async def test_the_operator_s_digest_lists_every_school_of_a_large_district(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_large_district(monkeypatch)
    await build_district(db)
    assert await run_main("district", "digest", "--date", DATE) == 0
    out = capsys.readouterr().out
    assert f"1. {FIRST}：" in out and f"2. {SECOND}：" in out
    assert "【各校】需要关注的学校在前" in out and REST_OF_A_LARGE_DISTRICT not in out


async def test_the_digest_writes_its_chart_when_asked(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_district(db)
    chart = tmp_path / "各校.png"
    code = await run_main("district", "digest", "--date", DATE, "--chart", str(chart))
    assert code == 0
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert f"图表已写入 {chart}" in capsys.readouterr().out


async def test_the_export_has_a_row_per_school_the_totals_and_the_definitions(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_district(db)
    out = tmp_path / "区域合规.xlsx"
    code = await run_main("export", "district", "-o", str(out), "--date", DATE)
    assert code == 0
    assert f"已导出 2 所学校的家访合规情况到 {out}" in capsys.readouterr().out
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["各校", "说明"]
    rows = list(workbook["各校"].iter_rows(values_only=True))
    header = rows[0]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert list(by_name) == [FIRST, SECOND, "全区合计"]
    first = by_name[FIRST]
    assert (first["在校学生"], first["计入指标（次）"], first["本月指标（次）"]) == (4, 11, 13)
    assert (first["指标完成率（%）"], first["入户率（%）"], first["回执率（%）"]) == (85, 75, 75)
    assert (first["立即家访逾期"], first["突发事件未联系上家长"], first["台账逾期"]) == (2, 1, 1)
    assert by_name[SECOND]["回执率（%）"] is None
    assert by_name[SECOND]["已导入本学年校历"] == "否"
    assert (by_name["全区合计"]["在校学生"], by_name["全区合计"]["入户率（%）"]) == (6, 67)
    notes = {row[0]: row[1] for row in workbook["说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["日报日期"] == DATE and any("入户率" in str(term) for term in notes)
    cells = " ".join(
        str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row
    )
    assert [name for name in PEOPLE if name in cells] == []


@pytest.mark.parametrize(
    "argv",
    [["district", "digest"], ["export", "district", "-o", "district.xlsx"]],
    ids=["digest", "export"],
)
async def test_an_empty_database_is_one_clear_line(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code = await run_main(*argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("错误：数据库里还没有学校") and "Traceback" not in err
    assert not (tmp_path / "district.xlsx").exists()


async def test_a_morning_still_to_come_is_refused(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_district(db)
    code = await run_main("district", "digest", "--date", "2099-01-01")
    assert code == 2
    assert "2099-01-01 还没有到" in capsys.readouterr().err


def test_today_is_read_now_and_an_earlier_morning_at_its_digest_time() -> None:
    settings = Settings()
    clock = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    assert report_moment(settings, None, clock).now == clock
    assert report_moment(settings, date(2026, 11, 16), clock).now == clock
    earlier = report_moment(settings, date(2026, 11, 16), datetime(2026, 11, 20, tzinfo=UTC))
    assert (earlier.today, earlier.now) == (date(2026, 11, 16), NOW)


async def test_each_school_is_counted_by_its_own_rules(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    district = await build_district(db)
    async with db.session() as session:
        session.add(
            SchoolConfig(school_id=district.second_id, rules={"video_visit_counts_as": "home"})
        )
        await session.commit()
    code = await run_main("district", "digest", "--date", DATE)
    out = capsys.readouterr().out
    assert code == 0
    # its video visit counts as a visit (6/10) and as 入户 (2/2)
    assert f"{SECOND}：指标 60% · 按进度 1/2 人 · 入户 100%" in out
    assert "入户 75%" in out  # the first school's own count is unchanged
