"""`/campaign` (大走访): 德育处 and the principal set up a school-wide home-visit campaign (see
`campaign.mmd`) and its 包保表; teachers see their own households.

- `/campaign`: 德育处 and the principal get the school's campaigns (running first), each a
  button to its overview (`handlers.campaigns.overview.campaign_overview`), and 新建大走访; a
  teacher gets their households in the running campaigns.
- `/campaign new` (新建): name, first day, last day (typed like a notice's dates; the last day
  not before the first, the first not more than a year ahead), scope (全校 / grades), which
  visits count (仅上门家访 / 任何形式), left-behind households monthly (是 / 否), the summary
  with any overlapping campaign named, 确认创建; then 自动分配包保表 (generated and written,
  shown per class) or 稍后导入 (the command line's `campaign assign`).
- `/campaign 调整 学号 工号`: the household of the student with that 学号, in the newest campaign
  running or to come that covers the student, given to the teacher with that 工号, after
  确认调整.

Nothing is saved before 确认创建 / 确认调整; a refusal saves nothing.
"""

from __future__ import annotations

from sqlmodel import col, select

from handlers.actions import Action as ButtonAction
from handlers.actions import action_button, record_id
from handlers.campaigns import overview, views
from handlers.campaigns import questions as q
from handlers.campaigns.states import CampaignDraft, State
from handlers.context import Context
from handlers.flow import Flow, is_staff, with_typed_labels
from handlers.hints import button_note, invalid, too_long
from handlers.i18n import N_
from handlers.notice.converse import begin
from handlers.notice.when import parse_typed
from handlers.permissions import permits
from handlers.types import Inbound, Reply, Transition, callback_rest
from models.campaigns import queries
from models.campaigns.rules import (
    MAX_NAME,
    CampaignRefused,
    CampaignScope,
    VisitRule,
    check_campaign,
)
from models.campaigns.tables import AssignmentSource, Campaign
from models.permissions.matrix import Action
from models.roster.scope import holds_records
from models.roster.tables import Staff, Student

FLOW = "campaign"
NEW_WORDS = ("new", "新建")
MOVE_WORDS = ("move", "调整")


def may_manage(ctx: Context) -> bool:
    """德育处 and the principal (the matrix's campaign.manage)."""
    return permits(ctx, Action.CAMPAIGN_MANAGE)


def _gone(ctx: Context) -> Transition:
    return Transition.end(Reply(ctx.t._("这项操作已不可用，请重新开始。")))


async def start(inbound: Inbound, draft: CampaignDraft, ctx: Context, args: str) -> Transition:
    words = args.split()
    if not may_manage(ctx):
        return Transition.end(*await views.teacher_view(ctx))
    if not words:
        return Transition.end(await overview.campaign_list(ctx))
    if words[0].lower() in NEW_WORDS:
        return await q.proceed(draft, ctx)
    if words[0].lower() in MOVE_WORDS:
        return await _begin_move(draft, ctx, words[1:])
    return Transition.end(
        Reply(
            ctx.t._(
                "请发送 /campaign 查看大走访，/campaign new 新建，/campaign 调整 学号 工号 调整包保教师。"
            )
        )
    )


# -- name and days ------------------------------------------------------------------------------


async def type_name(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    name = (inbound.text or "").strip()
    if len(name) > MAX_NAME:
        return await q.ask(State.NAME, draft, ctx, too_long(ctx, MAX_NAME, len(name)))
    try:
        check_campaign(name, ctx.today, ctx.today)
    except CampaignRefused as refused:
        return await q.ask(State.NAME, draft, ctx, q.refusal(ctx, refused))
    taken = await ctx.session.exec(
        select(Campaign.id).where(Campaign.school_id == ctx.school.id, Campaign.name == name)
    )
    if taken.first() is not None:
        note = ctx.t._("已有名为“{name}”的大走访，请换一个名称。").format(name=name)
        return await q.ask(State.NAME, draft, ctx, note)
    draft.name = name
    return await q.proceed(draft, ctx)


def _unreadable(ctx: Context) -> str:
    return ctx.t._("没能读懂这个日期。请输入例如 11月20日、2026-11-20。")


async def type_start(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    typed = parse_typed(inbound.text or "", today=ctx.today)
    if typed is None:
        return await q.ask(State.START, draft, ctx, _unreadable(ctx))
    if typed.day - ctx.today > q.START_LIMIT:
        note = ctx.t._("开始日期离今天超过一年，是不是年份写错了？请重新输入。")
        return await q.ask(State.START, draft, ctx, note)
    draft.start = typed.day
    return await q.proceed(draft, ctx)


async def type_end(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    typed = parse_typed(inbound.text or "", today=ctx.today)
    if typed is None:
        return await q.ask(State.END, draft, ctx, _unreadable(ctx))
    if draft.start is None or draft.name is None:
        return await q.proceed(draft, ctx)
    try:
        check_campaign(draft.name, draft.start, typed.day)
    except CampaignRefused as refused:
        return await q.ask(State.END, draft, ctx, q.refusal(ctx, refused))
    draft.end = typed.day
    return await q.proceed(draft, ctx)


# -- scope and rules ----------------------------------------------------------------------------


async def choose_scope(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    if inbound.callback == q.SCOPE_SCHOOL:
        draft.scope, draft.grades, draft.grades_done = CampaignScope.SCHOOL, [], True
        return await q.proceed(draft, ctx)
    if inbound.callback == q.SCOPE_GRADES:
        draft.scope, draft.grades, draft.grades_done = CampaignScope.GRADES, [], False
        return await q.proceed(draft, ctx)
    return await q.ask(State.SCOPE, draft, ctx, button_note(inbound, ctx))


async def choose_grades(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    """Each press adds or removes a grade; 完成 closes the choice."""
    data = inbound.callback
    if data == q.SCOPE_BACK:
        draft.forget_scope()
        return await q.ask(State.SCOPE, draft, ctx)
    if data == q.DONE:
        if not draft.grades:
            return await q.ask(State.GRADES, draft, ctx, ctx.t._("请至少选择一项，再点“完成”。"))
        draft.grades_done = True
        return await q.proceed(draft, ctx)
    rest = callback_rest(data, q.TOGGLE)
    grade = record_id(rest) if rest is not None else None
    if grade is None:
        return await q.ask(State.GRADES, draft, ctx, button_note(inbound, ctx))
    if grade not in await q.grades_of(ctx):
        return await q.ask(State.GRADES, draft, ctx, invalid(ctx))
    if grade in draft.grades:
        draft.grades.remove(grade)
    else:
        draft.grades.append(grade)
        draft.grades.sort()
    return await q.ask(State.GRADES, draft, ctx)


async def choose_rule(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, q.RULE)
    if value not in {rule.value for rule in VisitRule}:
        return await q.ask(State.RULE, draft, ctx, button_note(inbound, ctx))
    draft.visit_rule = VisitRule(value)
    return await q.proceed(draft, ctx)


async def choose_left_behind(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    if inbound.callback not in (q.YES, q.NO):
        return await q.ask(State.LEFT_BEHIND, draft, ctx, button_note(inbound, ctx))
    draft.left_behind_monthly = inbound.callback == q.YES
    return await q.proceed(draft, ctx)


# -- creating, generating -----------------------------------------------------------------------


async def confirm(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    if inbound.callback == q.CANCEL:
        return Transition.end(Reply(ctx.t._("已取消，这次大走访没有创建。")))
    if inbound.callback != q.CREATE:
        return await q.ask(State.CONFIRM, draft, ctx, button_note(inbound, ctx))
    if not may_manage(ctx) or ctx.staff is None:
        return _gone(ctx)
    try:
        spec = q.spec_of_draft(draft)
        campaign = await queries.create_campaign(
            ctx.session, ctx.school.id or 0, spec, by=ctx.staff.id, now=ctx.now
        )
    except CampaignRefused as refused:
        draft.name = None
        return await q.ask(State.NAME, draft, ctx, q.refusal(ctx, refused))
    return Transition.end(created_reply(ctx, campaign))


def created_reply(ctx: Context, campaign: Campaign) -> Reply:
    """The campaign is saved and the conversation over; the 包保表 is generated with a button
    (`overview.GENERATE`, refused once a table exists) or imported from the command line."""
    _ = ctx.t._
    lines = [
        _("已创建大走访“{name}”（#{id}）。").format(name=campaign.name, id=campaign.id),
        _(
            "现在自动分配包保表吗？每个班的家庭按学号分给本班老师（班主任在前），"
            "兄弟姐妹一家只分一次。"
        ),
        _(
            "也可以从命令行导入学校自己的包保表：jiafang campaign assign {id} 包保表.xlsx --by 工号"
            "（标题：校领导、年级、班级、责任教师、学生）。"
        ).format(id=campaign.id),
    ]
    button = action_button(_("自动分配包保表"), overview.GENERATE, campaign.id or 0)
    return Reply.with_buttons("\n".join(lines), [[button]])


async def _campaign(ctx: Context, campaign_id: int | None) -> Campaign | None:
    if campaign_id is None:
        return None
    return await queries.campaign_by_id(ctx.session, ctx.school.id or 0, campaign_id)


async def generate_table(ctx: Context, campaign: Campaign) -> Reply:
    """Generate and write the campaign's 包保表, shown per class."""
    found = await queries.campaign_roster(ctx.session, campaign)
    assignment = queries.generated(found)
    count = await queries.write_assignment(
        ctx.session,
        campaign,
        assignment,
        source=AssignmentSource.GENERATED,
        by=ctx.staff.id if ctx.staff else None,
        now=ctx.now,
        households=found.roster.households,
    )
    names = await queries.staff_names(ctx.session, campaign.school_id)
    lines = [
        ctx.t._("已自动分配包保表：共 {count} 户，每户一位责任教师。").format(count=count),
        *overview.class_lines(ctx, found.roster, assignment, names, found.heads),
        ctx.t._("导出后可修改再导入：jiafang export campaign {id} -o 包保表.xlsx").format(
            id=campaign.id
        ),
    ]
    return Reply("\n".join(lines))


# -- moving a household -------------------------------------------------------------------------


async def _begin_move(draft: CampaignDraft, ctx: Context, words: list[str]) -> Transition:
    _ = ctx.t._
    if len(words) != 2:
        return Transition.end(
            Reply(_("请这样写：/campaign 调整 学号 工号（例如 /campaign 调整 2026320101 T02）。"))
        )
    student_no, staff_no = words
    student = (
        await ctx.session.exec(
            select(Student).where(
                Student.school_id == ctx.school.id,
                Student.student_no == student_no,
                col(Student.active),
            )
        )
    ).first()
    if student is None or student.id is None:
        return Transition.end(Reply(_("没有学号为 {no} 的学生。").format(no=student_no)))
    teacher = (
        await ctx.session.exec(
            select(Staff).where(
                Staff.school_id == ctx.school.id,
                Staff.staff_no == staff_no,
                col(Staff.active),
                holds_records(),
            )
        )
    ).first()
    if teacher is None or teacher.id is None:
        return Transition.end(Reply(_("没有工号为 {no} 的教职工。").format(no=staff_no)))
    grade = await queries.student_grade(ctx.session, ctx.school.id or 0, student.id)
    campaign = next(
        (
            c
            for c in await queries.open_campaigns(ctx.session, ctx.school.id or 0, ctx.today)
            if grade is not None and queries.spec_of(c).covers_grade(grade)
        ),
        None,
    )
    if campaign is None:
        return Transition.end(Reply(_("没有进行中或即将开始的大走访包括这名学生。")))
    draft.campaign_id, draft.student_id, draft.teacher_id = campaign.id, student.id, teacher.id
    now_with = await queries.responsible_for(ctx.session, campaign, student.id)
    note = _("大走访“{name}”：这一家现在由{teacher}老师包保。").format(
        name=campaign.name, teacher=now_with[1] if now_with else _("（无人）")
    )
    return await q.ask(State.MOVE, draft, ctx, note)


async def confirm_move(inbound: Inbound, draft: CampaignDraft, ctx: Context) -> Transition:
    if inbound.callback == q.CANCEL:
        return Transition.end(Reply(ctx.t._("已取消，包保教师没有改变。")))
    if inbound.callback != q.MOVE:
        return await q.ask(State.MOVE, draft, ctx, button_note(inbound, ctx))
    campaign = await _campaign(ctx, draft.campaign_id)
    if campaign is None or draft.student_id is None or draft.teacher_id is None:
        return _gone(ctx)
    if not may_manage(ctx):
        return _gone(ctx)
    text = await q.move_text(draft, ctx)
    try:
        await queries.move_household(
            ctx.session,
            campaign,
            draft.student_id,
            draft.teacher_id,
            by=ctx.staff.id if ctx.staff else None,
            now=ctx.now,
        )
    except CampaignRefused as refused:
        return Transition.end(Reply(q.refusal(ctx, refused)))
    done = text.rstrip("？?")
    return Transition.end(Reply(ctx.t._("已调整：{change}。").format(change=done)))


# -- the buttons --------------------------------------------------------------------------------


async def show_overview(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    campaign = await _campaign(ctx, record_id(argument))
    if campaign is None:
        return [Reply(ctx.t._("找不到这次大走访。"))]
    return await overview.campaign_overview(ctx, campaign)


async def open_new(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """新建大走访 under the list: the same as `/campaign new`."""
    draft = CampaignDraft()
    started = await q.proceed(draft, ctx)
    assert started.next_state is not None
    return await begin(
        inbound, ctx, flow=FLOW, state=started.next_state, draft=draft, reply=started.replies[-1]
    )


async def generate_now(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """自动分配包保表 under a campaign's overview: only while it has no table (replacing a
    table is the command line's `campaign generate`)."""
    campaign = await _campaign(ctx, record_id(argument))
    if campaign is None:
        return [Reply(ctx.t._("找不到这次大走访。"))]
    if (await queries.assignment_of(ctx.session, campaign)).responsible:
        text = ctx.t._(
            "这次大走访已经有包保表，没有重新分配。要整体替换，请用命令行 jiafang campaign generate {id}。"
        ).format(id=campaign.id)
        return [Reply(text)]
    return [await generate_table(ctx, campaign)]


STEPS = {
    State.NAME: type_name,
    State.START: type_start,
    State.END: type_end,
    State.SCOPE: choose_scope,
    State.GRADES: choose_grades,
    State.RULE: choose_rule,
    State.LEFT_BEHIND: choose_left_behind,
    State.CONFIRM: confirm,
    State.MOVE: confirm_move,
}

CAMPAIGN_FLOW = Flow(
    name=FLOW,
    draft_type=CampaignDraft,
    steps=with_typed_labels(STEPS, q.question, except_in=(State.NAME,)),
    start=start,
    commands=("campaign", "大走访"),
    allowed=is_staff,
    refusal=N_("大走访只对本校教职工开放。"),
    describe=N_("大走访：新建走访活动、分配包保表、查看自己包保的家庭（/campaign new 新建）"),
    draft_noun=N_("大走访"),
)


async def ask_stop(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """停止大走访 under a running or upcoming campaign's overview: asks to confirm."""
    _ = ctx.t._
    campaign = await _campaign(ctx, record_id(argument))
    if campaign is None or overview.campaign_state(campaign, ctx.today) in ("ended", "cancelled"):
        return [Reply(_("这次大走访已经结束或停止了。"))]
    text = _(
        "停止大走访“{name}”吗？停止后不再统计入户率、不再提醒留守家庭联系，"
        "已记录的家访和包保表都会保留。"
    ).format(name=campaign.name)
    return [
        Reply.with_buttons(
            text, [[action_button(_("确认停止"), overview.STOPPED, campaign.id or 0)]]
        )
    ]


async def stop(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """确认停止: the campaign counts as ended from today (pressed twice: said once)."""
    _ = ctx.t._
    campaign = await _campaign(ctx, record_id(argument))
    if campaign is None:
        return [Reply(_("找不到这次大走访。"))]
    if not await queries.stop_campaign(
        ctx.session, campaign, by=ctx.staff.id if ctx.staff else None, now=ctx.now
    ):
        return [Reply(_("这次大走访已经结束或停止了。"))]
    return [Reply(_("大走访“{name}”已停止。").format(name=campaign.name))]


CAMPAIGN_ACTIONS: tuple[ButtonAction, ...] = (
    ButtonAction(overview.OVERVIEW, show_overview),
    ButtonAction(overview.NEW, open_new),
    ButtonAction(overview.GENERATE, generate_now),
    ButtonAction(overview.STOP, ask_stop),
    ButtonAction(overview.STOPPED, stop),
)
