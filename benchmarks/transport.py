"""The CPU of one Bot API call: python-telegram-bot's `HTTPXRequest` against the bot's
`AiohttpRequest` (`bot/channels/telegram_http.py`).

```
python benchmarks/transport.py                  # 3,000 calls per run, 3 runs of each
python benchmarks/transport.py --calls 500 --runs 1
```

All on 127.0.0.1: the fake Bot API in a process of its own (`benchmarks/bot_api_process.py`,
with limits no run reaches), and in this process a python-telegram-bot `Bot` over one transport
or the other sending `--calls` messages as the bot sends its questions (a text of about 60
characters and a keyboard of eight buttons, to 50 chats), 20 at a time, after 200 to warm up.
It prints, per run and transport, the CPU this process used per call (`time.process_time`: the
transport, python-telegram-bot's encoding of the call and its reading of the answer) and the
calls per second; the transports take turns, so that other work on the machine falls on both.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/transport.py`: import the project
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import BaseRequest, HTTPXRequest

from benchmarks.bot_api_process import BotApiProcess
from bot.channels.telegram_http import AiohttpRequest

TOKEN = "1001:transport-benchmark"
AT_ONCE = 20
WARM_UP = 200
TRANSPORTS: dict[str, Callable[[], BaseRequest]] = {
    "httpx (HTTPXRequest)": lambda: HTTPXRequest(connection_pool_size=256),
    "aiohttp (AiohttpRequest)": lambda: AiohttpRequest(pool_size=256),
}
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton(f"三年级{row + 1}班 学生{col + 1}", callback_data=f"s:{row}:{col}")]
        for row in range(4)
        for col in range(2)
    ]
)
TEXT = "请选择要记录家访的学生（本班共 45 人，第 1 页，按学号排列；点“下一页”看更多）："


async def one_run(make: Callable[[], BaseRequest], calls: int) -> tuple[float, float]:
    """(ms of CPU per call, calls per second) of `calls` sends over the transport `make` builds."""
    async with BotApiProcess(TOKEN, per_second=1_000_000, per_chat_per_second=1_000_000) as api:
        bot = Bot(TOKEN, base_url=api.base_url, request=make())
        room = asyncio.Semaphore(AT_ONCE)

        async def send(n: int) -> None:
            async with room:
                await bot.send_message(1000 + n % 50, TEXT, reply_markup=KEYBOARD)

        async with bot:
            await asyncio.gather(*(send(n) for n in range(WARM_UP)))
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(send(n) for n in range(calls)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await api.finish()
    return cpu / calls * 1000, calls / wall


async def main_async(calls: int, runs: int) -> None:
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in TRANSPORTS}
    for run in range(1, runs + 1):
        for name, make in TRANSPORTS.items():
            cpu, rate = await one_run(make, calls)
            figures[name].append((cpu, rate))
            print(f"run {run}  {name:26} {cpu:6.3f} ms of CPU per call  {rate:6.0f} calls/s")
    print()
    for name, runs_of in figures.items():
        cpu = statistics.median(c for c, _ in runs_of)
        rate = statistics.median(r for _, r in runs_of)
        print(f"median  {name:26} {cpu:6.3f} ms of CPU per call  {rate:6.0f} calls/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.calls, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
