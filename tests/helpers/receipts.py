"""Published notices for the chasing, tracking and export tests, written through `models`.

Publication goes through the real `handlers.notice.publish.publish` (receipts, deliveries and
outbox rows in one transaction); confirmations through `models.notices.receipts.confirm_receipt`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.notice.publish import publish
from handlers.types import Reply
from models.db.engine import Database
from models.notices.queries import NoticeSpec, submit_notice
from models.notices.receipts import confirm_receipt
from models.notices.tables import AudienceKind, Notice, NoticeKind
from models.outbox.tables import OutboxMessage
from models.roster.tables import Guardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from scheduler.base import JobContext, JobFunction
from tests.helpers.factories import TestSchool

ZONE = ZoneInfo("Asia/Shanghai")


async def published_notice(
    db: Database,
    ts: TestSchool,
    now: datetime,
    *,
    classes: tuple[str, ...] = ("三(2)班",),
    deadline: datetime | None = None,
    receipt_required: bool = True,
    display_until: date = date(2026, 12, 1),
    author: str = "赵敏",
    title: str = "秋季研学活动通知",
    kind: NoticeKind = NoticeKind.OUTING,
) -> Notice:
    """An admin's notice to `classes`, approved and published at `now` (deadline: 2 days on)."""
    spec = NoticeSpec(
        kind=kind,
        title=title,
        body="11月20日（周五）全天赴科技馆研学，请穿校服。",
        audience_kind=AudienceKind.CLASSES,
        audience_ids=tuple(ts.classes[c].id or 0 for c in classes),
        receipt_required=receipt_required,
        receipt_deadline=(deadline or now + timedelta(days=2)) if receipt_required else None,
        publish_at=None,
        display_until=display_until,
    )
    async with db.session() as session:
        notice = await submit_notice(
            session=session,
            school_id=ts.school.id or 0,
            author_id=ts.staff[author].id or 0,
            spec=spec,
            now=now,
            zone=ZONE,
            self_approved=True,
        )
        notice_id = notice.id or 0
        await publish(
            session=session,
            notice_id=notice_id,
            now=now,
            zone=ZONE,
            rules=DEFAULT_RULES,
            school=ts.school,
        )
    async with db.session() as session:
        found = await session.get(Notice, notice_id)
        assert found is not None
        return found


async def confirm(
    db: Database, notice: Notice, guardian: Guardian, now: datetime, channel: str = "console"
) -> int:
    async with db.session() as session:
        done = await confirm_receipt(
            session=session,
            notice_id=notice.id or 0,
            guardian_id=guardian.id or 0,
            channel=channel,
            now=now,
        )
    assert done is not None
    return done.recorded


async def run_job(
    db: Database,
    ts: TestSchool,
    func: JobFunction,
    now: datetime,
    rules: SchoolRules = DEFAULT_RULES,
) -> int:
    """One run of a job in its own transaction, as the scheduler runs it."""
    async with db.session() as session:
        context = JobContext(session=session, now=now, school=ts.school, zone=ZONE, rules=rules)
        return await func(context)


def text_of(row: OutboxMessage) -> str:
    return Reply.from_dict(row.payload).text


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the school's zone."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)
