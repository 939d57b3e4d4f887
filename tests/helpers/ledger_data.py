"""Parents' feedback and ledger items for the summary, digest and export tests, written through
the real model functions (`submit_feedback`, `record_item`, `classify`, `add_note`, `close`)."""

from __future__ import annotations

from datetime import date, datetime

from models.db.engine import Database
from models.feedback.queries import NewFeedback, submit_feedback
from models.feedback.tables import FeedbackAbout, FeedbackKind
from models.ledger.handling import Classification, add_note, classify, close
from models.ledger.queries import record_item
from models.ledger.tables import LedgerItem, LedgerKind, LedgerOutcome, LedgerSource
from tests.helpers.duties import ZONE
from tests.helpers.factories import TestSchool


async def add_feedback(
    db: Database,
    ts: TestSchool,
    kind: FeedbackKind,
    *,
    at: datetime,
    klass: str | None = None,
    teacher: str | None = None,
    text: str = "希望学校改进午餐",
    guardian: str = "李娜家长",
    anonymous: bool = False,
) -> int | None:
    """A parent's feedback about `klass`, `teacher` or (neither) the school; its item's id."""
    about = (
        FeedbackAbout.CLASS if klass else FeedbackAbout.TEACHER if teacher else FeedbackAbout.SCHOOL
    )
    async with db.session() as session:
        _feedback, item = await submit_feedback(
            session,
            NewFeedback(
                school_id=ts.school.id or 0,
                kind=kind,
                about=about,
                text=text,
                guardian_id=ts.guardians[guardian].id or 0,
                anonymous=anonymous,
                about_class_id=ts.classes[klass].id if klass else None,
                about_staff_id=ts.staff[teacher].id if teacher else None,
            ),
            now=at,
        )
        return item.id if item is not None else None


async def manual_item(
    db: Database,
    ts: TestSchool,
    *,
    at: datetime,
    student: str | None = "张小明",
    description: str = "作业经常不能按时完成",
    by: str = "王芳",
) -> int:
    async with db.session() as session:
        item = await record_item(
            session,
            school_id=ts.school.id or 0,
            source=LedgerSource.MANUAL,
            source_id=None,
            student_id=ts.students[student].id if student else None,
            description=description,
            recorded_by=ts.staff[by].id,
            now=at,
        )
        return item.id or 0


async def handle(
    db: Database,
    ts: TestSchool,
    item_id: int,
    *,
    at: datetime,
    due_on: date,
    owner: str = "王芳",
    kind: LedgerKind = LedgerKind.SOLVE_NOW,
    every: int | None = None,
    note: tuple[datetime, str] | None = None,
    closed: tuple[datetime, LedgerOutcome, str] | None = None,
) -> None:
    """赵敏 (德育处) classifies the item `at`; then, if given, a progress note and the close."""
    admin = ts.staff["赵敏"].id or 0
    async with db.session() as session:
        item = await session.get(LedgerItem, item_id)
        assert item is not None
        await classify(
            session,
            item,
            Classification(
                kind=kind, owner_id=ts.staff[owner].id or 0, due_on=due_on, follow_every_days=every
            ),
            by=admin,
            now=at,
            zone=ZONE,
        )
        if note is not None:
            await add_note(session, item, note[1], by=ts.staff[owner].id or 0, now=note[0])
        if closed is not None:
            moment, outcome, text = closed
            await close(session, item, text, outcome=outcome, by=admin, now=moment)
