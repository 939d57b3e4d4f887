"""Telegram: python-telegram-bot's `Application` in front of the one conversation engine.

Each update becomes an `Inbound`, `Dispatcher.handle` does the work (and commits the
conversation state with it), and the `Response` is rendered natively: inline keyboards for
buttons, the request-contact keyboard for joining by phone number, and the pressed message
edited to show what was chosen. No `ConversationHandler`: its state would be a second copy of
what the dispatcher already keeps in the database.

Outgoing messages that are not answers (notices, reminders, alerts) leave through
`TelegramChannel.send`, called by the outbox's `DeliveryWorker`, which this module starts and
stops with the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Mapping
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
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.base import (
    Channel,
    PermanentSendError,
    RetryableSendError,
    UnknownSendOutcome,
    UserLocks,
)
from bot.channels.telegram_pacing import (
    PACE_PER_CHAT_PER_SECOND,
    PACE_PER_SECOND,
    TelegramRateLimiter,
    retry_after_seconds,
)
from bot.channels.text import split_text as split_pieces
from bot.delivery.worker import DeliveryWorker
from bot.settings import Settings
from handlers.dispatcher import Dispatcher, Response
from handlers.i18n import Translator, normalise_language, translator
from handlers.notice.progress import progress_hook
from handlers.types import Attachment, FileRef, Inbound, Reply
from models.db.engine import Database
from models.errors import ConfigError
from models.outbox.outcomes import FailureReason

#: The HTTP seam python-telegram-bot sends through; callers outside the channel (and tests, with
#: a fake) pass one without importing `telegram` themselves.
TelegramRequest = BaseRequest

log = logging.getLogger(__name__)

CHANNEL = "telegram"
#: The update types the bot acts on; everything else is not even fetched.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
#: How many updates are handled at once (measured: a few beat 256 on one machine).
CONCURRENT_UPDATES = 4
#: Keys in `Application.bot_data` (tests reach the worker through them).
WORKER = "delivery_worker"
WORKER_TASK = "delivery_task"

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

AppContext = ContextTypes.DEFAULT_TYPE


# -- Update → Inbound ---------------------------------------------------------------------------


def update_to_inbound(update: Update) -> Inbound | None:
    """The `Inbound` for a private text, command, photo, button press or the sender's own
    contact.

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
        return Inbound(text=message.text, **common)
    if message.photo:
        # The largest size; its caption (if any) is the text that goes with it.
        return Inbound(photo=message.photo[-1].file_id, text=message.caption, **common)
    if message.document is not None:
        document = message.document
        file = FileRef(
            CHANNEL, document.file_id, "document", document.file_name or "", document.file_size
        )
        return Inbound(document=file, text=message.caption, **common)
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


def _chat(chat_id: str | int) -> str | int:
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
            return await bot.send_photo(chat_id=_chat(chat_id), photo=piece.file.ref)
        return await bot.send_document(chat_id=_chat(chat_id), document=piece.file.ref)
    if piece.photo is not None and piece.photo.data:
        return await bot.send_photo(
            chat_id=_chat(chat_id),
            photo=piece.photo.data,
            filename=piece.photo.filename,
            caption=piece.text or None,
            reply_markup=piece.markup,
        )
    return await bot.send_message(
        chat_id=_chat(chat_id), text=piece.text, reply_markup=piece.markup
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


async def _quietly(call: Any) -> bool:
    """Await an edit; False if Telegram refused it (too old, deleted). "Not modified" is fine."""
    try:
        await call
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True
        log.info("telegram edit refused: %s", exc)
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
        return await _quietly(
            message.edit_text(
                split_text(edit.text)[0],
                reply_markup=inline_keyboard(edit),
            )
        )
    original = message.text or ""
    marked = f"{original}\n\n✓ {chosen}" if chosen else ""
    if marked and len(marked) <= MessageLimit.MAX_TEXT_LENGTH:
        await _quietly(message.edit_text(marked, reply_markup=None))
    elif message.reply_markup is not None:
        await _quietly(message.edit_reply_markup(reply_markup=None))
    return True


def chat_id_of(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message is not None else query.from_user.id


# -- the channel the outbox sends through --------------------------------------------------------


class TelegramChannel:
    """`bot.channels.base.Channel` over a `telegram.Bot`, with Telegram's failures classified."""

    name = CHANNEL
    #: Telegram's limits (about 30 messages a second, one a second per chat), a little under.
    rate_per_second = PACE_PER_SECOND
    rate_per_chat_per_second = PACE_PER_CHAT_PER_SECOND

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        #: The bot's own pacing (`build_application` installs it), shared with the live answers:
        #: the delivery worker books its slots there. None for a bot without it.
        hook = getattr(bot, "rate_limiter", None)
        self.limiter = hook.limiter if isinstance(hook, TelegramRateLimiter) else None

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        if reply.edit_message_id:
            return await self._edit(chat_id, reply.edit_message_id, reply)
        messages = pieces(reply, translator("zh"))
        delivered = 0
        sent: Message | None = None
        try:
            for piece in messages:
                sent = await send_piece(self.bot, chat_id, piece)
                delivered += 1
        except TelegramError as exc:
            error = classify(exc)
            if delivered and not isinstance(error, UnknownSendOutcome):
                # Part of it arrived: sending it again would repeat that part.
                raise UnknownSendOutcome(
                    f"partly delivered ({delivered}/{len(messages)}): {error}"
                ) from exc
            raise error from exc
        return str(sent.message_id) if sent is not None else None

    async def _edit(self, chat_id: str, message_id: str, reply: Reply) -> str:
        """Replace an earlier message's text and buttons (a progress message). Editing to the
        same text again is fine; an edit has no other effect, so repeating one is harmless."""
        try:
            await self.bot.edit_message_text(
                chat_id=_chat(chat_id),
                message_id=int(message_id),
                text=split_text(reply.text)[0],
                reply_markup=inline_keyboard(reply),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise classify(exc) from exc
        except TelegramError as exc:
            raise classify(exc) from exc
        return message_id


#: httpx errors raised before the request reached Telegram: sending again cannot repeat it.
_NOT_SENT = ("ConnectError", "ConnectTimeout", "PoolTimeout", "ProxyError", "UnsupportedProtocol")
#: httpx errors raised after the request may have reached Telegram.
_MAY_HAVE_LEFT = ("ReadError", "ReadTimeout", "WriteError", "WriteTimeout", "RemoteProtocolError")


def _httpx_name(exc: NetworkError) -> str:
    """The httpx error under PTB's (its cause, or named in the text as `httpx.Name: …`)."""
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("httpx"):
        return type(cause).__name__
    text = str(exc)
    if text.startswith("httpx."):
        return text[len("httpx.") :].split(":", 1)[0]
    if text.startswith("Pool timeout"):  # PTB: "… Request was *not* sent to Telegram."
        return "PoolTimeout"
    return ""


def may_have_left(exc: NetworkError) -> bool:
    """Whether a failed request may have reached Telegram (then it must not be sent again)."""
    name = _httpx_name(exc)
    if name in _NOT_SENT:
        return False
    # A timeout we cannot place is taken as after sending; a network error without httpx's
    # name is an answer from Telegram's side (502 Bad Gateway …): nothing was accepted.
    return name in _MAY_HAVE_LEFT or isinstance(exc, TimedOut)


def permanent_reason(exc: TelegramError) -> FailureReason:
    text = str(exc).lower()
    if "blocked" in text:
        return FailureReason.BLOCKED
    if "deactivated" in text:
        return FailureReason.DEACTIVATED
    if "chat not found" in text:
        return FailureReason.CHAT_NOT_FOUND
    if "initiate conversation" in text:
        return FailureReason.NOT_STARTED
    return FailureReason.REJECTED


def classify(exc: TelegramError) -> RetryableSendError | PermanentSendError | UnknownSendOutcome:
    """Telegram's errors in the outbox's three classes (`bot.channels.base`)."""
    if isinstance(exc, RetryAfter):
        retry_after = retry_after_seconds(exc)
        return RetryableSendError(f"RetryAfter: {retry_after:g}s", retry_after=retry_after)
    if isinstance(exc, Forbidden | BadRequest | ChatMigrated):
        return PermanentSendError(f"{type(exc).__name__}: {exc}", reason=permanent_reason(exc))
    if isinstance(exc, NetworkError) and may_have_left(exc):
        # e.g. TimedOut on reading the answer: the message may have arrived.
        return UnknownSendOutcome(f"{type(exc).__name__}: {exc}")
    return RetryableSendError(f"{type(exc).__name__}: {exc}")


# -- updates in, responses out --------------------------------------------------------------------


class TelegramAdapter:
    """The Application's handlers: convert, dispatch, render."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        #: Per chat, the message whose inline buttons are the current question's. When a newer
        #: question arrives, the older buttons are taken away, so a stale "跳过" cannot answer
        #: the question after it. (Kept in memory: after a restart the dispatcher still refuses
        #: buttons it did not offer.)
        self._live_keyboard: dict[str, int] = {}
        # One update at a time per user, so two quick messages are handled in order.
        self._lock = UserLocks()

    @staticmethod
    def _translator(update: Update) -> Translator:
        user = update.effective_user
        return translator(normalise_language(user.language_code if user else None))

    async def on_message(self, update: Update, context: AppContext) -> None:
        t = self._translator(update)
        message = update.message
        if message is None:
            return
        if is_foreign_contact(update):
            await send_reply(
                context.bot,
                message.chat_id,
                Reply(
                    t._(
                        "这是别人的联系人名片。为了保护信息安全，只能用您本人的手机号绑定："
                        "请点下方按钮分享您自己的号码。"
                    ),
                    request_contact=True,
                ),
                t,
            )
            return
        inbound = update_to_inbound(update)
        if inbound is None:
            await send_reply(
                context.bot,
                message.chat_id,
                Reply(
                    t._(
                        "抱歉，我目前只能读懂文字消息和按钮。请用文字告诉我，或发送 /help 查看可以做什么。"
                    )
                ),
                t,
            )
            return
        async with self._lock(inbound.user_id):
            response = await self.dispatcher.handle(inbound)
            for index, reply in enumerate(response.replies):
                await self._answer(
                    context.bot,
                    message.chat_id,
                    reply,
                    t,
                    key=f"reply:{update.update_id}:{index}",
                    drop_contact_keyboard=inbound.contact_phone is not None,
                )

    async def _answer(
        self,
        bot: Bot,
        chat_id: str | int,
        reply: Reply,
        t: Translator,
        *,
        key: str,
        drop_contact_keyboard: bool = False,
    ) -> None:
        """Send an answer now; if Telegram asks us to wait or the network fails, the outbox
        sends it later (the conversation has already moved on: the answer must not be lost)."""
        try:
            sent = await send_reply(
                bot, chat_id, reply, t, drop_contact_keyboard=drop_contact_keyboard
            )
            if sent is not None and reply.buttons:
                await self._keyboard_moved(bot, chat_id, sent.message_id)
        except TelegramError as exc:
            error = classify(exc)
            if not isinstance(error, RetryableSendError):
                raise
            log.warning("answer deferred to the outbox: %s", type(exc).__name__)
            await self.dispatcher.defer(
                channel=CHANNEL,
                chat_id=str(chat_id),
                reply=reply,
                key=f"{CHANNEL}:{key}",
                delay=error.retry_after or 0.0,
            )

    async def _keyboard_moved(
        self, bot: Bot, chat_id: str | int, message_id: int | None, *, handled: int | None = None
    ) -> None:
        """`message_id` now holds the live buttons (None: no message does); clear the old ones
        (except `handled`, a message already edited)."""
        key = str(chat_id)
        previous = self._live_keyboard.pop(key, None)
        if message_id is not None:
            self._live_keyboard[key] = message_id
        if previous is not None and previous not in (message_id, handled):
            await _quietly(
                bot.edit_message_reply_markup(
                    chat_id=_chat(chat_id), message_id=previous, reply_markup=None
                )
            )

    async def on_callback(self, update: Update, context: AppContext) -> None:
        query = update.callback_query
        if query is None:
            return
        # Stop the button's spinner at once, whatever happens next.
        with contextlib.suppress(TelegramError):
            await query.answer()
        inbound = update_to_inbound(update)
        if inbound is None:
            return
        async with self._lock(inbound.user_id):
            response = await self.dispatcher.handle(inbound)
            await self._render_after_callback(
                query, response, context.bot, self._translator(update), update.update_id
            )

    async def _render_after_callback(
        self, query: CallbackQuery, response: Response, bot: Bot, t: Translator, update_id: int
    ) -> None:
        if not response.replies and response.chosen is None:
            return  # a redelivered update: it was shown the first time
        replies = list(response.replies)
        edit = next((r for r in replies if r.edit), None)
        chat_id = chat_id_of(query)
        if response.action:
            # An action button on an older message: edit that message, leave the live
            # conversation's keyboard where it is.
            if edit is not None and await show_choice(query, None, edit):
                replies = [r for r in replies if r is not edit]
            for index, reply in enumerate(replies):
                await self._answer(bot, chat_id, reply, t, key=f"reply:{update_id}:{index}")
            return
        if edit is None and replies and response.chosen and editable(replies[0]):
            # The pressed question becomes the next one, headed by what was chosen: one call
            # instead of two, and a tidy chat (the summary card repeats every answer).
            first = replies[0]
            edit = Reply(f"✓ {response.chosen}\n\n{first.text}", buttons=first.buttons)
            replies[0] = edit
        if edit is not None and await show_choice(query, response.chosen, edit):
            replies = [r for r in replies if r is not edit]
            pressed = query.message.message_id if query.message is not None else None
            await self._keyboard_moved(
                bot, chat_id_of(query), pressed if edit.buttons else None, handled=pressed
            )
        elif edit is not None:
            await show_choice(query, response.chosen, None)
        for index, reply in enumerate(replies):
            await self._answer(bot, chat_id, reply, t, key=f"reply:{update_id}:{index}")

    async def on_group(self, update: Update, context: AppContext) -> None:
        message = update.message
        if message is None:
            return
        t = self._translator(update)
        username = context.bot.username
        await message.reply_text(
            t._("为保护学生和家庭的隐私，请私聊我使用：点开 @{username} 发送 /start。").format(
                username=username
            )
        )

    async def on_error(self, update: object, context: AppContext) -> None:
        # Never the update itself: it carries names, phone numbers and messages.
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        log.error(
            "telegram update %s failed: %s",
            update_id,
            type(error).__name__,
            exc_info=(type(error), error, error.__traceback__) if error is not None else None,
        )


# -- the application ------------------------------------------------------------------------------


def quiet_transport_logs() -> None:
    """httpx logs every request URL (with the token) and PTB whole updates below WARNING."""
    for name in ("httpx", "httpcore", "telegram", "telegram.ext"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def _expire_idle(context: AppContext) -> None:
    dispatcher = context.application.bot_data["dispatcher"]
    assert isinstance(dispatcher, Dispatcher)
    ended = await dispatcher.expire_idle()
    if ended:
        log.info("ended %d idle conversation(s)", ended)


def build_application(
    settings: Settings,
    db: Database,
    dispatcher: Dispatcher,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    extra_channels: Mapping[str, Channel] | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot, ready for `run_polling` (tests pass a fake `request` and drive it directly).

    `extra_channels` (WeCom's, when it runs alongside) are delivered by the same outbox worker.
    """
    token = settings.telegram_token
    if token is None:
        raise ConfigError("没有设置 TELEGRAM_BOT_TOKEN：请填入 @BotFather 给出的令牌。")
    quiet_transport_logs()
    adapter = TelegramAdapter(dispatcher)
    worker_holder: dict[str, DeliveryWorker] = {}

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        # `initialize()` has just called getMe; its answer names the bot in invite links.
        dispatcher.bot_username = application.bot.username
        channels: dict[str, Channel] = {CHANNEL: TelegramChannel(application.bot)}
        channels.update(extra_channels or {})
        worker = DeliveryWorker(db, channels, dispatcher.clock)
        worker.after_round = progress_hook(db, dispatcher.clock)
        worker_holder[WORKER] = worker
        dispatcher.on_outbox = worker.wake
        application.bot_data[WORKER] = worker
        application.bot_data[WORKER_TASK] = asyncio.create_task(
            worker.run_forever(), name="outbox-delivery"
        )

    async def post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        worker = worker_holder.pop(WORKER, None)
        task = application.bot_data.pop(WORKER_TASK, None)
        dispatcher.on_outbox = None
        if worker is None or not isinstance(task, asyncio.Task):
            return
        worker.stop()
        try:
            await asyncio.wait_for(task, timeout=30)
        except TimeoutError:
            log.warning("outbox delivery did not stop within 30 s; cancelled")

    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .concurrent_updates(CONCURRENT_UPDATES)
        .rate_limiter(TelegramRateLimiter())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    application = builder.build()
    application.bot_data["dispatcher"] = dispatcher

    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CallbackQueryHandler(adapter.on_callback))
    application.add_handler(MessageHandler(private, adapter.on_message))
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, adapter.on_group)
    )
    application.add_error_handler(adapter.on_error)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _expire_idle, interval=60, first=60, name="expire-idle-conversations"
        )
    return application


async def fetch_bot_username(
    settings: Settings, *, request: BaseRequest | None = None
) -> str | None:
    """The bot's @username: `TELEGRAM_BOT_USERNAME`, else asked once with getMe (None if unknown)."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    token = settings.telegram_token
    if token is None:
        return None
    bot = Bot(
        token,
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
        request=request,
    )
    try:
        async with bot:
            return bot.username
    except TelegramError as exc:
        log.warning("could not ask Telegram for the bot's name (getMe): %s", type(exc).__name__)
        return None
