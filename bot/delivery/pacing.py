"""One budget of sends per messenger, shared by everything the bot sends through it.

Telegram accepts about 30 messages a second from a bot and about one a second in a chat, and
answers 429 with `retry_after` above that. A `RateLimiter` keeps a channel inside such limits
with three tools:

* spacing: outbox sends are booked on a timeline, at most `per_second` apart overall and
  `per_key_per_second` apart in one chat (`reserve`, `acquire`);
* a window: at most `window_cap` sends in any `window` seconds, counted from the sends actually
  made by anyone (live answers included), so the outbox yields to them;
* an even pace at the moment of sending (`burst`, when given): sends leave `1 / per_second`
  apart, and sends that fell behind that pace (a slow database write, a busy event loop) catch
  up by at most `burst` sends, at twice the pace, rather than as many at once as the window has
  room for: a burst reaches the messenger with the network's jitter on top, and its window,
  counted on its own clock, does not forgive that;
* pauses: a 429 pauses its chat for `retry_after`, and everything when that chat had been
  spaced properly, because then it was the bot-wide limit that was hit (`throttled`).

Two kinds of traffic share one limiter:

* **outbox deliveries** are spaced in two steps. The delivery worker books and waits for the
  row's slot (`acquire`) *before* it marks the row attempted, so a worker killed while waiting
  leaves a row that is simply claimable again, never an `unknown` one that did not leave. The
  send itself is counted at the moment it leaves (`admit`: wait while the window is full, the
  chat's previous message is less than its gap ago or the even pace says not yet), so sends
  made late together (a slow database write between the two steps) cannot bunch up.
  `delivering` tells the channel's first API call that its slot is booked; later pieces of a
  long message book their own;
* **live answers** to a person who just wrote or pressed a button are never delayed (`note`):
  they are counted in the window, so the outbox makes room for them, and the chat is spaced
  again before the outbox writes to it. Telegram tolerates short bursts in one private chat; a
  429 on a live answer sends that answer through the outbox instead (the Telegram adapter).
  So the total stays within the limits as long as the live answers alone do (a school's
  conversations are far below 30 messages a second).
"""

from __future__ import annotations

import asyncio
import math
import time
from asyncio import sleep
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

#: How many per-chat entries are kept before those in the past are forgotten.
_FORGET_AFTER = 10_000


class Throttled(Exception):
    """A slot is further away than the caller is willing to wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no slot for {seconds:.1f} s")
        self.seconds = seconds


class RateLimiter:
    """Spacing, a counted window and pauses for one channel; see the module docstring."""

    def __init__(
        self,
        per_second: float,
        per_key_per_second: float,
        *,
        window_cap: int | None = None,
        window: float = 1.0,
        key_windows: Sequence[tuple[int, float]] = (),
        burst: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gap = 1.0 / per_second
        self._key_gap = 1.0 / per_key_per_second
        #: Sends allowed in any `window` seconds (default: one more than the spacing makes).
        self.window_cap = window_cap or max(1, math.floor(per_second * window)) + 1
        self.window = window
        self._monotonic = monotonic
        self._next_any = 0.0
        self._next_key: dict[str, float] = {}
        self._paused_all = 0.0
        self._paused_key: dict[str, float] = {}
        self._last_key: dict[str, float] = {}
        self._sent: deque[float] = deque()
        #: The even pace: when the next send is due (each send moves it one gap on from itself,
        #: or from the send's moment when that is later); a send may be up to `_early` ahead of
        #: it, and `_least_gap` after the last send.
        self._even_at = -math.inf
        self._early = math.inf if burst is None else max(0, burst) * self._gap
        self._least_gap = 0.0 if burst is None else self._gap / 2
        self._last_any = -math.inf
        #: Per chat: at most `cap` sends in any `seconds` (WeCom: 30 a minute, 1,000 an hour
        #: to one member, above which it drops messages without a word).
        self.key_windows = tuple(key_windows)
        self._longest_key_window = max((seconds for _cap, seconds in self.key_windows), default=0.0)
        self._key_sent: dict[str, deque[float]] = {}
        self._admitting = asyncio.Lock()

    # -- reading ------------------------------------------------------------------------------

    def _window_free_at(self, now: float) -> float:
        """When the window has room for one more send (`now` if it has room now)."""
        sent = self._sent
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        if len(sent) < self.window_cap:
            return now
        return sent[-self.window_cap] + self.window

    def _in_key_windows(self, key: str, now: float) -> list[tuple[int, float, list[float]]]:
        """Per window: its cap, its length, and the sends to `key` inside it now (sends older
        than the longest window are forgotten)."""
        sent = self._key_sent.get(key) or deque()
        while sent and sent[0] <= now - self._longest_key_window:
            sent.popleft()
        return [
            (cap, seconds, [at for at in sent if at > now - seconds])
            for cap, seconds in self.key_windows
        ]

    def _key_window_free_at(self, key: str, now: float) -> float:
        """When every per-chat window has room for one more send to `key`."""
        return max(
            [now]
            + [
                inside[-cap] + seconds
                for cap, seconds, inside in self._in_key_windows(key, now)
                if len(inside) >= cap
            ]
        )

    def _blocked_until(self, key: str, now: float) -> float:
        """What holds a send back whatever its booking: pauses, the windows, and the chat's
        last actual send (a booked slot may have been used late, the next one on time)."""
        last = self._last_key.get(key)
        return max(
            self._even_at - self._early,
            self._last_any + self._least_gap,
            self._paused_all,
            self._paused_key.get(key, 0.0),
            self._window_free_at(now),
            self._key_window_free_at(key, now),
            -math.inf if last is None else last + self._key_gap,
        )

    def key_window_room(self, key: str) -> int:
        """How many more sends to `key` the per-chat windows let through now (a large number
        when there are none)."""
        windows = self._in_key_windows(key, self._monotonic())
        return min((cap - len(inside) for cap, _seconds, inside in windows), default=1 << 30)

    def key_window_full(self, key: str) -> float:
        """Seconds until the per-chat windows let one more send to `key` through (0: now)."""
        now = self._monotonic()
        return max(0.0, self._key_window_free_at(key, now) - now)

    def delay(self, key: str) -> float:
        """Seconds until an outbox send to `key` would be allowed (without booking it)."""
        now = self._monotonic()
        ready = max(self._next_any, self._next_key.get(key, 0.0), self._blocked_until(key, now))
        return max(0.0, ready - now)

    def recent(self) -> int:
        """Sends counted in the last `window` seconds."""
        now = self._monotonic()
        self._window_free_at(now)
        return len(self._sent)

    def paused_for(self, key: str) -> float:
        """Seconds left of a pause (of `key` or of everything); 0 when none."""
        now = self._monotonic()
        return max(0.0, self._paused_all - now, self._paused_key.get(key, 0.0) - now)

    def spaced(self, key: str) -> bool:
        """Whether the last send to `key` is at least the per-chat gap ago (or there was none)."""
        last = self._last_key.get(key)
        return last is None or self._monotonic() - last >= self._key_gap

    # -- booking ------------------------------------------------------------------------------

    def reserve(self, key: str) -> float:
        """Book the next free slot for `key` and say how many seconds away it is (spacing and
        pauses; the window is for `admit`, at the moment of sending)."""
        now = self._monotonic()
        paused = max(self._paused_all, self._paused_key.get(key, 0.0))
        at = max(now, self._next_any, self._next_key.get(key, 0.0), paused)
        self._next_any = at + self._gap
        self._next_key[key] = at + self._key_gap
        self._forget(now)
        return at - now

    async def acquire(self, key: str, *, max_wait: float = math.inf) -> None:
        """Book a slot for `key` on the spacing timeline and wait for it; `Throttled` if it is
        over `max_wait`. A pause that began during the wait is waited out once more."""
        for _ in range(2):
            wait = self.delay(key)
            if wait > max_wait:
                raise Throttled(wait)
            wait = self.reserve(key)
            if wait > 0:
                await sleep(wait)
            if self.paused_for(key) <= 0:
                return

    async def admit(self, key: str, *, max_wait: float = math.inf) -> None:
        """At the moment of sending: wait while the window is full, a pause runs or the even
        pace (`burst`) says not yet, then count the send. This is what holds sends apart when
        something (a slow database write) made several of them late together. Waiters go one
        at a time, in turn."""
        async with self._admitting:
            await self.room(key, max_wait=max_wait)
            self._count(key)

    async def room(self, key: str, *, max_wait: float = math.inf) -> None:
        """Wait until a send to `key` would be admitted now (the window has room, no pause
        runs), counting nothing: the delivery worker waits here before it marks a row
        attempted, then `admit` at the request itself finds room at once (or waits the little
        that another send took meanwhile)."""
        before = None
        while True:
            now = self._monotonic()
            blocked = self._blocked_until(key, now) - now
            if blocked <= 0 or now == before:  # free, or a clock that stands still (tests)
                return
            if blocked > max_wait:
                raise Throttled(blocked)
            before = now
            await sleep(blocked)

    def note(self, key: str) -> None:
        """A send that did not wait (a live answer): count it and space the chat after it."""
        now = self._count(key)
        self._next_key[key] = max(self._next_key.get(key, 0.0), now + self._key_gap)

    def _count(self, key: str) -> float:
        now = self._monotonic()
        self._window_free_at(now)  # drops what left the window
        self._sent.append(now)
        self._even_at = max(self._even_at, now) + self._gap
        self._last_any = now
        self._last_key[key] = now
        if self.key_windows:
            self._key_sent.setdefault(key, deque()).append(now)
        return now

    # -- 429 ----------------------------------------------------------------------------------

    def pause(self, key: str, seconds: float) -> None:
        until = self._monotonic() + seconds
        self._paused_key[key] = max(self._paused_key.get(key, 0.0), until)

    def pause_all(self, seconds: float) -> None:
        self._paused_all = max(self._paused_all, self._monotonic() + seconds)

    def throttled(self, key: str, seconds: float, *, spaced: bool) -> None:
        """The messenger said "retry after `seconds`" to a send to `key`.

        The chat waits that long. When the send was `spaced` (the chat had had its second),
        the per-chat limit cannot have been the cause: it was the bot-wide one, so everything
        waits. Calling it twice for one answer changes nothing.
        """
        self.pause(key, seconds)
        if spaced:
            self.pause_all(seconds)

    def _forget(self, now: float) -> None:
        for table in (self._next_key, self._paused_key, self._last_key):
            if len(table) > _FORGET_AFTER:
                stale = [k for k, v in table.items() if v <= now - self._key_gap]
                for k in stale:
                    del table[k]
        if len(self._key_sent) > _FORGET_AFTER:
            longest = self._longest_key_window
            for k in [
                k for k, sent in self._key_sent.items() if not sent or sent[-1] <= now - longest
            ]:
                del self._key_sent[k]


# -- a booked slot, carried from the delivery worker to the channel's first API call ----------


@dataclass
class Booking:
    """The slot the delivery worker booked for one outbox send to `key`. The worker also waited
    for room in the windows (`RateLimiter.room`) before it marked the row attempted, so the mark
    is made just before the request leaves (a worker killed while a send waited for the windows
    leaves a row nobody sent, not one that may have been sent); the first piece is admitted at
    the request itself, which keeps the pace exact."""

    limiter: RateLimiter
    key: str
    used: bool = False


_booking: ContextVar[Booking | None] = ContextVar("jiafang_pacing_booking", default=None)


@contextmanager
def delivering(limiter: RateLimiter, key: str) -> Iterator[Booking]:
    """Within this block the current task is an outbox send to `key`, its first slot booked."""
    booking = Booking(limiter, key)
    token = _booking.set(booking)
    try:
        yield booking
    finally:
        _booking.reset(token)


def current_delivery(limiter: RateLimiter, key: str) -> Booking | None:
    """The outbox send in progress in this task, if it is one to `key` on `limiter`."""
    booking = _booking.get()
    if booking is None or booking.limiter is not limiter or booking.key != key:
        return None
    return booking


async def pace_delivery_piece(limiter: RateLimiter, key: str, *, max_wait: float) -> bool:
    """For a channel's API call: when the current task is an outbox send to `key`, wait for
    this piece's slot (the first was booked by the worker; later pieces of a long message book
    their own) and for room in the windows, and say True; False for any other call (a live
    answer, which the caller counts with `note`). `Throttled` when the wait is over
    `max_wait`."""
    booking = current_delivery(limiter, key)
    if booking is None:
        return False
    if booking.used:  # a later piece of a long message books its own slot
        await limiter.acquire(key, max_wait=max_wait)
    booking.used = True
    await limiter.admit(key, max_wait=max_wait)
    return True
