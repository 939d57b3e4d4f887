"""A notice end to end through the real Telegram `Application` over the fake Bot API: a teacher
attaches a document (one over 20 MB is refused), 德育处 approves with the button, the mother gets
the file and one message naming both children, and 确认收到 edits that message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram_render import update_to_inbound
from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import FAKE_DATE, TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.notices import receipts

HEAD = TgUser(6201, "芳")
ADMIN = TgUser(6202, "敏")
MOTHER = TgUser(6203, "梅")


def document_update(user: TgUser, update_id: int, name: str, size: int) -> dict[str, Any]:
    document = {
        "file_id": f"doc-{update_id}",
        "file_unique_id": f"u{update_id}",
        "file_name": name,
        "mime_type": "application/pdf",
        "file_size": size,
    }
    message = {
        "message_id": 9100 + update_id,
        "date": FAKE_DATE,
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": user.to_dict(),
        "document": document,
    }
    return {"update_id": update_id, "message": message}


@pytest.fixture
async def tg(db: Database, clock: FakeClock) -> AsyncIterator[TelegramHarness]:
    school = await seed_school(db)
    for user, who in (
        (HEAD, school.staff["王芳"]),
        (ADMIN, school.staff["赵敏"]),
        (MOTHER, school.guardians["刘梅"]),
    ):
        await bind(db, clock, who, channel="telegram", external_id=str(user.id))
    harness = await TelegramHarness(db, clock, all_flows(), all_actions()).start()
    yield harness
    await harness.stop()


def test_a_private_document_becomes_an_inbound_with_its_name_and_size() -> None:
    update = Update.de_json(document_update(HEAD, 31, "回执单.pdf", 1234), None)
    inbound = update_to_inbound(update)
    assert inbound is not None and inbound.document is not None
    document = inbound.document
    assert (document.channel, document.ref, document.name, document.size) == (
        "telegram",
        "doc-31",
        "回执单.pdf",
        1234,
    )


async def test_a_notice_with_a_document_is_approved_delivered_and_confirmed(
    tg: TelegramHarness, db: Database
) -> None:
    await tg.steps(HEAD, "/notice", "收费", ">校服费", ">请于周五前交校服费 120 元。")
    await tg.feed(document_update(HEAD, 601, "全文.pdf", 21 * 1024 * 1024))
    assert "超过 20 MB" in tg.api.sent_texts(HEAD.id)[-1]
    await tg.feed(document_update(HEAD, 602, "缴费说明.pdf", 200_000))
    assert "已添加附件：缴费说明.pdf" in tg.api.sent_texts(HEAD.id)[-1]
    await tg.steps(HEAD, "完成", "选择学生", "张小明", "完成（1 人）", "需要回执", "明天 18:00")
    await tg.steps(HEAD, "批准后立即发布", ">12月1日")
    texts = await tg.press_label(HEAD, "提交")
    assert any("已提交德育处审批" in t for t in texts)
    await tg.settle()
    assert "【通知待审批】王芳老师" in tg.api.sent_texts(ADMIN.id)[-1]
    assert tg.api.sent_texts(MOTHER.id) == []

    texts = await tg.press_label(ADMIN, "批准")
    assert any("✓ 您已批准" in t for t in texts)
    await tg.settle()
    documents = [c.params for c in tg.api.calls_of("sendDocument")]
    # 德育处 got the file with the request to approve it, the mother with the notice.
    assert [(str(p["chat_id"]), p["document"]) for p in documents] == [
        (str(ADMIN.id), "doc-602"),
        (str(MOTHER.id), "doc-602"),
    ]
    [message] = tg.api.sent_texts(MOTHER.id)
    assert "张小明（三(2)班）的家长" in message and "附件：缴费说明.pdf" in message

    texts = await tg.press_label(MOTHER, "确认收到")
    assert any(t.endswith("✓ 已确认收到（11月16日 10:00）") for t in texts)
    edited = tg.api.calls_of("editMessageText")[-1]
    assert str(edited.params["chat_id"]) == str(MOTHER.id)
    assert sum(1 for r in await receipts(db) if r.confirmed_at) == 1
