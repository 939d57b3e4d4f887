"""What became of outbox messages: why a send failed for good, and settling unknown outcomes.

A message whose request left without an answer is `unknown` and is never resent by the worker
(`bot.delivery.worker`): sending it again could deliver it twice. It is settled instead:

* a receipt (回执) or any answer from the recipient proves it arrived:
  `settle_unknown(delivered=True)` records it as `sent`;
* the ones left are listed (`unknown_outcomes`) for a person, who may decide to send them again:
  `settle_unknown(delivered=False)` puts the row back to `pending`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.outbox.keys import keyed, keyed_under
from models.outbox.tables import OutboxMessage, OutboxStatus


class FailureReason(StrEnum):
    """Why a message can never be delivered; the first word of a failed row's `error`."""

    BLOCKED = "blocked"  # the person blocked the bot
    DEACTIVATED = "deactivated"  # the account was deleted
    CHAT_NOT_FOUND = "chat_not_found"  # no such chat (a wrong id, or never started)
    NOT_STARTED = "not_started"  # the person never opened a chat with the bot
    REJECTED = "rejected"  # the messenger refused this message (too long, malformed …)
    GAVE_UP = "gave_up"  # retryable errors, too many times


def failure_reason(error: str) -> FailureReason | None:
    """The reason recorded in a failed row's `error`, if it names one."""
    word = error.split(":", 1)[0].strip()
    try:
        return FailureReason(word)
    except ValueError:
        return None


async def delivery_counts(
    *, session: AsyncSession, school_id: int, key_prefix: str
) -> dict[OutboxStatus, int]:
    """How many of the school's rows whose key starts with `key_prefix` are in each state
    (progress, reports)."""
    rows = (
        await session.exec(
            select(OutboxMessage.status, func.count())
            .where(keyed_under(school_id, key_prefix))
            .group_by(col(OutboxMessage.status))
        )
    ).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): int(n) for status, n in rows})
    return counts


async def unknown_outcomes(
    *, session: AsyncSession, school_id: int, key_prefix: str
) -> Sequence[OutboxMessage]:
    """The school's rows under `key_prefix` whose send may or may not have arrived, oldest
    first."""
    return (
        await session.exec(
            select(OutboxMessage)
            .where(
                keyed_under(school_id, key_prefix),
                col(OutboxMessage.status) == OutboxStatus.UNKNOWN,
            )
            .order_by(col(OutboxMessage.id))
        )
    ).all()


async def settle_unknown(
    *, session: AsyncSession, school_id: int, key: str, delivered: bool, now: datetime
) -> bool:
    """Settle the school's `unknown` row with `key`: `sent` when it is known to have arrived, else `pending` again
    (sent at the next round). False when the row is not `unknown` (already settled)."""
    values: dict[str, object]
    if delivered:
        values = {"status": OutboxStatus.SENT, "sent_at": now, "lease_until": None}
    else:
        values = {
            "status": OutboxStatus.PENDING,
            "due_at": now,
            "lease_until": None,
            "attempted_at": None,
        }
    statement = (
        update(OutboxMessage)
        .where(keyed(school_id, key), col(OutboxMessage.status) == OutboxStatus.UNKNOWN)
        .values(**values)
    )
    result = await session.exec(statement)
    return bool(result.rowcount == 1)
