"""/incident end to end through the real Telegram `Application` over the fake Bot API: a photo
with its caption, the family's 已知悉 edited in place, and the timeout job's call list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select
from telegram import Update

from bot.channels.telegram_render import update_to_inbound
from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from models.school.tables import School
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import FAKE_DATE, TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.incidents import run_not_reached, the_incident

COACH = TgUser(5201, "进")
HEAD = TgUser(5202, "芳")
MOTHER = TgUser(5203, "梅")


def photo_update(user: TgUser, update_id: int, caption: str | None) -> dict[str, Any]:
    sizes = [
        {"file_id": f"small-{update_id}", "file_unique_id": "s", "width": 90, "height": 60},
        {"file_id": f"large-{update_id}", "file_unique_id": "l", "width": 1280, "height": 960},
    ]
    message: dict[str, Any] = {
        "message_id": 9000 + update_id,
        "date": FAKE_DATE,
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": user.to_dict(),
        "photo": sizes,
    }
    if caption is not None:
        message["caption"] = caption
    return {"update_id": update_id, "message": message}


@pytest.fixture
async def tg(db: Database, clock: FakeClock) -> AsyncIterator[TelegramHarness]:
    school = await seed_school(db)
    for user, who in (
        (COACH, school.staff["钱进"]),
        (HEAD, school.staff["王芳"]),
        (MOTHER, school.guardians["刘梅"]),
    ):
        await bind(db, clock, who, channel="telegram", external_id=str(user.id))
    harness = await TelegramHarness(db, clock, all_flows(), all_actions()).start()
    yield harness
    await harness.stop()


def test_a_private_photo_becomes_an_inbound_with_the_largest_size_and_its_caption() -> None:
    update = Update.de_json(photo_update(COACH, 77, "膝盖擦伤"), None)
    inbound = update_to_inbound(update)
    assert inbound is not None
    assert (inbound.photo, inbound.text) == ("large-77", "膝盖擦伤")


async def test_an_incident_with_a_photo_reaches_the_family_who_acknowledge_it(
    tg: TelegramHarness, db: Database
) -> None:
    await tg.steps(COACH, "/incident 张小明", "意外伤害")
    await tg.feed(photo_update(COACH, 501, "课间在操场摔倒，膝盖擦伤"))
    texts = await tg.steps(COACH, "已送医院")
    assert any("照片：已附 1 张" in t for t in texts)
    texts = await tg.press_label(COACH, "确认上报")
    assert any("已上报。" in t for t in texts)
    incident = await the_incident(db)
    assert (incident.photo_ref, incident.photo_channel) == ("large-501", "telegram")

    await tg.settle()
    [family] = tg.api.sent_texts(MOTHER.id)
    assert "在校发生突发情况：意外伤害" in family and "请尽快与班主任王芳老师联系" in family
    [alert] = tg.api.sent_texts(HEAD.id)
    assert "报告人附有一张照片" in alert and "报告人：钱进" in alert
    photos = [c.params for c in tg.api.calls_of("sendPhoto")]
    assert [(str(p["chat_id"]), p["photo"]) for p in photos] == [(str(HEAD.id), "large-501")]
    assert tg.api.sent_texts(MOTHER.id) and not any(
        str(p["chat_id"]) == str(MOTHER.id) for p in photos
    )  # the family never gets the photo

    texts = await tg.press_label(MOTHER, "已知悉")
    assert any("✓ 您已于 10:00 确认知悉" in t for t in texts)
    edited = tg.api.calls_of("editMessageText")[-1]
    assert str(edited.params["chat_id"]) == str(MOTHER.id)
    assert (await the_incident(db)).acknowledged_at is not None
    await tg.settle()
    assert any("【家长已知悉】" in t for t in tg.api.sent_texts(HEAD.id))


async def test_without_acknowledgement_the_staff_get_the_call_list_and_record_the_call(
    tg: TelegramHarness, db: Database, clock: FakeClock
) -> None:
    await tg.steps(COACH, "/incident 张小明", "突发疾病", ">午饭后呕吐", "家长来接", "确认上报")
    await tg.settle()
    school = await school_of(db)
    clock.advance(minutes=10)
    assert await run_not_reached(db, school, clock()) == 2
    await tg.settle()
    call_list = tg.api.sent_texts(HEAD.id)[-1]
    assert "刘梅（母亲）：13700000000" in call_list
    texts = await tg.press_label(HEAD, "已电话联系")
    assert any("✓ 王芳已于 10:10 电话联系家长" in t for t in texts)
    assert (await the_incident(db)).phoned_at == clock()


async def school_of(db: Database) -> School:
    async with db.session() as session:
        return (await session.exec(select(School))).one()
