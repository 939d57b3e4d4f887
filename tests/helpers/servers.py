"""The fake messenger servers on loopback, as fixtures, and how to reach the fake WeCom."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.channels.wecom_api import WecomConfig
from tests.fakes import TEST_TOKEN
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.wecom_server import WecomServer


@pytest.fixture
async def wecom_server() -> AsyncIterator[WecomServer]:
    """An empty fake WeCom (no students unless a test adds them)."""
    async with WecomServer() as fake:
        yield fake


@pytest.fixture
async def bot_api_server() -> AsyncIterator[BotApiServer]:
    """A fake Telegram Bot API that knows the test token."""
    async with BotApiServer(token=TEST_TOKEN) as running:
        yield running


def wecom_config(server: WecomServer, **overrides: Any) -> WecomConfig:
    """The staff app (agent 1000002) on `server`, with short timeouts and retries."""
    settings: dict[str, Any] = {
        "corp_id": server.corp_id,
        "secret": server.secret,
        "agent_id": 1000002,
        "base_url": server.base_url,
        "timeout": 2.0,
        "retry_delays": (0.01, 0.01),
    }
    settings.update(overrides)
    return WecomConfig(**settings)
