"""A local fake Telegram Bot API over real HTTP (aiohttp, 127.0.0.1, a random port by default).

It serves the same `FakeBotApi` the in-process fake uses, at the paths python-telegram-bot calls
(`/bot<token>/<method>`), so the real bot, the benchmark or a manual check can run against it with
`TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot` and `TELEGRAM_BASE_FILE_URL=…/file/bot`.

Test hooks over HTTP, for manual checks:

* `POST /fake/updates` with an update's JSON (without `update_id`) queues it for getUpdates;
* `GET /fake/calls` lists every Bot API call received so far;
* `POST /fake/outage?seconds=30&status=502` answers every Bot API call with that 5xx status
  (500 by default) for that long.

Run it: `python -m tests.fakes.bot_api_server [--port 8081] [--rate-limit]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from tests.fakes.local_http import LocalHttpServer
from tests.fakes.telegram_request import (
    Failure,
    FakeBotApi,
    JSONDict,
    RateLimit,
    TransportFailure,
)

#: Parameters that are plain strings even when they look like JSON ("123", "true").
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "parse_mode",
        "url",
        "data",
        "secret_token",
    }
)


def decode_form(form: Any) -> JSONDict:
    """Form fields as python-telegram-bot encodes them: JSON values, except plain strings."""
    params: JSONDict = {}
    for key, value in form.items():
        if not isinstance(value, str):  # an uploaded file
            params[key] = getattr(value, "filename", "file")
        elif key in TEXT_PARAMS:
            params[key] = value
        else:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
    return params


class BotApiServer(LocalHttpServer):
    """`async with BotApiServer() as server:` — then point the bot at `server.base_url`."""

    def __init__(
        self,
        api: FakeBotApi | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        timeout_delay: float = 10.0,
    ) -> None:
        self.api = api or FakeBotApi()
        super().__init__(host=host, port=port)
        #: When set, any other token is answered 401 Unauthorized, as Telegram does.
        self.token = token
        #: How long a call told to time out stays unanswered.
        self.timeout_delay = timeout_delay

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_post("/fake/updates", self._push_update)
        app.router.add_get("/fake/calls", self._list_calls)
        app.router.add_post("/fake/outage", self._start_outage)
        return app

    def api_for(self, token: str) -> FakeBotApi | None:
        """The bot `token` names; None for a token this server does not know (401)."""
        return self.api if self.token is None or token == self.token else None

    async def _bot_api(self, request: web.Request) -> web.Response:
        api = self.api_for(request.match_info["token"])
        if api is None:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params: JSONDict = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update(decode_form(await request.post()))
        try:
            status, body = await api.call(request.match_info["method"], params)
        except TransportFailure as failure:
            if failure.failure is Failure.TIMEOUT:
                await asyncio.sleep(self.timeout_delay)
                return web.json_response({"ok": True, "result": True})
            return web.Response(status=502, text="Bad Gateway")
        return web.json_response(body, status=status)

    async def _push_update(self, request: web.Request) -> web.Response:
        update_id = self.api.push_update(await request.json())
        return web.json_response({"update_id": update_id})

    async def _start_outage(self, request: web.Request) -> web.Response:
        try:
            seconds = float(request.query.get("seconds", "30"))
            status = int(request.query.get("status", "500"))
        except ValueError:
            return web.json_response({"error": "seconds and status must be numbers"}, status=400)
        if not 500 <= status <= 599 or seconds < 0:
            return web.json_response({"error": "a 5xx status and seconds ≥ 0"}, status=400)
        self.api.outage(seconds, status=status)
        return web.json_response({"status": status, "seconds": seconds})

    async def _list_calls(self, request: web.Request) -> web.Response:
        return web.json_response([{"method": c.method, "params": c.params} for c in self.api.calls])


class ManyBotsApiServer(BotApiServer):
    """One fake Telegram for several bots, as the real one is: each token its own `FakeBotApi`
    (its own calls and updates); any other token is answered 401."""

    def __init__(self, tokens: Iterable[str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.apis = {token: FakeBotApi() for token in tokens}
        super().__init__(next(iter(self.apis.values())), host=host, port=port)

    def api_for(self, token: str) -> FakeBotApi | None:
        return self.apis.get(token)


async def _serve(port: int, rate_limit: bool) -> None:
    api = FakeBotApi(rate_limit=RateLimit() if rate_limit else None)
    async with BotApiServer(api, port=port) as server:
        print(f"fake Bot API on http://127.0.0.1:{server.port}")
        print(f"  TELEGRAM_BASE_URL={server.base_url}")
        print(f"  TELEGRAM_BASE_FILE_URL={server.base_file_url}")
        print(
            f"  queue an update: curl -d '{{\"message\": …}}' {server.base_url[:-4]}/fake/updates"
        )
        print(f"  calls received:  curl {server.base_url[:-4]}/fake/calls")
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="a local fake Telegram Bot API")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--rate-limit", action="store_true", help="answer 429 above 30 msg/s or 1 msg/s per chat"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.rate_limit))


if __name__ == "__main__":
    main()
