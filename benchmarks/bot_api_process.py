"""The flood-limited fake Bot API in a process of its own, as Telegram is another machine.

Run in the benchmark's own process, the fake shares its event loop with the bot it measures:
a pause of that loop (a garbage collection, another school's work) holds requests that left on
time and then hands them to the fake together, which counts them as a burst and answers 429s
the bot did not earn. In a process of its own the fake reads each request when it arrives.

`async with BotApiProcess(token) as fake:` starts a process serving
`tests.fakes.bot_api_server.BotApiServer` over a `FakeBotApi` with `RateLimit` (30 messages in
any second, 1 per chat) on 127.0.0.1, a free port (`fake.base_url`, `fake.base_file_url`);
`await fake.finish()` stops it and returns what it saw (`FloodRecord`). The process talks to the
parent over a pipe: the port once it listens, then the record when asked.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Self

from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import FakeBotApi, RateLimit

LOCAL_HOST = "127.0.0.1"
#: Seconds to wait for the process to listen, and for its record at the end.
START_TIMEOUT = 60.0
FINISH_TIMEOUT = 60.0
_STOP = "stop"


@dataclass(frozen=True)
class FloodRecord:
    """What the fake saw: every message call's arrival (its clock, the chat; refused ones
    included), how many it refused, and per chat how many messages it delivered."""

    arrivals: list[tuple[float, str]]
    refused: int
    received: Counter[str]

    def limits(self, per_second: int, per_chat_per_second: int) -> RateLimit:
        """The arrivals as a `RateLimit`, to measure them (`peak`) as the in-process fake is."""
        return RateLimit(
            per_second=per_second,
            per_chat_per_second=per_chat_per_second,
            arrivals=list(self.arrivals),
            refused=self.refused,
        )


def _serve(conn: Connection, token: str, per_second: int, per_chat_per_second: int) -> None:
    """The process: serve until the parent says stop, then send it the record."""
    asyncio.run(_serve_until_stopped(conn, token, per_second, per_chat_per_second))


async def _serve_until_stopped(
    conn: Connection, token: str, per_second: int, per_chat_per_second: int
) -> None:
    limits = RateLimit(per_second=per_second, per_chat_per_second=per_chat_per_second)
    api = FakeBotApi(rate_limit=limits)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with BotApiServer(api, host=LOCAL_HOST, token=token) as server:
        # The fake stands for Telegram's servers: its own collector's pauses are not the bot's
        # doing, so the few thousand calls it keeps are kept out of the collector's way.
        gc.collect()
        gc.freeze()
        gc.disable()
        loop.add_reader(conn.fileno(), stop.set)
        conn.send(server.port)
        await stop.wait()
        loop.remove_reader(conn.fileno())
        conn.recv()
    received = Counter(str(message["chat"]["id"]) for message in api.delivered())
    conn.send(FloodRecord(list(limits.arrivals), limits.refused, received))


class BotApiProcess:
    """A flood-limited fake Bot API in its own process; see the module docstring."""

    def __init__(self, token: str, *, per_second: int = 30, per_chat_per_second: int = 1) -> None:
        self.token = token
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        self.port = 0
        context = multiprocessing.get_context("spawn")  # nothing of this process's loop or pools
        self._conn, child = context.Pipe()
        self._child = child
        self._process = context.Process(
            target=_serve,
            args=(child, token, per_second, per_chat_per_second),
            name="fake-bot-api",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}/file/bot"

    async def _receive(self, seconds: float) -> object:
        if not await asyncio.to_thread(self._conn.poll, seconds):
            raise TimeoutError(f"the fake Bot API process said nothing for {seconds:g} s")
        return self._conn.recv()

    async def __aenter__(self) -> Self:
        self._process.start()
        self._child.close()
        port = await self._receive(START_TIMEOUT)
        if not isinstance(port, int):
            raise TypeError(f"the fake Bot API process sent {type(port).__name__}")
        self.port = port
        return self

    async def finish(self) -> FloodRecord:
        """Stop serving; what the fake saw."""
        self._conn.send(_STOP)
        record = await self._receive(FINISH_TIMEOUT)
        if not isinstance(record, FloodRecord):
            raise TypeError(f"the fake Bot API process sent {type(record).__name__}")
        return record

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._process.join, 5.0)
        if self._process.is_alive():
            self._process.terminate()
            await asyncio.to_thread(self._process.join, 5.0)
        self._conn.close()
