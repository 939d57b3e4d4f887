"""Two schools in one database: a user of one school tries every other school's IDs.

School A lives a whole school day (`tests.test_log_privacy_day.school_day`: visits, an incident,
an absence, a referral to the care room, a notice with its receipts and a question, a parent's
leave and message, feedback, the ledger, every job, the outbox delivered), then sends a survey
and plans a class meeting. School B is a small
school of its own, in the same database, served by its own dispatcher, with a player for every
role (head teacher, subject teacher, 德育处, principal, care room, a guardian).

Every B player then presses every button the bot knows with each ID school A's rows carry (and
every button school A's people were actually sent, with its real arguments), and sends every
command that takes an argument with those IDs. Nothing of school A may show: no name, phone
number or typed text of A's in any answer; and nothing of A's may change: every row A had is
as it was, and every row added since belongs to school B (or is B's own bookkeeping: its
conversations, the updates it sent, the audit of what it did).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import SQLModel, select

from handlers.permissions import COMMAND_ACTIONS
from handlers.registry import all_actions
from handlers.types import Reply
from models.db.engine import Database
from models.outbox.tables import OutboxMessage
from models.roster.tables import Guardian, Staff, Student, StudentGuardian, Teaching
from models.school.tables import School, SchoolClass
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind
from tests.helpers.outbox import reply_of
from tests.helpers.visits import ChatUser, full_dispatcher
from tests.test_log_privacy_day import Day, personal_data, school_day
from tests.test_meeting_chat import PLAN
from tests.test_survey_answer_chat import sent_survey

OTHER = "第二实验小学"

#: Tables school B's own updates write without being school data: where its users stand, the
#: updates it received, what it did (audited), and what it queued for its own people.
BOOKKEEPING = {"conversation", "inbound_seen", "audit_log", "outbox", "draft", "job_run"}


@dataclass
class Other:
    school: School
    players: dict[str, ChatUser]


async def _other_school(db: Database, clock: FakeClock) -> Other:
    """School B: one class, its head teacher, a subject teacher, 德育处, the principal, a care
    teacher, three students and their guardians — none of them named like anyone in A."""
    async with db.session() as session:
        school = School(name=OTHER)
        session.add(school)
        await session.flush()
        sid = school.id or 0
        staff = {
            "陈启明": Staff(school_id=sid, staff_no="B01", name="陈启明", roles=""),
            "何婉清": Staff(school_id=sid, staff_no="B02", name="何婉清", roles=""),
            "马德育": Staff(school_id=sid, staff_no="B03", name="马德育", roles="admin"),
            "岳校长": Staff(school_id=sid, staff_no="B04", name="岳校长", roles="principal"),
            "韦关爱": Staff(school_id=sid, staff_no="B05", name="韦关爱", roles="care"),
        }
        session.add_all(staff.values())
        await session.flush()
        klass = SchoolClass(
            school_id=sid, grade=1, number=1, name="一(1)班", head_teacher_id=staff["陈启明"].id
        )
        session.add(klass)
        await session.flush()
        session.add(
            Teaching(staff_id=staff["何婉清"].id or 0, class_id=klass.id or 0, subject="语文")
        )
        parent = None
        for number, name in enumerate(("闫一诺", "谭可欣", "郝子轩"), start=1):
            student = Student(
                school_id=sid, student_no=f"B{number:03d}", name=name, class_id=klass.id or 0
            )
            guardian = Guardian(school_id=sid, name=f"{name}妈妈", phone=f"1590000000{number}")
            session.add_all([student, guardian])
            await session.flush()
            session.add(
                StudentGuardian(
                    student_id=student.id or 0, guardian_id=guardian.id or 0, relation="母亲"
                )
            )
            parent = parent or guardian
        await session.flush()
    dispatcher = full_dispatcher(db, clock)
    dispatcher.school_name = OTHER
    people: dict[str, Staff | Guardian] = {**staff, "家长": parent}  # type: ignore[dict-item]
    players = {
        name: ChatUser(dispatcher, await bind(db, clock, who)) for name, who in people.items()
    }
    return Other(school, players)


Rows = dict[str, dict[Any, tuple[Any, ...]]]


async def _rows(db: Database, columns: dict[str, list[str]] | None = None) -> Rows:
    """Every table's rows by primary key (the whole row as read); `columns` gets each table's
    column names in the order of the rows."""
    found: Rows = {}
    async with db.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            keys = [c.name for c in table.primary_key.columns]
            if not keys:
                continue
            result = await session.exec(text(f'SELECT * FROM "{table.name}"'))  # type: ignore[call-overload]
            names = list(result.keys())
            if columns is not None:
                columns[table.name] = names
            at = [names.index(k) for k in keys]
            found[table.name] = {tuple(row[i] for i in at): tuple(row) for row in result.all()}
    return found


def _ids_of_a(rows: Rows) -> list[int]:
    """Every single-column integer key of school A's rows (all of them were made before B)."""
    ids: set[int] = set()
    for by_key in rows.values():
        for key in by_key:
            if len(key) == 1 and isinstance(key[0], int):
                ids.add(key[0])
    return sorted(ids)


async def _buttons_sent_to_a(db: Database) -> set[str]:
    """The callback data of every button school A's people were sent."""
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {b.data for row in rows for line in reply_of(row).buttons for b in line}


def _leaks(day: Day, replies: list[Reply]) -> list[str]:
    secrets = personal_data(day.ts) + day.typed
    said = "\n".join(
        r.text + " " + " ".join(b.label for line in r.buttons for b in line) for r in replies
    )
    return [word for word in secrets if word and word in said]


async def test_a_user_of_one_school_trying_every_id_of_another_sees_and_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    day = await school_day(db, clock)
    await sent_survey(db, clock, day.ts)
    wang = ChatUser(full_dispatcher(db, clock), f"staff-{day.ts.staff['王芳'].id}")
    await wang.send("/meeting")
    await wang.steps(*PLAN, "提交")
    assert "已提交" in wang.text or "审批" in wang.text, wang.text
    sent_to_a = await _buttons_sent_to_a(db)
    before = await _rows(db)
    ids = [i for i in _ids_of_a(before) if i <= 60] + [i for i in _ids_of_a(before) if i > 60][:20]
    other = await _other_school(db, clock)
    after_b_setup = await _rows(db)
    school_b = other.school.id

    data = {f"!{button.name}:{i}" for button in all_actions() for i in ids} | sent_to_a
    commands = sorted({f"/{name} {i}" for name in COMMAND_ACTIONS for i in ids[:12]})
    assert len(data) > 500 and len(commands) > 50  # the walk is as wide as it says

    leaks: list[tuple[str, str, list[str]]] = []
    for name, user in other.players.items():
        for payload in sorted(data):
            await user.callback(payload)
            if found := _leaks(day, user.replies):
                leaks.append((name, payload, found))
            await user.send("/cancel")
        for command in commands:
            await user.send(command)
            if found := _leaks(day, user.replies):
                leaks.append((name, command, found))
            await user.send("/cancel")
    assert leaks == []

    columns: dict[str, list[str]] = {}
    after = await _rows(db, columns)
    changed: list[str] = []
    for table, rows in after_b_setup.items():
        if table in BOOKKEEPING:
            continue
        for key, row in rows.items():
            if after[table].get(key) != row:
                changed.append(f"{table} {key}")
    assert changed == []  # nothing school A (or B's roster) had was changed or deleted
    added = {
        table: [row for key, row in rows.items() if key not in after_b_setup[table]]
        for table, rows in after.items()
    }
    foreign: list[str] = []
    for table, new in added.items():
        if table in BOOKKEEPING or not new:
            continue
        if table == "media":  # a file made for a message, e.g. a chart: named by its school
            at = columns[table].index("key")
            foreign += [f"media {row[at]}" for row in new if f":{school_b}:" not in row[at]]
            continue
        if "school_id" not in columns[table]:
            foreign.append(f"{table}: {len(new)} rows without a school")
            continue
        at = columns[table].index("school_id")
        foreign += [f"{table}: {row}" for row in new if row[at] != school_b]
    assert foreign == []
