"""/incident on WeCom: a photo sent in the app reaches the head teacher by its media_id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.db import Database
from tests.clock import FakeClock
from tests.factories import bind, seed_school
from tests.fakes.wecom_harness import WecomHarness

COACH, HEAD = "qianjin", "wangfang"


@pytest.fixture
async def wecom(db: Database, clock: FakeClock) -> AsyncIterator[WecomHarness]:
    school = await seed_school(db)
    await bind(db, clock, school.staff["钱进"], channel="wecom", external_id=COACH)
    await bind(db, clock, school.staff["王芳"], channel="wecom", external_id=HEAD)
    harness = await WecomHarness(db, clock).start()
    yield harness
    await harness.stop()


async def test_an_incident_photo_sent_in_the_app_reaches_the_head_teacher(
    wecom: WecomHarness,
) -> None:
    await wecom.steps(COACH, "/incident 张小明", "意外伤害")
    texts = await wecom.send_image(COACH, "media-photo-1")
    assert any("已收到照片" in t for t in texts)
    await wecom.steps(COACH, ">课间在操场摔倒，膝盖擦伤", "已送医院")
    texts = await wecom.choose(COACH, "确认上报")
    assert any("已上报。" in t for t in texts)
    await wecom.deliver()
    to_head = wecom.messages_to(HEAD)
    kinds = [c.body["msgtype"] for c in to_head]
    assert kinds[0] == "image", kinds  # the photo first, then the alert
    assert to_head[0].body["image"]["media_id"] == "media-photo-1"
    assert any(
        "报告人附有一张照片" in (c.body.get("text") or {}).get("content", "") for c in to_head
    )
