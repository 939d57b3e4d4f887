"""Drawing a class's evaluation chart from a `ClassChart`: plain numbers and words in, a PNG out.

Like the digest's chart (`handlers.chart_drawing`, whose CJK font it uses), this module imports
nothing else of the bot's, so the child process that draws it (`python -m
handlers.evaluation.chart_drawing`, started by `handlers.evaluation.chart`) starts with matplotlib
and the font alone. One bar per teacher of the class (its head teacher first), the score out of
100: green from `GOOD`, amber from `FAIR`, red below; a teacher without a score has no bar, only
its note.
"""

from __future__ import annotations

import io
import pickle
import sys
from dataclasses import dataclass

from handlers.chart_drawing import _LOCK, _sized, cjk_font

GOOD = 85.0
FAIR = 60.0
COLOURS = ("#2e7d32", "#ef6c00", "#c62828")


@dataclass(frozen=True)
class ClassChart:
    title: str
    #: One per teacher: `王芳\n班主任`.
    names: tuple[str, ...]
    #: 0–100; None: no part to score.
    scores: tuple[float | None, ...]
    #: Above each bar: the score, or a dash.
    notes: tuple[str, ...]
    y_label: str
    #: The school's average, as a dashed line (None: not drawn), and its label.
    average: float | None = None
    average_label: str = ""


def colour(score: float) -> str:
    if score >= GOOD:
        return COLOURS[0]
    return COLOURS[1] if score >= FAIR else COLOURS[2]


def draw(spec: ClassChart) -> bytes | None:
    """The PNG of `spec`, or None without a CJK font or teachers."""
    font = cjk_font()
    if font is None or not spec.names:
        return None
    from matplotlib.figure import Figure

    count = len(spec.names)
    heights = [score or 0.0 for score in spec.scores]
    with _LOCK:
        width = min(16.0, max(6.0, 0.9 * count + 2.0))
        figure = Figure(figsize=(width, 4.6), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        bars = axes.bar(range(count), heights, color=[colour(h) for h in heights], width=0.6)
        if spec.average is not None:
            axes.axhline(
                spec.average,
                color="#555555",
                linewidth=1,
                linestyle="--",
                label=spec.average_label,
            )
            axes.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                frameon=False,
                prop=_sized(font, 9),
            )
        for bar, note in zip(bars, spec.notes, strict=True):
            axes.annotate(
                note,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontproperties=_sized(font, 9),
            )
        axes.set_xticks(range(count))
        axes.set_xticklabels(spec.names, fontproperties=_sized(font, 9))
        axes.set_xlim(-0.6, count - 0.4)
        axes.set_ylim(0, 112)
        axes.set_ylabel(spec.y_label, fontproperties=_sized(font, 10))
        axes.set_title(spec.title, fontproperties=_sized(font, 12), loc="left", pad=10)
        for label in axes.get_yticklabels():
            label.set_fontproperties(_sized(font, 9))
        axes.spines[["top", "right"]].set_visible(False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def main() -> None:
    """`python -m handlers.evaluation.chart_drawing`: read a pickled `ClassChart` from stdin
    (written by our own parent, `handlers.evaluation.chart`), write its PNG to stdout (nothing
    without a chart)."""
    spec = pickle.loads(sys.stdin.buffer.read())
    png = draw(spec)
    if png is not None:
        sys.stdout.buffer.write(png)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
