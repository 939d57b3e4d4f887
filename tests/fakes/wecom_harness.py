"""The bot's WeCom side running for real against the local fake WeCom API.

`WecomHarness` builds what `python -m bot run` builds when WeCom is configured
(`bot.wecom_service.build_wecom`): the callback endpoint (served by aiohttp's test server), the
staff channel over the real `WecomApi` pointed at `WecomServer`, and a delivery worker. Tests
speak as a member by posting encrypted callbacks, built with wechatpy's own crypto, and read
what the app sent from the fake server.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.wecom_callback import drain
from bot.delivery.wiring import build_delivery
from bot.delivery.worker import DeliveryWorker
from bot.runner import build_dispatcher, deliver_due
from bot.settings import Settings
from bot.wecom_service import CALLBACK_PATH, WecomService, build_wecom
from models.db.engine import Database
from tests.fakes.wecom_callbacks import TEST_APP, encrypt_callback, event_xml, text_xml
from tests.fakes.wecom_server import Call, WecomServer
from tests.helpers.clock import FakeClock

_NUMBERED = re.compile(r"^(\d+)\. (.+)$")


def shown_text(call: Call) -> str:
    """What a member sees of one message/send: the text, or the card's title and sub-title."""
    body = call.body
    if body.get("msgtype") == "text":
        return str(body["text"]["content"])
    if body.get("msgtype") == "template_card":
        card = body["template_card"]
        title = str(card.get("main_title", {}).get("title", ""))
        return f"{title}\n{card.get('sub_title_text', '')}".strip()
    return f"[{body.get('msgtype')}]"


@dataclass
class WecomHarness:
    db: Database
    clock: FakeClock
    extra_settings: dict[str, Any] = field(default_factory=dict)
    server: WecomServer = field(default_factory=lambda: WecomServer(corp_id=TEST_APP.corp_id))
    service: WecomService | None = None
    worker: DeliveryWorker | None = None
    client: TestClient[web.Request, web.Application] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9001))

    def settings(self) -> Settings:
        return Settings(
            _env_file=None,
            database_url=self.db.url,
            wecom_corp_id=TEST_APP.corp_id,
            wecom_agent_id=TEST_APP.agent_id,
            wecom_secret=self.server.secret,
            wecom_token=TEST_APP.token,
            wecom_encoding_aes_key=TEST_APP.encoding_aes_key,
            wecom_api_base_url=self.server.base_url,
            **self.extra_settings,
        )

    async def start(self) -> WecomHarness:
        await self.server.start()
        settings = self.settings()
        dispatcher = build_dispatcher(settings, self.db, self.clock)
        self.service = build_wecom(
            settings, self.db, dispatcher, clock=self.clock, monotonic=self._monotonic
        )
        self.service.api.config = _fast_retries(self.service.api.config)
        self.worker = build_delivery(self.db, dispatcher, self.service.channels, self.clock)
        self.client = TestClient(TestServer(self.service.web_app))
        await self.client.start_server()
        return self

    def _monotonic(self) -> float:
        return self.clock().timestamp()

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        await self.server.stop()

    # -- speaking as a member -----------------------------------------------------------------

    async def post(self, xml: str) -> int:
        assert self.client is not None and self.service is not None
        callback = encrypt_callback(TEST_APP, xml, timestamp=self._timestamp())
        response = await self.client.post(CALLBACK_PATH, params=callback.query, data=callback.body)
        await drain(self.service.web_app)
        return response.status

    def _timestamp(self) -> int:
        return int(self.clock().timestamp())

    async def say(self, user: str, text: str) -> list[str]:
        before = len(self.server.calls)
        xml = text_xml(
            TEST_APP, user=user, content=text, msg_id=next(self._ids), create_time=self._timestamp()
        )
        assert await self.post(xml) == 200
        return self.texts_since(before, user)

    async def send_image(self, user: str, media_id: str) -> list[str]:
        """A picture from the member's phone (WeCom keeps it three days under `media_id`)."""
        before = len(self.server.calls)
        ts = self._timestamp()
        xml = (
            f"<xml><ToUserName><![CDATA[{TEST_APP.corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{ts}</CreateTime>"
            "<MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[https://wework.example/{media_id}]]></PicUrl>"
            f"<MediaId><![CDATA[{media_id}]]></MediaId>"
            f"<MsgId>{next(self._ids)}</MsgId><AgentID>{TEST_APP.agent_id}</AgentID></xml>"
        )
        assert await self.post(xml) == 200
        return self.texts_since(before, user)

    async def click(self, user: str, label: str) -> list[str]:
        """Click the button labelled `label` on the latest card sent to `user`."""
        card = self.last_card(user)
        keys = [b["key"] for b in card["button_list"] if b["text"] == label]
        labels = [b["text"] for b in card["button_list"]]
        assert keys, f"no button {label!r} on the card: {labels!r}"
        before = len(self.server.calls)
        xml = event_xml(
            TEST_APP,
            user=user,
            event="template_card_event",
            create_time=self._timestamp(),
            EventKey=keys[0],
            TaskId=card["task_id"],
            CardType=card["card_type"],
            ResponseCode=self.server.response_codes[card["task_id"]],
        )
        assert await self.post(xml) == 200
        return self.texts_since(before, user)

    async def choose(self, user: str, label: str, *, cards: bool = True) -> list[str]:
        """Answer with `label`: a click when the latest message is a card offering it (and
        `cards`), else its number typed from the latest numbered list."""
        last = self.messages_to(user)[-1]
        if cards and last.body.get("msgtype") == "template_card":
            return await self.click(user, label)
        return await self.say(user, str(self.number_of(user, label)))

    async def steps(self, user: str, *actions: str, cards: bool = True) -> list[str]:
        """Each action in turn: `>text` and `/command` are sent, anything else is chosen."""
        texts: list[str] = []
        for action in actions:
            if action.startswith(">"):
                texts = await self.say(user, action[1:])
            elif action.startswith("/"):
                texts = await self.say(user, action)
            else:
                texts = await self.choose(user, action, cards=cards)
        return texts

    async def deliver(self) -> None:
        """Send what the outbox holds for now (alerts, deferred answers)."""
        assert self.worker is not None
        await deliver_due(self.worker)

    # -- reading what was sent ----------------------------------------------------------------

    def messages_to(self, user: str) -> list[Call]:
        # WeCom user ids are case-insensitive: the bot writes them lower-cased.
        return [
            c
            for c in self.server.calls_to("message/send")
            if str(c.body.get("touser")).lower() == user.lower()
        ]

    def texts_since(self, index: int, user: str) -> list[str]:
        return [
            shown_text(c)
            for c in self.server.calls[index:]
            if c.path == "message/send" and str(c.body.get("touser")).lower() == user.lower()
        ]

    def last_card(self, user: str) -> dict[str, Any]:
        cards = [c for c in self.messages_to(user) if c.body.get("msgtype") == "template_card"]
        assert cards, f"no card was sent to {user}"
        card: dict[str, Any] = cards[-1].body["template_card"]
        return card

    def number_of(self, user: str, label: str) -> int:
        """The number of `label` in the latest numbered list (text or card) sent to `user`."""
        for call in reversed(self.messages_to(user)):
            if call.body.get("msgtype") == "template_card":
                labels = [b["text"] for b in call.body["template_card"]["button_list"]]
                if label in labels:
                    return labels.index(label) + 1
                continue
            for line in shown_text(call).splitlines():
                match = _NUMBERED.match(line)
                if match and match.group(2) == label:
                    return int(match.group(1))
        raise AssertionError(f"{label!r} was not offered to {user}")


def _fast_retries(config: Any) -> Any:
    from dataclasses import replace

    return replace(config, retry_delays=(0.01, 0.01, 0.01), timeout=5.0)
