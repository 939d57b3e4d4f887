"""`benchmarks/surveys.py` still runs end to end on a small school, so the benchmark cannot rot:
both surveys' results run the fixed number of statements, and every count they show is what the
families answered."""

from __future__ import annotations

from benchmarks.surveys import parse_options, run_benchmark
from models.surveys.results import STATEMENTS
from tests.helpers.database import postgres_url


def _database_args() -> list[str]:
    url = postgres_url()
    return ["--database-url", url] if url is not None else []


async def test_a_small_run_reads_both_surveys_in_a_fixed_number_of_statements() -> None:
    options = ["--students", "300", "--teachers", "14", "--repeat", "2", *_database_args()]
    report = await run_benchmark(parse_options(options))

    assert [(s.families, s.answers) for s in report.surveys] == [(300, 2400), (300, 1500)]
    assert [t.statements for t in report.timings] == [STATEMENTS, STATEMENTS]
    assert all(t.agrees for t in report.timings)
    assert report.good
    assert f"(a) anonymous, closed: school-wide: {STATEMENTS} statements (fixed)" in report.render()
