"""Starting a short conversation from an action button (退回 asks for a reason, 有疑问 for the
question): the action stores the conversation itself, in the same transaction, so the next
message the person sends is read by that flow's step. Also what those short conversations share:
reading the one text they ask for, and telling the other side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import BaseModel

from handlers.context import Context
from handlers.drafts import park_current
from handlers.hints import too_long
from handlers.i18n import Translator
from handlers.notify import notify_people
from handlers.types import Inbound, Reply, Transition
from models.accounts.tables import PersonKind


async def begin(
    inbound: Inbound, ctx: Context, *, flow: str, state: str, draft: BaseModel, reply: Reply
) -> list[Reply]:
    """Put the person in `flow` at `state` with `draft`, asking `reply`; an unfinished other
    conversation is kept as a draft first (and they are told so: /drafts resumes it)."""
    turn = ctx.turn
    if turn is None:
        raise RuntimeError("a conversation can only begin inside an update")
    notes: list[Reply] = []
    existing = turn.conversation
    if existing is not None and existing.flow != flow:
        from handlers.registry import all_flows  # the registry imports this module's flows

        parked = await park_current(inbound, ctx, {f.name: f for f in all_flows()})
        if parked is not None:
            notes.append(parked)
    await turn.save(
        chat_id=inbound.chat_id,
        flow=flow,
        state=state,
        draft=draft.model_dump(mode="json"),
        choices=[[b.label, b.data] for b in reply.flat_buttons()],
        now=ctx.now,
    )
    return [*notes, reply]


def refused_text(
    inbound: Inbound, text: str, ctx: Context, *, state: str, limit: int, again: str
) -> Transition | None:
    """The same question again when the answer is no text (`again`) or longer than `limit`;
    None when `text` (the answer, already trimmed) can be used."""
    if inbound.callback is not None or not text:
        return Transition.to(state, Reply(again))
    if len(text) > limit:
        return Transition.to(state, Reply(too_long(ctx, limit, len(text))))
    return None


async def tell(
    ctx: Context,
    *,
    people: Sequence[tuple[PersonKind, int]],
    key: str,
    kind: str,
    render: Callable[[Translator], Reply],
    due_at: datetime | None = None,
) -> int:
    """Queue a message for each of `people` in this school (at once unless `due_at`), counted
    in this update's rows; returns the rows queued."""
    notified = await notify_people(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        people=people,
        key=key,
        kind=kind,
        render=render,
        due_at=ctx.now if due_at is None else due_at,
    )
    ctx.queued += notified.queued
    return notified.queued
