"""Fakes at one seam per platform: Telegram is faked at the Bot API (in-process or over HTTP).

`TelegramHarness` is the real `Application` from `bot.channels.telegram.build_application` with
`FakeTelegramRequest` under it: tests feed update payloads and read the Bot API calls it made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from telegram import Update
from telegram.ext import Application

from bot.channels.telegram import WORKER, build_application
from bot.delivery.worker import DeliveryWorker
from bot.settings import Settings
from handlers.actions import Action
from handlers.dispatcher import Dispatcher
from handlers.flow import Flow
from models.db.engine import Database
from models.outbox.tables import OutboxMessage, OutboxStatus
from tests.fakes.telegram_request import FakeBotApi, FakeTelegramRequest, TgUser, UpdateFactory
from tests.helpers.clock import FakeClock

TEST_TOKEN = "7000000001:TEST-token-for-the-fake-bot-api"


@dataclass
class TelegramHarness:
    """A running bot (initialised, post-init done, no polling) over a fake Bot API."""

    db: Database
    clock: FakeClock
    flows: Sequence[Flow]
    #: The buttons answered outside a conversation (`handlers.registry.all_actions()`, as
    #: `bot.runner` registers them); none by default.
    actions: Sequence[Action] = ()
    api: FakeBotApi = field(default_factory=FakeBotApi)
    updates: UpdateFactory = field(default_factory=UpdateFactory)
    app: Application[Any, Any, Any, Any, Any, Any] | None = None
    dispatcher: Dispatcher | None = None
    #: The school this bot serves (SCHOOL_NAME; None: the first school).
    school_name: str | None = None

    async def start(self) -> TelegramHarness:
        """Build and initialise a fresh Application + Dispatcher (again: a restart)."""
        self.dispatcher = Dispatcher(
            self.db,
            self.flows,
            zone=ZoneInfo("Asia/Shanghai"),
            clock=self.clock,
            actions=self.actions,
            school_name=self.school_name,
        )
        settings = Settings(_env_file=None, telegram_bot_token=TEST_TOKEN)
        request = FakeTelegramRequest(self.api)
        self.app = build_application(settings, self.db, self.dispatcher, request=request)
        await self.app.initialize()
        if self.app.post_init is not None:
            await self.app.post_init(self.app)
        return self

    async def stop(self) -> None:
        """Shut down as `run_polling` would (the delivery worker stops cleanly)."""
        if self.app is None:
            return
        if self.app.post_shutdown is not None:
            await self.app.post_shutdown(self.app)
        await self.app.shutdown()
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def worker(self) -> DeliveryWorker:
        assert self.app is not None
        worker = self.app.bot_data[WORKER]
        assert isinstance(worker, DeliveryWorker)
        return worker

    async def feed(self, payload: dict[str, Any]) -> None:
        """Hand one update to the Application, as the poller would, and wait for it."""
        assert self.app is not None
        await self.app.process_update(Update.de_json(payload, self.app.bot))

    async def say(self, user: TgUser, text: str) -> list[str]:
        """Send a text; returns the texts the bot sent back."""
        before = len(self.api.calls)
        await self.feed(self.updates.text(user, text))
        return self.texts_since(before)

    async def press(self, user: TgUser, data: str) -> list[str]:
        """Press the button with callback `data` on the bot's latest message with buttons."""
        message = self.api.last_keyboard(user.id)
        before = len(self.api.calls)
        await self.feed(
            self.updates.callback(
                user,
                data,
                message_id=message["message_id"],
                message_text=str(message.get("text", "")),
            )
        )
        return self.texts_since(before)

    async def press_label(self, user: TgUser, label: str) -> list[str]:
        """Press the button labelled `label` on the bot's latest message with buttons."""
        message = self.api.last_keyboard(user.id)
        rows = message["reply_markup"]["inline_keyboard"]
        found = [b["callback_data"] for row in rows for b in row if b["text"] == label]
        labels = [b["text"] for row in rows for b in row]
        assert found, f"no button {label!r} in {labels!r}"
        return await self.press(user, found[0])

    async def steps(self, user: TgUser, *actions: str) -> list[str]:
        """Press each label in turn; `>text` and `/command` are sent as messages."""
        texts: list[str] = []
        for action in actions:
            if action.startswith(">"):
                texts = await self.say(user, action[1:])
            elif action.startswith("/"):
                texts = await self.say(user, action)
            else:
                texts = await self.press_label(user, action)
        return texts

    def texts_since(self, index: int) -> list[str]:
        """What the bot showed since call `index`: new messages and messages edited into new text."""
        shown = ("sendMessage", "editMessageText")
        return [str(c.params["text"]) for c in self.api.calls[index:] if c.method in shown]

    async def settle(self, within: float = 3.0) -> None:
        """Wait until the application's own delivery worker has sent everything due (of its
        school, once it knows it: another school's bot sends the others)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        open_states = [OutboxStatus.PENDING, OutboxStatus.SENDING]
        while loop.time() < deadline:
            school_id = self.worker.school_id
            mine = [OutboxMessage.school_id == school_id] if school_id is not None else []
            async with self.db.session() as session:
                waiting = (
                    await session.exec(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(
                            col(OutboxMessage.status).in_(open_states),
                            col(OutboxMessage.due_at) <= self.clock(),
                            *mine,
                        )
                    )
                ).one()
            if not waiting:
                return
            self.worker.wake()
            await asyncio.sleep(0.02)
        raise AssertionError("the outbox was not delivered in time")
