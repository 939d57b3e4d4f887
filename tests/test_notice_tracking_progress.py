"""The sender's ONE progress message while a notice goes out (`handlers.notice.progress`): the
real delivery worker and Telegram channel over the fake Bot API, a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select
from telegram import Bot

from bot.channels.telegram import TelegramChannel
from bot.delivery.worker import DeliveryWorker
from handlers.notice.progress import progress_hook, refresh_progress
from handlers.types import Reply
from models.db.engine import Database
from models.notices.tracking import NoticeProgress
from tests.fakes.telegram_request import Failure, FakeBotApi, FakeTelegramRequest
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.outbox import outbox
from tests.helpers.receipts import local, published_notice

TOKEN = "123456:TEST-progress"
#: 三(2)班's six families, and 德育处's 赵敏 who sends the notice.
FAMILIES = ("刘梅", "李娜家长", "王磊家长", "刘洋家长", "陈静家长", "杨帆家长")
AUTHOR_CHAT = "9001"


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramChannel, FakeBotApi]]:
    api = FakeBotApi()
    bot = Bot(TOKEN, request=FakeTelegramRequest(api))
    async with bot:
        yield TelegramChannel(bot), api


def _worker(db: Database, clock: FakeClock, channel: object, name: str) -> DeliveryWorker:
    worker = DeliveryWorker(
        db,
        {name: channel},  # type: ignore[dict-item]
        clock,
        batch_size=2,
        monotonic=lambda: clock().timestamp(),
    )
    worker.after_round = progress_hook(db, clock)
    return worker


async def test_channel_send_returns_the_message_id_and_an_edit_replaces_that_message(
    telegram: tuple[TelegramChannel, FakeBotApi],
) -> None:
    channel, api = telegram
    message_id = await channel.send("5001", Reply("已发送 0/3,000 条"))
    assert message_id is not None
    assert await channel.send("5001", Reply("已发送 1,200/3,000 条", edit_message_id=message_id))
    assert api.message(5001, int(message_id))["text"] == "已发送 1,200/3,000 条"
    # The same figures again: Telegram says "not modified", which is no failure.
    await channel.send("5001", Reply("已发送 1,200/3,000 条", edit_message_id=message_id))
    assert len(api.calls_of("sendMessage")) == 1


async def test_the_sender_sees_one_message_that_is_edited_until_the_last_family(
    db: Database, clock: FakeClock, telegram: tuple[TelegramChannel, FakeBotApi]
) -> None:
    channel, api = telegram
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"], channel="telegram", external_id=AUTHOR_CHAT)
    for number, name in enumerate(FAMILIES, start=1):
        await bind(db, clock, ts.guardians[name], channel="telegram", external_id=f"500{number}")
    notice = await published_notice(db, ts, clock())
    worker = _worker(db, clock, channel, "telegram")
    rounds = 0
    while await worker.run_once():
        rounds += 1
        clock.advance(seconds=6)
        assert rounds < 20
    to_author = [c for c in api.calls if str(c.params.get("chat_id")) == AUTHOR_CHAT]
    sent = [c for c in to_author if c.method == "sendMessage"]
    edits = [c for c in to_author if c.method == "editMessageText"]
    assert len(sent) == 1 and len(edits) >= 2
    assert "正在发送给家长：已发送 2/6 条" in sent[0].params["text"]
    assert "已发送 3/6 条" in edits[0].params["text"]
    [first] = [m for m in api.delivered() if str(m["chat"]["id"]) == AUTHOR_CHAT]
    assert first["text"].startswith(
        "〔2026〕第001号《秋季研学活动通知》 已发送完毕：已发送 6/6 条。"
    )
    assert all(int(e.params["message_id"]) == first["message_id"] for e in edits)
    assert len(api.calls_of("sendMessage")) == 1 + len(FAMILIES)
    async with db.session() as session:
        [progress] = (await session.exec(select(NoticeProgress))).all()
    assert progress.notice_id == notice.id and progress.finished_at is not None
    assert progress.shown_sent == 6


async def test_the_progress_message_jumps_the_queue_of_the_notices_messages(
    db: Database, clock: FakeClock, telegram: tuple[TelegramChannel, FakeBotApi]
) -> None:
    channel, api = telegram
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"], channel="telegram", external_id=AUTHOR_CHAT)
    for number, name in enumerate(FAMILIES, start=1):
        await bind(db, clock, ts.guardians[name], channel="telegram", external_id=f"500{number}")
    await published_notice(db, ts, clock())
    worker = _worker(db, clock, channel, "telegram")
    await worker.run_once()  # two families; the progress message is queued after the round
    clock.advance(seconds=6)
    await worker.run_once()
    chats = [str(c.params["chat_id"]) for c in api.calls_of("sendMessage")]
    assert chats[2] == AUTHOR_CHAT


class NoIdsChannel:
    """A channel without message ids (like the console): it cannot edit."""

    name = "console"
    rate_per_second = 1000.0
    rate_per_chat_per_second = 1000.0

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        assert reply.edit_message_id is None
        self.sent.append((chat_id, reply.text))


async def test_without_message_ids_the_sender_gets_the_final_figures_in_a_second_message(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    author = await bind(db, clock, ts.staff["赵敏"])
    for name in FAMILIES:
        await bind(db, clock, ts.guardians[name])
    await published_notice(db, ts, clock())
    channel = NoIdsChannel()
    worker = _worker(db, clock, channel, "console")
    while await worker.run_once():
        clock.advance(seconds=6)
    texts = [text for chat, text in channel.sent if chat == author]
    assert len(texts) == 2
    assert "正在发送给家长" in texts[0]
    assert "已发送完毕：已发送 6/6 条" in texts[1]


async def test_no_progress_message_before_the_sending_begins(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"])
    await bind(db, clock, ts.guardians["刘梅"])
    evening = local(2026, 11, 16, 22)  # the families' messages wait for 07:00
    notice = await published_notice(db, ts, evening)
    async with db.session() as session:
        assert await refresh_progress(session=session, now=evening + timedelta(minutes=5)) == 0
    assert await outbox(db, prefix=f"notice-progress:{notice.id}:") == []


async def test_failures_and_unbound_families_are_counted_in_the_final_figures(
    db: Database, clock: FakeClock, telegram: tuple[TelegramChannel, FakeBotApi]
) -> None:
    channel, api = telegram
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"], channel="telegram", external_id=AUTHOR_CHAT)
    await bind(db, clock, ts.guardians["刘梅"], channel="telegram", external_id="5001")
    await bind(db, clock, ts.guardians["李娜家长"], channel="telegram", external_id="5002")
    api.fail("sendMessage", Failure.BLOCKED)
    await published_notice(db, ts, clock())
    worker = _worker(db, clock, channel, "telegram")
    while await worker.run_once():
        clock.advance(seconds=6)
    [shown] = [m for m in api.delivered() if str(m["chat"]["id"]) == AUTHOR_CHAT]
    assert "已发送完毕：已发送 1/2 条。" in shown["text"]
    assert "1 条发送失败" in shown["text"]
    assert "4 位家长尚未绑定，收不到消息。" in shown["text"]


async def test_an_edit_the_messenger_refuses_stops_the_updates(
    db: Database, clock: FakeClock, telegram: tuple[TelegramChannel, FakeBotApi]
) -> None:
    channel, api = telegram
    ts = await seed_school(db)
    await bind(db, clock, ts.staff["赵敏"], channel="telegram", external_id=AUTHOR_CHAT)
    for number, name in enumerate(FAMILIES, start=1):
        await bind(db, clock, ts.guardians[name], channel="telegram", external_id=f"500{number}")
    await published_notice(db, ts, clock())
    api.fail("editMessageText", Failure.CHAT_NOT_FOUND)  # e.g. the sender deleted it
    worker = _worker(db, clock, channel, "telegram")
    while await worker.run_once():
        clock.advance(seconds=6)
    assert len(api.calls_of("editMessageText")) == 1
    async with db.session() as session:
        [progress] = (await session.exec(select(NoticeProgress))).all()
    assert progress.finished_at is not None
