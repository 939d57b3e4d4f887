"""What channels hand to handlers (`Inbound`) and what handlers hand back (`Reply`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
class Attachment:
    """A picture sent with a reply (e.g. the digest's chart), stored as a `models.outbox.media.Media`
    row named by `media_key`. Only the key goes into the outbox's JSON; `data` carries the
    bytes once loaded (the handler that made them, or the delivery worker) and is never stored.
    """

    media_key: str
    filename: str = "image.png"
    content_type: str = "image/png"
    data: bytes | None = field(default=None, compare=False, repr=False)

    def with_data(self, data: bytes) -> Attachment:
        return replace(self, data=data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "media_key": self.media_key,
            "filename": self.filename,
            "content_type": self.content_type,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attachment:
        return cls(
            media_key=str(data["media_key"]),
            filename=str(data.get("filename") or "image.png"),
            content_type=str(data.get("content_type") or "image/png"),
        )


@dataclass(frozen=True)
class FileRef:
    """A file kept on a messenger, named by that channel's own reference (a Telegram file_id):
    passed on by reference, never downloaded. Only `channel` can send it again."""

    channel: str
    ref: str
    #: "photo" or "document".
    kind: str = "document"
    name: str = ""
    #: In bytes, when the channel says.
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ref": self.ref,
            "kind": self.kind,
            "name": self.name,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileRef:
        size = data.get("size")
        return cls(
            channel=str(data["channel"]),
            ref=str(data["ref"]),
            kind=str(data.get("kind") or "document"),
            name=str(data.get("name") or ""),
            size=int(size) if size is not None else None,
        )


@dataclass(frozen=True)
class Reply:
    """One message to a person: text, optional buttons (rows), optional contact request,
    optional picture (sent with the text as its caption where the channel allows)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    #: Ask the user to share their phone number (Telegram's request-contact keyboard).
    request_contact: bool = False
    #: Replace the message whose button was pressed instead of sending a new one.
    edit: bool = False
    #: A picture sent with the text; its bytes live in the `media` table, never in the JSON.
    image: Attachment | None = None
    #: Files sent before the text (e.g. a notice's attachments), by the channel's reference.
    files: tuple[FileRef, ...] = ()
    #: Sent later through the outbox: edit this earlier message of the chat (the messenger's
    #: id, `OutboxMessage.message_ref`) instead of sending a new one, e.g. a progress message.
    edit_message_id: str | None = None

    @classmethod
    def with_buttons(
        cls, text: str, rows: Sequence[Sequence[Button]], *, edit: bool = False
    ) -> Reply:
        return cls(text=text, buttons=tuple(tuple(r) for r in rows if r), edit=edit)

    def flat_buttons(self) -> list[Button]:
        """Every button, in reading order (the order a typed number picks them by)."""
        return [b for row in self.buttons for b in row]

    def choices(self) -> list[str]:
        """Callback data of every button, in reading order."""
        return [b.data for b in self.flat_buttons()]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "request_contact": self.request_contact,
        }
        if self.image is not None:
            data["image"] = self.image.to_dict()
        if self.files:
            data["files"] = [f.to_dict() for f in self.files]
        if self.edit_message_id:
            data["edit_message_id"] = self.edit_message_id
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        rows = tuple(tuple(Button(label, value) for label, value in row) for row in data["buttons"])
        image = data.get("image")
        return cls(
            text=data["text"],
            buttons=rows,
            request_contact=bool(data.get("request_contact")),
            image=Attachment.from_dict(image) if image else None,
            files=tuple(FileRef.from_dict(f) for f in data.get("files") or ()),
            edit_message_id=data.get("edit_message_id") or None,
        )


def callback_rest(data: str | None, prefix: str) -> str | None:
    """What a button's callback data holds after `prefix` (`kind:illness` → `illness`); None
    when there is no callback or it is another button's."""
    return data[len(prefix) :] if data is not None and data.startswith(prefix) else None


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: sent text or a photo, pressed a button, or shared their contact."""

    channel: str
    user_id: str
    chat_id: str
    text: str | None = None
    callback: str | None = None
    #: The user's own phone number, from a shared contact (channels drop others' contacts).
    contact_phone: str | None = None
    #: A photo the user sent, as the channel refers to it (Telegram: the largest size's
    #: file_id); its caption, if any, is `text`.
    photo: str | None = None
    #: A file the user sent as a document (name and size as the channel reports them); its
    #: caption, if any, is `text`.
    document: FileRef | None = None
    display_name: str = ""
    #: Unique per update on its channel (Telegram update_id, WeCom MsgId); None on the console.
    update_key: str | None = None
    #: The user's client language (e.g. "en"), used until they choose with /lang.
    language_hint: str | None = None
    #: The text was longer than the channel carries and `text` holds only its beginning: the
    #: dispatcher answers that the message was too long and acts on none of it.
    text_cut: bool = False
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
