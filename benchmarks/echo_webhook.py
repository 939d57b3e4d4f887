"""The bare echo bot of `benchmarks/workers.py`, fed by webhook, as an OS process of its own.

python-telegram-bot's "custom webhook bot" pattern: an `Application` without an updater, its
`update_queue` filled by an aiohttp route, with the echo handlers and the concurrency of
`benchmarks/updates.py`'s echo bot. Like `python -m bot run --webhook` it serves `/healthz`,
registers its URL and secret token with `setWebhook` once started, refuses a request without the
token (403) and answers 200 as soon as the update is queued.

    python -m benchmarks.echo_webhook --port 8090 --base-url http://127.0.0.1:8081/bot \
        --path /echo/hook --secret-token s3cret

It runs until SIGTERM or SIGINT, then stops as the bot does (503 first, the queued updates
handled, then exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/echo_webhook.py`: the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from benchmarks.updates import TOKEN, _echo_press, _echo_text
from bot.channels.telegram import ALLOWED_UPDATES, CONCURRENT_UPDATES
from bot.channels.telegram_webhook import SECRET_HEADER

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
HOST = "127.0.0.1"


def echo_application(base_url: str, token: str) -> AnyApplication:
    """The echo bot of `benchmarks/updates.py`, without an updater (updates come by webhook)."""
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_url.replace("/bot", "/file/bot"))
        .concurrent_updates(CONCURRENT_UPDATES)
        .updater(None)
        .build()
    )
    application.add_handler(CallbackQueryHandler(_echo_press))
    application.add_handler(MessageHandler(filters.TEXT, _echo_text))
    return application


class EchoWebhook:
    """The webhook route and `/healthz`, feeding the application's update queue."""

    def __init__(self, application: AnyApplication, secret_token: str) -> None:
        self.application = application
        self._secret = secret_token.encode()
        self.accepting = True

    async def receive(self, request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), self._secret):
            return web.Response(status=403)
        if not self.accepting:
            return web.Response(status=503)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        await self.application.update_queue.put(Update.de_json(data, self.application.bot))
        return web.Response(status=200)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok" if self.accepting else "stopping"})


async def serve(options: argparse.Namespace) -> int:
    application = echo_application(options.base_url, options.token)
    hook = EchoWebhook(application, options.secret_token)
    app = web.Application()
    app.router.add_post(options.path, hook.receive)
    app.router.add_get("/healthz", hook.healthz)
    runner = web.AppRunner(app, access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await application.initialize()
    try:
        await application.start()
        await runner.setup()
        await web.TCPSite(runner, HOST, options.port).start()
        await application.bot.set_webhook(
            url=f"http://{HOST}:{options.port}{options.path}",
            secret_token=options.secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        await stop.wait()
    finally:
        hook.accepting = False
        if application.running:
            await application.stop()
        await runner.cleanup()
        await application.shutdown()
    return 0


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="a bare echo bot fed by webhook")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", required=True, help="the Bot API's base URL, ending in /bot")
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--path", default="/echo/hook")
    parser.add_argument("--secret-token", required=True)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(serve(parse_options(argv)))


if __name__ == "__main__":
    sys.exit(main())
