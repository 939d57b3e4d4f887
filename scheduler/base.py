"""What a scheduled job is: a plain async function of a `JobContext`, with an explicit name and
a schedule. The scheduler (and `python -m bot jobs run NAME --now …`) builds the context, runs the
function in one transaction, and commits; the function only reads and enqueues outbox rows with
deterministic keys, so running one slot twice sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.notify import Notified, Render, notify_people
from models.accounts.tables import PersonKind
from models.school.rules import SchoolRules, next_waking_moment
from models.school.tables import School


@dataclass
class JobContext:
    #: One transaction for the whole run, committed by the caller.
    session: AsyncSession
    #: The moment the job runs (timezone-aware): the slot's time when it runs on time, `--now`
    #: for `jobs run`, later than the slot when a slot missed during downtime is caught up.
    #: Quiet hours and deadlines are judged against it.
    now: datetime
    school: School
    zone: ZoneInfo
    rules: SchoolRules
    #: The slot this run is for (see `now`); None when a test calls the function directly.
    slot: datetime | None = None

    @property
    def school_id(self) -> int:
        """The school the job runs for: what it queues is sent by that school's bot."""
        assert self.school.id is not None
        return self.school.id

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    @property
    def today(self) -> date:
        return self.local_now.date()

    @property
    def slot_day(self) -> date:
        """The school day this run is for: the slot's (a slot caught up later is still that
        day's), else today."""
        moment = self.slot if self.slot is not None else self.now
        return moment.astimezone(self.zone).date()

    @property
    def waking(self) -> datetime:
        """When what this run queues for people is due: now, or the end of the school's quiet
        hours if now falls within them."""
        return next_waking_moment(self.now, zone=self.zone, rules=self.rules)

    async def notify(
        self, people: Iterable[tuple[PersonKind, int]], *, key: str, kind: str, render: Render
    ) -> Notified:
        """Queue `render(t)` for every bound account of each person of this school, in this
        run's transaction, due at `waking` (once per key, person and account)."""
        return await notify_people(
            session=self.session,
            school_id=self.school_id,
            people=people,
            key=key,
            kind=kind,
            render=render,
            due_at=self.waking,
        )


#: Returns how many outbox rows it queued (0 when there was nothing to send).
JobFunction = Callable[[JobContext], Awaitable[int]]
#: APScheduler 3 `CronTrigger` keyword arguments for a school's rules, in the school's zone,
#: e.g. {"day_of_week": "mon", "hour": 8, "minute": 0}.
Schedule = Callable[[SchoolRules], dict[str, Any]]


def daily_at(when: Callable[[SchoolRules], time]) -> Schedule:
    """Every day at the time `when` reads from the rules (e.g. `lambda r: r.digest_time`)."""

    def schedule(rules: SchoolRules) -> dict[str, Any]:
        moment = when(rules)
        return {"hour": moment.hour, "minute": moment.minute}

    return schedule


def every_minute(rules: SchoolRules) -> dict[str, Any]:
    return {"minute": "*"}


@dataclass(frozen=True)
class Job:
    #: The explicit job id, e.g. "daily_digest" (also the name for `jobs run`).
    name: str
    func: JobFunction
    schedule: Schedule
    #: One line for `jobs list`.
    describe: str = ""
