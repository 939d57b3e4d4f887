"""One delivery worker as an OS process of its own, for the fault benchmark (`benchmarks/faults.py`).

It builds what the bot builds for its outbox: the real `DeliveryWorker` over the real database,
with the real `TelegramChannel` (python-telegram-bot's `ExtBot` and HTTP stack, with the bot's
`TelegramRateLimiter`, as `build_application` sets it up) and/or the real `WecomChannel` (the
`WecomApi` facade over wechatpy, its token shared through the database), pointed at local fakes.
Nothing else of the bot runs: no polling, no scheduler, no web server.

    python -m benchmarks.fault_worker --database-url URL --telegram-base-url http://127.0.0.1:N/bot
    python -m benchmarks.fault_worker --database-url URL --wecom-base-url http://127.0.0.1:N/cgi-bin/

It runs until SIGTERM or SIGINT (then finishes the rows it claimed, as the bot does when it
stops) or until it is killed. Its log goes to stderr, each line starting with the Unix time, so
the benchmark can place events (a WeCom token fetched) against what it did to the fakes. On
PostgreSQL its connections carry the application name `APPLICATION_NAME`, so the benchmark can
find and terminate them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from telegram.ext import ExtBot

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel, quiet_transport_logs
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_pacing import TelegramRateLimiter, telegram_limiter
from bot.channels.telegram_render import CHANNEL as TELEGRAM
from bot.channels.wecom import CHANNEL as WECOM
from bot.channels.wecom import WecomChannel
from bot.channels.wecom_api import WecomApi, WecomConfig
from bot.delivery.worker import DeliveryWorker
from models.db.engine import Database

#: What the worker's PostgreSQL connections call themselves (`pg_stat_activity.application_name`).
APPLICATION_NAME = "jiafang-fault-worker"
#: Printed once the worker runs (on stdout), so the benchmark knows the start-up is over.
READY = "fault-worker ready"


def name_connections(db: Database) -> None:
    """Every new PostgreSQL connection of `db` sets its application name first."""
    if db.engine.dialect.name != "postgresql":
        return

    @event.listens_for(db.engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(
            lambda connection: connection.execute(f"SET application_name = '{APPLICATION_NAME}'")
        )


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="the outbox's delivery worker, alone")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--telegram-base-url", help="the Bot API's base URL, ending in /bot")
    parser.add_argument("--telegram-token", default="123:FAULTS")
    parser.add_argument("--wecom-base-url", help="the WeCom API's base URL, ending in /cgi-bin/")
    parser.add_argument("--wecom-corp-id", default="ww-test-corp")
    parser.add_argument("--wecom-secret", default="test-secret")
    parser.add_argument("--wecom-agent-id", type=int, default=1000002)
    parser.add_argument(
        "--school-id", type=int, help="send only this school's rows, as a school's bot does"
    )
    parser.add_argument("--lease", type=float, default=120.0, help="seconds (the bot's: 120)")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds (the bot's: 5)")
    return parser.parse_args(argv)


async def run(options: argparse.Namespace) -> None:
    db = Database(options.database_url)
    name_connections(db)
    channels: dict[str, Channel] = {}
    bot: ExtBot[Any] | None = None
    if options.telegram_base_url:
        token = options.telegram_token
        bot = ExtBot(
            token,
            base_url=options.telegram_base_url,
            base_file_url=options.telegram_base_url.replace("/bot", "/file/bot"),
            request=AiohttpRequest(pool_size=256),
            rate_limiter=TelegramRateLimiter(telegram_limiter(token=token)),
        )
        channels[TELEGRAM] = TelegramChannel(bot)
    if options.wecom_base_url:
        config = WecomConfig(
            corp_id=options.wecom_corp_id,
            secret=options.wecom_secret,
            agent_id=options.wecom_agent_id,
            base_url=options.wecom_base_url,
            retry_delays=(1.0, 3.0, 10.0),
        )
        channels[WECOM] = WecomChannel(WecomApi(db, config))
    if not channels:
        raise SystemExit("give --telegram-base-url or --wecom-base-url (or both)")
    worker = DeliveryWorker(
        db,
        channels,
        school_id=options.school_id,
        lease=timedelta(seconds=options.lease),
        poll_interval=options.poll_interval,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    try:
        if bot is not None:
            await bot.initialize()
        print(READY, flush=True)
        await worker.run_forever()
    finally:
        if bot is not None:
            await bot.shutdown()
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(created).6f %(levelname)s %(name)s: %(message)s",
    )
    quiet_transport_logs()
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    asyncio.run(run(parse_options(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
