"""One step function per state: read the answer, check it, fill the draft, ask what comes next.

Every bad answer (text where a button is expected, an unknown or forged button, a student out
of scope, an impossible date, text over the column limit) gets a clear note and the same
question again; nothing is trusted from the callback data.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from handlers.context import Context
from handlers.flow import Step
from handlers.hints import button_note, invalid, too_long
from handlers.student_picker import TEACHER_PICKER, Empty, Outcome, Picked
from handlers.types import Inbound, Reply, Transition, callback_rest
from handlers.visit import questions as q
from handlers.visit.campaign import (
    CAMPAIGN_FORM,
    form_fields,
    open_campaign_form,
    open_household_form,
)
from handlers.visit.draft import VisitDraft
from handlers.visit.labels import MET_CHOICES
from handlers.visit.questions import ask, date_note, proceed
from handlers.visit.render import field_line
from handlers.visit.save import save
from handlers.visit.states import SECTIONS, State, next_state, question_order
from models.families.rules import parse_answer
from models.visits.message_rules import (
    Navigation,
    navigation_word,
    parse_visit_text,
    read_met,
    says_no_problem,
)
from models.visits.queries import visit_date_problem
from models.visits.tables import VisitCategory, VisitForm

#: Longest text taken as a typed date.
DATE_LIMIT = 50


async def _button_only(
    state: State, inbound: Inbound, draft: VisitDraft, ctx: Context
) -> Transition:
    """Text where a button is expected, or a button this step does not know."""
    return await ask(state, draft, ctx, button_note(inbound, ctx))


# -- choosing the student --------------------------------------------------------------------


async def start_with_name(text: str, draft: VisitDraft, ctx: Context) -> Transition:
    """`/visit 张小明`: search that name among the teacher's students first."""
    return await _after_picker(await TEACHER_PICKER.begin(draft, ctx, text), draft, ctx, typed=True)


async def choose_student(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    """Both picker states: a class, a grade, a page, a student pressed, or a name typed.

    The picker reads typed labels itself and checks every id against the teacher's scope again.
    """
    outcome = await TEACHER_PICKER.answer(inbound, draft, ctx)
    return await _after_picker(outcome, draft, ctx, typed=inbound.callback is None)


async def _after_picker(
    outcome: Outcome, draft: VisitDraft, ctx: Context, *, typed: bool
) -> Transition:
    if isinstance(outcome, Picked):
        draft.student_id = outcome.pupil.id
        # A typed name was searched: show whom it found.
        notes = [field_line(ctx.t, State.STUDENT, outcome.pupil.label)] if typed else []
        return await proceed(draft, ctx, *notes)
    if isinstance(outcome, Empty):
        return Transition.end(Reply(outcome.text))
    return await ask(next_state(draft), draft, ctx, *outcome.notes)


#: Typed answers to `是张小明吗？` besides the buttons' labels.
_YES = frozenset(("是", "是的", "对", "对的", "嗯", "没错", "yes", "y"))
_NO = frozenset(("不是", "不对", "否", "错了", "no", "n"))


async def confirm_student(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    """是: the proposed student (checked against the scope again); 不是: choose from the list."""
    typed = (inbound.text or "").strip().lower() if inbound.callback is None else ""
    yes = inbound.callback == q.GUESS_YES or typed in _YES
    no = inbound.callback == q.GUESS_NO or typed in _NO
    if not (yes or no):
        return await _button_only(State.CONFIRM_STUDENT, inbound, draft, ctx)
    guessed = draft.guess_id
    draft.guess_id, draft.guess_written = None, ""
    if yes:
        pupil = await TEACHER_PICKER.pupil(ctx, guessed)
        if pupil is not None:
            draft.student_id = pupil.id
            return await proceed(draft, ctx, field_line(ctx.t, State.STUDENT, pupil.label))
    return await proceed(draft, ctx)


# -- form, category ----------------------------------------------------------------------------


async def choose_form(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, q.FORM)
    if value not in {f.value for f in VisitForm}:
        return await _button_only(State.FORM, inbound, draft, ctx)
    draft.form = VisitForm(value)
    return await proceed(draft, ctx)


async def choose_category(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, q.CATEGORY)
    if value not in {c.value for c in VisitCategory}:
        return await _button_only(State.CATEGORY, inbound, draft, ctx)
    draft.category = VisitCategory(value)
    return await proceed(draft, ctx)


# -- date --------------------------------------------------------------------------------------


async def choose_date(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    data = inbound.callback
    if data == q.OTHER_DATE:
        prompt = _("请输入家访日期，例如 11月20日 或 2026-11-20：")
        return Transition.to(State.DATE, Reply(prompt))
    parsed = None
    if data == q.TODAY:
        day = ctx.today
    elif data == q.YESTERDAY:
        day = ctx.today - timedelta(days=1)
    elif data is None and inbound.text and inbound.text.strip():
        text = inbound.text.strip()
        parsed = (
            parse_visit_text(text, today=ctx.today, names=()) if len(text) <= DATE_LIMIT else None
        )
        if parsed is None or parsed.visit_date is None:
            note = _("没能看懂这个日期。请按 11月20日 或 2026-11-20 的格式输入，或点下面的按钮。")
            return await ask(State.DATE, draft, ctx, note)
        day = parsed.visit_date
    else:
        return await _button_only(State.DATE, inbound, draft, ctx)
    problem = visit_date_problem(day, today=ctx.today, school=ctx.school)
    if problem is not None:
        words = parsed.date_words if parsed is not None else ""
        return await ask(State.DATE, draft, ctx, date_note(ctx, problem, words))
    draft.set_date(day, today=ctx.today, limit=ctx.rules.late_filing_days)
    return await proceed(draft, ctx)


async def give_late_reason(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    """Why a visit more than the school's limit back is logged only now (required)."""
    _ = ctx.t._
    text = (inbound.text or "").strip() if inbound.callback is None else ""
    if not text:
        return await ask(State.LATE_REASON, draft, ctx, _("请用一句话说明原因。"))
    if len(text) > q.LATE_REASON_LIMIT:
        return await ask(
            State.LATE_REASON, draft, ctx, too_long(ctx, q.LATE_REASON_LIMIT, len(text))
        )
    draft.late_reason = text
    return await proceed(draft, ctx)


# -- who was met -------------------------------------------------------------------------------


async def choose_met(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    data = inbound.callback
    if data == q.MET_OTHER:
        return Transition.to(
            State.MET, Reply(_("请直接输入见到的是谁，例如：舅舅、姑姑、监护人。"))
        )
    if data is not None:
        who = callback_rest(data, q.MET)
        if who not in MET_CHOICES:
            return await ask(State.MET, draft, ctx, invalid(ctx))
        draft.met = who
        return await proceed(draft, ctx)
    text = (inbound.text or "").strip()
    if not text:
        return await ask(State.MET, draft, ctx, _("请点选下面的选项，或直接输入见到的是谁。"))
    if len(text) > q.MET_LIMIT:
        return await ask(State.MET, draft, ctx, too_long(ctx, q.MET_LIMIT, len(text)))
    answer = read_met(text, today=ctx.today)
    if answer.people is None:
        note = (
            _("“{text}”是一个日期，不是见到的人。").format(text=text)
            if answer.is_date
            else _("没看懂见到的是谁。")
        )
        hint = _("请点选见到的家长，或输入称呼，例如：爸爸和奶奶、舅舅、监护人。")
        return await ask(State.MET, draft, ctx, note + hint)
    draft.met = answer.people
    return await proceed(draft, ctx)


# -- the record's sections, problems, and the school flag ----------------------------------------


def text_step(state: State) -> Step:
    """A step that takes free text (≤ 2,000 characters) into the draft field named like `state`."""
    empty = q.SKIP if state in SECTIONS else q.NONE

    async def step(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
        _ = ctx.t._
        if state is State.FAMILY and inbound.callback == q.FAMILY_OPEN:
            return await open_family_form(draft, ctx)
        if inbound.callback is not None:
            if inbound.callback != empty:
                return await ask(state, draft, ctx, invalid(ctx))
            text = ""
        else:
            text = (inbound.text or "").strip()
            if not text:
                return await ask(state, draft, ctx, _("请用文字回答，或点下面的按钮。"))
            if len(text) > q.TEXT_LIMIT:
                return await ask(state, draft, ctx, too_long(ctx, q.TEXT_LIMIT, len(text)))
            if state is State.PROBLEMS and (text == _("无") or says_no_problem(text)):
                text = ""
        setattr(draft, state.value, text)
        if state is State.PROBLEMS:
            # A new answer to "problems" needs a new answer to "does it need the school".
            draft.needs_school = None if text else False
        return await proceed(draft, ctx)

    return step


async def open_family_form(draft: VisitDraft, ctx: Context) -> Transition:
    """Open the household form at its first field, showing what was recorded before (with the
    大走访's questions while one covers the student)."""
    await open_household_form(draft, ctx)
    return await proceed(draft, ctx)


async def answer_family_form(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    """One field of the household form: a button, a typed number, 跳过 / 不变, or 结束填写."""
    _ = ctx.t._
    fields = form_fields(draft)
    spec = fields[min(draft.family_form_at, len(fields) - 1)]
    data = inbound.callback
    if data == q.FAMILY_DONE:
        draft.family_form_open = False
        return await proceed(draft, ctx)
    if data != q.FAMILY_SKIP:
        if data is None and spec.number is not None:  # a typed number
            value = parse_answer(spec, inbound.text or "")
            note = _("请输入 {low}–{high} 之间的数字，或点下面的按钮。").format(
                low=spec.number.start, high=spec.number.stop - 1
            )
        else:
            answer = callback_rest(data, q.FAMILY_ANSWER)
            value = parse_answer(spec, answer) if answer is not None else None
            note = button_note(inbound, ctx)
        if value is None:
            return await ask(State.FAMILY_FORM, draft, ctx, note)
        draft.family_form[spec.field.value] = value
    draft.family_form_at += 1
    if draft.family_form_at >= len(fields):
        draft.family_form_open = False
    return await proceed(draft, ctx)


async def choose_needs_school(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    if inbound.callback not in (q.NEEDS_YES, q.NEEDS_NO):
        return await _button_only(State.NEEDS_SCHOOL, inbound, draft, ctx)
    draft.needs_school = inbound.callback == q.NEEDS_YES
    return await proceed(draft, ctx)


# -- summary and editing ---------------------------------------------------------------------


_summary = q.SUMMARY.step(state=State.SUMMARY, edit=State.EDIT, save=save, ask=ask)


async def summary(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    """保存 / 修改 / 取消, and 补充家庭情况 (the 大走访's questions) when the card offers it."""
    if inbound.callback == CAMPAIGN_FORM:
        if await open_campaign_form(draft, ctx):
            return await proceed(draft, ctx)
        return await ask(State.SUMMARY, draft, ctx, invalid(ctx))
    return await _summary(inbound, draft, ctx)


async def duplicate(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    """仍要保存: another visit the same day, saved and counted; 不保存: nothing is saved."""
    if inbound.callback == q.REPEAT_SAVE:
        draft.repeat_confirmed = True
        return await save(draft, ctx)
    if inbound.callback == q.REPEAT_DROP:
        return Transition.end(Reply(ctx.t._("好的，这条家访记录没有保存，不会重复计数。")))
    return await _button_only(State.DUPLICATE, inbound, draft, ctx)


async def double_visit(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    """仍要记录: saved (the household still counts once); 返回修改: nothing saved yet, the
    fields to change are offered."""
    if inbound.callback == q.DOUBLE_SAVE:
        draft.double_confirmed = True
        return await save(draft, ctx)
    if inbound.callback == q.DOUBLE_BACK:
        return await ask(State.EDIT, draft, ctx, ctx.t._("好的，还没有保存。"))
    return await _button_only(State.DOUBLE_VISIT, inbound, draft, ctx)


async def edit(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    if inbound.callback == q.BACK:
        return await ask(State.SUMMARY, draft, ctx)
    value = callback_rest(inbound.callback, q.FIELD)
    field = State(value) if value in {s.value for s in q.EDITABLE} else None
    if field is None:
        return await _button_only(State.EDIT, inbound, draft, ctx)
    if field is State.STUDENT:
        # The category depends on the student (重点 for special-type students): ask it again.
        draft.forget_student()
        draft.category = None
        return await proceed(draft, ctx)
    if field is State.NEEDS_SCHOOL and not draft.problems:
        return await ask(State.EDIT, draft, ctx, invalid(ctx))
    if field is State.FAMILY_FORM:
        return await open_family_form(draft, ctx)
    return await ask(field, draft, ctx)


# -- words that move instead of answering: 返回 / 上一步, 跳过 / skip, 取消 ----------------------

#: What 跳过 presses in the states that may be skipped.
_SKIP_PRESSES: dict[State, str] = {
    **dict.fromkeys(SECTIONS, q.SKIP),
    State.PROBLEMS: q.NONE,
    State.FAMILY_FORM: q.FAMILY_SKIP,
}


def with_navigation(state: State, step: Step) -> Step:
    """`step`, where a typed navigation word is never taken as the answer: 返回 / 上一步 ask
    the previous question, 跳过 / skip skips an optional question (a required one is asked
    again with a note), 取消 / 退出 end the visit without saving."""

    async def navigated(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
        sent_a_file = inbound.photo is not None or inbound.document is not None
        word = (
            navigation_word(inbound.text or "")
            if inbound.callback is None and not sent_a_file
            else None
        )
        if word is None:
            return await step(inbound, draft, ctx)
        _ = ctx.t._
        if word is Navigation.CANCEL:
            return Transition.end(Reply(_(q.SUMMARY.cancelled)))
        if word is Navigation.BACK:
            return await go_back(state, draft, ctx)
        if state is State.NOTES:
            draft.notes = ""
            return await proceed(draft, ctx)
        press = _SKIP_PRESSES.get(state)
        if press is None:
            return await ask(state, draft, ctx, _("这一项必须填写，不能跳过。"))
        return await step(replace(inbound, text=None, callback=press), draft, ctx)

    return navigated


async def go_back(state: State, draft: VisitDraft, ctx: Context) -> Transition:
    """The question before `state`: the one asked before it in this draft's order; a question
    reopened from 修改 goes back to the summary, the first one to choosing the student."""
    _ = ctx.t._
    note = _("好的，回到上一步。")
    if state is State.FAMILY_FORM:
        if draft.family_form_at > 0:
            draft.family_form_at -= 1
            return await ask(State.FAMILY_FORM, draft, ctx, note)
        draft.family_form_open = False
        return await ask(State.FAMILY, draft, ctx, note)
    order = question_order(draft)
    complete = next_state(draft) is State.SUMMARY
    if state in (State.EDIT, State.DUPLICATE, State.DOUBLE_VISIT) or (
        complete and state not in (State.SUMMARY,)
    ):
        return await ask(State.SUMMARY, draft, ctx, note)
    if state is State.SUMMARY:
        return await ask(order[-1], draft, ctx, note)
    if state in order and order.index(state) > 0:
        return await ask(order[order.index(state) - 1], draft, ctx, note)
    if state is State.FORM:
        draft.forget_student()
        return await proceed(draft, ctx, note)
    return await ask(state, draft, ctx, _("这已经是第一步了。"))
