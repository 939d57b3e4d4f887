"""`python -m bot run --all-schools`: every school's bot on the database in one process.

A district's server then runs one process (or, with `--workers N`, N of them) instead of one per
school. Each school with a channel gets what `bot run` gives one school: its own dispatcher (its
rules, zone and school), its Telegram bot (its stored token) and/or WeCom app, its own outbox
worker through its own bots, and its own scheduled jobs (`JobScheduler`s side by side, each
claiming its school's slots; each job fired up to `JOB_JITTER` seconds after its slot, so the
schools' every-minute jobs spread over the minute). What they share: the database's engine and
its connections, one look at the outbox for every school's worker (`OutboxWatch`), and one web
server (`bot.web.school_routes`):

- `/healthz` and `/metrics` for every school (the outbox and job runs of all of them);
- Telegram by webhook: each school's bot at its own path, `/tg/<school id>/<path secret>`, with
  its own secret token (`bot.channels.telegram_webhook`); or each bot polls (the default);
- WeCom: each school's callback and parents' pages under `/school/<school id>/`, so the app's
  callback URL is `<PUBLIC_BASE_URL>/school/<id>/wecom/callback` and the parents' links carry
  the same prefix.

A school whose bot cannot start (Telegram refuses its token, say) is left out with a warning
and the others run; with no school able to run, the command refuses. While it serves, the
process reads the schools again every `REFRESH_EVERY` seconds (at once on SIGHUP): a school
added with `python -m bot school set` starts, one whose channels were cleared stops, and one
whose settings changed (token, WeCom app, rules, zone, name) restarts with them — the other
schools go on undisturbed. A school left out is tried again once its settings change.

```mermaid
stateDiagram-v2
    [*] --> Starting: every school with a channel
    Starting --> Serving: each school's bot built and started (one that fails is left out), web server up
    Serving --> Refreshing: every REFRESH_EVERY s, or SIGHUP
    Refreshing --> Serving: removed or changed schools stopped, new or changed ones started
    Serving --> Stopping: SIGINT / SIGTERM
    Stopping --> [*]: webhooks answer 503, web server closed, each bot stopped
```
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
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
from bot.web.school_routes import SchoolRoutes, school_prefix
from handlers.dispatcher import Dispatcher
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError

if TYPE_CHECKING:
    from bot.channels.telegram_webhook import TelegramWebhook
    from bot.delivery.worker import DeliveryWorker
    from bot.wecom_service import WecomService

__all__ = ["NO_SCHOOLS", "EverySchool", "SchoolBot", "school_prefix", "serve_every_school"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: How many schools' bots start at the same time.
START_AT_ONCE = 8
#: Each school's jobs fire up to this many seconds after their slot: a hundred schools'
#: every-minute jobs spread over the minute instead of all at its first second (which held the
#: event loop up to 2.8 s at every minute with 100 schools, `benchmarks/every_school.py`).
JOB_JITTER = 50
#: How often the schools are read again (schools added, changed or cleared take effect).
REFRESH_EVERY = 60.0

NO_SCHOOLS = (
    "数据库中没有可运行的学校：请先用 python -m bot school set 为学校保存 Telegram 令牌"
    "或企业微信应用（--all-schools 只运行已保存渠道的学校）。"
)
NONE_STARTED = "没有一所学校的机器人启动成功（见上面的日志），已退出。"


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
    """One school's bot in the process: built, then started; its routes served once it runs."""

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
    #: What stops the running school (`EverySchool.stop` unwinds it).
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def name(self) -> str:
        return self.runtime.name

    @property
    def school_id(self) -> int:
        return self.runtime.school_id

    @classmethod
    def build(
        cls,
        settings: Settings,
        runtime: SchoolRuntime,
        db: Database,
        *,
        webhook: bool,
        clock: Clock,
    ) -> SchoolBot:
        """The school's dispatcher, bots, outbox worker and jobs (its routes not served yet)."""
        own = school_settings(settings, runtime)
        dispatcher = build_dispatcher(own, db, clock)
        school = cls(runtime, own, db, dispatcher, clock)
        if runtime.wecom is not None:
            from bot.wecom_service import build_wecom

            school.service = build_wecom(own, db, dispatcher, clock=clock)
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


@dataclass
class EverySchool:
    """The schools running in the process: started, stopped and restarted one by one as their
    settings on the database change, each on its own stack (unwound when it stops)."""

    settings: Settings
    db: Database
    routes: SchoolRoutes
    watch: OutboxWatch
    clock: Clock
    #: TELEGRAM_WEBHOOK_URL when the bots take their updates by webhook (None: polling).
    webhook_url: str | None = None
    #: The running schools, by id.
    bots: dict[int, SchoolBot] = field(default_factory=dict)
    #: Schools that could not start, by id, as they were: tried again when they change.
    left_out: dict[int, SchoolRuntime] = field(default_factory=dict)
    #: Every school as last read (with or without a channel): its problems logged once.
    seen: dict[int, SchoolRuntime] = field(default_factory=dict)
    #: Whether the web server is up (webhooks are registered with Telegram from then on).
    _serving: bool = False

    async def read(self) -> list[SchoolRuntime]:
        """The schools with a channel to run; a new or changed school's problems logged."""
        schools = await configured_schools(self.db, self.settings)
        for runtime in schools:
            if self.seen.get(runtime.school_id) != runtime:
                for problem in runtime.problems:
                    log.warning("%s", problem)
        self.seen = {runtime.school_id: runtime for runtime in schools}
        return [runtime for runtime in schools if runtime.channels]

    async def start(self, schools: Iterable[SchoolRuntime]) -> list[SchoolBot]:
        """Start the schools' bots, `START_AT_ONCE` at a time (their round trips to Telegram
        and the database overlap); the ones that started, in the schools' order."""
        room = asyncio.Semaphore(START_AT_ONCE)

        async def start(runtime: SchoolRuntime) -> SchoolBot | None:
            async with room:
                return await self._start(runtime)

        started = await asyncio.gather(*(start(runtime) for runtime in schools))
        return [bot for bot in started if bot is not None]

    async def _start(self, runtime: SchoolRuntime) -> SchoolBot | None:
        """Start one school on a stack of its own; None, logged, when it cannot start."""
        bot: SchoolBot | None = None
        try:
            bot = SchoolBot.build(
                self.settings,
                runtime,
                self.db,
                webhook=self.webhook_url is not None,
                clock=self.clock,
            )
            await bot.stack.enter_async_context(bot.running())
            await self._serve(bot)
        except Exception as error:  # one school's bad token must not keep the others down
            if bot is not None:
                await _unwound(bot.stack, runtime)
            self.left_out[runtime.school_id] = runtime
            log.error(
                "school %s (id %d) did not start and is left out: %s",
                runtime.name,
                runtime.school_id,
                type(error).__name__,
            )
            return None
        self.left_out.pop(runtime.school_id, None)
        self.bots[runtime.school_id] = bot
        return bot

    async def _serve(self, bot: SchoolBot) -> None:
        """The started school's routes served and its outbox watched, undone on its stack."""
        stack = bot.stack
        if bot.hook is not None:
            self.routes.add_hook(bot.hook)
            stack.callback(self.routes.remove_hook, bot.hook)
        if bot.worker is not None:
            self.watch.watch(bot.school_id, bot.worker)
            stack.callback(self.watch.unwatch, bot.school_id)
        if bot.service is not None:
            await self.routes.add_app(bot.school_id, bot.service.web_app)
            stack.push_async_callback(self.routes.remove_app, bot.school_id)
        if bot.hook is not None:
            stack.callback(bot.hook.close)  # 503 first: Telegram delivers it again later
            if self._serving:
                await self._register(bot)

    async def _register(self, bot: SchoolBot) -> None:
        from bot.channels.telegram import ALLOWED_UPDATES

        assert bot.hook is not None and self.webhook_url is not None
        await bot.hook.register(self.webhook_url, list(ALLOWED_UPDATES))

    async def web_started(self) -> None:
        """The web server is up: point every running bot's webhook at it (a school whose
        webhook Telegram refuses is stopped and left out)."""
        self._serving = True
        for bot in list(self.bots.values()):
            if bot.hook is None:
                continue
            try:
                await self._register(bot)
            except ConfigError as error:
                log.error("school %s (id %d): %s", bot.name, bot.school_id, error)
                self.left_out[bot.school_id] = bot.runtime
                await self.stop(bot.school_id)

    async def stop(self, school_id: int) -> None:
        """Stop one school's bot (its webhook answers 503, then 404; its jobs and worker end)."""
        bot = self.bots.pop(school_id, None)
        if bot is not None:
            await _unwound(bot.stack, bot.runtime)

    async def refresh(self) -> None:
        """Read the schools again: stop the removed and changed ones, start the new and changed
        ones (and the left-out ones whose settings changed). A failed read changes nothing."""
        try:
            schools = {runtime.school_id: runtime for runtime in await self.read()}
        except Exception as error:  # the database away, a secret no longer readable, …
            log.warning("schools not read again (%s); the running ones go on", type(error).__name__)
            return
        for school_id, bot in list(self.bots.items()):
            if schools.get(school_id) != bot.runtime:
                what = "changed" if school_id in schools else "has no channel any more"
                log.info("school %s (id %d) %s: stopping it", bot.name, school_id, what)
                await self.stop(school_id)
        self.left_out = {
            school_id: runtime
            for school_id, runtime in self.left_out.items()
            if schools.get(school_id) == runtime
        }
        new = [
            runtime
            for school_id, runtime in schools.items()
            if school_id not in self.bots and school_id not in self.left_out
        ]
        for bot in await self.start(new):
            log.info("school %s (id %d) started", bot.name, bot.school_id)

    def closing(self) -> None:
        """The process is stopping: every webhook answers 503 from now on."""
        for bot in self.bots.values():
            if bot.hook is not None:
                bot.hook.close()

    async def close(self) -> None:
        """Stop every school's bot, the last started first."""
        for school_id in reversed(list(self.bots)):
            await self.stop(school_id)
        await self.routes.close()

    async def serve(self, stop: asyncio.Event, refresh: asyncio.Event, *, every: float) -> None:
        """Refresh every `every` seconds, or when `refresh` is set, until `stop` is set."""
        while not stop.is_set():
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(refresh.wait())}
            _, pending = await asyncio.wait(waits, timeout=every, return_when="FIRST_COMPLETED")
            for waiting in pending:
                waiting.cancel()
            if not stop.is_set():
                refresh.clear()
                await self.refresh()


async def _unwound(stack: contextlib.AsyncExitStack, runtime: SchoolRuntime) -> None:
    """`stack` closed; what fails on the way is logged (the other schools are not stopped)."""
    try:
        await stack.aclose()
    except Exception as error:
        log.warning(
            "school %s (id %d) did not stop cleanly: %s",
            runtime.name,
            runtime.school_id,
            type(error).__name__,
        )


async def serve_every_school(
    settings: Settings,
    *,
    webhook: bool = False,
    stop: asyncio.Event | None = None,
    refresh: asyncio.Event | None = None,
    refresh_every: float = REFRESH_EVERY,
    clock: Clock = utcnow,
    started: Callable[[EverySchool], None] | None = None,
) -> int:
    """Run every school's bot until `stop` is set (SIGINT / SIGTERM when not given), reading the
    schools again every `refresh_every` seconds or when `refresh` is set (SIGHUP when `stop` is
    not given); ConfigError when no school can run. `started` is given the running schools
    once they all have started."""
    from bot.wecom_service import start_web

    webhook_url = None
    if webhook:
        from bot.channels.telegram_webhook import webhook_base_url

        webhook_url = webhook_base_url(settings)
    db = Database(settings.database_url)
    try:
        web_app = with_ops(settings, db, clock=clock)  # every school's outbox and job runs
        every = EverySchool(
            settings,
            db,
            SchoolRoutes(web_app),
            OutboxWatch(db, clock=clock),
            clock,
            webhook_url=webhook_url,
        )
        schools = await every.read()
        if not schools:
            raise ConfigError(NO_SCHOOLS)
        refresh = asyncio.Event() if refresh is None else refresh
        if stop is None:
            stop = stopped_by_signals()
            _refresh_on_hangup(refresh)
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(every.close)
            running = await every.start(schools)
            if not running:
                raise ConfigError(NONE_STARTED)
            watching = asyncio.create_task(every.watch.run_forever(), name="outbox-watch")
            stack.push_async_callback(_cancelled, watching)
            web_runner = await start_web(web_app, settings)
            stack.push_async_callback(web_runner.cleanup)
            stack.callback(every.closing)
            await every.web_started()
            tune_after_startup()
            names = ", ".join(bot.name for bot in every.bots.values())
            log.info("%d school(s) running: %s", len(every.bots), names)
            if started is not None:
                started(every)
            await every.serve(stop, refresh, every=refresh_every)
    finally:
        await db.dispose()
    return 0


def _refresh_on_hangup(refresh: asyncio.Event) -> None:
    """SIGHUP sets `refresh` (where the platform has it)."""
    import signal

    hangup = getattr(signal, "SIGHUP", None)
    if hangup is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(hangup, refresh.set)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
