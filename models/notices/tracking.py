"""Following a published notice: who confirmed, who is missing, how far its sending got.

Read side of `models.notices.tables` for staff (the `/notices` view, the export, the chasers), plus two
small tables of its own:

* `NoticeChase` — one row per (notice, stage) once a chasing stage ran (the halfway reminder,
  the deadline reminder, the head teachers' call list), written in the job's transaction with
  the outbox rows it queued: a stage runs once, whatever the number of job runs.
* `NoticeProgress` — the sender's one progress message while a notice goes out (`已发送
  1,200/3,000`): which outbox row carries it and what it last showed.

Every query here is a fixed number of statements per notice, whatever the audience's size.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import and_, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import AwareDateTime, str_enum, utcnow
from models.notices.tables import TITLE_MAX, Notice, NoticeDelivery, NoticeReceipt, NoticeStatus
from models.outbox.keys import keyed
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.roster.scope import has_whole_school_scope
from models.roster.tables import Guardian, Staff, Student, StudentGuardian
from models.school.tables import SchoolClass
from models.text import N_

# -- tables -------------------------------------------------------------------------------------


class ChaseStage(StrEnum):
    HALF = "half"  # reminder halfway between publication and the deadline
    DEADLINE = "deadline"  # reminder at the deadline
    CALLS = "calls"  # the head teachers' list of families to phone


class NoticeChase(SQLModel, table=True):
    """A chasing stage of a notice that ran (or was skipped): never run again."""

    __tablename__ = "notice_chase"

    notice_id: int = Field(foreign_key="notice.id", primary_key=True)
    stage: ChaseStage = Field(sa_type=str_enum(ChaseStage), primary_key=True)
    done_at: datetime = Field(sa_type=AwareDateTime)
    #: Outbox rows queued by the stage (0: nobody left to chase, or skipped).
    queued: int = 0
    #: Why nothing was sent, e.g. "deadline passed first".
    note: str = Field(default="", max_length=100)


class NoticeProgress(SQLModel, table=True):
    """The sender's progress message for one notice on one of their accounts."""

    __tablename__ = "notice_progress"

    notice_id: int = Field(foreign_key="notice.id", primary_key=True)
    account_id: int = Field(foreign_key="channel_account.id", primary_key=True)
    #: The outbox row that carries the first message (its `message_ref` is what edits target).
    outbox_key: str = Field(max_length=200)
    #: What the message last showed (messages handed to the channel) and when.
    shown_sent: int = 0
    shown_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    #: How many edits were queued (each edit is its own outbox row, keyed by this number).
    edits: int = 0
    #: Set once the final figures were shown.
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


# -- counts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Students reached (a guardian confirmed) out of the students in the audience."""

    confirmed: int = 0
    total: int = 0

    @property
    def missing(self) -> int:
        return self.total - self.confirmed


async def tallies(
    *, session: AsyncSession, notice_ids: list[int], class_ids: list[int] | None = None
) -> dict[int, Tally]:
    """Confirmed/total students per notice (only `class_ids`' students when given): one query."""
    if not notice_ids:
        return {}
    query = (
        select(
            col(NoticeReceipt.notice_id),
            func.count(),
            func.count(col(NoticeReceipt.confirmed_at)),
        )
        .where(col(NoticeReceipt.notice_id).in_(notice_ids))
        .group_by(col(NoticeReceipt.notice_id))
    )
    if class_ids is not None:
        query = query.where(col(NoticeReceipt.class_id).in_(class_ids))
    rows = (await session.exec(query)).all()
    return {notice_id: Tally(int(confirmed), int(total)) for notice_id, total, confirmed in rows}


@dataclass(frozen=True)
class ClassTally:
    klass: SchoolClass
    tally: Tally


async def class_tallies(
    *, session: AsyncSession, notice_id: int, class_ids: list[int] | None = None
) -> list[ClassTally]:
    """Confirmed/total per class of the notice's audience, in class order: one query."""
    query = (
        select(SchoolClass, func.count(), func.count(col(NoticeReceipt.confirmed_at)))
        .join(NoticeReceipt, col(NoticeReceipt.class_id) == col(SchoolClass.id))
        .where(col(NoticeReceipt.notice_id) == notice_id)
        .group_by(col(SchoolClass.id))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number))
    )
    if class_ids is not None:
        query = query.where(col(NoticeReceipt.class_id).in_(class_ids))
    rows = (await session.exec(query)).all()
    return [ClassTally(k, Tally(int(confirmed), int(total))) for k, total, confirmed in rows]


# -- delivery -------------------------------------------------------------------------------------


class Reach(StrEnum):
    """How a guardian's copy of a notice fared (the best of their channels)."""

    SENT = "sent"  # handed to the messenger
    SENDING = "sending"  # queued, not sent yet
    UNKNOWN = "unknown"  # may or may not have arrived (the request left, no answer)
    FAILED = "failed"  # refused: blocked the bot, chat gone
    UNBOUND = "unbound"  # no bound account when it was published: phone them


REACH_LABELS: dict[Reach, str] = {
    Reach.SENT: N_("已送达"),
    Reach.SENDING: N_("发送中"),
    Reach.UNKNOWN: N_("送达情况不明"),
    Reach.FAILED: N_("发送失败"),
    Reach.UNBOUND: N_("未绑定，未收到"),
}

#: Best first: a guardian reached on one channel is reached.
_REACH_ORDER = (Reach.SENT, Reach.SENDING, Reach.UNKNOWN, Reach.FAILED, Reach.UNBOUND)
_STATUS_REACH = {
    OutboxStatus.SENT: Reach.SENT,
    OutboxStatus.PENDING: Reach.SENDING,
    OutboxStatus.SENDING: Reach.SENDING,
    OutboxStatus.UNKNOWN: Reach.UNKNOWN,
    OutboxStatus.FAILED: Reach.FAILED,
}


#: A copy's outbox row: its key in the notice's school (another school may use the same key).
_COPY_SENT = keyed(col(Notice.school_id), col(NoticeDelivery.outbox_key))


def best_reach(reaches: list[Reach]) -> Reach:
    return min(reaches, key=_REACH_ORDER.index) if reaches else Reach.UNBOUND


async def guardian_reach(
    *, session: AsyncSession, notice_id: int, guardian_ids: list[int] | None = None
) -> dict[int, Reach]:
    """How each guardian's copy fared (all the notice's guardians, or these): one query."""
    query = (
        select(col(NoticeDelivery.guardian_id), col(NoticeDelivery.channel), OutboxMessage.status)
        .select_from(NoticeDelivery)
        .join(Notice, col(Notice.id) == col(NoticeDelivery.notice_id))
        .join(OutboxMessage, _COPY_SENT, isouter=True)
        .where(col(NoticeDelivery.notice_id) == notice_id)
    )
    if guardian_ids is not None:
        query = query.where(col(NoticeDelivery.guardian_id).in_(guardian_ids))
    found: dict[int, list[Reach]] = {}
    for guardian_id, channel, status in (await session.exec(query)).all():
        if not channel:
            reach = Reach.UNBOUND
        elif status is None:
            reach = Reach.SENDING
        else:
            reach = _STATUS_REACH[OutboxStatus(status)]
        found.setdefault(guardian_id, []).append(reach)
    return {guardian_id: best_reach(reaches) for guardian_id, reaches in found.items()}


@dataclass(frozen=True)
class Sending:
    """Where a notice's sending stands: messages (one per guardian and channel) by outcome,
    and guardians that could not be sent anything (no bound account)."""

    sent: int = 0
    waiting: int = 0
    failed: int = 0
    unknown: int = 0
    unbound: int = 0

    @property
    def messages(self) -> int:
        return self.sent + self.waiting + self.failed + self.unknown

    @property
    def done(self) -> int:
        """Messages the sender has finished with (sent, refused, or left unknown)."""
        return self.sent + self.failed + self.unknown

    @property
    def finished(self) -> bool:
        return self.waiting == 0


async def sending_of(*, session: AsyncSession, notice_id: int) -> Sending:
    """The notice's messages counted by outbox status: one grouped query."""
    query = (
        select(col(NoticeDelivery.channel), OutboxMessage.status, func.count())
        .select_from(NoticeDelivery)
        .join(Notice, col(Notice.id) == col(NoticeDelivery.notice_id))
        .join(OutboxMessage, _COPY_SENT, isouter=True)
        .where(col(NoticeDelivery.notice_id) == notice_id)
        .group_by(col(NoticeDelivery.channel), OutboxMessage.status)
    )
    counts: Counter[str] = Counter()
    for channel, status, number in (await session.exec(query)).all():
        if not channel:
            counts["unbound"] += int(number)
            continue
        reach = Reach.SENDING if status is None else _STATUS_REACH[OutboxStatus(status)]
        counts[reach.value] += int(number)
    return Sending(
        sent=counts[Reach.SENT.value],
        waiting=counts[Reach.SENDING.value],
        failed=counts[Reach.FAILED.value],
        unknown=counts[Reach.UNKNOWN.value],
        unbound=counts["unbound"],
    )


# -- the missing families -----------------------------------------------------------------------


@dataclass(frozen=True)
class GuardianContact:
    guardian: Guardian
    relation: str
    reach: Reach


@dataclass
class MissingStudent:
    """A student whose family has not confirmed yet, with every guardian and their phone."""

    student: Student
    klass: SchoolClass
    guardians: list[GuardianContact] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """Whether any guardian's copy was at least handed to the messenger."""
        return any(g.reach is Reach.SENT for g in self.guardians)


async def missing_students(
    *, session: AsyncSession, notice_id: int, class_ids: list[int] | None = None
) -> list[MissingStudent]:
    """Students of the notice not confirmed yet (in `class_ids` when given), in class and
    student-number order, with their guardians: three queries."""
    query = (
        select(Student, SchoolClass)
        .join(NoticeReceipt, col(NoticeReceipt.student_id) == col(Student.id))
        .join(SchoolClass, col(SchoolClass.id) == col(NoticeReceipt.class_id))
        .where(col(NoticeReceipt.notice_id) == notice_id, col(NoticeReceipt.confirmed_at).is_(None))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    if class_ids is not None:
        query = query.where(col(NoticeReceipt.class_id).in_(class_ids))
    missing = [MissingStudent(s, k) for s, k in (await session.exec(query)).all()]
    await _attach_guardians(session, notice_id, missing)
    return missing


async def _attach_guardians(
    session: AsyncSession, notice_id: int, students: list[MissingStudent]
) -> None:
    by_id = {m.student.id: m for m in students}
    if not by_id:
        return
    links = (
        await session.exec(
            select(StudentGuardian, Guardian)
            .join(Guardian, col(Guardian.id) == col(StudentGuardian.guardian_id))
            .where(col(StudentGuardian.student_id).in_(list(by_id)))
            .order_by(col(StudentGuardian.position), col(Guardian.id))
        )
    ).all()
    reach = await guardian_reach(
        session=session,
        notice_id=notice_id,
        guardian_ids=sorted({g.id for _, g in links if g.id is not None}),
    )
    for link, guardian in links:
        by_id[link.student_id].guardians.append(
            GuardianContact(guardian, link.relation, reach.get(guardian.id or 0, Reach.UNBOUND))
        )


# -- which notices a staff member follows -------------------------------------------------------


async def head_of_classes(*, session: AsyncSession, staff: Staff) -> list[int]:
    query = select(col(SchoolClass.id)).where(SchoolClass.head_teacher_id == staff.id)
    return [i for i in (await session.exec(query)).all() if i is not None]


@dataclass(frozen=True)
class StaffView:
    """What one staff member may follow: the whole school, or their own classes."""

    staff: Staff
    #: None: every class (德育处, the principal); else the classes they are head teacher of.
    class_ids: list[int] | None

    @property
    def whole_school(self) -> bool:
        return self.class_ids is None


async def staff_view(*, session: AsyncSession, staff: Staff) -> StaffView:
    if has_whole_school_scope(staff):
        return StaffView(staff, None)
    return StaffView(staff, await head_of_classes(session=session, staff=staff))


def _visible(view: StaffView) -> ColumnElement[bool]:
    if view.class_ids is None:
        return col(Notice.school_id) == view.staff.school_id
    of_classes = select(col(NoticeReceipt.notice_id)).where(
        col(NoticeReceipt.class_id).in_(view.class_ids)
    )
    return and_(
        col(Notice.school_id) == view.staff.school_id,
        or_(col(Notice.author_id) == view.staff.id, col(Notice.id).in_(of_classes)),
    )


async def may_follow(*, session: AsyncSession, view: StaffView, notice_id: int) -> Notice | None:
    """The notice if `view`'s staff member may follow it, else None (forged ids end here)."""
    query = select(Notice).where(col(Notice.id) == notice_id, _visible(view))
    return (await session.exec(query)).first()


_NUMBER = re.compile(r"^\D*?(\d{4})\D+0*(\d{1,4})\D*$")
_SERIAL = re.compile(r"^\D*?0*(\d{1,4})\s*号?$")


def parse_number(text: str) -> tuple[int | None, int] | None:
    """A 文号 as people type it: `〔2026〕第012号`, `2026-12`, `第12号`, `012` → (year, serial)."""
    text = text.strip()
    found = _NUMBER.match(text)
    if found:
        return int(found.group(1)), int(found.group(2))
    found = _SERIAL.match(text)
    if found and (text.startswith("第") or text[0].isdigit()):
        return None, int(found.group(1))
    return None


async def recent_notices(
    *, session: AsyncSession, view: StaffView, search: str = "", limit: int = 10
) -> list[Notice]:
    """The notices `view` may follow, newest first; `search` matches the 文号 or the title
    (archived notices included: they stay searchable)."""
    query = select(Notice).where(_visible(view))
    search = search.strip()
    if len(search) > TITLE_MAX:
        return []  # longer than any title and no 文号: nothing can match
    if search:
        number = parse_number(search)
        title = col(Notice.title).contains(search, autoescape=True)
        if number is not None:
            year, serial = number
            by_number = col(Notice.serial) == serial
            if year is not None:
                by_number = and_(by_number, col(Notice.year) == year)
            query = query.where(or_(by_number, title))
        else:
            query = query.where(title)
    newest = func.coalesce(
        col(Notice.published_at), col(Notice.submitted_at), col(Notice.created_at)
    )
    query = query.order_by(newest.desc(), col(Notice.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


#: Ids are database integers: a longer number is no notice's id.
MAX_ID_DIGITS = 9


async def find_notice(*, session: AsyncSession, school_id: int, reference: str) -> Notice | None:
    """A notice by id (`12`) or 文号 (`〔2026〕第012号`, `2026-012`, `012`: a serial is written
    with its leading zeros, as 文号 print it, so `012` is never read as the id 12)."""
    reference = reference.strip()
    if reference.isdigit() and not reference.startswith("0"):
        if len(reference) > MAX_ID_DIGITS:
            return None
        by_id = await session.get(Notice, int(reference))
        if by_id is not None and by_id.school_id == school_id:
            return by_id
        return None  # a bare number is an id; it matched none
    number = parse_number(reference)
    if number is None:
        return None
    year, serial = number
    query = select(Notice).where(col(Notice.school_id) == school_id, col(Notice.serial) == serial)
    if year is not None:
        query = query.where(col(Notice.year) == year)
    query = query.order_by(col(Notice.year).desc())
    return (await session.exec(query)).first()


# -- chasing ------------------------------------------------------------------------------------


async def notices_to_chase(*, session: AsyncSession, school_id: int, today: date) -> list[Notice]:
    """Published notices still on display `today` that ask for a receipt by a deadline
    (archived ones, and those whose window just ended, are never chased)."""
    query = (
        select(Notice)
        .where(
            col(Notice.school_id) == school_id,
            col(Notice.status) == NoticeStatus.PUBLISHED,
            col(Notice.receipt_required).is_(True),
            col(Notice.receipt_deadline).is_not(None),
            col(Notice.published_at).is_not(None),
            col(Notice.display_until) >= today,
        )
        .order_by(col(Notice.id))
    )
    return list((await session.exec(query)).all())


async def stages_done(
    *, session: AsyncSession, notice_ids: list[int]
) -> dict[int, set[ChaseStage]]:
    if not notice_ids:
        return {}
    query = select(col(NoticeChase.notice_id), col(NoticeChase.stage)).where(
        col(NoticeChase.notice_id).in_(notice_ids)
    )
    done: dict[int, set[ChaseStage]] = {}
    for notice_id, stage in (await session.exec(query)).all():
        done.setdefault(notice_id, set()).add(ChaseStage(stage))
    return done


async def unconfirmed_pupils(
    *, session: AsyncSession, notice_id: int
) -> list[tuple[Student, SchoolClass]]:
    """The notice's students whose family has not confirmed, in class order (one query)."""
    query = (
        select(Student, SchoolClass)
        .join(NoticeReceipt, col(NoticeReceipt.student_id) == col(Student.id))
        .join(SchoolClass, col(SchoolClass.id) == col(NoticeReceipt.class_id))
        .where(col(NoticeReceipt.notice_id) == notice_id, col(NoticeReceipt.confirmed_at).is_(None))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    return [(s, k) for s, k in (await session.exec(query)).all()]


# -- archiving ------------------------------------------------------------------------------------


async def archive_ended(
    *, session: AsyncSession, school_id: int, today: date, now: datetime
) -> list[int]:
    """Archive the published notices whose display window ended before `today` (the school's
    date); their ids. A guarded UPDATE: a notice is archived once, and never chased again."""
    ended = select(col(Notice.id)).where(
        col(Notice.school_id) == school_id,
        col(Notice.status) == NoticeStatus.PUBLISHED,
        col(Notice.display_until) < today,
    )
    ids = [i for i in (await session.exec(ended)).all() if i is not None]
    if ids:
        await session.exec(
            update(Notice)
            .where(col(Notice.id).in_(ids), col(Notice.status) == NoticeStatus.PUBLISHED)
            .values(status=NoticeStatus.ARCHIVED, archived_at=now)
        )
    return ids
