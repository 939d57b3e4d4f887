"""The district digest's text and chart: totals first, one line per school by concern, no
person's name anywhere, and a chart of the schools' rates side by side in a child process."""

from __future__ import annotations

import io
import warnings
from datetime import date

import pytest
from PIL import Image

from handlers.chart_drawing import draw
from handlers.district import (
    EVERY_SCHOOL_UP_TO,
    SCHOOLS_SHOWN,
    district_chart_spec,
    district_digest_text,
    draw_district_chart,
)
from handlers.i18n import translator
from models.db.engine import Database
from models.district.compliance import DistrictReport, SchoolCompliance, district_compliance
from tests.helpers.district import FIRST, NOW, PEOPLE, SECOND, TODAY, build_district

ZH = translator("zh")


async def _report(db: Database) -> DistrictReport:
    await build_district(db)
    async with db.session() as session:
        return await district_compliance(session, today=TODAY, now=NOW)


async def test_the_digest_gives_the_district_first_then_each_school_by_concern(
    db: Database,
) -> None:
    text = district_digest_text(ZH, await _report(db))
    lines = text.splitlines()
    assert lines[0] == "区域家访合规日报 · 11月16日"
    assert lines[1] == "全区 2 所学校 · 在校学生 6 人 · 教职工 5 人"
    assert (
        "· 本月家访指标（11月1日至11月15日）：完成 16/23（70%）；按进度的教师 2/4（50%）" in lines
    )
    assert "· 本学年入户率：4/6（67%）" in lines
    assert "· 立即家访逾期 2 项 · 突发事件未联系上家长 1 起 · 台账逾期 1 条" in lines
    assert "· 近 30 天通知回执：3/4（75%），共 1 则通知" in lines
    first = lines.index(
        f"1. {FIRST}：突发事件未联系上家长 1 起 · 立即家访逾期 2 项 · 台账逾期 1 条；"
        "指标 85% · 按进度 1/2 人 · 入户 75% · 回执 75%"
    )
    second = lines.index(
        f"2. {SECOND}：指标 50% · 按进度 1/2 人 · 入户 50% · 回执 —（未导入本学年校历）"
    )
    assert first + 1 == second


async def test_no_childs_guardians_or_teachers_name_is_in_the_digest(db: Database) -> None:
    report = await _report(db)
    for language in ("zh", "en"):
        text = district_digest_text(translator(language), report)
        assert [name for name in PEOPLE if name in text] == []


async def test_the_digest_reads_in_english_for_an_english_reader(db: Database) -> None:
    text = district_digest_text(translator("en"), await _report(db))
    assert "District home-visit compliance" in text
    assert "班" not in text.replace(FIRST, "").replace(SECOND, "")


async def test_an_empty_district_gives_a_digest_of_zeros_and_no_chart(db: Database) -> None:
    async with db.session() as session:
        report = await district_compliance(session, today=TODAY, now=NOW)
    text = district_digest_text(ZH, report)
    assert "全区 0 所学校" in text and "本学年入户率：—" in text
    assert district_chart_spec(ZH, report) is None
    assert await draw_district_chart(ZH, report) is None


async def test_the_chart_has_three_bars_per_school_with_the_rates(db: Database) -> None:
    spec = district_chart_spec(ZH, await _report(db))
    assert spec is not None
    assert spec.names == (FIRST, SECOND)
    assert spec.series == (
        ("本月指标完成率", (85, 50)),
        ("本学年入户率", (75, 50)),
        ("近30天回执率", (75, None)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        png = draw(spec)
    assert png is not None


async def test_the_chart_is_drawn_in_a_child_process_as_a_png(db: Database) -> None:
    png = await draw_district_chart(ZH, await _report(db))
    assert png is not None
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size[1] == 480


# -- a large district: the schools most in need of attention, then one line for the rest --------


def _district_of(schools: int, *, overdue_after_ten: int = 0) -> DistrictReport:
    """`schools` schools by concern: the first ten with an overdue immediate visit each, then
    `overdue_after_ten` with an overdue ledger item, then schools with nothing overdue."""
    found = [
        SchoolCompliance(
            school_id=n,
            name=f"第{n:03d}小学",
            students=100,
            homes_visited=90,
            overdue_duties=1 if n <= 10 else 0,
            ledger_overdue=1 if 10 < n <= 10 + overdue_after_ten else 0,
        )
        for n in range(1, schools + 1)
    ]
    return DistrictReport(today=date(2026, 11, 16), day=date(2026, 11, 15), now=NOW, schools=found)


def _school_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:1].isdigit() and "小学：" in line]


@pytest.mark.parametrize(
    ("schools", "listed"),
    [(1, 1), (EVERY_SCHOOL_UP_TO, EVERY_SCHOOL_UP_TO), (EVERY_SCHOOL_UP_TO + 1, SCHOOLS_SHOWN)],
)
def test_a_district_of_up_to_fifteen_schools_lists_them_all_and_a_larger_one_ten(
    schools: int, listed: int
) -> None:
    text = district_digest_text(ZH, _district_of(schools))
    assert len(_school_lines(text)) == listed
    assert ("全部学校的数字见区域合规表" in text) == (listed < schools)


def test_a_hundred_schools_give_the_totals_the_ten_most_in_need_and_one_line_for_the_rest() -> None:
    report = _district_of(100, overdue_after_ten=3)
    text = district_digest_text(ZH, report)
    lines = text.splitlines()
    assert lines[1] == "全区 100 所学校 · 在校学生 10,000 人 · 教职工 0 人"
    assert "· 立即家访逾期 10 项 · 突发事件未联系上家长 0 起 · 台账逾期 3 条" in lines
    heading = lines.index("【最需要关注的 10 所学校】")
    assert _school_lines(text) == lines[heading + 1 : heading + 11]
    assert lines[heading + 1].startswith("1. 第001小学：立即家访逾期 1 项；")
    assert lines[heading + 10].startswith("10. 第010小学：")
    assert lines[heading + 11] == (
        "其余 90 所学校排在以上各校之后，其中 3 所仍有逾期或未联系上家长的事项；"
        "全部学校的数字见区域合规表（由系统管理员用 export district 导出）。"
    )
    assert "第011小学" not in text
    assert len(text) < 2_000


def test_the_rest_line_says_when_none_of_the_rest_has_anything_overdue() -> None:
    text = district_digest_text(ZH, _district_of(40))
    assert "其余 30 所学校排在以上各校之后，都没有逾期或未联系上家长的事项；" in text


def test_the_rest_line_reads_in_english_for_an_english_reader() -> None:
    text = district_digest_text(translator("en"), _district_of(40, overdue_after_ten=2))
    assert "[The 10 schools most in need of attention]" in text
    assert (
        "30 more schools rank after these, 2 of them still with something overdue or guardians "
        "not reached. Every school's figures are in the district sheet"
    ) in text


def test_the_operator_s_digest_lists_every_school_of_a_large_district() -> None:
    text = district_digest_text(ZH, _district_of(100), every_school=True)
    assert len(_school_lines(text)) == 100
    assert "【各校】需要关注的学校在前" in text and "其余" not in text
