"""Working a case (care-room staff; the principal reads but never writes): 接手, and the short
conversations the card's buttons start — 评估 (nature, severity), 帮扶计划 (support, study and
daily-life help, who, how often), 记录辅导 (when, where, the problem, the measures, the effect),
阶段小结, 结案 (the student's, the teacher's and the parents' feedback; nothing closes without
them). The case is read again, and the person's right checked again, before anything is saved;
each save is one guarded change with its chronology line and its audit line
(`models.care.handling`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from handlers.care.lookup import Allowed, Found, allowed, find_case
from handlers.care.render import who
from handlers.care.show import card_reply, not_found
from handlers.context import Context
from handlers.flow import Flow, Step, with_typed_labels
from handlers.hints import button_note, too_long
from handlers.i18n import N_
from handlers.notice.converse import begin
from handlers.notice.when import parse_typed
from handlers.permissions import gate
from handlers.types import Button, Inbound, Reply, Transition, callback_rest
from models.care.handling import (
    CaseRefused,
    Contact,
    Plan,
    add_contact,
    add_summary,
    assess,
    close,
    make_plan,
    take,
)
from models.care.rules import (
    ENTRY_LIMIT,
    PLACE_LIMIT,
    PLAN_EVERY_CHOICES,
    PLAN_LIMIT,
    WHO_LIMIT,
    contact_time_problem,
)
from models.care.tables import NATURE_LABELS, SEVERITY_LABELS, CaseNature, CaseSeverity
from models.permissions.matrix import Action

FLOW = "case_work"
NATURE, SEVERITY, EVERY = "na:", "se:", "ev:"
SKIP, NOW, CLOSE_OK, CLOSE_NO = "skip", "now", "close", "keep"
YESTERDAY_WORDS = ("昨天", "昨日")


class Mode(StrEnum):
    ASSESS = "assess"
    PLAN = "plan"
    CONTACT = "contact"
    SUMMARY = "summary"
    CLOSE = "close"


class State(StrEnum):
    NATURE = "nature"
    SEVERITY = "severity"
    SUPPORT = "support"
    STUDY = "study"
    DAILY = "daily"
    WHO = "who"
    EVERY = "every"
    WHEN = "when"
    PLACE = "place"
    PROBLEM = "problem"
    MEASURES = "measures"
    EFFECT = "effect"
    SUMMARY = "summary"
    EVAL_STUDENT = "eval_student"
    EVAL_TEACHER = "eval_teacher"
    EVAL_PARENTS = "eval_parents"
    CONFIRM_CLOSE = "confirm_close"


FIRST: dict[Mode, State] = {
    Mode.ASSESS: State.NATURE,
    Mode.PLAN: State.SUPPORT,
    Mode.CONTACT: State.WHEN,
    Mode.SUMMARY: State.SUMMARY,
    Mode.CLOSE: State.EVAL_STUDENT,
}


class WorkDraft(BaseModel):
    case_id: int = 0
    mode: Mode = Mode.ASSESS
    nature: CaseNature | None = None
    support: str = ""
    study: str = ""
    daily: str = ""
    who: str = ""
    at: datetime | None = None
    place: str = ""
    problem: str = ""
    measures: str = ""
    #: The three evaluations (结案).
    eval_student: str = ""
    eval_teacher: str = ""
    eval_parents: str = ""


def _may(mode: Mode, may: Allowed) -> bool:
    return {
        Mode.ASSESS: may.assess,
        Mode.PLAN: may.plan,
        Mode.CONTACT: may.contact,
        Mode.SUMMARY: may.summary,
        Mode.CLOSE: may.close,
    }[mode]


async def _found(draft: WorkDraft, ctx: Context) -> Found | None:
    found = await find_case(ctx, draft.case_id)
    if found is None or not _may(draft.mode, allowed(ctx, found)):
        return None
    return found


#: The free-text questions: (prompt, the limit).
_TEXTS: dict[State, tuple[str, int]] = {
    State.SUPPORT: (N_("心理支持：怎样帮助？（可以跳过）"), PLAN_LIMIT),
    State.STUDY: (N_("学业帮扶：怎样帮助？（可以跳过）"), PLAN_LIMIT),
    State.DAILY: (N_("生活帮扶（如经济资助）：怎样帮助？（可以跳过）"), PLAN_LIMIT),
    State.WHO: (N_("由谁帮扶？（姓名或岗位，例如：周心、班主任王芳）"), WHO_LIMIT),
    State.PLACE: (N_("辅导地点？（例如：关爱室、家中、电话）"), PLACE_LIMIT),
    State.PROBLEM: (N_("这次辅导的问题？"), ENTRY_LIMIT),
    State.MEASURES: (N_("采取了哪些措施？"), ENTRY_LIMIT),
    State.EFFECT: (N_("效果如何？"), ENTRY_LIMIT),
    State.SUMMARY: (N_("请写阶段小结："), ENTRY_LIMIT),
    State.EVAL_STUDENT: (N_("结案需要三方反馈。学生的反馈评价："), ENTRY_LIMIT),
    State.EVAL_TEACHER: (N_("教师的反馈评价："), ENTRY_LIMIT),
    State.EVAL_PARENTS: (N_("家长的反馈评价："), ENTRY_LIMIT),
}
_SKIPPABLE = (State.SUPPORT, State.STUDY, State.DAILY)
#: The draft field each free-text state fills.
_FIELDS: dict[State, str] = {
    State.SUPPORT: "support",
    State.STUDY: "study",
    State.DAILY: "daily",
    State.WHO: "who",
    State.PLACE: "place",
    State.PROBLEM: "problem",
    State.MEASURES: "measures",
    State.EVAL_STUDENT: "eval_student",
    State.EVAL_TEACHER: "eval_teacher",
    State.EVAL_PARENTS: "eval_parents",
}
#: What follows each state that does not save.
_NEXT: dict[State, State] = {
    State.NATURE: State.SEVERITY,
    State.SUPPORT: State.STUDY,
    State.STUDY: State.DAILY,
    State.DAILY: State.WHO,
    State.WHO: State.EVERY,
    State.WHEN: State.PLACE,
    State.PLACE: State.PROBLEM,
    State.PROBLEM: State.MEASURES,
    State.MEASURES: State.EFFECT,
    State.EVAL_STUDENT: State.EVAL_TEACHER,
    State.EVAL_TEACHER: State.EVAL_PARENTS,
    State.EVAL_PARENTS: State.CONFIRM_CLOSE,
}


def _head(ctx: Context, found: Found) -> str:
    return ctx.t._("个案 #{id}（{who}）").format(id=found.case.id, who=who(found.row))


def _question(state: State, draft: WorkDraft, ctx: Context, found: Found) -> Reply:
    _ = ctx.t._
    head = _head(ctx, found)
    if state == State.NATURE:
        buttons = [Button(_(NATURE_LABELS[n]), f"{NATURE}{n.value}") for n in CaseNature]
        return Reply.with_buttons(f"{head}\n" + _("评估：问题的性质？"), [buttons[:3], buttons[3:]])
    if state == State.SEVERITY:
        buttons = [Button(_(SEVERITY_LABELS[s]), f"{SEVERITY}{s.value}") for s in CaseSeverity]
        return Reply.with_buttons(f"{head}\n" + _("评估：严重程度？"), [buttons])
    if state == State.EVERY:
        buttons = [
            Button(_("每{days}天").format(days=days), f"{EVERY}{days}")
            for days in PLAN_EVERY_CHOICES
        ]
        return Reply.with_buttons(f"{head}\n" + _("多久联系一次学生？"), [buttons])
    if state == State.WHEN:
        text = _(
            "辅导是什么时候？请输入日期和时间，例如 11月16日 15:30、昨天 16:00；不能晚于现在。"
        )
        return Reply.with_buttons(f"{head}\n{text}", [[Button(_("就是现在"), NOW)]])
    if state == State.CONFIRM_CLOSE:
        lines = [
            f"{head}\n" + _("请核对结案评价："),
            _("学生反馈：{text}").format(text=draft.eval_student),
            _("教师反馈：{text}").format(text=draft.eval_teacher),
            _("家长反馈：{text}").format(text=draft.eval_parents),
        ]
        buttons = [Button(_("确认结案"), CLOSE_OK), Button(_("暂不结案"), CLOSE_NO)]
        return Reply.with_buttons("\n".join(lines), [buttons])
    prompt, limit = _TEXTS[state]
    text = f"{head}\n{_(prompt)}" + _("（不超过 {limit} 字）").format(limit=limit)
    if state in _SKIPPABLE:
        return Reply.with_buttons(text, [[Button(_("跳过"), SKIP)]])
    return Reply(text)


async def question(state: str, draft: WorkDraft, ctx: Context) -> Reply:
    found = await _found(draft, ctx)
    if found is None:
        return not_found(ctx)
    return _question(State(state), draft, ctx, found)


def _gone(ctx: Context) -> Reply:
    return Reply(
        ctx.t._("这个个案已有变动（可能已结案、已由他人接手或您已无权限），本次没有保存。")
    )


async def ask(state: State, draft: WorkDraft, ctx: Context, *notes: str) -> Transition:
    found = await _found(draft, ctx)
    if found is None:
        return Transition.end(_gone(ctx))
    reply = _question(state, draft, ctx, found)
    if notes:
        reply = Reply.with_buttons("\n".join([*notes, reply.text]), reply.buttons)
    return Transition.to(state, reply)


# -- starting, from the card's buttons ---------------------------------------------------------


async def _open(inbound: Inbound, argument: str, ctx: Context, mode: Mode) -> list[Reply]:
    found = await find_case(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    if not _may(mode, allowed(ctx, found)):
        return [await card_reply(ctx, found, ctx.t._("这项操作现在不适用于这个个案。"))]
    draft = WorkDraft(case_id=found.case.id or 0, mode=mode)
    state = FIRST[mode]
    reply = _question(state, draft, ctx, found)
    return await begin(inbound, ctx, flow=FLOW, state=state, draft=draft, reply=reply)


async def open_assess(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.ASSESS)


async def open_plan(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.PLAN)


async def open_contact(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.CONTACT)


async def open_summary(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.SUMMARY)


async def open_close(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.CLOSE)


async def take_case(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """接手: the person becomes the case's worker."""
    found = await find_case(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    if not allowed(ctx, found).take:
        return [await card_reply(ctx, found, ctx.t._("这项操作现在不适用于这个个案。"))]
    try:
        await take(ctx.session, found.case, by=found.staff.id or 0, now=ctx.now)
    except CaseRefused as refused:
        return [Reply(ctx.t._(refused.message))]
    refreshed = await find_case(ctx, argument)
    note = ctx.t._("您已接手这个个案。")
    return [await card_reply(ctx, refreshed, note) if refreshed else Reply(note)]


# -- the steps ---------------------------------------------------------------------------------


async def _done(draft: WorkDraft, ctx: Context, note: str) -> Transition:
    refreshed = await find_case(ctx, draft.case_id)
    return Transition.end(await card_reply(ctx, refreshed, note) if refreshed else Reply(note))


async def choose_nature(inbound: Inbound, draft: WorkDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, NATURE)
    if value not in {n.value for n in CaseNature}:
        return await ask(State.NATURE, draft, ctx, button_note(inbound, ctx))
    draft.nature = CaseNature(value)
    return await ask(State.SEVERITY, draft, ctx)


async def choose_severity(inbound: Inbound, draft: WorkDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, SEVERITY)
    if value not in {s.value for s in CaseSeverity} or draft.nature is None:
        return await ask(State.SEVERITY, draft, ctx, button_note(inbound, ctx))
    found = await _found(draft, ctx)
    if found is None:
        return Transition.end(_gone(ctx))
    try:
        await assess(
            ctx.session,
            found.case,
            nature=draft.nature,
            severity=CaseSeverity(value),
            by=found.staff.id or 0,
            now=ctx.now,
        )
    except CaseRefused as refused:
        return Transition.end(Reply(ctx.t._(refused.message)))
    return await _done(draft, ctx, ctx.t._("已保存评估。"))


async def choose_every(inbound: Inbound, draft: WorkDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, EVERY)
    if value is None or not value.isdigit() or int(value) not in PLAN_EVERY_CHOICES:
        return await ask(State.EVERY, draft, ctx, button_note(inbound, ctx))
    found = await _found(draft, ctx)
    if found is None:
        return Transition.end(_gone(ctx))
    plan = Plan(draft.support, draft.study, draft.daily, draft.who, int(value))
    try:
        await make_plan(ctx.session, found.case, plan, by=found.staff.id or 0, now=ctx.now)
    except CaseRefused as refused:
        if not any((draft.support, draft.study, draft.daily)):
            draft.support = draft.study = draft.daily = ""
            return await ask(State.SUPPORT, draft, ctx, ctx.t._(refused.message))
        return Transition.end(Reply(ctx.t._(refused.message)))
    return await _done(draft, ctx, ctx.t._("已保存帮扶计划。"))


def _typed_moment(text: str, ctx: Context) -> datetime | None:
    """A typed day and time (`11月16日 15:30`, `昨天 16:00`, `15:30` for today), or None."""
    for word in YESTERDAY_WORDS:
        if word in text:
            yesterday = ctx.today - timedelta(days=1)
            text = text.replace(word, f" {yesterday.isoformat()} ", 1)
    typed = parse_typed(text, today=ctx.today)
    if typed is None or typed.at is None:
        return None
    return datetime.combine(typed.day, typed.at, tzinfo=ctx.zone)


async def tell_when(inbound: Inbound, draft: WorkDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback == NOW:
        at: datetime | None = ctx.now.replace(second=0, microsecond=0)
    elif inbound.callback is not None:
        return await ask(State.WHEN, draft, ctx, button_note(inbound, ctx))
    else:
        at = _typed_moment((inbound.text or "").strip(), ctx)
    if at is None:
        note = _("没能读懂这个时间。请写日期和时间，例如 11月16日 15:30、昨天 16:00。")
        return await ask(State.WHEN, draft, ctx, note)
    problem = contact_time_problem(at, ctx.now)
    if problem is not None:
        return await ask(State.WHEN, draft, ctx, _(problem))
    draft.at = at
    return await ask(State.PLACE, draft, ctx)


def text_step(state: State) -> Step:
    """The step of a free-text state: keep the text (or 跳过 a part of the plan), then go on to
    the next question, or save (阶段小结, and a contact's last answer, 效果)."""

    async def write_text(inbound: Inbound, draft: WorkDraft, ctx: Context) -> Transition:
        _ = ctx.t._
        _prompt, limit = _TEXTS[state]
        text = (inbound.text or "").strip()
        if state in _SKIPPABLE and (inbound.callback == SKIP or text == _("跳过")):
            setattr(draft, _FIELDS[state], "")
            return await ask(_NEXT[state], draft, ctx)
        if inbound.callback is not None or not text:
            return await ask(state, draft, ctx, _("请用文字回答，不能为空；发送 /cancel 放弃。"))
        if len(text) > limit:
            return await ask(state, draft, ctx, too_long(ctx, limit, len(text)))
        if state in _FIELDS:
            setattr(draft, _FIELDS[state], text)
            return await ask(_NEXT[state], draft, ctx)
        return await _write(state, text, draft, ctx)

    write_text.__name__ = f"write_{state.value}"
    return write_text


async def _write(state: State, text: str, draft: WorkDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    found = await _found(draft, ctx)
    if found is None:
        return Transition.end(_gone(ctx))
    by = found.staff.id or 0
    try:
        if state == State.SUMMARY:
            await add_summary(ctx.session, found.case, text, by=by, now=ctx.now)
            note = _("已保存阶段小结。")
        else:
            contact = Contact(
                at=draft.at or ctx.now,
                place=draft.place,
                problem=draft.problem,
                measures=draft.measures,
                effect=text,
            )
            await add_contact(ctx.session, found.case, contact, by=by, now=ctx.now)
            note = _("已保存辅导记录。")
    except CaseRefused as refused:
        return Transition.end(Reply(_(refused.message)))
    return await _done(draft, ctx, note)


async def confirm_close(inbound: Inbound, draft: WorkDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback == CLOSE_NO:
        return Transition.end(Reply(_("没有结案，个案继续跟进。")))
    if inbound.callback != CLOSE_OK:
        return await ask(State.CONFIRM_CLOSE, draft, ctx, button_note(inbound, ctx))
    found = await _found(draft, ctx)
    if found is None:
        return Transition.end(_gone(ctx))
    try:
        await close(
            ctx.session,
            found.case,
            student=draft.eval_student,
            teacher=draft.eval_teacher,
            parents=draft.eval_parents,
            by=found.staff.id or 0,
            now=ctx.now,
        )
    except CaseRefused as refused:
        return Transition.end(Reply(_(refused.message)))
    return await _done(draft, ctx, _("已结案。"))


async def _no_start(inbound: Inbound, draft: WorkDraft, ctx: Context, args: str) -> Transition:
    return Transition.end(Reply(ctx.t._("请发送 /cases 编号 打开个案，再点相应的按钮。")))


STEPS: dict[State, Step] = {
    State.NATURE: choose_nature,
    State.SEVERITY: choose_severity,
    State.EVERY: choose_every,
    State.WHEN: tell_when,
    State.CONFIRM_CLOSE: confirm_close,
    **{state: text_step(state) for state in _TEXTS},
}

CASE_WORK_FLOW = Flow(
    name=FLOW,
    draft_type=WorkDraft,
    steps=with_typed_labels(
        STEPS, question, except_in=tuple(s for s in _TEXTS if s not in _SKIPPABLE)
    ),
    start=_no_start,
    commands=(),
    allowed=gate(Action.CASE_WORK),
    refusal=N_("关爱室个案只有关爱室老师可以处理。"),
    draft_noun=N_("关爱室个案记录"),
)
