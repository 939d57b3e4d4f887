"""Drawing a survey question's chart from a `QuestionChart`: plain numbers and words in, a PNG out.

Like the digest's chart (`handlers.chart_drawing`, whose CJK font it uses), this module imports
nothing else of the bot's, so the child process that draws the charts
(`python -m handlers.surveys.chart_drawing`, started by `handlers.surveys.chart`) starts with
matplotlib and the font alone; one child draws all of a survey's charts. Each chart has one
horizontal bar per group (全校 first, then the classes and 其他 of a named form), split into
the options' shares in percent, with the counts behind them as labels. No family is named:
the spec holds only group names, options and counts.
"""

from __future__ import annotations

import io
import pickle
import sys
from dataclasses import dataclass

from handlers.chart_drawing import _LOCK, _sized, cjk_font

#: One colour per option: three options are a satisfaction scale, best first (满意 green …
#: 不满意 red); two (是 / 否) are told apart without judging; more options cycle.
THREE = ("#2e7d32", "#9ccc65", "#c62828")
TWO = ("#1565c0", "#90a4ae")
COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#8d6e63", "#c62828", "#9ccc65")


def colours(count: int) -> tuple[str, ...]:
    if count == 2:
        return TWO
    if count == 3:
        return THREE
    return COLOURS


#: A segment narrower than this (percent) has no label inside it.
LABEL_MIN_PERCENT = 7


@dataclass(frozen=True)
class QuestionChart:
    """One question: a bar per row (group), a segment per option."""

    title: str
    rows: tuple[str, ...]
    options: tuple[str, ...]
    #: Per row, the count of each option (in `options`' order).
    counts: tuple[tuple[int, ...], ...]
    #: Per row, the note at its right end (e.g. `n=120`).
    notes: tuple[str, ...]
    x_label: str


def percents(counts: tuple[int, ...]) -> list[float]:
    total = sum(counts)
    return [100 * c / total if total else 0.0 for c in counts]


def draw(spec: QuestionChart) -> bytes | None:
    """The PNG of `spec`, or None without a CJK font or rows."""
    font = cjk_font()
    if font is None or not spec.rows:
        return None
    from matplotlib.figure import Figure

    count = len(spec.rows)
    with _LOCK:
        height = min(24.0, 1.9 + 0.42 * count)
        figure = Figure(figsize=(8.5, height), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(count))
        left = [0.0] * count
        shares = [percents(row) for row in spec.counts]
        palette = colours(len(spec.options))
        for index, option in enumerate(spec.options):
            widths = [share[index] for share in shares]
            colour = palette[index % len(palette)]
            bars = axes.barh(positions, widths, left=left, color=colour, height=0.66, label=option)
            for bar, width, row in zip(bars, widths, spec.counts, strict=True):
                if width >= LABEL_MIN_PERCENT:
                    axes.annotate(
                        f"{row[index]}（{round(width)}%）",
                        (bar.get_x() + width / 2, bar.get_y() + bar.get_height() / 2),
                        ha="center",
                        va="center",
                        color="white",
                        fontproperties=_sized(font, 8),
                    )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        for position, note in zip(positions, spec.notes, strict=True):
            axes.annotate(
                note,
                (100, position),
                xytext=(4, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontproperties=_sized(font, 8),
            )
        axes.set_yticks(positions)
        axes.set_yticklabels(spec.rows, fontproperties=_sized(font, 9))
        axes.invert_yaxis()
        axes.set_xlim(0, 100)
        axes.set_xlabel(spec.x_label, fontproperties=_sized(font, 9))
        axes.set_title(spec.title, fontproperties=_sized(font, 11), loc="left", pad=24)
        axes.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=min(len(spec.options), 5),
            frameon=False,
            prop=_sized(font, 9),
        )
        for label in axes.get_xticklabels():
            label.set_fontproperties(_sized(font, 8))
        axes.spines[["top", "right"]].set_visible(False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def main() -> None:
    """`python -m handlers.surveys.chart_drawing`: read a pickled list of `QuestionChart`s from
    stdin (written by our own parent, `handlers.surveys.chart`), write the pickled list of their
    PNGs (None where there is none) to stdout."""
    specs = pickle.loads(sys.stdin.buffer.read())
    pngs = [draw(spec) for spec in specs]
    sys.stdout.buffer.write(pickle.dumps(pngs))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
