"""Who may log visits for whom (DOMAIN.md, People and roles)."""

from __future__ import annotations

import pytest
from sqlmodel import col

from models.db.engine import Database
from models.roster.scope import classes_in_scope, scoped_students, student_in_scope
from models.roster.tables import Student
from tests.helpers.factories import seed_school


@pytest.mark.parametrize(
    ("teacher", "student", "allowed"),
    [
        ("王芳", "张小明", True),  # head teacher of 三(2)班
        ("王芳", "李华", True),  # teaches 数学 in 三(1)班
        ("王芳", "张小红", False),  # 四(1)班: not hers
        ("李强", "张小明", False),
        ("钱进", "赵刚", True),  # coach of 篮球队
        ("钱进", "张小红", False),  # 四(1)班 but not on the team
        ("赵敏", "张小红", True),  # 德育处 admin: whole school
    ],
)
async def test_scope_follows_the_roster(
    db: Database, teacher: str, student: str, allowed: bool
) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        found = await student_in_scope(
            session=session, staff=ts.staff[teacher], student_id=ts.students[student].id or 0
        )
    assert (found is not None) is allowed


async def test_head_teacher_sees_own_class_first(db: Database) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        classes = await classes_in_scope(session=session, staff=ts.staff["王芳"])
        count = len(
            (await session.exec(scoped_students(ts.staff["王芳"]).order_by(col(Student.id)))).all()
        )
    assert [c.name for c in classes] == ["三(2)班", "三(1)班"]
    assert count == 12
