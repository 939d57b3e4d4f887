"""The problem ledger's daily reminders to item owners (`ledger_reminders`, at
`rules.ledger_reminder_time`, 08:00 by default).

For each active item with an owner the job finds what is due today:

* 即将到期: `ledger_remind_days_before` days before the due date (none when that is 0);
* 今天到期: on the due date;
* 已逾期: once, on the day after the due date (from then on the item is in 德育处's digest);
* 请记录进展: a 跟踪解决 item whose next progress note (`progress_due_on`) is due or late.

Each owner gets one message per run listing their items, each with a button that opens the item
(`handlers.ledger.buttons.open_button`). The outbox key names what the message reminds of —
`ledger-reminder:{date}:{item}{letters}.{item}{letters}…` (letters: s 即将到期, d 今天到期,
o 已逾期, p 请记录进展), then `:staff:{id}:{channel}` — and a run first reads the keys already
queued that day, so each (item, reminder, day) is sent once however often the job runs; a
second run on the same day only sends what became due since. Two statements, whatever the
number of items. Messages wait for the end of quiet hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import partial
from zoneinfo import ZoneInfo

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.digest import month_day
from handlers.i18n import Translator
from handlers.ledger.buttons import open_button
from handlers.notify import Render, notify_keyed
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.ledger.rules import progress_due_on
from models.ledger.tables import LedgerItem, LedgerKind, LedgerStatus
from models.outbox.keys import keyed_under
from models.outbox.tables import OutboxMessage
from models.roster.tables import Student
from models.school.rules import SchoolRules
from models.school.tables import SchoolClass
from models.text import N_
from scheduler.base import Job, JobContext, daily_at

KIND = "ledger_reminder"
KEY_PREFIX = "ledger-reminder"
#: Items listed in one message; the rest wait for a later run (and /ledger lists them all).
ITEMS_PER_MESSAGE = 10
#: The part of a key that lists the items stays within this many characters, so that the whole
#: key (with `:staff:{id}:{channel}`) fits the outbox's 200.
ENTRIES_BUDGET = 120
#: A description is cut to this many characters in the list.
DESCRIPTION_SHOWN = 30


class Reminder(StrEnum):
    """What an item is reminded of; the value is its letter in the outbox key."""

    SOON = "s"
    DUE = "d"
    OVERDUE = "o"
    PROGRESS = "p"


REMINDER_LABELS: dict[Reminder, str] = {
    Reminder.SOON: N_("即将到期"),
    Reminder.DUE: N_("今天到期"),
    Reminder.OVERDUE: N_("已逾期"),
    Reminder.PROGRESS: N_("请记录进展"),
}


@dataclass(frozen=True)
class DueItem:
    """An active item the owner is reminded of today, with what it is reminded of."""

    item_id: int
    owner_id: int
    due_on: date | None
    description: str
    class_name: str
    student_name: str
    reminders: tuple[Reminder, ...]

    @property
    def entry(self) -> str:
        """Its part of the outbox key, e.g. `12dp`."""
        return f"{self.item_id}{''.join(r.value for r in self.reminders)}"


# -- the rules (pure) ----------------------------------------------------------------------------


def reminders_for(
    item: LedgerItem, *, today: date, zone_date: date | None, rules: SchoolRules
) -> tuple[Reminder, ...]:
    """What `item` is reminded of on `today`; `zone_date`: its last progress note's local date."""
    found: list[Reminder] = []
    due = item.due_on
    if due is not None:
        before = rules.ledger_remind_days_before
        if before > 0 and today == due - timedelta(days=before):
            found.append(Reminder.SOON)
        if today == due:
            found.append(Reminder.DUE)
        if today == due + timedelta(days=1):
            found.append(Reminder.OVERDUE)
    every = item.follow_every_days
    if (
        item.kind is LedgerKind.TRACK
        and every
        and zone_date is not None
        and progress_due_on(zone_date, every) <= today
    ):
        found.append(Reminder.PROGRESS)
    return tuple(found)


_ENTRY = re.compile(r"^(\d+)([a-z]+)$")


def sent_entries(keys: Iterable[str], prefix: str) -> set[tuple[int, Reminder]]:
    """The (item, reminder) pairs the keys starting with `prefix` (one day's) already name."""
    sent: set[tuple[int, Reminder]] = set()
    known = {r.value for r in Reminder}
    for key in keys:
        if not key.startswith(prefix):
            continue
        for entry in key[len(prefix) :].split(":", 1)[0].split("."):
            match = _ENTRY.match(entry)
            if match is None:
                continue
            item_id = int(match.group(1))
            sent.update((item_id, Reminder(c)) for c in match.group(2) if c in known)
    return sent


def short_description(text: str, limit: int = DESCRIPTION_SHOWN) -> str:
    """The description on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


# -- the words -----------------------------------------------------------------------------------


def reminder_text(t: Translator, items: Sequence[DueItem], more: int) -> str:
    _ = t._
    lines = [_("【问题台账提醒】以下台账需要您处理：")]
    for due in items:
        where = " ".join(part for part in (due.class_name, due.student_name) if part)
        head = _("台账 #{id}").format(id=due.item_id)
        if where:
            head = _("{item}（{where}）").format(item=head, where=where)
        lines.append(
            _("· {item}：{description}").format(
                item=head, description=short_description(due.description)
            )
        )
        details = []
        if due.due_on is not None:
            details.append(_("截止 {date}").format(date=month_day(due.due_on, t)))
        details += [_(REMINDER_LABELS[r]) for r in due.reminders]
        lines.append("  " + " · ".join(details))
    if more > 0:
        lines.append(_("……另有 {count} 条，发送 /ledger 查看全部。").format(count=more))
    lines.append(_("点下方按钮打开台账，记录进展或办结。"))
    return "\n".join(lines)


def reminder_reply(t: Translator, items: Sequence[DueItem], more: int) -> Reply:
    buttons = [
        [open_button(t._("台账 #{id}").format(id=due.item_id), due.item_id)] for due in items
    ]
    return Reply.with_buttons(reminder_text(t, items, more), buttons)


# -- the job -------------------------------------------------------------------------------------


async def items_due(
    session: AsyncSession, *, school_id: int, today: date, zone: ZoneInfo, rules: SchoolRules
) -> list[DueItem]:
    """The school's active, owned items with something to remind of today (one statement)."""
    soon = today + timedelta(days=rules.ledger_remind_days_before)
    days = sorted({soon, today, today - timedelta(days=1)})
    query = (
        select(LedgerItem, Student.name, SchoolClass.name)
        .outerjoin(Student, col(Student.id) == col(LedgerItem.student_id))
        .outerjoin(SchoolClass, col(SchoolClass.id) == col(LedgerItem.class_id))
        .where(
            col(LedgerItem.school_id) == school_id,
            col(LedgerItem.status) == LedgerStatus.ACTIVE.value,
            col(LedgerItem.owner_id).is_not(None),
            or_(
                col(LedgerItem.due_on).in_(days),
                col(LedgerItem.kind) == LedgerKind.TRACK.value,
            ),
        )
        .order_by(col(LedgerItem.due_on), col(LedgerItem.id))
    )
    found = []
    for item, student, klass in (await session.exec(query)).all():
        last = item.last_progress_at
        reminders = reminders_for(
            item,
            today=today,
            zone_date=last.astimezone(zone).date() if last is not None else None,
            rules=rules,
        )
        if reminders and item.owner_id is not None and item.id is not None:
            found.append(
                DueItem(
                    item_id=item.id,
                    owner_id=item.owner_id,
                    due_on=item.due_on,
                    description=item.description,
                    class_name=str(klass or ""),
                    student_name=str(student or ""),
                    reminders=reminders,
                )
            )
    return found


def one_message(prefix: str, items: Sequence[DueItem]) -> tuple[list[DueItem], str]:
    """The items that fit one message (count and key length) and the key naming them."""
    shown: list[DueItem] = []
    entries = ""
    for due in items[:ITEMS_PER_MESSAGE]:
        longer = f"{entries}.{due.entry}" if entries else due.entry
        if shown and len(longer) > ENTRIES_BUDGET:
            break
        shown.append(due)
        entries = longer
    return shown, prefix + entries


async def ledger_reminders(jc: JobContext) -> int:
    """Queue each owner's reminders for today; returns the rows queued."""
    school_id = jc.school.id or 0
    today = jc.slot_day
    due = await items_due(
        jc.session, school_id=school_id, today=today, zone=jc.zone, rules=jc.rules
    )
    if not due:
        return 0
    prefix = f"{KEY_PREFIX}:{today.isoformat()}:"
    queued = await jc.session.exec(
        select(OutboxMessage.key).where(
            col(OutboxMessage.kind) == KIND, keyed_under(school_id, prefix)
        )
    )
    sent = sent_entries(queued.all(), prefix)
    by_owner: dict[int, list[DueItem]] = {}
    for item in due:
        left = tuple(r for r in item.reminders if (item.item_id, r) not in sent)
        if left:
            by_owner.setdefault(item.owner_id, []).append(replace(item, reminders=left))
    messages: list[tuple[tuple[PersonKind, int], str, Render]] = []
    for owner, items in by_owner.items():
        shown, key = one_message(prefix, items)
        render = partial(reminder_reply, items=shown, more=len(items) - len(shown))
        messages.append(((PersonKind.STAFF, owner), key, render))
    notified = await notify_keyed(
        session=jc.session,
        school_id=school_id,
        items=messages,
        kind=KIND,
        due_at=jc.waking,
    )
    return notified.queued


LEDGER_REMINDERS = Job(
    name="ledger_reminders",
    func=ledger_reminders,
    schedule=daily_at(lambda rules: rules.ledger_reminder_time),
    describe="问题台账：提醒负责人即将到期、今天到期、已逾期和需要记录进展的台账",
)
