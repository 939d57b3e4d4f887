"""`benchmarks/faults.py` runs end to end in its smallest configuration, so the fault drill cannot
rot: real worker processes are killed, their PostgreSQL connections ended, the fake Bot API
answers 500 for a while and the fake WeCom server expires its tokens, and every count comes out
right (nothing lost, nothing twice).

It runs on the suite's database kind: a temporary SQLite file by default (where the `pg`
scenario is skipped, with its reason), a scratch database on the PostgreSQL server when
DATABASE_URL points at one. No time is asserted; the counts are.
"""

from __future__ import annotations

import aiohttp

from benchmarks.faults import parse_options, run_benchmark
from tests.fakes.bot_api_server import BotApiServer
from tests.helpers.database import postgres_url

SMALLEST = [
    "--guardians",
    "200",
    "--kills",
    "2",
    "--terminations",
    "2",
    "--outage",
    "3",
    "--expiries",
    "2",
    "--lease",
    "10",
    "--poll-interval",
    "1",
    "--time-limit",
    "120",
]


async def test_the_smallest_fault_drill_loses_nothing_and_sends_nothing_twice() -> None:
    server = postgres_url()
    options = parse_options([*SMALLEST, "--database-url", server or "sqlite"])

    report = await run_benchmark(options)

    shown = report.render()
    assert report.ok, shown
    ran = {result.scenario: result for result in report.results}
    if server is None:
        assert report.kind == "sqlite", shown
        assert [name for name, _ in report.skipped] == ["pg"], shown
        assert set(ran) == {"kill", "outage", "wecom"}, shown
    else:
        assert report.kind == "postgresql" and not report.skipped, shown
        assert set(ran) == {"kill", "pg", "outage", "wecom"}, shown
        assert "rounds: 2" in ran["pg"].render(), shown
    for result in ran.values():
        assert result.queued == 200, shown
        assert (result.lost, result.twice) == (0, 0), shown
        assert result.delivered + result.unknown_neither == 200, shown
        assert result.statuses["sent"] + result.statuses["unknown"] == 200, shown
    assert "kills: 2 " in ran["kill"].render(), shown
    assert ran["outage"].statuses["sent"] == 200, shown
    assert "42001 answered" in ran["wecom"].render(), shown
    assert "all counts right" in shown


async def test_the_fake_bot_api_answers_500_during_an_outage_and_delivers_nothing() -> None:
    async with BotApiServer() as server, aiohttp.ClientSession() as http:
        send = f"{server.base_url}123:abc/sendMessage"
        outage = f"{server.base_url[:-4]}/fake/outage"
        async with http.post(outage, params={"seconds": "60", "status": "502"}) as answer:
            assert answer.status == 200
        async with http.post(send, json={"chat_id": 5, "text": "在吗"}) as answer:
            assert answer.status == 502
            assert (await answer.json())["description"] == "Bad Gateway"
        assert server.api.delivered() == [] and server.api.outage_answers == 1
        async with http.post(outage, params={"seconds": "0"}) as answer:
            assert answer.status == 200
        async with http.post(send, json={"chat_id": 5, "text": "在吗"}) as answer:
            assert answer.status == 200
        assert [m["text"] for m in server.api.delivered()] == ["在吗"]
