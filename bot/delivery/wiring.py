"""The outbox worker wired to the conversation engine, and the sweep that ends idle conversations:
what every way of running the bot starts (the console, WeCom alone, Telegram's application)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.channels.base import Channel
from bot.delivery.worker import DeliveryWorker
from handlers.dispatcher import Dispatcher
from handlers.notice.progress import progress_hook
from models.db.columns import utcnow
from models.db.engine import Database

log = logging.getLogger(__name__)

#: How often conversations idle past the timeout are ended (with a polite message).
IDLE_SWEEP_SECONDS = 60.0


def build_delivery(
    db: Database,
    dispatcher: Dispatcher,
    channels: Mapping[str, Channel],
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryWorker:
    """An outbox worker for `channels` and the dispatcher's school (its rows only), woken
    whenever the dispatcher queues something."""
    worker = DeliveryWorker(db, channels=channels, clock=clock, find_school=dispatcher.school_id)
    worker.metrics_school = dispatcher.school_name or ""
    worker.after_round = progress_hook(db, clock, school=lambda: worker.school_id)
    dispatcher.on_outbox = worker.wake
    return worker


def start_delivery(worker: DeliveryWorker) -> asyncio.Task[None]:
    """The worker's loop as a task of the running event loop (`worker.stop()` ends it)."""
    return asyncio.create_task(worker.run_forever(), name="outbox-delivery")


async def expire_idle(dispatcher: Dispatcher) -> int:
    """End the conversations idle past the timeout (each person is told); how many ended."""
    ended = await dispatcher.expire_idle()
    if ended:
        log.info("ended %d idle conversation(s)", ended)
    return ended


async def sweep_idle(dispatcher: Dispatcher, *, every: float = IDLE_SWEEP_SECONDS) -> None:
    """End idle conversations every `every` seconds, until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await expire_idle(dispatcher)
        except Exception:
            log.exception("idle conversation sweep failed; trying again later")
