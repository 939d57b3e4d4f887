"""Each state's question (text and buttons), and `proceed`: ask whatever the draft needs next.

Questions are rebuilt from the draft every time, so asking again after bad input, after a restart
or after 修改 always shows the same buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from handlers.context import Context
from handlers.dispatcher import NUMBERED_CHANNELS
from handlers.types import Button, Reply, Transition
from handlers.visit.draft import VisitDraft
from handlers.visit.labels import (
    CATEGORY_NAMES,
    FIELD_NAMES,
    FORM_NAMES,
    MET_CHOICES,
    TEXT_PROMPTS,
)
from handlers.visit.render import field_line, format_date, summary_card
from handlers.visit.states import SECTIONS, TEXT_STATES, State, next_state
from handlers.visit.students import class_page, pupils
from models.people import Staff
from models.scope import classes_in_scope
from models.visit import VisitCategory, VisitForm
from models.visits import DateProblem, school_year_first_day

#: Longest free text a section takes (the column size of `Visit`).
TEXT_LIMIT = 2000
#: Longest answer to "who was met" (the column size of `Visit.met`).
MET_LIMIT = 50

# Callback data. Values after the colon are checked again by the steps (never trusted).
CLASS, STUDENT, PAGE, BY_CLASS = "cls:", "stu:", "page:", "cls:back"
FORM, CATEGORY = "form:", "cat:"
TODAY, YESTERDAY, OTHER_DATE = "date:today", "date:yesterday", "date:other"
MET, MET_OTHER = "met:", "met:other"
SKIP, NONE = "skip", "none"
NEEDS_YES, NEEDS_NO = "ns:yes", "ns:no"
SAVE, EDIT, CANCEL = "save", "edit", "cancel"
FIELD, BACK = "field:", "back"

#: The fields 修改 offers (the student, the record, and the problem flag when there is a problem).
EDITABLE: tuple[State, ...] = (
    State.STUDENT,
    State.FORM,
    State.CATEGORY,
    State.DATE,
    State.MET,
    *SECTIONS,
    State.PROBLEMS,
    State.NEEDS_SCHOOL,
    State.NOTES,
)


def staff_of(ctx: Context) -> Staff:
    """The teacher logging the visit (the flow is only offered to staff)."""
    if ctx.staff is None:
        raise PermissionError("the visit flow needs a staff member")
    return ctx.staff


def rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def choose_hint(ctx: Context) -> str:
    """A gentle nudge when text arrives where a button is expected."""
    if ctx.channel in NUMBERED_CHANNELS:
        return ctx.t._("请回复选项前面的数字来选择。")
    return ctx.t._("请点下面的按钮来选择。")


def too_long(ctx: Context, limit: int, length: int) -> str:
    return ctx.t._(
        "内容太长了：最多 {limit} 个字，您发来的有 {length} 个字。请精简后重新发送。"
    ).format(limit=limit, length=length)


def date_note(ctx: Context, problem: DateProblem) -> str:
    """Why a date was refused, with the limit the teacher has to respect."""
    _ = ctx.t._
    if problem is DateProblem.FUTURE:
        return _("家访日期不能晚于今天（{today}）。请记录已经完成的家访。").format(
            today=format_date(ctx.t, ctx.today)
        )
    start = school_year_first_day(today=ctx.today, school=ctx.school)
    return _("家访日期不能早于本学年开始的 {start}。").format(start=format_date(ctx.t, start))


async def ask(state: State, draft: VisitDraft, ctx: Context, *notes: str) -> Transition:
    """Ask `state`'s question, with `notes` (already translated) above it."""
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: VisitDraft, ctx: Context, *notes: str) -> Transition:
    """Ask the next question the draft needs; a teacher with one class never picks the class."""
    state = next_state(draft)
    if state is State.CLASS:
        classes = await classes_in_scope(session=ctx.session, staff=staff_of(ctx))
        if not classes:
            text = ctx.t._(
                "名册中还没有您任教或负责的学生，暂时无法记录家访。请联系德育处核对名册。"
            )
            return Transition.end(Reply("\n".join([*notes, text])))
        if len(classes) == 1:
            draft.class_id = classes[0].id
            state = State.STUDENT
    return await ask(state, draft, ctx, *notes)


async def question(state: State, draft: VisitDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


Question = tuple[str, list[list[Button]]]
QuestionBuilder = Callable[[VisitDraft, Context], Awaitable[Question]]


async def _class(draft: VisitDraft, ctx: Context) -> Question:
    classes = await classes_in_scope(session=ctx.session, staff=staff_of(ctx))
    buttons = [Button(k.name, f"{CLASS}{k.id}") for k in classes]
    return ctx.t._("请选择学生所在的班级（也可以直接输入学生姓名查找）："), rows(buttons, 3)


async def _student(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    staff = staff_of(ctx)
    back = Button(_("按班级选择"), BY_CLASS)
    if draft.candidates:
        found = await pupils(session=ctx.session, staff=staff, ids=draft.candidates)
        buttons = [[Button(p.label, f"{STUDENT}{p.id}")] for p in found]
        return _("请选择是哪一位学生："), [*buttons, [back]]
    page = await class_page(
        session=ctx.session, staff=staff, class_id=draft.class_id or 0, page=draft.page
    )
    names = [Button(p.student.name, f"{STUDENT}{p.id}") for p in page.pupils]
    klass = page.pupils[0].klass.name if page.pupils else ""
    nav = []
    if page.number > 0:
        nav.append(Button(_("上一页"), f"{PAGE}{page.number - 1}"))
    if page.number + 1 < page.count:
        nav.append(Button(_("下一页"), f"{PAGE}{page.number + 1}"))
    several = len(await classes_in_scope(session=ctx.session, staff=staff)) > 1
    extra = [Button(_("换个班级"), BY_CLASS)] if several else []
    text = _("{klass}（第 {page}/{pages} 页）：请选择学生，也可以直接输入姓名查找。").format(
        klass=klass, page=page.number + 1, pages=page.count
    )
    return text, [*rows(names, 4), nav, extra]


async def _form(draft: VisitDraft, ctx: Context) -> Question:
    buttons = [Button(ctx.t._(FORM_NAMES[f]), f"{FORM}{f.value}") for f in VisitForm]
    return ctx.t._("请选择家访形式："), rows(buttons, 3)


async def _category(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    order = [VisitCategory.ROUTINE, VisitCategory.KEY, VisitCategory.IMMEDIATE]
    text = _("请选择家访分类：")
    found = await pupils(session=ctx.session, staff=staff_of(ctx), ids=[draft.student_id or 0])
    tags = found[0].student.tag_list() if found else []
    if tags:
        order = [VisitCategory.KEY, VisitCategory.ROUTINE, VisitCategory.IMMEDIATE]
        reason = _("该生为{tags}学生，建议选择重点家访。").format(
            tags=_("、").join(_(tag) for tag in tags)
        )
        text = f"{reason}\n{text}"
    buttons = [Button(_(CATEGORY_NAMES[c]), f"{CATEGORY}{c.value}") for c in order]
    return text, [buttons]


async def _date(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [
        Button(_("今天"), TODAY),
        Button(_("昨天"), YESTERDAY),
        Button(_("其他日期"), OTHER_DATE),
    ]
    return _("家访是哪一天？"), [buttons]


async def _met(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(who), f"{MET}{who}") for who in MET_CHOICES]
    buttons.append(Button(_("其他"), MET_OTHER))
    return _("这次见到的是学生的哪位家长或看护人？"), rows(buttons, 4)


def _text_question(state: State) -> QuestionBuilder:
    async def build(draft: VisitDraft, ctx: Context) -> Question:
        _ = ctx.t._
        lines = [field_line(ctx.t, state, _(TEXT_PROMPTS[state]))]
        if state in SECTIONS:
            lines[0] = f"({SECTIONS.index(state) + 1}/{len(SECTIONS)}) {lines[0]}"
            lines.append(
                _("请简要输入（最多 {limit} 字），没有可点“跳过”。").format(limit=TEXT_LIMIT)
            )
        current = getattr(draft, state.value)
        if current:
            lines.append(_("当前内容：{value}").format(value=current))
        button = Button(_("跳过"), SKIP) if state in SECTIONS else Button(_("无"), NONE)
        return "\n".join(lines), [[button]]

    return build


async def _needs_school(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_("需要学校处理"), NEEDS_YES), Button(_("不需要"), NEEDS_NO)]
    return _("这个问题需要学校处理吗？选择“需要学校处理”后，会立即转告德育处。"), [buttons]


async def _summary(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    found = await pupils(session=ctx.session, staff=staff_of(ctx), ids=[draft.student_id or 0])
    card = summary_card(ctx.t, draft, found[0] if found else None)
    buttons = [Button(_("保存"), SAVE), Button(_("修改"), EDIT), Button(_("取消"), CANCEL)]
    return card, [buttons]


async def _edit(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    fields = [s for s in EDITABLE if s is not State.NEEDS_SCHOOL or draft.problems]
    buttons = [Button(_(FIELD_NAMES[s]), f"{FIELD}{s.value}") for s in fields]
    return _("要修改哪一项？"), [*rows(buttons, 3), [Button(_("返回核对"), BACK)]]


_QUESTIONS: dict[State, QuestionBuilder] = {
    State.CLASS: _class,
    State.STUDENT: _student,
    State.FORM: _form,
    State.CATEGORY: _category,
    State.DATE: _date,
    State.MET: _met,
    **{state: _text_question(state) for state in TEXT_STATES},
    State.NEEDS_SCHOOL: _needs_school,
    State.SUMMARY: _summary,
    State.EDIT: _edit,
}
