"""Each state's question (text and buttons), and `proceed`: ask whatever the draft needs next.

Questions are rebuilt from the draft every time, so asking again after bad input, after a restart
or after 修改 always shows the same buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from handlers.context import Context
from handlers.duty_notices import format_moment, reason_text
from handlers.i18n import N_
from handlers.student_picker import TEACHER_PICKER, Empty
from handlers.summary import Summary
from handlers.types import Button, Reply, Transition
from handlers.visit.campaign import (
    ask_campaign_form,
    campaign_form_due,
    campaign_of,
    double_text,
    form_fields,
    summary_extras,
)
from handlers.visit.draft import VisitDraft
from handlers.visit.labels import (
    CATEGORY_NAMES,
    FIELD_NAMES,
    FORM_NAMES,
    MET_CHOICES,
    TEXT_PROMPTS,
)
from handlers.visit.render import (
    day_words,
    family_line,
    field_line,
    format_date,
    summary_card,
)
from handlers.visit.states import SECTIONS, TEXT_STATES, State, next_state
from models.audit.tables import tags_read
from models.duties.queries import open_duties_for_student
from models.families.rules import CAMPAIGN_FIELDS, label_of
from models.roster.tables import Staff
from models.visits.queries import (
    DateProblem,
    recorded_like,
    school_year_first_day,
    visit_history,
)
from models.visits.tables import VisitCategory, VisitForm

#: Longest free text a section takes (the column size of `Visit`).
TEXT_LIMIT = 2000
#: Longest answer to "who was met" (the column size of `Visit.met`).
MET_LIMIT = 50
#: Longest reason for a late filing (the column size of `Visit.late_reason`).
LATE_REASON_LIMIT = 200

# Callback data. Values after the colon are checked again by the steps (never trusted).
# The student picker owns cls:/stu:/page:/grade: (`handlers.student_picker.PREFIXES`).
FORM, CATEGORY = "form:", "cat:"
TODAY, YESTERDAY, OTHER_DATE = "date:today", "date:yesterday", "date:other"
MET, MET_OTHER = "met:", "met:other"
SKIP, NONE = "skip", "none"
NEEDS_YES, NEEDS_NO = "ns:yes", "ns:no"
SAVE = "save"
FIELD, BACK = "field:", "back"
#: 是 / 不是 for a proposed student; 仍要保存 / 不保存 for a visit like one already recorded.
GUESS_YES, GUESS_NO = "guess:yes", "guess:no"
REPEAT_SAVE, REPEAT_DROP = "repeat:save", "repeat:drop"
#: 仍要记录 / 返回修改 for a household another teacher visited first in the 大走访.
DOUBLE_SAVE, DOUBLE_BACK = "double:save", "double:back"
#: The household form: open it (from 家庭情况), answer a field, skip it, or end the form.
FAMILY_OPEN, FAMILY_ANSWER, FAMILY_SKIP, FAMILY_DONE = "ff:open", "ff:", "ff:-skip", "ff:-done"

#: The fields 修改 offers (the student, the record, and the problem flag when there is a problem).
EDITABLE: tuple[State, ...] = (
    State.STUDENT,
    State.FORM,
    State.CATEGORY,
    State.DATE,
    State.LATE_REASON,
    State.MET,
    *SECTIONS,
    State.FAMILY_FORM,
    State.PROBLEMS,
    State.NEEDS_SCHOOL,
    State.NOTES,
)

#: The summary's 保存 / 修改 / 取消.
SUMMARY = Summary(N_("保存"), SAVE, cancelled=N_("已取消，这次家访记录没有保存。"))


def staff_of(ctx: Context) -> Staff:
    """The teacher logging the visit (the flow is only offered to staff)."""
    if ctx.staff is None:
        raise PermissionError("the visit flow needs a staff member")
    return ctx.staff


def rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def date_note(ctx: Context, problem: DateProblem, words: str = "") -> str:
    """Why a date was refused, with the limit the teacher has to respect (and the words the
    date was read from, when it came from a sentence: `明天`)."""
    _ = ctx.t._
    if problem is DateProblem.FUTURE:
        if words:
            return _(
                "家访日期不能晚于今天（{today}）：“{words}”是将来的日期。请写已经做过的家访。"
            ).format(today=format_date(ctx.t, ctx.today), words=words)
        return _("家访日期不能晚于今天（{today}）。请记录已经完成的家访。").format(
            today=format_date(ctx.t, ctx.today)
        )
    start = school_year_first_day(today=ctx.today, school=ctx.school)
    return _("家访日期不能早于本学年开始的 {start}。").format(start=format_date(ctx.t, start))


async def ask(state: State, draft: VisitDraft, ctx: Context, *notes: str) -> Transition:
    """Ask `state`'s question, with `notes` (already translated) above it."""
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: VisitDraft, ctx: Context, *notes: str) -> Transition:
    """Ask the next question the draft needs; a teacher with one class never picks the class.
    Past the household section, a 大走访 covering the student asks its questions (once)."""
    if campaign_form_due(draft):
        await ask_campaign_form(draft, ctx)
    if next_state(draft) is State.CLASS:
        opened = await TEACHER_PICKER.begin(draft, ctx)
        if isinstance(opened, Empty):
            return Transition.end(Reply("\n".join([*notes, opened.text])))
    return await ask(next_state(draft), draft, ctx, *notes)


async def question(state: State, draft: VisitDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


Question = tuple[str, list[list[Button]]]
QuestionBuilder = Callable[[VisitDraft, Context], Awaitable[Question]]


async def _student(draft: VisitDraft, ctx: Context) -> Question:
    """The picker's question: classes (or grades), a class's page, or a search's matches."""
    return await TEACHER_PICKER.question(draft, ctx)


async def _form(draft: VisitDraft, ctx: Context) -> Question:
    buttons = [Button(ctx.t._(FORM_NAMES[f]), f"{FORM}{f.value}") for f in VisitForm]
    lines = await briefing(draft, ctx)
    return "\n".join([*lines, ctx.t._("请选择家访形式：")]), rows(buttons, 3)


async def briefing(draft: VisitDraft, ctx: Context) -> list[str]:
    """Before the visit (seed 000: 家访前要做好准备): the student's last visit, and what was
    agreed or found then; two lines at most."""
    _ = ctx.t._
    history = await visit_history(
        session=ctx.session,
        student_id=draft.student_id or 0,
        since=school_year_first_day(today=ctx.today, school=ctx.school),
    )
    if history.last is None:
        return [_("本学年还没有这位学生的家访记录。")]
    last = history.last
    lines = [
        _("上次家访：{date} {form}（{teacher}）").format(
            date=format_date(ctx.t, last.visit_date),
            form=_(FORM_NAMES[last.form]),
            teacher=last.teacher_name,
        )
    ]
    parts = []
    if history.measures:
        parts.append(_("商定的措施：{text}").format(text=_clipped(history.measures)))
    if history.problem:
        parts.append(_("待跟进的问题：{text}").format(text=_clipped(history.problem)))
    if parts:
        lines.append(_("；").join(parts))
    return lines


def _clipped(text: str, limit: int = 40) -> str:
    """A long section cut to one line."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def _late_reason(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    lines = [
        _("这次家访是 {days} 天前（{date}）的，超过了学校规定的 {limit} 天。").format(
            days=draft.late_days,
            date=format_date(ctx.t, draft.visit_date) if draft.visit_date else "",
            limit=ctx.rules.late_filing_days,
        ),
        _("请简单说明为什么现在才记录（最多 {limit} 字，德育处可见）：").format(
            limit=LATE_REASON_LIMIT
        ),
    ]
    if draft.late_reason:
        lines.append(_("当前内容：{value}").format(value=draft.late_reason))
    return "\n".join(lines), []


async def _category(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    order = [VisitCategory.ROUTINE, VisitCategory.KEY, VisitCategory.IMMEDIATE]
    text = _("请选择家访分类：")
    pupil = await TEACHER_PICKER.pupil(ctx, draft.student_id)
    tags = pupil.student.tag_list() if pupil else []
    if tags:
        await tags_read(
            ctx.session,
            actor=f"staff:{staff_of(ctx).id}",
            student_ids=[draft.student_id or 0],
            detail="visit",
        )
        order = [VisitCategory.KEY, VisitCategory.ROUTINE, VisitCategory.IMMEDIATE]
        reason = _("该生为{tags}学生，建议选择重点家访。").format(
            tags=_("、").join(_(tag) for tag in tags)
        )
        text = f"{reason}\n{text}"
    duty_note = await _open_duty_note(draft, ctx)
    if duty_note:
        # An open immediate-visit duty comes before everything else.
        order = [VisitCategory.IMMEDIATE, *(c for c in order if c is not VisitCategory.IMMEDIATE)]
        text = f"{duty_note}\n{text}"
    buttons = [Button(_(CATEGORY_NAMES[c]), f"{CATEGORY}{c.value}") for c in order]
    return text, [buttons]


async def _open_duty_note(draft: VisitDraft, ctx: Context) -> str:
    """Tells the teacher about their open immediate-visit duty for this student, if any."""
    duties = await open_duties_for_student(
        session=ctx.session, teacher_id=staff_of(ctx).id or 0, student_id=draft.student_id or 0
    )
    if not duties:
        return ""
    _ = ctx.t._
    note = _("该生有一项待完成的立即家访（{reason}，{due} 前），建议选择立即家访。").format(
        reason=reason_text(ctx.t, duties[0]), due=format_moment(ctx.t, duties[0].due_at, ctx.zone)
    )
    if draft.form is not None and draft.form is not VisitForm.HOME:
        note += _("注意：只有上门家访才能完成这项任务。")
    return note


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
        if state is State.FAMILY:
            if draft.family_form:
                lines.append(family_line(ctx.t, draft.family_form))
            return "\n".join(lines), [[button, Button(_("填写家庭情况表"), FAMILY_OPEN)]]
        return "\n".join(lines), [[button]]

    return build


async def _family_form(draft: VisitDraft, ctx: Context) -> Question:
    """One field of the household form, with what was recorded before; the 大走访's questions
    say so before the first."""
    _ = ctx.t._
    fields = form_fields(draft)
    spec = fields[min(draft.family_form_at, len(fields) - 1)]
    lines = []
    if draft.family_form_at == 0 and fields == CAMPAIGN_FIELDS:
        campaign = await campaign_of(draft, ctx)
        if campaign is not None:
            lines.append(
                _(
                    "这位学生在大走访「{name}」范围内，请补充家庭情况（附2）；"
                    "与上次登记相同可点“不变”，都不变可点“结束填写”。"
                ).format(name=campaign.name)
            )
    lines.append(
        _("家庭情况表（{at}/{count}）{question}").format(
            at=draft.family_form_at + 1, count=len(fields), question=_(spec.question)
        )
    )
    known = draft.family_known.get(spec.field.value)
    if known is not None:
        lines.append(_("上次登记：{value}").format(value=_(label_of(spec, known))))
    buttons = [Button(_(label), f"{FAMILY_ANSWER}{value}") for value, label in spec.choices]
    skip = _("不变") if known is not None else _("跳过")
    return "\n".join(lines), [
        *rows(buttons, 3),
        [Button(skip, FAMILY_SKIP), Button(_("结束填写"), FAMILY_DONE)],
    ]


async def _needs_school(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_("需要学校处理"), NEEDS_YES), Button(_("不需要"), NEEDS_NO)]
    return _("这个问题需要学校处理吗？选择“需要学校处理”后，会立即转告德育处。"), [buttons]


async def _summary(draft: VisitDraft, ctx: Context) -> Question:
    card = summary_card(ctx.t, draft, await TEACHER_PICKER.pupil(ctx, draft.student_id))
    lines, extra = await summary_extras(draft, ctx)
    buttons = [SUMMARY.buttons(ctx)]
    if extra:
        buttons.append(extra)
    return "\n".join([card, *lines]), buttons


async def _edit(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    fields = [
        s
        for s in EDITABLE
        if (s is not State.NEEDS_SCHOOL or draft.problems)
        and (s is not State.LATE_REASON or draft.late_days)
    ]
    buttons = [Button(_(FIELD_NAMES[s]), f"{FIELD}{s.value}") for s in fields]
    return _("要修改哪一项？"), [*rows(buttons, 3), [Button(_("返回核对"), BACK)]]


async def _confirm_student(draft: VisitDraft, ctx: Context) -> Question:
    """`是张小明吗？` for a name written not quite right in a one-message log."""
    _ = ctx.t._
    pupil = await TEACHER_PICKER.pupil(ctx, draft.guess_id)
    label = pupil.label if pupil else ""
    text = _("您的学生中没有“{written}”。是{student}吗？").format(
        written=draft.guess_written, student=label
    )
    return text, [[Button(_("是"), GUESS_YES), Button(_("不是"), GUESS_NO)]]


async def duplicate_text(draft: VisitDraft, ctx: Context) -> str | None:
    """`今天已记录过张小明的上门家访，仍要再记一条吗？`, or None when no such visit is on record."""
    _ = ctx.t._
    if draft.student_id is None or draft.visit_date is None or draft.form is None:
        return None
    teachers = await recorded_like(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        student_id=draft.student_id,
        visit_date=draft.visit_date,
        form=draft.form,
    )
    if not teachers:
        return None
    pupil = await TEACHER_PICKER.pupil(ctx, draft.student_id)
    own = staff_of(ctx).name
    others = [name for name in teachers if name != own]
    text = _("{when}已记录过{student}的{form}，仍要再记一条吗？").format(
        when=day_words(ctx.t, draft.visit_date, ctx.today),
        student=pupil.student.name if pupil else "",
        form=_(FORM_NAMES[draft.form]),
    )
    if others:
        text += "\n" + _("已有的记录由{teachers}填写。").format(teachers=_("、").join(others))
    return text + "\n" + _("同一天对同一位学生的同一种家访只算一次；确实又做了一次才选“仍要保存”。")


async def _duplicate(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = await duplicate_text(draft, ctx) or _("要保存这条家访记录吗？")
    return text, [[Button(_("仍要保存"), REPEAT_SAVE), Button(_("不保存"), REPEAT_DROP)]]


async def _double_visit(draft: VisitDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = await double_text(draft, ctx) or _("要保存这条家访记录吗？")
    text += "\n" + _("同一户在大走访中只算一次入户；确实需要再去一次才选“仍要记录”。")
    return text, [[Button(_("仍要记录"), DOUBLE_SAVE), Button(_("返回修改"), DOUBLE_BACK)]]


_QUESTIONS: dict[State, QuestionBuilder] = {
    State.CLASS: _student,
    State.STUDENT: _student,
    State.CONFIRM_STUDENT: _confirm_student,
    State.DUPLICATE: _duplicate,
    State.DOUBLE_VISIT: _double_visit,
    State.FORM: _form,
    State.CATEGORY: _category,
    State.DATE: _date,
    State.LATE_REASON: _late_reason,
    State.MET: _met,
    **{state: _text_question(state) for state in TEXT_STATES},
    State.FAMILY_FORM: _family_form,
    State.NEEDS_SCHOOL: _needs_school,
    State.SUMMARY: _summary,
    State.EDIT: _edit,
}
