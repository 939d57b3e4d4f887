"""Generated updates against the real dispatcher and the demo school (`tests.helpers.fuzz_updates`).

A bounded, seeded run: the same updates every time, within the suite's time. `benchmarks/fuzz.py`
runs the same moves ten thousand at a time.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from models.db.engine import Database
from tests.helpers.clock import FakeClock
from tests.helpers.fuzz_moves import move_lists
from tests.helpers.fuzz_updates import (
    FuzzWorld,
    Move,
    Tally,
    failures_logged,
    fuzz_world,
    play,
    restore,
)

#: Every example runs on the same world, so later ones meet what earlier ones left behind.
FUZZ = settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PEOPLE = 10


@pytest.fixture
async def world(db: Database, clock: FakeClock) -> FuzzWorld:
    world = await fuzz_world(db, clock)
    assert len(world.people) == PEOPLE
    return world


@FUZZ
@given(moves=move_lists(PEOPLE))
async def test_generated_updates_are_answered_without_failing_or_writing_for_strangers(
    world: FuzzWorld, moves: list[Move]
) -> None:
    await restore(world)
    tally = Tally()
    with failures_logged() as log:
        for move in moves:
            await play(world, move, tally)
            assert log.last is None, f"the last-resort handler answered {move!r}"
    assert not tally.unanswered
    assert not tally.written_by_strangers
