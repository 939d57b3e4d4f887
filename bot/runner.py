"""`python -m bot run`: Telegram when a token is configured, otherwise the console on a demo school.

With no configuration at all (a fresh clone, SQLite `jiafang.db` in the working directory) the
bot migrates the database, seeds the demo school if there is none, and opens a terminal chat, so
a newcomer sees it work before creating any bot account. Log lines go to stderr, the chat to
stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from sqlmodel import select

from bot.db import Database
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from handlers.registry import all_flows
from models.base import utcnow
from models.school import School

if TYPE_CHECKING:
    from bot.channels.base import Channel
    from bot.delivery import DeliveryWorker

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: How often conversations idle past the timeout are ended (with a polite message).
IDLE_SWEEP_SECONDS = 60.0
#: Delivery rounds when the console asks for what is due to be shown now.
DELIVERY_ROUNDS = 5


def build_dispatcher(settings: Settings, db: Database, clock: Clock = utcnow) -> Dispatcher:
    """The conversation engine with every flow, configured from `settings` (for any channel)."""
    return Dispatcher(
        db,
        all_flows(),
        zone=settings.zone,
        school_name=settings.school_name,
        timeout=timedelta(minutes=settings.conversation_timeout_minutes),
        bot_username=settings.telegram_bot_username,
        clock=clock,
    )


def build_delivery(
    db: Database,
    dispatcher: Dispatcher,
    channels: Mapping[str, Channel],
    clock: Clock = utcnow,
) -> DeliveryWorker:
    """An outbox worker for `channels`, woken whenever the dispatcher queues something."""
    from bot.delivery import DeliveryWorker

    worker = DeliveryWorker(db, channels=channels, clock=clock)
    dispatcher.on_outbox = worker.wake
    return worker


async def deliver_due(worker: DeliveryWorker) -> None:
    """Send what is due now, a few rounds at most (a round handles one batch)."""
    for _ in range(DELIVERY_ROUNDS):
        if not await worker.run_once():
            return


async def sweep_idle(dispatcher: Dispatcher, *, every: float = IDLE_SWEEP_SECONDS) -> None:
    """End idle conversations every `every` seconds, until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            ended = await dispatcher.expire_idle()
        except Exception:
            log.exception("idle conversation sweep failed; trying again later")
        else:
            if ended:
                log.info("ended %d idle conversation(s)", ended)


async def ensure_school(
    settings: Settings, db: Database, *, now: datetime, out: TextIO | None = None
) -> bool:
    """Seed the demo school when the database has no school at all; True if it did."""
    async with db.session() as session:
        if (await session.exec(select(School.id).limit(1))).first() is not None:
            return False
    from bot.demo import seed_demo

    summary = await seed_demo(db, school_name=settings.school_name, now=now)
    print("数据库里还没有学校，已创建一所示范学校供试用。", file=out or sys.stdout)
    print(summary.describe(), file=out or sys.stdout)
    return True


async def run_console(
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    clock: Clock = utcnow,
) -> int:
    """The console channel with outbox delivery and the idle sweep; returns at EOF or /quit."""
    from bot.channels.console import ConsoleChannel

    db = Database(settings.database_url)
    try:
        await ensure_school(settings, db, now=clock(), out=stdout)
        dispatcher = build_dispatcher(settings, db, clock)
        console = ConsoleChannel(
            dispatcher, stdin=stdin, stdout=stdout, language=settings.default_language
        )
        worker = build_delivery(db, dispatcher, {console.name: console}, clock)
        console.flush = lambda: deliver_due(worker)
        delivery = asyncio.create_task(worker.run_forever(), name="outbox-delivery")
        sweeper = asyncio.create_task(sweep_idle(dispatcher), name="idle-sweep")
        try:
            await console.run()
        finally:
            sweeper.cancel()
            worker.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(delivery, sweeper, return_exceptions=True)
    finally:
        await db.dispose()
    return 0


def run(settings: Settings) -> int:
    """Run the bot until it is stopped; the exit status for the CLI."""
    token = settings.telegram_token  # refuses a placeholder token before anything starts
    # Alembic reports every step at INFO; on the console those lines would land in the chat.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from bot.migrate import upgrade  # imported here: alembic logs while it loads

    upgrade(settings.database_url)
    if token:
        from bot.channels.telegram import run_telegram

        db = Database(settings.database_url)
        run_telegram(settings, db, build_dispatcher(settings, db))
        return 0
    try:
        return asyncio.run(run_console(settings))
    except KeyboardInterrupt:
        print("\n再见！")
        return 0
