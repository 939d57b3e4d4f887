"""Telling a named feedback's author what became of it, as staff handle its ledger item.

The staff side (`/ledger`) calls `tell_author` after it classified, closed or reopened an item,
in the same transaction. For an item that is a parent's named feedback, the guardian gets:

- `CLASSIFIED`, the first time only: 您反馈的意见已由学校受理，正在处理。(a reclassification, a
  new owner or due date, is the school's own business);
- `CLOSED`: 您反馈的意见已处理完毕：<outcome>。<the resolution note>;
- `REOPENED`: 您反馈的意见已重新处理。

Anonymous feedback has nobody to tell (it keeps no author), and other items are no feedback:
both queue nothing. The messages name no member of staff. Each is keyed by the feedback, the
event and how many events of that kind the item has had (`feedback:7:closed:2`), so calling
twice for the same change queues one message, while a second close after a reopen tells again.
They wait for the end of the school's quiet hours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.i18n import Translator
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.feedback.queries import events_so_far, feedback_of_item, last_event
from models.ledger.handling import split_outcome
from models.ledger.tables import OUTCOME_LABELS, LedgerEventKind, LedgerItem
from models.school.rules import DEFAULT_RULES, SchoolRules, next_waking_moment
from models.school.tables import School

#: The outbox kind of these messages.
UPDATE_KIND = "feedback_update"
TOLD_OF = (LedgerEventKind.CLASSIFIED, LedgerEventKind.CLOSED, LedgerEventKind.REOPENED)


async def tell_author(
    session: AsyncSession,
    item: LedgerItem,
    event: LedgerEventKind,
    *,
    now: datetime,
    zone: ZoneInfo | None = None,
    rules: SchoolRules = DEFAULT_RULES,
) -> int:
    """Queue the message about `event` for the author of the named feedback `item` is (see the
    module's docstring); returns the rows queued (0: nothing to tell, or told already). `zone`
    and `rules` give the quiet hours (default: the school's time zone, the default rules)."""
    if event not in TOLD_OF or item.id is None:
        return 0
    feedback = await feedback_of_item(session, item)
    if feedback is None or feedback.anonymous or feedback.guardian_id is None:
        return 0
    count = await events_so_far(session, item_id=item.id, kind=event)
    if count == 0 or (event is LedgerEventKind.CLASSIFIED and count > 1):
        return 0
    render = await _message(session, item, event)
    if zone is None:
        school = await session.get(School, feedback.school_id)
        zone = ZoneInfo(school.timezone if school is not None else "Asia/Shanghai")
    notified = await notify_people(
        session=session,
        school_id=feedback.school_id,
        people=[(PersonKind.GUARDIAN, feedback.guardian_id)],
        key=f"feedback:{feedback.id}:{event.value}:{count}",
        kind=UPDATE_KIND,
        render=render,
        due_at=next_waking_moment(now, zone=zone, rules=rules),
    )
    return notified.queued


async def _message(
    session: AsyncSession, item: LedgerItem, event: LedgerEventKind
) -> Callable[[Translator], Reply]:
    if event is LedgerEventKind.CLASSIFIED:
        return lambda t: Reply(t._("您反馈的意见已由学校受理，正在处理。"))
    if event is LedgerEventKind.REOPENED:
        return lambda t: Reply(t._("您反馈的意见已重新处理。"))
    closing = await last_event(session, item_id=item.id or 0, kind=LedgerEventKind.CLOSED)
    outcome, note = split_outcome(closing.note) if closing is not None else (None, "")
    outcome = item.outcome or outcome

    def closed(t: Translator) -> Reply:
        label = t._(OUTCOME_LABELS[outcome]) if outcome is not None else t._("已处理")
        return Reply(
            t._("您反馈的意见已处理完毕：{outcome}。{note}").format(outcome=label, note=note)
        )

    return closed
