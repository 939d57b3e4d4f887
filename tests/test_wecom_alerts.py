"""Alerts on WeCom: an incident's photo reaches the head teacher by its media_id; the morning
digest reaches 德育处 in the app with its chart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from models.db.engine import Database
from models.school.rules import DEFAULT_RULES
from scheduler.base import JobContext
from scheduler.jobs.digest import send_daily_digest
from tests.fakes.wecom_harness import WecomHarness
from tests.helpers.clock import FakeClock
from tests.helpers.digest import ZONE, seed_digest_school
from tests.helpers.factories import bind, seed_school

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


async def test_the_morning_digest_reaches_an_admin_in_the_app_with_its_chart(
    db: Database, clock: FakeClock
) -> None:
    school = await seed_digest_school(db)
    await bind(db, clock, school.staff["赵敏"], channel="wecom", external_id="zhaomin")
    slot = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)  # Monday 07:30 in Shanghai
    async with db.session() as session:
        context = JobContext(
            session=session,
            now=slot,
            school=school.school,
            zone=ZONE,
            rules=DEFAULT_RULES,
            slot=slot,
        )
        assert await send_daily_digest(context) == 1
    harness = await WecomHarness(db, clock).start()
    try:
        await harness.deliver()
        sent = harness.messages_to("zhaomin")
        assert [c.body["msgtype"] for c in sent] == ["text", "image"]
        assert sent[0].body["text"]["content"].startswith("家访日报 · 测试小学 · 11月16日")
        (upload,) = harness.server.calls_to("media/upload")
        assert upload.body["filename"] == "digest-2026-11-16.png" and upload.body["size"] > 1000
        assert sent[1].body["image"]["media_id"] in harness.server.media
    finally:
        await harness.stop()
