"""Writing a claimed row's outcome again when the database connection was lost under it
(`bot.delivery.worker._reconnecting`): a message delivered while PostgreSQL restarted or ended
the worker's backend is still recorded `sent`, not left to become `unknown`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.delivery import worker
from bot.delivery.worker import Claim, _reconnecting

CLAIM = Claim(
    id=7,
    channel="telegram",
    chat_id="6001",
    payload={},
    attempts=1,
    lease_until=datetime(2026, 12, 7, tzinfo=UTC),
)


def lost() -> DBAPIError:
    return DBAPIError("UPDATE outbox …", {}, ConnectionError("closed"), connection_invalidated=True)


def refused() -> DBAPIError:
    return IntegrityError("UPDATE outbox …", {}, ValueError("constraint"))


@pytest.mark.parametrize(
    ("failures", "outcome", "tries"),
    [
        ([], True, 1),
        ([lost()], True, 2),  # the connection was lost once: written on a new one
        ([lost(), OSError("reset")], True, 3),
        ([lost(), lost(), lost()], True, 4),
        ([lost(), lost(), lost(), lost()], DBAPIError, 4),  # the database stays away: raised
        ([refused()], IntegrityError, 1),  # not a lost connection: raised at once
    ],
)
async def test_a_write_is_tried_again_only_after_a_lost_connection(
    monkeypatch: pytest.MonkeyPatch,
    failures: list[Exception],
    outcome: bool | type[Exception],
    tries: int,
) -> None:
    monkeypatch.setattr(worker, "RECONNECT_DELAYS", (0.0, 0.0, 0.0))
    calls: list[int] = []

    async def write() -> bool:
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return True

    if isinstance(outcome, bool):
        assert await _reconnecting(write, CLAIM) is outcome
    else:
        with pytest.raises(outcome):
            await _reconnecting(write, CLAIM)
    assert len(calls) == tries
