"""Generated updates for the demo school: what a careless, curious or hostile sender can send.

Shared by `tests/test_fuzz_updates.py` (a bounded, seeded run in the suite) and
`benchmarks/fuzz.py` (a long run with counts and the peak memory).

A `Move` is one update before it is tied to the world: who sends it and what. `play` turns it into
an `Inbound` (pressing a button of the sender's latest reply when the move says so), hands it to
the real dispatcher and checks the three rules every update must keep:

- the dispatcher's last-resort handler (`update on … failed`) is never what answers;
- every update of a private chat gets an answer;
- an update from someone not bound to the roster writes nothing (apart from `inbound_seen`, the
  record of updates already handled).
"""

from __future__ import annotations

import itertools
import logging
import re
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlmodel import SQLModel, col, delete, func, select

from bot.demo import seed_demo
from handlers.dispatcher import Dispatcher
from handlers.notice.publish import publish
from handlers.registry import all_actions, all_flows
from handlers.types import Button, FileRef, Inbound
from models.conversations.store import Conversation
from models.db.engine import Database
from models.notices.queries import NoticeSpec, submit_notice
from models.notices.tables import AudienceKind, NoticeKind
from models.roster.tables import Guardian, Staff, Student, StudentGuardian
from models.school.rules import DEFAULT_RULES
from models.school.tables import School, SchoolClass
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind
from tests.helpers.visits import ZONE

#: The school `seed_demo` creates for the fuzz.
SCHOOL = "示范小学"
#: The record every update writes, bound or not (redelivery protection).
DEDUPE_TABLE = "inbound_seen"
#: The logger and message (its start) of the dispatcher's last-resort handler.
DISPATCHER_LOG = "handlers.dispatcher"
FAILED = "update on %s failed"
#: Buttons remembered per person (their latest reply's, then older ones).
REMEMBERED_BUTTONS = 24

STAFF, PARENT, STRANGER = "staff", "parent", "stranger"
#: `Move.who` for the sender of the move before.
SAME = -1
#: A contact's phone that stands for a parent's number on the roster (a stranger sends another).
ROSTER = "roster"


# -- the world ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    role: str
    channel: str
    user_id: str
    #: Whom the account is bound to (None: a stranger).
    who: Staff | Guardian | None = field(default=None, compare=False, repr=False)


@dataclass(repr=False)
class FuzzWorld:
    """The demo school with a few people bound on each channel, and what they were last shown."""

    db: Database
    clock: FakeClock
    dispatcher: Dispatcher
    people: list[Person]
    #: Ids worth forging buttons for (a published notice, a class, a student).
    ids: list[int]
    #: A parent's phone on the roster (sharing it binds the sender as that parent).
    roster_phone: str
    #: The buttons of each person's latest answer with any.
    latest: dict[Person, list[Button]] = field(default_factory=dict)
    #: Buttons each person was shown before (stale ones included).
    buttons: dict[Person, list[Button]] = field(default_factory=dict)
    updates: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    #: Who sent the move before (`SAME`).
    sender: int = 0

    def __repr__(self) -> str:
        return f"FuzzWorld({SCHOOL}, {len(self.people)} people)"


async def fuzz_world(db: Database, clock: FakeClock) -> FuzzWorld:
    """Seed the demo school, bind staff and parents on the console, Telegram and WeCom, and
    publish one notice to 三(2)班 so its receipt buttons name a real notice."""
    await seed_demo(db, school_name=SCHOOL, now=clock())
    async with db.session() as session:
        school = (await session.exec(select(School))).one()
        staff = {s.staff_no: s for s in (await session.exec(select(Staff))).all()}
        klass = (await session.exec(select(SchoolClass).where(SchoolClass.name == "三(2)班"))).one()
        pupil = (await session.exec(select(Student).where(Student.name == "张小明"))).one()
        link = (
            await session.exec(
                select(StudentGuardian).where(col(StudentGuardian.student_id) == pupil.id)
            )
        ).first()
        assert link is not None
        grandmother = await session.get(Guardian, link.guardian_id)
        assert grandmother is not None
        notice = await submit_notice(
            session=session,
            school_id=school.id or 0,
            author_id=staff["A01"].id or 0,
            spec=NoticeSpec(
                kind=NoticeKind.OUTING,
                title="秋季研学活动通知",
                body="11月20日全天赴科技馆研学，请穿校服。",
                audience_kind=AudienceKind.CLASSES,
                audience_ids=(klass.id or 0,),
                receipt_required=True,
                receipt_deadline=clock() + timedelta(days=2),
                publish_at=None,
                display_until=(clock() + timedelta(days=14)).date(),
            ),
            now=clock(),
            zone=ZONE,
            self_approved=True,
        )
        notice_id = notice.id or 0
        await publish(
            session=session,
            notice_id=notice_id,
            now=clock(),
            zone=ZONE,
            rules=DEFAULT_RULES,
            school=school,
        )
    people: list[Person] = []
    accounts: list[tuple[Staff | Guardian, str, str]] = [
        (staff["T02"], STAFF, "console"),  # 王芳, head teacher of 三(2)班
        (staff["T02"], STAFF, "telegram"),
        (staff["T05"], STAFF, "wecom"),  # 陈静, teaches maths, no class of her own
        (staff["A01"], STAFF, "console"),  # 赵丽华, 德育处
        (staff["T08"], STAFF, "telegram"),  # 钱进, coach
        (grandmother, PARENT, "console"),
        (grandmother, PARENT, "telegram"),
    ]
    for who, role, channel in accounts:
        external = f"{channel}-{role}-{who.id}-{len(people)}"
        await bind(db, clock, who, channel=channel, external_id=external)
        people.append(Person(role, channel, external, who))
    for channel in ("console", "telegram", "wecom"):
        people.append(Person(STRANGER, channel, f"{channel}-stranger"))
    dispatcher = Dispatcher(
        db,
        all_flows(),
        zone=ZONE,
        school_name=SCHOOL,
        clock=clock,
        actions=all_actions(),
    )
    ids = [notice_id, klass.id or 0, pupil.id or 0, grandmother.id or 0]
    return FuzzWorld(db, clock, dispatcher, people, ids, grandmother.phone)


async def restore(world: FuzzWorld) -> None:
    """Everyone as at first: bound to whom they were (a shared contact may have moved them), in
    no conversation, shown no buttons; so a run of moves plays the same from any start."""
    for person in world.people:
        if person.who is not None:
            await bind(
                world.db,
                world.clock,
                person.who,
                channel=person.channel,
                external_id=person.user_id,
            )
        world.dispatcher.conversations.forget(person.channel, person.user_id)
    async with world.db.session() as session:
        await session.exec(delete(Conversation))
    world.latest.clear()
    world.buttons.clear()
    world.sender = 0


# -- moves ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One update before it is tied to the world.

    `kind` is text, press (a button of the sender's latest answer, `pick` chooses which, `forge`
    replaces its number), stale (a button shown to them before), callback (forged data),
    contact, photo or document.
    """

    who: int
    kind: str
    text: str | None = None
    callback: str | None = None
    pick: int = 0
    forge: str | None = None
    phone: str | None = None
    #: The photo's reference on its messenger.
    photo: str | None = None
    file: FileRef | None = None
    #: Minutes the clock moves before the update (a pause long enough ends a conversation).
    pause: int = 0


# -- playing a move ------------------------------------------------------------------------------


_DIGITS = re.compile(r"\d+")


def forged(data: str, how: str) -> str:
    """Real callback data with its number replaced (or a number added)."""
    value = {
        "huge": str(10**30),
        "negative": "-5",
        "zero": "0",
        "word": "abc",
        "dotted": "1.99999999999999999999",
        "empty": "",
        "unicode": "١٢³",
    }[how]
    if _DIGITS.search(data):
        return _DIGITS.sub(value, data, count=1)
    return f"{data}:{value}"


def inbound_of(world: FuzzWorld, person: Person, move: Move) -> Inbound:
    key = f"fuzz-{next(world.updates)}"
    base = Inbound(
        channel=person.channel, user_id=person.user_id, chat_id=person.user_id, update_key=key
    )
    if move.kind in ("press", "stale"):
        known = (world.latest if move.kind == "press" else world.buttons).get(person) or []
        if not known:
            return replace(base, text="/help")
        data = known[move.pick % len(known)].data
        return replace(base, callback=forged(data, move.forge) if move.forge else data)
    if move.kind == "callback":
        return replace(base, callback=move.callback)
    if move.kind == "contact":
        phone = move.phone or ""
        if phone == ROSTER:
            phone = world.roster_phone if person.role != STRANGER else "19900000000"
        return replace(base, contact_phone=phone)
    if move.kind == "photo":
        return replace(base, photo=move.photo or "", text=move.text)
    if move.kind == "document":
        return replace(base, document=move.file, text=move.text)
    return replace(base, text=move.text)


class FailureLog(logging.Handler):
    """Counts the dispatcher's last-resort answers by the exception's type."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failures: Counter[str] = Counter()
        #: Where each type of failure was raised (file:line of the innermost frame).
        self.places: Counter[str] = Counter()
        self.last: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith(FAILED) or record.levelno < logging.ERROR:
            return
        kind, place = "?", "?"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            kind = type(error).__name__
            frames = traceback.extract_tb(error.__traceback__)
            if frames:
                place = f"{kind} at {frames[-1].filename}:{frames[-1].lineno}"
        self.failures[kind] += 1
        self.places[place] += 1
        self.last = record


@contextmanager
def failures_logged() -> Iterator[FailureLog]:
    handler = FailureLog()
    logger = logging.getLogger(DISPATCHER_LOG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def row_counts(db: Database) -> dict[str, int]:
    """Rows of every table but the record of updates handled."""
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name != DEDUPE_TABLE]
    async with db.session() as session:
        counts = {}
        for table in tables:
            counts[table.name] = int(
                (await session.exec(select(func.count()).select_from(table))).one()
            )
        return counts


@dataclass
class Tally:
    """What a run did: updates by kind, answers, and the rules broken."""

    updates: Counter[str] = field(default_factory=Counter)
    replies: int = 0
    unanswered: list[str] = field(default_factory=list)
    written_by_strangers: list[str] = field(default_factory=list)


async def play(world: FuzzWorld, move: Move, tally: Tally, *, check_writes: bool = True) -> None:
    """Hand `move` to the dispatcher; note an unanswered update or a stranger's write in `tally`."""
    if move.who != SAME:
        world.sender = move.who % len(world.people)
    person = world.people[world.sender]
    if move.pause:
        world.clock.advance(minutes=move.pause)
    inbound = inbound_of(world, person, move)
    tally.updates[move.kind] += 1
    before = await row_counts(world.db) if check_writes and person.role == STRANGER else None
    response = await world.dispatcher.handle(inbound)
    tally.replies += len(response.replies)
    if not response.replies:
        tally.unanswered.append(f"{person.role} on {person.channel}: {_brief(inbound)}")
    if before is not None:
        after = await row_counts(world.db)
        changed = {
            name: (before[name], after[name]) for name in after if after[name] != before[name]
        }
        if changed:
            tally.written_by_strangers.append(f"{_brief(inbound)} wrote {changed}")
    shown = [b for r in response.replies for b in r.flat_buttons()]
    if shown:
        world.latest[person] = shown
        kept = world.buttons.get(person, [])
        world.buttons[person] = (shown + [b for b in kept if b not in shown])[:REMEMBERED_BUTTONS]


def _brief(inbound: Inbound) -> str:
    def cut(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "…"

    fields = ("text", "callback", "contact_phone", "photo", "document")
    return ", ".join(f"{n}={cut(getattr(inbound, n))}" for n in fields if getattr(inbound, n))
