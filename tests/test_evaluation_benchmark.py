"""`benchmarks/evaluation.py` still runs end to end on a small school, so the benchmark cannot
rot: both periods are read in the fixed number of statements, every teacher is scored, and the
campaign's 包保表 holds every household."""

from __future__ import annotations

from benchmarks.evaluation import parse_options, run_benchmark
from models.evaluation.queries import STATEMENTS
from tests.helpers.database import postgres_url


def _database_args() -> list[str]:
    url = postgres_url()
    return ["--database-url", url] if url is not None else []


async def test_a_small_run_reads_both_periods_in_a_fixed_number_of_statements() -> None:
    options = [
        *("--students", "300", "--teachers", "14", "--repeat", "2", "--ledger-items", "100"),
        *_database_args(),
    ]
    report = await run_benchmark(parse_options(options))

    assert [t.statements for t in report.timings] == [STATEMENTS, STATEMENTS]
    assert [t.teachers for t in report.timings] == [14, 14]
    assert all(t.scored == t.teachers for t in report.timings)
    assert report.extras.assigned == report.extras.households == 270  # 30 pairs of siblings
    assert report.good
    assert f"(a) the autumn semester and its winter break: {STATEMENTS} statements (fixed)" in (
        report.render()
    )
