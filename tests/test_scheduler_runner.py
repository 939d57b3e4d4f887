"""`python -m bot run` starts the scheduled jobs beside the delivery worker and stops them."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bot.demo import seed_demo
from bot.runner import JOB_SCHEDULER, run_console, with_job_scheduler
from bot.settings import Settings
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.db.engine import Database
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole
from scheduler import service
from scheduler.base import Job, JobContext
from tests.helpers.clock import FakeClock
from tests.helpers.scheduler import job_runs, local

SCHOOL = "示范小学"


async def _greet_admins(jc: JobContext) -> int:
    admins = await staff_with_role(
        session=jc.session, school_id=jc.school.id or 0, role=StaffRole.ADMIN
    )
    notified = await notify_people(
        session=jc.session,
        school_id=jc.school.id or 0,
        people=[(PersonKind.STAFF, a.id or 0) for a in admins],
        key=f"morning:{jc.today.isoformat()}",
        kind="test",
        render=lambda t: Reply(t._("早上好")),
        due_at=jc.now,
    )
    return notified.queued


MORNING = Job("morning", _greet_admins, lambda rules: {"hour": 7, "minute": 30}, "早安")


async def test_the_console_runs_a_slot_missed_before_it_started_and_prints_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scheduler.registry.all_jobs", lambda: [MORNING])
    clock = FakeClock(local("2026-11-16 09:00"))
    await seed_demo(db, school_name=SCHOOL, now=clock())
    settings = Settings(database_url=db.url, school_name=SCHOOL, _env_file=None)
    out = io.StringIO()
    assert await run_console(settings, stdin=io.StringIO("/whoami\n"), stdout=out, clock=clock) == 0
    assert "[发给 赵丽华] 早上好" in out.getvalue()
    [run] = await job_runs(db, "morning")
    assert run.slot == local("2026-11-16 07:30")
    assert service._active == {}  # stopped with the console


class _FakeApplication:
    """What `with_job_scheduler` touches of a python-telegram-bot Application."""

    def __init__(self) -> None:
        self.bot_data: dict[str, Any] = {}
        self.calls: list[str] = []

        async def post_init(app: Any) -> None:
            self.calls.append("init")

        async def post_shutdown(app: Any) -> None:
            self.calls.append("shutdown")

        self.post_init: Any = post_init
        self.post_shutdown: Any = post_shutdown


async def test_the_telegram_application_starts_and_stops_the_jobs_with_itself(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scheduler.registry.all_jobs", lambda: [MORNING])
    clock = FakeClock(local("2026-11-16 06:00"))
    settings = Settings(database_url=db.url, school_name=SCHOOL, _env_file=None)
    app = _FakeApplication()
    with_job_scheduler(app, settings, db, clock)
    await app.post_init(app)
    jobs = app.bot_data[JOB_SCHEDULER]
    # Stored under the school's name: other schools' bots may share the job store.
    assert [job.id for job in jobs.scheduler.get_jobs()] == [f"{SCHOOL}/morning"]
    assert service._active == {f"{SCHOOL}/": jobs}
    await app.post_shutdown(app)
    assert app.calls == ["init", "shutdown"]
    assert service._active == {}
