"""One messenger budget for every worker process of a bot (`bot.delivery.shared_pacing`):
two limiters, as two workers would have them (separate objects, separate Redis connections),
never send faster together than the bot may; a 429 or a live answer seen by one holds the
other; two bots never share a budget; Redis down means each paces alone, never unlimited.

These tests need the Redis server at 127.0.0.1:6379 (RATE_LIMIT_TEST_URL to use another).
Where it cannot be reached they are skipped, except in CI (`CI` set), which has Redis: there
they fail, so a missing server never passes unnoticed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import pairwise
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from telegram.ext import ExtBot

from bot import metrics
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram_pacing import (
    TELEGRAM_PER_SECOND,
    WINDOW_CAP,
    TelegramRateLimiter,
    telegram_limiter,
)
from bot.channels.telegram_render import CHANNEL
from bot.channels.wecom import wecom_limiter
from bot.delivery.pacing import RateLimiter, Throttled
from bot.delivery.shared_pacing import UNREACHABLE, RedisRateLimiter, bot_namespace
from bot.delivery.worker import DeliveryWorker
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from models.db.columns import utcnow
from models.db.engine import Database
from tests.fakes import TEST_TOKEN
from tests.fakes.telegram_request import FakeBotApi, FakeTelegramRequest, RateLimit
from tests.helpers.telegram_line import received
from tests.test_fanout import put, settled

URL = os.environ.get("RATE_LIMIT_TEST_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _reachable(URL):
        if os.environ.get("CI"):
            pytest.fail(f"CI has Redis, but {URL} cannot be reached")
        pytest.skip(f"no Redis at {URL}")
    return URL


def closed_port_url() -> str:
    """A Redis URL on a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def a_bot() -> str:
    """A token of a bot of its own, so tests (and helpers sharing the server) never meet."""
    return f"{uuid.uuid4().int % 10**9}:TEST-{uuid.uuid4().hex}"


def densest(times: list[float], window: float = 1.0) -> int:
    """The most of `times` inside any half-open interval `window` long."""
    times = sorted(times)
    best = start = 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def closest(times: list[float]) -> float:
    """The shortest gap between two of `times` (infinite for fewer than two)."""
    ordered = sorted(times)
    return min((b - a for a, b in pairwise(ordered)), default=float("inf"))


async def send_through(limiter: RateLimiter, chat: str, log: list[tuple[float, str]]) -> None:
    """What the delivery worker does for one row: book its slot, wait to be admitted, send."""
    await limiter.acquire(chat)
    await limiter.admit(chat)
    log.append((time.monotonic(), chat))


async def fan_out(workers: list[RateLimiter], chats: int, burst: int) -> list[tuple[float, str]]:
    """`chats` messages to distinct chats and `burst` to one chat, dealt out to `workers` in
    turn and sent by all of them at once; (time, chat) of every send."""
    log: list[tuple[float, str]] = []
    targets = [f"guardian-{n}" for n in range(chats)] + ["class-group"] * burst
    await asyncio.gather(
        *(send_through(workers[n % len(workers)], chat, log) for n, chat in enumerate(targets))
    )
    return log


async def test_two_workers_sending_one_fan_out_together_never_exceed_the_bots_limits(
    redis_url: str,
) -> None:
    token = a_bot()
    first = telegram_limiter(shared_url=redis_url, token=token)
    second = telegram_limiter(shared_url=redis_url, token=token)
    assert isinstance(first, RedisRateLimiter) and isinstance(second, RedisRateLimiter)
    try:
        log = await fan_out([first, second], chats=120, burst=5)
    finally:
        await first.close()
        await second.close()
    assert len(log) == 125
    assert densest([at for at, _ in log]) <= TELEGRAM_PER_SECOND
    by_chat: dict[str, list[float]] = {}
    for at, chat in log:
        by_chat.setdefault(chat, []).append(at)
    assert min(closest(times) for times in by_chat.values()) >= 1.0
    # and together about as fast as the bot may: the distinct chats near 28 a second
    fan = sorted(at for at, chat in log if chat != "class-group")
    assert (len(fan) - 1) / (fan[-1] - fan[0]) >= 0.8 * WINDOW_CAP


async def test_without_the_shared_limit_two_workers_together_go_past_the_bots_limit() -> None:
    """Why it exists: each worker's own limiter keeps only its own sends within 28 a second."""
    log = await fan_out([telegram_limiter(), telegram_limiter()], chats=80, burst=0)
    assert densest([at for at, _ in log]) > TELEGRAM_PER_SECOND


async def test_a_429_seen_by_one_worker_pauses_the_other(redis_url: str) -> None:
    token = a_bot()
    first = telegram_limiter(shared_url=redis_url, token=token)
    second = telegram_limiter(shared_url=redis_url, token=token)
    assert isinstance(first, RedisRateLimiter) and isinstance(second, RedisRateLimiter)
    try:
        first.throttled("guardian-1", 3.0, spaced=True)  # the bot-wide limit was hit
        await first.flush()
        with pytest.raises(Throttled) as caught:
            await second.admit("guardian-2", max_wait=0.5)
        assert 2.0 < caught.value.seconds <= 3.0
    finally:
        await first.close()
        await second.close()


async def test_a_live_answer_from_one_worker_spaces_the_others_outbox_in_that_chat(
    redis_url: str,
) -> None:
    token = a_bot()
    first = telegram_limiter(shared_url=redis_url, token=token)
    second = telegram_limiter(shared_url=redis_url, token=token)
    assert isinstance(first, RedisRateLimiter) and isinstance(second, RedisRateLimiter)
    try:
        first.note("parent-7")
        await first.flush()
        with pytest.raises(Throttled):
            await second.admit("parent-7", max_wait=0.2)
        await second.admit("parent-8", max_wait=0.2)  # another chat goes at once
    finally:
        await first.close()
        await second.close()


async def test_a_wecom_members_window_is_shared_by_the_workers(redis_url: str) -> None:
    """WeCom drops a member's 31st message in a minute: the members' windows are in Redis too."""
    app = f"ww{uuid.uuid4().hex}:1000002"
    first = wecom_limiter(shared_url=redis_url, app=app)
    second = wecom_limiter(shared_url=redis_url, app=app)
    assert isinstance(first, RedisRateLimiter) and isinstance(second, RedisRateLimiter)
    assert first.key_windows == ((30, 60.0), (1000, 3600.0))
    # 29 messages to the member from the first worker, recorded as live answers
    for _ in range(29):
        first.note("wangfang")
    await first.flush()
    try:
        await asyncio.sleep(0.5)  # the member's spacing (2 a second)
        await second.admit("wangfang", max_wait=1.0)  # the 30th fits
        with pytest.raises(Throttled) as caught:
            await first.admit("wangfang", max_wait=1.0)  # the 31st waits a minute
        assert caught.value.seconds > 50
    finally:
        await first.close()
        await second.close()


async def test_two_schools_bots_keep_separate_budgets_named_without_their_tokens(
    redis_url: str,
) -> None:
    one, other = a_bot(), a_bot()
    first = RedisRateLimiter(redis_url, bot_namespace(one), 100.0, 1.0, window_cap=3)
    also_first = RedisRateLimiter(redis_url, bot_namespace(one), 100.0, 1.0, window_cap=3)
    second = RedisRateLimiter(redis_url, bot_namespace(other), 100.0, 1.0, window_cap=3)
    client = Redis.from_url(redis_url)
    try:
        started = time.monotonic()
        for n in range(3):
            await first.admit(f"chat-{n}", max_wait=0.05)
        for n in range(3):  # the other bot's budget is untouched
            await second.admit(f"chat-{n}", max_wait=0.05)
        assert time.monotonic() - started < 0.5
        with pytest.raises(Throttled):  # the first bot's second is full, for every worker
            await also_first.admit("chat-9", max_wait=0.05)
        names = [name.decode() async for name in client.scan_iter(match="jiafang:rate:*")]
        ours = [name for name in names if bot_namespace(one) in name]
        assert ours and all(bot_namespace(other) not in name for name in ours)
        assert not [name for name in names if one in name or other in name]
    finally:
        await client.aclose()
        for limiter in (first, also_first, second):
            await limiter.close()


async def test_redis_down_means_each_worker_paces_alone_with_a_warning_never_unlimited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.delivery.shared_pacing")
    before = metrics.snapshot().get(UNREACHABLE, 0)
    limiter = RedisRateLimiter(
        closed_port_url(), bot_namespace(a_bot()), 100.0, 50.0, window_cap=5, window=0.2
    )
    log: list[tuple[float, str]] = []
    try:
        await asyncio.gather(*(send_through(limiter, f"chat-{n}", log) for n in range(30)))
        limiter.note("live")  # a live answer is counted here and not lost either
        limiter.throttled("chat-1", 0.1, spaced=False)
        await limiter.flush()
    finally:
        await limiter.close()
    assert len(log) == 30
    assert densest([at for at, _ in log], window=0.2) <= 5  # the process's own window holds
    assert not limiter.shared
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1  # said once per outage, not once per message
    assert "127.0.0.1" in warnings[0].getMessage()
    assert metrics.snapshot().get(UNREACHABLE, 0) == before + 1


def test_without_rate_limit_url_the_bot_paces_in_its_own_process(db: Database) -> None:
    dispatcher = Dispatcher(db, [], zone=ZoneInfo("Asia/Shanghai"))
    settings = Settings(_env_file=None, telegram_bot_token=TEST_TOKEN)
    application = build_application(
        settings, db, dispatcher, request=FakeTelegramRequest(FakeBotApi())
    )
    hook = application.bot.rate_limiter
    assert isinstance(hook, TelegramRateLimiter)
    assert not isinstance(hook.limiter, RedisRateLimiter)


def test_with_rate_limit_url_the_bots_pace_is_shared_under_a_hash_of_its_token(
    db: Database,
) -> None:
    dispatcher = Dispatcher(db, [], zone=ZoneInfo("Asia/Shanghai"))
    settings = Settings(
        _env_file=None, telegram_bot_token=TEST_TOKEN, rate_limit_url="redis://127.0.0.1:6379/0"
    )
    application = build_application(
        settings, db, dispatcher, request=FakeTelegramRequest(FakeBotApi())
    )
    hook = application.bot.rate_limiter
    assert isinstance(hook, TelegramRateLimiter)
    limiter = hook.limiter
    assert isinstance(limiter, RedisRateLimiter)
    assert limiter.namespace == bot_namespace(f"telegram:{TEST_TOKEN}")
    assert TEST_TOKEN not in limiter.key("sent")
    assert TelegramChannel(application.bot).limiter is limiter


# -- two real delivery workers, one database, one fake Bot API -----------------------------------


@asynccontextmanager
async def worker_process(
    db: Database, api: FakeBotApi, redis_url: str, token: str
) -> AsyncIterator[DeliveryWorker]:
    """What one worker process has: its own bot, its own limiter and Redis connection."""
    limiter = telegram_limiter(shared_url=redis_url, token=token)
    bot: ExtBot[None] = ExtBot(
        TEST_TOKEN, request=FakeTelegramRequest(api), rate_limiter=TelegramRateLimiter(limiter)
    )
    async with bot:
        worker = DeliveryWorker(db, {CHANNEL: TelegramChannel(bot)}, utcnow, poll_interval=0.2)
        running = asyncio.create_task(worker.run_forever())
        try:
            yield worker
        finally:
            worker.stop()
            await running
    assert isinstance(limiter, RedisRateLimiter)
    await limiter.close()


async def test_two_delivery_workers_on_one_database_keep_telegrams_limits_together(
    db: Database, redis_url: str
) -> None:
    """90 guardians and three notices to one class group, sent by two workers claiming from
    one outbox: measured at the fake Bot API (which enforces 30 a second and 1 a second per
    chat), nothing refused, no second over the limits, every message delivered once."""
    expected: Counter[str] = Counter()
    for n in range(90):
        await put(db, f"notice:1:guardian:{n}:telegram", str(7000 + n))
        expected[str(7000 + n)] += 1
    for n in range(3):
        await put(db, f"notice:{2 + n}:class:1:telegram", "-1009")
        expected["-1009"] += 1
    api = FakeBotApi(rate_limit=RateLimit())
    token = a_bot()
    async with (
        worker_process(db, api, redis_url, token) as first,
        worker_process(db, api, redis_url, token) as second,
    ):
        first.wake()
        second.wake()
        await settled(db, within=30.0)
    limits = api.rate_limit
    assert limits is not None
    assert limits.refused == 0
    assert limits.peak() <= TELEGRAM_PER_SECOND
    assert limits.peak(per_chat=True) <= 1
    assert received(api) == expected
