"""One budget per messenger (`bot.delivery.pacing`): spacing, a counted window, pauses after a 429."""

from __future__ import annotations

import pytest

from bot.delivery import pacing
from bot.delivery.pacing import RateLimiter, Throttled, current_delivery, delivering


class Clock:
    """A monotonic clock the test moves; `sleep` moves it too (nothing really waits)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(pacing, "sleep", fake.sleep)
    return fake


def limiter(clock: Clock, *, cap: int = 3) -> RateLimiter:
    """Two sends a second overall, one a second per chat, at most `cap` in any second."""
    return RateLimiter(2.0, 1.0, window_cap=cap, monotonic=clock)


async def test_outbox_sends_are_spaced_overall_and_per_chat(clock: Clock) -> None:
    pace = limiter(clock)
    sent = []
    for chat in ["a", "b", "a"]:
        await pace.acquire(chat)
        await pace.admit(chat)
        sent.append((chat, clock.now))
    assert sent == [("a", 0.0), ("b", 0.5), ("a", 1.0)]


async def test_live_answers_never_wait_but_fill_the_window_the_outbox_waits_for(
    clock: Clock,
) -> None:
    pace = limiter(clock, cap=2)
    pace.note("live-1")
    pace.note("live-2")  # two answers in the same instant: neither waited
    assert clock.slept == []
    await pace.acquire("notice")
    await pace.admit("notice")
    assert clock.now == pytest.approx(1.0)  # the outbox waited for room in the window


@pytest.mark.parametrize(
    ("burst", "late_sends_leave_at"),
    [
        # no even pace: as many at once as the window has room for
        (None, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
        # 0.1 s apart, after catching up two sends at twice the pace
        (2, [1.0, 1.05, 1.1, 1.15, 1.2, 1.3]),
        # nothing to catch up: strictly 0.1 s apart
        (0, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]),
    ],
)
async def test_sends_that_reach_the_moment_of_sending_late_together_leave_evenly(
    clock: Clock, burst: int | None, late_sends_leave_at: list[float]
) -> None:
    # Ten sends a second; six rows come late together (a slow database write delayed them).
    pace = RateLimiter(10.0, 1.0, window_cap=10, burst=burst, monotonic=clock)
    await pace.admit("first")
    clock.now = 1.0
    left = []
    for chat in "abcdef":
        await pace.admit(chat)
        left.append(round(clock.now, 3))
    assert left == late_sends_leave_at


async def test_a_live_answer_never_waits_for_the_even_pace_but_moves_it(clock: Clock) -> None:
    pace = RateLimiter(10.0, 1.0, window_cap=10, burst=0, monotonic=clock)
    await pace.admit("notice-1")
    pace.note("live")  # at once, 0 s after the notice
    assert clock.slept == []
    await pace.admit("notice-2")
    assert clock.now == pytest.approx(0.2)  # after the answer's own tenth of a second


def test_a_live_answer_spaces_the_outbox_in_that_chat(clock: Clock) -> None:
    pace = limiter(clock)
    pace.note("a")
    assert pace.delay("a") == pytest.approx(1.0)
    assert pace.delay("b") == 0.0


@pytest.mark.parametrize(
    ("spaced", "chat_waits", "other_chat_waits"),
    [
        # the chat had had its second: the bot-wide limit was hit, everything waits
        (True, 30.0, 30.0),
        # a burst in one chat: only that chat waits
        (False, 30.0, 0.0),
    ],
)
def test_a_429_pauses_the_chat_and_the_whole_bot_when_the_chat_was_spaced(
    clock: Clock, spaced: bool, chat_waits: float, other_chat_waits: float
) -> None:
    pace = limiter(clock)
    pace.throttled("a", 30.0, spaced=spaced)
    assert pace.delay("a") == pytest.approx(chat_waits)
    assert pace.delay("b") == pytest.approx(other_chat_waits)


def test_a_chat_written_to_less_than_a_second_ago_is_not_spaced(clock: Clock) -> None:
    pace = limiter(clock)
    assert pace.spaced("a")
    pace.note("a")
    clock.now = 0.5
    assert not pace.spaced("a")
    clock.now = 1.0
    assert pace.spaced("a")


async def test_a_slot_further_than_the_caller_will_wait_is_refused(clock: Clock) -> None:
    pace = limiter(clock)
    pace.throttled("a", 30.0, spaced=True)
    with pytest.raises(Throttled) as refused:
        await pace.acquire("b", max_wait=5.0)
    assert refused.value.seconds == pytest.approx(30.0)
    assert clock.slept == []


async def test_a_pause_that_began_while_waiting_for_a_slot_is_waited_out(clock: Clock) -> None:
    pace = limiter(clock)
    await pace.acquire("a")
    await pace.admit("a")
    pace.throttled("b", 10.0, spaced=True)  # while "b" would wait for its slot
    await pace.acquire("b")
    await pace.admit("b")
    assert clock.now == pytest.approx(10.0)


async def test_the_booked_slot_belongs_to_the_task_sending_that_row_only() -> None:
    pace = RateLimiter(2.0, 1.0)
    other = RateLimiter(2.0, 1.0)
    assert current_delivery(pace, "a") is None
    with delivering(pace, "a") as booking:
        assert current_delivery(pace, "a") is booking
        assert current_delivery(pace, "b") is None
        assert current_delivery(other, "a") is None
    assert current_delivery(pace, "a") is None
