"""`/quota` (or 指标): where a teacher stands on each quota rule that applies to them.

Numbers first, one rule a line (`本月家访 4/10（进度偏慢，此时应有 5 次）`), then the students of
the teacher's class not yet visited this school year. A subject teacher or a coach sees only
their own rules; staff without a class or group are told they have no quota.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from pydantic import BaseModel

from handlers.calendar import no_calendar_text
from handlers.context import Context
from handlers.evaluation.buttons import my_evaluation
from handlers.flow import Flow, is_staff
from handlers.i18n import N_, Translator
from handlers.types import Inbound, Reply, Transition
from models.audit.tables import tags_read
from models.quota.rules import QuotaRole, Tally
from models.quota.standing import (
    BreakStanding,
    ClassCompletion,
    MonthStanding,
    Pupil,
    TeacherStanding,
    furthest_behind,
    school_standing,
)
from models.roster.tables import StaffRole
from models.school.calendar import month_bounds
from models.school.rules import SchoolRules
from models.school.tables import TermKind
from models.visits.queries import late_filings
from models.visits.tables import FORM_LABELS, VisitForm

#: At most this many names in a list; the rest is summed up as "等 N 人".
NAMES_SHOWN = 20
#: 德育处 sees this many classes furthest behind.
CLASSES_SHOWN = 5

BREAK_NAMES: dict[TermKind, str] = {
    TermKind.WINTER_BREAK: N_("寒假"),
    TermKind.SUMMER_BREAK: N_("暑假"),
}


class QuotaDraft(BaseModel):
    """`/quota` answers at once: nothing to keep between messages."""


def name_list(
    t: Translator, pupils: Sequence[Pupil], *, with_class: bool = False, limit: int = NAMES_SHOWN
) -> str:
    """`李娜、王磊` or, past `limit` names, `李娜、王磊……等 25 人`."""
    shown = [f"{p.class_name} {p.name}" if with_class else p.name for p in pupils[:limit]]
    listed = t._("、").join(shown)
    if len(pupils) <= limit:
        return listed
    return t._("{names}等 {count} 人").format(names=listed, count=len(pupils))


def _state(t: Translator, tally: Tally, *, behind: bool, expected: str, over: bool) -> str:
    if tally.met:
        return t._("（已完成）")
    if over:  # no term day left in the month: pace means nothing any more
        return t._("（未完成）")
    if behind:
        return t._("（进度偏慢，此时应有 {expected}）").format(expected=expected)
    return ""


def visits_name(t: Translator, forms: Sequence[str]) -> str:
    """What the visit quota counts, in words: 上门家访, or 家访（上门家访、家长来访）."""
    if tuple(forms) == (VisitForm.HOME.value,):
        return t._("上门家访")
    named = t._("、").join(t._(FORM_LABELS[VisitForm(form)]) for form in forms)
    return t._("家访（{forms}）").format(forms=named)


def month_lines(t: Translator, month: MonthStanding) -> list[str]:
    lines: list[str] = []
    if month.visits is not None:
        visits = month.visits
        lines.append(
            t._("本月{visits} {done}/{target}").format(
                visits=visits_name(t, month.routine_forms), done=visits.done, target=visits.target
            )
            + _state(
                t,
                visits,
                behind=month.visits_behind,
                expected=t._("{count} 次").format(count=month.visits_expected),
                over=month.remaining_days == 0,
            )
        )
    contacts = month.contacts
    lines.append(
        t._("本月联系家长 {done}/{target} 人次").format(done=contacts.done, target=contacts.target)
        + _state(
            t,
            contacts,
            behind=month.contacts_behind,
            expected=t._("{count} 人次").format(count=month.contacts_expected),
            over=month.remaining_days == 0,
        )
    )
    return lines


def tagged_shown(standing: BreakStanding | None, limit: int = NAMES_SHOWN) -> list[int]:
    """The students a break's list names as special-type (winter's must-visit list: every
    student on it has a tag), as far as the list is shown."""
    if standing is None or standing.kind != TermKind.WINTER_BREAK:
        return []
    return [p.id for p in standing.pending[:limit]]


def break_lines(t: Translator, standing: BreakStanding, *, with_class: bool) -> list[str]:
    season = t._(BREAK_NAMES[standing.kind])
    lines: list[str] = []
    if standing.visits is not None:
        lines.append(
            t._("{season}{visits} {done}/{target}").format(
                season=season,
                visits=visits_name(t, standing.routine_forms),
                done=standing.visits.done,
                target=standing.visits.target,
            )
            + (t._("（已完成）") if standing.visits.met else "")
        )
    must = standing.must_visit
    if must is not None and must.target > 0:
        if standing.kind == TermKind.WINTER_BREAK:
            line = t._("寒假必访（特殊类型学生）{done}/{target} 人")
        else:
            line = t._("暑假新接手学生家访 {done}/{target} 人")
        lines.append(line.format(done=must.done, target=must.target))
        if standing.pending:
            lines.append(
                t._("　尚未家访：{names}").format(
                    names=name_list(t, standing.pending, with_class=with_class)
                )
            )
    return lines


def head_lines(t: Translator, standing: TeacherStanding, rules: SchoolRules) -> list[str]:
    lines: list[str] = []
    coverage = standing.coverage
    if coverage is not None:
        lines.append(
            t._("本学年亲自上门遍访（{classes}）{done}/{target} 人").format(
                classes=t._("、").join(standing.classes), done=coverage.done, target=coverage.target
            )
            + (t._("（已完成）") if coverage.met and coverage.target else "")
        )
    key = standing.key_visits
    if key is not None:
        if rules.key_visits_max > rules.key_visits_min:
            rule = t._("每年 {low}–{high} 次").format(
                low=rules.key_visits_min, high=rules.key_visits_max
            )
        else:
            rule = t._("每年 {low} 次").format(low=rules.key_visits_min)
        lines.append(
            t._("重点家访：特殊类型学生 {done}/{target} 人已完成（{rule}）").format(
                done=key.done, target=key.target, rule=rule
            )
        )
    semester = standing.semester
    if semester is not None:
        lines.append(
            t._("本学期已联系家长 {done}/{target} 人").format(
                done=semester.done, target=semester.target
            )
            + (t._("（已完成）") if semester.met and semester.target else "")
        )
    left = standing.left_behind
    if left is not None:
        lines.append(
            t._("留守儿童家长本月联系 {done}/{target} 人").format(
                done=left.done, target=left.target
            )
        )
    return lines


def quota_text(t: Translator, standing: TeacherStanding | None, rules: SchoolRules) -> str:
    if standing is None:
        return t._("您没有任教班级，也不带队，暂无家访指标。")
    head = standing.role == QuotaRole.HEAD_TEACHER
    with_class = len(standing.classes) > 1
    lines = [t._("您的家访指标：")]
    if standing.on_break is not None:
        lines += break_lines(t, standing.on_break, with_class=with_class)
    if standing.month is not None:
        lines += month_lines(t, standing.month)
    if head:
        lines += head_lines(t, standing, rules)
        if standing.unvisited:
            lines.append(
                t._("本学年您尚未亲自上门家访的学生（{count} 人）：{names}").format(
                    count=len(standing.unvisited),
                    names=name_list(t, standing.unvisited, with_class=with_class),
                )
            )
        elif standing.coverage is not None and standing.coverage.target:
            lines.append(t._("本班学生本学年您都已亲自上门家访过。"))
        if standing.semester_missing:
            lines.append(
                t._("本学期尚未联系家长的学生（{count} 人）：{names}").format(
                    count=len(standing.semester_missing),
                    names=name_list(t, standing.semester_missing, with_class=with_class),
                )
            )
    lines.append(t._("发送 /visit 记录家访。"))
    return "\n".join(lines)


def classes_behind_lines(t: Translator, classes: Sequence[ClassCompletion]) -> list[str]:
    """德育处's view: the classes furthest behind, this month and in 入户率."""
    behind = furthest_behind(classes, CLASSES_SHOWN)
    if not behind:
        return [t._("全校各班本月指标和入户率都已完成。")] if classes else []
    lines = [t._("进度最落后的班级：")]
    for c in behind:
        month = (
            t._("本月 {done}/{target}").format(done=c.done, target=c.target)
            if c.target
            else t._("无班主任或本月无指标")
        )
        lines.append(
            t._("　{klass}（{head}）{month}，入户 {visited}/{students} 人").format(
                klass=c.name,
                head=c.head_teacher_name or t._("无班主任"),
                month=month,
                visited=c.visited_this_year,
                students=c.students,
            )
        )
    return lines


async def admin_lines(ctx: Context, classes: Sequence[ClassCompletion]) -> list[str]:
    """德育处's figures: the classes furthest behind, and this month's late filings."""
    t = ctx.t
    lines = classes_behind_lines(t, classes)
    first, _ = month_bounds(ctx.today)
    since = datetime.combine(first, time(0), tzinfo=ctx.zone)
    limit = ctx.rules.late_filing_days
    late = await late_filings(
        session=ctx.session, school_id=ctx.school.id or 0, since=since, days=limit
    )
    if late:
        listed = t._("、").join(
            t._("{name} {count} 条").format(name=name, count=count) for name, count in late
        )
        lines.append(
            t._("本月晚记录（家访后超过 {days} 天才记录）：{teachers}").format(
                days=limit, teachers=listed
            )
        )
    else:
        lines.append(t._("本月没有晚记录（家访后超过 {days} 天才记录）的家访。").format(days=limit))
    return lines


async def start(inbound: Inbound, draft: QuotaDraft, ctx: Context, args: str) -> Transition:
    if ctx.staff is None:  # `allowed` lets only staff in
        return Transition.end(Reply(ctx.t._(QUOTA_FLOW.refusal)))
    admin = StaffRole.ADMIN in ctx.staff.role_set()
    school = await school_standing(
        session=ctx.session,
        school_id=ctx.staff.school_id,
        day=ctx.today,
        rules=ctx.rules,
        staff_ids=None if admin else [ctx.staff.id or 0],
    )
    own = next((t for t in school.teachers if t.staff_id == ctx.staff.id), None)
    parts = [] if admin and own is None else [quota_text(ctx.t, own, ctx.rules)]
    if own is not None:
        await tags_read(
            ctx.session,
            actor=f"staff:{ctx.staff.id}",
            student_ids=tagged_shown(own.on_break),
            detail="quota",
        )
    if admin:
        parts.append("\n".join(await admin_lines(ctx, school.classes)))
    text = "\n\n".join(parts)
    if not school.has_calendar:
        text = no_calendar_text(ctx.t, ctx.today) + "\n\n" + text
    if own is not None:  # the teacher's own figures this semester (/evaluation)
        return Transition.end(Reply.with_buttons(text, [[my_evaluation(ctx.t, own.staff_id)]]))
    return Transition.end(Reply(text))


QUOTA_FLOW = Flow(
    name="quota",
    draft_type=QuotaDraft,
    steps={},
    start=start,
    commands=("quota", "指标"),
    allowed=is_staff,
    describe=N_("查看本月和本学年的家访指标完成情况"),
    read_only=True,
)
