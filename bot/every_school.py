"""`python -m bot run --all-schools`: every school's bot on the database in one process.

A district's server then runs one process (or, with `--workers N`, N of them) instead of one per
school. Each school with a channel gets what `bot run` gives one school: its own dispatcher (its
rules, zone and school), its Telegram bot (its stored token) and/or WeCom app, its own outbox
worker through its own bots, and its own scheduled jobs (`JobScheduler`s side by side, each
claiming its school's slots; each job fired up to `JOB_JITTER` seconds after its slot, so the
schools' every-minute jobs spread over the minute). What they share: the database's engine and
its connections, one look at the outbox for every school's worker (`OutboxWatch`), and one web
server:

- `/healthz` and `/metrics` for every school (the outbox and job runs of all of them);
- Telegram by webhook: each school's bot at its own path, `/tg/<school id>/<path secret>`, with
  its own secret token (`bot.channels.telegram_webhook`); or each bot polls (the default);
- WeCom: each school's callback and parents' pages under `/school/<school id>/`, so the app's
  callback URL is `<PUBLIC_BASE_URL>/school/<id>/wecom/callback` and the parents' links carry
  the same prefix.

A school whose bot cannot start (Telegram refuses its token, say) is left out with a warning
and the others run; with no school able to run, the command refuses. Schools added or changed
with `school set` take effect when the process is restarted.

```mermaid
stateDiagram-v2
    [*] --> Building: every school with a channel
    Building --> Starting: dispatcher, bots, outbox worker, jobs built; routes mounted
    Starting --> Serving: each school's bot started (one that fails is left out)
    Serving --> Stopping: SIGINT / SIGTERM
    Stopping --> [*]: webhooks answer 503, each bot stopped, web server closed
```
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.delivery.watch import OutboxWatch
from bot.gc_tuning import tune_after_startup
from bot.runner import (
    build_dispatcher,
    calendar_warning,
    serving,
    stopped_by_signals,
    telegram_running,
    with_job_scheduler,
    with_ops,
)
from bot.schools import SchoolRuntime, configured_schools
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError

if TYPE_CHECKING:
    from aiohttp import web

    from bot.channels.telegram_webhook import TelegramWebhook
    from bot.delivery.worker import DeliveryWorker
    from bot.wecom_service import WecomService

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: How many schools' bots start at the same time.
START_AT_ONCE = 8
#: Each school's jobs fire up to this many seconds after their slot: a hundred schools'
#: every-minute jobs spread over the minute instead of all at its first second (which held the
#: event loop up to 2.8 s at every minute with 100 schools, `benchmarks/every_school.py`).
JOB_JITTER = 50
#: Where a school's WeCom callback and parents' pages live on the shared web server.
SCHOOL_PREFIX = "/school/{school_id}"

NO_SCHOOLS = (
    "数据库中没有可运行的学校：请先用 python -m bot school set 为学校保存 Telegram 令牌"
    "或企业微信应用（--all-schools 只运行已保存渠道的学校）。"
)
NONE_STARTED = "没有一所学校的机器人启动成功（见上面的日志），已退出。"


def school_prefix(school_id: int) -> str:
    """The path under which school `school_id`'s WeCom callback and pages are served."""
    return SCHOOL_PREFIX.format(school_id=school_id)


def school_settings(settings: Settings, runtime: SchoolRuntime) -> Settings:
    """`settings` as the school runs with them in a process of every school: its own name, zone,
    rules and credentials, its pages' public address under its prefix."""
    own = runtime.channel_settings(settings)
    if own.public_base_url:
        public = own.public_base_url.rstrip("/") + school_prefix(runtime.school_id)
        own = own.model_copy(update={"public_base_url": public})
    return own


@dataclass
class SchoolBot:
    """One school's bot in the process: built first (routes mounted), then started."""

    runtime: SchoolRuntime
    settings: Settings
    db: Database
    dispatcher: Dispatcher
    clock: Clock
    application: Any | None = None
    service: WecomService | None = None
    hook: TelegramWebhook | None = None
    #: The school's outbox worker, once its bot runs.
    worker: DeliveryWorker | None = None

    @property
    def name(self) -> str:
        return self.runtime.name

    @classmethod
    def build(
        cls,
        settings: Settings,
        runtime: SchoolRuntime,
        db: Database,
        web_app: web.Application,
        *,
        webhook: bool,
        clock: Clock,
    ) -> SchoolBot:
        """The school's dispatcher, bots, outbox worker and jobs; its routes on `web_app`."""
        own = school_settings(settings, runtime)
        dispatcher = build_dispatcher(own, db, clock)
        school = cls(runtime, own, db, dispatcher, clock)
        if runtime.wecom is not None:
            from bot.wecom_service import build_wecom

            school.service = build_wecom(own, db, dispatcher, clock=clock)
            web_app.add_subapp(school_prefix(runtime.school_id), school.service.web_app)
        if runtime.telegram_token is not None:
            from bot.channels.telegram import build_application

            extra = school.service.channels if school.service is not None else None
            school.application = build_application(own, db, dispatcher, extra_channels=extra)
            with_job_scheduler(school.application, own, db, clock, jitter=JOB_JITTER)
            if webhook:
                from bot.channels.telegram_webhook import TelegramWebhook, webhook_secrets

                school.hook = TelegramWebhook(
                    school.application, webhook_secrets(own, runtime.school_id)
                )
                school.hook.mount(web_app)
        return school

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The school's bot started (Telegram application, outbox worker, jobs) for the block."""
        warning = await calendar_warning(self.settings, self.db, now=self.clock())
        if warning is not None:
            log.warning("%s: %s", self.name, warning)
        if self.application is None:
            assert self.service is not None
            async with serving(
                self.settings,
                self.db,
                self.dispatcher,
                self.service.channels,
                self.clock,
                jitter=JOB_JITTER,
            ) as running:
                await running.jobs.start()
                self.worker = running.worker
                yield
            return
        async with telegram_running(self.application, polling=self.hook is None):
            from bot.channels.telegram import WORKER

            self.worker = self.application.bot_data.get(WORKER)
            yield


async def serve_every_school(
    settings: Settings,
    *,
    webhook: bool = False,
    stop: asyncio.Event | None = None,
    clock: Clock = utcnow,
    started: Callable[[list[SchoolBot]], None] | None = None,
) -> int:
    """Run every school's bot until `stop` is set (SIGINT / SIGTERM when not given); ConfigError
    when no school can run. `started` is told which schools run once they all have started."""
    from bot.wecom_service import start_web

    base_url = None
    if webhook:
        from bot.channels.telegram import ALLOWED_UPDATES
        from bot.channels.telegram_webhook import webhook_base_url

        base_url = webhook_base_url(settings)
    db = Database(settings.database_url)
    try:
        schools = await _runnable(db, settings)
        web_app = with_ops(settings, db, clock=clock)  # every school's outbox and job runs
        bots = [
            SchoolBot.build(settings, runtime, db, web_app, webhook=webhook, clock=clock)
            for runtime in schools
        ]
        stop = stopped_by_signals() if stop is None else stop
        async with contextlib.AsyncExitStack() as stack:
            running = await _start_all(stack, bots)
            if not running:
                raise ConfigError(NONE_STARTED)
            watch = OutboxWatch(db, clock=clock)
            for bot in running:
                if bot.worker is not None:
                    watch.watch(bot.runtime.school_id, bot.worker)
            watching = asyncio.create_task(watch.run_forever(), name="outbox-watch")
            stack.push_async_callback(_cancelled, watching)
            web_runner = await start_web(web_app, settings)
            stack.push_async_callback(web_runner.cleanup)
            for bot in running:
                if bot.hook is not None:
                    stack.callback(bot.hook.close)  # 503 first: Telegram delivers it again
                    assert base_url is not None
                    await bot.hook.register(base_url, list(ALLOWED_UPDATES))
            tune_after_startup()
            log.info("%d school(s) running: %s", len(running), ", ".join(b.name for b in running))
            if started is not None:
                started(running)
            await stop.wait()
    finally:
        await db.dispose()
    return 0


async def _runnable(db: Database, settings: Settings) -> list[SchoolRuntime]:
    """The schools with a channel to run; their problems (a WeCom app stored in part) logged."""
    schools = await configured_schools(db, settings)
    for runtime in schools:
        for problem in runtime.problems:
            log.warning("%s", problem)
    runnable = [runtime for runtime in schools if runtime.channels]
    if not runnable:
        raise ConfigError(NO_SCHOOLS)
    return runnable


async def _start_all(stack: contextlib.AsyncExitStack, bots: list[SchoolBot]) -> list[SchoolBot]:
    """Start the schools' bots, `START_AT_ONCE` at a time (their round trips to Telegram and
    the database overlap); the ones that started, in the schools' order."""
    room = asyncio.Semaphore(START_AT_ONCE)

    async def start(bot: SchoolBot) -> bool:
        async with room:
            return await _start(stack, bot)

    started = await asyncio.gather(*(start(bot) for bot in bots))
    return [bot for bot, ok in zip(bots, started, strict=True) if ok]


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _start(stack: contextlib.AsyncExitStack, bot: SchoolBot) -> bool:
    """Start `bot` on `stack` (stopped when it unwinds); False, logged, when it cannot start."""
    try:
        await stack.enter_async_context(bot.running())
    except Exception as error:  # one school's bad token must not keep the others down
        if bot.hook is not None:
            bot.hook.close()
        log.error(
            "school %s (id %d) did not start and is left out: %s",
            bot.name,
            bot.runtime.school_id,
            type(error).__name__,
        )
        return False
    return True
