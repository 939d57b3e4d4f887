"""The 大走访's chart: one bar per class, its 入户率 (households visited / households), as a PNG.

`coverage_chart` turns a campaign's figures into the digest's bar-per-class `ChartSpec`
(`handlers.chart_drawing`: class names, percents, `visited/households` notes, a 100% line and,
while the campaign runs, the share of its days gone as the pace: bars green at or above it, red
below). It is drawn as the digest's chart is, in a child process
(`handlers.chart_process.draw_in_child`), so matplotlib never stays in the bot's memory;
`coverage_png` stores the PNG in `media` for a reply.
"""

from __future__ import annotations

from datetime import date

from handlers.chart_drawing import ChartSpec
from handlers.chart_process import draw_in_child
from handlers.context import Context
from handlers.i18n import Translator
from handlers.stored_png import stored_png
from handlers.types import Attachment
from models.campaigns.figures import CampaignFigures
from models.campaigns.tables import Campaign


def pace_percent(campaign: Campaign, today: date) -> int:
    """The share of the campaign's days gone by `today` (its first day counts), in whole
    percent: where 入户率 should be by now if households were visited evenly."""
    days = (campaign.end_date - campaign.start_date).days + 1
    gone = (min(today, campaign.end_date) - campaign.start_date).days + 1
    return max(0, min(100, round(100 * gone / days)))


def coverage_chart(figures: CampaignFigures, campaign: Campaign, t: Translator) -> ChartSpec | None:
    """What the chart shows in `t`'s language; None when no class has a household."""
    _ = t._
    shown = [
        (klass, figures.coverage.per_class[klass.class_id])
        for klass in figures.classes
        if figures.coverage.per_class.get(klass.class_id) is not None
        and figures.coverage.per_class[klass.class_id].households > 0
    ]
    if not shown:
        return None
    running = campaign.cancelled_at is None and (
        campaign.start_date <= figures.today <= campaign.end_date
    )
    pace = pace_percent(campaign, figures.today)
    day = min(figures.today, campaign.end_date)
    return ChartSpec(
        names=tuple(klass.name for klass, _rate in shown),
        percents=tuple(rate.percent or 0 for _klass, rate in shown),
        notes=tuple(f"{rate.visited}/{rate.households}" for _klass, rate in shown),
        in_term=running,
        pace=pace,
        target_label=_("全部入户 100%"),
        pace_label=(
            _("按进度应达 {percent}%").format(percent=pace) if running and 0 < pace < 100 else None
        ),
        y_label=_("入户率（%）"),
        title=_("大走访“{name}”各班入户率（截至{month}月{day}日）").format(
            name=campaign.name, month=day.month, day=day.day
        ),
    )


async def coverage_png(
    ctx: Context, figures: CampaignFigures, campaign: Campaign
) -> Attachment | None:
    """The chart drawn in a child process and stored in `media`; None when there is nothing to
    draw or it could not be drawn (the overview then goes as text alone)."""
    spec = coverage_chart(figures, campaign, ctx.t)
    if spec is None:
        return None
    png = await draw_in_child(spec, what="campaign chart")
    if png is None:
        return None
    return await stored_png(
        ctx.session,
        png,
        key=f"campaign-chart:{campaign.school_id}:{campaign.id}:{figures.today.isoformat()}",
        filename=f"campaign-{campaign.id}-{figures.today.isoformat()}.png",
    )
