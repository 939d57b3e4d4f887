"""`GET /metrics`: Prometheus's text format (read back with prometheus_client's own parser), its
figures the ones the bot just lived through — an update handled, a message sent, a 429 from the
Bot API or WeCom, a job run, an error logged — and the outbox's gauges read from the database."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.channels.wecom_api import WecomApi
from bot.delivery.worker import DeliveryWorker
from bot.runner import build_dispatcher, build_job_scheduler, with_ops
from bot.settings import Settings
from handlers.types import Inbound, Reply
from models.db.engine import Database
from models.outbox.tables import OutboxStatus, enqueue
from models.roster.queries import current_school
from scheduler.registry import all_jobs
from tests.fakes.telegram_request import Failure, FakeBotApi
from tests.fakes.wecom_server import WecomServer
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.outbox import ROWS_SCHOOL, outbox_row, school_for_rows
from tests.helpers.servers import wecom_config
from tests.helpers.telegram_line import telegram

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

#: `seed_school`'s school.
SCHOOL = "测试小学"

FAMILIES = {
    "jiafang_updates",
    "jiafang_errors",
    "jiafang_outbox_sends",
    "jiafang_rate_limited",
    "jiafang_job_runs",
    "jiafang_events",
    "jiafang_outbox_pending",
    "jiafang_outbox_oldest_due_seconds",
    "jiafang_database_up",
}


async def _scrape(
    db: Database, clock: FakeClock, school: Callable[[], Awaitable[int | None]] | None = None
) -> tuple[set[str], Samples]:
    """The families and every sample of one scrape, parsed as Prometheus would (`school`: the
    process's own school; None: every school's)."""
    app = with_ops(Settings(_env_file=None), db, clock=clock, school=school)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/metrics")
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain; version=")
        text = await answer.text()
    families = list(text_string_to_metric_families(text))
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
    }
    return {family.name for family in families}, samples


def _school(name: str) -> frozenset[tuple[str, str]]:
    return frozenset({("school", name)})


async def _id(db: Database, name: str) -> int | None:
    async with db.session() as session:
        school = await current_school(session=session, name=name)
        return school.id if school is not None else None


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def _queue(db: Database, key: str, chat: str, channel: str, due_at: object) -> None:
    async with db.session() as session:
        await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key=key,
            kind="test",
            channel=channel,
            chat_id=chat,
            payload=Reply(f"通知 {key}").to_dict(),
            due_at=due_at,  # type: ignore[arg-type]
        )


async def test_every_family_is_served_in_prometheus_text_format(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    families, samples = await _scrape(db, clock)
    assert families >= FAMILIES
    assert samples[("jiafang_database_up", frozenset())] == 1.0
    assert samples[("jiafang_outbox_pending", _school(SCHOOL))] == 0.0


async def test_the_counters_and_the_gauges_tell_the_schools_apart(
    db: Database, clock: FakeClock
) -> None:
    # A process of every school (`bot run --all-schools`): each school's own figures.
    await seed_school(db, name="一小")
    await seed_school(db, name="二小")
    dispatchers = {
        name: build_dispatcher(Settings(_env_file=None, school_name=name), db, clock)
        for name in ("一小", "二小")
    }
    _families, before = await _scrape(db, clock)
    for text in ("/help", "/start"):
        await dispatchers["一小"].handle(Inbound("console", "u1", "u1", text=text))
    await dispatchers["二小"].handle(Inbound("console", "u2", "u2", text="/help"))
    async with db.session() as session:
        two = await current_school(session=session, name="二小")
        assert two is not None and two.id is not None
        await enqueue(
            session=session,
            school_id=two.id,
            key="waiting",
            kind="test",
            channel="wecom",
            chat_id="wx1",
            payload=Reply("通知").to_dict(),
            due_at=clock() - timedelta(minutes=3),
        )
        await session.commit()
    _families, after = await _scrape(db, clock)
    updates = "jiafang_updates_total"
    assert _delta(before, after, updates, school="一小", channel="console", outcome="ok") == 2
    assert _delta(before, after, updates, school="二小", channel="console", outcome="ok") == 1
    pending = {
        dict(labels)["school"]: value
        for (name, labels), value in after.items()
        if name == "jiafang_outbox_pending"
    }
    assert pending == {"一小": 0.0, "二小": 1.0}
    assert after[("jiafang_outbox_oldest_due_seconds", _school("二小"))] == 180.0
    # A school's own process reads its own school's outbox only.
    _families, own = await _scrape(db, clock, school=lambda: _id(db, "一小"))
    assert [labels for (name, labels) in own if name == "jiafang_outbox_pending"] == [
        _school("一小")
    ]


async def test_an_update_handled_is_counted_by_channel_and_outcome(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)
    dispatcher = build_dispatcher(Settings(_env_file=None, school_name=SCHOOL), db, clock)
    _families, before = await _scrape(db, clock)

    await dispatcher.handle(Inbound(channel="console", user_id="u1", chat_id="u1", text="/help"))
    await dispatcher.handle(Inbound(channel="console", user_id="u1", chat_id="u1", text="/start"))

    _families, after = await _scrape(db, clock)
    updates = "jiafang_updates_total"
    assert _delta(before, after, updates, school=SCHOOL, channel="console", outcome="ok") == 2
    assert _delta(before, after, updates, school=SCHOOL, channel="console", outcome="error") == 0


async def test_a_send_and_a_429_from_the_bot_api_are_counted_and_the_gauges_read_the_outbox(
    db: Database, clock: FakeClock
) -> None:
    api = FakeBotApi()
    api.fail("sendMessage", Failure.RETRY_AFTER, retry_after=7, after=1)
    await _queue(db, "first", "6001", "telegram", clock())
    await _queue(db, "second", "6002", "telegram", clock())
    await _queue(db, "waiting", "wx1", "wecom", clock() - timedelta(minutes=2))  # nobody sends it
    _families, before = await _scrape(db, clock)

    async with telegram(api) as line:
        worker = DeliveryWorker(db, {"telegram": line.channel}, clock)
        await worker.run_once()

    statuses = sorted([(await outbox_row(db, k)).status for k in ("first", "second")])
    assert statuses == [OutboxStatus.PENDING, OutboxStatus.SENT]
    _families, after = await _scrape(db, clock)
    sends = "jiafang_outbox_sends_total"
    # A worker built by hand names no school; `build_delivery` names the dispatcher's.
    assert _delta(before, after, sends, school="", channel="telegram", outcome="sent") == 1
    assert _delta(before, after, sends, school="", channel="telegram", outcome="retry") == 1
    assert _delta(before, after, "jiafang_rate_limited_total", channel="telegram") == 1
    # The retried row waits for its 7 s; the WeCom row has waited two minutes.
    assert after[("jiafang_outbox_pending", _school(ROWS_SCHOOL))] == 1.0
    assert after[("jiafang_outbox_oldest_due_seconds", _school(ROWS_SCHOOL))] == 120.0


async def test_a_job_run_is_counted_by_job_and_outcome(db: Database, clock: FakeClock) -> None:
    await seed_school(db)
    jobs = build_job_scheduler(Settings(_env_file=None, school_name=SCHOOL), db, None, clock)
    name = all_jobs()[0].name
    _families, before = await _scrape(db, clock)

    outcome = await jobs.fire(name, slot=clock())
    again = await jobs.fire(name, slot=clock())

    assert outcome is not None and again is not None
    _families, after = await _scrape(db, clock)
    runs = "jiafang_job_runs_total"
    ran = outcome.status.value
    assert _delta(before, after, runs, school=SCHOOL, job=name, outcome=ran) == 1
    # The slot ran once.
    assert _delta(before, after, runs, school=SCHOOL, job=name, outcome="skipped") == 1


async def test_an_error_logged_is_counted_by_logger(
    db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    _families, before = await _scrape(db, clock)

    logging.getLogger("bot.example").error("something failed, ref %s", "ab12cd34")

    _families, after = await _scrape(db, clock)
    assert _delta(before, after, "jiafang_errors_total", logger="bot.example") == 1


def test_the_older_event_counters_keep_their_api() -> None:
    before = metrics.snapshot().get("test_event", 0)
    assert metrics.count("test_event") == before + 1
    assert metrics.count("test_event", 2) == before + 3
    assert metrics.snapshot()["test_event"] == before + 3


async def test_wecoms_frequency_limit_is_counted_but_a_busy_answer_is_not(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    before = metrics.value("jiafang_rate_limited_total", {"channel": "wecom"})
    wecom_server.fail_next(45009, times=2)
    wecom_server.fail_next(-1, times=1)
    api = WecomApi(db, wecom_config(wecom_server, retry_delays=(0.0, 0.0, 0.0)), now=clock)

    await api.send_text("zhangsan", "您好")
    await api.send_text("lisi", "您好")

    assert len(wecom_server.delivered) == 2
    assert metrics.value("jiafang_rate_limited_total", {"channel": "wecom"}) == before + 2
