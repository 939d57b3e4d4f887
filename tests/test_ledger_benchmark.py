"""`benchmarks/ledger.py` still runs end to end on a small school, so the benchmark cannot rot;
and its reads run the same fixed number of statements on a small and on a bigger ledger."""

from __future__ import annotations

from benchmarks.ledger import VIEW_STATEMENTS, parse_options, run_benchmark
from models.digest.ledger import STATEMENTS
from tests.helpers.database import postgres_url

SMALL_SCHOOL = ("--students", "300", "--teachers", "14", "--repeat", "2")


def _database_args() -> list[str]:
    url = postgres_url()
    return ["--database-url", url] if url is not None else []


async def test_a_small_run_reads_the_ledger_in_a_fixed_number_of_statements() -> None:
    small = await run_benchmark(parse_options([*SMALL_SCHOOL, "--items", "60", *_database_args()]))
    bigger = await run_benchmark(
        parse_options([*SMALL_SCHOOL, "--items", "600", *_database_args()])
    )

    assert (small.ledger.items, bigger.ledger.items) == (60, 600)
    assert bigger.ledger.events > 600 and bigger.ledger.overdue > 0
    for report in (small, bigger):
        assert (report.line.statements, report.views.statements) == (STATEMENTS, VIEW_STATEMENTS)
        assert report.fixed
    assert f"(a) digest line: {STATEMENTS} statements (fixed)" in bigger.render()
