"""The digest's chart: Chinese labels render with a CJK font, and the PNG is a sensible image."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import warnings
from collections.abc import Callable, Iterator

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from PIL import Image

from handlers import chart_drawing as chart
from handlers.chart import chart_spec, completion_chart
from handlers.chart_drawing import ChartSpec, cjk_font
from handlers.chart_process import AT_ONCE, close_children, draw_completion_chart, draw_in_child
from handlers.i18n import translator
from models.digest.queries import ClassCompletion
from tests.helpers.charts import child_pids, figures_with


def png_size(png: bytes) -> tuple[str | None, tuple[int, int]]:
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        return image.format, image.size


def test_the_chart_font_has_every_chinese_character_the_chart_shows() -> None:
    font = cjk_font()
    assert font is not None
    path = font_manager.findfont(font, fallback_to_default=False)
    face = FT2Font(path, face_index=getattr(path, "face_index", 0))
    shown = "一二三四五六班月完成率指标次按进度应达截至日（）%" + "班主任家访"
    assert [ch for ch in shown if not face.get_char_index(ord(ch))] == []
    assert "CJK" in face.family_name or "WenQuanYi" in face.family_name


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_chart_draws_without_a_missing_glyph(language: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        png = completion_chart(figures_with(12), translator(language))
    assert png is not None


def test_the_chart_is_a_png_of_sensible_size() -> None:
    png = completion_chart(figures_with(12), translator("zh"))

    assert png is not None
    assert png_size(png) == ("PNG", (700, 480))
    assert 10_000 < len(png) < 500_000


def test_a_big_school_gets_a_wider_chart_with_a_bar_per_class() -> None:
    png = completion_chart(figures_with(66, per_grade=11), translator("zh"))

    assert png is not None
    assert png_size(png) == ("PNG", (2000, 480))


def test_no_chart_when_no_class_has_a_head_teacher() -> None:
    figures = figures_with(0)
    figures.classes.append(ClassCompletion("一(1)班", None, 0, 0))

    assert completion_chart(figures, translator("zh")) is None


@pytest.mark.parametrize(("classes", "language"), [(66, "zh"), (12, "en"), (5, "zh")])
def test_a_chart_drawn_over_another_schools_frame_is_the_picture_drawn_afresh(
    classes: int, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The morning's digests of schools with the same classes share the frame (the names, the
    # scale, the legend); the bars, lines, notes and title are drawn over it.
    first = chart_spec(
        figures_with(classes, per_grade=11 if classes > 12 else 3), translator(language)
    )
    assert first is not None
    second = ChartSpec(
        **{
            **vars(first),
            "percents": first.percents[::-1],  # (the same scale: the tallest bar as tall)
            "notes": tuple(f"{n}/9" for n in range(classes)),
            "pace": first.pace + 20,
            "title": first.title + "（另一所学校）",
        }
    )
    assert chart.draw(first) is not None
    over_the_first = chart.draw(second)
    first_again = chart.draw(first)

    monkeypatch.setattr(chart, "_backdrops", chart._Backdrops())  # no frame kept:
    monkeypatch.setattr(chart, "BACKDROPS_KEPT", 0)  # each chart drawn from nothing
    assert pixels(over_the_first) == pixels(chart.draw(second))
    assert pixels(first_again) == pixels(chart.draw(first))
    assert pixels(over_the_first) != pixels(first_again)


@pytest.mark.parametrize("classes", [66, 30])
def test_drawing_over_the_frame_gives_the_picture_of_one_whole_draw(classes: int) -> None:
    spec = chart_spec(figures_with(classes, per_grade=11), translator("zh"))
    font = cjk_font()
    assert spec is not None and font is not None
    backdrop = chart._Backdrop(spec, font)
    painted = backdrop.paint(spec, font)

    for artist in backdrop.drawn_over:
        artist.set_animated(False)
    whole = io.BytesIO()
    backdrop.figure.savefig(whole, format="png")
    assert pixels(painted) == pixels(whole.getvalue())


def pixels(png: bytes | None) -> bytes:
    assert png is not None
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGBA").tobytes()


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(chart, "CJK_FAMILIES", ("No Such Font Family",))
    monkeypatch.setattr(chart, "FONT_PACKAGE", "no_such_font_package")
    cjk_font.cache_clear()
    yield
    cjk_font.cache_clear()


@pytest.mark.usefixtures("no_cjk_font")
def test_without_a_cjk_font_the_digest_goes_without_its_chart_and_says_so_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="handlers.chart_drawing"):
        png = completion_chart(figures_with(3), translator("zh"))

    assert png is None
    assert "no Chinese (CJK) font found" in caplog.text
    assert "pip install noto-cjk-sans-otc" in caplog.text


async def test_the_chart_drawn_in_a_child_process_is_the_same_picture() -> None:
    figures = figures_with(12)
    png = await draw_completion_chart(figures, translator("zh"))
    assert png is not None
    assert png_size(png) == png_size(completion_chart(figures, translator("zh")) or b"")


async def test_a_child_that_fails_leaves_the_digest_without_its_chart(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("handlers.chart_process.CHART_MODULE", "handlers.no_such_module")
    assert await draw_completion_chart(figures_with(3), translator("zh")) is None
    assert "the drawing process failed (status 1)" in caplog.text


async def test_at_most_two_charts_are_drawn_at_once_and_the_others_wait_their_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A process of every school draws a hundred morning digests within the same minute.
    drawing, most = 0, 0

    async def draw(request: bytes, what: str) -> bytes:
        nonlocal drawing, most
        drawing += 1
        most = max(most, drawing)
        await asyncio.sleep(0.02)
        drawing -= 1
        return b"png"

    monkeypatch.setattr("handlers.chart_process._draw", draw)
    spec = chart_spec(figures_with(3), translator("zh"))
    assert spec is not None
    pictures = await asyncio.gather(*(draw_in_child(spec, what="chart") for _ in range(7)))
    assert pictures == [b"png"] * 7
    assert most == AT_ONCE == 2


async def test_waiting_for_a_turn_counts_within_the_charts_time_limit(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def hang(request: bytes, what: str) -> bytes:
        await asyncio.sleep(60)
        return b"png"

    monkeypatch.setattr("handlers.chart_process._draw", hang)
    monkeypatch.setattr("handlers.chart_process.CHART_TIMEOUT_SECONDS", 0.2)
    spec = chart_spec(figures_with(3), translator("zh"))
    assert spec is not None
    pictures = await asyncio.gather(*(draw_in_child(spec, what="chart") for _ in range(3)))
    assert pictures == [None, None, None]  # two hung, the third never had its turn
    assert caplog.text.count("chart: not drawn within 0 s; sent without it") == 3


async def test_a_child_that_outlives_the_time_limit_is_killed_and_the_next_draw_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("handlers.chart_process.CHART_MODULE", "tests.helpers.sleeping_child")
    monkeypatch.setattr("handlers.chart_process.CHART_TIMEOUT_SECONDS", 1.0)
    before = child_pids()
    assert await draw_completion_chart(figures_with(3), translator("zh")) is None
    assert child_pids() == before

    monkeypatch.undo()
    assert await draw_completion_chart(figures_with(3), translator("zh")) is not None


async def test_the_next_draw_is_served_by_the_same_child() -> None:
    first = await draw_completion_chart(figures_with(12), translator("zh"))
    drawer = child_pids()
    second = await draw_completion_chart(figures_with(66, per_grade=11), translator("zh"))

    assert first is not None and second is not None
    assert png_size(second) == ("PNG", (2000, 480))
    assert len(drawer) == 1
    assert child_pids() == drawer


async def test_a_child_without_a_request_for_its_idle_time_exits_and_the_next_draw_starts_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("handlers.chart_process.IDLE_SECONDS", 0.5)
    assert await draw_completion_chart(figures_with(3), translator("zh")) is not None
    [drawer] = child_pids()

    await _until(lambda: not child_pids())
    assert await draw_completion_chart(figures_with(3), translator("zh")) is not None
    assert len(child_pids() - {drawer}) == 1


async def test_a_draw_that_fails_gives_no_chart_and_the_same_child_draws_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = chart_spec(figures_with(3), translator("zh"))
    assert spec is not None
    assert await draw_in_child(spec, what="chart") is not None
    drawer = child_pids()
    broken = ChartSpec(**{**vars(spec), "notes": ("1/10",)})  # fewer notes than bars

    assert await draw_in_child(broken, what="chart") is None
    assert await draw_in_child(spec, what="chart") is not None
    assert child_pids() == drawer
    assert "chart: the drawing failed" in caplog.text
    assert "三" not in caplog.text and "1/10" not in caplog.text


async def test_a_child_killed_while_it_waits_is_replaced_and_the_draw_goes_on() -> None:
    assert await draw_completion_chart(figures_with(3), translator("zh")) is not None
    [drawer] = child_pids()
    os.kill(drawer, signal.SIGKILL)

    assert await draw_completion_chart(figures_with(3), translator("zh")) is not None
    assert len(child_pids() - {drawer}) == 1


async def test_closing_the_children_leaves_none_behind_and_a_later_draw_starts_one() -> None:
    await asyncio.gather(
        *(draw_completion_chart(figures_with(3), translator("zh")) for _ in range(3))
    )
    assert len(child_pids()) == AT_ONCE

    await close_children()
    assert child_pids() == set()
    assert await draw_completion_chart(figures_with(3), translator("zh")) is not None
    await close_children()
    assert child_pids() == set()


def test_the_children_end_with_the_event_loop() -> None:
    async def draw() -> bytes | None:
        return await draw_completion_chart(figures_with(3), translator("zh"))

    assert asyncio.run(draw()) is not None
    assert child_pids() == set()


async def _until(condition: Callable[[], bool]) -> None:
    """Wait for `condition` (a generous bound: the machine may be busy)."""
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within 30 s")
