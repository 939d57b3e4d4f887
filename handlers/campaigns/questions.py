"""Each `/campaign` state's question (text and buttons), rebuilt from the draft every time, so
asking again after bad input, 上一步 or a restart shows the same buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlmodel import select

from handlers.campaigns.overview import scope_text
from handlers.campaigns.states import CampaignDraft, State, next_state
from handlers.context import Context
from handlers.notice.render import format_day, grade_name
from handlers.types import Button, Reply, Transition
from models.campaigns.queries import overlapping
from models.campaigns.rules import (
    VISIT_RULE_LABELS,
    CampaignRefused,
    CampaignScope,
    CampaignSpec,
    VisitRule,
    check_campaign,
)
from models.roster.tables import Staff, Student
from models.school.tables import SchoolClass

# Callback data; the values after a colon are checked again by the steps (never trusted).
SCOPE_SCHOOL, SCOPE_GRADES, SCOPE_BACK = "scope:school", "scope:grades", "scope:back"
TOGGLE, DONE = "pick:", "done"
RULE = "rule:"
YES, NO = "lb:yes", "lb:no"
CREATE, CANCEL = "create", "cancel"
MOVE = "move"

#: The furthest ahead a campaign may start.
START_LIMIT = timedelta(days=365)

Question = tuple[str, list[list[Button]]]


def rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def refusal(ctx: Context, refused: CampaignRefused) -> str:
    return ctx.t._(refused.message).format(**refused.params)


async def grades_of(ctx: Context) -> list[int]:
    """The school's grades that have a class."""

    async def read() -> list[int]:
        query = select(SchoolClass.grade).where(SchoolClass.school_id == ctx.school.id)
        return sorted(set((await ctx.session.exec(query)).all()))

    return await ctx.cached(("campaign_grades", ctx.school.id), read)


def spec_of_draft(draft: CampaignDraft) -> CampaignSpec:
    """The complete draft checked (`CampaignRefused` if the rules refuse it)."""
    assert draft.name is not None and draft.start is not None and draft.end is not None
    return check_campaign(
        draft.name,
        draft.start,
        draft.end,
        scope=draft.scope or CampaignScope.SCHOOL,
        grades=draft.grades,
        visit_rule=draft.visit_rule or VisitRule.IN_PERSON,
        left_behind_monthly=bool(draft.left_behind_monthly),
    )


# -- the questions ------------------------------------------------------------------------------


async def _name(draft: CampaignDraft, ctx: Context) -> Question:
    return ctx.t._("新建大走访。请输入这次大走访的名称（例如 2026年秋季大走访）："), []


async def _start(draft: CampaignDraft, ctx: Context) -> Question:
    return ctx.t._("从哪一天开始？请输入日期（例如 11月20日、2026-11-20）："), []


async def _end(draft: CampaignDraft, ctx: Context) -> Question:
    return ctx.t._("到哪一天结束（含这一天）？请输入日期（例如 12月20日）："), []


async def _scope(draft: CampaignDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_("全校"), SCOPE_SCHOOL), Button(_("按年级"), SCOPE_GRADES)]
    return _("走访哪些家庭？"), [buttons]


async def _grades(draft: CampaignDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [
        Button(("✓ " if g in draft.grades else "") + grade_name(ctx.t, g), f"{TOGGLE}{g}")
        for g in await grades_of(ctx)
    ]
    text = _("请选择年级（可多选，再点一次取消），选好后点“完成”：")
    return text, [*rows(buttons, 3), [Button(_("完成"), DONE), Button(_("重选范围"), SCOPE_BACK)]]


async def _rule(draft: CampaignDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(label), f"{RULE}{rule.value}") for rule, label in VISIT_RULE_LABELS.items()]
    text = _("哪些家访计入这次大走访？（仅上门家访：只有入户走访才算走访过这一家）")
    return text, [buttons]


async def _left_behind(draft: CampaignDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = _("留守儿童家庭是否每月联系一次（电话、短信等任何形式均可）？")
    return text, [[Button(_("是"), YES), Button(_("否"), NO)]]


async def summary_lines(draft: CampaignDraft, ctx: Context) -> list[str]:
    _ = ctx.t._
    assert draft.start is not None and draft.end is not None
    lines = [
        _("请确认新建大走访："),
        _("名称：{name}").format(name=draft.name),
        _("时间：{days}").format(
            days=_("{start}至{end}").format(
                start=format_day(ctx.t, draft.start), end=format_day(ctx.t, draft.end)
            )
        ),
        _("范围：{scope}").format(
            scope=scope_text(ctx, draft.scope or CampaignScope.SCHOOL, draft.grades)
        ),
        _("计入：{rule}").format(
            rule=_(VISIT_RULE_LABELS[draft.visit_rule or VisitRule.IN_PERSON])
        ),
        _("留守儿童家庭每月联系：{answer}").format(
            answer=_("是") if draft.left_behind_monthly else _("否")
        ),
    ]
    try:
        spec = spec_of_draft(draft)
    except CampaignRefused as refused:
        return [*lines, refusal(ctx, refused)]
    for other in await overlapping(ctx.session, ctx.school.id or 0, spec):
        lines.append(
            _("提醒：与“{name}”（{start}至{end}）的时间和年级有重叠，两次都会进行。").format(
                name=other.name,
                start=format_day(ctx.t, other.start_date),
                end=format_day(ctx.t, other.end_date),
            )
        )
    return lines


async def _confirm(draft: CampaignDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_("确认创建"), CREATE), Button(_("取消"), CANCEL)]
    return "\n".join(await summary_lines(draft, ctx)), [buttons]


async def move_text(draft: CampaignDraft, ctx: Context) -> str:
    """把…一家交给…老师包保？ with the teacher it has now."""
    _ = ctx.t._
    student = await ctx.session.get(Student, draft.student_id) if draft.student_id else None
    teacher = await ctx.session.get(Staff, draft.teacher_id) if draft.teacher_id else None
    klass = await ctx.session.get(SchoolClass, student.class_id) if student else None
    if student is None or teacher is None:
        return _("这项操作已不可用，请重新开始。")
    return _("把{klass}{student}（{no}）一家交给{teacher}老师包保？").format(
        klass=klass.name if klass else "",
        student=student.name,
        no=student.student_no,
        teacher=teacher.name,
    )


async def _move(draft: CampaignDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_("确认调整"), MOVE), Button(_("取消"), CANCEL)]
    return await move_text(draft, ctx), [buttons]


_QUESTIONS: dict[State, Callable[[CampaignDraft, Context], Awaitable[Question]]] = {
    State.NAME: _name,
    State.START: _start,
    State.END: _end,
    State.SCOPE: _scope,
    State.GRADES: _grades,
    State.RULE: _rule,
    State.LEFT_BEHIND: _left_behind,
    State.CONFIRM: _confirm,
    State.MOVE: _move,
}


async def question(state: State, draft: CampaignDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


async def ask(state: State, draft: CampaignDraft, ctx: Context, *notes: str) -> Transition:
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: CampaignDraft, ctx: Context, *notes: str) -> Transition:
    return await ask(next_state(draft), draft, ctx, *notes)
