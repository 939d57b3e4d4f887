"""One look at the outbox for many schools' delivery workers in one process.

A delivery worker is woken at once by what its own process queues (`DeliveryWorker.wake`), and
otherwise looks at the outbox every `poll_interval` (5 s) for what another process queued or a
lease that ran out: two statements a look. A process running every school of a district
(`bot run --all-schools`) would make that a hundred looks every 5 s, about 40 statements a
second with nothing to send. Instead `OutboxWatch` asks once every `every` seconds which
schools have rows to claim or to recover, on which channels, and wakes only those schools'
workers; each worker's own look becomes a slow safety net (`SAFETY_POLL`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import select

from bot.delivery.worker import DeliveryWorker, due, lease_ran_out
from models.db.columns import utcnow
from models.db.engine import Database
from models.outbox.tables import OutboxMessage

log = logging.getLogger(__name__)

#: How often the watch looks (what a lone worker's poll interval is).
EVERY = 5.0
#: A watched worker's own look, in case the watch is late or stopped.
SAFETY_POLL = 60.0


class OutboxWatch:
    """Wakes the workers (by school) whose rows are due or whose leases ran out."""

    def __init__(
        self,
        db: Database,
        *,
        every: float = EVERY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.every = every
        self.clock = clock
        self._workers: dict[int, DeliveryWorker] = {}

    def watch(self, school_id: int, worker: DeliveryWorker) -> None:
        """Look out for `worker` (school `school_id`'s); its own polling slows to the net."""
        worker.poll_interval = SAFETY_POLL
        self._workers[school_id] = worker

    def unwatch(self, school_id: int) -> None:
        """No longer look out for school `school_id`'s worker (its bot stopped)."""
        self._workers.pop(school_id, None)

    async def look(self) -> list[int]:
        """One look: wake the workers with something to do; returns their schools."""
        now = self.clock()
        something = or_(due(now), lease_ran_out(now))
        query = select(OutboxMessage.school_id, OutboxMessage.channel).where(something).distinct()
        async with self.db.session() as session:
            found = (await session.exec(query)).all()
        woken = set()
        for school_id, channel in found:
            worker = self._workers.get(school_id)
            if worker is not None and channel in worker.channels:
                worker.wake()
                woken.add(school_id)
        return sorted(woken)

    async def run_forever(self) -> None:
        """Look every `every` seconds until cancelled; a failed look is logged and retried."""
        while True:
            try:
                await self.look()
            except Exception as error:
                log.warning("outbox watch: the look failed (%s)", type(error).__name__)
            await asyncio.sleep(self.every)
