"""`benchmarks/district.py` still runs end to end on a tiny district, so the benchmark cannot rot:
the district is generated, the district view reads it in its fixed number of statements, and
its 入户 total agrees with a plain count of the visits (no timing is asserted)."""

from __future__ import annotations

from benchmarks.district import parse_options, run_benchmark
from models.district.compliance import STATEMENTS
from tests.helpers.database import postgres_url


def _database_args() -> list[str]:
    url = postgres_url()
    return ["--database-url", url] if url is not None else []


async def test_a_tiny_district_is_read_in_the_fixed_number_of_statements() -> None:
    options = ["--schools", "2", "--students-per-school", "50", "--repeat", "2"]
    report = await run_benchmark(parse_options([*options, *_database_args()]))

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
