"""What `/campaign` shows of campaigns: the school's list (running first) for 德育处 and the
principal, one campaign's overview (`campaign_overview`: its days, rule, households and the
包保表 per teacher), the 包保表 per class after it is written, and a teacher's own households.

`campaign_overview` is the hook the campaign's views (coverage, chart, households not yet
visited, double visits) extend: it returns the replies shown for one campaign.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from handlers.actions import action_button
from handlers.campaigns import views
from handlers.context import Context
from handlers.i18n import N_
from handlers.notice.render import format_day, grade_name
from handlers.permissions import permits
from handlers.types import Button, Reply
from models.campaigns import queries
from models.campaigns.assignment import Assignment, AssignmentRoster
from models.campaigns.figures import CampaignFigures
from models.campaigns.rules import VISIT_RULE_LABELS, CampaignScope
from models.campaigns.tables import Campaign
from models.permissions.matrix import Action

#: Action names of the campaign's buttons (`handlers.actions`).
OVERVIEW = "cpv"  # a campaign's overview (argument: its id)
NEW = "cpn"  # 新建大走访 (argument 0)
GENERATE = "cpg"  # 自动分配包保表 for a campaign with no table yet (argument: its id)
STOP = "cpx"  # 停止大走访: asks to confirm (argument: its id)
STOPPED = "cpy"  # 确认停止 (argument: its id)

#: Campaigns listed with a button at most.
LISTED = 10

_STATES = {
    "upcoming": N_("未开始"),
    "running": N_("进行中"),
    "ended": N_("已结束"),
    "cancelled": N_("已停止"),
}


def campaign_state(campaign: Campaign, today: date) -> str:
    """upcoming, running, ended or cancelled."""
    if campaign.cancelled_at is not None:
        return "cancelled"
    if today < campaign.start_date:
        return "upcoming"
    return "running" if today <= campaign.end_date else "ended"


def days_text(ctx: Context, campaign: Campaign) -> str:
    return ctx.t._("{start}至{end}").format(
        start=format_day(ctx.t, campaign.start_date), end=format_day(ctx.t, campaign.end_date)
    )


def scope_text(ctx: Context, scope: CampaignScope, grades: list[int]) -> str:
    if scope is CampaignScope.SCHOOL:
        return ctx.t._("全校")
    return "、".join(grade_name(ctx.t, g) for g in sorted(grades))


def rule_lines(ctx: Context, campaign: Campaign) -> list[str]:
    """范围, 计入, 留守儿童家庭每月联系 — as in the summary before it is created."""
    _ = ctx.t._
    return [
        _("范围：{scope}").format(scope=scope_text(ctx, campaign.scope, campaign.grades)),
        _("计入：{rule}").format(rule=_(VISIT_RULE_LABELS[campaign.visit_rule])),
        _("留守儿童家庭每月联系：{answer}").format(
            answer=_("是") if campaign.left_behind_monthly else _("否")
        ),
    ]


def class_lines(
    ctx: Context,
    roster: AssignmentRoster,
    assignment: Assignment,
    names: Mapping[int, str],
    heads: Mapping[int, int | None] | None = None,
) -> list[str]:
    """Per class of the campaign: `三(1)班：6 户 — 李强 3、王芳 3` (the head teacher first, then
    by households); then the households no one has, if any."""
    _ = ctx.t._
    lines = []
    for klass in roster.classes:
        counts = Counter(
            r.teacher_id for r in assignment.responsible if r.class_id == klass.class_id
        )
        if not counts:
            lines.append(_("{klass}：没有分配家庭").format(klass=klass.name))
            continue
        teachers = "、".join(
            f"{names.get(teacher, '?')} {count}"
            for teacher, count in sorted(
                counts.items(),
                key=lambda tc: (tc[0] != (heads or {}).get(klass.class_id), -tc[1], tc[0]),
            )
        )
        lines.append(
            _("{klass}：{count} 户 — {teachers}").format(
                klass=klass.name, count=sum(counts.values()), teachers=teachers
            )
        )
    if assignment.unassigned:
        lines.append(
            _(
                "还有 {count} 户没有责任教师（所在班级没有任课教师），可用 /campaign 调整 指定。"
            ).format(count=len(assignment.unassigned))
        )
    return lines


async def campaign_overview(
    ctx: Context, campaign: Campaign, *, figures: CampaignFigures | None = None
) -> list[Reply]:
    """One campaign for 德育处, the principal and its leaders: its days and state, rule,
    households and the 包保表's households per teacher (with 自动分配包保表 while it has none),
    then its figures (`views.figure_replies`: 入户率 by school, grade, class and leader with the
    chart, households not yet visited per class, double visits, left-behind contacts). Pass
    `figures` when already read."""
    _ = ctx.t._
    if figures is None:
        figures = await views.figures_of(ctx, campaign)
    lines = [
        _("大走访“{name}”（#{id}）").format(name=campaign.name, id=campaign.id),
        _("时间：{days}（{state}）").format(
            days=days_text(ctx, campaign),
            state=_(_STATES[campaign_state(campaign, ctx.today)]),
        ),
        *rule_lines(ctx, campaign),
        _("家庭：{count} 户").format(count=len(figures.households)),
    ]
    counts = Counter(h.teacher_id for h in figures.households if h.teacher_id is not None)
    unassigned = sum(1 for h in figures.households if h.teacher_id is None)
    buttons: list[list[Button]] = []
    if not counts:
        lines.append(_("包保表：还没有分配。"))
        buttons.append([action_button(_("自动分配包保表"), GENERATE, campaign.id or 0)])
    else:
        lines.append(
            _("包保表：已分配 {assigned} 户，未分配 {unassigned} 户").format(
                assigned=sum(counts.values()), unassigned=unassigned
            )
        )
        per_teacher = "、".join(
            _("{teacher} {count} 户").format(teacher=figures.names.get(teacher, "?"), count=count)
            for teacher, count in sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))
        )
        lines.append(_("责任教师：{teachers}").format(teachers=per_teacher))
    if campaign_state(campaign, ctx.today) in ("running", "upcoming") and permits(
        ctx, Action.CAMPAIGN_MANAGE
    ):
        buttons.append([action_button(_("停止大走访"), STOP, campaign.id or 0)])
    first, *rest = await views.figure_replies(ctx, campaign, figures, lines)
    if buttons:
        first = replace(first, buttons=(*first.buttons, *(tuple(row) for row in buttons)))
    return [first, *rest]


async def campaign_list(ctx: Context) -> Reply:
    """The school's campaigns, running first, then upcoming, then the others (newest first),
    each a button to its overview; 新建大走访 under them."""
    _ = ctx.t._
    found = await queries.campaigns_of(ctx.session, ctx.school.id or 0)
    order = {"running": 0, "upcoming": 1, "ended": 2, "cancelled": 3}
    found.sort(key=lambda c: order[campaign_state(c, ctx.today)])
    new = [action_button(_("新建大走访"), NEW, 0)]
    if not found:
        return Reply.with_buttons(_("本校还没有大走访。发送 /campaign new 新建一次："), [new])
    lines = [_("本校的大走访：")]
    buttons: list[list[Button]] = []
    for number, campaign in enumerate(found, start=1):
        state = _(_STATES[campaign_state(campaign, ctx.today)])
        lines.append(
            f"{number}. {campaign.name}（#{campaign.id}）{days_text(ctx, campaign)} · {state}"
        )
        if number <= LISTED:
            buttons.append([action_button(campaign.name, OVERVIEW, campaign.id or 0)])
    lines.append(_("点名称查看详情；调整包保教师：/campaign 调整 学号 工号"))
    return Reply.with_buttons("\n".join(lines), [*buttons, new])
