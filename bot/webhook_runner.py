"""`python -m bot run --webhook`: the school's Telegram bot fed by webhook on the bot's web server.

Everything else is what `bot run` with polling runs (`bot.runner.telegram_application`): the same
handlers and dispatcher, WeCom alongside when configured, the outbox worker, the scheduled jobs,
`/healthz` and `/metrics`; the web server always runs here (on WEB_PORT), since Telegram posts
to it. Started as python-telegram-bot's custom webhook example starts an application: initialize,
post_init, start, then `setWebhook`; stopped in the reverse order, with the webhook answering 503
first so that no update is accepted that the stopping application would not handle.

One school per process for now (the school SCHOOL_NAME names); its path, `/tg/<school id>/…`,
leaves room for every school's bot on one server later.
"""

from __future__ import annotations

import asyncio
import logging

from bot.channels.telegram import ALLOWED_UPDATES
from bot.channels.telegram_webhook import (
    NO_SCHOOL,
    NO_TOKEN,
    TelegramWebhook,
    WebhookSecrets,
    webhook_base_url,
    webhook_secrets,
)
from bot.gc_tuning import tune_after_startup
from bot.runner import (
    calendar_warning,
    stopped_by_signals,
    telegram_application,
    telegram_running,
    with_web_server,
)
from bot.settings import Settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError

log = logging.getLogger(__name__)


def run_webhook(settings: Settings, school_id: int | None) -> int:
    """Run the school's bot by webhook until SIGINT / SIGTERM; refuse (ConfigError, one line of
    Chinese) without a token, a school or a usable TELEGRAM_WEBHOOK_URL."""
    if settings.telegram_token is None:
        raise ConfigError(NO_TOKEN)
    if school_id is None:
        raise ConfigError(NO_SCHOOL)
    base_url = webhook_base_url(settings)
    return asyncio.run(serve_webhook(settings, webhook_secrets(settings, school_id), base_url))


async def serve_webhook(
    settings: Settings,
    secrets: WebhookSecrets,
    base_url: str,
    *,
    stop: asyncio.Event | None = None,
) -> int:
    """Serve until `stop` is set (SIGINT / SIGTERM when not given)."""
    db = Database(settings.database_url)
    warning = await calendar_warning(settings, db, now=utcnow())
    if warning is not None:
        log.warning("%s", warning)
    application, web_app = telegram_application(settings, db, web_server=True)
    assert web_app is not None
    hook = TelegramWebhook(application, secrets)
    hook.mount(web_app)
    with_web_server(application, web_app, settings)
    stop = stopped_by_signals() if stop is None else stop
    try:
        async with telegram_running(application, polling=False):
            try:
                await hook.register(base_url, list(ALLOWED_UPDATES))
                tune_after_startup()
                path = secrets.path.rsplit("/", 1)[0]
                log.info("Telegram bot running (webhook, path %s/…)", path)
                await stop.wait()
            finally:
                hook.close()  # 503 from now: Telegram keeps the update and delivers it again
    finally:
        await db.dispose()
    return 0
