"""What the engine keeps about a conversation beside the flow's own draft, and 上一步.

It is stored inside the conversation's draft JSON under one reserved key (`ENGINE_KEY`), so the
conversation row and its one-statement write on PostgreSQL stay as they are; `split` takes it
out before the flow's draft model reads the rest. It holds:
- `history`: the states left behind, each with the draft as it was when it was left (its answer
  kept) and the replies that asked its question — 上一步 / 返回 goes back to the last one and
  asks that question again, where a new answer replaces the one kept;
- `asked`: the replies that asked the current question, sent again when the person comes back
  to it (after a read-only command, 继续记录, resuming a draft);
- `pending`: a command sent mid-flow, waiting for 继续记录 / 保存草稿 / 放弃, and the question's
  buttons meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handlers.types import Reply

#: The draft JSON key the engine keeps its notes under; no flow's draft has a field of that name.
ENGINE_KEY = "_engine"
#: States remembered for 上一步 at most (a visit has about fifteen questions).
HISTORY_LIMIT = 30

#: Typed on their own, these go back one step (the visit flow reads the same words).
BACK_WORDS = frozenset(
    ("上一步", "返回", "上一题", "上一个", "回到上一步", "返回上一步", "后退", "退回", "back")
)
_AROUND = re.compile(r"^[\s。.!！~～]+|[\s。.!！~～]+$")


def is_back_word(text: str | None) -> bool:
    """Whether `text` is only a word for going back (`返回学校` is an answer)."""
    return text is not None and _AROUND.sub("", text).lower() in BACK_WORDS


@dataclass(frozen=True)
class Visited:
    """A state left behind: the draft as it was when it was left, and the replies that asked
    its question."""

    state: str
    draft: dict[str, Any]
    replies: list[dict[str, Any]]

    def to_json(self) -> list[Any]:
        return [self.state, self.draft, self.replies]


@dataclass(frozen=True)
class Pending:
    """A command waiting for 继续记录 / 保存草稿 / 放弃, and the question's buttons."""

    command: str
    choices: list[list[str]]


@dataclass
class EngineNotes:
    history: list[Visited] = field(default_factory=list)
    asked: list[dict[str, Any]] = field(default_factory=list)
    pending: Pending | None = None

    def asked_replies(self) -> list[Reply]:
        return [Reply.from_dict(r) for r in self.asked]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "history": [v.to_json() for v in self.history[-HISTORY_LIMIT:]],
            "asked": self.asked,
        }
        if self.pending is not None:
            data["pending"] = [self.pending.command, self.pending.choices]
        return data


def split(stored: dict[str, Any]) -> tuple[dict[str, Any], EngineNotes]:
    """The flow's own draft and the engine's notes, from a stored draft (one stored before the
    engine kept notes has none)."""
    if ENGINE_KEY not in stored:
        return stored, EngineNotes()
    draft = {k: v for k, v in stored.items() if k != ENGINE_KEY}
    raw = stored[ENGINE_KEY]
    notes = EngineNotes()
    if isinstance(raw, dict):
        notes.history = [
            Visited(str(state), dict(draft_at), list(replies))
            for state, draft_at, replies in raw.get("history") or []
        ]
        notes.asked = list(raw.get("asked") or [])
        pending = raw.get("pending")
        if pending:
            notes.pending = Pending(str(pending[0]), [list(c) for c in pending[1]])
    return draft, notes


def join(draft: dict[str, Any], notes: EngineNotes) -> dict[str, Any]:
    """The draft as stored: the flow's own fields and the engine's notes."""
    return {**draft, ENGINE_KEY: notes.to_json()}


def stored_replies(replies: list[Reply]) -> list[dict[str, Any]]:
    """Replies as kept to be sent again (as new messages, never as edits)."""
    return [r.to_dict() for r in replies]


def choices_of(replies: list[Reply]) -> list[list[str]]:
    return [[b.label, b.data] for r in replies for b in r.flat_buttons()]


def moved_on(
    previous_state: str | None,
    previous: EngineNotes,
    next_state: str,
    draft: dict[str, Any],
) -> list[Visited]:
    """The history after a step that leads to `next_state` with `draft`: a state left behind
    is added with that draft (an answer asked again, or the next page of a list, stays in its
    state and adds nothing)."""
    if previous_state is None or previous_state == next_state:
        return list(previous.history)
    left = Visited(previous_state, draft, previous.asked)
    return [*previous.history, left][-HISTORY_LIMIT:]
