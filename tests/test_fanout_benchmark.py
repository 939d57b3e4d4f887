"""`benchmarks/fanout.py` still runs end to end with a few guardians, so it cannot rot.

It runs on the same database as the rest of the suite: SQLite by default, a scratch database on
the PostgreSQL server when DATABASE_URL points at one. No figure is asserted (the machine's
speed is not the code's); the data check is.
"""

from __future__ import annotations

from benchmarks.fanout import QUICK_GUARDIANS, parse_options, run_benchmark, run_schools
from tests.helpers.database import benchmark_database_args


async def test_quick_fan_out_reaches_every_guardian_exactly_once_within_the_limits() -> None:
    options = parse_options(["--quick", "--time-limit", "120", *benchmark_database_args()])

    report = await run_benchmark(options)

    assert report.guardians == QUICK_GUARDIANS
    assert (report.delivered, report.duplicates, report.losses) == (QUICK_GUARDIANS, 0, 0)
    assert report.statuses["sent"] == QUICK_GUARDIANS
    assert report.problems == ()
    assert report.errors_logged == 0
    assert "ratio:" in report.render()


async def test_two_schools_fanning_out_at_once_each_reach_every_guardian_once() -> None:
    options = parse_options(
        ["--quick", "--schools", "2", "--time-limit", "120", *benchmark_database_args()]
    )

    reports = await run_schools(options)

    assert len(reports) == 2
    for report in reports:  # each school's own bot, its own limits, its own rows
        assert (report.delivered, report.duplicates, report.losses) == (QUICK_GUARDIANS, 0, 0)
        assert report.statuses["sent"] == QUICK_GUARDIANS
        assert report.within_limits and report.problems == ()
