"""One messenger budget shared by every worker process of a bot, kept in Redis.

`RateLimiter` (`bot.delivery.pacing`) keeps one process inside Telegram's or WeCom's limits.
Several worker processes sending for the same bot each have their own, so together they could
send N times the limit. `RedisRateLimiter` is the same limiter with the moment of sending
(`admit`) decided by Redis, atomically, for all of them:

* one Lua script per send checks and records, in a single step, the bot's spacing (its last
  send, so the workers' sends together are as evenly spread as one worker's) and window (at most
  `window_cap` sends in any `window` seconds, a sorted set of send times), the chat's gap (its
  last send, a key that expires) and the chat's own windows (WeCom's 30 a minute and 1,000 an
  hour to one member), and the pauses a 429 set (keys with a time to live). Time is Redis's
  own clock (`TIME`), the same for every process whatever theirs say;
* a live answer (`note`) is recorded there too without waiting, so the other workers make room
  for it; a 429's pause (`pause`, `pause_all`) is shared the same way;
* the booking of slots (`reserve`, `acquire`) stays in the process: it only spreads a worker's
  own sends over time; whatever it books, `admit` is what lets a send leave.

Keys are named after the bot (`bot_namespace`: a hash of its token, never the token itself), so
two schools' bots never share a budget, and carry it as a Redis Cluster hash tag, so one script
touches only one node. Every key expires on its own; nothing needs cleaning up.

When Redis cannot be reached the limiter says so once (a WARNING and the event counter
`shared_rate_limit_unreachable`) and paces this process alone, as `RateLimiter` does, trying
Redis again every `RETRY_SECONDS`: it never crashes and never sends unlimited. While it is down
N workers may together reach N times the limit; Telegram then answers 429, which pauses.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot import metrics
from bot.delivery.pacing import RateLimiter, Throttled

log = logging.getLogger(__name__)

T = TypeVar("T")

#: After Redis failed, how long this process paces alone before trying it again.
RETRY_SECONDS = 5.0
#: How long one Redis call may take before the process paces alone (a local server answers in
#: well under a millisecond).
REDIS_TIMEOUT = 0.5
#: The event counter (`bot.metrics.count`) of outages.
UNREACHABLE = "shared_rate_limit_unreachable"

#: What `admit` waits for: nothing, the bot's window or pause, or the chat (its gap, windows or
#: pause).
_FREE, _BOT, _CHAT = 0, 1, 2

#: Check a send against the bot's window and pause and the chat's gap, windows and pause, and
#: record it when it may go (ARGV[5] = "1": record without checking, a live answer).
#: KEYS: bot window, chat's last send, chat's windows, bot pause, chat pause, bot's last send.
#: ARGV: window µs, window cap, chat gap µs, unique member, force, bot gap µs, then pairs (cap,
#: seconds µs).
#: Returns {µs to wait, what for}; {0, 0} when the send was recorded.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local gap = tonumber(ARGV[3])
local member = ARGV[4]
local force = ARGV[5] == '1'
local bot_gap = tonumber(ARGV[6])
local longest = 0
for i = 7, #ARGV, 2 do
  longest = math.max(longest, tonumber(ARGV[i + 1]))
end
local free, scope = now, 0
local function later(at, what)
  if at > free then free, scope = at, what end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if longest > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - longest)
end
if not force then
  local paused = redis.call('PTTL', KEYS[4])
  if paused > 0 then later(now + paused * 1000, 1) end
  paused = redis.call('PTTL', KEYS[5])
  if paused > 0 then later(now + paused * 1000, 2) end
  local n = redis.call('ZCARD', KEYS[1])
  if n >= cap then
    local oldest = redis.call('ZRANGE', KEYS[1], n - cap, n - cap, 'WITHSCORES')
    later(tonumber(oldest[2]) + window, 1)
  end
  local last = redis.call('GET', KEYS[2])
  if last then later(tonumber(last) + gap, 2) end
  last = redis.call('GET', KEYS[6])
  if last then later(tonumber(last) + bot_gap, 1) end
  if longest > 0 then
    local total = redis.call('ZCARD', KEYS[3])
    for i = 7, #ARGV, 2 do
      local kcap, seconds = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
      local inside = redis.call('ZCOUNT', KEYS[3], string.format('(%.0f', now - seconds), '+inf')
      if inside >= kcap then
        local nth = redis.call('ZRANGE', KEYS[3], total - kcap, total - kcap, 'WITHSCORES')
        later(tonumber(nth[2]) + seconds, 2)
      end
    end
  end
  if free > now then return {math.ceil(free - now), scope} end
end
redis.call('ZADD', KEYS[1], now, member)
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
redis.call('SET', KEYS[2], now, 'PX', math.ceil(gap / 1000) + 1000)
redis.call('SET', KEYS[6], now, 'PX', math.ceil(bot_gap / 1000) + 1000)
if longest > 0 then
  redis.call('ZADD', KEYS[3], now, member)
  redis.call('PEXPIRE', KEYS[3], math.ceil(longest / 1000) + 1000)
end
return {0, 0}
"""

#: Pause KEYS[1] for ARGV[1] ms, unless it is already paused for longer.
_PAUSE = """
local left = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[1])
if left < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return left
"""


def bot_namespace(secret: str) -> str:
    """A short name for one bot's budget: a hash of its token (or WeCom's corp and agent id),
    so the token never appears in Redis and two bots never share a budget."""
    return hashlib.sha256(f"jiafang-rate:{secret}".encode()).hexdigest()[:16]


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def redis_client(url: str) -> Redis:
    """A client that fails fast (no retries, short timeouts): a slow Redis must not slow the
    sends, the limiter paces alone instead."""
    client: Redis = Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    return client


class RedisRateLimiter(RateLimiter):
    """`RateLimiter` whose sends are admitted by Redis for every process of one bot."""

    def __init__(
        self,
        url: str,
        namespace: str,
        per_second: float,
        per_key_per_second: float,
        *,
        window_cap: int | None = None,
        window: float = 1.0,
        key_windows: Sequence[tuple[int, float]] = (),
        burst: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        client: Redis | None = None,
    ) -> None:
        super().__init__(
            per_second,
            per_key_per_second,
            window_cap=window_cap,
            window=window,
            key_windows=key_windows,
            burst=burst,
            monotonic=monotonic,
        )
        self.url = url
        self.namespace = namespace
        self._redis = client or redis_client(url)
        self._admit_script = self._redis.register_script(_ADMIT)
        self._pause_script = self._redis.register_script(_PAUSE)
        self._prefix = f"jiafang:rate:{{{namespace}}}"
        self._member = uuid.uuid4().hex[:12]
        self._serial = 0
        self._key_gap_us = math.ceil(1e6 / per_key_per_second)
        self._gap_us = math.ceil(1e6 / per_second)
        self._window_us = math.ceil(window * 1e6)
        self._key_window_args: list[int] = [
            value for cap, seconds in self.key_windows for value in (cap, math.ceil(seconds * 1e6))
        ]
        #: `monotonic()` until which Redis is not tried again (0: it is up).
        self._down_until = 0.0
        self._down = False
        #: Records of live answers and pauses on their way to Redis.
        self._background: set[asyncio.Task[Any]] = set()

    # -- Redis, or this process alone when it cannot be reached ---------------------------------

    @property
    def shared(self) -> bool:
        """Whether the last call reached Redis (False while this process paces alone)."""
        return not self._down

    def key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def _reach(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """`call()` against Redis; None when it cannot be reached (or was not, a moment ago)."""
        if self._down and self._monotonic() < self._down_until:
            return None
        try:
            result = await call()
        except (RedisError, OSError) as exc:
            self._down_until = self._monotonic() + RETRY_SECONDS
            if not self._down:
                self._down = True
                total = metrics.count(UNREACHABLE)
                log.warning(
                    "shared rate limit at %s unreachable (%s); this process paces its sends "
                    "alone until it is back (outage %d)",
                    redacted(self.url),
                    type(exc).__name__,
                    total,
                )
            return None
        if self._down:
            self._down = False
            log.warning("shared rate limit at %s reachable again", redacted(self.url))
        return result

    def _unique(self) -> str:
        self._serial += 1
        return f"{self._member}:{self._serial}"

    async def _run_admit(self, key: str, *, force: bool) -> tuple[float, int] | None:
        keys = [
            self.key("sent"),
            self.key("last", key),
            self.key("win", key),
            self.key("pause"),
            self.key("pause", key),
            self.key("last"),
        ]
        args: list[Any] = [
            self._window_us,
            self.window_cap,
            self._key_gap_us,
            self._unique(),
            "1" if force else "0",
            self._gap_us,
            *self._key_window_args,
        ]

        async def call() -> Any:
            return await self._admit_script(keys=keys, args=args)

        answer = await self._reach(call)
        if answer is None:
            return None
        wait_us, scope = answer
        return int(wait_us) / 1e6, int(scope)

    def _in_background(self, work: Callable[[], Awaitable[object]]) -> None:
        """Run `work` without waiting for it (from sync code inside the event loop)."""
        try:
            task = asyncio.get_running_loop().create_task(self._quietly(work))
        except RuntimeError:  # no event loop: nothing is being sent concurrently anyway
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    async def _quietly(work: Callable[[], Awaitable[object]]) -> None:
        try:
            await work()
        except Exception:
            log.exception("shared rate limit: recording failed")

    async def flush(self) -> None:
        """Wait until the live answers and pauses noted so far are recorded in Redis."""
        if self._background:
            await asyncio.gather(*set(self._background), return_exceptions=True)

    async def close(self) -> None:
        await self.flush()
        await self._redis.aclose()

    # -- the moment of sending ------------------------------------------------------------------

    async def admit(self, key: str, *, max_wait: float = math.inf) -> None:
        """Wait until Redis lets a send to `key` go for every process of this bot, and record
        it there (and here). Waits for the bot's window keep this process's waiters in turn;
        a wait for one chat does not hold up the others. Redis unreachable: `RateLimiter`'s."""
        while True:
            async with self._admitting:
                outcome = await self._admit_shared(key, max_wait)
            if outcome is None:
                await super().admit(key, max_wait=max_wait)
                return
            if outcome <= 0:
                return
            await asyncio.sleep(outcome)

    async def _admit_shared(self, key: str, max_wait: float) -> float | None:
        """0 once the send is recorded; seconds to wait for its chat; None: Redis is down."""
        while True:
            paused = self.paused_for(key)  # this process's own view of a 429, in case
            if paused > 0:
                if paused > max_wait:
                    raise Throttled(paused)
                return paused
            answer = await self._run_admit(key, force=False)
            if answer is None:
                return None
            wait, scope = answer
            if scope == _FREE:
                self._count(key)
                return 0.0
            if wait > max_wait:
                raise Throttled(wait)
            if scope == _CHAT:
                return max(wait, 0.001)
            await asyncio.sleep(wait)

    def note(self, key: str) -> None:
        """A live answer: counted here at once, and in Redis for the other processes."""
        super().note(key)
        self._in_background(lambda: self._run_admit(key, force=True))

    # -- 429 ------------------------------------------------------------------------------------

    def pause(self, key: str, seconds: float) -> None:
        super().pause(key, seconds)
        self._share_pause(self.key("pause", key), seconds)

    def pause_all(self, seconds: float) -> None:
        super().pause_all(seconds)
        self._share_pause(self.key("pause"), seconds)

    def _share_pause(self, name: str, seconds: float) -> None:
        ms = max(1, math.ceil(seconds * 1000))

        async def call() -> Any:
            return await self._pause_script(keys=[name], args=[ms])

        self._in_background(lambda: self._reach(call))


def shared_or_local(
    url: str | None,
    secret: str,
    per_second: float,
    per_key_per_second: float,
    *,
    window_cap: int | None = None,
    key_windows: Sequence[tuple[int, float]] = (),
    burst: int | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> RateLimiter:
    """The bot's limiter: shared through Redis at `url` (RATE_LIMIT_URL), or this process's own
    when it is not set (one worker, the single-school default)."""
    if not url:
        return RateLimiter(
            per_second,
            per_key_per_second,
            window_cap=window_cap,
            key_windows=key_windows,
            burst=burst,
            monotonic=monotonic,
        )
    return RedisRateLimiter(
        url,
        bot_namespace(secret),
        per_second,
        per_key_per_second,
        window_cap=window_cap,
        key_windows=key_windows,
        burst=burst,
        monotonic=monotonic,
    )
