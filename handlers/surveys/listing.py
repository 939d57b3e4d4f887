"""The school's surveys with their response rates (under `/survey`, and `/survey results` with a
button 结果 for each, `!svr:<survey id>`: 德育处 and the principal). One survey's results are
`handlers.surveys.results`'s (`show_results`, re-exported here for the button)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from handlers.actions import action_button
from handlers.context import Context
from handlers.notice.render import format_moment
from handlers.surveys.results import show_results
from handlers.types import Reply
from models.surveys.tables import (
    STATUS_LABELS,
    Survey,
    SurveyForm,
    SurveyRecipient,
    SurveyStatus,
)

__all__ = ["RESULTS", "listing_lines", "results_listing", "show_results"]

RESULTS = "svr"
#: Surveys listed at most.
LIST_LIMIT = 8
_ORDER = {SurveyStatus.SENT: 0, SurveyStatus.CLOSED: 1}


@dataclass(frozen=True)
class Listed:
    survey: Survey
    form_name: str
    drawn: int
    submitted: int


async def _listed(ctx: Context) -> list[Listed]:
    query = (
        select(Survey, SurveyForm.name)
        .join(SurveyForm, col(SurveyForm.id) == col(Survey.form_id))
        .where(
            Survey.school_id == ctx.school.id,
            col(Survey.status).in_((SurveyStatus.SENT, SurveyStatus.CLOSED)),
        )
        .order_by(col(Survey.id).desc())
    )
    found = list((await ctx.session.exec(query)).all())
    found.sort(key=lambda row: _ORDER[row[0].status])
    found = found[:LIST_LIMIT]
    ids = [s.id for s, _name in found]
    counts = (
        select(
            SurveyRecipient.survey_id,
            func.count(col(SurveyRecipient.id)),
            func.count(col(SurveyRecipient.submitted_at)),
        )
        .where(col(SurveyRecipient.survey_id).in_(ids))
        .group_by(col(SurveyRecipient.survey_id))
    )
    numbers = {sid: (drawn, done) for sid, drawn, done in (await ctx.session.exec(counts)).all()}
    return [Listed(s, name, *numbers.get(s.id or 0, (0, 0))) for s, name in found]


def _line(ctx: Context, entry: Listed) -> str:
    _ = ctx.t._
    return _("#{id} {form} · {status} · 已提交 {submitted}/{drawn} · {deadline} 截止").format(
        id=entry.survey.id,
        form=entry.form_name,
        status=_(STATUS_LABELS[entry.survey.status]),
        submitted=entry.submitted,
        drawn=entry.drawn,
        deadline=format_moment(ctx.t, entry.survey.deadline, ctx.zone),
    )


async def listing_lines(ctx: Context) -> list[str]:
    """The school's surveys, open ones first (none: nothing), and a blank line after."""
    found = await _listed(ctx)
    if not found:
        return []
    return [ctx.t._("本校的问卷："), *(_line(ctx, e) for e in found), ""]


async def results_listing(ctx: Context) -> Reply:
    _ = ctx.t._
    found = await _listed(ctx)
    if not found:
        return Reply(_("本校还没有发出过问卷。发送 /survey 发起一次问卷调查。"))
    buttons = [
        [action_button(_("结果 #{id}").format(id=e.survey.id), RESULTS, e.survey.id or 0)]
        for e in found
    ]
    lines = [_("本校的问卷："), *(_line(ctx, e) for e in found)]
    return Reply.with_buttons("\n".join(lines), buttons)
