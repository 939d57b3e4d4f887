"""分类并指派: how an item is handled, who owns it and by when (德育处; a head teacher for
their class when the school allows it). Started by a button on the item's card; the item is
read again and every permission checked again when the person confirms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from sqlmodel import col, or_, select

from handlers.actions import action_button
from handlers.context import Context
from handlers.feedback.author_updates import tell_author
from handlers.flow import Flow, is_staff, with_typed_labels
from handlers.hints import button_note, invalid, too_long
from handlers.i18n import N_, Translator
from handlers.ledger import buttons as b
from handlers.ledger.classify_states import ClassifyDraft, State, next_state
from handlers.ledger.lookup import Found, allowed, find_item, visit_student
from handlers.ledger.render import day_label, short
from handlers.ledger.show import card_reply, not_found
from handlers.notice.converse import begin, tell
from handlers.notice.when import parse_typed
from handlers.types import Button, Inbound, Reply, Transition, callback_rest
from models.accounts.tables import PersonKind
from models.ledger.handling import Classification, LedgerRefused, classify
from models.ledger.rules import FOLLOW_EVERY_CHOICES, due_date_problem
from models.ledger.tables import KIND_LABELS, LedgerEventKind, LedgerKind
from models.roster.scope import holds_records
from models.roster.tables import Staff, StaffRole
from models.school.tables import SchoolClass

FLOW = "ledger_classify"
KIND, OWNER, DUE, EVERY = "k:", "o:", "d:", "e:"
CONFIRM, RESTART = "ok", "again"
#: Buttons offered for the owner (suggestions, or the matches of a typed name).
OWNER_BUTTONS = 8
ESCALATE_LIMIT = 100
#: The due dates offered as buttons, in days from today.
DUE_CHOICES: tuple[tuple[int, str], ...] = (
    (0, N_("今天")),
    (3, N_("3天内")),
    (7, N_("1周内")),
    (14, N_("2周内")),
    (30, N_("1个月内")),
)

Question = tuple[str, list[list[Button]]]


async def _suggested_owners(ctx: Context, found: Found) -> list[Staff]:
    """The class's head teacher, who recorded it, the person classifying, 德育处 and the
    principal: the usual owners, in that order, each once."""
    item = found.item
    head = (
        select(col(SchoolClass.head_teacher_id)).where(col(SchoolClass.id) == item.class_id)
        if item.class_id is not None
        else None
    )
    wanted = [col(Staff.roles).contains(StaffRole.ADMIN.value)]
    wanted.append(col(Staff.roles).contains(StaffRole.PRINCIPAL.value))
    ids = [i for i in (item.recorded_by, found.staff.id) if i is not None]
    if ids:
        wanted.append(col(Staff.id).in_(ids))
    if head is not None:
        wanted.append(col(Staff.id).in_(head))
    query = select(Staff).where(
        col(Staff.school_id) == ctx.school.id, col(Staff.active).is_(True), or_(*wanted)
    )
    people = list((await ctx.session.exec(query)).all())
    head_id = (await ctx.session.exec(head)).first() if head is not None else None
    order = [head_id, item.recorded_by, found.staff.id]
    people.sort(key=lambda s: (order.index(s.id) if s.id in order else len(order), s.id or 0))
    return people[:OWNER_BUTTONS]


async def _matching(ctx: Context, text: str) -> list[Staff]:
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        select(Staff)
        .where(
            col(Staff.school_id) == ctx.school.id,
            col(Staff.active).is_(True),
            holds_records(),
            col(Staff.name).contains(pattern, autoescape=False, escape="\\"),
        )
        .order_by(col(Staff.id))
        .limit(OWNER_BUTTONS + 1)
    )
    return list((await ctx.session.exec(query)).all())


async def _staff_member(ctx: Context, staff_id: int | None) -> Staff | None:
    """An active staff member of this school (a forged id gives None)."""
    if staff_id is None:
        return None
    staff = await ctx.session.get(Staff, staff_id)
    if staff is None or staff.school_id != ctx.school.id or not staff.active:
        return None
    if StaffRole.DISTRICT in staff.role_set():
        return None  # counts only: never a child's record
    return staff


# -- questions ---------------------------------------------------------------------------


async def _kind_question(draft: ClassifyDraft, ctx: Context, found: Found) -> Question:
    _ = ctx.t._
    kinds = list(LedgerKind)
    buttons = [Button(_(KIND_LABELS[k]), f"{KIND}{k.value}") for k in kinds]
    text = _("台账 #{id}：{text}").format(id=draft.item_id, text=short(found.item.description, 60))
    text += "\n" + _("请选择处理方式：")
    text += "\n" + _(
        "立即解决：马上能办；跟踪解决：需要一段时间，定期记录进展；上报：需上级部门处理；"
        "当面解释：无法解决，需当面向家长说明（会生成一次家访任务）。"
    )
    return text, [buttons[:2], buttons[2:]]


async def _owner_question(draft: ClassifyDraft, ctx: Context, found: Found) -> Question:
    _ = ctx.t._
    if draft.owner_search:
        people = await _matching(ctx, draft.owner_search)
        if not people:
            text = _("没有找到姓名包含“{text}”的教职工。请重新输入姓名，或从下面选择：").format(
                text=draft.owner_search
            )
            people = await _suggested_owners(ctx, found)
        elif len(people) > OWNER_BUTTONS:
            text = _("找到的人较多，下面是前 {n} 位；可以输入更完整的姓名：").format(
                n=OWNER_BUTTONS
            )
            people = people[:OWNER_BUTTONS]
        else:
            text = _("请选择负责人：")
    else:
        text = _("请选择负责人，或输入姓名查找：")
        people = await _suggested_owners(ctx, found)
    buttons = [Button(p.name, f"{OWNER}{p.id}") for p in people]
    return text, [buttons[i : i + 4] for i in range(0, len(buttons), 4)]


async def _due_question(draft: ClassifyDraft, ctx: Context, found: Found) -> Question:
    _ = ctx.t._
    buttons = [Button(_(label), f"{DUE}{days}") for days, label in DUE_CHOICES]
    text = _("请选择截止日期，或直接输入日期（例如 11月30日）：")
    return text, [buttons[:3], buttons[3:]]


async def _interval_question(draft: ClassifyDraft, ctx: Context, found: Found) -> Question:
    _ = ctx.t._
    buttons = [
        Button(_("每{days}天").format(days=days), f"{EVERY}{days}") for days in FOLLOW_EVERY_CHOICES
    ]
    return _("跟踪解决：负责人多久记录一次进展？"), [buttons]


async def _escalate_question(draft: ClassifyDraft, ctx: Context, found: Found) -> Question:
    return ctx.t._("上报给哪个部门或哪位负责人？请输入（例如：区教育局安全科）："), []


async def _confirm_question(draft: ClassifyDraft, ctx: Context, found: Found) -> Question:
    _ = ctx.t._
    owner = await _staff_member(ctx, draft.owner_id)
    lines = [_("请核对台账 #{id} 的分类：").format(id=draft.item_id)]
    if draft.kind is not None:
        lines.append(_("处理方式：{kind}").format(kind=_(KIND_LABELS[draft.kind])))
    lines.append(_("负责人：{name}").format(name=owner.name if owner else ""))
    if draft.due_on is not None:
        lines.append(_("截止日期：{day}").format(day=day_label(ctx.t, draft.due_on)))
    if draft.kind is LedgerKind.TRACK and draft.follow_every_days:
        lines.append(_("进展：每{days}天记录一次").format(days=draft.follow_every_days))
    if draft.kind is LedgerKind.ESCALATE and draft.escalated_to:
        lines.append(_("上报至：{body}").format(body=draft.escalated_to))
    if draft.kind is LedgerKind.EXPLAIN:
        lines.append(_("确认后，负责人会收到一项家访任务：到截止日期前当面向家长说明。"))
    buttons = [Button(_("确认"), CONFIRM), Button(_("重新填写"), RESTART)]
    return "\n".join(lines), [buttons]


_QUESTIONS: dict[State, Callable[[ClassifyDraft, Context, Found], Awaitable[Question]]] = {
    State.KIND: _kind_question,
    State.OWNER: _owner_question,
    State.DUE: _due_question,
    State.INTERVAL: _interval_question,
    State.ESCALATE_TO: _escalate_question,
    State.CONFIRM: _confirm_question,
}


async def _found(draft: ClassifyDraft, ctx: Context) -> Found | None:
    """The item, if the person may still classify it."""
    found = await find_item(ctx, draft.item_id)
    if found is None or not (await allowed(ctx, found)).classify:
        return None
    return found


async def question(state: State, draft: ClassifyDraft, ctx: Context, *notes: str) -> Reply:
    found = await _found(draft, ctx)
    if found is None:
        return not_found(ctx)
    text, rows = await _QUESTIONS[state](draft, ctx, found)
    return Reply.with_buttons("\n".join([*notes, text]), rows)


async def ask(state: State, draft: ClassifyDraft, ctx: Context, *notes: str) -> Transition:
    if await _found(draft, ctx) is None:
        return Transition.end(_gone(ctx))
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: ClassifyDraft, ctx: Context, *notes: str) -> Transition:
    return await ask(next_state(draft), draft, ctx, *notes)


def _gone(ctx: Context) -> Reply:
    return Reply(ctx.t._("这条台账已不能由您分类（可能已办结或已无权限），本次没有保存。"))


# -- starting (from the card's button) -------------------------------------------------------


async def open_classification(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    found = await find_item(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    if not (await allowed(ctx, found)).classify:
        return [Reply(ctx.t._("这条台账由德育处分类，您可以查看和记录进展。"))]
    draft = ClassifyDraft(item_id=found.item.id or 0)
    reply = await question(State.KIND, draft, ctx)
    return await begin(inbound, ctx, flow=FLOW, state=State.KIND, draft=draft, reply=reply)


async def _start(inbound: Inbound, draft: ClassifyDraft, ctx: Context, args: str) -> Transition:
    """Typed as a command: only the card's button starts a classification."""
    return Transition.end(Reply(ctx.t._("请发送 /ledger 编号 打开台账，再点“分类并指派”。")))


# -- steps -----------------------------------------------------------------------------------


async def choose_kind(inbound: Inbound, draft: ClassifyDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, KIND)
    if value not in {k.value for k in LedgerKind}:
        return await ask(State.KIND, draft, ctx, button_note(inbound, ctx))
    draft.kind = LedgerKind(value)
    return await proceed(draft, ctx)


async def choose_owner(inbound: Inbound, draft: ClassifyDraft, ctx: Context) -> Transition:
    if inbound.callback is not None:
        value = callback_rest(inbound.callback, OWNER)
        staff_id = int(value) if value is not None and value.isdigit() else None
        owner = await _staff_member(ctx, staff_id)
        if owner is None:
            return await ask(State.OWNER, draft, ctx, invalid(ctx))
        draft.owner_id = owner.id
        return await proceed(draft, ctx)
    text = (inbound.text or "").strip()
    if not text:
        return await ask(State.OWNER, draft, ctx, ctx.t._("请选择负责人，或输入姓名查找。"))
    if len(text) > 20:
        return await ask(State.OWNER, draft, ctx, too_long(ctx, 20, len(text)))
    draft.owner_search = text
    people = await _matching(ctx, text)
    if len(people) == 1:
        draft.owner_id = people[0].id
        return await proceed(draft, ctx)
    return await ask(State.OWNER, draft, ctx)


async def choose_due(inbound: Inbound, draft: ClassifyDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    day: date | None
    if inbound.callback is not None:
        value = callback_rest(inbound.callback, DUE)
        offered = {str(days) for days, _label in DUE_CHOICES}
        if value not in offered:
            return await ask(State.DUE, draft, ctx, invalid(ctx))
        day = ctx.today + timedelta(days=int(value or 0))
    else:
        typed = parse_typed(inbound.text or "", today=ctx.today)
        if typed is None or typed.at is not None:
            note = _("没能读懂这个日期。请点选，或输入例如 11月30日、2026-11-30。")
            return await ask(State.DUE, draft, ctx, note)
        day = typed.day
    problem = due_date_problem(day, ctx.today)
    if problem is not None:
        return await ask(State.DUE, draft, ctx, _(problem))
    draft.due_on = day
    return await proceed(draft, ctx)


async def choose_interval(inbound: Inbound, draft: ClassifyDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, EVERY)
    if value is None or not value.isdigit() or int(value) not in FOLLOW_EVERY_CHOICES:
        return await ask(State.INTERVAL, draft, ctx, button_note(inbound, ctx))
    draft.follow_every_days = int(value)
    return await proceed(draft, ctx)


async def tell_escalated_to(inbound: Inbound, draft: ClassifyDraft, ctx: Context) -> Transition:
    text = " ".join((inbound.text or "").split())
    if inbound.callback is not None or not text:
        return await ask(State.ESCALATE_TO, draft, ctx, ctx.t._("请用文字写明上报给谁。"))
    if len(text) > ESCALATE_LIMIT:
        return await ask(State.ESCALATE_TO, draft, ctx, too_long(ctx, ESCALATE_LIMIT, len(text)))
    draft.escalated_to = text
    return await proceed(draft, ctx)


async def confirm(inbound: Inbound, draft: ClassifyDraft, ctx: Context) -> Transition:
    if inbound.callback == RESTART:
        return await ask(State.KIND, ClassifyDraft(item_id=draft.item_id), ctx)
    if inbound.callback != CONFIRM:
        return await ask(State.CONFIRM, draft, ctx, button_note(inbound, ctx))
    found = await _found(draft, ctx)
    owner = await _staff_member(ctx, draft.owner_id)
    if found is None or owner is None or draft.kind is None or draft.due_on is None:
        return Transition.end(_gone(ctx))
    plan = Classification(
        kind=draft.kind,
        owner_id=owner.id or 0,
        due_on=draft.due_on,
        follow_every_days=draft.follow_every_days,
        escalated_to=draft.escalated_to or "",
        visit_student_id=visit_student(found),
    )
    first = found.item.owner_id is None
    try:
        await classify(
            ctx.session, found.item, plan, by=found.staff.id or 0, now=ctx.now, zone=ctx.zone
        )
    except LedgerRefused as refused:
        return await ask(State.CONFIRM, draft, ctx, ctx.t._(refused.message))
    ctx.queued += await tell_author(
        ctx.session,
        found.item,
        LedgerEventKind.CLASSIFIED,
        now=ctx.now,
        zone=ctx.zone,
        rules=ctx.rules,
    )
    if owner.id != found.staff.id:
        await _tell_owner(ctx, found, owner, first=first)
    refreshed = await find_item(ctx, draft.item_id)
    note = ctx.t._("已保存分类。")
    if refreshed is None:
        return Transition.end(Reply(note))
    return Transition.end(await card_reply(ctx, refreshed, note))


async def _tell_owner(ctx: Context, found: Found, owner: Staff, *, first: bool) -> None:
    item = found.item
    by = found.staff.name
    due = item.due_on
    kind = item.kind

    def render(t: Translator) -> Reply:
        text = t._("{by}请您负责台账 #{id}（{kind}，{day}前）：{text}").format(
            by=by,
            id=item.id,
            kind=t._(KIND_LABELS[kind]) if kind else "",
            day=day_label(t, due) if due else "",
            text=short(item.description, 60),
        )
        return Reply.with_buttons(text, [[action_button(t._("查看"), b.OPEN, item.id or 0)]])

    await tell(
        ctx,
        people=[(PersonKind.STAFF, owner.id or 0)],
        key=f"ledger:{item.id}:owner:{owner.id}:{ctx.now.isoformat()}",
        kind="ledger_owner",
        render=render,
    )


STEPS = {
    State.KIND: choose_kind,
    State.OWNER: choose_owner,
    State.DUE: choose_due,
    State.INTERVAL: choose_interval,
    State.ESCALATE_TO: tell_escalated_to,
    State.CONFIRM: confirm,
}

LEDGER_CLASSIFY_FLOW = Flow(
    name=FLOW,
    draft_type=ClassifyDraft,
    steps=with_typed_labels(STEPS, question, except_in=(State.ESCALATE_TO,)),
    start=_start,
    commands=(),
    allowed=is_staff,
    draft_noun=N_("台账分类"),
)
