"""Polling that an unreadable update cannot stop.

python-telegram-bot reads a whole `getUpdates` batch at once. When one update in it cannot be
read (a Bot API version skew, a proxy at `TELEGRAM_BASE_URL` that mangles one), the batch fails,
the library logs it whole at CRITICAL — other people's messages with it — and asks for the same
batch again, forever. `PollingBot` reads each update on its own first: an unreadable one is
recorded by its id only, counted (`telegram_updates_skipped`), and left out; the next request
starts past it, so Telegram forgets it, and polling goes on with everyone else's messages.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

from bot import metrics

log = logging.getLogger(__name__)

SKIPPED = "telegram_updates_skipped"


def read_update(data: object, bot: ExtBot[Any]) -> Update | None:
    """The update `data` holds, or None when the library cannot read it: then it is counted
    (`telegram_updates_skipped`) and logged by its id only, never its content. Polling and the
    webhook both read every update through here."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    try:
        if not isinstance(data, dict):
            raise TypeError(type(data).__name__)
        return Update.de_json(data, bot)
    except Exception as error:  # whatever the library cannot read; never its content
        total = metrics.count(SKIPPED)
        log.warning(
            "telegram update %s skipped: it could not be read (%s); %d skipped so far",
            update_id if isinstance(update_id, int) else "without an id",
            type(error).__name__,
            total,
        )
        return None


class PollingBot(ExtBot[None]):
    """An `ExtBot` whose `getUpdates` leaves out, and moves past, the updates it cannot read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_offset: int | None = None

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> Any:
        if self._next_offset is not None and (offset is None or offset < self._next_offset):
            offset = self._next_offset  # past an unreadable update that ended the last batch
        return await super().get_updates(offset, *args, **kwargs)

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return [update for update in result if self._readable(update)]
        return result

    def _readable(self, data: object) -> bool:
        if read_update(data, self) is not None:
            return True
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if isinstance(update_id, int):
            self._next_offset = max(self._next_offset or 0, update_id + 1)
        return False
