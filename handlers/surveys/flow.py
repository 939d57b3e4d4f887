"""`/survey` (问卷): 德育处 or the principal sends a parent survey. Choose the form, the classes
(全校 / by grade / by class), the share of each class's families and the deadline; the families are
drawn and shown per class; then 发送, 重新抽样 (a new seed, the same survey row, its families
replaced) or 取消 (the survey and its families deleted). `/survey` also lists the school's
surveys with their response rates (`handlers.surveys.listing`)."""

from __future__ import annotations

import re
from datetime import datetime

from handlers.context import Context
from handlers.flow import Flow, with_typed_labels
from handlers.hints import button_note, invalid
from handlers.i18n import N_
from handlers.notice.when import local_moment, parse_typed
from handlers.surveys import questions as q
from handlers.surveys.form_menu import NEW_WORDS, new_form_menu
from handlers.surveys.listing import listing_lines, results_listing
from handlers.surveys.send import send_survey
from handlers.surveys.states import State, SurveyDraft
from handlers.types import Inbound, Reply, Transition, callback_rest
from models.surveys.errors import SurveyRefused
from models.surveys.queries import audience_classes, discard_unsent, draw_survey, redraw_survey
from models.surveys.sampling import check_share, new_seed
from models.surveys.tables import Survey, SurveyAudience, SurveyStatus
from models.surveys.templates import ensure_templates

FLOW = "survey"
RESULT_WORDS = ("results", "结果")
_SHARE = re.compile(r"^(\d{1,3})\s*[%％]?$")


def _number(text: str | None) -> int | None:
    ok = text is not None and text.isascii() and text.isdigit() and len(text) < 10
    return int(text) if ok and text is not None else None


def _refused(ctx: Context, refused: SurveyRefused) -> str:
    return ctx.t._(refused.message).format(**refused.params)


async def start(inbound: Inbound, draft: SurveyDraft, ctx: Context, args: str) -> Transition:
    """`/survey`: the surveys so far, then the forms to choose from; `/survey results`: the
    surveys with their results buttons only; `/survey new`: the forms a new one may start from
    (`handlers.surveys.form_menu`)."""
    if args.strip().lower() in RESULT_WORDS:
        return Transition.end(await results_listing(ctx))
    if args.strip().lower() in NEW_WORDS:
        return Transition.end(await new_form_menu(ctx))
    await ensure_templates(ctx.session, ctx.school.id or 0, now=ctx.now)
    listed = await listing_lines(ctx)
    if not await q.forms_of(ctx):
        return Transition.end(Reply("\n".join([*listed, ctx.t._("本校还没有可以发出的问卷。")])))
    return await q.ask(State.FORM, draft, ctx, *listed)


# -- form, audience -----------------------------------------------------------------------------


async def choose_form(inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    value = _number(callback_rest(inbound.callback, q.FORM))
    form = await q.form_of(ctx, value) if value is not None else None
    if form is None:
        return await q.ask(State.FORM, draft, ctx, button_note(inbound, ctx))
    draft.form_id = form.id
    return await q.proceed(draft, ctx)


async def _complete_audience(draft: SurveyDraft, ctx: Context) -> Transition:
    classes = await audience_classes(
        ctx.session, ctx.school.id or 0, draft.audience or SurveyAudience.SCHOOL, draft.audience_ids
    )
    if not classes:
        draft.forget_audience()
        note = ctx.t._("所选范围内没有班级，请重新选择。")
        return await q.ask(State.AUDIENCE, draft, ctx, note)
    draft.audience_done = True
    return await q.proceed(draft, ctx)


async def choose_audience(inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    data = inbound.callback
    if data == q.AUD_SCHOOL:
        draft.audience, draft.audience_ids = SurveyAudience.SCHOOL, []
        return await _complete_audience(draft, ctx)
    if data == q.AUD_GRADES:
        draft.audience, draft.audience_ids = SurveyAudience.GRADES, []
        return await q.proceed(draft, ctx)
    if data == q.AUD_CLASSES:
        draft.audience, draft.audience_ids = SurveyAudience.CLASSES, []
        return await q.proceed(draft, ctx)
    return await q.ask(State.AUDIENCE, draft, ctx, button_note(inbound, ctx))


async def _toggle(state: State, inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    """Grades or classes: each press adds or removes one; 完成 closes the choice."""
    data = inbound.callback
    if data == q.AUD_BACK:
        draft.forget_audience()
        return await q.ask(State.AUDIENCE, draft, ctx)
    if data == q.DONE:
        if not draft.audience_ids:
            return await q.ask(state, draft, ctx, ctx.t._("请至少选择一项，再点“完成”。"))
        return await _complete_audience(draft, ctx)
    value = _number(callback_rest(data, q.TOGGLE))
    if value is None:
        return await q.ask(state, draft, ctx, button_note(inbound, ctx))
    classes = await q.classes_of(ctx)
    allowed = {k.grade for k in classes} if state is State.GRADES else {k.id for k in classes}
    if value not in allowed:
        return await q.ask(state, draft, ctx, invalid(ctx))
    if value in draft.audience_ids:
        draft.audience_ids.remove(value)
    else:
        draft.audience_ids.append(value)
    return await q.ask(state, draft, ctx)


async def choose_grades(inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    return await _toggle(State.GRADES, inbound, draft, ctx)


async def choose_classes(inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    return await _toggle(State.CLASSES, inbound, draft, ctx)


# -- share, deadline ----------------------------------------------------------------------------


async def choose_share(inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    if inbound.callback is not None:
        share = _number(callback_rest(inbound.callback, q.SHARE))
        if share not in q.share_choices(ctx):
            return await q.ask(State.SHARE, draft, ctx, invalid(ctx))
    else:
        match = _SHARE.match((inbound.text or "").strip())
        if match is None:
            note = ctx.t._("请输入一个百分比数字，例如 40。")
            return await q.ask(State.SHARE, draft, ctx, note)
        share = int(match.group(1))
    try:
        check_share(share or 0, minimum=ctx.rules.survey_min_share)
    except SurveyRefused as refused:
        return await q.ask(State.SHARE, draft, ctx, _refused(ctx, refused))
    draft.share = share
    return await q.proceed(draft, ctx)


def _deadline_problem(ctx: Context, moment: datetime) -> str | None:
    if moment <= ctx.now:
        return ctx.t._("截止时间不能早于现在，请重新选择。")
    if moment - ctx.now > q.DEADLINE_LIMIT:
        return ctx.t._("截止时间离现在超过 {days} 天，是不是年份写错了？请重新输入。").format(
            days=q.DEADLINE_LIMIT.days
        )
    return None


async def choose_deadline(inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    if inbound.callback is not None:
        days = _number(callback_rest(inbound.callback, q.DEADLINE))
        if days not in {d for d, _label in q.DEADLINE_CHOICES}:
            return await q.ask(State.DEADLINE, draft, ctx, invalid(ctx))
        moment = q.deadline_of(ctx, days or 0)
    else:
        typed = parse_typed(inbound.text or "", today=ctx.today)
        if typed is None:
            note = ctx.t._("没能读懂这个日期。请点选，或输入例如 11月30日、2026-11-30。")
            return await q.ask(State.DEADLINE, draft, ctx, note)
        moment = local_moment(typed, zone=ctx.zone, default=q.DEADLINE_TIME)
    problem = _deadline_problem(ctx, moment)
    if problem is not None:
        return await q.ask(State.DEADLINE, draft, ctx, problem)
    draft.deadline = moment
    return await _draw(draft, ctx)


# -- the draw -----------------------------------------------------------------------------------


async def _draw(draft: SurveyDraft, ctx: Context) -> Transition:
    """Create the survey and draw its families (an earlier draw of this person's that was never
    sent is deleted first: one unsent survey per person at most)."""
    staff = ctx.staff
    if staff is None or draft.form_id is None or draft.share is None or draft.deadline is None:
        return Transition.end(Reply(ctx.t._("这项操作已不可用，请重新开始。")))
    await discard_unsent(ctx.session, ctx.school.id or 0, staff.id or 0)
    survey = Survey(
        school_id=ctx.school.id or 0,
        form_id=draft.form_id,
        audience=draft.audience or SurveyAudience.SCHOOL,
        audience_ids=",".join(str(i) for i in draft.audience_ids),
        share=draft.share,
        seed=new_seed(),
        deadline=draft.deadline,
        created_by=staff.id,
        created_at=ctx.now,
    )
    ctx.session.add(survey)
    await ctx.session.flush()
    try:
        await draw_survey(ctx.session, survey, minimum=ctx.rules.survey_min_share)
    except SurveyRefused as refused:
        await discard_unsent(ctx.session, ctx.school.id or 0, staff.id or 0)
        draft.deadline = None
        draft.forget_audience()
        return await q.ask(State.AUDIENCE, draft, ctx, _refused(ctx, refused))
    draft.survey_id = survey.id
    return await q.ask(State.DRAW, draft, ctx)


async def _drawn(draft: SurveyDraft, ctx: Context) -> Survey | None:
    """The survey of this conversation, still drawn and not sent."""
    if draft.survey_id is None:
        return None
    survey = await ctx.session.get(Survey, draft.survey_id)
    if survey is None or survey.school_id != ctx.school.id:
        return None
    if ctx.staff is None or survey.created_by != ctx.staff.id:
        return None
    return survey if survey.status is SurveyStatus.DRAWN else None


async def decide(inbound: Inbound, draft: SurveyDraft, ctx: Context) -> Transition:
    """发送 / 重新抽样 / 取消 under the draw."""
    _ = ctx.t._
    data = inbound.callback
    if data not in (q.SEND, q.REDRAW, q.CANCEL):
        return await q.ask(State.DRAW, draft, ctx, button_note(inbound, ctx))
    survey = await _drawn(draft, ctx)
    if survey is None:
        return Transition.end(Reply(_("这份问卷已经发出或已取消，没有重复发送。")))
    if data == q.CANCEL:
        await discard_unsent(ctx.session, ctx.school.id or 0, survey.created_by or 0)
        return Transition.end(Reply(_("已取消，这次抽样没有保存。")))
    if data == q.REDRAW:
        try:
            await redraw_survey(
                ctx.session, survey, seed=new_seed(), minimum=ctx.rules.survey_min_share
            )
        except SurveyRefused as refused:
            await discard_unsent(ctx.session, ctx.school.id or 0, survey.created_by or 0)
            return Transition.end(Reply(_refused(ctx, refused)))
        return await q.ask(State.DRAW, draft, ctx, _("已重新抽样："))
    form = await q.form_of(ctx, survey.form_id)
    if form is None:
        return Transition.end(Reply(_("这份问卷已不能发出（问卷可能已归档），本次没有发送。")))
    sent = await send_survey(ctx, survey, form)
    text = _("问卷“{form}”已发出：已发送 {sent} 户，{unbound} 户未绑定账号。").format(
        form=form.name, sent=sent.reached, unbound=sent.unbound
    )
    if sent.unbound:
        text += "\n" + _("未绑定账号的家庭收不到邀请，可请班主任提醒家长绑定。")
    return Transition.end(Reply(text))


STEPS = {
    State.FORM: choose_form,
    State.AUDIENCE: choose_audience,
    State.GRADES: choose_grades,
    State.CLASSES: choose_classes,
    State.SHARE: choose_share,
    State.DEADLINE: choose_deadline,
    State.DRAW: decide,
}

SURVEY_FLOW = Flow(
    name=FLOW,
    draft_type=SurveyDraft,
    steps=with_typed_labels(STEPS, q.question),
    start=start,
    commands=("survey", "问卷"),
    allowed=lambda ctx: ctx.staff is not None,
    refusal=N_("问卷调查由德育处和校长发起。"),
    describe=N_(
        "问卷调查：抽取家庭发出家长问卷，查看回收情况（/survey results 查看结果，"
        "/survey new 新建问卷）"
    ),
    draft_noun=N_("问卷抽样"),
)
