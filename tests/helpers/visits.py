"""Driving the visit flow as a console user would: send text, press buttons by their label.

Shared by the visit-flow tests and the channel tests, so they all talk to the bot the same way.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from handlers.dispatcher import Dispatcher, Response
from handlers.registry import all_actions, all_flows
from handlers.types import Button, Inbound, Reply
from models.conversations.store import Conversation
from models.db.engine import Database
from models.roster.tables import Guardian, Staff
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.visits.tables import Visit
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind

ZONE = ZoneInfo("Asia/Shanghai")

#: /visit from start to the summary card: a 重点 上门 visit to 张小明 (三(2)班) that needs the
#: school; `>text` is typed, anything else is a button.
FULL_VISIT = (
    "/visit",
    "三(2)班",
    "张小明",
    "上门家访",
    "重点",
    "今天",
    "奶奶",
    ">最近作业按时完成",
    ">在家主动做家务",
    ">父母在外地打工，奶奶照看",
    ">多和孩子谈心",
    ">每周电话沟通一次",
    ">孩子情绪低落，常一个人哭",
    "需要学校处理",
)


def visit_dispatcher(db: Database, clock: FakeClock) -> Dispatcher:
    """A dispatcher with every real flow, on the test clock (a new one acts like a restart)."""
    return Dispatcher(db, all_flows(), zone=ZONE, clock=clock)


def full_dispatcher(
    db: Database, clock: FakeClock, rules: SchoolRules = DEFAULT_RULES
) -> Dispatcher:
    """Every real flow and action on the test clock (a new one acts like a restart)."""
    return Dispatcher(db, all_flows(), zone=ZONE, clock=clock, actions=all_actions(), rules=rules)


class ChatUser:
    """One person chatting with the bot; remembers the last replies to press their buttons."""

    def __init__(self, dispatcher: Dispatcher, user_id: str, channel: str = "console") -> None:
        self.dispatcher = dispatcher
        self.user_id = user_id
        self.channel = channel
        self.replies: list[Reply] = []

    @property
    def text(self) -> str:
        """Every text of the last response, one after the other."""
        return "\n".join(r.text for r in self.replies)

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    @property
    def buttons(self) -> list[Button]:
        return [b for r in self.replies for row in r.buttons for b in row]

    async def _handle(self, inbound: Inbound) -> Response:
        response = await self.dispatcher.handle(inbound)
        self.replies = response.replies
        return response

    async def send(self, text: str) -> Response:
        return await self._handle(
            Inbound(channel=self.channel, user_id=self.user_id, chat_id=self.user_id, text=text)
        )

    async def press(self, label: str) -> Response:
        """Press the button of the last reply whose label is `label`."""
        matches = [b for b in self.buttons if b.label == label]
        if not matches:
            raise AssertionError(f"no button {label!r} in {self.labels!r}: {self.text}")
        return await self.callback(matches[0].data)

    async def callback(self, data: str) -> Response:
        """Send raw callback data, as a client (or a forger) can."""
        return await self._handle(
            Inbound(channel=self.channel, user_id=self.user_id, chat_id=self.user_id, callback=data)
        )

    async def steps(self, *actions: str) -> Response:
        """Press each label in turn; `>text` sends text, and a `/command` is sent as it is."""
        response = Response()
        for action in actions:
            if action.startswith(">"):
                response = await self.send(action[1:])
            elif action.startswith("/"):
                response = await self.send(action)
            else:
                response = await self.press(action)
        return response


class MessengerUser(ChatUser):
    """A `ChatUser` whose updates each carry a key, as a messenger's do (Telegram's update_id,
    WeCom's MsgId): the dispatcher records it, as it does for them."""

    def __init__(self, user: ChatUser) -> None:
        super().__init__(user.dispatcher, user.user_id, user.channel)
        self.keys = itertools.count(1)

    async def _handle(self, inbound: Inbound) -> Response:
        return await super()._handle(replace(inbound, update_key=str(next(self.keys))))


async def chat_as(
    db: Database, clock: FakeClock, staff: Staff, dispatcher: Dispatcher | None = None
) -> ChatUser:
    """Bind `staff` on the console and return them ready to chat."""
    user_id = await bind(db, clock, staff)
    return ChatUser(dispatcher or visit_dispatcher(db, clock), user_id)


async def conversation_of(db: Database, user: ChatUser) -> Conversation | None:
    async with db.session() as session:
        query = select(Conversation).where(
            Conversation.channel == user.channel, Conversation.external_id == user.user_id
        )
        return (await session.exec(query)).first()


async def offer_button(db: Database, user: ChatUser, label: str, data: str) -> None:
    """Make the dispatcher accept `data` as if it had been offered: a forged button."""
    async with db.session() as session:
        query = select(Conversation).where(
            Conversation.channel == user.channel, Conversation.external_id == user.user_id
        )
        conversation = (await session.exec(query)).one()
        conversation.choices = [*conversation.choices, [label, data]]
        conversation.version += 1
        session.add(conversation)
    # The row changed behind the dispatcher's back: its kept copy is out of date.
    user.dispatcher.conversations.forget(user.channel, user.user_id)


async def person(
    db: Database, clock: FakeClock, dispatcher: Dispatcher, who: Staff | Guardian
) -> ChatUser:
    """Bind `who` on the console and return them ready to chat."""
    return ChatUser(dispatcher, await bind(db, clock, who))


async def visits(db: Database) -> list[Visit]:
    """Every visit record, in the order saved."""
    async with db.session() as session:
        return list((await session.exec(select(Visit).order_by(col(Visit.id)))).all())
