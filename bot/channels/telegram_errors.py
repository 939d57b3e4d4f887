"""Telegram's errors sorted into the outbox's three classes: retry, permanent, unknown outcome."""

from __future__ import annotations

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.base import (
    PermanentSendError,
    RetryableSendError,
    UnknownSendOutcome,
)
from bot.channels.telegram_pacing import (
    retry_after_seconds,
)
from models.outbox.outcomes import FailureReason

#: Transport errors (httpx's, `HTTPXRequest`; aiohttp's, `telegram_http.AiohttpRequest`) raised
#: before the request reached Telegram: sending again cannot repeat it.
_NOT_SENT = (
    "ConnectError",
    "ConnectTimeout",
    "PoolTimeout",
    "ProxyError",
    "UnsupportedProtocol",
    "ClientConnectorError",
    "ClientConnectorDNSError",
    "ClientConnectorCertificateError",
    "ClientConnectorSSLError",
    "ClientProxyConnectionError",
    "ConnectionTimeoutError",
    "InvalidUrlClientError",
    "NonHttpUrlClientError",
)
#: Any other transport error may have come after the request reached Telegram (httpx's
#: ReadTimeout, RemoteProtocolError; aiohttp's SocketTimeoutError, ServerDisconnectedError,
#: ClientOSError …): the message is not sent again blindly.
_TRANSPORTS = ("httpx", "aiohttp")


def _transport_name(exc: NetworkError) -> str:
    """The transport's error under PTB's (its cause, or named in the text as `httpx.Name: …` /
    `aiohttp.Name: …`)."""
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.split(".")[0] in _TRANSPORTS:
        return type(cause).__name__
    text = str(exc)
    for transport in _TRANSPORTS:
        if text.startswith(f"{transport}."):
            return text[len(transport) + 1 :].split(":", 1)[0]
    if text.startswith("Pool timeout"):  # PTB: "… Request was *not* sent to Telegram."
        return "PoolTimeout"
    return ""


def may_have_left(exc: NetworkError) -> bool:
    """Whether a failed request may have reached Telegram (then it must not be sent again)."""
    name = _transport_name(exc)
    if name in _NOT_SENT:
        return False
    # Any other transport error, and a timeout we cannot place, is taken as after sending; a
    # network error without a transport's name is an answer from Telegram's side (502 Bad
    # Gateway …): nothing was accepted.
    return bool(name) or isinstance(exc, TimedOut)


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
