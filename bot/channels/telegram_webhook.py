"""Telegram updates by webhook (`python -m bot run --webhook`), on the bot's own web server.

Telegram POSTs each update to `TELEGRAM_WEBHOOK_URL` + `/tg/<school id>/<path secret>`, with the
header `X-Telegram-Bot-Api-Secret-Token` set to the secret given in `setWebhook`. The route
(`TelegramWebhook.mount`) answers
- 403 when that header is missing or wrong (nothing read further, nothing handled);
- 503 once the bot is stopping (Telegram delivers the update again later);
- 400 for a body that is not a JSON object; 413 (the web server's body limit) for a huge one;
- 200 as soon as the update is in python-telegram-bot's `Application.update_queue`, the queue
  polling fills too: the same handlers, the same dispatcher (which drops a redelivered
  `update_id`), the same concurrency. The answer does not wait for the handling.

Both secrets are derived with HMAC-SHA256 from `TELEGRAM_WEBHOOK_SECRET`, else `SECRETS_KEY`,
else the school's bot token, and the school's id: stable across restarts (Telegram's retries of
updates queued while the bot was down carry the same secret), different for every school, and
never stored. The webhook is left set when the bot stops, so Telegram keeps what arrives in the
meantime; `bot run` without `--webhook` removes it again (python-telegram-bot's polling calls
`deleteWebhook` first), nothing lost either way.

This follows python-telegram-bot's "custom webhook bot" example: an `Application` without its
own updater, updates put on `update_queue` by a web framework of our choice (aiohttp here, the
server that already carries WeCom's callback, the parents' pages, `/healthz` and `/metrics`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.channels.telegram_polling import read_update
from bot.settings import Settings
from models.errors import ConfigError

log = logging.getLogger(__name__)

#: The header Telegram sends the `secret_token` of `setWebhook` in.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Where the webhook paths live on the web server: `/tg/<school id>/<path secret>`.
PATH_PREFIX = "/tg"
#: Hosts a plain-http webhook URL may name (tests and a local check; Telegram itself needs https).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

NO_URL = "使用 --webhook 需要设置 TELEGRAM_WEBHOOK_URL（机器人对外的 https 地址，例如 https://bot.example.cn）。"
NOT_HTTPS = "TELEGRAM_WEBHOOK_URL 必须以 https:// 开头（Telegram 只向 https 地址推送消息），例如 https://bot.example.cn。"
NO_TOKEN = "使用 --webhook 需要 Telegram 机器人令牌：请设置 TELEGRAM_BOT_TOKEN，或用 python -m bot school set 为学校保存。"
SET_WEBHOOK_FAILED = (
    "Telegram 没有接受 webhook 地址（{error}）。请检查 TELEGRAM_WEBHOOK_URL 能否从外网用 https 访问，"
    "以及机器人令牌是否正确。"
)
NO_SCHOOL = "数据库中还没有学校，无法设置 webhook：请先导入名单（python -m bot roster import …）。"


def webhook_base_url(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_URL without a trailing slash; ConfigError (one line of Chinese) when it
    is missing or not https (plain http only for 127.0.0.1 / localhost)."""
    url = (settings.telegram_webhook_url or "").strip().rstrip("/")
    if not url:
        raise ConfigError(NO_URL)
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(NOT_HTTPS)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        return url
    raise ConfigError(NOT_HTTPS)


@dataclass(frozen=True)
class WebhookSecrets:
    """One school's webhook: the path on the web server and the header's secret token."""

    path: str
    token: str


def webhook_secrets(settings: Settings, school_id: int) -> WebhookSecrets:
    """The school's path and secret token (see the module doc for the key they come from)."""
    key = _key(settings)

    def derive(label: str) -> str:
        message = f"telegram-webhook:{label}:{school_id}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    # Telegram allows 1-256 characters of A-Z a-z 0-9 _ - in a secret token: hex is.
    return WebhookSecrets(
        path=f"{PATH_PREFIX}/{school_id}/{derive('path')[:32]}", token=derive("token")
    )


def _key(settings: Settings) -> bytes:
    for secret in (settings.telegram_webhook_secret, settings.secrets_key):
        value = secret.get_secret_value().strip() if secret is not None else ""
        if value:
            return value.encode()
    token = settings.telegram_token
    if token is None:
        raise ConfigError(NO_TOKEN)
    return token.encode()


class TelegramWebhook:
    """The webhook route of one school's bot, feeding its application's update queue."""

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], secrets: WebhookSecrets
    ) -> None:
        self.application = application
        self.secrets = secrets
        self._secret = secrets.token.encode()
        self._accepting = True

    def mount(self, app: web.Application) -> None:
        """Serve the webhook's path on `app` (before the web server starts)."""
        app.router.add_post(self.secrets.path, self.receive)

    def close(self) -> None:
        """From now on answer 503: the bot is stopping, Telegram will deliver again later."""
        self._accepting = False

    async def register(self, base_url: str, allowed_updates: list[str]) -> None:
        """Point the school's bot at this route (`setWebhook`); updates Telegram kept while the
        bot was down are delivered, not dropped. ConfigError when Telegram refuses."""
        try:
            await self.application.bot.set_webhook(
                url=base_url + self.secrets.path,
                secret_token=self.secrets.token,
                allowed_updates=allowed_updates,
                drop_pending_updates=False,
            )
        except TelegramError as error:  # Telegram's words: no secret, no personal data
            raise ConfigError(SET_WEBHOOK_FAILED.format(error=error.message)) from error

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("telegram webhook: a request without the right secret token refused")
            return web.Response(status=403)
        if not self._accepting:
            return web.Response(status=503)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        update = self._read(data)
        if update is not None:
            await self.application.update_queue.put(update)
        return web.Response(status=200)

    def _read(self, data: dict[str, Any]) -> Update | None:
        """The update, or None when the library cannot read it: then it is counted and left out
        (answered 200, so Telegram does not send it again forever), as polling does."""
        return read_update(data, self.application.bot)
