"""The classification conversation's states and the rule that picks the next question (see
`ledger_classify.mmd`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel

from models.ledger.tables import LedgerKind


class State(StrEnum):
    KIND = "kind"
    OWNER = "owner"
    DUE = "due"
    INTERVAL = "interval"
    ESCALATE_TO = "escalate_to"
    CONFIRM = "confirm"


class ClassifyDraft(BaseModel):
    item_id: int = 0
    kind: LedgerKind | None = None
    owner_id: int | None = None
    #: The last name typed to find an owner ("" before any).
    owner_search: str = ""
    due_on: date | None = None
    follow_every_days: int | None = None
    escalated_to: str | None = None


def next_state(draft: ClassifyDraft) -> State:
    if draft.kind is None:
        return State.KIND
    if draft.owner_id is None:
        return State.OWNER
    if draft.due_on is None:
        return State.DUE
    if draft.kind is LedgerKind.TRACK and draft.follow_every_days is None:
        return State.INTERVAL
    if draft.kind is LedgerKind.ESCALATE and not draft.escalated_to:
        return State.ESCALATE_TO
    return State.CONFIRM
