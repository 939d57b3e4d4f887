"""What channels hand to handlers (`Inbound`) and what handlers hand back (`Reply`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """A choice: `label` is shown, `data` comes back as `Inbound.callback` (≤ 64 bytes)."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode()) > 64:
            raise ValueError(f"callback data over 64 bytes: {self.data!r}")


@dataclass(frozen=True)
class Reply:
    """One message to a person: text, optional buttons (rows), optional contact request."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    #: Ask the user to share their phone number (Telegram's request-contact keyboard).
    request_contact: bool = False
    #: Replace the message whose button was pressed instead of sending a new one.
    edit: bool = False

    @classmethod
    def with_buttons(
        cls, text: str, rows: Sequence[Sequence[Button]], *, edit: bool = False
    ) -> Reply:
        return cls(text=text, buttons=tuple(tuple(r) for r in rows if r), edit=edit)

    def choices(self) -> list[str]:
        """Callback data of every button, in reading order."""
        return [b.data for row in self.buttons for b in row]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "request_contact": self.request_contact,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        rows = tuple(tuple(Button(label, value) for label, value in row) for row in data["buttons"])
        return cls(
            text=data["text"], buttons=rows, request_contact=bool(data.get("request_contact"))
        )


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: sent text, pressed a button, or shared their own contact."""

    channel: str
    user_id: str
    chat_id: str
    text: str | None = None
    callback: str | None = None
    #: The user's own phone number, from a shared contact (channels drop others' contacts).
    contact_phone: str | None = None
    display_name: str = ""
    #: Unique per update on its channel (Telegram update_id, WeCom MsgId); None on the console.
    update_key: str | None = None
    #: The user's client language (e.g. "en"), used until they choose with /lang.
    language_hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """What a step returns: the replies to send and the next state (None ends the flow)."""

    replies: tuple[Reply, ...]
    next_state: str | None

    @classmethod
    def to(cls, next_state: str | None, *replies: Reply) -> Transition:
        return cls(replies=replies, next_state=next_state)

    @classmethod
    def end(cls, *replies: Reply) -> Transition:
        return cls(replies=replies, next_state=None)
