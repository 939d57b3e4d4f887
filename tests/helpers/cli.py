"""Running the command line (`bot.cli.main`) from a test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.cli import main
from bot.settings import get_settings
from models.db.engine import Database


@pytest.fixture
def cli_environment(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`main` reads the environment: point it at this test's database, Telegram off."""
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SCHOOL_NAME", raising=False)
    monkeypatch.delenv("SECRETS_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def run_main(*argv: str) -> int:
    """`main` runs its own event loop, so it runs on a thread of its own here."""
    return await asyncio.to_thread(main, list(argv))
