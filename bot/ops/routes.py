"""`GET /healthz` and `GET /metrics` on the bot's web server (the same aiohttp application as
WeCom's callback and the parents' pages).

`/healthz` answers JSON (`bot.ops.health`): 200 when `ok` or `degraded`, 503 when `down`.
`/metrics` answers Prometheus's text format (`bot.metrics`), its outbox gauges read from the
database first (one statement). Neither holds personal data; keep both on the operators' network
all the same (the reverse proxy in front of the bot need only pass `/wecom/` and the parents'
pages).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot import metrics
from bot.ops.health import School, check_health, read_outbox_lags
from models.db.columns import utcnow
from models.db.engine import Database

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


def add_ops_routes(
    app: web.Application,
    *,
    db: Database,
    head: str,
    jobs: Sequence[str],
    lag_threshold: float,
    now: Callable[[], datetime] = utcnow,
    school: School | None = None,
) -> None:
    """Serve `/healthz` and `/metrics` on `app`; `head` is the migration the code expects,
    `jobs` the scheduled jobs whose latest slots are shown, `school` finds the bot's school
    (its outbox and its jobs are the ones shown; None: every school's)."""

    async def healthz(request: web.Request) -> web.Response:
        health = await check_health(
            db, now=now(), head=head, jobs=jobs, lag_threshold=lag_threshold, school=school
        )
        return web.Response(
            text=json.dumps(health.body, ensure_ascii=False),
            status=health.http_status,
            content_type="application/json",
            charset="utf-8",
        )

    async def scrape(request: web.Request) -> web.Response:
        try:
            school_id = await school() if school is not None else None
            lags = await read_outbox_lags(db, now(), school_id)
        except Exception as error:
            log.warning("metrics: the outbox could not be read (%s)", type(error).__name__)
            metrics.DATABASE_UP.set(0)
        else:
            metrics.DATABASE_UP.set(1)
            metrics.outbox_read(
                {name: (lag.pending, lag.oldest_due_seconds) for name, lag in lags.items()}
            )
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get(HEALTH_PATH, healthz)
    app.router.add_get(METRICS_PATH, scrape)
