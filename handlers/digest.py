"""德育处's daily digest as a message: its text, its chart, and `/digest` (日报) on demand.

The text leads with what needs someone to act (overdue immediate visits, guardians not reached,
problems found on visits, teachers behind pace, the problem ledger's counts, each open survey's
response rate, each running 大走访's coverage), then yesterday's visits, then the month by class.
Student names appear only in the first part, where someone must act on them; a problem's content
never appears (only that there is one, and whether it needs the school).
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.calendar import no_calendar_text
from handlers.chart_process import draw_completion_chart
from handlers.context import Context
from handlers.flow import Flow
from handlers.i18n import N_, Translator
from handlers.quota import visits_name
from handlers.stored_png import stored_png
from handlers.types import Attachment, Inbound, Reply, Transition
from models.digest.campaign import CampaignLine
from models.digest.ledger import LedgerLine
from models.digest.queries import DigestFigures, TeacherPace, gather_digest
from models.digest.surveys import OpenSurvey
from models.duties.tables import TRIGGER_LABELS
from models.incidents.tables import INCIDENT_KIND_LABELS
from models.roster.tables import StaffRole
from models.school.rules import SchoolRules
from models.school.tables import School
from models.visits.tables import CATEGORY_LABELS, FORM_LABELS

#: Names listed under each exception before "… and N more".
MAX_NAMES = 5
#: Who may ask for the digest: 德育处 and the principal.
READERS = frozenset({StaffRole.ADMIN, StaffRole.PRINCIPAL})


# -- the text ------------------------------------------------------------------------------------


def month_day(day: date, t: Translator) -> str:
    return t._("{month}月{day}日").format(month=day.month, day=day.day)


def _moment(moment: datetime, zone: ZoneInfo, t: Translator) -> str:
    local = moment.astimezone(zone)
    return t._("{month}月{day}日 {time}").format(
        month=local.month, day=local.day, time=f"{local:%H:%M}"
    )


def _late(due_at: datetime, now: datetime, t: Translator) -> str:
    hours = max(1, int((now - due_at).total_seconds() // 3600))
    if hours < 24:
        return t._("逾期 {hours} 小时").format(hours=hours)
    return t._("逾期 {days} 天").format(days=hours // 24)


def _more(count: int, t: Translator, *, people: bool = False) -> list[str]:
    if count <= 0:
        return []
    more = t._("  ……另有 {count} 人") if people else t._("  ……另有 {count} 项")
    return [more.format(count=count)]


def digest_text(figures: DigestFigures, t: Translator, zone: ZoneInfo) -> str:
    _ = t._
    f = figures
    lines = [
        _("家访日报 · {school} · {date}").format(school=f.school_name, date=month_day(f.today, t)),
        "",
    ]
    if not f.has_calendar:
        lines += [no_calendar_text(t, f.today), ""]
    lines += [
        _("【需要关注】"),
    ]
    if not f.has_exceptions:
        lines.append(_("没有逾期的立即家访、未联系上的家长、新发现的问题或进度落后的教师。"))
    if f.overdue:
        lines.append(_("· 立即家访逾期未完成：{count} 项").format(count=len(f.overdue)))
        for duty in f.overdue[:MAX_NAMES]:
            lines.append(
                _("  {klass}{student}（{teacher}；{reason}；{late}）").format(
                    klass=duty.class_name,
                    student=duty.student_name,
                    teacher=duty.teacher_name,
                    reason=_(TRIGGER_LABELS[duty.trigger]),
                    late=_late(duty.due_at, f.now, t),
                )
            )
        lines += _more(len(f.overdue) - MAX_NAMES, t)
    if f.unreached:
        lines.append(_("· 突发事件未联系上家长：{count} 起").format(count=len(f.unreached)))
        for incident in f.unreached[:MAX_NAMES]:
            lines.append(
                _("  {klass}{student}（{kind}；{when} 报告）").format(
                    klass=incident.class_name,
                    student=incident.student_name,
                    kind=_(INCIDENT_KIND_LABELS[incident.kind]),
                    when=_moment(incident.reported_at, zone, t),
                )
            )
        lines += _more(len(f.unreached) - MAX_NAMES, t)
    if f.problems:
        needs = [p for p in f.problems if p.needs_school]
        lines.append(
            _("· 昨日记录的家访发现问题：{count} 条，其中需学校协助 {needs} 条").format(
                count=len(f.problems), needs=len(needs)
            )
        )
        for problem in needs[:MAX_NAMES]:
            lines.append(
                _("  {klass}{student}（{teacher}记录，需学校协助）").format(
                    klass=problem.class_name,
                    student=problem.student_name,
                    teacher=problem.teacher_name,
                )
            )
        lines += _more(len(needs) - MAX_NAMES, t)
    if f.behind:
        lines.append(_("· 本月进度落后的教师：{count} 人").format(count=len(f.behind)))
        for pace in f.behind[:MAX_NAMES]:
            lines.append(f"  {pace.name} " + "；".join(_pace_parts(pace, t)))
        lines += _more(len(f.behind) - MAX_NAMES, t, people=True)
    if not f.ledger.empty:
        lines.append(ledger_line_text(f.ledger, t))
    lines += [survey_line_text(survey, t, zone) for survey in f.surveys]
    lines += [campaign_line_text(line, t) for line in f.campaigns]

    lines += [
        "",
        _("【昨日家访】{date}，共 {count} 次").format(
            date=month_day(f.day, t), count=f.visits_yesterday
        ),
    ]
    if f.visits_yesterday:
        forms = [f"{_(FORM_LABELS[k])} {f.by_form[k]}" for k in FORM_LABELS if f.by_form.get(k)]
        categories = [
            f"{_(CATEGORY_LABELS[k])} {f.by_category[k]}"
            for k in CATEGORY_LABELS
            if f.by_category.get(k)
        ]
        lines.append(_("  按形式：{items}").format(items=" · ".join(forms)))
        lines.append(_("  按类别：{items}").format(items=" · ".join(categories)))

    lines += [
        "",
        _("【本月班主任家访完成情况】{first}至{last}").format(
            first=month_day(f.month_first, t), last=month_day(f.day, t)
        ),
    ]
    for _grade, group in groupby(f.classes, key=lambda c: _grade_of(c.class_name)):
        cells = [
            (
                f"{c.class_name} {c.done}/{c.target}"
                if c.target
                else _("{klass} 无班主任").format(klass=c.class_name)
            )
            + (
                _("（入户 {percent}%）").format(percent=c.home_percent)
                if c.home_percent is not None
                else ""
            )
            for c in group
        ]
        lines.append("  " + " · ".join(cells))
    if f.head_target:
        lines.append(
            _(
                "完成情况 = 班主任本月{visits}次数 / 本月指标 {target} 次；"
                "按进度截至昨日应完成 {expected} 次。"
            ).format(
                visits=visits_name(t, f.routine_forms),
                target=f.head_target,
                expected=f.head_expected,
            )
        )
    if any(c.students for c in f.classes):
        lines.append(_("入户率 = 本学年有老师上门家访过的学生 / 全班学生。"))
    if not f.in_term:
        lines.append(_("本月没有上课日，不计每月指标。"))
    return "\n".join(lines)


def campaign_line_text(line: CampaignLine, t: Translator) -> str:
    """`· 大走访「秋季大走访」：入户 120/300（40%），重复家访 2 户，留守家庭本月未联系 5 户`."""
    _ = t._
    visited = _("入户 {visited}/{households}").format(
        visited=line.visited, households=line.households
    )
    if line.percent is not None:
        visited += _("（{percent}%）").format(percent=line.percent)
    parts = [visited, _("重复家访 {count} 户").format(count=line.doubles)]
    if line.left_behind_waiting is not None:
        parts.append(_("留守家庭本月未联系 {count} 户").format(count=line.left_behind_waiting))
    return _("· 大走访「{name}」：{parts}").format(name=line.name, parts=_("，").join(parts))


def ledger_line_text(line: LedgerLine, t: Translator) -> str:
    """`· 台账：新增 2 条，逾期 1 条，…`: its parts that are not zero."""
    c = line.counts
    parts = []
    if c.new:
        parts.append(t._("新增 {count} 条").format(count=c.new))
    if c.overdue:
        parts.append(t._("逾期 {count} 条").format(count=c.overdue))
    if c.unclassified_late:
        parts.append(
            t._("超过{days}个上学日未分类 {count} 条").format(
                days=line.classify_school_days, count=c.unclassified_late
            )
        )
    if c.complaints_unassigned:
        parts.append(
            t._("投诉超过{days}个上学日未指定负责人 {count} 条").format(
                days=line.assign_school_days, count=c.complaints_unassigned
            )
        )
    return t._("· 台账：{parts}").format(parts=t._("，").join(parts))


def survey_line_text(survey: OpenSurvey, t: Translator, zone: ZoneInfo) -> str:
    """`· 问卷 #12 学期问卷：已提交 120/300（40%），12月10日截止`."""
    return t._(
        "· 问卷 #{id} {form}：已提交 {submitted}/{drawn}（{percent}%），{deadline}截止"
    ).format(
        id=survey.survey_id,
        form=survey.form_name,
        submitted=survey.submitted,
        drawn=survey.drawn,
        percent=survey.percent,
        deadline=month_day(survey.deadline.astimezone(zone).date(), t),
    )


def _pace_parts(pace: TeacherPace, t: Translator) -> list[str]:
    parts = []
    if pace.visits is not None and pace.visits_behind:
        parts.append(
            t._("{visits} {done}/{target}，按进度应完成 {expected} 次").format(
                visits=visits_name(t, pace.routine_forms),
                done=pace.visits.done,
                target=pace.visits.target,
                expected=pace.visits_expected,
            )
        )
    if pace.contacts_behind:
        parts.append(
            t._("联系家长 {done}/{target} 人次，按进度应联系 {expected} 人次").format(
                done=pace.contacts.done,
                target=pace.contacts.target,
                expected=pace.contacts_expected,
            )
        )
    return parts


def _grade_of(class_name: str) -> str:
    """三(2)班 → 三: the classes of one grade share a line."""
    return class_name.split("(", 1)[0]


# -- the message: text and chart ----------------------------------------------------------------


async def chart_attachment(
    *, session: AsyncSession, figures: DigestFigures, school_id: int, t: Translator
) -> Attachment | None:
    """Draw the chart (in a child process), store it in `media`, and name it for a reply."""
    png = await draw_completion_chart(figures, t)
    if png is None:
        return None
    return await stored_png(
        session,
        png,
        key=f"digest-chart:{school_id}:{figures.today.isoformat()}:{t.language}",
        filename=f"digest-{figures.today.isoformat()}.png",
    )


async def digest_reply(
    *,
    session: AsyncSession,
    school: School,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules,
    t: Translator,
) -> Reply:
    figures = await gather_digest(
        session=session,
        school_id=school.id or 0,
        school_name=school.name,
        now=now,
        zone=zone,
        rules=rules,
    )
    image = await chart_attachment(session=session, figures=figures, school_id=school.id or 0, t=t)
    return Reply(digest_text(figures, t, zone), image=image)


# -- /digest -------------------------------------------------------------------------------------


class DigestDraft(BaseModel):
    """`/digest` answers at once: nothing to keep between messages."""


def may_read_digest(ctx: Context) -> bool:
    return ctx.staff is not None and bool(ctx.staff.role_set() & READERS)


async def start(inbound: Inbound, draft: DigestDraft, ctx: Context, args: str) -> Transition:
    reply = await digest_reply(
        session=ctx.session,
        school=ctx.school,
        now=ctx.now,
        zone=ctx.zone,
        rules=ctx.rules,
        t=ctx.t,
    )
    return Transition.end(reply)


DIGEST_FLOW = Flow(
    name="digest",
    draft_type=DigestDraft,
    steps={},
    start=start,
    commands=("digest", "日报"),
    allowed=may_read_digest,
    refusal=N_("家访日报只提供给德育处和校长。您本人的家访进度可以发送 /quota 查看。"),
    describe=N_("今天的家访日报（含各班完成率图表）"),
)
