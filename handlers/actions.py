"""Buttons that act outside any conversation: 已知悉 on an incident message, 已电话联系 on an
alert, 确认收到 on a notice. Their callback data is `!name:argument`; the dispatcher hands them to
the registered `Action`, whatever conversation the person is in, and leaves that conversation
alone. The handler must check that the person may act on `argument` (callback data can be forged).

Every action's argument is a record id, or two joined by a dot (`!nst:12.3`: a notice, one of
its classes). The dispatcher answers any other argument (too long, negative, not ASCII digits, past
the largest id a column holds) as a stale button before a handler sees it (`is_record_argument`),
so handlers may read it with `int()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Context
from handlers.types import Button, Inbound, Reply

PREFIX = "!"
#: The largest record id: a 32-bit INTEGER column on PostgreSQL.
MAX_RECORD_ID = 2**31 - 1

ActionHandler = Callable[[Inbound, str, Context], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Action:
    name: str
    handle: ActionHandler


def action_button(label: str, name: str, argument: str | int) -> Button:
    """A button that runs action `name` with `argument` when pressed."""
    return Button(label, f"{PREFIX}{name}:{argument}")


def parse_action(data: str) -> tuple[str, str] | None:
    """`!ack:42` → ("ack", "42"); None for a conversation's own callback data."""
    if not data.startswith(PREFIX):
        return None
    name, sep, argument = data[len(PREFIX) :].partition(":")
    return (name, argument) if name and sep else None


def record_id(text: str) -> int | None:
    """`"42"` → 42; None for anything that cannot be a record's id (`"-1"`, `"²"`, `"1e9"`, a
    number past `MAX_RECORD_ID`)."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_RECORD_ID))):
        return None
    value = int(text)
    return value if value <= MAX_RECORD_ID else None


def is_record_argument(argument: str) -> bool:
    """Whether an action's argument is what action buttons carry: `42` or `42.7`."""
    parts = argument.split(".")
    return len(parts) <= 2 and all(record_id(part) is not None for part in parts)
