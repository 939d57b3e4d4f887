"""/district in the WeCom app (a fake WeCom server, the real callback and channel): the bureau's
区域管理员 gets the district digest's text and then its chart as an image; the clerk is refused
in one line."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from models.db.engine import Database
from tests.fakes.wecom_harness import WecomHarness
from tests.helpers.clock import FakeClock
from tests.helpers.district import (
    BUREAU_CLERK,
    DISTRICT_ADMIN,
    FIRST,
    NOW,
    PEOPLE,
    SECOND,
    add_bureau,
    build_district,
)
from tests.helpers.factories import bind

ADMIN, CLERK = "likezhang", "wangganshi"


@pytest.fixture
async def wecom(db: Database, clock: FakeClock) -> AsyncIterator[WecomHarness]:
    """The bureau first (the app serves the first school), then the two schools."""
    clock.now = NOW
    bureau = await add_bureau(db)
    await build_district(db)
    for user, name in ((ADMIN, DISTRICT_ADMIN), (CLERK, BUREAU_CLERK)):
        await bind(db, clock, bureau[name], channel="wecom", external_id=user)
    harness = await WecomHarness(db, clock).start()
    yield harness
    await harness.stop()


async def test_the_district_admin_gets_the_digest_then_its_chart_in_the_app(
    wecom: WecomHarness,
) -> None:
    texts = await wecom.say(ADMIN, "/district")

    shown = "\n".join(texts)
    assert shown.startswith("区域家访合规日报 · 11月16日")
    assert f"1. {FIRST}：" in shown and f"2. {SECOND}：" in shown
    assert [name for name in PEOPLE if name in shown] == []
    assert [c.body["msgtype"] for c in wecom.messages_to(ADMIN)][-1] == "image"
    (upload,) = wecom.server.calls_to("media/upload")
    assert upload.body["filename"] == "district-2026-11-16.png" and upload.body["size"] > 1000


async def test_the_clerk_is_refused_in_one_line(wecom: WecomHarness) -> None:
    texts = await wecom.say(CLERK, "区域合规")

    assert texts == ["区域合规日报只提供给区域管理员（区教育局）。"]
    assert wecom.server.calls_to("media/upload") == []
