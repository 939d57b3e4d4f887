"""`benchmarks/campaign.py` still runs end to end on a small school, so the benchmark cannot rot:
the campaign's figures run the fixed number of statements and agree with a plain count of the
visits (households visited, double visits, left-behind households contacted this month)."""

from __future__ import annotations

from benchmarks.campaign import parse_options, run_benchmark
from models.campaigns.queries import FIGURES_STATEMENTS
from tests.helpers.database import postgres_url


def _database_args() -> list[str]:
    url = postgres_url()
    return ["--database-url", url] if url is not None else []


async def test_a_small_run_reads_the_figures_in_a_fixed_number_of_statements() -> None:
    options = ["--students", "240", "--teachers", "12", "--repeat", "2", *_database_args()]
    report = await run_benchmark(parse_options(options))

    assert report.built.students == 240
    assert 0 < report.built.households < 240  # siblings share a household
    assert report.timing.statements == FIGURES_STATEMENTS
    assert len(report.timing.times) == 2
    assert report.agrees and report.good
    school = report.figures.coverage.school
    assert school.households == report.built.households and 0 < school.visited <= school.households
    assert f"campaign_figures: {FIGURES_STATEMENTS} statements (fixed)" in report.render()
