"""The daily digest job and the digest's way out: the outbox, Telegram (a photo), the console."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from telegram import Bot
from telegram.request import RequestData

import tests.fakes
from bot.channels.console import ConsoleChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_render import pieces
from bot.delivery.worker import DeliveryWorker
from bot.demo import seed_demo
from handlers.dispatcher import Dispatcher
from handlers.i18n import translator
from handlers.registry import all_flows
from handlers.types import Attachment, Reply
from models.db.engine import Database
from models.outbox.media import Media
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.roster.tables import Staff
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from scheduler.base import JobContext
from scheduler.jobs.digest import DAILY_DIGEST, send_daily_digest
from scheduler.registry import all_jobs
from tests.fakes import TEST_TOKEN, TelegramHarness
from tests.fakes.telegram_request import FakeBotApi, FakeTelegramRequest, TgUser
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.digest import ZONE
from tests.helpers.factories import bind

ADMIN_TG = TgUser(7101, "敏")
#: Monday 16 November 2026, 07:30 in Shanghai: the digest's slot.
SLOT = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"


async def run_digest(
    db: Database, school: School, now: datetime, rules: SchoolRules = DEFAULT_RULES
) -> int:
    """One run of the job body in one transaction, as the scheduler does it."""
    async with db.session() as session:
        return await send_daily_digest(
            JobContext(session=session, now=now, school=school, zone=ZONE, rules=rules, slot=now)
        )


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list((await session.exec(query)).all())


# -- the job ----------------------------------------------------------------------------------


async def test_the_digest_job_sends_once_a_day_to_each_admin_account_even_when_run_twice(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    admin = digest_school.staff["赵敏"]
    await bind(db, clock, admin)
    await bind(db, clock, admin, channel="telegram", external_id=str(ADMIN_TG.id))

    first = await run_digest(db, digest_school.school, SLOT)
    second = await run_digest(db, digest_school.school, SLOT)

    assert (first, second) == (2, 0)
    rows = await outbox_rows(db)
    assert sorted(r.key for r in rows) == [
        f"daily-digest:2026-11-16:staff:{admin.id}:console",
        f"daily-digest:2026-11-16:staff:{admin.id}:telegram",
    ]
    assert {r.kind for r in rows} == {"daily_digest"}
    assert all(r.due_at == SLOT for r in rows)


async def test_the_next_morning_brings_a_new_digest(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(db, clock, digest_school.staff["赵敏"])

    await run_digest(db, digest_school.school, SLOT)
    await run_digest(db, digest_school.school, SLOT.replace(day=16))

    assert [r.key.split(":")[1] for r in await outbox_rows(db)] == ["2026-11-16", "2026-11-17"]


async def test_teachers_get_no_digest(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(db, clock, digest_school.staff["王芳"])

    assert await run_digest(db, digest_school.school, SLOT) == 0
    assert await outbox_rows(db) == []


async def test_the_outbox_row_names_the_chart_and_never_holds_its_bytes(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(db, clock, digest_school.staff["赵敏"])

    await run_digest(db, digest_school.school, SLOT)

    (row,) = await outbox_rows(db)
    image = row.payload["image"]
    assert set(image) == {"media_key", "filename", "content_type"}
    assert image["filename"] == "digest-2026-11-16.png"
    assert row.payload["text"].startswith("家访日报 · 测试小学 · 11月16日")
    async with db.session() as session:
        media = (await session.exec(select(Media))).one()
    assert media.key == image["media_key"]
    assert media.data.startswith(PNG)


async def test_each_admin_reads_the_digest_in_their_own_language(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    async with db.session() as session:
        second = Staff(
            school_id=digest_school.school.id or 0, staff_no="A02", name="吴静", roles="admin"
        )
        session.add(second)
    await bind(db, clock, digest_school.staff["赵敏"])
    await bind(db, clock, second, language="en")

    await run_digest(db, digest_school.school, SLOT)

    texts = sorted(r.payload["text"].split("\n", 1)[0] for r in await outbox_rows(db))
    assert texts == ["Home-visit digest · 测试小学 · 16/11", "家访日报 · 测试小学 · 11月16日"]
    async with db.session() as session:
        charts = (await session.exec(select(Media))).all()
    assert len(charts) == 2  # one chart per language


async def test_a_digest_run_in_quiet_hours_waits_for_the_morning(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(db, clock, digest_school.staff["赵敏"])
    five = datetime(2026, 11, 15, 21, 0, tzinfo=UTC)  # 05:00 in Shanghai

    await run_digest(db, digest_school.school, five)

    (row,) = await outbox_rows(db)
    assert row.due_at.astimezone(ZONE).time() == time(7, 0)


def test_the_digest_job_is_registered_at_the_schools_digest_time() -> None:
    assert DAILY_DIGEST in all_jobs()
    assert DAILY_DIGEST.name == "daily_digest"
    assert DAILY_DIGEST.schedule(DEFAULT_RULES) == {"hour": 7, "minute": 30}
    assert DAILY_DIGEST.schedule(SchoolRules(digest_time=time(8, 15))) == {"hour": 8, "minute": 15}


# -- the delivery worker ------------------------------------------------------------------------


class RecordingChannel:
    name = "console"
    rate_per_second = 1000.0
    rate_per_chat_per_second = 1000.0

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply))


async def test_the_delivery_worker_hands_the_channel_the_charts_bytes(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(db, clock, digest_school.staff["赵敏"])
    await run_digest(db, digest_school.school, SLOT)
    channel = RecordingChannel()

    await DeliveryWorker(db, {"console": channel}, clock).run_once()

    ((_chat, reply),) = channel.sent
    assert reply.image is not None and reply.image.data is not None
    assert reply.image.data.startswith(PNG)
    ((row),) = await outbox_rows(db)
    assert row.status is OutboxStatus.SENT


async def test_a_missing_chart_does_not_hold_up_the_text(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(db, clock, digest_school.staff["赵敏"])
    await run_digest(db, digest_school.school, SLOT)
    async with db.session() as session:
        for media in (await session.exec(select(Media))).all():
            await session.delete(media)
    channel = RecordingChannel()

    await DeliveryWorker(db, {"console": channel}, clock).run_once()

    ((_chat, reply),) = channel.sent
    assert reply.image is None and reply.text.startswith("家访日报")


# -- Telegram -------------------------------------------------------------------------------------


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
                filename, content = part[0], part[1]
                assert isinstance(content, bytes)
                self.uploads.append((name, str(filename), content))
        return await super().do_request(url, method, request_data, *args, **kwargs)


@pytest.fixture
async def tg(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TelegramHarness]:
    UploadRecordingRequest.uploads = []
    monkeypatch.setattr(tests.fakes, "FakeTelegramRequest", UploadRecordingRequest)
    harness = await TelegramHarness(db, clock, all_flows()).start()
    yield harness
    await harness.stop()


async def test_an_admin_on_telegram_gets_the_digest_as_a_photo_captioned_with_its_text(
    tg: TelegramHarness, db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(
        db, clock, digest_school.staff["赵敏"], channel="telegram", external_id=str(ADMIN_TG.id)
    )

    await tg.say(ADMIN_TG, "/digest")

    (photo,) = tg.api.calls_of("sendPhoto")
    assert photo.params["chat_id"] == ADMIN_TG.id
    assert photo.params["caption"].startswith("家访日报 · 测试小学 · 11月16日\n\n【需要关注】")
    assert tg.api.calls_of("sendMessage") == []
    ((field, filename, data),) = UploadRecordingRequest.uploads
    assert (field, filename) == ("photo", "digest-2026-11-16.png")
    assert data.startswith(PNG)


async def test_the_morning_digest_reaches_telegram_through_the_outbox_as_a_photo(
    tg: TelegramHarness, db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    await bind(
        db, clock, digest_school.staff["赵敏"], channel="telegram", external_id=str(ADMIN_TG.id)
    )
    await run_digest(db, digest_school.school, SLOT)

    tg.worker.wake()
    await tg.settle()

    (photo,) = tg.api.calls_of("sendPhoto")
    assert photo.params["caption"].startswith("家访日报")
    assert [u[1] for u in UploadRecordingRequest.uploads] == ["digest-2026-11-16.png"]
    ((row),) = await outbox_rows(db)
    assert row.status is OutboxStatus.SENT


def test_a_text_longer_than_a_caption_goes_after_the_photo() -> None:
    image = Attachment("k", "digest.png", data=PNG)
    long_text = "各班完成情况\n" * 120  # 840 characters… doubled below
    parts = pieces(Reply(long_text * 2, image=image), translator("zh"))

    assert [(p.photo is not None, len(p.text)) for p in parts] == [(True, 0), (False, 1680)]


async def test_the_telegram_channel_sends_a_long_digest_as_the_photo_then_the_text() -> None:
    api = FakeBotApi()
    request = UploadRecordingRequest(api)
    UploadRecordingRequest.uploads = []
    bot = Bot(TEST_TOKEN, request=request)
    reply = Reply("甲" * 1500, image=Attachment("k", "digest.png", data=PNG + b"rest"))
    async with bot:
        await TelegramChannel(bot).send(str(ADMIN_TG.id), reply)

    assert [c.method for c in api.calls if c.method.startswith("send")] == [
        "sendPhoto",
        "sendMessage",
    ]
    assert "caption" not in api.calls_of("sendPhoto")[0].params
    assert api.calls_of("sendMessage")[0].params["text"] == "甲" * 1500


# -- the console ------------------------------------------------------------------------------------


async def test_the_console_prints_the_digest_and_where_it_saved_the_chart(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await seed_demo(db, school_name="示范小学", now=clock())
    dispatcher = Dispatcher(
        db, all_flows(), zone=ZoneInfo("Asia/Shanghai"), school_name="示范小学", clock=clock
    )
    out = io.StringIO()

    console = ConsoleChannel(
        dispatcher, stdin=io.StringIO("/as A01\n/digest\n"), stdout=out, image_dir=tmp_path
    )
    await console.run()

    output = out.getvalue()
    assert "家访日报 · 示范小学 · 11月16日" in output
    assert f"[图片：已保存到 {tmp_path / 'digest-2026-11-16.png'}]" in output
    assert saved_file(tmp_path / "digest-2026-11-16.png").startswith(PNG)


def saved_file(path: Path) -> bytes:
    return path.read_bytes()
