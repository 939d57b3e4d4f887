"""`/survey new` (新建问卷): the forms a new one may start from (the built-in templates and the
school's own forms still offered), each a button that opens the editing conversation
(`handlers.surveys.form_flow`) with its questions copied; and 停用问卷, which retires one of the
school's own forms (offered no more; its surveys and their results stay)."""

from __future__ import annotations

from handlers.actions import Action, action_button
from handlers.context import Context
from handlers.notice.converse import begin
from handlers.surveys import form_questions as q
from handlers.surveys.form_flow import FLOW
from handlers.surveys.form_states import FormDraft, QuestionDraft, State
from handlers.types import Inbound, Reply
from models.surveys.errors import SurveyRefused
from models.surveys.forms import FormSummary, retirable, retire_form, school_forms, spec_of
from models.surveys.tables import PURPOSE_LABELS, SurveyForm
from models.surveys.templates import ensure_templates, questions_of

NEW_WORDS = ("new", "新建")
#: Button (action) names: start from a form; list the forms to retire; retire one.
OPEN, RETIRE_LIST, RETIRE = "sfb", "sfh", "sfx"


async def _offered(ctx: Context) -> list[FormSummary]:
    await ensure_templates(ctx.session, ctx.school.id or 0, now=ctx.now)
    return await school_forms(ctx.session, ctx.school.id or 0)


def _line(ctx: Context, number: int, found: FormSummary) -> str:
    _ = ctx.t._
    form = found.form
    kind = _("内置") if form.template_key else _("本校")
    return _("{number}. {name}（{kind}，{purpose}，{anonymous}，{count} 题）").format(
        number=number,
        name=form.name,
        kind=kind,
        purpose=_(PURPOSE_LABELS[form.purpose]),
        anonymous=_("匿名") if form.anonymous else _("实名"),
        count=found.questions,
    )


async def new_form_menu(ctx: Context) -> Reply:
    """`/survey new`: which form to start from."""
    _ = ctx.t._
    offered = await _offered(ctx)
    lines = [_("新建问卷：请选择以哪份问卷为底稿（它的题目会复制过来，可以再修改）：")]
    lines += [_line(ctx, n, found) for n, found in enumerate(offered, start=1)]
    lines.append(_("已发出的问卷不会被改动：修改总是保存为一份新问卷。"))
    buttons = [[action_button(found.form.name, OPEN, found.form.id or 0)] for found in offered]
    if any(retirable(found.form, ctx.school.id or 0) for found in offered):
        buttons.append([action_button(_("停用问卷…"), RETIRE_LIST, 0)])
    return Reply.with_buttons("\n".join(lines), buttons)


async def _form(ctx: Context, argument: str) -> SurveyForm | None:
    """The school's form the button names, still offered (a forged id gives None)."""
    form = await ctx.session.get(SurveyForm, int(argument.partition(".")[0]))
    if form is None or form.school_id != ctx.school.id or form.archived:
        return None
    return form


async def open_form(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """A form chosen: the editing conversation begins with its questions and settings."""
    form = await _form(ctx, argument)
    if form is None:
        return [Reply(ctx.t._("这份问卷已不能选用（可能已停用），请重新发送 /survey new。"))]
    questions = [
        QuestionDraft.of(spec_of(question))
        for question in await questions_of(ctx.session, form.id or 0)
    ]
    draft = FormDraft(
        base_id=form.id or 0,
        base_name=form.name,
        anonymous=form.anonymous,
        purpose=form.purpose,
        questions=questions,
    )
    reply = await q.question(State.NAME, draft, ctx)
    return await begin(inbound, ctx, flow=FLOW, state=State.NAME, draft=draft, reply=reply)


async def retire_list(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    own = [f.form for f in await _offered(ctx) if retirable(f.form, ctx.school.id or 0)]
    if not own:
        return [Reply(_("本校没有可以停用的问卷（内置问卷不能停用）。"))]
    buttons = [
        [action_button(_("停用“{name}”").format(name=form.name), RETIRE, form.id or 0)]
        for form in own
    ]
    text = _("要停用哪份问卷？停用后不再供选用，已发出问卷的结果仍然保留。")
    return [Reply.with_buttons(text, buttons)]


async def retire(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    try:
        form = await retire_form(
            ctx.session, ctx.school.id or 0, int(argument.partition(".")[0]), actor=ctx.actor
        )
    except SurveyRefused as refused:
        return [Reply(_(refused.message).format(**refused.params))]
    return [
        Reply(
            _("已停用问卷“{name}”：它不再供选用，已发出问卷的结果仍然保留。").format(name=form.name)
        )
    ]


FORM_ACTIONS: list[Action] = [
    Action(OPEN, open_form),
    Action(RETIRE_LIST, retire_list),
    Action(RETIRE, retire),
]
