"""`benchmarks/updates.py` still runs end to end with tiny numbers, so the benchmark cannot rot.

It runs on the same database as the rest of the suite: SQLite by default, a scratch database on
the PostgreSQL server when DATABASE_URL points at one.
"""

from __future__ import annotations

from benchmarks.updates import VISIT, parse_options, run_benchmark
from tests.helpers.database import benchmark_database_args


async def test_quick_run_drives_both_bots_and_every_conversation_saves_one_visit() -> None:
    options = parse_options(["--quick", "--time-limit", "120", *benchmark_database_args()])

    report = await run_benchmark(options)

    expected_updates = options.conversations * len(VISIT)
    assert (report.echo.updates, report.bot.updates) == (expected_updates, expected_updates)
    assert report.problems == ()
    assert report.errors_logged == 0
    assert report.bot.rate > 0 and report.echo.rate > 0
    assert f"ratio: {report.ratio:.2f} (target ≥ 0.6)" in report.render()
