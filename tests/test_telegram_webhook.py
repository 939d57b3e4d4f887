"""Telegram by webhook: the route on the bot's web server, and `python -m bot run --webhook` as a
real process against the local fake Bot API, posted to as Telegram would post."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot import metrics
from bot.channels.telegram_polling import SKIPPED
from bot.channels.telegram_webhook import (
    NO_TOKEN,
    NO_URL,
    NOT_HTTPS,
    SECRET_HEADER,
    SET_WEBHOOK_FAILED,
    TelegramWebhook,
    WebhookSecrets,
    webhook_base_url,
    webhook_secrets,
)
from bot.demo import seed_demo
from bot.settings import Settings
from bot.web.security import web_application
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import ConfigError
from tests.fakes import TEST_TOKEN
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import FakeBotApi, FakeTelegramRequest, TgUser, UpdateFactory
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.clock import FakeClock
from tests.test_wecom_run import ROOT, _free_port, _stopped, _wait_for_port

__all__ = ["cli_environment"]

SCHOOL = "示范小学"
STRANGER = TgUser(6201, "路人")
INTRUDER = TgUser(6202, "冒充者")
SECRETS = WebhookSecrets(path="/tg/7/0123456789abcdef0123456789abcdef", token="right-secret")


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=TEST_TOKEN, **values)


# -- the secrets and the address --------------------------------------------------------------


def test_each_school_gets_its_own_path_and_secret_the_same_at_every_start() -> None:
    settings = _settings(telegram_webhook_secret=SecretStr("district-webhook-secret-0123"))
    first, again, other = (webhook_secrets(settings, school) for school in (1, 1, 2))
    assert first == again
    assert first.path.startswith("/tg/1/") and other.path.startswith("/tg/2/")
    assert first.token != other.token and first.path[6:] != other.path[6:]
    # Telegram's rule for a secret token: 1-256 characters of A-Z a-z 0-9 _ -.
    assert first.token.isalnum() and len(first.token) <= 256
    assert first.token not in first.path
    other_key = _settings(telegram_webhook_secret=SecretStr("another-district-secret-987"))
    assert webhook_secrets(other_key, 1) != first


def test_without_a_webhook_secret_the_secrets_key_or_else_the_token_is_the_key() -> None:
    by_token = webhook_secrets(_settings(), 1)
    by_secrets_key = webhook_secrets(
        _settings(secrets_key=SecretStr("a-fernet-key-of-the-site")), 1
    )
    assert by_token != by_secrets_key
    assert webhook_secrets(_settings(), 1) == by_token
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        webhook_secrets(Settings(_env_file=None), 1)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://bot.example.cn/", "https://bot.example.cn"),
        ("https://bot.example.cn/jiafang", "https://bot.example.cn/jiafang"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080/", "http://localhost:8080"),
    ],
)
def test_a_webhook_address_is_https_or_local(url: str, expected: str) -> None:
    assert webhook_base_url(_settings(telegram_webhook_url=url)) == expected


@pytest.mark.parametrize("url", ["http://bot.example.cn", "bot.example.cn", "ftp://127.0.0.1"])
def test_a_webhook_address_that_is_not_https_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        webhook_base_url(_settings(telegram_webhook_url=url))
    assert str(refused.value) == NOT_HTTPS


# -- the route --------------------------------------------------------------------------------


def _application() -> Application[Any, Any, Any, Any, Any, Any]:
    return ApplicationBuilder().token(TEST_TOKEN).updater(None).build()


@pytest.fixture
async def route() -> AsyncIterator[tuple[TestClient[Any, Any], TelegramWebhook]]:
    hook = TelegramWebhook(_application(), SECRETS)
    app = web_application(max_body_bytes=8192)
    hook.mount(app)
    async with TestClient(TestServer(app)) as client:
        yield client, hook


async def _post(
    client: TestClient[Any, Any], body: bytes | str, secret: str | None = SECRETS.token
) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with client.post(SECRETS.path, data=body, headers=headers) as response:
        return response.status


async def test_the_route_queues_an_update_only_with_the_right_secret(
    route: tuple[TestClient[Any, Any], TelegramWebhook],
) -> None:
    client, hook = route
    queue = hook.application.update_queue
    update = json.dumps(UpdateFactory().text(STRANGER, "/start", update_id=42))
    assert await _post(client, update, secret=None) == 403
    assert await _post(client, update, secret="wrong-secret") == 403
    assert queue.empty()
    assert await _post(client, update) == 200
    queued = queue.get_nowait()
    assert isinstance(queued, Update) and queued.update_id == 42
    assert queued.message is not None and queued.message.text == "/start"
    async with client.get(SECRETS.path, headers={SECRET_HEADER: SECRETS.token}) as response:
        assert response.status == 405
    async with client.post("/tg/7/guessed", data=update) as response:
        assert response.status == 404


async def test_the_route_refuses_what_is_not_an_update_and_queues_nothing(
    route: tuple[TestClient[Any, Any], TelegramWebhook],
) -> None:
    client, hook = route
    assert await _post(client, b"{not json") == 400
    assert await _post(client, "[1, 2]") == 400
    assert await _post(client, b"\xff\xfe") == 400
    assert await _post(client, "x" * 9000) == 413
    before = metrics.snapshot().get(SKIPPED, 0)
    # JSON that the library cannot read as an update: counted, left out, not asked for again.
    assert await _post(client, json.dumps({"update_id": 43, "message": "not a message"})) == 200
    assert metrics.snapshot()[SKIPPED] == before + 1
    assert hook.application.update_queue.empty()


async def test_a_stopping_bot_answers_503_so_telegram_delivers_again_later(
    route: tuple[TestClient[Any, Any], TelegramWebhook],
) -> None:
    client, hook = route
    hook.close()
    assert await _post(client, json.dumps(UpdateFactory().text(STRANGER, "/start"))) == 503
    assert await _post(client, "{}", secret="wrong-secret") == 403
    assert hook.application.update_queue.empty()


async def test_registering_gives_telegram_the_address_and_the_secret_and_keeps_pending_updates() -> (
    None
):
    api = FakeBotApi()
    application = ApplicationBuilder().token(TEST_TOKEN).request(FakeTelegramRequest(api))
    hook = TelegramWebhook(application.updater(None).build(), SECRETS)
    await hook.register("https://bot.example.cn", ["message", "callback_query"])
    assert api.webhook == {
        "url": "https://bot.example.cn" + SECRETS.path,
        "secret_token": SECRETS.token,
        "allowed_updates": ["message", "callback_query"],
        "drop_pending_updates": False,
    }


async def test_an_address_telegram_refuses_is_said_in_one_line() -> None:
    api = FakeBotApi()
    application = ApplicationBuilder().token(TEST_TOKEN).request(FakeTelegramRequest(api))
    hook = TelegramWebhook(application.updater(None).build(), SECRETS)
    with pytest.raises(ConfigError) as refused:
        await hook.register("ftp://bot.example.cn", ["message"])
    assert str(refused.value).startswith(SET_WEBHOOK_FAILED.split("{")[0])
    assert "https url must be provided" in str(refused.value) and "\n" not in str(refused.value)
    assert api.webhook is None


# -- the command line refuses ------------------------------------------------------------------


@pytest.mark.usefixtures("cli_environment")
@pytest.mark.parametrize(
    ("environment", "said"),
    [
        ({"TELEGRAM_BOT_TOKEN": TEST_TOKEN}, NO_URL),
        (
            {"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "TELEGRAM_WEBHOOK_URL": "http://bot.example.cn"},
            NOT_HTTPS,
        ),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.cn"}, NO_TOKEN),
    ],
)
async def test_run_webhook_refuses_in_one_line_without_what_it_needs(
    environment: dict[str, str],
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert await run_main("run", "--webhook") == 2
    assert capsys.readouterr().err.strip() == f"错误：{said}"


# -- the real process --------------------------------------------------------------------------


async def _seeded(url: str, clock: FakeClock) -> None:
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        await seed_demo(db, school_name=SCHOOL, now=clock())
    finally:
        await db.dispose()


def _webhook_env(url: str, port: int, server: BotApiServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECOM_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=url,
        SCHOOL_NAME=SCHOOL,
        TELEGRAM_BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_BASE_URL=server.base_url,
        TELEGRAM_BASE_FILE_URL=server.base_file_url,
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/",
        TELEGRAM_WEBHOOK_SECRET="run-test-webhook-secret-0123456789",
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
    )
    return env


async def _webhook_set(server: BotApiServer, process: asyncio.subprocess.Process) -> dict[str, Any]:
    for _ in range(300):
        if server.api.webhook is not None:
            return server.api.webhook
        if process.returncode is not None:
            raise AssertionError("the bot exited before setting its webhook")
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not call setWebhook")


async def _texts_to(server: BotApiServer, user: TgUser, count: int) -> list[str]:
    for _ in range(200):
        texts = server.api.sent_texts(user.id)
        if len(texts) >= count:
            return texts
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} message(s) expected, {server.api.sent_texts(user.id)} sent")


async def test_run_webhook_sets_the_webhook_and_answers_only_what_telegram_posts_with_the_secret(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'webhook.db'}"
    await _seeded(url, clock)
    port = _free_port()
    updates = UpdateFactory()
    async with BotApiServer(token=TEST_TOKEN) as server:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run", "--webhook"),
            cwd=tmp_path,
            env=_webhook_env(url, port, server),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await _wait_for_port(port, process)
            webhook = await _webhook_set(server, process)
            assert webhook["url"].startswith(f"http://127.0.0.1:{port}/tg/1/")
            assert webhook["allowed_updates"] == ["message", "callback_query"]
            assert webhook["drop_pending_updates"] is False
            secret = str(webhook["secret_token"])
            endpoint = str(webhook["url"])
            assert len(secret) >= 32 and secret not in endpoint
            start = json.dumps(updates.text(STRANGER, "/start"))
            async with aiohttp.ClientSession() as http:

                async def post(body: str, secret: str | None) -> int:
                    headers = {SECRET_HEADER: secret} if secret is not None else {}
                    async with http.post(endpoint, data=body, headers=headers) as response:
                        return response.status

                forged = json.dumps(updates.text(INTRUDER, "/start"))
                assert await post(forged, None) == 403
                assert await post(forged, "0" * len(secret)) == 403
                assert await post("{not json", secret) == 400
                assert await post(start, secret) == 200
                first = await _texts_to(server, STRANGER, 1)
                assert "还没有与学校名册绑定" in first[0]
                assert await post(start, secret) == 200  # Telegram delivering it again
                assert await post(json.dumps(updates.text(STRANGER, "/help")), secret) == 200
                texts = await _texts_to(server, STRANGER, 2)
                await asyncio.sleep(0.3)
            texts = server.api.sent_texts(STRANGER.id)
            assert len(texts) == 2, texts  # the repeated /start answered once, then /help
            assert server.api.sent_texts(INTRUDER.id) == []
        finally:
            err = await _stopped(process)
        assert process.returncode == 0, err.decode()
        assert b"Traceback" not in err
        assert secret.encode() not in err and endpoint.encode() not in err
        # Left set: Telegram keeps the updates sent while the bot restarts.
        assert server.api.calls_of("deleteWebhook", "getUpdates") == []
