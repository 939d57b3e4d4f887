"""记录进展, 记录上级答复, 办结, 重新打开: the short conversations that write one note on an item.
Started by the card's buttons; what the note does is `Mode`. 办结 first asks the outcome."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from handlers.context import Context
from handlers.feedback.author_updates import tell_author
from handlers.flow import Flow, is_staff, with_typed_labels
from handlers.hints import button_note
from handlers.i18n import N_
from handlers.ledger.lookup import Allowed, Found, allowed, find_item
from handlers.ledger.render import short
from handlers.ledger.show import card_reply, not_found
from handlers.notice.converse import begin, refused_text
from handlers.types import Button, Inbound, Reply, Transition
from models.ledger.handling import LedgerRefused, add_note, close, reopen
from models.ledger.rules import NOTE_LIMIT
from models.ledger.tables import OUTCOME_LABELS, LedgerEventKind, LedgerOutcome

FLOW = "ledger_write"
OUTCOME = "outcome"
TEXT = "text"
PICK = "oc:"


class Mode(StrEnum):
    NOTE = "note"
    REPLY = "reply"
    CLOSE = "close"
    REOPEN = "reopen"


class WriteDraft(BaseModel):
    item_id: int = 0
    mode: Mode = Mode.NOTE
    outcome: LedgerOutcome | None = None


def _may(mode: Mode, may: Allowed) -> bool:
    return {
        Mode.NOTE: may.note,
        Mode.REPLY: may.reply,
        Mode.CLOSE: may.close,
        Mode.REOPEN: may.reopen,
    }[mode]


_PROMPTS: dict[Mode, str] = {
    Mode.NOTE: N_("请写下台账 #{id} 的进展（不超过 {limit} 字）："),
    Mode.REPLY: N_("请写下上级部门对台账 #{id} 的答复（不超过 {limit} 字）："),
    Mode.CLOSE: N_("请写明台账 #{id} 的处理结果（办结说明，不超过 {limit} 字）："),
    Mode.REOPEN: N_("请写明重新打开台账 #{id} 的原因（不超过 {limit} 字）："),
}

_AGAIN: dict[Mode, str] = {
    Mode.NOTE: N_("请用文字写下进展，不能为空；发送 /cancel 放弃。"),
    Mode.REPLY: N_("请用文字写下上级的答复，不能为空；发送 /cancel 放弃。"),
    Mode.CLOSE: N_("办结必须写明处理结果，不能为空；发送 /cancel 放弃。"),
    Mode.REOPEN: N_("重新打开需要写明原因，不能为空；发送 /cancel 放弃。"),
}

_DONE: dict[Mode, str] = {
    Mode.NOTE: N_("已记录进展。"),
    Mode.REPLY: N_("已记录上级答复。"),
    Mode.CLOSE: N_("已办结。"),
    Mode.REOPEN: N_("已重新打开。"),
}

_EVENTS: dict[Mode, LedgerEventKind] = {
    Mode.NOTE: LedgerEventKind.PROGRESS,
    Mode.REPLY: LedgerEventKind.REPLY,
    Mode.CLOSE: LedgerEventKind.CLOSED,
    Mode.REOPEN: LedgerEventKind.REOPENED,
}


async def _found(draft: WriteDraft, ctx: Context) -> Found | None:
    found = await find_item(ctx, draft.item_id)
    if found is None or not _may(draft.mode, await allowed(ctx, found)):
        return None
    return found


def _text_question(draft: WriteDraft, ctx: Context, found: Found) -> Reply:
    _ = ctx.t._
    lines = [
        _("台账 #{id}：{text}").format(id=draft.item_id, text=short(found.item.description, 60))
    ]
    if draft.mode is Mode.CLOSE and draft.outcome is not None:
        lines.append(_("办结结果：{outcome}").format(outcome=_(OUTCOME_LABELS[draft.outcome])))
    lines.append(_(_PROMPTS[draft.mode]).format(id=draft.item_id, limit=NOTE_LIMIT))
    return Reply("\n".join(lines))


def _outcome_question(draft: WriteDraft, ctx: Context, *notes: str) -> Reply:
    _ = ctx.t._
    buttons = [Button(_(OUTCOME_LABELS[o]), f"{PICK}{o.value}") for o in LedgerOutcome]
    text = _("办结台账 #{id}：处理结果是？").format(id=draft.item_id)
    return Reply.with_buttons("\n".join([*notes, text]), [buttons[:2], buttons[2:]])


async def question(state: str, draft: WriteDraft, ctx: Context) -> Reply:
    found = await _found(draft, ctx)
    if found is None:
        return not_found(ctx)
    return _outcome_question(draft, ctx) if state == OUTCOME else _text_question(draft, ctx, found)


def _gone(ctx: Context) -> Reply:
    return Reply(ctx.t._("这条台账已有变动（可能已办结、已重新分配或已无权限），本次没有保存。"))


async def _open(inbound: Inbound, argument: str, ctx: Context, mode: Mode) -> list[Reply]:
    draft = WriteDraft(item_id=0, mode=mode)
    found = await find_item(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    draft.item_id = found.item.id or 0
    if not _may(mode, await allowed(ctx, found)):
        return [await card_reply(ctx, found, ctx.t._("这项操作现在不适用于这条台账。"))]
    if mode is Mode.CLOSE:
        reply = _outcome_question(draft, ctx)
        return await begin(inbound, ctx, flow=FLOW, state=OUTCOME, draft=draft, reply=reply)
    reply = _text_question(draft, ctx, found)
    return await begin(inbound, ctx, flow=FLOW, state=TEXT, draft=draft, reply=reply)


async def open_note(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.NOTE)


async def open_reply(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.REPLY)


async def open_close(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.CLOSE)


async def open_reopen(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _open(inbound, argument, ctx, Mode.REOPEN)


async def choose_outcome(inbound: Inbound, draft: WriteDraft, ctx: Context) -> Transition:
    data = inbound.callback or ""
    value = data[len(PICK) :] if data.startswith(PICK) else None
    if value not in {o.value for o in LedgerOutcome}:
        return Transition.to(OUTCOME, _outcome_question(draft, ctx, button_note(inbound, ctx)))
    draft.outcome = LedgerOutcome(value)
    found = await _found(draft, ctx)
    if found is None:
        return Transition.end(_gone(ctx))
    return Transition.to(TEXT, _text_question(draft, ctx, found))


async def write_text(inbound: Inbound, draft: WriteDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = (inbound.text or "").strip()
    refused = refused_text(
        inbound, text, ctx, state=TEXT, limit=NOTE_LIMIT, again=_(_AGAIN[draft.mode])
    )
    if refused is not None:
        return refused
    found = await _found(draft, ctx)
    if found is None:
        return Transition.end(_gone(ctx))
    item, by = found.item, found.staff.id or 0
    try:
        if draft.mode is Mode.CLOSE:
            await close(
                ctx.session,
                item,
                text,
                outcome=draft.outcome or LedgerOutcome.SOLVED,
                by=by,
                now=ctx.now,
            )
        elif draft.mode is Mode.REOPEN:
            await reopen(ctx.session, item, text, by=by, now=ctx.now)
        else:
            await add_note(
                ctx.session, item, text, by=by, now=ctx.now, reply=draft.mode is Mode.REPLY
            )
    except LedgerRefused as refusal:
        return Transition.end(Reply(_(refusal.message)))
    ctx.queued += await tell_author(
        ctx.session, item, _EVENTS[draft.mode], now=ctx.now, zone=ctx.zone, rules=ctx.rules
    )
    refreshed = await find_item(ctx, draft.item_id)
    done = _(_DONE[draft.mode])
    return Transition.end(await card_reply(ctx, refreshed, done) if refreshed else Reply(done))


async def _no_start(inbound: Inbound, draft: WriteDraft, ctx: Context, args: str) -> Transition:
    return Transition.end(Reply(ctx.t._("请发送 /ledger 编号 打开台账，再点相应的按钮。")))


LEDGER_WRITE_FLOW = Flow(
    name=FLOW,
    draft_type=WriteDraft,
    steps=with_typed_labels(
        {OUTCOME: choose_outcome, TEXT: write_text},
        question,
        except_in=(TEXT,),
    ),
    start=_no_start,
    commands=(),
    allowed=is_staff,
    draft_noun=N_("台账记录"),
)
