"""The WeCom staff channel: how replies are shown, per-member limits, token expiry mid-fan-out."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlmodel import select

from bot.channels.base import PermanentSendError
from bot.channels.wecom import (
    MemberLimit,
    WecomChannel,
    numbered_text,
    pieces,
    split_text,
    wecom_limiter,
)
from bot.channels.wecom_api import WecomApi
from bot.delivery import pacing
from bot.delivery.worker import DeliveryWorker
from handlers.actions import action_button
from handlers.i18n import translator
from handlers.types import Attachment, Button, FileRef, Reply
from models.db.engine import Database
from models.outbox.outcomes import FailureReason
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue
from tests.fakes.wecom_server import WecomServer
from tests.helpers.clock import FakeClock
from tests.helpers.outbox import school_for_rows
from tests.helpers.servers import wecom_config

T = translator("zh")


def _reply(text: str, *labels: str) -> Reply:
    return Reply.with_buttons(text, [[Button(label, f"b{i}") for i, label in enumerate(labels)]])


@pytest.mark.parametrize(
    ("reply", "kinds"),
    [
        (Reply("好的"), ["text"]),
        (_reply("请选择家访形式：", "上门家访", "家长来访"), ["card"]),
        # seven buttons: more than a card holds
        (_reply("请选择：", *"一二三四五六七"), ["text"]),
        # a label longer than a card's button
        (_reply("请选择：", "三(2)班张小明的奶奶（监护人）"), ["text"]),
        # a first line too long for the card's title
        (_reply("这" * 27, "是", "否"), ["text"]),
        # a body too long for the card
        (_reply("请确认：\n" + "很" * 113, "保存"), ["text"]),
        (Reply("日报", image=Attachment("digest-1")), ["text", "image"]),
        # action buttons (回复家长) can only be clicked: a long text keeps them on a card after it
        (
            Reply.with_buttons(
                "【家长疑问】\n" + "问" * 200, [[action_button("回复家长", "ans", 5)]]
            ),
            ["text", "card"],
        ),
        # an incident's photo kept on WeCom goes first; a Telegram file cannot be sent here
        (
            Reply(
                "突发情况",
                files=(FileRef("wecom", "media-9", "photo"), FileRef("telegram", "AgAD", "photo")),
            ),
            ["media", "text"],
        ),
    ],
)
def test_a_reply_is_a_card_when_it_fits_and_numbered_text_otherwise(
    reply: Reply, kinds: list[str]
) -> None:
    assert [p.kind for p in pieces(T, reply)] == kinds


def test_a_card_of_action_buttons_does_not_offer_typed_numbers() -> None:
    reply = Reply.with_buttons("【家长疑问】张小明", [[action_button("回复家长", "ans", 5)]])
    (piece,) = pieces(T, reply)
    assert piece.card is not None
    assert "回复" not in piece.card.get("sub_title_text", "")
    assert piece.card["button_list"][0]["key"] == "!ans:5"


def test_a_card_carries_the_buttons_data_and_says_numbers_work_too() -> None:
    (piece,) = pieces(T, _reply("请选择家访形式：", "上门家访", "家长来访", "电访"))
    assert piece.card is not None
    assert piece.card["main_title"] == {"title": "请选择家访形式："}
    assert [(b["text"], b["key"]) for b in piece.card["button_list"]] == [
        ("上门家访", "b0"),
        ("家长来访", "b1"),
        ("电访", "b2"),
    ]
    assert "也可以按顺序回复 1–3" in piece.card["sub_title_text"]
    assert piece.card["task_id"] != pieces(T, _reply("请选择家访形式：", "电访"))[0].card["task_id"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("labels", "hint"),
    [
        (["保存"], "回复 1 即可选择。"),
        (["是", "否"], "回复 1 或 2。"),
        (["上门", "来访", "电访"], "回复 1、2 或 3。"),
        (list("一二三四五六七"), "回复 1–7 中的数字。"),
    ],
)
def test_numbered_text_lists_the_buttons_in_order_and_says_what_to_reply(
    labels: list[str], hint: str
) -> None:
    text = numbered_text(T, _reply("请选择：", *labels))
    lines = text.splitlines()
    assert lines[0] == "请选择："
    assert lines[2 : 2 + len(labels)] == [f"{n}. {label}" for n, label in enumerate(labels, 1)]
    assert lines[-1] == hint


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("短消息", 2000, ["短消息"]),
        ("甲\n乙\n丙", 7, ["甲\n乙", "丙"]),
        ("一二三四五六七", 9, ["一二三", "四五六", "七"]),
        ("", 100, [""]),
    ],
)
def test_long_texts_are_split_under_the_byte_limit(
    text: str, limit: int, expected: list[str]
) -> None:
    pieces_ = split_text(text, limit)
    assert pieces_ == expected
    assert all(len(p.encode()) <= limit for p in pieces_)


# -- against the fake WeCom API ------------------------------------------------------------------


class Monotonic:
    """The limiter's clock; `sleep` moves it (nothing really waits)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _api(db: Database, server: WecomServer, clock: FakeClock) -> WecomApi:
    return WecomApi(db, wecom_config(server), now=clock)


async def _queue(db: Database, clock: FakeClock, count: int, *, users: list[str]) -> None:
    async with db.session() as session:
        for n in range(count):
            user = users[n % len(users)]
            await enqueue(
                session=session,
                school_id=await school_for_rows(session),
                key=f"test:{n}",
                kind="test",
                channel="wecom",
                chat_id=user,
                payload=Reply(f"提醒 {n}").to_dict(),
                due_at=clock(),
            )


async def _statuses(db: Database) -> Counter[OutboxStatus]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return Counter(row.status for row in rows)


async def test_no_member_ever_gets_more_than_thirty_messages_a_minute(
    db: Database, clock: FakeClock, wecom_server: WecomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mono = Monotonic()
    monkeypatch.setattr(pacing, "sleep", mono.sleep)
    channel = WecomChannel(_api(db, wecom_server, clock), limiter=wecom_limiter(mono))
    sent_at: list[float] = []
    original = channel.api.send_text

    async def send_text(userid: str, text: str) -> object:
        sent_at.append(mono.now)
        return await original(userid, text)

    monkeypatch.setattr(channel.api, "send_text", send_text)
    await _queue(db, clock, 70, users=["lihua"])
    worker = DeliveryWorker(db, {"wecom": channel}, clock, monotonic=mono, max_wait=3600)
    while await worker.run_once():
        pass
    assert len(sent_at) == 70
    for start in sent_at:
        assert sum(1 for t in sent_at if start <= t < start + 60) <= 30
    assert sorted(c.body["text"]["content"] for c in wecom_server.delivered) == sorted(
        f"提醒 {n}" for n in range(70)
    )
    assert (await _statuses(db))[OutboxStatus.SENT] == 70


async def test_a_full_member_window_postpones_the_row_instead_of_sending(
    db: Database, clock: FakeClock, wecom_server: WecomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mono = Monotonic()
    monkeypatch.setattr(pacing, "sleep", mono.sleep)
    channel = WecomChannel(_api(db, wecom_server, clock), limiter=wecom_limiter(mono))
    for _ in range(30):
        channel.limiter.note("lihua")  # thirty answers in this minute already
    await _queue(db, clock, 1, users=["lihua"])
    worker = DeliveryWorker(db, {"wecom": channel}, clock, monotonic=mono)
    await worker.run_once()
    assert wecom_server.delivered == []
    async with db.session() as session:
        (row,) = (await session.exec(select(OutboxMessage))).all()
    assert row.status == OutboxStatus.PENDING and row.due_at > clock()
    assert row.attempts == 0


async def test_a_live_answer_over_the_limit_is_refused_before_it_leaves(
    db: Database, clock: FakeClock, wecom_server: WecomServer
) -> None:
    mono = Monotonic()
    channel = WecomChannel(_api(db, wecom_server, clock), limiter=wecom_limiter(mono))
    for _ in range(30):
        await channel.send_live("lihua", Reply("好的"))
    with pytest.raises(MemberLimit) as refused:
        await channel.send_live("lihua", Reply("第 31 条"))
    assert refused.value.retry_after == pytest.approx(60.0)
    assert len(wecom_server.delivered) == 30
    mono.now += 61
    await channel.send_live("lihua", Reply("一分钟后"))
    assert len(wecom_server.delivered) == 31


async def test_a_token_expiring_mid_fan_out_loses_and_repeats_nothing(
    db: Database, clock: FakeClock, wecom_server: WecomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mono = Monotonic()
    monkeypatch.setattr(pacing, "sleep", mono.sleep)
    channel = WecomChannel(_api(db, wecom_server, clock), limiter=wecom_limiter(mono))
    users = [f"t{n:02d}" for n in range(40)]
    await _queue(db, clock, 40, users=users)
    original = channel.api.send_text
    count = 0

    async def send_text(userid: str, text: str) -> object:
        nonlocal count
        count += 1
        if count == 15:
            wecom_server.expire_tokens()  # WeCom expires the token between two sends
        return await original(userid, text)

    monkeypatch.setattr(channel.api, "send_text", send_text)
    worker = DeliveryWorker(db, {"wecom": channel}, clock, monotonic=mono, batch_size=10)
    while await worker.run_once():
        pass
    delivered = Counter(c.body["touser"] for c in wecom_server.delivered)
    assert delivered == Counter(users)  # each member exactly once
    assert len(wecom_server.calls_to("gettoken")) == 2  # one refresh, shared by every send after it
    refused = [c for c in wecom_server.calls_to("message/send") if c not in wecom_server.delivered]
    assert refused, "sends with the expired token were refused (42001) and made again"
    assert {c.query["access_token"] for c in refused} == {"fake-token-1"}
    assert (await _statuses(db)) == Counter({OutboxStatus.SENT: 40})


async def test_the_digest_chart_is_uploaded_and_sent_as_an_image(
    db: Database, clock: FakeClock, wecom_server: WecomServer
) -> None:
    channel = WecomChannel(_api(db, wecom_server, clock), limiter=wecom_limiter(Monotonic()))
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    image = Attachment("digest-1", filename="digest.png").with_data(png)
    await channel.send("zhaomin", replace(Reply("家访日报"), image=image))
    kinds = [c.body["msgtype"] for c in wecom_server.calls_to("message/send")]
    assert kinds == ["text", "image"]
    (upload,) = wecom_server.calls_to("media/upload")
    assert upload.body == {"filename": "digest.png", "content_type": "image/png", "size": 108}
    media_id = wecom_server.calls_to("message/send")[1].body["image"]["media_id"]
    assert media_id in wecom_server.media


async def test_a_member_wecom_names_invalid_is_a_permanent_failure(
    db: Database, clock: FakeClock, wecom_server: WecomServer
) -> None:
    wecom_server.gone.add("left-school")
    channel = WecomChannel(_api(db, wecom_server, clock), limiter=wecom_limiter(Monotonic()))
    with pytest.raises(PermanentSendError) as refused:
        await channel.send("left-school", Reply("提醒"))
    assert refused.value.reason is FailureReason.CHAT_NOT_FOUND


async def test_a_live_answer_is_not_started_without_room_for_all_of_it(
    db: Database, clock: FakeClock, wecom_server: WecomServer
) -> None:
    channel = WecomChannel(_api(db, wecom_server, clock), limiter=wecom_limiter(Monotonic()))
    for _ in range(29):
        channel.limiter.note("lihua")
    two_pieces = Reply("日报", image=Attachment("d", filename="d.png").with_data(b"png"))
    with pytest.raises(MemberLimit):
        await channel.send_live("lihua", two_pieces)
    assert wecom_server.delivered == []  # nothing half-sent
    await channel.send_live("lihua", Reply("好的"))  # one still fits
    assert len(wecom_server.delivered) == 1
