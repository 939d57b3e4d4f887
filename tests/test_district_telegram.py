"""/district through the real python-telegram-bot `Application` over the fake Bot API: the
bureau's 区域管理员 gets the district digest as a photo (the chart) with its text, and the
bureau's clerk, who has no role, one line of refusal; the morning push reaches the 区域管理员
through the outbox as a photo too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from sqlmodel import select
from telegram.request import RequestData

import tests.fakes
from handlers.registry import all_actions, all_flows
from models.db.engine import Database
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.roster.queries import current_school
from models.school.rules import DEFAULT_RULES
from scheduler.base import JobContext
from scheduler.jobs.district import send_district_digest
from tests.fakes import TelegramHarness
from tests.fakes.telegram_request import FakeTelegramRequest, TgUser
from tests.helpers.clock import FakeClock
from tests.helpers.district import (
    BUREAU,
    BUREAU_CLERK,
    DISTRICT_ADMIN,
    FIRST,
    NOW,
    PEOPLE,
    SECOND,
    ZONE,
    add_bureau,
    build_district,
)
from tests.helpers.factories import bind

ADMIN = TgUser(7301, "李")
CLERK = TgUser(7302, "王")
PNG = b"\x89PNG\r\n\x1a\n"


class UploadRecordingRequest(FakeTelegramRequest):
    """The in-process fake, also keeping the files each call uploaded."""

    uploads: ClassVar[list[tuple[str, str, bytes]]] = []

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                content = part[1]
                assert isinstance(content, bytes)
                self.uploads.append((name, str(part[0]), content))
        return await super().do_request(url, method, request_data, *args, **kwargs)


@pytest.fixture
async def tg(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramHarness]:
    """The bureau first (the harness's bot serves the first school), then the two schools."""
    clock.now = NOW
    bureau = await add_bureau(db)
    await build_district(db)
    for user, name in ((ADMIN, DISTRICT_ADMIN), (CLERK, BUREAU_CLERK)):
        await bind(db, clock, bureau[name], channel="telegram", external_id=str(user.id))
    UploadRecordingRequest.uploads = []
    monkeypatch.setattr(tests.fakes, "FakeTelegramRequest", UploadRecordingRequest)
    harness = await TelegramHarness(db, clock, all_flows(), all_actions()).start()
    yield harness
    await harness.stop()


async def test_the_district_admin_gets_the_chart_as_a_photo_with_the_digest(
    tg: TelegramHarness,
) -> None:
    await tg.say(ADMIN, "/district")

    (photo,) = tg.api.calls_of("sendPhoto")
    assert photo.params["chat_id"] == ADMIN.id
    ((field, filename, data),) = UploadRecordingRequest.uploads
    assert (field, filename) == ("photo", "district-2026-11-16.png")
    assert data.startswith(PNG)
    shown = "\n".join([str(photo.params.get("caption", "")), *tg.api.sent_texts(ADMIN.id)])
    assert shown.startswith("区域家访合规日报 · 11月16日")
    assert f"1. {FIRST}：" in shown and f"2. {SECOND}：" in shown
    assert [name for name in PEOPLE if name in shown] == []


async def test_the_bureaus_clerk_is_refused_in_one_line_without_a_picture(
    tg: TelegramHarness,
) -> None:
    texts = await tg.say(CLERK, "/district")

    assert texts == ["区域合规日报只提供给区域管理员（区教育局）。"]
    assert tg.api.calls_of("sendPhoto") == []


async def test_the_morning_push_reaches_the_district_admin_as_a_photo(
    tg: TelegramHarness, db: Database
) -> None:
    async with db.session() as session:
        bureau = await current_school(session=session, name=BUREAU)
        assert bureau is not None
        jc = JobContext(session=session, now=NOW, school=bureau, zone=ZONE, rules=DEFAULT_RULES)
        assert await send_district_digest(jc) == 1

    tg.worker.wake()
    await tg.settle()

    (photo,) = tg.api.calls_of("sendPhoto")
    assert photo.params["chat_id"] == ADMIN.id
    assert [u[1] for u in UploadRecordingRequest.uploads] == ["district-2026-11-16.png"]
    assert tg.api.sent_texts(CLERK.id) == []
    async with db.session() as session:
        (row,) = (await session.exec(select(OutboxMessage))).all()
    assert row.status is OutboxStatus.SENT
