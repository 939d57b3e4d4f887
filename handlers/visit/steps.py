"""One step function per state: read the answer, check it, fill the draft, ask what comes next.

Every bad answer (text where a button is expected, an unknown or forged button, a student out
of scope, an impossible date, text over the column limit) gets a clear note and the same
question again; nothing is trusted from the callback data.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from handlers.context import Context
from handlers.flow import Step
from handlers.types import Inbound, Reply, Transition
from handlers.visit import questions as q
from handlers.visit.draft import VisitDraft
from handlers.visit.labels import MET_CHOICES
from handlers.visit.questions import ask, choose_hint, date_note, proceed, staff_of, too_long
from handlers.visit.render import field_line
from handlers.visit.save import save
from handlers.visit.states import SECTIONS, State
from handlers.visit.students import PAGE_SIZE, search
from models.scope import classes_in_scope, student_in_scope
from models.visit import VisitCategory, VisitForm
from models.visit_text import parse_visit_text
from models.visits import visit_date_problem

#: Longest text taken as a name search or a typed date.
NAME_LIMIT = 50


def invalid(ctx: Context) -> str:
    return ctx.t._("这个选项无效，请从下面重新选择。")


def _suffix(data: str | None, prefix: str) -> str | None:
    return data[len(prefix) :] if data is not None and data.startswith(prefix) else None


def _number(text: str | None) -> int | None:
    ok = text is not None and text.isascii() and text.isdigit() and len(text) < 12
    return int(text) if ok and text is not None else None


async def _button_only(
    state: State, inbound: Inbound, draft: VisitDraft, ctx: Context
) -> Transition:
    """Text where a button is expected, or a button this step does not know."""
    note = choose_hint(ctx) if inbound.callback is None else invalid(ctx)
    return await ask(state, draft, ctx, note)


# -- choosing the student --------------------------------------------------------------------


async def find_by_name(text: str, state: State, draft: VisitDraft, ctx: Context) -> Transition:
    """Typing part of a name: one match is chosen at once, several are offered as buttons."""
    _ = ctx.t._
    # From the class question (or `/visit 名字`), routing decides: one class skips to its list.
    again = proceed if state is State.CLASS else partial(ask, state)
    wanted = text.strip()
    if len(wanted) > NAME_LIMIT:
        return await again(draft, ctx, too_long(ctx, NAME_LIMIT, len(wanted)))
    found = await search(session=ctx.session, staff=staff_of(ctx), text=wanted, limit=PAGE_SIZE + 1)
    if not found:
        note = _("在您的学生中没有找到姓名包含“{text}”的学生。").format(text=wanted)
        return await again(draft, ctx, note)
    if len(found) == 1:
        draft.student_id, draft.candidates = found[0].id, []
        return await proceed(draft, ctx, field_line(ctx.t, State.STUDENT, found[0].label))
    draft.candidates = [p.id for p in found[:PAGE_SIZE]]
    notes = [_("找到 {count} 位姓名相近的学生。").format(count=len(draft.candidates))]
    if len(found) > PAGE_SIZE:
        notes = [
            _("匹配的学生较多，只列出前 {count} 位；可以输入更完整的姓名。").format(count=PAGE_SIZE)
        ]
    return await ask(State.STUDENT, draft, ctx, *notes)


async def choose_class(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    if inbound.callback is None:
        if inbound.text and inbound.text.strip():
            return await find_by_name(inbound.text, State.CLASS, draft, ctx)
        return await _button_only(State.CLASS, inbound, draft, ctx)
    class_id = _number(_suffix(inbound.callback, q.CLASS))
    classes = await classes_in_scope(session=ctx.session, staff=staff_of(ctx))
    if class_id is None or class_id not in {k.id for k in classes}:
        return await ask(State.CLASS, draft, ctx, invalid(ctx))
    draft.class_id, draft.candidates, draft.page = class_id, [], 0
    return await proceed(draft, ctx)


async def choose_student(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    data = inbound.callback
    if data is None:
        if inbound.text and inbound.text.strip():
            return await find_by_name(inbound.text, State.STUDENT, draft, ctx)
        return await _button_only(State.STUDENT, inbound, draft, ctx)
    if data == q.BY_CLASS:
        draft.forget_student()
        return await proceed(draft, ctx)
    page = _number(_suffix(data, q.PAGE))
    if page is not None:
        draft.page = page
        return await ask(State.STUDENT, draft, ctx)
    student_id = _number(_suffix(data, q.STUDENT))
    if student_id is None:
        return await ask(State.STUDENT, draft, ctx, invalid(ctx))
    student = await student_in_scope(
        session=ctx.session, staff=staff_of(ctx), student_id=student_id
    )
    if student is None:
        note = _("不能为这位学生记录家访：该生不在您任教或负责的班级、小组中。请重新选择。")
        return await ask(State.STUDENT, draft, ctx, note)
    draft.student_id, draft.candidates = student.id, []
    return await proceed(draft, ctx)


# -- form, category ----------------------------------------------------------------------------


async def choose_form(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    value = _suffix(inbound.callback, q.FORM)
    if value not in {f.value for f in VisitForm}:
        return await _button_only(State.FORM, inbound, draft, ctx)
    draft.form = VisitForm(value)
    return await proceed(draft, ctx)


async def choose_category(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    value = _suffix(inbound.callback, q.CATEGORY)
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
    if data == q.TODAY:
        day = ctx.today
    elif data == q.YESTERDAY:
        day = ctx.today - timedelta(days=1)
    elif data is None and inbound.text and inbound.text.strip():
        text = inbound.text.strip()
        parsed = (
            parse_visit_text(text, today=ctx.today, names=()) if len(text) <= NAME_LIMIT else None
        )
        if parsed is None or parsed.visit_date is None:
            note = _("没能看懂这个日期。请按 11月20日 或 2026-11-20 的格式输入，或点下面的按钮。")
            return await ask(State.DATE, draft, ctx, note)
        day = parsed.visit_date
    else:
        return await _button_only(State.DATE, inbound, draft, ctx)
    problem = visit_date_problem(day, today=ctx.today, school=ctx.school)
    if problem is not None:
        return await ask(State.DATE, draft, ctx, date_note(ctx, problem))
    draft.visit_date = day
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
        who = _suffix(data, q.MET)
        if who not in MET_CHOICES:
            return await ask(State.MET, draft, ctx, invalid(ctx))
        draft.met = who
        return await proceed(draft, ctx)
    text = (inbound.text or "").strip()
    if not text:
        return await ask(State.MET, draft, ctx, _("请点选下面的选项，或直接输入见到的是谁。"))
    if len(text) > q.MET_LIMIT:
        return await ask(State.MET, draft, ctx, too_long(ctx, q.MET_LIMIT, len(text)))
    draft.met = text
    return await proceed(draft, ctx)


# -- the record's sections, problems, and the school flag ----------------------------------------


def text_step(state: State) -> Step:
    """A step that takes free text (≤ 2,000 characters) into the draft field named like `state`."""
    empty = q.SKIP if state in SECTIONS else q.NONE

    async def step(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
        _ = ctx.t._
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
            if state is State.PROBLEMS and text in (_("无"), "无", "没有"):
                text = ""
        setattr(draft, state.value, text)
        if state is State.PROBLEMS:
            # A new answer to "problems" needs a new answer to "does it need the school".
            draft.needs_school = None if text else False
        return await proceed(draft, ctx)

    return step


async def choose_needs_school(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    if inbound.callback not in (q.NEEDS_YES, q.NEEDS_NO):
        return await _button_only(State.NEEDS_SCHOOL, inbound, draft, ctx)
    draft.needs_school = inbound.callback == q.NEEDS_YES
    return await proceed(draft, ctx)


# -- summary and editing ---------------------------------------------------------------------


async def summary(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    if inbound.callback == q.SAVE:
        return await save(draft, ctx)
    if inbound.callback == q.EDIT:
        return await ask(State.EDIT, draft, ctx)
    if inbound.callback == q.CANCEL:
        return Transition.end(Reply(ctx.t._("已取消，这次家访记录没有保存。")))
    return await _button_only(State.SUMMARY, inbound, draft, ctx)


async def edit(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition:
    if inbound.callback == q.BACK:
        return await ask(State.SUMMARY, draft, ctx)
    value = _suffix(inbound.callback, q.FIELD)
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
    return await ask(field, draft, ctx)
