"""A demo school, so a newcomer can try the bot before importing a real roster.

The roster is generated from a fixed seed (`random.Random(2026)`), so every run produces the same
people with the same numbers. Seeding is keyed on those numbers (工号, 学号, guardians' phones,
class grade and number, group name), exactly like a roster import: running it again adds nothing
twice, which is what makes `demo --force` safe on a database that already has data.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.demo_roster import (
    ADMIN_NO,
    CLASSES,
    DEFAULT_CONSOLE_CLASS,
    DEMO_CHANNEL,
    TEACHERS,
    TEAM_NAME,
    DemoRoster,
    DemoSummary,
    DemoTeacher,
    demo_roster,
)
from bot.settings import Settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import ConfigError
from models.ledger.queries import NewItem, record_items
from models.ledger.tables import LedgerSource
from models.roster.head_history import record_heads
from models.roster.tables import Guardian, Staff, Student, StudentGuardian, Teaching
from models.school.calendar import month_bounds, school_year_start
from models.school.calendar_sheet import parse_calendar
from models.school.calendar_store import replace_calendar
from models.school.tables import Group, GroupCoach, GroupMember, School, SchoolClass
from models.visits.tables import Visit, VisitCategory, VisitForm

# -- seeding ---------------------------------------------------------------------------------


class _Seeder:
    """Upserts the demo roster into one school, keyed on numbers; counts what it added."""

    def __init__(self, session: AsyncSession, school: School) -> None:
        self.session = session
        self.school = school
        self.school_id = school.id or 0
        self.added = 0

    def _add(self, row: object) -> None:
        self.session.add(row)
        self.added += 1

    async def staff(self, teachers: tuple[DemoTeacher, ...]) -> dict[str, Staff]:
        existing = {
            s.staff_no: s
            for s in (
                await self.session.exec(select(Staff).where(Staff.school_id == self.school_id))
            ).all()
        }
        for teacher in teachers:
            if teacher.staff_no not in existing:
                row = Staff(
                    school_id=self.school_id,
                    staff_no=teacher.staff_no,
                    name=teacher.name,
                    phone=teacher.phone,
                    roles=teacher.roles,
                )
                self._add(row)
                existing[teacher.staff_no] = row
        await self.session.flush()
        return existing

    async def classes(
        self, teachers: tuple[DemoTeacher, ...], staff: dict[str, Staff]
    ) -> dict[tuple[int, int], SchoolClass]:
        query = select(SchoolClass).where(SchoolClass.school_id == self.school_id)
        existing = {(c.grade, c.number): c for c in (await self.session.exec(query)).all()}
        heads = {t.head_of: staff[t.staff_no] for t in teachers if t.head_of is not None}
        for key, name in CLASSES.items():
            if key not in existing:
                head = heads.get(key)
                row = SchoolClass(
                    school_id=self.school_id,
                    grade=key[0],
                    number=key[1],
                    name=name,
                    head_teacher_id=head.id if head else None,
                )
                self._add(row)
                existing[key] = row
        await self.session.flush()
        return existing

    async def teaching(
        self,
        teachers: tuple[DemoTeacher, ...],
        staff: dict[str, Staff],
        classes: dict[tuple[int, int], SchoolClass],
    ) -> None:
        staff_ids = [s.id for s in staff.values()]
        query = select(Teaching).where(col(Teaching.staff_id).in_(staff_ids))
        existing = {(t.staff_id, t.class_id) for t in (await self.session.exec(query)).all()}
        for teacher in teachers:
            staff_id = staff[teacher.staff_no].id or 0
            for grade, number, subject in teacher.teaches:
                class_id = classes[(grade, number)].id or 0
                if (staff_id, class_id) not in existing:
                    self._add(Teaching(staff_id=staff_id, class_id=class_id, subject=subject))
                    existing.add((staff_id, class_id))

    async def students(
        self, roster: DemoRoster, classes: dict[tuple[int, int], SchoolClass]
    ) -> dict[str, Student]:
        query = select(Student).where(Student.school_id == self.school_id)
        existing = {s.student_no: s for s in (await self.session.exec(query)).all()}
        for student in roster.students:
            if student.student_no not in existing:
                row = Student(
                    school_id=self.school_id,
                    student_no=student.student_no,
                    name=student.name,
                    class_id=classes[student.klass].id or 0,
                    tags=student.tags,
                )
                self._add(row)
                existing[student.student_no] = row
        await self.session.flush()
        return existing

    async def guardians(self, roster: DemoRoster, students: dict[str, Student]) -> None:
        query = select(Guardian).where(Guardian.school_id == self.school_id)
        by_phone = {g.phone: g for g in (await self.session.exec(query)).all()}
        for student in roster.students:
            for guardian in student.guardians:
                if guardian.phone not in by_phone:
                    row = Guardian(
                        school_id=self.school_id, name=guardian.name, phone=guardian.phone
                    )
                    self._add(row)
                    by_phone[guardian.phone] = row
        await self.session.flush()
        student_ids = [s.id for s in students.values()]
        links_query = select(StudentGuardian).where(
            col(StudentGuardian.student_id).in_(student_ids)
        )
        links = {
            (link.student_id, link.guardian_id)
            for link in (await self.session.exec(links_query)).all()
        }
        for student in roster.students:
            student_id = students[student.student_no].id or 0
            for position, guardian in enumerate(student.guardians, start=1):
                guardian_id = by_phone[guardian.phone].id or 0
                if (student_id, guardian_id) not in links:
                    self._add(
                        StudentGuardian(
                            student_id=student_id,
                            guardian_id=guardian_id,
                            relation=guardian.relation,
                            position=position,
                        )
                    )
                    links.add((student_id, guardian_id))

    async def team(
        self, roster: DemoRoster, staff: dict[str, Staff], students: dict[str, Student]
    ) -> None:
        query = select(Group).where(Group.school_id == self.school_id, Group.name == TEAM_NAME)
        group = (await self.session.exec(query)).first()
        if group is None:
            group = Group(school_id=self.school_id, name=TEAM_NAME)
            self._add(group)
            await self.session.flush()
        group_id = group.id or 0
        coaches = {
            c.staff_id
            for c in (
                await self.session.exec(select(GroupCoach).where(GroupCoach.group_id == group_id))
            ).all()
        }
        for teacher in roster.teachers:
            staff_id = staff[teacher.staff_no].id or 0
            if teacher.coaches and staff_id not in coaches:
                self._add(GroupCoach(group_id=group_id, staff_id=staff_id))
        members = {
            m.student_id
            for m in (
                await self.session.exec(select(GroupMember).where(GroupMember.group_id == group_id))
            ).all()
        }
        for student_no in roster.team:
            student_id = students[student_no].id or 0
            if student_id not in members:
                self._add(GroupMember(group_id=group_id, student_id=student_id))

    async def terms(self, today: date) -> None:
        """This school year's calendar (typical dates; a school imports its own), through the
        same sheet rules and store as `calendar import`."""
        plan = parse_calendar(demo_calendar_rows(today), label="演示校历")
        await replace_calendar(
            session=self.session, school_id=self.school_id, plan=plan, actor="demo"
        )

    async def visits(
        self,
        staff: dict[str, Staff],
        students: dict[str, Student],
        *,
        now: datetime,
        today: date,
    ) -> None:
        """A few visits this month, so progress numbers are not all zero; added only once."""
        query = (
            select(func.count())
            .select_from(Visit)
            .where(Visit.school_id == self.school_id, Visit.channel == DEMO_CHANNEL)
        )
        if (await self.session.exec(query)).one():
            return
        first_of_month, _ = month_bounds(today)
        found: list[Visit] = []
        for staff_no, student_no, days_ago, form, category, met, report, problems in DEMO_VISITS:
            visit = Visit(
                school_id=self.school_id,
                teacher_id=staff[staff_no].id or 0,
                student_id=students[student_no].id or 0,
                visit_date=max(first_of_month, today - timedelta(days=days_ago)),
                form=form,
                category=category,
                met=met,
                school_report=report,
                problems=problems,
                needs_school=bool(problems),
                channel=DEMO_CHANNEL,
                created_at=now,
            )
            self._add(visit)
            found.append(visit)
        await self.session.flush()
        # The ledger a visit's problem starts, as `save_visit` writes it; and one school-wide item.
        await record_items(
            self.session,
            [
                NewItem(
                    self.school_id, LedgerSource.VISIT, v.id, v.student_id, v.problems, v.teacher_id
                )
                for v in found
                if v.needs_school
            ]
            + [
                NewItem(
                    self.school_id,
                    LedgerSource.MANUAL,
                    None,
                    None,
                    "放学时段校门口接送车辆拥堵，家长反映存在安全隐患",
                    staff[DEMO_LEDGER_RECORDER].id,
                )
            ],
            now=now,
        )


#: Who recorded the demo's school-wide ledger item (a head teacher).
DEMO_LEDGER_RECORDER = "T02"

#: (工号, 学号, days before today, form, category, who was met, school report, problems).
DEMO_VISITS: tuple[tuple[str, str, int, VisitForm, VisitCategory, str, str, str], ...] = (
    (
        "T02",
        "20263203",
        6,
        VisitForm.HOME,
        VisitCategory.ROUTINE,
        "母亲",
        "作业能按时完成，上课较专注。",
        "",
    ),
    ("T02", "20263205", 5, VisitForm.PHONE, VisitCategory.ROUTINE, "父亲", "数学进步明显。", ""),
    (
        "T02",
        "20263201",
        3,
        VisitForm.HOME,
        VisitCategory.KEY,
        "奶奶",
        "在校表现稳定，午饭吃得少。",
        "父母长期在外地，孩子情绪偏低落。",
    ),
    (
        "T02",
        "20263208",
        1,
        VisitForm.PARENT_CAME,
        VisitCategory.ROUTINE,
        "母亲",
        "课堂发言积极。",
        "",
    ),
    ("T01", "20263104", 4, VisitForm.HOME, VisitCategory.ROUTINE, "父亲", "书写需要加强。", ""),
    ("T03", "20264110", 2, VisitForm.PHONE, VisitCategory.ROUTINE, "母亲", "阅读习惯好。", ""),
    ("T05", "20264212", 2, VisitForm.LETTER, VisitCategory.ROUTINE, "母亲", "计算偶有粗心。", ""),
)


async def _school(session: AsyncSession, name: str) -> tuple[School, bool]:
    school = (await session.exec(select(School).where(School.name == name))).first()
    if school is not None:
        return school, False
    school = School(name=name, demo=True)
    session.add(school)
    await session.flush()
    return school, True


async def seed_demo(db: Database, *, school_name: str, now: datetime) -> DemoSummary:
    """Create (or complete) the demo school named `school_name`; safe to run any number of times."""
    roster = demo_roster()
    async with db.session() as session:
        school, created = await _school(session, school_name)
        seeder = _Seeder(session, school)
        seeder.added += int(created)
        today = now.astimezone(ZoneInfo(school.timezone)).date()
        staff = await seeder.staff(roster.teachers)
        classes = await seeder.classes(roster.teachers, staff)
        await seeder.teaching(roster.teachers, staff, classes)
        students = await seeder.students(roster, classes)
        await seeder.guardians(roster, students)
        await seeder.team(roster, staff, students)
        await session.flush()
        await record_heads(session=session, school_id=seeder.school_id, today=today)
        await seeder.terms(today)
        await seeder.visits(staff, students, now=now, today=today)
        await session.flush()
        return await _summary(session, school, added=seeder.added, staff=staff, today=today)


async def _count(session: AsyncSession, query: SelectOfScalar[int]) -> int:
    return int((await session.exec(query)).one())


async def _summary(
    session: AsyncSession, school: School, *, added: int, staff: dict[str, Staff], today: date
) -> DemoSummary:
    school_id = school.id or 0
    first, following = month_bounds(today)
    head = next(t for t in TEACHERS if t.head_of == DEFAULT_CONSOLE_CLASS)
    admin = next(t for t in TEACHERS if t.staff_no == ADMIN_NO)
    return DemoSummary(
        school=school.name,
        classes=await _count(
            session,
            select(func.count()).select_from(SchoolClass).where(SchoolClass.school_id == school_id),
        ),
        students=await _count(
            session, select(func.count()).select_from(Student).where(Student.school_id == school_id)
        ),
        guardians=await _count(
            session,
            select(func.count()).select_from(Guardian).where(Guardian.school_id == school_id),
        ),
        staff=len(staff),
        visits_this_month=await _count(
            session,
            select(func.count())
            .select_from(Visit)
            .where(
                Visit.school_id == school_id,
                col(Visit.visit_date) >= first,
                col(Visit.visit_date) < following,
            ),
        ),
        added=added,
        console_teacher=head.name,
        console_teacher_no=head.staff_no,
        admin=admin.name,
        admin_no=admin.staff_no,
    )


async def run_demo_seed(settings: Settings, *, force: bool) -> int:
    """`python -m bot demo`: migrate, then seed the demo school unless a school already exists."""
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            existing = (await session.exec(select(School.name).order_by(col(School.id)))).all()
        if existing and not force:
            raise ConfigError(
                f"数据库里已经有学校「{'、'.join(existing)}」，这次没有添加示范数据；"
                "如确实要补充示范学校，请加上 --force（已有的人员和记录不会重复添加）。"
            )
        summary = await seed_demo(db, school_name=settings.school_name, now=utcnow())
    finally:
        await db.dispose()
    print(summary.describe())
    if summary.added == 0:
        print("示范数据已经齐全，这次没有新增任何内容。")
    print(
        f"试一试：python -m bot run —— 您将以{summary.console_teacher}老师"
        f"（三(2)班班主任，工号 {summary.console_teacher_no}）的身份在终端里记录家访；"
        f"输入 /as {summary.admin_no} 可切换为德育处{summary.admin}；"
        "只输入 /as 可列出全部可扮演的人（含校长、关爱室工作人员和几位家长）。"
    )
    return 0


def demo_calendar_rows(today: date) -> list[tuple[int, list[str]]]:
    """The demo school's 校历 for `today`'s school year, as a sheet's rows (header first)."""
    start = school_year_start(today)
    year = start.year
    rows = [
        ["类型", "名称", "开始日期", "结束日期"],
        ["学年", f"{year}-{year + 1}学年", start.isoformat(), date(year + 1, 8, 31).isoformat()],
        ["学期", "第一学期", start.isoformat(), date(year + 1, 1, 22).isoformat()],
        ["寒假", "寒假", date(year + 1, 1, 23).isoformat(), date(year + 1, 2, 22).isoformat()],
        ["学期", "第二学期", date(year + 1, 2, 23).isoformat(), date(year + 1, 7, 3).isoformat()],
        ["暑假", "暑假", date(year + 1, 7, 4).isoformat(), date(year + 1, 8, 31).isoformat()],
    ]
    return list(enumerate(rows, start=1))
