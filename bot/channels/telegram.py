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
import ssl
from collections.abc import Mapping
from typing import Any

import httpx
from telegram import (
    Bot,
    CallbackQuery,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    TelegramError,
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
    RetryableSendError,
    UnknownSendOutcome,
    UserLocks,
    answer_or_defer,
)
from bot.channels.telegram_errors import classify
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_pacing import (
    PACE_PER_CHAT_PER_SECOND,
    PACE_PER_SECOND,
    TelegramRateLimiter,
    telegram_limiter,
)
from bot.channels.telegram_polling import PollingBot
from bot.channels.telegram_render import (
    CHANNEL,
    chat_id_of,
    chat_ref,
    editable,
    inline_keyboard,
    is_foreign_contact,
    pieces,
    quietly,
    send_piece,
    send_reply,
    show_choice,
    split_text,
    update_to_inbound,
)
from bot.delivery.wiring import IDLE_SWEEP_SECONDS, build_delivery, expire_idle, start_delivery
from bot.delivery.worker import DeliveryWorker
from bot.settings import Settings
from handlers.dispatcher import Dispatcher, Response
from handlers.i18n import Translator, normalise_language, translator
from handlers.types import Reply
from models.db.engine import Database
from models.errors import ConfigError

#: The HTTP seam python-telegram-bot sends through; callers outside the channel (and tests, with
#: a fake) pass one without importing `telegram` themselves.
TelegramRequest = BaseRequest

log = logging.getLogger(__name__)

#: The update types the bot acts on; everything else is not even fetched.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
#: How many updates are handled at once (measured: a few beat 256 on one machine).
CONCURRENT_UPDATES = 4
#: Keys in `Application.bot_data` (tests reach the worker through them).
WORKER = "delivery_worker"
WORKER_TASK = "delivery_task"


AppContext = ContextTypes.DEFAULT_TYPE


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
                chat_id=chat_ref(chat_id),
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

        async def send() -> None:
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
                raise error from exc

        await answer_or_defer(
            self.dispatcher, send, channel=CHANNEL, chat_id=str(chat_id), reply=reply, key=key
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
            await quietly(
                bot.edit_message_reply_markup(
                    chat_id=chat_ref(chat_id), message_id=previous, reply_markup=None
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
    await expire_idle(dispatcher)


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS settings (certifi's roots, or SSL_CERT_FILE), made once for every bot
    of the process: loading the roots takes about 50 ms, twice per bot, which a process of a
    hundred schools' bots paid at every start (10 s on the event loop)."""
    return httpx.create_ssl_context()


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
        worker = build_delivery(db, dispatcher, channels, dispatcher.clock)
        worker_holder[WORKER] = worker
        application.bot_data[WORKER] = worker
        application.bot_data[WORKER_TASK] = start_delivery(worker)

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

    bot = PollingBot(
        token,
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
        # python-telegram-bot's own pools (a pool for answers, one connection for polling), over
        # aiohttp: half the CPU of a call over httpx (`bot/channels/telegram_http.py`).
        request=request or AiohttpRequest(pool_size=256, tls=_tls()),
        get_updates_request=get_updates_request
        or request
        or AiohttpRequest(pool_size=1, tls=_tls()),
        rate_limiter=TelegramRateLimiter(
            telegram_limiter(shared_url=settings.rate_limit_url, token=token)
        ),
    )
    application = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
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
            _expire_idle,
            interval=IDLE_SWEEP_SECONDS,
            first=IDLE_SWEEP_SECONDS,
            name="expire-idle-conversations",
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
