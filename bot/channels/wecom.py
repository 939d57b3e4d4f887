"""WeChat Work (企业微信) for staff: the school's self-built app, over the same dispatcher.

Inbound, the callback endpoint (`bot.channels.wecom_callback`) hands each decrypted message to
`WecomAdapter.on_message`: text (commands with or without the slash, and the Chinese keywords
家访 / 突发 / 通知 / 指标), a picture, or a click on a template card's button
(`template_card_event`, whose `EventKey` is the button's data). A member the roster names in its
企业微信账号 column is recognised on their first message.

Outbound, a reply becomes:

* a **template card** (`button_interaction`) when the whole reply fits one: one to six
  buttons with short labels, a short first line (the title) and a short rest. A click updates
  the card to show what was chosen (`update_template_card`, `replace_name`);
* **numbered text** (`1. 上门家访` … `回复 1、2 或 3`) otherwise: the dispatcher reads a typed
  number as that button on this channel (on cards too), so a card is never the only way;
* a picture (the digest's chart) uploaded as a temporary image and sent after the text.

WeCom drops messages above 30 a minute or 1,000 an hour to one member without a word, so every
message the app sends goes through one `RateLimiter` with those two windows per member: the
outbox waits for room (or postpones the row), and a live answer that would not fit goes to the
outbox instead of being lost.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.channels.base import (
    RetryableSendError,
    SendError,
    UnknownSendOutcome,
    UserLocks,
    answer_or_defer,
)
from bot.channels.text import capped, utf8_size
from bot.channels.text import split_text as split_pieces
from bot.channels.wecom_api import SentMessage, WecomApi, WecomError
from bot.channels.wecom_errors import INVALID_RECIPIENT, send_error
from bot.delivery.pacing import RateLimiter, Throttled, pace_delivery_piece
from bot.delivery.shared_pacing import shared_or_local
from bot.roster.wecom_sync import wecom_key
from handlers.actions import parse_action
from handlers.dispatcher import Dispatcher, Response
from handlers.i18n import Translator, translator
from handlers.types import Attachment, Button, FileRef, Inbound, Reply
from models.db.columns import utcnow

log = logging.getLogger(__name__)

CHANNEL = "wecom"
#: WeCom's limits for messages to one member (beyond them it drops messages silently).
MEMBER_WINDOWS = ((30, 60.0), (1000, 3600.0))
#: The app's overall pace and the spacing between two messages to one member.
PER_SECOND = 20.0
PER_MEMBER_PER_SECOND = 2.0
#: A button_interaction card holds at most six buttons.
MAX_CARD_BUTTONS = 6
#: What fits a card on a phone (WeCom's guidance: title 26 characters, sub-title 112, button 10).
CARD_TITLE_LIMIT = 26
CARD_TEXT_LIMIT = 112
BUTTON_LABEL_LIMIT = 10
#: The text that replaces a clicked card's buttons.
REPLACE_NAME_LIMIT = 20
#: A text message holds 2,048 bytes; pieces stay a little under.
TEXT_LIMIT_BYTES = 2000
#: A member's text is held to 12 KiB, longer is refused with a note, never read in part. WeCom's
#: 2,048 bytes bind what an app sends; what a member types may be longer, and a notice's body
#: (3,000 characters, 9,000 bytes) must fit in one message.
TEXT_IN_LIMIT_BYTES = 12 * 1024
#: How long a later piece of an outbox message waits for room before the send gives up.
MAX_PIECE_WAIT = 60.0


def wecom_limiter(
    monotonic: Callable[[], float] = time.monotonic,
    *,
    shared_url: str | None = None,
    app: str = "",
) -> RateLimiter:
    """The app's limiter; with `shared_url` (RATE_LIMIT_URL) one budget in Redis for every
    worker process sending as the app `app` (corp id and agent id), members' windows included."""
    return shared_or_local(
        shared_url,
        f"wecom:{app}",
        PER_SECOND,
        PER_MEMBER_PER_SECOND,
        key_windows=MEMBER_WINDOWS,
        monotonic=monotonic,
    )


class MemberLimit(RetryableSendError):
    """The member's window is full: this message would be dropped by WeCom if sent now."""


# -- rendering ----------------------------------------------------------------------------------


def numbers_hint(t: Translator, count: int) -> str:
    if count == 1:
        return t._("回复 1 即可选择。")
    if count <= 3:
        listed = "、".join(str(n) for n in range(1, count))
        return t._("回复 {listed} 或 {last}。").format(listed=listed, last=count)
    return t._("回复 1–{last} 中的数字。").format(last=count)


def numbered_text(t: Translator, reply: Reply) -> str:
    """The reply's text with its buttons as numbered lines, in the dispatcher's order."""
    labels = [button.label for button in reply.flat_buttons()]
    if not labels:
        return reply.text
    lines = [reply.text, ""]
    lines += [f"{number}. {label}" for number, label in enumerate(labels, 1)]
    lines += ["", numbers_hint(t, len(labels))]
    return "\n".join(lines)


def card_fits(reply: Reply) -> bool:
    buttons = reply.flat_buttons()
    return 0 < len(buttons) <= MAX_CARD_BUTTONS and all(
        len(button.label) <= BUTTON_LABEL_LIMIT for button in buttons
    )


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    return split_pieces(text, limit, size=utf8_size)


@dataclass(frozen=True)
class Piece:
    """One API call: a text, a card, or an image."""

    kind: str  # "text", "card", "image" (uploaded now) or "media" (kept on WeCom)
    text: str = ""
    card: dict[str, Any] | None = None
    image: Attachment | None = None
    #: For "media": WeCom's media_id and whether it is a photo or a file.
    media: FileRef | None = None


def new_task_id() -> str:
    return f"jf-{uuid.uuid4().hex}"


def card_of(t: Translator, reply: Reply) -> dict[str, Any]:
    """A button_interaction card for `reply` (which `card_fits` and `text_fits_card`)."""
    buttons = reply.flat_buttons()
    title, _sep, rest = reply.text.strip().partition("\n")
    if has_actions(reply):
        hint = ""  # typed numbers answer a conversation's question, not an older message
    elif len(buttons) == 1:
        hint = t._("（也可以回复 1）")
    else:
        hint = t._("（也可以按顺序回复 1–{last}）").format(last=len(buttons))
    return button_card(title, f"{rest.strip()}\n{hint}".strip(), buttons)


def button_card(title: str, text: str, buttons: list[Button]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "task_id": new_task_id(),
        "main_title": {"title": title},
        "button_list": [
            {"text": button.label, "style": 1, "key": button.data} for button in buttons
        ],
    }
    if text:
        card["sub_title_text"] = text
    return card


def has_actions(reply: Reply) -> bool:
    """Whether the reply carries action buttons (`handlers.actions`: 回复家长, 已电话联系 …),
    which only a click can press: a typed number answers the current conversation."""
    return any(parse_action(data) for data in reply.choices())


def action_cards(reply: Reply) -> list[Piece]:
    """The action buttons of a reply too long for one card, on cards of their own (six at
    most each), titled with the start of the text so that they say what they act on."""
    buttons = reply.flat_buttons()
    first_line = reply.text.strip().partition("\n")[0]
    title = (
        first_line
        if len(first_line) <= CARD_TITLE_LIMIT
        else first_line[: CARD_TITLE_LIMIT - 1] + "…"
    )
    return [
        Piece("card", card=button_card(title, "", buttons[start : start + MAX_CARD_BUTTONS]))
        for start in range(0, len(buttons), MAX_CARD_BUTTONS)
    ]


def text_fits_card(text: str) -> bool:
    title, _sep, rest = text.strip().partition("\n")
    return 0 < len(title) <= CARD_TITLE_LIMIT and len(rest.strip()) <= CARD_TEXT_LIMIT


def pieces(t: Translator, reply: Reply) -> list[Piece]:
    """The API calls that show `reply` to a member, in order: files kept on WeCom (an incident's
    photo, by its media_id; other channels' files cannot be sent), then one card when the whole
    reply fits one, else the text with its choices numbered (action buttons, which typing cannot
    press, on cards after the text); then the picture, if any."""
    result = [Piece("media", media=f) for f in reply.files if f.channel == CHANNEL]
    if reply.buttons and card_fits(reply) and text_fits_card(reply.text):
        result.append(Piece("card", card=card_of(t, reply)))
    elif has_actions(reply):
        result += [Piece("text", text=p) for p in split_text(reply.text)]
        result += action_cards(reply)
    else:
        result += [Piece("text", text=p) for p in split_text(numbered_text(t, reply))]
    if reply.image is not None:
        result.append(Piece("image", image=reply.image))
    return result


# -- the outbound channel ---------------------------------------------------------------------


class WecomChannel:
    """Sends replies to members through the self-built app; a `Channel` for the outbox."""

    name = CHANNEL
    rate_per_second = PER_SECOND
    rate_per_chat_per_second = PER_MEMBER_PER_SECOND

    def __init__(
        self, api: WecomApi, *, language: str = "zh", limiter: RateLimiter | None = None
    ) -> None:
        self.api = api
        self.limiter = limiter or wecom_limiter()
        self.t = translator(language)

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """Deliver an outbox row (paced by the worker's booking); None: WeCom messages cannot
        be edited later, so there is no id worth keeping."""
        await self._send_pieces(chat_id, reply)
        return None

    async def send_live(self, userid: str, reply: Reply) -> None:
        """An answer to someone who just wrote: at once, unless their window has no room for
        all of it (`MemberLimit`, so the caller hands it to the outbox whole)."""
        needed = len(pieces(self.t, reply))
        if self.limiter.key_window_room(userid) < needed:
            wait = max(self.limiter.key_window_full(userid), 1.0)
            raise MemberLimit(f"no room for {needed} messages to this member", retry_after=wait)
        await self._send_pieces(userid, reply)

    async def _send_pieces(self, userid: str, reply: Reply) -> None:
        for index, piece in enumerate(pieces(self.t, reply)):
            try:
                await self._paced(userid)
                await self._call(userid, piece)
            except WecomError as exc:
                error = send_error(exc)
                if index and not isinstance(error, UnknownSendOutcome):
                    # The first pieces were delivered: sending the whole reply again would
                    # repeat them, so the rest is reported as not known to have arrived.
                    raise UnknownSendOutcome(f"piece {index + 1}: {error}") from exc
                raise error from exc
            except MemberLimit as exc:
                if index:
                    raise UnknownSendOutcome(f"piece {index + 1}: {exc}") from exc
                raise

    async def _paced(self, userid: str) -> None:
        try:
            if await pace_delivery_piece(self.limiter, userid, max_wait=MAX_PIECE_WAIT):
                return
        except Throttled as exc:
            raise MemberLimit(str(exc), retry_after=exc.seconds) from exc
        wait = self.limiter.key_window_full(userid)
        if wait > 0:
            raise MemberLimit(f"member window full for {wait:.0f} s", retry_after=wait)
        self.limiter.note(userid)

    async def _call(self, userid: str, piece: Piece) -> None:
        sent: SentMessage | None = None
        if piece.kind == "card" and piece.card is not None:
            sent = await self.api.send_template_card(userid, piece.card)
        elif piece.kind == "media" and piece.media is not None:
            if piece.media.kind == "photo":
                sent = await self.api.send_image(userid, piece.media.ref)
            else:
                sent = await self.api.send_file(userid, piece.media.ref)
        elif piece.kind == "image" and piece.image is not None:
            if piece.image.data is None:
                return  # the picture is gone (its media row was removed): the text was sent
            media_id = await self.api.upload_image(
                piece.image.filename, piece.image.data, piece.image.content_type
            )
            sent = await self.api.send_image(userid, media_id)
        else:
            sent = await self.api.send_text(userid, piece.text)
        if sent is not None and userid.lower() in {u.lower() for u in sent.invalid_users}:
            # WeCom answers "ok" but names the member it could not reach (left the school,
            # outside the app's visible range).
            raise WecomError(INVALID_RECIPIENT, f"not a member the app reaches: {userid}")


# -- inbound ------------------------------------------------------------------------------------

#: Finds (or makes, from the roster's 企业微信账号) the account of a member who writes.
Binder = Callable[[str, datetime], Awaitable[object]]


def callback_to_inbound(message: dict[str, Any]) -> Inbound | None:
    """A decrypted callback as an `Inbound`; None for what is not someone saying something
    (entering the app, subscribing) or what the bot cannot read (voice, video, location). A text
    over `TEXT_IN_LIMIT_BYTES` is cut and marked (`Inbound.text_cut`)."""
    # WeCom user ids are case-insensitive; accounts keep them lower-cased (`wecom_key`).
    userid = wecom_key(str(message.get("FromUserName") or ""))
    kind = str(message.get("MsgType") or "")
    key = str(message.get("update_key") or "") or None
    base: dict[str, Any] = {"channel": CHANNEL, "user_id": userid, "chat_id": userid}
    if kind == "text":
        text, cut = capped(str(message.get("Content") or ""), TEXT_IN_LIMIT_BYTES, size=utf8_size)
        return Inbound(**base, text=text, text_cut=cut, update_key=key)
    if kind == "image":
        return Inbound(**base, photo=str(message.get("MediaId") or ""), update_key=key)
    if kind == "event" and str(message.get("Event") or "").lower() == "template_card_event":
        return Inbound(
            **base,
            callback=str(message.get("EventKey") or ""),
            update_key=key,
            extra={"response_code": str(message.get("ResponseCode") or "")},
        )
    return None


def is_ignored_event(message: dict[str, Any]) -> bool:
    return str(message.get("MsgType") or "") == "event"


class WecomAdapter:
    """Callback messages in, dispatcher, answers out (cards updated after a click)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        channel: WecomChannel,
        *,
        bind: Binder | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.dispatcher = dispatcher
        self.channel = channel
        self.bind = bind
        self.clock = clock
        self._lock = UserLocks()

    async def on_message(self, message: dict[str, Any]) -> None:
        inbound = callback_to_inbound(message)
        userid = wecom_key(str(message.get("FromUserName") or ""))
        if not userid:
            return
        async with self._lock(userid):
            if inbound is None:
                if not is_ignored_event(message):
                    await self._answer(
                        userid,
                        Reply(
                            self.channel.t._(
                                "抱歉，我目前只能读懂文字、图片和卡片上的按钮。"
                                "请用文字告诉我，或发送“帮助”查看可以做什么。"
                            )
                        ),
                        key=f"unreadable:{message.get('update_key')}",
                    )
                return
            if self.bind is not None:
                await self.bind(userid, self.clock())
            response = await self.dispatcher.handle(inbound)
            await self._render(inbound, response)

    async def _render(self, inbound: Inbound, response: Response) -> None:
        userid = inbound.user_id
        code = str(inbound.extra.get("response_code") or "")
        # The card shows the choice once it was taken (a conversation's button) or acted on
        # (an action button); a refused click (an old card) leaves the card as it was.
        if inbound.callback is not None and code and (response.chosen or response.action):
            await self._mark_card(userid, code, response)
        for index, reply in enumerate(response.replies):
            await self._answer(userid, reply, key=f"reply:{inbound.update_key}:{index}")

    async def _mark_card(self, userid: str, response_code: str, response: Response) -> None:
        """The clicked card shows what was chosen instead of its buttons (once: WeCom accepts
        one update per response code)."""
        t = self.channel.t
        label = response.chosen or t._("已处理")
        try:
            await self.channel.api.update_template_card(
                [userid], response_code, replace_name=f"✓ {label}"[:REPLACE_NAME_LIMIT]
            )
        except WecomError as exc:
            log.info("wecom: the clicked card was not updated (%s)", exc.errcode)

    async def _answer(self, userid: str, reply: Reply, *, key: str) -> None:
        """Send an answer now; when the member's window is full or WeCom is busy, the outbox
        sends it later (the conversation has moved on: the answer must not be lost)."""
        try:
            await answer_or_defer(
                self.dispatcher,
                lambda: self.channel.send_live(userid, reply),
                channel=CHANNEL,
                chat_id=userid,
                reply=reply,
                key=key,
            )
        except SendError as exc:
            log.warning("wecom answer not delivered: %s", type(exc).__name__)
