"""One message instead of a conversation: `昨天电访李华妈妈 说孩子感冒`.

The message is read by `models.visits.message_rules` against the teacher's own students only; what it
recognises fills the draft, and the flow then asks only for what is still missing (student, form,
category, date, who was met) before the same summary card as `/visit`.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.hints import too_long
from handlers.student_picker import TEACHER_PICKER, Pupil
from handlers.types import Inbound, Reply, Transition
from handlers.visit.draft import VisitDraft
from handlers.visit.labels import CATEGORY_NAMES, FORM_NAMES
from handlers.visit.questions import TEXT_LIMIT, date_note, proceed
from handlers.visit.render import format_date, met_text
from models.roster.queries import school_student_names
from models.visits.message_rules import VISIT_TEXT_LIMIT, ParsedVisit, parse_visit_text
from models.visits.queries import visit_date_problem


def matching_pupils(parsed: ParsedVisit, pupils: list[Pupil]) -> list[Pupil]:
    """The students the message names; a class named in it narrows namesakes down."""
    named = [p for p in pupils if p.student.name in parsed.student_names]
    if parsed.class_name is not None:
        in_class = [p for p in named if (p.klass.grade, p.klass.number) == parsed.class_name]
        if in_class:
            return in_class
    return named


async def start_from_text(inbound: Inbound, draft: VisitDraft, ctx: Context) -> Transition | None:
    """Start a visit from a free-text message, or None when it does not read as a visit log."""
    if ctx.staff is None or not inbound.text or not inbound.text.strip():
        return None
    _ = ctx.t._
    pupils = await TEACHER_PICKER.roster(ctx)
    names = {p.student.name for p in pupils}
    parsed = parse_visit_text(inbound.text, today=ctx.today, names=names)
    if not parsed.student_names and (parsed.form is not None or parsed.guesses):
        # None of the teacher's students is named: read again knowing the school's others, so
        # one of them is named as such rather than guessed at or dropped.
        others = await school_student_names(session=ctx.session, school_id=ctx.school.id or 0)
        parsed = parse_visit_text(inbound.text, today=ctx.today, names=names, outside=others)
    if parsed.too_long:
        return Transition.end(Reply(too_long_for_one_message(ctx, len(inbound.text))))
    if not parsed.found_anything():
        return None
    if len(parsed.notes) > TEXT_LIMIT:
        return Transition.end(Reply(too_long(ctx, TEXT_LIMIT, len(parsed.notes))))
    notes = [_("好的，我来帮您记录这次家访。")]
    matches = matching_pupils(parsed, pupils)
    if len(matches) == 1:
        draft.student_id = matches[0].id
    elif matches:
        draft.candidates = [p.id for p in matches]
        if len({p.student.name for p in matches}) == 1:
            notes.append(
                _("您的学生中有 {count} 位叫{name}的同学。").format(
                    count=len(matches), name=matches[0].student.name
                )
            )
    if parsed.outside_names:
        notes.append(
            _("{names}不是您任教或负责的学生，不能由您记录家访。请从您的学生中选择：").format(
                names=_("、").join(parsed.outside_names)
            )
        )
    elif not matches and parsed.guesses:
        guess = parsed.guesses[0]
        near = [p for p in pupils if p.student.name in guess.names]
        if len(near) == 1:
            draft.guess_id, draft.guess_written = near[0].id, guess.written
        elif near:
            draft.candidates = [p.id for p in near]
            notes.append(
                _("您的学生中没有“{written}”，是下面哪一位？").format(written=guess.written)
            )
    if parsed.visit_date is not None:
        problem = visit_date_problem(parsed.visit_date, today=ctx.today, school=ctx.school)
        if problem is None:
            draft.set_date(parsed.visit_date, today=ctx.today, limit=ctx.rules.late_filing_days)
        else:
            notes.append(date_note(ctx, problem, parsed.date_words))
    draft.form = parsed.form
    draft.category = parsed.category
    draft.met = parsed.met
    draft.notes = parsed.notes
    draft.quick = True
    recognised = understood(ctx, draft, matches[0] if len(matches) == 1 else None)
    if recognised:
        notes.append(recognised)
    return await proceed(draft, ctx, *notes)


def too_long_for_one_message(ctx: Context, length: int) -> str:
    """A message over `VISIT_TEXT_LIMIT`: not read as a visit log; what to do instead."""
    return ctx.t._(
        "这条消息有 {length} 个字，太长了，没法当作一句话家访记录来读"
        "（一句话记录最多 {limit} 个字），所以没有处理。"
        "要记录家访，请发一句简短的记录，例如“昨天电访李华妈妈 说孩子感冒”，"
        "或发送 /visit 按步骤填写，详细情况可以在备注里写；要做别的事，请发送 /help 查看。"
    ).format(length=length, limit=VISIT_TEXT_LIMIT)


def understood(ctx: Context, draft: VisitDraft, pupil: Pupil | None) -> str:
    """One line with what the message gave, so the teacher sees how it was read."""
    _ = ctx.t._
    parts = [pupil.label] if pupil else []
    if draft.visit_date:
        parts.append(format_date(ctx.t, draft.visit_date))
    if draft.form:
        parts.append(_(FORM_NAMES[draft.form]))
    if draft.category:
        parts.append(_(CATEGORY_NAMES[draft.category]))
    if draft.met:
        parts.append(met_text(ctx.t, draft.met))
    return _("已识别：{parts}").format(parts=" · ".join(parts)) if parts else ""
