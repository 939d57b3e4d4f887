"""`/survey new` (新建问卷): 德育处 or the principal makes a form of the school's own from one it
has (a built-in template or one of its own forms; `handlers.surveys.form_menu` offers them): its
name, anonymous or named, its purpose, then the questions — add, change, delete, move up — and
保存问卷. The form lives in the conversation until then; saving writes it whole
(`models.surveys.forms.save_form`), or says everything that stops it and writes nothing."""

from __future__ import annotations

import re

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.flow import DraftLabel, Flow, is_staff, with_typed_labels
from handlers.hints import button_note, invalid, too_long
from handlers.i18n import N_, Translator
from handlers.surveys import form_questions as q
from handlers.surveys.form_states import FormDraft, Pick, QuestionDraft, State
from handlers.types import Inbound, Reply, Transition, callback_rest
from models.surveys.forms import (
    NAME_LIMIT,
    QUESTIONS_LIMIT,
    FormRefused,
    name_problem,
    name_taken,
    new_question,
    options_problem,
    prompt_problem,
    save_form,
    split_options,
    tidy,
)
from models.surveys.tables import PROMPT_LIMIT, FormPurpose, QuestionKind

FLOW = "survey_form"
#: Problems listed at most when saving is refused (the rest follow once these are fixed).
PROBLEMS_SHOWN = 5
#: `删除3`, `修改第2题`, `上移 4` typed on the editing screen.
_TYPED_PICK = re.compile(r"^(修改|删除|上移)\s*(?:第\s*)?(\d{1,2})\s*题?$")
_PICK_WORDS = {"修改": Pick.CHANGE, "删除": Pick.DELETE, "上移": Pick.UP}


def _number(text: str | None) -> int | None:
    ok = text is not None and text.isascii() and text.isdigit() and len(text) < 4
    return int(text) if ok and text is not None else None


def _typed(inbound: Inbound) -> str:
    return tidy(inbound.text or "") if inbound.callback is None else ""


async def _start(inbound: Inbound, draft: FormDraft, ctx: Context, args: str) -> Transition:
    """Only `/survey new`'s buttons start this conversation (`form_menu.open_form`)."""
    return Transition.end(Reply(ctx.t._("请发送 /survey new 新建问卷。")))


# -- name, anonymous, purpose -------------------------------------------------------------------


async def choose_name(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    name = _typed(inbound)
    if len(name) > NAME_LIMIT:
        return await q.ask(State.NAME, draft, ctx, too_long(ctx, NAME_LIMIT, len(name)))
    problem = name_problem(name)
    if problem is not None:
        return await q.ask(State.NAME, draft, ctx, problem.text(ctx.t._))
    if await name_taken(ctx.session, ctx.school.id or 0, name):
        note = ctx.t._("本校已有名为“{name}”的问卷（含已停用的），请换一个名字。").format(name=name)
        return await q.ask(State.NAME, draft, ctx, note)
    draft.name = name
    return await q.ask(State.ANONYMOUS, draft, ctx)


async def choose_anonymous(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    if inbound.callback not in (q.ANONYMOUS, q.NAMED):
        return await q.ask(State.ANONYMOUS, draft, ctx, button_note(inbound, ctx))
    draft.anonymous = inbound.callback == q.ANONYMOUS
    return await q.ask(State.PURPOSE, draft, ctx)


async def choose_purpose(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, q.PURPOSE)
    if value not in {p.value for p in FormPurpose}:
        return await q.ask(State.PURPOSE, draft, ctx, button_note(inbound, ctx))
    draft.purpose = FormPurpose(value)
    return await q.ask(State.EDIT, draft, ctx)


# -- the editing screen -------------------------------------------------------------------------


async def _picked(pick: Pick, number: int, draft: FormDraft, ctx: Context) -> Transition:
    """Question `number` (1, 2 …) changed, deleted or moved up."""
    _ = ctx.t._
    index = number - 1
    if not 0 <= index < len(draft.questions):
        note = _("没有第 {number} 题，问卷共 {count} 题。").format(
            number=number, count=len(draft.questions)
        )
        return await q.ask(State.EDIT, draft, ctx, note)
    draft.picking = None
    if pick is Pick.DELETE:
        del draft.questions[index]
        return await q.ask(
            State.EDIT, draft, ctx, _("已删除第 {number} 题。").format(number=number)
        )
    if pick is Pick.UP:
        if index == 0:
            return await q.ask(State.EDIT, draft, ctx, _("第 1 题已在最前面。"))
        questions = draft.questions
        questions[index - 1], questions[index] = questions[index], questions[index - 1]
        note = _("第 {number} 题已上移，现在是第 {now} 题。").format(number=number, now=number - 1)
        return await q.ask(State.EDIT, draft, ctx, note)
    draft.target = index
    return await q.ask(State.CHANGE, draft, ctx)


async def edit(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    typed = _TYPED_PICK.match(_typed(inbound))
    if typed is not None:
        return await _picked(_PICK_WORDS[typed.group(1)], int(typed.group(2)), draft, ctx)
    data = inbound.callback
    if data == q.ADD:
        if len(draft.questions) >= QUESTIONS_LIMIT:
            note = _("问卷最多 {limit} 道题，不能再添加了。").format(limit=QUESTIONS_LIMIT)
            return await q.ask(State.EDIT, draft, ctx, note)
        draft.adding, draft.target = None, None
        return await q.ask(State.KIND, draft, ctx)
    picks = {q.CHANGE: Pick.CHANGE, q.DELETE: Pick.DELETE, q.UP: Pick.UP}
    if data in picks:
        if not draft.questions:
            return await q.ask(State.EDIT, draft, ctx, _("问卷还没有题目，请先添加题目。"))
        draft.picking = picks[data]
        return await q.ask(State.PICK, draft, ctx)
    if data == q.SAVE:
        return await _save(draft, ctx)
    return await q.ask(State.EDIT, draft, ctx, button_note(inbound, ctx))


async def _save(draft: FormDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    staff = ctx.staff
    if staff is None or draft.name is None or draft.purpose is None or draft.anonymous is None:
        return Transition.end(Reply(_("这项操作已不可用，请重新开始。")))
    try:
        form = await save_form(
            ctx.session,
            school_id=ctx.school.id or 0,
            by=staff.id or 0,
            name=draft.name,
            purpose=draft.purpose,
            anonymous=draft.anonymous,
            questions=draft.specs(),
            copied_from=draft.base_id or None,
            actor=ctx.actor,
            now=ctx.now,
        )
    except FormRefused as refused:
        lines = [_("问卷没有保存：")]
        for problem in refused.problems[:PROBLEMS_SHOWN]:
            where = (
                _("第 {number} 题：").format(number=problem.position) if problem.position else ""
            )
            lines.append(where + problem.text(_))
        return await q.ask(State.EDIT, draft, ctx, "\n".join(lines))
    text = _("已保存问卷“{name}”，共 {count} 题。发送 /survey 就可以选它发出。").format(
        name=form.name, count=len(draft.questions)
    )
    return Transition.end(Reply(text))


async def pick(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    if inbound.callback == q.BACK:
        draft.picking = None
        return await q.ask(State.EDIT, draft, ctx)
    value = callback_rest(inbound.callback, q.NUMBER) if inbound.callback else _typed(inbound)
    number = _number(value)
    if number is None or draft.picking is None:
        return await q.ask(State.PICK, draft, ctx, button_note(inbound, ctx))
    if not 1 <= number <= len(draft.questions):
        return await q.ask(State.PICK, draft, ctx, invalid(ctx))
    return await _picked(draft.picking, number, draft, ctx)


# -- adding a question --------------------------------------------------------------------------


async def choose_kind(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    if inbound.callback == q.BACK:
        return await q.ask(State.EDIT, draft, ctx)
    value = callback_rest(inbound.callback, q.KIND)
    if value not in {k.value for k in QuestionKind}:
        return await q.ask(State.KIND, draft, ctx, button_note(inbound, ctx))
    draft.adding = QuestionDraft(kind=QuestionKind(value))
    return await q.ask(State.PROMPT, draft, ctx)


async def write_prompt(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    question = draft.edited()
    if question is None:
        return await q.ask(State.EDIT, draft, ctx)
    text = _typed(inbound)
    if len(text) > PROMPT_LIMIT:
        return await q.ask(State.PROMPT, draft, ctx, too_long(ctx, PROMPT_LIMIT, len(text)))
    problem = prompt_problem(text)
    if problem is not None:
        return await q.ask(State.PROMPT, draft, ctx, problem.text(ctx.t._))
    question.prompt = text
    if draft.adding is None:
        return await q.ask(State.CHANGE, draft, ctx, ctx.t._("已修改题目文字。"))
    if question.kind is QuestionKind.CHOICE:
        return await q.ask(State.OPTIONS, draft, ctx)
    return await q.ask(State.REQUIRED, draft, ctx)


async def write_options(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    question = draft.edited()
    if question is None:
        return await q.ask(State.EDIT, draft, ctx)
    options = split_options(inbound.text or "") if inbound.callback is None else []
    problem = options_problem(options)
    if problem is not None:
        return await q.ask(State.OPTIONS, draft, ctx, problem.text(ctx.t._))
    question.options = options
    if draft.adding is None:
        return await q.ask(State.CHANGE, draft, ctx, ctx.t._("已修改选项。"))
    return await q.ask(State.REQUIRED, draft, ctx)


async def choose_required(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    adding = draft.adding
    if adding is None:
        return await q.ask(State.EDIT, draft, ctx)
    if inbound.callback not in (q.YES, q.NO):
        return await q.ask(State.REQUIRED, draft, ctx, button_note(inbound, ctx))
    spec = new_question(
        adding.kind, adding.prompt, adding.options, required=inbound.callback == q.YES
    )
    draft.questions.append(QuestionDraft.of(spec))
    draft.adding = None
    note = ctx.t._("已添加第 {number} 题。").format(number=len(draft.questions))
    return await q.ask(State.EDIT, draft, ctx, note)


# -- changing a question ------------------------------------------------------------------------


async def change(inbound: Inbound, draft: FormDraft, ctx: Context) -> Transition:
    question = draft.edited()
    data = inbound.callback
    if data == q.BACK or question is None:
        draft.target = None
        return await q.ask(State.EDIT, draft, ctx)
    if data == q.WORDING:
        return await q.ask(State.PROMPT, draft, ctx)
    if data == q.OPTIONS and question.kind is QuestionKind.CHOICE:
        return await q.ask(State.OPTIONS, draft, ctx)
    if data == q.TOGGLE:
        question.required = not question.required
        note = ctx.t._("已改为必答。") if question.required else ctx.t._("已改为选答。")
        return await q.ask(State.CHANGE, draft, ctx, note)
    return await q.ask(State.CHANGE, draft, ctx, button_note(inbound, ctx))


async def describe_draft(
    draft: FormDraft, session: AsyncSession, t: Translator
) -> DraftLabel | None:
    return DraftLabel(doing=t._("新建问卷"), about=draft.name or draft.base_name)


STEPS = {
    State.NAME: choose_name,
    State.ANONYMOUS: choose_anonymous,
    State.PURPOSE: choose_purpose,
    State.EDIT: edit,
    State.KIND: choose_kind,
    State.PROMPT: write_prompt,
    State.OPTIONS: write_options,
    State.REQUIRED: choose_required,
    State.PICK: pick,
    State.CHANGE: change,
}

SURVEY_FORM_FLOW = Flow(
    name=FLOW,
    draft_type=FormDraft,
    # A name, a prompt or options typed are never a button's label.
    steps=with_typed_labels(STEPS, q.question, except_in=(State.NAME, State.PROMPT, State.OPTIONS)),
    start=_start,
    commands=(),
    allowed=is_staff,
    refusal=N_("问卷由德育处和校长编辑。"),
    describe_draft=describe_draft,
    draft_noun=N_("问卷编辑"),
)
