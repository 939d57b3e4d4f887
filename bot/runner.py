"""`python -m bot run`: Telegram and/or WeCom as configured, otherwise the console on a demo school.

With WeCom configured, the bot's web server (WeCom's callback URL, the parents' receipt page)
runs next to Telegram's polling, or alone; one outbox worker delivers for every channel.

With no configuration at all (a fresh clone, SQLite `jiafang.db` in the working directory) the
bot migrates the database, seeds the demo school if there is none, and opens a terminal chat, so
a newcomer sees it work before creating any bot account. Log lines go to stderr, the chat to
stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from sqlmodel import select

from bot import metrics
from bot.gc_tuning import tune_after_startup
from bot.schools import school_runtime, settings_for_school
from bot.settings import Settings
from handlers.chart_process import close_children
from handlers.dispatcher import Dispatcher
from handlers.registry import all_actions, all_flows
from models.db.columns import utcnow
from models.db.engine import Database
from models.school.tables import School

if TYPE_CHECKING:
    from aiohttp import web

    from bot.channels.base import Channel
    from bot.delivery.worker import DeliveryWorker
    from scheduler.service import JobScheduler

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Delivery rounds when the console asks for what is due to be shown now.
DELIVERY_ROUNDS = 5
#: Where a Telegram application keeps its `JobScheduler` (`Application.bot_data`).
JOB_SCHEDULER = "job_scheduler"
#: … and the web server's runner when WeCom runs alongside.
WEB_RUNNER = "web_runner"


def build_dispatcher(settings: Settings, db: Database, clock: Clock = utcnow) -> Dispatcher:
    """The conversation engine with every flow, configured from `settings` (for any channel)."""
    dispatcher = Dispatcher(
        db,
        all_flows(),
        zone=settings.zone,
        school_name=settings.school_name,
        timeout=timedelta(minutes=settings.conversation_timeout_minutes),
        bot_username=settings.telegram_bot_username,
        clock=clock,
        actions=all_actions(),
        rules=settings.rules,
    )
    dispatcher.on_handled = functools.partial(
        metrics.update_handled, school=settings.school_name or ""
    )
    return dispatcher


async def deliver_due(worker: DeliveryWorker) -> None:
    """Send what is due now, a few rounds at most (a round handles one batch).

    Sends the background loop has already started are waited for first and last, so what is
    due when this returns has been delivered, whichever of the two picked it up.
    """
    await worker.settle()
    for _ in range(DELIVERY_ROUNDS):
        if not await worker.run_once():
            break
    await worker.settle()


def build_job_scheduler(
    settings: Settings,
    db: Database,
    worker: DeliveryWorker | None,
    clock: Clock = utcnow,
    *,
    jitter: int | None = None,
) -> JobScheduler:
    """The scheduled jobs (reminders, alerts, the digest), waking `worker` when they queue;
    each fired up to `jitter` seconds after its slot (`JobScheduler`)."""
    from scheduler.run import RunConfig
    from scheduler.service import build_scheduler

    jobs = build_scheduler(
        db,
        RunConfig.from_settings(settings),
        wake=worker.wake if worker is not None else None,
        clock=clock,
        jitter=jitter,
    )
    jobs.on_run = functools.partial(metrics.job_ran, school=settings.school_name or "")
    return jobs


def with_ops(
    settings: Settings,
    db: Database,
    app: web.Application | None = None,
    clock: Clock = utcnow,
    *,
    school: Callable[[], Awaitable[int | None]] | None = None,
) -> web.Application:
    """`app` (a new web server application when None) with `/healthz` and `/metrics`, for the
    school `school` finds (the dispatcher's `school_id`; None: every school on the database)."""
    from bot.ops.routes import add_ops_routes
    from bot.web.security import web_application
    from models.db.migrate import head_revision
    from scheduler.registry import all_jobs

    if app is None:
        app = web_application(max_body_bytes=settings.web_max_body_bytes)
    add_ops_routes(
        app,
        db=db,
        head=head_revision(),
        jobs=[job.name for job in all_jobs()],
        lag_threshold=settings.health_outbox_lag_seconds,
        now=clock,
        school=school,
    )
    return app


def with_job_scheduler(
    application: Any,
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    jitter: int | None = None,
) -> None:
    """Start the scheduled jobs with a Telegram application and stop them before it stops.

    Chained onto the application's own `post_init` (which starts the delivery worker) and
    `post_shutdown`, so the jobs run in the bot's event loop and wake its worker.
    """
    from bot.channels.telegram import WORKER

    async def start(app: Any) -> None:
        jobs = build_job_scheduler(settings, db, app.bot_data.get(WORKER), clock, jitter=jitter)
        app.bot_data[JOB_SCHEDULER] = jobs
        await jobs.start()

    async def stop(app: Any) -> None:
        jobs = app.bot_data.pop(JOB_SCHEDULER, None)
        if jobs is not None:
            await jobs.stop()
        await close_children()  # the jobs drew the charts: the drawing children waiting end

    chain_lifecycle(application, start, stop)


async def _tuned(app: Any) -> None:
    tune_after_startup()


def chain_lifecycle(
    application: Any,
    start: Callable[[Any], Awaitable[None]],
    stop: Callable[[Any], Awaitable[None]] | None = None,
) -> None:
    """Run `start` after the application's own `post_init` and `stop` (if any) before its own
    `post_shutdown` (what was started last stops first)."""
    inner_init, inner_shutdown = application.post_init, application.post_shutdown

    async def post_init(app: Any) -> None:
        if inner_init is not None:
            await inner_init(app)
        await start(app)

    async def post_shutdown(app: Any) -> None:
        if stop is not None:
            await stop(app)
        if inner_shutdown is not None:
            await inner_shutdown(app)

    application.post_init = post_init
    application.post_shutdown = post_shutdown


@contextlib.asynccontextmanager
async def telegram_running(application: Any, *, polling: bool) -> AsyncIterator[None]:
    """python-telegram-bot's application started as its custom-webhook example starts one
    (initialize, post_init, start; the updater polling when asked), stopped in reverse: the
    updates already accepted are handled first."""
    from bot.channels.telegram import ALLOWED_UPDATES

    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        if polling:
            await application.updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False
            )
        yield
    finally:
        if polling and application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


@dataclass(frozen=True)
class Running:
    worker: DeliveryWorker
    jobs: JobScheduler


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    db: Database,
    dispatcher: Dispatcher,
    channels: Mapping[str, Channel],
    clock: Clock = utcnow,
    *,
    jitter: int | None = None,
) -> AsyncIterator[Running]:
    """Outbox delivery for `channels` and the idle sweep while the block runs, and the
    scheduled jobs once the caller starts them (`running.jobs.start()`); all stopped after,
    the sends in progress finished first."""
    from bot.delivery.wiring import build_delivery, start_delivery, sweep_idle

    worker = build_delivery(db, dispatcher, channels, clock)
    delivery = start_delivery(worker)
    sweeper = asyncio.create_task(sweep_idle(dispatcher), name="idle-sweep")
    jobs = build_job_scheduler(settings, db, worker, clock, jitter=jitter)
    try:
        yield Running(worker, jobs)
    finally:
        await jobs.stop()
        await close_children()  # the jobs drew the charts: the drawing children waiting end
        sweeper.cancel()
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(delivery, sweeper, return_exceptions=True)


async def ensure_school(
    settings: Settings, db: Database, *, now: datetime, out: TextIO | None = None
) -> bool:
    """Seed the demo school when the database has no school at all; True if it did."""
    async with db.session() as session:
        if (await session.exec(select(School.id).limit(1))).first() is not None:
            return False
    from bot.demo import seed_demo

    summary = await seed_demo(db, school_name=settings.school_name, now=now)
    print("数据库里还没有学校，已创建一所示范学校供试用。", file=out or sys.stdout)
    print(summary.describe(), file=out or sys.stdout)
    return True


async def calendar_warning(settings: Settings, db: Database, *, now: datetime) -> str | None:
    """What to tell the operator when the school has no calendar for this school year."""
    from handlers.calendar import no_calendar_text
    from handlers.i18n import translator
    from models.roster.queries import current_school
    from models.school.calendar_store import stored_calendar

    today = now.astimezone(settings.zone).date()
    async with db.session() as session:
        school = await current_school(session=session, name=settings.school_name)
        if school is None:
            return None
        stored = await stored_calendar(session=session, school_id=school.id or 0)
    if stored.covers(today):
        return None
    return no_calendar_text(translator("zh"), today)


async def _school_settings(settings: Settings) -> tuple[Settings, int | None]:
    """`settings` as the school SCHOOL_NAME names runs with them, and that school's id (None
    when the database has no school yet: the environment's settings)."""
    db = Database(settings.database_url)
    try:
        runtime = await school_runtime(db, settings)
    finally:
        await db.dispose()
    if runtime is None:
        return settings, None
    return runtime.channel_settings(settings), runtime.school_id


async def _log_calendar_warning(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        warning = await calendar_warning(settings, db, now=utcnow())
    finally:
        await db.dispose()
    if warning is not None:
        log.warning("%s", warning)


async def run_console(
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    clock: Clock = utcnow,
) -> int:
    """The console channel with outbox delivery and the idle sweep; returns at EOF or /quit."""
    from bot.channels.console import ConsoleChannel

    db = Database(settings.database_url)
    try:
        await ensure_school(settings, db, now=clock(), out=stdout)
        settings = await settings_for_school(db, settings)
        warning = await calendar_warning(settings, db, now=clock())
        if warning is not None:
            print(f"注意：{warning}", file=stdout or sys.stdout)
        dispatcher = build_dispatcher(settings, db, clock)
        console = ConsoleChannel(
            dispatcher, stdin=stdin, stdout=stdout, language=settings.default_language
        )
        async with (
            serving(settings, db, dispatcher, {console.name: console}, clock) as running,
            _ops_server(settings, db, clock, dispatcher),
        ):
            console.flush = lambda: deliver_due(running.worker)
            # The demo's admins get their console accounts first, so that what a job caught up
            # at start sends them (the morning digest) is printed too.
            await console.play_default()
            await running.jobs.start()
            await console.run()
    finally:
        await db.dispose()
    return 0


@contextlib.asynccontextmanager
async def _ops_server(
    settings: Settings, db: Database, clock: Clock, dispatcher: Dispatcher
) -> AsyncIterator[None]:
    """The web server with `/healthz` and `/metrics` alone, when WEB_PORT is given."""
    if not settings.web_server_requested:
        yield
        return
    from bot.wecom_service import start_web

    app = with_ops(settings, db, clock=clock, school=dispatcher.school_id)
    runner = await start_web(app, settings)
    try:
        yield
    finally:
        await runner.cleanup()


def with_web_server(application: Any, app: web.Application, settings: Settings) -> None:
    """Serve WeCom's callback and the receipt page while a Telegram application runs."""
    from bot.wecom_service import start_web

    async def start(tg: Any) -> None:
        tg.bot_data[WEB_RUNNER] = await start_web(app, settings)

    async def stop(tg: Any) -> None:
        runner = tg.bot_data.pop(WEB_RUNNER, None)
        if runner is not None:
            await runner.cleanup()

    chain_lifecycle(application, start, stop)


def stopped_by_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (in the running event loop)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_wecom(
    settings: Settings, *, stop: asyncio.Event | None = None, clock: Clock = utcnow
) -> int:
    """WeCom alone: the web server, outbox delivery, scheduled jobs and the idle sweep, until
    `stop` is set (SIGINT / SIGTERM when not given)."""
    from bot.wecom_service import build_wecom, start_web

    db = Database(settings.database_url)
    try:
        settings = await settings_for_school(db, settings)
        dispatcher = build_dispatcher(settings, db, clock)
        service = build_wecom(settings, db, dispatcher, clock=clock)
        with_ops(settings, db, service.web_app, clock, school=dispatcher.school_id)
        stop = stopped_by_signals() if stop is None else stop
        async with serving(settings, db, dispatcher, service.channels, clock) as running:
            web_runner = await start_web(service.web_app, settings)
            try:
                await running.jobs.start()
                tune_after_startup()
                log.info("WeCom bot running (callback URL path /wecom/callback)")
                await stop.wait()
            finally:
                await web_runner.cleanup()  # answers in progress are finished first
    finally:
        await db.dispose()
    return 0


def telegram_application(
    settings: Settings, db: Database, *, web_server: bool = False
) -> tuple[Any, web.Application | None]:
    """The Telegram bot as `bot run` runs it (with WeCom's channel when configured, the scheduled
    jobs), and the web server's application it starts with it (None: no web server asked for,
    by the settings or by `web_server`)."""
    from bot.channels.telegram import build_application

    dispatcher = build_dispatcher(settings, db)
    service = None
    if settings.wecom_configured:
        from bot.wecom_service import build_wecom

        service = build_wecom(settings, db, dispatcher)
    application = build_application(
        settings, db, dispatcher, extra_channels=service.channels if service else None
    )
    with_job_scheduler(application, settings, db, dispatcher.clock)
    web_app = None
    if service is not None:
        web_app = with_ops(settings, db, service.web_app, school=dispatcher.school_id)
    elif settings.web_server_requested or web_server:
        web_app = with_ops(settings, db, school=dispatcher.school_id)
    return application, web_app


def run(settings: Settings, *, webhook: bool = False, all_schools: bool = False) -> int:
    """Run the bot until it is stopped; the exit status for the CLI. `webhook`: Telegram's
    updates come by webhook (`bot.webhook_runner`) instead of long polling. `all_schools`:
    every school's bot on the database in this process (`bot.every_school`)."""
    if all_schools:
        return _run_every_school(settings, webhook=webhook)
    token = settings.telegram_token  # refuses a placeholder token before anything starts
    wecom = settings.wecom_configured  # refuses a partial WeCom configuration
    if webhook:
        from bot.channels.telegram_webhook import webhook_base_url

        webhook_base_url(settings)  # refuses a missing or plain-http address before anything
    # Alembic reports every step at INFO; on the console those lines would land in the chat.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from models.db.migrate import upgrade  # imported here: alembic logs while it loads

    upgrade(settings.database_url)
    # The school's own rules, zone and stored credentials (none stored: the environment's).
    settings, school_id = asyncio.run(_school_settings(settings))
    token, wecom = settings.telegram_token, settings.wecom_configured
    if webhook:
        from bot.webhook_runner import run_webhook

        return run_webhook(settings, school_id)
    if token or wecom:
        asyncio.run(_log_calendar_warning(settings))
    if token:
        from bot.channels.telegram import ALLOWED_UPDATES

        application, web_app = telegram_application(settings, Database(settings.database_url))
        if web_app is not None:
            with_web_server(application, web_app, settings)
        chain_lifecycle(application, _tuned)
        log.info("Telegram bot starting (polling)%s", " with WeCom" if wecom else "")
        # Pending updates are kept across a restart: what people sent while the bot was down is
        # answered when it is back, and the dispatcher drops repeats.
        application.run_polling(allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False)
        return 0
    if wecom:
        return asyncio.run(run_wecom(settings))
    try:
        return asyncio.run(run_console(settings))
    except KeyboardInterrupt:
        print("\n再见！")
        return 0


def _run_every_school(settings: Settings, *, webhook: bool) -> int:
    if webhook:
        from bot.channels.telegram_webhook import webhook_base_url

        webhook_base_url(settings)  # refuses a missing or plain-http address before anything
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from bot.every_school import serve_every_school
    from models.db.migrate import upgrade

    upgrade(settings.database_url)
    return asyncio.run(serve_every_school(settings, webhook=webhook))
