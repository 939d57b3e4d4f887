"""Buttons that act outside any conversation: 已知悉 on an incident message, 已电话联系 on an
alert, 确认收到 on a notice. Their callback data is `!name:argument`; the dispatcher hands them to
the registered `Action`, whatever conversation the person is in, and leaves that conversation
alone. The handler must check that the person may act on `argument` (callback data can be forged).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Context
from handlers.types import Button, Inbound, Reply

PREFIX = "!"

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
