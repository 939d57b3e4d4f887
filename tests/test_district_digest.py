"""The district digest's text and chart: totals first, one line per school by concern, no
person's name anywhere, and a chart of the schools' rates side by side in a child process."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from handlers.chart_drawing import draw
from handlers.district import district_chart_spec, district_digest_text, draw_district_chart
from handlers.i18n import translator
from models.db.engine import Database
from models.district.compliance import DistrictReport, district_compliance
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
