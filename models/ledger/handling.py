"""What staff do to a ledger item: classify it, write progress notes and replies, close it with a
resolution note, reopen it with a reason. Each change is one guarded UPDATE of the item (it must
still be in the state the person saw) and one appended `LedgerEvent`, in the caller's
transaction: a second press, a redelivered update or a colleague's change in between writes
nothing (`ItemChanged`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.duties.queries import open_duty
from models.duties.tables import DutyTrigger
from models.ledger.rules import FOLLOW_EVERY_CHOICES, NOTE_LIMIT, due_date_problem
from models.ledger.tables import (
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerKind,
    LedgerOutcome,
    LedgerStatus,
)
from models.text import N_


class LedgerRefused(Exception):
    """A change the ledger's rules refuse; `message` is a msgid to show as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ItemChanged(LedgerRefused):
    """The item is no longer in the state the change was made from."""

    def __init__(self) -> None:
        super().__init__(N_("这条台账刚刚已有变动，请重新查看。"))


def _note(text: str, *, required: str) -> str:
    note = text.strip()
    if not note:
        raise LedgerRefused(required)
    if len(note) > NOTE_LIMIT:
        raise LedgerRefused(N_("内容太长，请控制在500字以内。"))
    return note


@dataclass(frozen=True)
class Classification:
    kind: LedgerKind
    owner_id: int
    due_on: date
    #: 跟踪解决 only: days between progress notes.
    follow_every_days: int | None = None
    #: 上报 only: to whom.
    escalated_to: str = ""
    #: 当面解释 only: the student whose family is visited (the item's, or the child of the
    #: guardian who wrote the feedback).
    visit_student_id: int | None = None

    def encode(self) -> str:
        """The history line's note: what was decided, read back by `decode_classified`."""
        parts = [
            f"kind={self.kind.value}",
            f"owner={self.owner_id}",
            f"due={self.due_on.isoformat()}",
        ]
        if self.kind is LedgerKind.TRACK and self.follow_every_days:
            parts.append(f"every={self.follow_every_days}")
        if self.kind is LedgerKind.ESCALATE and self.escalated_to.strip():
            parts.append("to=" + self.escalated_to.strip()[:100].replace(";", "；"))
        return ";".join(parts)


def decode_classified(note: str) -> Classification | None:
    """A `classified` event's note (`Classification.encode`), or None if it is not one."""
    fields = dict(part.partition("=")[::2] for part in note.split(";") if "=" in part)
    try:
        every = fields.get("every")
        return Classification(
            kind=LedgerKind(fields["kind"]),
            owner_id=int(fields["owner"]),
            due_on=date.fromisoformat(fields["due"]),
            follow_every_days=int(every) if every else None,
            escalated_to=fields.get("to", ""),
        )
    except (KeyError, ValueError):
        return None


async def _change(
    session: AsyncSession,
    item: LedgerItem,
    *,
    allowed_from: tuple[LedgerStatus, ...],
    values: dict[str, Any],
    event: LedgerEventKind,
    by: int,
    note: str,
    now: datetime,
) -> None:
    table = LedgerItem.__table__  # type: ignore[attr-defined]
    values = dict(values)
    if item.first_response_at is None:
        values["first_response_at"] = now
    result = await session.exec(
        update(table)
        .where(
            table.c.id == item.id,
            table.c.status.in_([s.value for s in allowed_from]),
            table.c.status == item.status.value,
        )
        .values(**values)
    )
    if result.rowcount != 1:
        raise ItemChanged()
    await session.exec(
        insert(LedgerEvent.__table__).values(  # type: ignore[attr-defined]
            item_id=item.id, at=now, staff_id=by, kind=event.value, note=note
        )
    )
    for name, value in values.items():
        setattr(item, name, value)
    item.status = LedgerStatus(item.status)


async def classify(
    session: AsyncSession,
    item: LedgerItem,
    plan: Classification,
    *,
    by: int,
    now: datetime,
    zone: ZoneInfo,
) -> None:
    """Set (or change) how the item is handled, its owner and due date. 当面解释 also opens a
    visit duty for the owner, due at the end of the due date, fulfilled by a logged visit."""
    problem = due_date_problem(plan.due_on, now.astimezone(zone).date())
    if problem is not None:
        raise LedgerRefused(problem)
    if plan.kind is LedgerKind.TRACK and plan.follow_every_days not in FOLLOW_EVERY_CHOICES:
        raise LedgerRefused(N_("请选择跟进间隔。"))
    if plan.kind is LedgerKind.ESCALATE and not plan.escalated_to.strip():
        raise LedgerRefused(N_("请写明上报给谁。"))
    if plan.kind is LedgerKind.EXPLAIN and plan.visit_student_id is None:
        raise LedgerRefused(N_("这条台账没有对应的学生家庭，无法安排当面解释。"))
    await _change(
        session,
        item,
        allowed_from=(LedgerStatus.OPEN, LedgerStatus.ACTIVE),
        values={
            "status": LedgerStatus.ACTIVE,
            "kind": plan.kind,
            "owner_id": plan.owner_id,
            "due_on": plan.due_on,
            "follow_every_days": plan.follow_every_days if plan.kind is LedgerKind.TRACK else None,
            "escalated_to": plan.escalated_to.strip()[:100]
            if plan.kind is LedgerKind.ESCALATE
            else "",
            "last_progress_at": now,
        },
        event=LedgerEventKind.CLASSIFIED,
        by=by,
        note=plan.encode(),
        now=now,
    )
    if plan.kind is LedgerKind.EXPLAIN and plan.visit_student_id is not None:
        end_of_day = datetime.combine(plan.due_on, time(23, 59), zone)
        await open_duty(
            session=session,
            school_id=item.school_id,
            student_id=plan.visit_student_id,
            teacher_id=plan.owner_id,
            trigger=DutyTrigger.OTHER,
            source_key=f"ledger:{item.id}",
            triggered_at=now,
            due_at=end_of_day,
            reason="当面解释台账问题",
        )


async def add_note(
    session: AsyncSession,
    item: LedgerItem,
    text: str,
    *,
    by: int,
    now: datetime,
    reply: bool = False,
) -> None:
    """A time-stamped progress note (or, `reply`, the answer of the body it was escalated to)."""
    note = _note(text, required=N_("请写下进展情况，不能为空。"))
    if item.status is not LedgerStatus.ACTIVE:
        raise LedgerRefused(N_("请先给这条台账分类，再记录进展。"))
    await _change(
        session,
        item,
        allowed_from=(LedgerStatus.ACTIVE,),
        values={"last_progress_at": now},
        event=LedgerEventKind.REPLY if reply else LedgerEventKind.PROGRESS,
        by=by,
        note=note,
        now=now,
    )


async def close(
    session: AsyncSession,
    item: LedgerItem,
    text: str,
    *,
    outcome: LedgerOutcome,
    by: int,
    now: datetime,
) -> None:
    """Close the item. Nothing closes without a resolution note."""
    note = _note(text, required=N_("办结必须写明处理结果，不能为空。"))
    if item.status is LedgerStatus.CLOSED:
        raise LedgerRefused(N_("这条台账已经办结。"))
    await _change(
        session,
        item,
        allowed_from=(LedgerStatus.OPEN, LedgerStatus.ACTIVE),
        values={"status": LedgerStatus.CLOSED, "closed_at": now, "outcome": outcome},
        event=LedgerEventKind.CLOSED,
        by=by,
        note=f"[{outcome.value}] {note}",
        now=now,
    )


async def reopen(
    session: AsyncSession, item: LedgerItem, text: str, *, by: int, now: datetime
) -> None:
    """Open a closed item again; its history (the earlier close included) is kept."""
    note = _note(text, required=N_("重新打开需要写明原因。"))
    if item.status is not LedgerStatus.CLOSED:
        raise LedgerRefused(N_("这条台账还没有办结，不需要重新打开。"))
    back_to = LedgerStatus.ACTIVE if item.owner_id is not None else LedgerStatus.OPEN
    await _change(
        session,
        item,
        allowed_from=(LedgerStatus.CLOSED,),
        values={"status": back_to, "closed_at": None, "outcome": None, "last_progress_at": now},
        event=LedgerEventKind.REOPENED,
        by=by,
        note=note,
        now=now,
    )


def split_outcome(note: str) -> tuple[LedgerOutcome | None, str]:
    """A `closed` event's note as written by `close`: its outcome and the note itself."""
    if note.startswith("[") and "] " in note:
        value, _, rest = note[1:].partition("] ")
        if value in {o.value for o in LedgerOutcome}:
            return LedgerOutcome(value), rest
    return None, note
