"""A small school for tests: three classes, five staff, eighteen students with guardians.

| staff | no | duties |
|---|---|---|
| 王芳 | T01 | head teacher of 三(2)班; teaches 数学 in 三(1)班 |
| 李强 | T02 | head teacher of 三(1)班 |
| 赵敏 | T03 | 德育处 admin |
| 钱进 | T04 | coach of 篮球队 (members: two 四(1)班 students) |
| 孙丽 | T05 | head teacher of 四(1)班 |

Every student has one guardian; 三(2)班 张小明 and 四(1)班 张小红 are siblings sharing their
mother 刘梅. Some students carry special-type tags. Every guardian has agreed to the consent
wording (`models.privacy.consent`) unless a test asks otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts.invites import bind_account
from models.accounts.tables import PersonKind
from models.db.engine import Database
from models.privacy.consent import CONSENT_VERSION
from models.privacy.tables import GuardianConsent
from models.roster.tables import Guardian, Staff, Student, StudentGuardian, Teaching
from models.school.tables import Group, GroupCoach, GroupMember, School, SchoolClass
from tests.helpers.clock import FakeClock

STUDENTS: dict[str, list[tuple[str, str]]] = {
    "三(1)班": [
        ("李华", ""),
        ("周杰", "贫困"),
        ("吴迪", ""),
        ("郑爽", ""),
        ("冯雪", ""),
        ("陈晨", ""),
    ],
    "三(2)班": [
        ("张小明", "单亲,留守"),
        ("李娜", ""),
        ("王磊", "学习困难"),
        ("刘洋", ""),
        ("陈静", ""),
        ("杨帆", ""),
    ],
    "四(1)班": [
        ("张小红", ""),
        ("赵刚", "孤儿"),
        ("孙悦", ""),
        ("周敏", ""),
        ("吴昊", ""),
        ("郑凯", ""),
    ],
}


@dataclass
class TestSchool:
    __test__ = False  # a helper, though its name starts with Test
    school: School
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    students: dict[str, Student] = field(default_factory=dict)
    guardians: dict[str, Guardian] = field(default_factory=dict)


async def build_school(session: AsyncSession, *, name: str = "测试小学") -> TestSchool:
    school = School(name=name)
    session.add(school)
    await session.flush()
    assert school.id is not None
    ts = TestSchool(school=school)
    for no, name, phone, roles in [
        ("T01", "王芳", "13900000001", ""),
        ("T02", "李强", "13900000002", ""),
        ("T03", "赵敏", "13900000003", "admin"),
        ("T04", "钱进", "13900000004", ""),
        ("T05", "孙丽", "13900000005", ""),
    ]:
        ts.staff[name] = Staff(
            school_id=school.id, staff_no=no, name=name, phone=phone, roles=roles
        )
        session.add(ts.staff[name])
    await session.flush()
    heads = {"三(1)班": "李强", "三(2)班": "王芳", "四(1)班": "孙丽"}
    for class_name, (grade, number) in {
        "三(1)班": (3, 1),
        "三(2)班": (3, 2),
        "四(1)班": (4, 1),
    }.items():
        klass = SchoolClass(
            school_id=school.id,
            grade=grade,
            number=number,
            name=class_name,
            head_teacher_id=ts.staff[heads[class_name]].id,
        )
        ts.classes[class_name] = klass
        session.add(klass)
    await session.flush()
    session.add(
        Teaching(
            staff_id=ts.staff["王芳"].id or 0,
            class_id=ts.classes["三(1)班"].id or 0,
            subject="数学",
        )
    )
    serial = 0
    for class_name, rows in STUDENTS.items():
        for name, tags in rows:
            serial += 1
            student = Student(
                school_id=school.id,
                student_no=f"S{serial:03d}",
                name=name,
                class_id=ts.classes[class_name].id or 0,
                tags=tags,
            )
            ts.students[name] = student
            session.add(student)
    await session.flush()
    mother = Guardian(school_id=school.id, name="刘梅", phone="13700000000")
    session.add(mother)
    ts.guardians["刘梅"] = mother
    await session.flush()
    for index, (name, student) in enumerate(ts.students.items(), start=1):
        if name in ("张小明", "张小红"):
            guardian = mother
            relation = "母亲"
        else:
            guardian = Guardian(school_id=school.id, name=f"{name}家长", phone=f"137{index:08d}")
            session.add(guardian)
            await session.flush()
            ts.guardians[guardian.name] = guardian
            relation = "父亲"
        session.add(
            StudentGuardian(
                student_id=student.id or 0, guardian_id=guardian.id or 0, relation=relation
            )
        )
    team = Group(school_id=school.id, name="篮球队")
    session.add(team)
    await session.flush()
    session.add(GroupCoach(group_id=team.id or 0, staff_id=ts.staff["钱进"].id or 0))
    for name in ("赵刚", "孙悦"):
        session.add(GroupMember(group_id=team.id or 0, student_id=ts.students[name].id or 0))
    await session.flush()
    return ts


async def seed_school(db: Database, *, consent: bool = True, name: str = "测试小学") -> TestSchool:
    """The test school (another one of the same roster under another `name`); its families
    have agreed to the consent wording unless `consent` is False (the consent tests)."""
    async with db.session() as session:
        ts = await build_school(session, name=name)
        if consent:
            await agree(session, ts.school.id or 0, [g.id or 0 for g in ts.guardians.values()])
        return ts


async def bind(
    db: Database,
    clock: FakeClock,
    person: Staff | Guardian,
    *,
    channel: str = "console",
    external_id: str | None = None,
    language: str = "zh",
    consent: bool = True,
) -> str:
    """Bind `person` to an account on `channel`; returns the account's external id. A guardian
    has agreed to the current consent wording (`models.privacy.consent`) unless `consent` is
    False (and `seed_school` did not record it), so the tests of guardians' features need not
    press 同意 first."""
    kind = PersonKind.STAFF if isinstance(person, Staff) else PersonKind.GUARDIAN
    external = external_id or f"{kind.value}-{person.id}"
    async with db.session() as session:
        await bind_account(
            session=session,
            channel=channel,
            external_id=external,
            chat_id=external,
            school_id=person.school_id,
            kind=kind,
            person_id=person.id or 0,
            language=language,
            now=clock(),
        )
        if consent and kind is PersonKind.GUARDIAN:
            await agree(session, person.school_id, [person.id or 0])
    return external


#: When the test school's families agreed to the consent wording.
AGREED_AT = datetime(2026, 9, 1, tzinfo=UTC)


async def agree(session: AsyncSession, school_id: int, guardian_ids: list[int]) -> None:
    """The guardians have agreed to the current consent wording (rows written directly: no
    audit entry, so tests counting the audit log count only what they do)."""
    known = set(
        (
            await session.exec(
                select(GuardianConsent.guardian_id).where(
                    col(GuardianConsent.version) == CONSENT_VERSION,
                    col(GuardianConsent.guardian_id).in_(guardian_ids),
                )
            )
        ).all()
    )
    for guardian_id in guardian_ids:
        if guardian_id not in known:
            session.add(
                GuardianConsent(
                    school_id=school_id,
                    guardian_id=guardian_id,
                    version=CONSENT_VERSION,
                    agreed_at=AGREED_AT,
                    channel="console",
                )
            )
    await session.flush()
