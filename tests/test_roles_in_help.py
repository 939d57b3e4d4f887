"""What a staff member is offered follows what the roster says they do with students."""

from __future__ import annotations

from models.db.engine import Database
from models.roster.tables import Staff
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.visits import chat_as, conversation_of, full_dispatcher


async def _care_teacher(db: Database) -> Staff:
    """关爱室 alone: no class, no teaching, no team."""
    ts = await seed_school(db)
    async with db.session() as session:
        care = Staff(
            school_id=ts.school.id or 0, staff_no="C01", name="林静", phone=None, roles="care"
        )
        session.add(care)
        await session.flush()
        session.expunge(care)
    return care


async def test_a_care_room_teacher_without_students_is_not_offered_visits_absences_or_flags(
    db: Database, clock: FakeClock
) -> None:
    care = await chat_as(db, clock, await _care_teacher(db), full_dispatcher(db, clock))
    await care.send("/help")
    for command in ("/visit —", "/absence —", "/flag —"):
        assert command not in care.text, command
    await care.send("/visit")
    assert care.text == "记录家访只对班主任、任课教师、教练、德育处和校长开放。"
    assert await conversation_of(db, care) is None


async def test_a_coach_and_the_admin_are_offered_visits(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    for name in ("钱进", "赵敏", "王芳"):
        someone = await chat_as(db, clock, ts.staff[name], dispatcher)
        await someone.send("/help")
        assert "/visit —" in someone.text, name
