"""What `/campaign` shows of a running 大走访 beyond its setup (`models.campaigns.figures`).

- *A teacher's list* (`teacher_view`, `/campaign` from a teacher without campaign.manage): per
  running campaign, the households they are responsible for, most due first — not yet visited
  (by anyone, by the campaign's rule) before visited, a left-behind household not contacted this
  month first and flagged — each as its class, its children, 已访 and the first visit's date (and
  who, when a colleague) or 未访; `PAGE` at a time with 更多; a 家访 button per household still
  due that starts `/visit` for its child. A teacher named as 校领导 in the 包保表 also gets the
  campaign's overview.
- *The overview's figures* (`figure_replies`, under `overview.campaign_overview` for 德育处, the
  principal and leaders): 入户率 for the school, per grade, per class and per leader, with the
  chart; households not yet visited per class, a button per class listing them; double visits
  (the household, the first visitor and day, the other teacher and day); left-behind households
  contacted this month.

Buttons carry record ids only and are checked again when pressed: 更多 shows the presser's own
households; 家访 starts a visit only for a household of the presser's in a running campaign;
a class's unvisited households are shown to 德育处, the principal and that campaign's leaders.
"""

from __future__ import annotations

from handlers.actions import Action as ButtonAction
from handlers.actions import action_button, record_id
from handlers.campaigns.chart import coverage_png
from handlers.context import Context
from handlers.notice.converse import begin
from handlers.notice.render import grade_name
from handlers.permissions import permits
from handlers.student_picker import TEACHER_PICKER
from handlers.types import Button, Inbound, Reply
from handlers.visit.draft import VisitDraft
from handlers.visit.questions import proceed as visit_proceed
from handlers.visit.render import field_line
from handlers.visit.states import State as VisitState
from models.campaigns import queries
from models.campaigns.coverage import Rate
from models.campaigns.figures import CampaignFigures, HouseholdLine
from models.campaigns.tables import Campaign
from models.permissions.matrix import Action

#: Action names of the views' buttons (`handlers.actions`).
MORE = "cpm"  # 更多: a teacher's next page (argument: campaign id . page)
VISIT = "cpw"  # 家访: start /visit for a household's child (argument: student id)
UNVISITED = "cpu"  # a class's households not yet visited (argument: campaign id . class id)

#: Households per page of a teacher's list.
PAGE = 10
#: Lines of a class's unvisited households, and of double visits, shown at most.
LISTED = 40
DOUBLES_SHOWN = 20
LEFT_BEHIND_SHOWN = 20
#: Class buttons per row under the unvisited counts.
PER_ROW = 3


async def figures_of(ctx: Context, campaign: Campaign) -> CampaignFigures:
    return await queries.campaign_figures(
        ctx.session, campaign, today=ctx.today, home_forms=ctx.rules.home_forms()
    )


def rate_text(ctx: Context, rate: Rate) -> str:
    percent = rate.percent
    if percent is None:
        return ctx.t._("{visited}/{households} 户").format(visited=0, households=0)
    return ctx.t._("{visited}/{households} 户（{percent}%）").format(
        visited=rate.visited, households=rate.households, percent=percent
    )


def day_text(ctx: Context, month: int, day: int) -> str:
    return ctx.t._("{month}月{day}日").format(month=month, day=day)


def children_text(line: HouseholdLine) -> str:
    return "、".join(child.name for child in line.children)


def household_text(ctx: Context, figures: CampaignFigures, line: HouseholdLine) -> str:
    """`三(2)班 张小明、张小红`."""
    return f"{figures.class_name(line.class_id)} {children_text(line)}"


def _state_text(
    ctx: Context, figures: CampaignFigures, line: HouseholdLine, *, viewer: int | None
) -> str:
    _ = ctx.t._
    if line.first is None:
        state = _("未访")
    else:
        when = day_text(ctx, line.first.visit_date.month, line.first.visit_date.day)
        state = _("已访 {day}").format(day=when)
        if line.first.teacher_id != viewer:
            state += _("（{teacher}）").format(
                teacher=figures.names.get(line.first.teacher_id, "?")
            )
    if line.contact_due:
        state += _(" · 留守，本月未联系")
    return state


# -- a teacher's list ---------------------------------------------------------------------------


def teacher_page(
    ctx: Context, campaign: Campaign, figures: CampaignFigures, teacher_id: int, page: int
) -> Reply:
    """One page of the teacher's households (page 0: with the campaign's heading)."""
    _ = ctx.t._
    mine = figures.of_teacher(teacher_id)
    visited = sum(1 for h in mine if h.visited)
    start = page * PAGE
    shown = mine[start : start + PAGE]
    lines = []
    if page == 0:
        lines.append(
            _(
                "大走访“{name}”（{start}至{end}）：您包保 {count} 户，已访 {visited} 户，未访 {left} 户。"
            ).format(
                name=campaign.name,
                start=day_text(ctx, campaign.start_date.month, campaign.start_date.day),
                end=day_text(ctx, campaign.end_date.month, campaign.end_date.day),
                count=len(mine),
                visited=visited,
                left=len(mine) - visited,
            )
        )
    else:
        lines.append(
            _("大走访“{name}”：您包保的家庭（续，第 {first}–{last} 户）").format(
                name=campaign.name, first=start + 1, last=start + len(shown)
            )
        )
    buttons: list[Button] = []
    for number, line in enumerate(shown, start=start + 1):
        lines.append(
            f"{number}. {household_text(ctx, figures, line)} — "
            f"{_state_text(ctx, figures, line, viewer=teacher_id)}"
        )
        if not line.visited or line.contact_due:
            buttons.append(
                action_button(
                    _("家访 {name}").format(name=line.children[0].name), VISIT, line.student_id
                )
            )
    if not shown:
        lines.append(_("没有更多了。"))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if start + PAGE < len(mine):
        rows.append([action_button(_("更多"), MORE, f"{campaign.id}.{page + 1}")])
    elif mine and not any(not h.visited for h in mine):
        lines.append(_("您包保的家庭都已走访，谢谢您！"))
    return Reply.with_buttons("\n".join(lines), rows)


async def teacher_view(ctx: Context) -> list[Reply]:
    """`/campaign` for a teacher: their households in each running campaign (a page), and the
    overview of the campaigns whose 包保表 names them as leader."""
    from handlers.campaigns.overview import campaign_overview  # overview uses this module

    _ = ctx.t._
    staff = ctx.staff
    running = await queries.running_campaigns(ctx.session, ctx.school.id or 0, ctx.today)
    if staff is None or not running:
        return [Reply(_("目前没有进行中的大走访。"))]
    replies: list[Reply] = []
    for campaign in running:
        figures = await figures_of(ctx, campaign)
        if figures.of_teacher(staff.id or 0):
            replies.append(teacher_page(ctx, campaign, figures, staff.id or 0, 0))
        if figures.leaders_of(staff.id or 0):
            replies += await campaign_overview(ctx, campaign, figures=figures)
    if not replies:
        names = "、".join(f"“{c.name}”" for c in running)
        return [Reply(_("进行中的大走访{names}中没有由您包保的家庭。").format(names=names))]
    return replies


async def show_more(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """更多: the next page of the presser's own households (whatever the button says)."""
    campaign_part, _sep, page_part = argument.partition(".")
    campaign_id, page = record_id(campaign_part), record_id(page_part)
    campaign = (
        await queries.campaign_by_id(ctx.session, ctx.school.id or 0, campaign_id)
        if campaign_id is not None
        else None
    )
    if campaign is None or page is None or ctx.staff is None:
        return [Reply(ctx.t._("找不到这次大走访。"))]
    figures = await figures_of(ctx, campaign)
    if not figures.of_teacher(ctx.staff.id or 0):
        return [Reply(ctx.t._("大走访“{name}”中没有由您包保的家庭。").format(name=campaign.name))]
    return [teacher_page(ctx, campaign, figures, ctx.staff.id or 0, page)]


async def start_visit(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """家访: `/visit` for the household's child, once it is checked that the household is the
    presser's in a running campaign and the child one of their students."""
    _ = ctx.t._
    student_id = record_id(argument)
    if student_id is None or ctx.staff is None:
        return [Reply(_("这个按钮已失效。"))]
    running = await queries.running_campaigns(ctx.session, ctx.school.id or 0, ctx.today)
    mine = False
    for campaign in running:
        responsible = await queries.responsible_for(ctx.session, campaign, student_id)
        if responsible is not None and responsible[0] == ctx.staff.id:
            mine = True
            break
    if not mine:
        return [Reply(_("这一家不是您在进行中的大走访里包保的家庭。"))]
    pupil = await TEACHER_PICKER.pupil(ctx, student_id)
    if pupil is None:
        return [
            Reply(
                _(
                    "这名学生不在您任教的班级名单中，暂时不能在这里记录家访。请联系德育处核对包保表或任课安排。"
                )
            )
        ]
    draft = VisitDraft(student_id=pupil.id)
    started = await visit_proceed(draft, ctx, field_line(ctx.t, VisitState.STUDENT, pupil.label))
    if started.next_state is None:
        return list(started.replies)
    return await begin(
        inbound,
        ctx,
        flow="visit",
        state=started.next_state,
        draft=draft,
        reply=started.replies[-1],
    )


# -- the overview's figures ---------------------------------------------------------------------


def may_oversee(ctx: Context, figures: CampaignFigures) -> bool:
    """德育处 and the principal (campaign.manage), and the campaign's leaders."""
    if permits(ctx, Action.CAMPAIGN_MANAGE):
        return True
    return ctx.staff is not None and bool(figures.leaders_of(ctx.staff.id or 0))


def coverage_lines(ctx: Context, figures: CampaignFigures) -> list[str]:
    _ = ctx.t._
    cover = figures.coverage
    lines = [_("入户率：全校 {rate}").format(rate=rate_text(ctx, cover.school))]
    if len(cover.per_grade) > 1:
        lines.append(
            _("按年级：{grades}").format(
                grades="；".join(
                    f"{grade_name(ctx.t, grade)} {rate_text(ctx, rate)}"
                    for grade, rate in cover.per_grade.items()
                )
            )
        )
    lines.append(_("按班级："))
    lines += [
        f"{klass.name} {rate_text(ctx, cover.per_class[klass.class_id])}"
        for klass in figures.classes
        if klass.class_id in cover.per_class
    ]
    if figures.by_leader:
        lines.append(_("按校领导："))
        lines += [f"{leader} {rate_text(ctx, rate)}" for leader, rate in figures.by_leader.items()]
    return lines


def unvisited_reply(ctx: Context, campaign: Campaign, figures: CampaignFigures) -> Reply:
    _ = ctx.t._
    per_class = figures.unvisited_per_class()
    left = figures.coverage.school.households - figures.coverage.school.visited
    if not per_class:
        return Reply(_("尚未走访：0 户。每一户都已走访。"))
    lines = [
        _("尚未走访：{count} 户").format(count=left),
        "；".join(
            _("{klass} {count} 户").format(klass=klass.name, count=count)
            for klass, count in per_class
        ),
        _("点班级查看尚未走访的家庭。"),
    ]
    buttons = [
        action_button(f"{klass.name}（{count}）", UNVISITED, f"{campaign.id}.{klass.class_id}")
        for klass, count in per_class
    ]
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    return Reply.with_buttons("\n".join(lines), rows)


def doubles_lines(ctx: Context, figures: CampaignFigures) -> list[str]:
    _ = ctx.t._
    if not figures.doubles:
        return [_("重复走访：没有。")]
    lines = [_("重复走访：{count} 次（这些家庭只计一次）").format(count=len(figures.doubles))]
    for number, double in enumerate(figures.doubles[:DOUBLES_SHOWN], start=1):
        line = figures.household(double.visit.household)
        where = household_text(ctx, figures, line) if line is not None else "?"
        first, second = double.first, double.visit
        lines.append(
            _("{number}. {household}：{first} {first_day} 首访，{second} {second_day} 再访").format(
                number=number,
                household=where,
                first=figures.names.get(first.teacher_id, "?"),
                first_day=day_text(ctx, first.visit_date.month, first.visit_date.day),
                second=figures.names.get(second.teacher_id, "?"),
                second_day=day_text(ctx, second.visit_date.month, second.visit_date.day),
            )
        )
    if len(figures.doubles) > DOUBLES_SHOWN:
        lines.append(
            _("另有 {count} 次，见 jiafang export campaign {id}。").format(
                count=len(figures.doubles) - DOUBLES_SHOWN, id=figures.campaign_id
            )
        )
    return lines


def left_behind_lines(ctx: Context, figures: CampaignFigures) -> list[str]:
    _ = ctx.t._
    rate = figures.left_behind
    if rate.households == 0:
        return [_("留守儿童家庭：没有。")]
    lines = [
        _("留守儿童家庭{month}月联系：已联系 {contacted} 户，共 {count} 户").format(
            month=figures.month.month, contacted=rate.visited, count=rate.households
        )
    ]
    due = [h for h in figures.households if h.contact_due]
    if due:
        lines.append(_("本月尚未联系："))
        lines += [
            _("{household}（{teacher}）").format(
                household=household_text(ctx, figures, h),
                teacher=figures.names.get(h.teacher_id or 0, _("无责任教师")),
            )
            for h in due[:LEFT_BEHIND_SHOWN]
        ]
        if len(due) > LEFT_BEHIND_SHOWN:
            lines.append(_("另有 {count} 户。").format(count=len(due) - LEFT_BEHIND_SHOWN))
    return lines


async def figure_replies(
    ctx: Context, campaign: Campaign, figures: CampaignFigures, heading: list[str]
) -> list[Reply]:
    """The overview's replies after `heading` (the campaign's days, rule and 包保表): the
    coverage with the chart, the households not yet visited per class, then double visits and
    left-behind contacts."""
    text = "\n".join([*heading, *coverage_lines(ctx, figures)])
    image = await coverage_png(ctx, figures, campaign)
    first = Reply(text, image=image) if image is not None else Reply(text)
    rest = [*doubles_lines(ctx, figures)]
    if campaign.left_behind_monthly or figures.left_behind.households:
        rest += ["", *left_behind_lines(ctx, figures)]
    return [first, unvisited_reply(ctx, campaign, figures), Reply("\n".join(rest))]


async def show_unvisited(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """A class's households not yet visited, with their responsible teachers."""
    _ = ctx.t._
    campaign_part, _sep, class_part = argument.partition(".")
    campaign_id, class_id = record_id(campaign_part), record_id(class_part)
    campaign = (
        await queries.campaign_by_id(ctx.session, ctx.school.id or 0, campaign_id)
        if campaign_id is not None
        else None
    )
    if campaign is None or class_id is None:
        return [Reply(_("找不到这次大走访。"))]
    figures = await figures_of(ctx, campaign)
    if not may_oversee(ctx, figures):
        return [Reply(_("这个按钮不适用于您。"))]
    if not any(k.class_id == class_id for k in figures.classes):
        return [Reply(_("这个班级不在这次大走访的范围内。"))]
    found = figures.unvisited_in(class_id)
    name = figures.class_name(class_id)
    if not found:
        return [Reply(_("{klass}的家庭都已走访。").format(klass=name))]
    lines = [_("{klass}尚未走访的家庭（{count} 户）：").format(klass=name, count=len(found))]
    lines += [
        _("{number}. {children} — {teacher}").format(
            number=number,
            children=children_text(h),
            teacher=(
                _("{name}老师").format(name=figures.names.get(h.teacher_id, "?"))
                if h.teacher_id is not None
                else _("无责任教师")
            ),
        )
        for number, h in enumerate(found[:LISTED], start=1)
    ]
    if len(found) > LISTED:
        lines.append(_("另有 {count} 户。").format(count=len(found) - LISTED))
    return [Reply("\n".join(lines))]


VIEW_ACTIONS: tuple[ButtonAction, ...] = (
    ButtonAction(MORE, show_more),
    ButtonAction(VISIT, start_visit),
    ButtonAction(UNVISITED, show_unvisited),
)
