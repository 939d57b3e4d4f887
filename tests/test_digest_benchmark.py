"""`benchmarks/digest.py` still runs end to end on a small school, so the benchmark cannot rot."""

from __future__ import annotations

from benchmarks.digest import parse_options, run_benchmark
from models.digest.queries import QUERIES
from tests.helpers.database import postgres_url


def _database_args() -> list[str]:
    url = postgres_url()
    return ["--database-url", url] if url is not None else []


async def test_a_small_run_builds_the_digest_with_the_fixed_number_of_queries() -> None:
    options = parse_options(
        ["--students", "300", "--teachers", "14", "--repeat", "1", *_database_args()]
    )

    report = await run_benchmark(options)

    assert report.queries == QUERIES
    assert report.school.classes == 6 and report.school.visits > 0
    assert report.text.startswith("家访日报 · 基准小学 · 6月16日")
    assert report.chart_bytes > 10_000
    assert f"queries: {QUERIES} (fixed: {QUERIES})" in report.render()
