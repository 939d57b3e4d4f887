"""The school's surveys with their response rates (under `/survey`, and `/survey results`), and
one survey's results (the button 结果, `!svr:<survey id>`: 德育处 and the principal).

Results never name a family: response rates are per class, a class with fewer than
`SMALL_GROUP` answers counted with the others in 其他; answers are counted per question
school-wide, read by survey and question only (never joined to the families drawn); free-text
answers are counted, not shown; and an anonymous form with fewer than `SMALL_GROUP` answers in
all shows no distribution yet."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from handlers.actions import action_button
from handlers.context import Context
from handlers.notice.render import format_moment
from handlers.types import Inbound, Reply
from models.school.tables import SchoolClass
from models.surveys.tables import (
    STATUS_LABELS,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
    SurveyStatus,
)

RESULTS = "svr"
#: Surveys listed at most.
LIST_LIMIT = 8
#: A group with fewer answers than this is merged (classes) or not shown (an anonymous form).
SMALL_GROUP = 5
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


# -- one survey's results -----------------------------------------------------------------------


async def _class_lines(ctx: Context, survey_id: int) -> list[str]:
    _ = ctx.t._
    query = (
        select(
            SchoolClass.name,
            func.count(col(SurveyRecipient.id)),
            func.count(col(SurveyRecipient.submitted_at)),
        )
        .join(SchoolClass, col(SchoolClass.id) == col(SurveyRecipient.class_id))
        .where(SurveyRecipient.survey_id == survey_id)
        .group_by(col(SchoolClass.id), col(SchoolClass.name), col(SchoolClass.grade))
        .order_by(col(SchoolClass.grade), col(SchoolClass.id))
    )
    lines: list[str] = []
    other_drawn = other_done = 0
    for name, drawn, done in (await ctx.session.exec(query)).all():
        if done < SMALL_GROUP:
            other_drawn, other_done = other_drawn + drawn, other_done + done
        else:
            lines.append(f"{name} {done}/{drawn}")
    if other_drawn:
        lines.append(_("其他 {submitted}/{drawn}").format(submitted=other_done, drawn=other_drawn))
    return lines


async def _question_lines(ctx: Context, survey_id: int, form_id: int) -> list[str]:
    _ = ctx.t._
    questions = (
        await ctx.session.exec(
            select(SurveyQuestion)
            .where(SurveyQuestion.form_id == form_id)
            .order_by(col(SurveyQuestion.position))
        )
    ).all()
    rows = (
        await ctx.session.exec(
            select(SurveyAnswer.question_id, SurveyAnswer.value).where(
                SurveyAnswer.survey_id == survey_id
            )
        )
    ).all()
    values: dict[int, Counter[str]] = {}
    for question_id, value in rows:
        if value:  # "" is an optional question skipped
            values.setdefault(question_id, Counter())[value] += 1
    lines: list[str] = []
    for question in questions:
        counted = values.get(question.id or 0, Counter())
        lines.append(f"{question.position}. {question.prompt}")
        if question.kind is QuestionKind.TEXT:
            lines.append("   " + _("文字意见 {count} 条").format(count=sum(counted.values())))
            continue
        options = question.option_list()
        shown = [
            f"{_(o) if question.kind is not QuestionKind.CHOICE else o} {counted[o]}"
            for o in options
        ]
        lines.append("   " + " · ".join(shown))
    return lines


async def show_results(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    survey = await ctx.session.get(Survey, int(argument))
    if survey is None or survey.school_id != ctx.school.id or survey.status not in _ORDER:
        return [Reply(_("没有找到这份问卷。"))]
    form = await ctx.session.get(SurveyForm, survey.form_id)
    if form is None:
        return [Reply(_("没有找到这份问卷。"))]
    assert survey.id is not None
    classes = await _class_lines(ctx, survey.id)
    lines = [
        _("问卷 #{id}：{form}（{status}，{deadline} 截止）").format(
            id=survey.id,
            form=form.name,
            status=_(STATUS_LABELS[survey.status]),
            deadline=format_moment(ctx.t, survey.deadline, ctx.zone),
        ),
        _("各班回收（已提交/抽到，不足 {n} 份的班级合并为“其他”）：").format(n=SMALL_GROUP),
        *classes,
    ]
    submitted = await ctx.session.exec(
        select(func.count(col(SurveyRecipient.id))).where(
            SurveyRecipient.survey_id == survey.id, col(SurveyRecipient.submitted_at).is_not(None)
        )
    )
    if form.anonymous and submitted.one() < SMALL_GROUP:
        lines.append(_("匿名问卷回收不足 {n} 份，暂不显示各题分布。").format(n=SMALL_GROUP))
    else:
        lines.append(_("各题结果（全校）："))
        lines += await _question_lines(ctx, survey.id, form.id or 0)
    return [Reply("\n".join(lines))]
