"""Drawing the digest's chart from a `ChartSpec`: plain numbers and words in, a PNG out.

This module imports nothing of the bot's, so that the child process that draws the charts
(`python -m handlers.chart_drawing IDLE_SECONDS`, started and kept by `handlers.chart_process`)
starts with matplotlib and the font alone; it draws one spec after another (`serve`), and
keeps the frames of the last charts it drew, so that a chart of the same classes is drawn over a
copy of one (`_Backdrop`). matplotlib draws off-screen (the Agg canvas, no pyplot, no display).
Chinese labels need a CJK font: Noto Sans CJK comes from PyPI (`noto-cjk-sans-otc`, a
dependency), so a fresh machine has it; fonts installed on the system (`fonts-noto-cjk`,
`fonts-wqy-microhei`) work too. With none of them there is no chart (one clear log line) and
the digest is sent as text alone.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import select
import struct
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChartSpec:
    """One bar per class: its name, percent and `done/target` note; the lines and the words."""

    names: tuple[str, ...]
    percents: tuple[int, ...]
    notes: tuple[str, ...]
    #: In term, bars are green at or above `pace` and red below; in a break, all blue.
    in_term: bool
    pace: int
    target_label: str
    #: The 按进度应达 line's label, or None when there is no such line.
    pace_label: str | None
    y_label: str
    title: str


@dataclass(frozen=True)
class GroupedChartSpec:
    """Several bars per name side by side (the district view: each school's rates); a value
    of None is no bar (nothing to count)."""

    names: tuple[str, ...]
    #: (the series' label in the legend, its percent for each name).
    series: tuple[tuple[str, tuple[int | None, ...]], ...]
    y_label: str
    title: str


#: The series' colours, in order.
SERIES_COLOURS = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a")


#: Families tried in this order: the bundled font first, then common system ones.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
)
#: The package that ships Noto Sans CJK, and its file.
FONT_PACKAGE = "noto_cjk_sans_otc"
FONT_FILE = "NotoSansCJK-Regular.ttc"
#: Characters every label may use; a font qualifies only if it has them all.
PROBE = "班年级家访完成率月日三四"

#: matplotlib's font settings are process-wide: one chart at a time.
_LOCK = threading.Lock()
#: The PNG's zlib level: 3 writes the same pixels as Pillow's default (6) in about half the
#: time (66 bars: 21 against 37 ms), the file within a few percent (76 against 78 KB; a chart
#: of 30 schools 49 against 46).
PNG_OPTIONS = {"compress_level": 3}

#: The frames on the child's pipes: a request is a pickled spec after its length; an answer is
#: a status (`DRAWN`, or `FAILED` when drawing raised) and the PNG's length, then the PNG (empty:
#: nothing to draw). Lengths are 4 bytes, big-endian.
REQUEST = struct.Struct(">I")
ANSWER = struct.Struct(">cI")
DRAWN, FAILED = b"P", b"E"


@cache
def cjk_font() -> FontProperties | None:
    """The font the chart's text is set in, or None (logged once) when no CJK font is found."""
    try:
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font
    except ImportError:
        log.warning("matplotlib is not installed: the digest is sent without its chart")
        return None
    bundled = resources.files(FONT_PACKAGE) if _has_package(FONT_PACKAGE) else None
    if bundled is not None:
        font_file = bundled.joinpath(FONT_FILE)
        if font_file.is_file():
            font_manager.fontManager.addfont(str(font_file))
    for family in CJK_FAMILIES:
        properties = font_manager.FontProperties(family=family)
        try:
            path = font_manager.findfont(properties, fallback_to_default=False)
        except ValueError:
            continue
        face = FT2Font(path, face_index=getattr(path, "face_index", 0))
        if all(face.get_char_index(ord(ch)) for ch in PROBE):
            log.debug("digest chart font: %s", family)
            return properties
    log.warning(
        "no Chinese (CJK) font found: the digest is sent without its chart. "
        "Install one: pip install noto-cjk-sans-otc, or apt-get install fonts-noto-cjk"
    )
    return None


def _has_package(name: str) -> bool:
    try:
        resources.files(name)
    except ModuleNotFoundError:
        return False
    return True


def draw(spec: ChartSpec | GroupedChartSpec) -> bytes | None:
    """The PNG of `spec`, or None without a CJK font or bars."""
    font = cjk_font()
    if font is None or not spec.names:
        return None
    if isinstance(spec, GroupedChartSpec) or hasattr(spec, "series"):
        # (the child runs this module as __main__: the spec it unpickles is of the class
        # imported as handlers.chart_drawing, not of this module's own)
        return _draw_grouped(spec, font)  # type: ignore[arg-type]
    with _LOCK:
        return _backdrops.backdrop(spec, font).paint(spec, font)


#: Frames kept, the last drawn (a school of 66 classes: 8 MB, the figure's pixels and their
#: copy): the morning's digests of schools with the same classes share one.
BACKDROPS_KEPT = 8


class _Backdrop:
    """A bar-per-class chart's frame drawn once (the axes, the classes' names under their bars,
    the percent scale, the legend, laid out), and the parts that change from one chart to the
    next drawn over a copy of it: the bars, the lines, the spines, the notes and the title.

    Drawing the frame is most of a chart's cost (66 rotated names set in the CJK font, and the
    layout that measures them); a school's chart differs from another's of the same classes
    only in what is drawn over it. This is matplotlib's blitting (its "animated" artists, left
    out of the frame and drawn with `Axes.draw_artist`), and the picture is the one a full draw
    gives: the artists drawn over the frame are drawn in their z-order, and nothing of the
    frame lies over them.
    """

    def __init__(self, spec: ChartSpec, font: FontProperties) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        count = len(spec.names)
        width = min(20.0, max(7.0, 0.32 * count + 1.5))
        self.figure = Figure(figsize=(width, 4.8), dpi=100, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        axes = self.axes = self.figure.add_subplot()
        self.bars = axes.bar(range(count), spec.percents, width=0.7)
        self.target_line = axes.axhline(
            100, color="#555555", linewidth=1, linestyle="--", label=spec.target_label
        )
        self.pace_line = (
            axes.axhline(
                spec.pace, color="#ef6c00", linewidth=1, linestyle=":", label=spec.pace_label
            )
            if spec.pace_label is not None
            else None
        )
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=2,
            frameon=False,
            prop=_sized(font, 9),
        )
        axes.set_xticks(range(count))
        axes.set_xticklabels(
            spec.names,
            fontproperties=_sized(font, 9 if count > 12 else 10),
            rotation=90 if count > 12 else 0,
        )
        axes.set_xlim(-0.6, count - 0.4)
        axes.set_ylim(0, _top(spec))
        axes.set_ylabel(spec.y_label, fontproperties=_sized(font, 10))
        # (the figure's title, on a line of its own: the axes' title would share the line
        # above the bars with the legend, and a long one ran into it)
        self.title = self.figure.suptitle(
            spec.title, x=0.01, ha="left", fontproperties=_sized(font, 13)
        )
        for label in axes.get_yticklabels():
            label.set_fontproperties(_sized(font, 9))
        axes.spines[["top", "right"]].set_visible(False)
        self.drawn_over: list[Artist] = [
            *self.bars,
            self.target_line,
            *([self.pace_line] if self.pace_line is not None else []),
            *axes.spines.values(),
            self.title,
        ]
        for artist in self.drawn_over:
            artist.set_animated(True)
        self.canvas.draw()  # type: ignore[no-untyped-call]
        self.frame = self.canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[no-untyped-call]
        # (the layout is the frame's: the charts drawn over it keep it)
        self.figure.set_layout_engine("none")

    def paint(self, spec: ChartSpec, font: FontProperties) -> bytes:
        from matplotlib.image import imsave

        axes = self.axes
        self.canvas.restore_region(self.frame)  # type: ignore[no-untyped-call]
        for bar, percent in zip(self.bars, spec.percents, strict=True):
            bar.set_height(percent)
            bar.set_facecolor(
                ("#2e7d32" if percent >= spec.pace else "#c62828") if spec.in_term else "#1565c0"
            )
        if self.pace_line is not None:
            self.pace_line.set_ydata([spec.pace, spec.pace])
        self.title.set_text(spec.title)
        notes = (
            [
                axes.annotate(
                    note,
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontproperties=_sized(font, 8),
                    animated=True,
                )
                for bar, note in zip(self.bars, spec.notes, strict=True)
            ]
            if len(spec.names) <= 24
            else []
        )
        try:
            for artist in sorted([*self.drawn_over, *notes], key=lambda artist: artist.zorder):
                axes.draw_artist(artist)
        finally:
            for note in notes:
                note.remove()
        buffer = io.BytesIO()
        imsave(
            buffer,
            self.canvas.buffer_rgba(),  # type: ignore[no-untyped-call]
            format="png",
            origin="upper",
            dpi=self.figure.dpi,
            pil_kwargs=PNG_OPTIONS,
        )
        return buffer.getvalue()


class _Backdrops:
    """The last `BACKDROPS_KEPT` frames, by what a frame shows."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[object, ...], _Backdrop] = OrderedDict()

    def backdrop(self, spec: ChartSpec, font: FontProperties) -> _Backdrop:
        key = (
            spec.names,
            spec.target_label,
            spec.pace_label,
            spec.y_label,
            _top(spec),
            font.get_family()[0],
        )
        kept = self._kept.pop(key, None) or _Backdrop(spec, font)
        self._kept[key] = kept
        while len(self._kept) > BACKDROPS_KEPT:
            self._kept.popitem(last=False)
        return kept


_backdrops = _Backdrops()


def _top(spec: ChartSpec) -> int:
    """The percent scale's top: room above the tallest bar for its note."""
    return max(110, *(p + 12 for p in spec.percents))


def _draw_grouped(spec: GroupedChartSpec, font: FontProperties) -> bytes:
    from matplotlib.figure import Figure

    count, groups = len(spec.names), max(1, len(spec.series))
    width = 0.8 / groups
    with _LOCK:
        figure = Figure(
            figsize=(min(24.0, max(7.0, 0.25 * count * groups + 1.5)), 4.8),
            dpi=100,
            layout="constrained",
        )
        axes = figure.add_subplot()
        for index, (label, values) in enumerate(spec.series):
            offset = (index - (groups - 1) / 2) * width
            axes.bar(
                [n + offset for n in range(count)],
                [v if v is not None else 0 for v in values],
                width=width,
                color=SERIES_COLOURS[index % len(SERIES_COLOURS)],
                label=label,
            )
        axes.axhline(100, color="#555555", linewidth=1, linestyle="--")
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=groups,
            frameon=False,
            prop=_sized(font, 9),
        )
        axes.set_xticks(range(count))
        axes.set_xticklabels(
            spec.names,
            fontproperties=_sized(font, 9 if count > 8 else 10),
            rotation=90 if count > 8 else 0,
        )
        axes.set_xlim(-0.6, count - 0.4)
        axes.set_ylim(0, 110)
        axes.set_ylabel(spec.y_label, fontproperties=_sized(font, 10))
        axes.set_title(spec.title, fontproperties=_sized(font, 13), loc="left", pad=10)
        for tick in axes.get_yticklabels():
            tick.set_fontproperties(_sized(font, 9))
        axes.spines[["top", "right"]].set_visible(False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", pil_kwargs=PNG_OPTIONS)
    return buffer.getvalue()


def _sized(font: FontProperties, size: float) -> FontProperties:
    sized = font.copy()
    sized.set_size(size)
    return sized


def serve(idle_seconds: float) -> None:
    """Draw each spec that comes on stdin and answer with its PNG on stdout, until stdin ends
    (the parent closed it, or is gone) or `idle_seconds` pass without a request."""
    while select.select([sys.stdin], [], [], idle_seconds)[0]:
        header = _read(REQUEST.size)
        request = _read(REQUEST.unpack(header)[0]) if header is not None else None
        if request is None:
            return
        try:
            status, png = DRAWN, draw(pickle.loads(request)) or b""  # our own parent's spec
        except Exception:  # the parent says it failed; nothing of the chart's words is written
            status, png = FAILED, b""
        sys.stdout.buffer.write(ANSWER.pack(status, len(png)) + png)
        sys.stdout.buffer.flush()


def _read(size: int) -> bytes | None:
    """`size` bytes of stdin, None when it ends first."""
    data = b""
    while len(data) < size:
        chunk = os.read(sys.stdin.fileno(), size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main() -> None:
    """`python -m handlers.chart_drawing IDLE_SECONDS`: `serve` our own parent,
    `handlers.chart_process`."""
    serve(float(sys.argv[1]))


if __name__ == "__main__":
    main()
