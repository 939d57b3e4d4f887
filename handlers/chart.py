"""The digest's chart: one bar per class, the month's completion in percent, as a PNG.

matplotlib draws it off-screen (the Agg canvas, no pyplot, no display). Chinese labels need a
CJK font: Noto Sans CJK comes from PyPI (`noto-cjk-sans-otc`, a dependency), so a fresh machine
has it; fonts installed on the system (`fonts-noto-cjk`, `fonts-wqy-microhei`) work too. With
none of them the chart is left out (one clear log line) and the digest is sent as text alone.
The bot draws it in a child process (`handlers.chart_process`), so matplotlib never stays in
the bot's memory.
"""

from __future__ import annotations

import io
import logging
import pickle
import sys
import threading
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from handlers.i18n import Translator
from models.digest.queries import DigestFigures

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)

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


def completion_chart(figures: DigestFigures, t: Translator) -> bytes | None:
    """The PNG of each class's completion this month, or None without a CJK font or classes."""
    classes = [c for c in figures.classes if c.percent is not None]
    font = cjk_font()
    if font is None or not classes:
        return None
    from matplotlib.figure import Figure

    _ = t._
    names = [c.class_name for c in classes]
    percents = [c.percent or 0 for c in classes]
    target = figures.head_target
    pace = round(100 * figures.head_expected / target) if target else 0
    month, day = figures.day.month, figures.day.day
    with _LOCK:
        width = min(20.0, max(7.0, 0.32 * len(classes) + 1.5))
        figure = Figure(figsize=(width, 4.8), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        if figures.in_term:
            colours = ["#2e7d32" if p >= pace else "#c62828" for p in percents]
        else:
            colours = ["#1565c0"] * len(percents)
        bars = axes.bar(range(len(classes)), percents, color=colours, width=0.7)
        axes.axhline(
            100,
            color="#555555",
            linewidth=1,
            linestyle="--",
            label=_("月指标 {target} 次").format(target=target) if target else "100%",
        )
        if figures.in_term and 0 < pace < 100:
            axes.axhline(
                pace,
                color="#ef6c00",
                linewidth=1,
                linestyle=":",
                label=_("按进度应达 {percent}%").format(percent=pace),
            )
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=2,
            frameon=False,
            prop=_sized(font, 9),
        )
        axes.set_xticks(range(len(classes)))
        axes.set_xticklabels(
            names,
            fontproperties=_sized(font, 9 if len(classes) > 12 else 10),
            rotation=90 if len(classes) > 12 else 0,
        )
        axes.set_xlim(-0.6, len(classes) - 0.4)
        axes.set_ylim(0, max(110, *(p + 12 for p in percents)))
        axes.set_ylabel(_("完成率（%）"), fontproperties=_sized(font, 10))
        axes.set_title(
            _("{month}月班主任家访完成率（截至{month}月{day}日）").format(month=month, day=day),
            fontproperties=_sized(font, 13),
            loc="left",
            pad=10,
        )
        if len(classes) <= 24:
            for bar, item in zip(bars, classes, strict=True):
                axes.annotate(
                    f"{item.done}/{item.target}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontproperties=_sized(font, 8),
                )
        for label in axes.get_yticklabels():
            label.set_fontproperties(_sized(font, 9))
        axes.spines[["top", "right"]].set_visible(False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _sized(font: FontProperties, size: float) -> FontProperties:
    sized = font.copy()
    sized.set_size(size)
    return sized


def main() -> None:
    """`python -m handlers.chart`: read the pickled (figures, language) its parent wrote on
    stdin (`handlers.chart_process`), write the chart's PNG to stdout (nothing when there is no
    chart to draw)."""
    from handlers.i18n import translator

    figures, language = pickle.loads(sys.stdin.buffer.read())  # from our own parent only
    png = completion_chart(figures, translator(language))
    if png is not None:
        sys.stdout.buffer.write(png)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
