"""What a refused WeCom call means for the outbox: retry later, give up, or never resend blindly.

`WecomApi` has already refreshed the token once and retried busy answers (-1, 45009) by the time
an error reaches a channel; what is left is classified here for the delivery worker.
"""

from __future__ import annotations

from bot.channels.base import (
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownSendOutcome,
)
from bot.channels.wecom_api import BUSY_ERRORS, TOKEN_ERRORS, WecomError, WecomTimeout
from models.outbox.outcomes import FailureReason

#: The recipient is not (or no longer) someone the app may write to.
NOT_FOUND_ERRORS = frozenset(
    {
        40003,  # invalid userid
        46004,  # the user does not exist
        60111,  # userid not found
        81013,  # no valid recipient (user, party and tag all invalid)
        84003,  # no valid parent or student (school notices)
    }
)
#: What the channels raise when WeCom accepted a call but named the recipient invalid.
INVALID_RECIPIENT = 81013
#: The member is outside the app's visible range, or has left / disabled the app.
BLOCKED_ERRORS = frozenset({60020, 81011, 82001, 60011})
#: Back-off when WeCom stays busy after the client's own retries.
BUSY_RETRY_AFTER = 30.0


def send_error(error: WecomError) -> SendError:
    """The `SendError` that makes the delivery worker do the right thing with `error`."""
    if isinstance(error, WecomTimeout):
        return UnknownSendOutcome(str(error))
    if error.errcode is None:
        # No answer: only a failure to connect proves the request never left. WeCom has no
        # idempotency key for messages, so anything else may have been delivered already.
        if error.errmsg in {"ConnectionError", "ConnectTimeout", "SSLError", "ProxyError"}:
            return RetryableSendError(str(error))
        return UnknownSendOutcome(str(error))
    if error.errcode in BUSY_ERRORS or error.errcode in TOKEN_ERRORS:
        return RetryableSendError(str(error), retry_after=BUSY_RETRY_AFTER)
    if error.errcode in NOT_FOUND_ERRORS:
        return PermanentSendError(str(error), FailureReason.CHAT_NOT_FOUND)
    if error.errcode in BLOCKED_ERRORS:
        return PermanentSendError(str(error), FailureReason.BLOCKED)
    return PermanentSendError(str(error), FailureReason.REJECTED)
