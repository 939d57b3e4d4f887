"""A fake Telegram Bot API, in-process, at python-telegram-bot's request layer.

`FakeBotApi` answers Bot API methods the way Telegram does (realistic JSON, the same error codes
and descriptions), records every call, and can be told to fail the next call(s) of a method.
`FakeTelegramRequest` plugs it under a real `telegram.Bot` / `Application` (no socket at all);
`tests.fakes.bot_api_server` serves the very same `FakeBotApi` over HTTP on 127.0.0.1.
`UpdateFactory` builds the update payloads a test feeds in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "家访助手",
    "username": "jiafang_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
#: Unix time the fake stamps on messages (2026-11-16 10:00 Asia/Shanghai).
FAKE_DATE = 1794794400

JSONDict = dict[str, Any]


class Failure(StrEnum):
    """Ways a call can fail, as Telegram (or the network) fails it."""

    RETRY_AFTER = "retry_after"  # 429 Too Many Requests, parameters.retry_after
    BLOCKED = "blocked"  # 403 Forbidden: bot was blocked by the user
    CHAT_NOT_FOUND = "chat_not_found"  # 400 Bad Request: chat not found
    DEACTIVATED = "deactivated"  # 403 Forbidden: user is deactivated
    TIMEOUT = "timeout"  # the request left, no answer came back (it IS delivered here)
    NETWORK = "network"  # the connection failed before the request left


class TransportFailure(Exception):
    """Raised by `FakeBotApi.call` for failures below HTTP; each adapter maps it its own way."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.value)
        self.failure = failure


@dataclass(frozen=True)
class Call:
    method: str
    params: JSONDict


def is_message_call(method: str) -> bool:
    """The calls Telegram's flood limits count: messages sent (not edits, not chat actions)."""
    if method in {"copyMessage", "forwardMessage"}:
        return True
    return method.startswith("send") and method != "sendChatAction"


@dataclass
class RateLimit:
    """Telegram's flood limits, enforced and measured.

    At most `per_second` messages in any `window` seconds overall and `per_chat_per_second` in
    one chat; a message over either is answered 429 with `retry_after` = the whole seconds until
    there is room again (Telegram gives whole seconds). Every message call that arrives is
    recorded (`arrivals`, accepted or not), so a test can measure the sender's own pace
    (`peak`), not just what the fake let through.
    """

    per_second: int = 30
    per_chat_per_second: int = 1
    window: float = 1.0
    clock: Callable[[], float] = time.monotonic
    #: (arrival time, chat) of every message call, accepted or refused.
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    #: How many were answered 429.
    refused: int = 0
    _recent: deque[float] = field(default_factory=deque)
    _recent_by_chat: dict[str, deque[float]] = field(default_factory=dict)

    def admit(self, chat: str) -> int | None:
        """Record an arrival; None when accepted, else the `retry_after` to answer with."""
        now = self.clock()
        self.arrivals.append((now, chat))
        horizon = now - self.window
        recent = self._recent
        while recent and recent[0] <= horizon:
            recent.popleft()
        in_chat = self._recent_by_chat.setdefault(chat, deque())
        while in_chat and in_chat[0] <= horizon:
            in_chat.popleft()
        free_at = now
        if len(recent) >= self.per_second:
            free_at = max(free_at, recent[-self.per_second] + self.window)
        if len(in_chat) >= self.per_chat_per_second:
            free_at = max(free_at, in_chat[-self.per_chat_per_second] + self.window)
        if free_at > now:
            self.refused += 1
            return max(1, math.ceil(free_at - now))
        recent.append(now)
        in_chat.append(now)
        return None

    def peak(self, *, per_chat: bool = False) -> int:
        """The most message calls that arrived within any `window` seconds (overall, or in the
        busiest chat), refused ones included."""
        if per_chat:
            by_chat: dict[str, list[float]] = {}
            for at, chat in self.arrivals:
                by_chat.setdefault(chat, []).append(at)
            return max((_densest(times, self.window) for times in by_chat.values()), default=0)
        return _densest([at for at, _ in self.arrivals], self.window)


def _densest(times: list[float], window: float) -> int:
    """The most of `times` (ascending) inside any half-open interval `window` long."""
    best = start = 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class _Plan:
    failure: Failure
    times: int
    retry_after: int
    after: int


@dataclass
class FakeBotApi:
    """The Bot API's behaviour, transport-free: `await call(method, params) -> (status, body)`."""

    rate_limit: RateLimit | None = None
    calls: list[Call] = field(default_factory=list)
    _plans: dict[str, deque[_Plan]] = field(default_factory=dict)
    _messages: dict[tuple[int | str, int], JSONDict] = field(default_factory=dict)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _pending_updates: list[JSONDict] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _listeners: list[asyncio.Queue[Call]] = field(default_factory=list)
    #: The parameters of the last setWebhook (None: no webhook, or deleted since).
    webhook: JSONDict | None = None
    #: While an outage lasts (`outage`): (status answered, its end on `clock`).
    _outage: tuple[int, float] | None = None
    #: Calls answered with the outage's status so far.
    outage_answers: int = 0
    clock: Callable[[], float] = time.monotonic

    # -- test controls -----------------------------------------------------------------------

    def fail(
        self,
        method: str,
        failure: Failure,
        *,
        times: int = 1,
        retry_after: int = 3,
        after: int = 0,
    ) -> None:
        """Make `times` calls of `method` fail this way, after letting `after` calls succeed."""
        plan = _Plan(failure, times, retry_after, after)
        self._plans.setdefault(method, deque()).append(plan)

    def outage(self, seconds: float, *, status: int = 500) -> None:
        """Answer every call with `status` (a 5xx, as Telegram's front ends do when its servers
        are in trouble) for the next `seconds`; nothing is delivered meanwhile."""
        self._outage = (status, self.clock() + seconds)

    def in_outage(self) -> bool:
        if self._outage is not None and self.clock() >= self._outage[1]:
            self._outage = None
        return self._outage is not None

    def push_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates (an `update_id` is assigned unless given)."""
        if "update_id" not in update:
            update = {"update_id": next(self._update_ids), **update}
        self._pending_updates.append(update)
        self._new_update.set()
        return int(update["update_id"])

    def listen(self) -> asyncio.Queue[Call]:
        """A queue that receives every later call (benchmarks wait for replies with it)."""
        queue: asyncio.Queue[Call] = asyncio.Queue()
        self._listeners.append(queue)
        return queue

    def calls_of(self, *methods: str) -> list[Call]:
        return [c for c in self.calls if c.method in methods]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        return [
            str(c.params["text"])
            for c in self.calls_of("sendMessage")
            if chat_id is None or str(c.params["chat_id"]) == str(chat_id)
        ]

    def last_sent(self, chat_id: int | str | None = None) -> Call:
        sent = [
            c
            for c in self.calls_of("sendMessage")
            if chat_id is None or str(c.params["chat_id"]) == str(chat_id)
        ]
        assert sent, "the bot sent no message"
        return sent[-1]

    def last_keyboard(self, chat_id: int | str) -> JSONDict:
        """The bot's latest message in this chat that still shows inline buttons."""
        shown = [
            message
            for (chat, _), message in self._messages.items()
            if str(chat) == str(chat_id) and "reply_markup" in message
        ]
        assert shown, "no message with buttons in this chat"
        return max(shown, key=lambda m: int(m["message_id"]))

    def message(self, chat_id: int | str, message_id: int) -> JSONDict:
        """A message as it is shown now (after any edits)."""
        return self._messages[(_chat_id(chat_id), message_id)]

    def delivered(self) -> list[JSONDict]:
        """Every message that reached a chat (as shown now), in the order they arrived."""
        return sorted(self._messages.values(), key=lambda m: int(m["message_id"]))

    def clear(self) -> None:
        self.calls.clear()

    # -- the API ------------------------------------------------------------------------------

    async def call(self, method: str, params: Mapping[str, Any]) -> tuple[int, JSONDict]:
        call = Call(method, dict(params))
        self.calls.append(call)
        for queue in self._listeners:
            queue.put_nowait(call)
        if self._outage is not None and self.in_outage():
            self.outage_answers += 1
            status = self._outage[0]
            return _error(status, _SERVER_ERRORS.get(status, "Internal Server Error"))
        planned = self._take_plan(method)
        if planned is not None:
            failed = self._planned_failure(planned, call)
            if failed is not None:
                return failed
        if self.rate_limit is not None and is_message_call(method):
            retry_after = self.rate_limit.admit(str(call.params.get("chat_id", "")))
            if retry_after is not None:
                return _error(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
                )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        result: tuple[int, JSONDict] = await handler(call.params)
        return result

    def _take_plan(self, method: str) -> _Plan | None:
        plans = self._plans.get(method)
        if not plans:
            return None
        plan = plans[0]
        if plan.after > 0:
            plan.after -= 1
            return None
        plan.times -= 1
        if plan.times <= 0:
            plans.popleft()
        return plan

    def _planned_failure(self, plan: _Plan, call: Call) -> tuple[int, JSONDict] | None:
        if plan.failure is Failure.RETRY_AFTER:
            return _error(
                429,
                f"Too Many Requests: retry after {plan.retry_after}",
                retry_after=plan.retry_after,
            )
        if plan.failure is Failure.BLOCKED:
            return _error(403, "Forbidden: bot was blocked by the user")
        if plan.failure is Failure.CHAT_NOT_FOUND:
            return _error(400, "Bad Request: chat not found")
        if plan.failure is Failure.DEACTIVATED:
            return _error(403, "Forbidden: user is deactivated")
        if plan.failure is Failure.TIMEOUT and call.method.startswith("send"):
            self._store_message(call.params)  # it arrived; only the answer was lost
        raise TransportFailure(plan.failure)

    def _store_message(self, params: Mapping[str, Any]) -> JSONDict:
        chat_id = _chat_id(params["chat_id"])
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "date": FAKE_DATE,
            "chat": {"id": chat_id, "type": "private", "first_name": "用户"},
            "from": BOT_USER,
        }
        if "text" in params:
            message["text"] = params["text"]
        if "caption" in params:
            message["caption"] = params["caption"]
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        return message

    async def _m_getMe(self, params: JSONDict) -> tuple[int, JSONDict]:
        return _ok(BOT_USER)

    async def _m_deleteWebhook(self, params: JSONDict) -> tuple[int, JSONDict]:
        self.webhook = None
        return _ok(True)

    async def _m_setWebhook(self, params: JSONDict) -> tuple[int, JSONDict]:
        if not str(params.get("url", "")).startswith(("https://", "http://")):
            return _error(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        self.webhook = dict(params)
        return _ok(True)

    async def _m_setMyCommands(self, params: JSONDict) -> tuple[int, JSONDict]:
        return _ok(True)

    async def _m_answerCallbackQuery(self, params: JSONDict) -> tuple[int, JSONDict]:
        return _ok(True)

    async def _m_sendMessage(self, params: JSONDict) -> tuple[int, JSONDict]:
        if not str(params.get("text", "")).strip():
            return _error(400, "Bad Request: message text is empty")
        if len(str(params["text"])) > 4096:
            return _error(400, "Bad Request: message is too long")
        return _ok(self._store_message(params))

    async def _m_sendPhoto(self, params: JSONDict) -> tuple[int, JSONDict]:
        message = self._store_message(params)
        message["photo"] = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 1, "height": 1}]
        return _ok(message)

    async def _m_sendDocument(self, params: JSONDict) -> tuple[int, JSONDict]:
        message = self._store_message(params)
        message["document"] = {"file_id": "doc-1", "file_unique_id": "d1"}
        return _ok(message)

    async def _m_editMessageText(self, params: JSONDict) -> tuple[int, JSONDict]:
        return self._edit(params, text=str(params["text"]))

    async def _m_editMessageReplyMarkup(self, params: JSONDict) -> tuple[int, JSONDict]:
        return self._edit(params, text=None)

    def _edit(self, params: JSONDict, *, text: str | None) -> tuple[int, JSONDict]:
        key = (_chat_id(params["chat_id"]), int(params["message_id"]))
        message = self._messages.get(key)
        if message is None:  # a message from before this fake started: accept it as Telegram would
            message = {
                "message_id": key[1],
                "date": FAKE_DATE,
                "chat": {"id": key[0], "type": "private", "first_name": "用户"},
                "from": BOT_USER,
                "text": "",
            }
        markup = params.get("reply_markup")
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        new_text = message.get("text") if text is None else text
        if new_text == message.get("text") and new_markup == message.get("reply_markup"):
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        updated = {k: v for k, v in message.items() if k != "reply_markup"}
        updated["text"] = new_text
        updated["edit_date"] = FAKE_DATE + 1
        if new_markup is not None:
            updated["reply_markup"] = new_markup
        self._messages[key] = updated
        return _ok(updated)

    async def _m_getUpdates(self, params: JSONDict) -> tuple[int, JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        # Updates below the offset are confirmed: Telegram forgets them.
        self._pending_updates = [u for u in self._pending_updates if u["update_id"] >= offset]
        if not self._pending_updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return _ok(self._pending_updates[:limit])


_SERVER_ERRORS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _chat_id(value: Any) -> int | str:
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else text


def _ok(result: Any) -> tuple[int, JSONDict]:
    return 200, {"ok": True, "result": result}


def _error(code: int, description: str, *, retry_after: int | None = None) -> tuple[int, JSONDict]:
    body: JSONDict = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return code, body


class FakeTelegramRequest(BaseRequest):
    """python-telegram-bot's request seam, answered by a `FakeBotApi` in-process."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        try:
            status, body = await self.api.call(api_method, params)
        except TransportFailure as exc:
            if exc.failure is Failure.TIMEOUT:
                raise TimedOut("Timed out") from exc
            raise NetworkError("httpx.ConnectError: All connection attempts failed") from exc
        return status, json.dumps(body).encode()


@dataclass(frozen=True)
class TgUser:
    id: int
    first_name: str = "测试"
    language_code: str | None = "zh-hans"

    def to_dict(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


class UpdateFactory:
    """Update payloads as Telegram sends them (private chats unless told otherwise)."""

    def __init__(self, start: int = 100) -> None:
        self._ids = itertools.count(start)
        self._message_ids = itertools.count(1)

    def _message(self, user: TgUser, chat: JSONDict | None = None, **content: Any) -> JSONDict:
        return {
            "message_id": next(self._message_ids),
            "date": FAKE_DATE,
            "chat": chat or {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.to_dict(),
            **content,
        }

    def _update(self, update_id: int | None, **body: Any) -> JSONDict:
        return {"update_id": next(self._ids) if update_id is None else update_id, **body}

    def text(self, user: TgUser, text: str, *, update_id: int | None = None) -> JSONDict:
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._update(update_id, message=self._message(user, **content))

    def group_text(self, user: TgUser, text: str, *, group_id: int = -100123) -> JSONDict:
        chat = {"id": group_id, "type": "supergroup", "title": "三(2)班家长群"}
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._update(None, message=self._message(user, chat=chat, **content))

    def contact(
        self, user: TgUser, phone: str, *, owner: int | None = None, update_id: int | None = None
    ) -> JSONDict:
        contact: JSONDict = {"phone_number": phone, "first_name": user.first_name}
        owner_id = user.id if owner is None else owner
        if owner_id:
            contact["user_id"] = owner_id
        return self._update(update_id, message=self._message(user, contact=contact))

    def sticker(self, user: TgUser) -> JSONDict:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._update(None, message=self._message(user, sticker=sticker))

    def callback(
        self,
        user: TgUser,
        data: str,
        *,
        message_id: int,
        message_text: str = "",
        keyboard: JSONDict | None = None,
        update_id: int | None = None,
    ) -> JSONDict:
        message: JSONDict = {
            "message_id": message_id,
            "date": FAKE_DATE,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": BOT_USER,
            "text": message_text,
        }
        if keyboard is not None:
            message["reply_markup"] = keyboard
        query = {
            "id": f"cq{next(self._ids)}",
            "from": user.to_dict(),
            "chat_instance": "ci-1",
            "message": message,
            "data": data,
        }
        return self._update(update_id, callback_query=query)
