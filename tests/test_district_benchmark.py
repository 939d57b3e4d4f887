"""`benchmarks/district.py` still runs end to end on a tiny district, so the benchmark cannot rot:
the district is generated, the district view reads it in its fixed number of statements, its
入户 total agrees with a plain count of the visits, and the morning sweep runs every school's
jobs through their schedulers, queueing what each school's people get in a number of statements
that does not depend on the school (no timing is asserted)."""

from __future__ import annotations

import pytest

from benchmarks.digest import scratch_database
from benchmarks.district import SWEEP_MONDAY, build_district, parse_options, run_benchmark
from benchmarks.district_sweep import SchoolSweep, run_sweep
from models.district.compliance import STATEMENTS
from tests.helpers.database import postgres_url

#: What every school of the generated district queues on its Monday morning besides the weekly
#: nudge (one 德育处 with a bound account; six classes, none with its parent meetings planned).
EVERY_SCHOOL = {
    "daily_digest": 1,
    "duty_overdue_alerts": 1,
    "meeting_midpoint_check": 6 + 1,
    "survey_semester_check": 1,
}


def _database_args() -> list[str]:
    url = postgres_url()
    return ["--database-url", url] if url is not None else []


async def test_a_tiny_district_is_read_in_the_fixed_number_of_statements() -> None:
    options = ["--schools", "2", "--students-per-school", "50", "--repeat", "2"]
    report = await run_benchmark(
        parse_options([*options, "--sweep-repeat", "1", *_database_args()])
    )

    assert report.built.schools == 2 and report.built.students == 100
    assert report.built.rows["visit"] > 0 and report.built.rows["notice_receipt"] > 0
    assert [s.students for s in report.report.schools] == [50, 50]
    assert report.timing.statements == STATEMENTS and len(report.timing.times) == 2
    assert report.agrees and report.good
    totals = report.report.totals
    assert totals.overdue_duties > 0 and totals.unreached_incidents > 0 and totals.receipts > 0
    assert f"{STATEMENTS} statements for the whole district (fixed)" in report.render()
    assert report.text.startswith("区域家访合规日报")
    assert report.answer.characters == len(report.text) and report.answer.chart_bytes
    assert "/district answer" in report.render()


async def test_the_morning_sweep_queues_each_schools_messages_in_the_same_statements() -> None:
    options = ["--schools", "2", "--students-per-school", "50", "--repeat", "1"]
    sweeps = ["--sweep-repeat", "2", "--sweep-concurrency", "2"]  # counted school by school
    report = await run_benchmark(parse_options([*options, *sweeps, *_database_args()]))
    sweep = report.sweep

    assert len(sweep.runs) == 2 and sweep.consistent
    for run in sweep.runs:
        first, second, bureau = run.schools
        assert (first.students, second.students, bureau.students) == (50, 50, 0)
        for school in (first, second):
            others = dict(school.queued)
            nudged = others.pop("weekly_nudge")
            assert 0 < nudged <= 6 + 7 and others == EVERY_SCHOOL
            assert school.charts == 1 and school.slots == bureau.slots > 20
        # The bureau's entry: the district digest to its 区域管理员, with the district's chart.
        assert bureau.queued == {"district_digest": 1} and bureau.charts == 1
        assert run.outbox == {s.school_id: s.rows for s in run.schools}
        assert first.statements == second.statements
    # Only the first run records the overdue duties in the ledger (its events).
    assert sweep.runs[1].schools[0].statements <= sweep.runs[0].schools[0].statements
    lines = report.render()
    assert "morning sweep of 2027-06-14" in lines and "statements per school: " in lines
    assert "every run the same, equal to the outbox" in lines


def test_sweeping_processes_need_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_options(["--sweep-workers", "2"])
    assert "--sweep-workers needs PostgreSQL" in capsys.readouterr().err


@pytest.mark.skipif(
    postgres_url() is None, reason="several processes on one database: PostgreSQL (CI runs it)"
)
async def test_two_sweeping_processes_run_each_slot_once_and_queue_what_one_process_does() -> None:
    options = ["--schools", "2", "--students-per-school", "50", "--repeat", "1"]
    alone = await run_benchmark(parse_options([*options, "--sweep-repeat", "1", *_database_args()]))
    shared = await run_benchmark(
        parse_options([*options, "--sweep-repeat", "2", "--sweep-workers", "2", *_database_args()])
    )

    assert shared.sweep.consistent  # each run: the outbox holds what the jobs said they queued
    for run in shared.sweep.runs:
        assert run.workers == 2
        assert [s.queued for s in run.schools] == [s.queued for s in alone.sweep.first.schools]
    assert "in each of 2 processes" in shared.render()


async def _one_school(students: int) -> SchoolSweep:
    async with scratch_database(postgres_url()) as database:
        await build_district(database, schools=1, students=students, today=SWEEP_MONDAY)
        await run_sweep(database, SWEEP_MONDAY)  # the first run records the ledger's items
        run = await run_sweep(database, SWEEP_MONDAY)
    return run.schools[0]


async def test_a_bigger_school_takes_as_many_statements_job_by_job() -> None:
    small, big = await _one_school(50), await _one_school(600)

    assert big.queued["meeting_midpoint_check"] > small.queued["meeting_midpoint_check"]
    assert big.job_statements == small.job_statements
    assert big.statements == small.statements
    assert SWEEP_MONDAY.weekday() == 0  # the weekly nudge's day
