"""Telegram's shapes and ours: an Update as an `Inbound`, a `Reply` as messages with keyboards,
and a pressed button shown as chosen."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import (
    BadRequest,
)

from bot.channels.text import capped
from bot.channels.text import split_text as split_pieces
from handlers.i18n import Translator
from handlers.types import Attachment, FileRef, Inbound, Reply

log = logging.getLogger(__name__)

CHANNEL = "telegram"

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


# -- Update → Inbound ---------------------------------------------------------------------------


def update_to_inbound(update: Update) -> Inbound | None:
    """The `Inbound` for a private text, command, photo, button press or the sender's own
    contact. A text longer than Telegram carries (4,096 characters, a caption 1,024) is cut and
    marked (`Inbound.text_cut`).

    None for everything else: group chats, stickers and other media, and a contact card of someone
    other than the sender (sharing another person's number must never bind the sender).
    """
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": str(user.id),
        "chat_id": str(chat.id),
        "display_name": user.full_name,
        "update_key": str(update.update_id),
        "language_hint": user.language_code,
    }
    query = update.callback_query
    if query is not None:
        if query.data is None:
            return None
        extra: dict[str, Any] = {"callback_query_id": query.id}
        if query.message is not None:
            extra["message_id"] = query.message.message_id
        return Inbound(callback=query.data, extra=extra, **common)
    message = update.message
    if message is None:
        return None
    if message.contact is not None:
        if message.contact.user_id != user.id:
            return None
        return Inbound(contact_phone=message.contact.phone_number, **common)
    if message.text is not None:
        text, cut = capped(message.text, MessageLimit.MAX_TEXT_LENGTH)
        return Inbound(text=text, text_cut=cut, **common)
    caption, cut = (None, False)
    if message.caption is not None:
        caption, cut = capped(message.caption, MessageLimit.CAPTION_LENGTH)
    if message.photo:
        # The largest size; its caption (if any) is the text that goes with it.
        return Inbound(photo=message.photo[-1].file_id, text=caption, text_cut=cut, **common)
    if message.document is not None:
        document = message.document
        file = FileRef(
            CHANNEL, document.file_id, "document", document.file_name or "", document.file_size
        )
        return Inbound(document=file, text=caption, text_cut=cut, **common)
    return None


def is_foreign_contact(update: Update) -> bool:
    """A contact card whose owner is not the sender (or unknown)."""
    message = update.message
    user = update.effective_user
    return (
        message is not None
        and message.contact is not None
        and user is not None
        and message.contact.user_id != user.id
    )


# -- Reply → Telegram ---------------------------------------------------------------------------


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut text into pieces Telegram accepts (characters), at line breaks where possible."""
    return split_pieces(text, limit)


def inline_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return _keyboard(tuple(tuple((b.label, b.data) for b in row) for row in reply.buttons))


@functools.lru_cache(maxsize=1024)
def _keyboard(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    """Most questions offer the same buttons to everyone (形式, 分类, 跳过 …): each keyboard is
    built once (python-telegram-bot's objects are immutable, so one can go in many messages)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def reply_markup(
    reply: Reply, t: Translator, *, drop_contact_keyboard: bool = False
) -> Markup | None:
    """Inline keyboard for buttons; the one-time request-contact keyboard when asked for."""
    if reply.buttons:
        return inline_keyboard(reply)
    if reply.request_contact:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(t._("📱 分享我的手机号"), request_contact=True)]],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
    if drop_contact_keyboard:
        return ReplyKeyboardRemove()
    return None


def chat_ref(chat_id: str | int) -> str | int:
    text = str(chat_id)
    return int(text) if text.lstrip("-").isdigit() else text


def render(
    reply: Reply, t: Translator, *, drop_contact_keyboard: bool = False
) -> list[tuple[str, Markup | None]]:
    """The messages one reply becomes: long text split, the keyboard on the last piece."""
    pieces = split_text(reply.text)
    markup = reply_markup(reply, t, drop_contact_keyboard=drop_contact_keyboard)
    return [(piece, markup if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]


@dataclass(frozen=True)
class Piece:
    """One Bot API call a reply becomes: a text message, or a photo with `text` as caption."""

    text: str
    markup: Markup | None
    photo: Attachment | None = None
    #: A file kept on Telegram, sent again by its file_id (no caption, no buttons).
    file: FileRef | None = None


def pieces(reply: Reply, t: Translator, *, drop_contact_keyboard: bool = False) -> list[Piece]:
    """A reply with a picture is one photo captioned with the text when the text fits in a
    caption (1,024 characters), else the photo and then the text; without one, `render`."""
    # Files kept on Telegram go first, one message each (other channels' files cannot be sent).
    files = [Piece("", None, file=f) for f in reply.files if f.channel == CHANNEL]
    texts = render(reply, t, drop_contact_keyboard=drop_contact_keyboard)
    image = reply.image
    if image is None or not image.data:
        return [*files, *(Piece(text, markup) for text, markup in texts)]
    if len(reply.text) <= MessageLimit.CAPTION_LENGTH:
        markup = reply_markup(reply, t, drop_contact_keyboard=drop_contact_keyboard)
        return [*files, Piece(reply.text, markup, image)]
    return [*files, Piece("", None, image), *(Piece(text, markup) for text, markup in texts)]


async def send_piece(bot: Bot, chat_id: str | int, piece: Piece) -> Message:
    if piece.file is not None:
        if piece.file.kind == "photo":
            return await bot.send_photo(chat_id=chat_ref(chat_id), photo=piece.file.ref)
        return await bot.send_document(chat_id=chat_ref(chat_id), document=piece.file.ref)
    if piece.photo is not None and piece.photo.data:
        return await bot.send_photo(
            chat_id=chat_ref(chat_id),
            photo=piece.photo.data,
            filename=piece.photo.filename,
            caption=piece.text or None,
            reply_markup=piece.markup,
        )
    return await bot.send_message(
        chat_id=chat_ref(chat_id), text=piece.text, reply_markup=piece.markup
    )


async def send_reply(
    bot: Bot,
    chat_id: str | int,
    reply: Reply,
    t: Translator,
    *,
    drop_contact_keyboard: bool = False,
) -> Message | None:
    """Answer in a chat (errors go to the application's error handler); the last message sent."""
    sent: Message | None = None
    for piece in pieces(reply, t, drop_contact_keyboard=drop_contact_keyboard):
        sent = await send_piece(bot, chat_id, piece)
    return sent


async def quietly(call: Any) -> bool:
    """Await an edit; False if Telegram refused it (too old, deleted). "Not modified" is fine."""
    try:
        await call
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True
        log.info("telegram edit refused: %s", type(exc).__name__)
        return False
    return True


def editable(reply: Reply) -> bool:
    """Whether a reply can replace a pressed message (one piece, inline buttons at most)."""
    return (
        not reply.request_contact
        and reply.image is None
        and not reply.files
        and len(reply.text) <= MessageLimit.MAX_TEXT_LENGTH
    )


async def show_choice(query: CallbackQuery, chosen: str | None, edit: Reply | None) -> bool:
    """Update the message whose button was pressed: into `edit` if given, else drop its keyboard
    and show what was chosen. False if the message could not be edited into `edit`."""
    message = query.message
    if not isinstance(message, Message):
        return edit is None
    if edit is not None:
        return await quietly(
            message.edit_text(
                split_text(edit.text)[0],
                reply_markup=inline_keyboard(edit),
            )
        )
    original = message.text or ""
    marked = f"{original}\n\n✓ {chosen}" if chosen else ""
    if marked and len(marked) <= MessageLimit.MAX_TEXT_LENGTH:
        await quietly(message.edit_text(marked, reply_markup=None))
    elif message.reply_markup is not None:
        await quietly(message.edit_reply_markup(reply_markup=None))
    return True


def chat_id_of(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message is not None else query.from_user.id
