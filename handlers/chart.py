"""The digest's chart: one bar per class, the month's completion in percent, as a PNG.

`chart_spec` turns the digest's figures into what the chart shows (numbers and translated
words); `handlers.chart_drawing` draws it with matplotlib. The bot has it drawn in a child
process (`handlers.chart_process`), so matplotlib never stays in the bot's memory;
`completion_chart` draws in this process (the tests and the digest benchmark).
"""

from __future__ import annotations

from handlers.chart_drawing import ChartSpec, draw
from handlers.i18n import Translator
from models.digest.queries import DigestFigures


def chart_spec(figures: DigestFigures, t: Translator) -> ChartSpec | None:
    """What the chart of `figures` shows, in `t`'s language; None when no class has a figure."""
    classes = [c for c in figures.classes if c.percent is not None]
    if not classes:
        return None
    _ = t._
    target = figures.head_target
    pace = round(100 * figures.head_expected / target) if target else 0
    month, day = figures.day.month, figures.day.day
    return ChartSpec(
        names=tuple(c.class_name for c in classes),
        percents=tuple(c.percent or 0 for c in classes),
        notes=tuple(f"{c.done}/{c.target}" for c in classes),
        in_term=figures.in_term,
        pace=pace,
        target_label=_("月指标 {target} 次").format(target=target) if target else "100%",
        pace_label=(
            _("按进度应达 {percent}%").format(percent=pace)
            if figures.in_term and 0 < pace < 100
            else None
        ),
        y_label=_("完成率（%）"),
        title=_("{month}月班主任家访完成率（截至{month}月{day}日）").format(month=month, day=day),
    )


def completion_chart(figures: DigestFigures, t: Translator) -> bytes | None:
    """The PNG of each class's completion this month, or None without a CJK font or classes."""
    spec = chart_spec(figures, t)
    return draw(spec) if spec is not None else None
