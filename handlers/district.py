"""The district digest (区域家访合规日报): every school's compliance side by side, as text and as
a chart, from `models.district.compliance.DistrictReport`.

The text gives the district's totals first, then one line per school, the school most in need
of attention first (`SchoolCompliance.concern`), then what each figure means. In the chat and
the morning push a district of more than `EVERY_SCHOOL_UP_TO` schools lists only the
`SCHOOLS_SHOWN` most in need of attention and sums up the rest in one line (how many, and how
many of them still have something overdue or unreached): a hundred schools' lines are three
Telegram messages nobody reads on a phone. The operator's `district digest` and the sheet of
`export district` have every school. It holds counts
and school names only: no child's, guardian's or teacher's name is ever read into it. The chart
shows each school's month quota, 入户率 and receipt rate as bars side by side, drawn in a
child process (`handlers.chart_process.draw_in_child`) like the school digest's.

A 区域管理员 (`Role.DISTRICT`, on the bureau's own roster) asks for it with `/district`
(区域合规) on any channel and is sent it every school-day morning (`scheduler.jobs.district`);
everyone else is refused in one line. The operator prints it with `python -m bot district digest`.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.chart_drawing import GroupedChartSpec
from handlers.chart_process import draw_in_child
from handlers.context import Context
from handlers.flow import Flow
from handlers.i18n import N_, Translator
from handlers.stored_png import stored_png
from handlers.types import Attachment, Inbound, Reply, Transition
from models.district.compliance import DistrictReport, SchoolCompliance
from models.district.report import district_report
from models.school.rules import SchoolRules


def _day(report_day: date, t: Translator) -> str:
    return t._("{month}月{day}日").format(month=report_day.month, day=report_day.day)


def _rate(part: int, whole: int, rate: int | None, t: Translator) -> str:
    """`16/23（70%）`, or `—` when there is nothing to count."""
    if rate is None:
        return "—"
    return t._("{part}/{whole}（{percent}%）").format(
        part=f"{part:,}", whole=f"{whole:,}", percent=rate
    )


def _short(rate: int | None) -> str:
    return "—" if rate is None else f"{rate}%"


def _exceptions(s: SchoolCompliance, t: Translator) -> list[str]:
    """The school's exceptions that are not zero."""
    parts = []
    if s.unreached_incidents:
        parts.append(t._("突发事件未联系上家长 {count} 起").format(count=s.unreached_incidents))
    if s.overdue_duties:
        parts.append(t._("立即家访逾期 {count} 项").format(count=s.overdue_duties))
    if s.ledger_overdue:
        parts.append(t._("台账逾期 {count} 条").format(count=s.ledger_overdue))
    return parts


def school_line(rank: int, s: SchoolCompliance, t: Translator) -> str:
    """`1. 第一小学：突发事件未联系上家长 1 起 · …；指标 85% · 按进度 1/2 人 · 入户 75% · 回执 75%`."""
    _ = t._
    figures = [
        _("指标 {percent}").format(percent=_short(s.quota_percent))
        if s.in_term
        else _("本月无上课日"),
        _("按进度 {on_pace}/{teachers} 人").format(on_pace=s.on_pace, teachers=s.teachers),
        _("入户 {percent}").format(percent=_short(s.coverage_percent)),
        _("回执 {percent}").format(percent=_short(s.receipt_percent)),
    ]
    text = " · ".join(figures)
    exceptions = _exceptions(s, t)
    if exceptions:
        text = " · ".join(exceptions) + _("；") + text
    if not s.has_calendar:
        text += _("（未导入本学年校历）")
    return _("{rank}. {school}：{figures}").format(rank=rank, school=s.name, figures=text)


#: A district of up to this many schools is listed school by school in the chat and the push.
EVERY_SCHOOL_UP_TO = 15
#: A larger one lists this many, the most in need of attention, and sums up the rest.
SCHOOLS_SHOWN = 10


def shown_schools(report: DistrictReport, *, every_school: bool) -> list[SchoolCompliance]:
    """The schools the digest lists one by one (by concern): all of them in a small district
    or when asked for every school, else the `SCHOOLS_SHOWN` most in need of attention."""
    if every_school or len(report.schools) <= EVERY_SCHOOL_UP_TO:
        return report.schools
    return report.schools[:SCHOOLS_SHOWN]


def _rest_line(rest: list[SchoolCompliance], t: Translator) -> str:
    """The one line for the schools not listed: how many, and how many still have exceptions."""
    flagged = sum(1 for s in rest if _exceptions(s, t))
    if flagged:
        text = t._(
            "其余 {rest} 所学校排在以上各校之后，其中 {flagged} 所仍有逾期或未联系上家长的事项；"
        ).format(rest=len(rest), flagged=flagged)
    else:
        text = t._("其余 {rest} 所学校排在以上各校之后，都没有逾期或未联系上家长的事项；").format(
            rest=len(rest)
        )
    return text + t._("全部学校的数字见区域合规表（由系统管理员用 export district 导出）。")


def district_digest_text(
    t: Translator, report: DistrictReport, *, every_school: bool = False
) -> str:
    """The district digest's text (Chinese by default; English with `t` English): in a large
    district the schools most in need of attention only, unless `every_school`."""
    _ = t._
    total = report.totals
    lines = [
        _("区域家访合规日报 · {date}").format(date=_day(report.today, t)),
        _("全区 {schools} 所学校 · 在校学生 {students} 人 · 教职工 {staff} 人").format(
            schools=len(report.schools), students=f"{total.students:,}", staff=f"{total.staff:,}"
        ),
        "",
        _("【全区】"),
        _("· 本月家访指标（{first}至{last}）：完成 {quota}；按进度的教师 {pace}").format(
            first=_day(report.month_first, t),
            last=_day(report.day, t),
            quota=_rate(total.visits_met, total.visits_target, total.quota_percent, t),
            pace=_rate(total.on_pace, total.teachers, total.pace_percent, t),
        ),
        _("· 本学年入户率：{rate}").format(
            rate=_rate(total.homes_visited, total.students, total.coverage_percent, t)
        ),
        _(
            "· 立即家访逾期 {duties} 项 · 突发事件未联系上家长 {incidents} 起 · 台账逾期 {ledger} 条"
        ).format(
            duties=total.overdue_duties,
            incidents=total.unreached_incidents,
            ledger=total.ledger_overdue,
        ),
        _("· 近 30 天通知回执：{rate}，共 {notices} 则通知").format(
            rate=_rate(total.confirmed, total.receipts, total.receipt_percent, t),
            notices=total.notices,
        ),
        "",
    ]
    shown = shown_schools(report, every_school=every_school)
    if len(shown) == len(report.schools):
        lines.append(_("【各校】需要关注的学校在前"))
    else:
        lines.append(_("【最需要关注的 {shown} 所学校】").format(shown=len(shown)))
    lines += [school_line(rank, s, t) for rank, s in enumerate(shown, start=1)]
    if len(shown) < len(report.schools):
        lines.append(_rest_line(report.schools[len(shown) :], t))
    lines += [
        "",
        _(
            "指标 = 有家访指标的教师本月常规家访（每人计至本人指标为止）/ 本月指标之和；"
            "按进度 = 家访和联系家长都不落后于本月进度的教师 / 有指标的教师；"
            "入户 = 本学年有老师上门家访过的在校学生 / 在校学生；"
            "回执 = 近 30 天发布、要求回执的通知中已确认的回执 / 全部回执。"
        ),
        _("本日报只含统计数字，不含任何学生、家长或教师的姓名。"),
    ]
    return "\n".join(lines)


def district_chart_spec(t: Translator, report: DistrictReport) -> GroupedChartSpec | None:
    """Each school's quota, 入户率 and receipt rate as bars side by side; None without schools."""
    if not report.schools:
        return None
    _ = t._
    schools = report.schools
    return GroupedChartSpec(
        names=tuple(s.name for s in schools),
        series=(
            (_("本月指标完成率"), tuple(s.quota_percent for s in schools)),
            (_("本学年入户率"), tuple(s.coverage_percent for s in schools)),
            (_("近30天回执率"), tuple(s.receipt_percent for s in schools)),
        ),
        y_label=_("百分比（%）"),
        title=_("各校家访合规情况（{date}）").format(date=_day(report.today, t)),
    )


async def draw_district_chart(t: Translator, report: DistrictReport) -> bytes | None:
    """The chart's PNG, drawn in a child process; None without schools, a CJK font, or when
    the child failed."""
    spec = district_chart_spec(t, report)
    if spec is None:
        return None
    return await draw_in_child(spec, what="district chart")


# -- the message: text and chart ----------------------------------------------------------------


async def district_chart(
    session: AsyncSession, report: DistrictReport, t: Translator
) -> Attachment | None:
    """Draw the chart (in a child process), store it in `media`, and name it for a reply."""
    png = await draw_district_chart(t, report)
    if png is None:
        return None
    day = report.today.isoformat()
    return await stored_png(
        session, png, key=f"district-chart:{day}:{t.language}", filename=f"district-{day}.png"
    )


async def district_reply(
    *, session: AsyncSession, today: date, now: datetime, rules: SchoolRules, t: Translator
) -> Reply:
    """The digest for the morning of `today`, exceptions as of `now`, with its chart; each
    school counted by its own rules on top of `rules`."""
    report = await district_report(session, today=today, now=now, rules=rules)
    image = await district_chart(session, report, t)
    return Reply(district_digest_text(t, report), image=image)


# -- /district -----------------------------------------------------------------------------------


class DistrictDraft(BaseModel):
    """`/district` answers at once: nothing to keep between messages."""


async def start(inbound: Inbound, draft: DistrictDraft, ctx: Context, args: str) -> Transition:
    reply = await district_reply(
        session=ctx.session, today=ctx.today, now=ctx.now, rules=ctx.rules, t=ctx.t
    )
    return Transition.end(reply)


def _nobody(ctx: Context) -> bool:
    """Replaced by the matrix's gate (`handlers.permissions.gated_flows`: district.view)."""
    return False


DISTRICT_FLOW = Flow(
    name="district",
    draft_type=DistrictDraft,
    steps={},
    start=start,
    commands=("district", "区域合规"),
    allowed=_nobody,
    refusal=N_("区域合规日报只提供给区域管理员（区教育局）。"),
    describe=N_("区域合规：各校家访合规日报和对比图（仅统计数字）"),
    read_only=True,
)
