"""`/evaluation` (or 考核): teachers' evaluation 家访工作考核 in the chat.

- 德育处 and the principal (`Action.EVALUATION_VIEW` for the whole school): every teacher with
  their score, best first, and a button per teacher (`!evt:<staff>.<semester>`, `!evy:` for a
  school year) opening their figures month by month; a button per class (`!evc:`, `!evk:`)
  sends the class's chart, its teachers' scores as bars (`handlers.evaluation.chart`).
  `/evaluation 王芳` (or a 工号) opens a teacher, `/evaluation 三(2)班` a class.
- A teacher (their own reach): their own figures; another teacher's button or name is refused.
  `/quota` carries a 我的家访考核 button to it (`!evt:<own id>.0`).
- The period: the semester today falls in (in a break, the one just ended), or one named by its
  name or a date in it; `学年` for the school year. Semester 0 / year 0 in a button: the default.

The figures are `models.evaluation.queries.evaluation_report`'s, the same the export writes.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from handlers.actions import Action as ButtonAction
from handlers.actions import action_button
from handlers.context import Context
from handlers.evaluation.buttons import CLASS, CLASS_YEAR, TEACHER, TEACHER_YEAR
from handlers.evaluation.chart import class_chart, draw_class_chart
from handlers.evaluation.render import list_text, score_text, teacher_text
from handlers.flow import Flow, is_staff
from handlers.i18n import N_
from handlers.permissions import reach
from handlers.stored_png import stored_png
from handlers.types import Attachment, Button, Inbound, Reply, Transition
from models.evaluation.period import (
    Period,
    PeriodRefused,
    choose_period,
    semester_period,
    year_period,
)
from models.evaluation.queries import EvaluationReport, evaluation_report, school_terms
from models.permissions.matrix import Action, Reach
from models.school.tables import Term, TermKind

#: Teachers with a button under the list (the rest by `/evaluation 姓名`), and classes.
TEACHER_BUTTONS = 30
CLASS_BUTTONS = 60
YEAR_WORDS = frozenset({"学年", "本学年", "全学年", "year"})


class EvaluationDraft(BaseModel):
    """`/evaluation` answers at once: nothing to keep between messages."""


def _refused(ctx: Context, refused: PeriodRefused) -> Reply:
    return Reply(ctx.t._(refused.message).format(**refused.params))


def _no_data(ctx: Context, period: Period) -> Reply:
    if period.is_year:
        return Reply(ctx.t._("本学年还没有家访数据。"))
    return Reply(ctx.t._("本学期还没有家访数据。"))


def _has_data(report: EvaluationReport) -> bool:
    return report.visits > 0 or any(t.duties for t in report.teachers)


def _code(period: Period) -> str:
    return str(period.year_start.year if period.is_year else period.term_id or 0)


async def _report(ctx: Context, period: Period, whole: bool) -> EvaluationReport:
    own = None if whole or ctx.staff is None else [ctx.staff.id or 0]
    return await evaluation_report(
        ctx.session, ctx.school, period, now=ctx.now, rules=ctx.rules, staff_ids=own
    )


def _period(ctx: Context, terms: list[Term], *, year: bool, code: int) -> Period | None:
    """The period a button names: a semester by id, a school year by its first year; 0 the
    default one. None for a semester not (any more) in the calendar."""
    school = ctx.school
    month, day = school.year_start_month, school.year_start_day
    if code == 0:
        return choose_period(terms, None, ctx.today, year=year, month=month, start_day=day)
    if year:
        return year_period(date(code, month, day), terms, month=month, start_day=day)
    term = next((t for t in terms if t.id == code and t.kind == TermKind.SEMESTER), None)
    return semester_period(term, terms, month=month, start_day=day) if term else None


def _buttons(ctx: Context, report: EvaluationReport) -> list[list[Button]]:
    name = TEACHER_YEAR if report.period.is_year else TEACHER
    shown = report.teachers[:TEACHER_BUTTONS]
    found = [
        action_button(
            f"{t.name} {score_text(ctx.t, t.score) if t.score is not None else '—'}",
            name,
            f"{t.staff_id}.{_code(report.period)}",
        )
        for t in shown
    ]
    return [found[i : i + 3] for i in range(0, len(found), 3)]


def _class_reply(ctx: Context, report: EvaluationReport) -> Reply | None:
    name = CLASS_YEAR if report.period.is_year else CLASS
    classes = [c for c in report.classes if report.of_class(c.id)][:CLASS_BUTTONS]
    if not classes:
        return None
    found = [action_button(c.name, name, f"{c.id}.{_code(report.period)}") for c in classes]
    return Reply.with_buttons(
        ctx.t._("各班教师得分图表（每班一张）："),
        [found[i : i + 4] for i in range(0, len(found), 4)],
    )


def teacher_reply(ctx: Context, report: EvaluationReport, staff_id: int) -> Reply:
    teacher = report.teacher(staff_id)
    if teacher is None:
        return Reply(ctx.t._("没有这位教师的家访工作考核（只有任课、带班或带队的教师参加考核）。"))
    running = not report.period.finished(ctx.today)
    return Reply(teacher_text(ctx.t, report, teacher, ctx.rules, running=running))


async def _stored(ctx: Context, report: EvaluationReport, class_id: int, png: bytes) -> Attachment:
    return await stored_png(
        ctx.session,
        png,
        key=f"evaluation-chart:{ctx.school.id}:{class_id}:{_code(report.period)}",
        filename=f"evaluation-{class_id}.png",
    )


async def class_replies(ctx: Context, report: EvaluationReport, class_id: int) -> list[Reply]:
    _ = ctx.t._
    klass = next((c for c in report.classes if c.id == class_id), None)
    teachers = report.of_class(class_id)
    if klass is None or not teachers:
        return [Reply(_("这个班级没有参加考核的教师。"))]
    lines = [_("{klass} · {period}").format(klass=klass.name, period=report.period.label)]
    lines += [
        _("{name}（{role}）{score}").format(
            name=t.name,
            role=_("班主任") if t.staff_id == klass.head_teacher_id else _("任课教师或教练"),
            score=score_text(ctx.t, t.score),
        )
        for t in teachers
    ]
    text = "\n".join(lines)
    spec = class_chart(report, class_id, ctx.t)
    png = await draw_class_chart(spec) if spec is not None else None
    if png is None:
        return [Reply(text)]
    return [Reply(text, image=await _stored(ctx, report, class_id, png))]


def _match_teacher(report: EvaluationReport, word: str) -> int | None:
    found = [t for t in report.teachers if word in (t.name, t.staff_no)]
    return found[0].staff_id if len(found) == 1 else None


def _match_class(report: EvaluationReport, word: str) -> int | None:
    wanted = word.replace("（", "(").replace("）", ")")
    found = [c for c in report.classes if wanted in (c.name, c.name.removesuffix("班"))]
    return found[0].id if len(found) == 1 else None


async def start(inbound: Inbound, draft: EvaluationDraft, ctx: Context, args: str) -> Transition:
    _ = ctx.t._
    if ctx.staff is None:  # the gate lets only staff with a reach in
        return Transition.end(Reply(_(EVALUATION_FLOW.refusal)))
    terms = await school_terms(ctx.session, ctx.school.id or 0)
    names = {t.name for t in terms if t.kind == TermKind.SEMESTER}
    year, wanted, others = False, None, []
    for word in args.split():
        if word.lower() in YEAR_WORDS:
            year = True
        elif word in names or _is_date(word) or "学期" in word:
            wanted = word
        else:
            others.append(word)
    try:
        period = choose_period(
            terms,
            wanted,
            ctx.today,
            year=year,
            month=ctx.school.year_start_month,
            start_day=ctx.school.year_start_day,
        )
    except PeriodRefused as refused:
        return Transition.end(_refused(ctx, refused))
    whole = reach(ctx, Action.EVALUATION_VIEW) >= Reach.SCHOOL
    report = await _report(ctx, period, whole)
    if not whole:
        own = ctx.staff.id or 0
        if any(w not in (ctx.staff.name, ctx.staff.staff_no) for w in others):
            return Transition.end(Reply(_("您只能查看自己的家访工作考核。")))
        if report.teacher(own) is None:
            return Transition.end(Reply(_("您没有任教班级，也不带队，没有家访工作考核。")))
        return Transition.end(teacher_reply(ctx, report, own))
    if not _has_data(report):
        return Transition.end(_no_data(ctx, period))
    if others:
        word = " ".join(others)
        staff_id = _match_teacher(report, word)
        if staff_id is not None:
            return Transition.end(teacher_reply(ctx, report, staff_id))
        class_id = _match_class(report, word)
        if class_id is not None:
            return Transition.end(*await class_replies(ctx, report, class_id))
        return Transition.end(
            Reply(
                _(
                    "没有找到“{word}”。可以写教师的姓名或工号、班级（如 三(2)班）、"
                    "学期名称或开始日期，或“学年”。"
                ).format(word=word[:40])
            )
        )
    running = not period.finished(ctx.today)
    listing = Reply.with_buttons(
        list_text(ctx.t, report, ctx.rules, running=running)
        + "\n"
        + _("点按钮查看某位教师的逐月情况；也可以发送 /evaluation 姓名或工号。"),
        _buttons(ctx, report),
    )
    classes = _class_reply(ctx, report)
    return Transition.end(listing, *([classes] if classes is not None else []))


def _is_date(word: str) -> bool:
    try:
        date.fromisoformat(word)
    except ValueError:
        return False
    return True


def _ids(argument: str) -> tuple[int, int]:
    """`12.3` → (12, 3); the dispatcher lets only such arguments through."""
    first, _, second = argument.partition(".")
    return int(first), int(second or 0)


async def _button_period(ctx: Context, year: bool, code: int) -> Period | Reply:
    terms = await school_terms(ctx.session, ctx.school.id or 0)
    try:
        period = _period(ctx, terms, year=year, code=code)
    except PeriodRefused as refused:
        return _refused(ctx, refused)
    return period if period is not None else Reply(ctx.t._("校历中已没有这个学期。"))


async def _show_teacher(ctx: Context, argument: str, *, year: bool) -> list[Reply]:
    staff_id, code = _ids(argument)
    whole = reach(ctx, Action.EVALUATION_VIEW) >= Reach.SCHOOL
    if not whole and (ctx.staff is None or ctx.staff.id != staff_id):
        return [Reply(ctx.t._("您只能查看自己的家访工作考核。"))]
    period = await _button_period(ctx, year, code)
    if isinstance(period, Reply):
        return [period]
    report = await evaluation_report(
        ctx.session, ctx.school, period, now=ctx.now, rules=ctx.rules, staff_ids=[staff_id]
    )
    return [teacher_reply(ctx, report, staff_id)]


async def _show_class(ctx: Context, argument: str, *, year: bool) -> list[Reply]:
    if reach(ctx, Action.EVALUATION_VIEW) < Reach.SCHOOL:
        return [Reply(ctx.t._("只有德育处和校长可以查看各班的考核图表。"))]
    class_id, code = _ids(argument)
    period = await _button_period(ctx, year, code)
    if isinstance(period, Reply):
        return [period]
    report = await _report(ctx, period, True)
    return await class_replies(ctx, report, class_id)


async def show_teacher(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _show_teacher(ctx, argument, year=False)


async def show_teacher_year(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _show_teacher(ctx, argument, year=True)


async def show_class(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _show_class(ctx, argument, year=False)


async def show_class_year(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _show_class(ctx, argument, year=True)


EVALUATION_ACTIONS: list[ButtonAction] = [
    ButtonAction(TEACHER, show_teacher),
    ButtonAction(TEACHER_YEAR, show_teacher_year),
    ButtonAction(CLASS, show_class),
    ButtonAction(CLASS_YEAR, show_class_year),
]


EVALUATION_FLOW = Flow(
    name="evaluation",
    draft_type=EvaluationDraft,
    steps={},
    start=start,
    commands=("evaluation", "考核"),
    allowed=is_staff,
    describe=N_("查看家访工作考核（德育处和校长：全体教师；教师：本人）"),
    read_only=True,
)
