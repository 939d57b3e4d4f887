"""The running process's metrics, in Prometheus's model (`prometheus-client`), served as text at
`GET /metrics` (`bot.ops.routes`).

Counters are per process and start at zero; every worker process serves its own `/metrics`, and
Prometheus tells them apart by the `instance` it scraped (sum the counters across instances). The
outbox gauges are read from the database when scraped, so every process reports the same
figure for each school (take the `max` across instances, not the sum).

The counters of what a school's bot did (updates, sends, job runs) and the outbox gauges carry
the school's name (`school`), so a process of every school (`bot run --all-schools`) tells its
schools apart; in a school's own process it is that school's. No label holds personal data:
school names, channels, job names, outcomes, logger names and fixed event names.

`count` / `snapshot` keep the older per-process event counters (`telegram_updates_skipped`);
whoever counts also writes a WARNING line with the running total, so a log search finds them
across restarts and workers.
"""

from __future__ import annotations

import logging

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

#: No `*_created` sample beside every counter (the process's start time, again and again).
disable_created_metrics()  # type: ignore[no-untyped-call]

#: Every metric of the bot. Its own registry, so `/metrics` serves exactly these (plus the
#: process's CPU, memory and open files, registered below) and tests can read them back.
REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter(
    "jiafang_updates",
    "Updates (messages, button presses) the dispatcher handled, by channel and outcome "
    "(ok, error: the person was shown an error reference, no_school: no roster yet)",
    ["school", "channel", "outcome"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "jiafang_errors",
    "Log records at ERROR or above, by logger (the log line carries the error reference)",
    ["logger"],
    registry=REGISTRY,
)
SENDS = Counter(
    "jiafang_outbox_sends",
    "Outbox rows the delivery worker tried to send, by channel and outcome "
    "(sent, retry, failed, unknown)",
    ["school", "channel", "outcome"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "jiafang_rate_limited",
    "Calls the messenger refused for going too fast (Telegram's 429, WeCom's 45009), by channel",
    ["channel"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "jiafang_job_runs",
    "Scheduled job slots this process fired, by job and outcome (done, skipped, failed, error)",
    ["school", "job", "outcome"],
    registry=REGISTRY,
)
EVENTS = Counter(
    "jiafang_events",
    "Things worth an operator's attention that are not one person's error, by name "
    "(e.g. telegram_updates_skipped)",
    ["name"],
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "jiafang_outbox_pending",
    "Outbox rows waiting to be sent and already due (read from the database when scraped)",
    ["school"],
    registry=REGISTRY,
)
OUTBOX_LAG = Gauge(
    "jiafang_outbox_oldest_due_seconds",
    "How long the oldest due, unsent outbox row has waited, in seconds (0 when none)",
    ["school"],
    registry=REGISTRY,
)


DATABASE_UP = Gauge(
    "jiafang_database_up",
    "Whether the last scrape could read the outbox from the database (1) or not (0)",
    registry=REGISTRY,
)
ProcessCollector(registry=REGISTRY)


# -- counting -------------------------------------------------------------------------------------


def count(name: str, by: int = 1) -> int:
    """Add `by` to the event counter `name`; the new total in this process."""
    EVENTS.labels(name=name).inc(by)
    return int(value("jiafang_events_total", {"name": name}))


def snapshot() -> dict[str, int]:
    """Every event counter and its total so far."""
    return {
        sample.labels["name"]: int(sample.value)
        for metric in EVENTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def update_handled(channel: str, outcome: str, *, school: str = "") -> None:
    """The dispatcher's hook (`Dispatcher.on_handled`, with the school bound)."""
    UPDATES.labels(school=school, channel=channel, outcome=outcome).inc()


def sent(channel: str, outcome: str, *, school: str = "") -> None:
    SENDS.labels(school=school, channel=channel, outcome=outcome).inc()


def rate_limited(channel: str) -> None:
    RATE_LIMITED.labels(channel=channel).inc()


def job_ran(job: str, outcome: str, *, school: str = "") -> None:
    JOB_RUNS.labels(school=school, job=job, outcome=outcome).inc()


def outbox_read(lags: dict[str, tuple[int, float]]) -> None:
    """The outbox gauges from one scrape's read: (pending, oldest due seconds) by school name;
    a school no longer read is dropped."""
    for gauge in (OUTBOX_PENDING, OUTBOX_LAG):
        gauge.clear()
    for school, (pending, waited) in lags.items():
        OUTBOX_PENDING.labels(school=school).set(pending)
        OUTBOX_LAG.labels(school=school).set(waited)


def value(sample: str, labels: dict[str, str] | None = None) -> float:
    """A sample's current value in this process (0 when it was never counted)."""
    found = REGISTRY.get_sample_value(sample, labels or {})
    return found or 0.0


def exposition() -> bytes:
    """The text Prometheus scrapes (its format 0.0.4)."""
    return generate_latest(REGISTRY)


class ErrorCounter(logging.Handler):
    """Counts ERROR and CRITICAL records by logger; writes nothing (`configure_logging` adds it)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        ERRORS.labels(logger=record.name).inc()
