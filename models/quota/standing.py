"""Where every teacher of a school stands on the quota rules, gathered in a fixed number of queries.

`school_standing` reads the calendar, the staff and their classes, one grouped count of visits per
teacher and one per student, whatever the size of the school (ten queries at most); the pure
rules of `models.quota.rules` turn those facts into a `TeacherStanding` per teacher and a
`ClassCompletion` per class. `/quota`, the reminder jobs and the daily digest all read this.
`school_months` gives only each teacher's month (the weekly nudge's), in three queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Exists, exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.quota.facts import (
    ClassFacts,
    RosterEntry,
    StudentFacts,
    TeacherFacts,
    classes_in_order,
    read_class_facts,
    read_class_rosters,
    read_one_teacher,
    read_student_facts,
    read_teacher_facts,
)
from models.quota.rules import (
    MonthSpan,
    QuotaRole,
    Tally,
    break_on,
    break_visit_target,
    expected_so_far,
    is_left_behind,
    is_special,
    key_visits_done,
    key_visits_met,
    month_span,
    monthly_visit_target,
    must_visit_in_break,
    newly_taken_over,
    prorated,
    quota_role,
    semester_on,
)
from models.roster.head_history import head_since
from models.roster.tables import Staff, Teaching
from models.school.calendar import has_semester_in_year, school_year_start
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import Group, GroupCoach, School, SchoolClass, Term, TermKind

#: The most SQL statements `school_standing` runs, whatever the school's size (the summer break
#: adds one to the usual nine).
QUERIES = 10


@dataclass(frozen=True)
class Pupil:
    """A student named in a list (not yet visited, must visit …)."""

    id: int
    name: str
    class_name: str


@dataclass(frozen=True)
class MonthStanding:
    """The month's two counted rules: visits (head and subject teachers) and parent contacts."""

    #: None for coaches, whose only monthly rule is the parent contacts.
    visits: Tally | None
    #: Contacts with parents this month, any form, in 人次.
    contacts: Tally
    #: What pace asks for by the start of the day.
    visits_expected: int
    contacts_expected: int
    #: Term days left in the month, today included.
    remaining_days: int
    #: The forms the visits count (`SchoolRules.routine_forms`), to name them.
    routine_forms: tuple[str, ...] = ("home",)

    @property
    def visits_behind(self) -> bool:
        return self.visits is not None and self.visits.done < self.visits_expected

    @property
    def contacts_behind(self) -> bool:
        return self.contacts.done < self.contacts_expected

    @property
    def behind(self) -> bool:
        return self.visits_behind or self.contacts_behind

    @property
    def met(self) -> bool:
        return (self.visits is None or self.visits.met) and self.contacts.met


@dataclass(frozen=True)
class BreakStanding:
    kind: TermKind
    first: date
    last: date
    #: Visits over the break against its quota (None: the role's break rule is a list).
    visits: Tally | None
    #: Head teachers: the must-visit list (winter: special-type students; summer: newly taken
    #: over), how many are visited, and who is still to be visited.
    must_visit: Tally | None
    pending: tuple[Pupil, ...] = ()
    #: The forms the visits count (`SchoolRules.routine_forms`), to name them.
    routine_forms: tuple[str, ...] = ("home",)

    @property
    def has_rule(self) -> bool:
        return self.visits is not None or (
            self.must_visit is not None and self.must_visit.target > 0
        )


@dataclass(frozen=True)
class TeacherStanding:
    staff_id: int
    name: str
    role: QuotaRole
    #: The classes the teacher is head of (empty for subject teachers and coaches).
    classes: tuple[str, ...]
    #: None when the month has no term day.
    month: MonthStanding | None
    #: Head teachers: students of the class they visited themselves this school year (遍访),
    #: and who is not yet.
    coverage: Tally | None = None
    unvisited: tuple[Pupil, ...] = ()
    #: Head teachers, in a semester: students of the class whose parents anyone contacted this
    #: semester, and whose not yet (每学期至少一次联系学生家长).
    semester: Tally | None = None
    semester_missing: tuple[Pupil, ...] = ()
    #: Head teachers with special-type students: those with the year's key visits done.
    key_visits: Tally | None = None
    key_missing: tuple[Pupil, ...] = ()
    #: Head teachers with left-behind students: those whose parents were reached this month.
    left_behind: Tally | None = None
    left_behind_missing: tuple[Pupil, ...] = ()
    #: The break `day` falls in, when the role has a break rule.
    on_break: BreakStanding | None = None


@dataclass(frozen=True)
class ClassCompletion:
    """One class's month: its head teacher's visits against the target, and its coverage."""

    class_id: int
    name: str
    grade: int
    number: int
    head_teacher_id: int | None
    head_teacher_name: str | None
    #: The head teacher's visits this month (term days) and the month's target for them;
    #: 0/0 when the class has no active head teacher or the month no term day.
    done: int
    target: int
    #: Visits this month (term days) to the class's students, by any teacher.
    class_visits: int
    students: int
    #: Students of the class whose homes were visited (上门家访) this school year: 入户.
    visited_this_year: int

    @property
    def share(self) -> float:
        """Completion between 0 and 1 (1 when there is no target)."""
        return 1.0 if self.target <= 0 else min(1.0, self.done / self.target)

    @property
    def home_share(self) -> float:
        """入户率 between 0 and 1 (1 for a class without students)."""
        return 1.0 if self.students <= 0 else self.visited_this_year / self.students


def furthest_behind(classes: Sequence[ClassCompletion], limit: int) -> list[ClassCompletion]:
    """The classes furthest behind: the month's completion first, then 入户率, then by name;
    classes with nothing to do (no target, no student) are left out."""
    behind = [c for c in classes if c.share < 1.0 or c.home_share < 1.0]
    behind.sort(key=lambda c: (c.share, c.home_share, c.grade, c.number))
    return behind[:limit]


@dataclass(frozen=True)
class SchoolStanding:
    day: date
    span: MonthSpan
    term_break: Term | None
    teachers: list[TeacherStanding] = field(default_factory=list)
    classes: list[ClassCompletion] = field(default_factory=list)
    #: Whether the school year of `day` has a semester on record (a calendar was imported);
    #: without one, months run through the holidays and break quotas never apply.
    has_calendar: bool = True

    def behind_pace(self) -> list[TeacherStanding]:
        """The teachers behind pace for the month; nobody on a day outside term time."""
        if not self.span.in_term(self.day):
            return []
        return [t for t in self.teachers if t.month is not None and t.month.behind]


async def _school_and_terms(session: AsyncSession, school_id: int) -> tuple[School, list[Term]]:
    """The school (`LookupError` when there is none) and every term of its calendar."""
    school = await session.get(School, school_id)
    if school is None:
        raise LookupError(f"no school {school_id}")
    terms = list((await session.exec(select(Term).where(Term.school_id == school_id))).all())
    return school, terms


async def school_standing(
    *,
    session: AsyncSession,
    school_id: int,
    day: date,
    rules: SchoolRules = DEFAULT_RULES,
    staff_ids: Sequence[int] | None = None,
    day_complete: bool = False,
) -> SchoolStanding:
    """Every active teacher's standing on `day` (local date), or only `staff_ids`'.

    Visits dated up to `day` count. The pace asks for what was due by the start of `day`, or by
    its end with `day_complete` (a digest about yesterday). Staff with no class or group
    (德育处, principal, care room) have no quota and are left out.
    """
    school, terms = await _school_and_terms(session, school_id)
    span = month_span(day, terms, day_complete=day_complete)
    term_break = break_on(day, terms)
    semester = semester_on(day, terms)
    year_start = school_year_start(
        day, month=school.year_start_month, start_day=school.year_start_day
    )
    lower = min(
        year_start,
        span.first,
        term_break.start_date if term_break else span.first,
        semester.start_date if semester else span.first,
    )
    only = list(staff_ids) if staff_ids is not None else None

    staff_query = select(Staff).where(Staff.school_id == school_id, col(Staff.active))
    class_query = classes_in_order(school_id)
    teaching_query = (
        select(Teaching.staff_id)
        .join(SchoolClass, col(SchoolClass.id) == col(Teaching.class_id))
        .where(SchoolClass.school_id == school_id)
        .distinct()
    )
    coach_query = (
        select(GroupCoach.staff_id)
        .join(Group, col(Group.id) == col(GroupCoach.group_id))
        .where(Group.school_id == school_id)
        .distinct()
    )
    if only is not None:
        staff_query = staff_query.where(col(Staff.id).in_(only))
        class_query = class_query.where(col(SchoolClass.head_teacher_id).in_(only))
        teaching_query = teaching_query.where(col(Teaching.staff_id).in_(only))
        coach_query = coach_query.where(col(GroupCoach.staff_id).in_(only))
    staff = list((await session.exec(staff_query.order_by(col(Staff.staff_no)))).all())
    classes = list((await session.exec(class_query)).all())
    teaching = set((await session.exec(teaching_query)).all())
    coaching = set((await session.exec(coach_query)).all())

    teacher_facts = await read_teacher_facts(
        session,
        school_id,
        span,
        term_break,
        lower,
        [s.id or 0 for s in staff] if only else None,
        rules,
    )
    headed = [c for c in classes if c.head_teacher_id is not None]
    roster = await read_class_rosters(session, [c.id or 0 for c in headed])
    student_facts = await read_student_facts(
        session,
        school_id,
        span,
        term_break,
        semester,
        year_start,
        lower,
        [c.id or 0 for c in headed],
        rules,
    )
    taken_over: set[int] = set()
    if term_break is not None and term_break.kind == TermKind.SUMMER_BREAK:
        heads = {c.id or 0: c.head_teacher_id for c in headed}
        since = await head_since(
            session=session,
            school_id=school_id,
            heads={s.id: heads.get(s.class_id) for s in roster},
        )
        taken_over = {
            student for student, when in since.items() if newly_taken_over(when, year_start)
        }

    build = _Builder(
        rules=rules,
        span=span,
        term_break=term_break,
        in_semester=semester is not None,
        classes=classes,
        roster=roster,
        student_facts=student_facts,
        taken_over=taken_over,
    )
    teachers: list[TeacherStanding] = []
    for person in staff:
        person_id = person.id or 0
        head_of = [c for c in classes if c.head_teacher_id == person_id]
        role = quota_role(
            head_teacher=bool(head_of),
            subject_teacher=person_id in teaching,
            coach=person_id in coaching,
        )
        if role is None:
            continue
        facts = teacher_facts.get(person_id, TeacherFacts())
        teachers.append(build.teacher(person, role, head_of, facts))
    by_id = {t.staff_id: t for t in teachers}
    return SchoolStanding(
        day=day,
        span=span,
        term_break=term_break,
        teachers=teachers,
        classes=[build.completion(c, by_id) for c in classes],
        has_calendar=has_semester_in_year(
            terms, day, month=school.year_start_month, start_day=school.year_start_day
        ),
    )


async def teacher_standing(
    *, session: AsyncSession, staff: Staff, day: date, rules: SchoolRules = DEFAULT_RULES
) -> TeacherStanding | None:
    """One teacher's standing (None for staff without a class or group)."""
    standing = await school_standing(
        session=session, school_id=staff.school_id, day=day, rules=rules, staff_ids=[staff.id or 0]
    )
    return standing.teachers[0] if standing.teachers else None


async def class_month_completion(
    *, session: AsyncSession, school_id: int, day: date, rules: SchoolRules = DEFAULT_RULES
) -> list[ClassCompletion]:
    """Every class of the school, by grade and number, with its month's quota completion."""
    standing = await school_standing(session=session, school_id=school_id, day=day, rules=rules)
    return standing.classes


def _teaches_and_coaches(school_id: int) -> tuple[Exists, Exists]:
    """Whether the staff member of the row teaches a class of the school, and coaches one of
    its groups (for a SELECT of `Staff`)."""
    staff_id = col(Staff.id)
    teaches = exists().where(
        col(Teaching.staff_id) == staff_id,
        col(SchoolClass.id) == col(Teaching.class_id),
        col(SchoolClass.school_id) == school_id,
    )
    coaches = exists().where(
        col(GroupCoach.staff_id) == staff_id,
        col(Group.id) == col(GroupCoach.group_id),
        col(Group.school_id) == school_id,
    )
    return teaches, coaches


async def school_months(
    *, session: AsyncSession, school_id: int, day: date, rules: SchoolRules = DEFAULT_RULES
) -> tuple[MonthSpan, list[tuple[int, MonthStanding]]]:
    """`day`'s month and each active teacher's standing in it, by staff number: the staff id
    and `TeacherStanding.month` of every teacher `school_standing` lists, exactly as it gives
    them, without the rosters, the students' visits and the lists it builds for `/quota`. Three
    queries (one when the month has no term day, and so no teacher a month)."""
    terms = list((await session.exec(select(Term).where(Term.school_id == school_id))).all())
    span = month_span(day, terms)
    if span.term_days == 0:
        return span, []
    term_break = break_on(day, terms)
    staff_id = col(Staff.id)
    heads = exists().where(
        col(SchoolClass.school_id) == school_id, col(SchoolClass.head_teacher_id) == staff_id
    )
    teaches, coaches = _teaches_and_coaches(school_id)
    query = (
        select(staff_id, heads, teaches, coaches)
        .where(Staff.school_id == school_id, col(Staff.active))
        .order_by(col(Staff.staff_no))
    )
    roles = [
        (person or 0, role)
        for person, head, subject, coach in (await session.exec(query)).all()
        if (role := quota_role(head_teacher=head, subject_teacher=subject, coach=coach)) is not None
    ]
    # Only the month's and the break's visits count: none before the earlier of their starts.
    lower = min(span.first, term_break.start_date if term_break else span.first)
    facts = await read_teacher_facts(session, school_id, span, term_break, lower, None, rules)
    months = [
        (person, month_standing(role, facts.get(person, TeacherFacts()), span, rules))
        for person, role in roles
    ]
    return span, [(person, month) for person, month in months if month is not None]


@dataclass(frozen=True)
class MonthOverview:
    """A school's month as the daily digest shows it: each class's line and each teacher's
    month, exactly as `school_standing` gives them, without the lists it builds for `/quota`."""

    day: date
    span: MonthSpan
    #: Every active teacher with a quota and a month (none in a month without term days): the
    #: name and `TeacherStanding.month`, by staff number.
    teachers: list[tuple[str, MonthStanding]]
    classes: list[ClassCompletion]
    has_calendar: bool

    def behind_pace(self) -> list[tuple[str, MonthStanding]]:
        """`SchoolStanding.behind_pace`: the teachers behind pace, none outside term time."""
        if not self.span.in_term(self.day):
            return []
        return [(name, month) for name, month in self.teachers if month.behind]


#: The SQL statements `month_overview` runs, whatever the school's size.
OVERVIEW_QUERIES = 6


async def month_overview(
    *,
    session: AsyncSession,
    school_id: int,
    day: date,
    rules: SchoolRules = DEFAULT_RULES,
    day_complete: bool = False,
) -> MonthOverview:
    """The classes' lines and the teachers' months of `school_standing` (same arguments), in
    `OVERVIEW_QUERIES` statements: the students are counted by class in the database
    (`read_class_facts`) instead of read one by one."""
    school, terms = await _school_and_terms(session, school_id)
    span = month_span(day, terms, day_complete=day_complete)
    term_break = break_on(day, terms)
    year_start = school_year_start(
        day, month=school.year_start_month, start_day=school.year_start_day
    )
    staff_id = col(Staff.id)
    teaches, coaches = _teaches_and_coaches(school_id)
    staff_query = (
        select(staff_id, Staff.name, teaches, coaches)
        .where(Staff.school_id == school_id, col(Staff.active))
        .order_by(col(Staff.staff_no))
    )
    staff = (await session.exec(staff_query)).all()
    classes = list((await session.exec(classes_in_order(school_id))).all())
    lower = min(span.first, term_break.start_date if term_break else span.first)
    facts = await read_teacher_facts(session, school_id, span, term_break, lower, None, rules)
    heading = {c.head_teacher_id for c in classes if c.head_teacher_id is not None}
    people: dict[int, tuple[int, str, MonthStanding | None]] = {}
    for person, name, subject, coach in staff:
        role = quota_role(
            head_teacher=person in heading, subject_teacher=bool(subject), coach=bool(coach)
        )
        if role is not None and person is not None:
            month = month_standing(role, facts.get(person, TeacherFacts()), span, rules)
            people[person] = (person, name, month)
    headed = [c.id or 0 for c in classes if c.head_teacher_id is not None]
    counted = await read_class_facts(session, school_id, span, year_start, headed, rules)
    return MonthOverview(
        day=day,
        span=span,
        teachers=[(name, month) for _, name, month in people.values() if month is not None],
        classes=[
            class_completion(
                c,
                people.get(c.head_teacher_id) if c.head_teacher_id else None,
                counted.get(c.id or 0, ClassFacts()),
            )
            for c in classes
        ],
        has_calendar=has_semester_in_year(
            terms, day, month=school.year_start_month, start_day=school.year_start_day
        ),
    )


async def teacher_month(
    *, session: AsyncSession, staff: Staff, day: date, rules: SchoolRules = DEFAULT_RULES
) -> MonthStanding | None:
    """One teacher's month exactly as `school_standing` gives it, in two queries (the line
    after a save); None for staff without a quota, or a month without term days."""
    terms = list((await session.exec(select(Term).where(Term.school_id == staff.school_id))).all())
    span = month_span(day, terms)
    term_break = break_on(day, terms)
    heads, teaches, coaches, facts = await read_one_teacher(
        session, staff.school_id, staff.id or 0, span, term_break, rules
    )
    role = quota_role(head_teacher=heads, subject_teacher=teaches, coach=coaches)
    if role is None:
        return None
    return month_standing(role, facts, span, rules)


# -- facts to standings (no database) -----------------------------------------------------------


def month_standing(
    role: QuotaRole, facts: TeacherFacts, span: MonthSpan, rules: SchoolRules
) -> MonthStanding | None:
    """The month's two counted rules for a teacher of `role` (None: no term day this month)."""
    if span.term_days == 0:
        return None
    visit_target = monthly_visit_target(role, rules)
    visits = None
    if visit_target is not None:
        visits = Tally(facts.month, prorated(visit_target, span))
    contacts = Tally(facts.contacts, prorated(rules.monthly_parent_contacts, span))
    return MonthStanding(
        visits=visits,
        contacts=contacts,
        visits_expected=expected_so_far(visits.target, span) if visits else 0,
        contacts_expected=expected_so_far(contacts.target, span),
        remaining_days=span.remaining,
        routine_forms=rules.counted_forms(),
    )


@dataclass
class _Builder:
    rules: SchoolRules
    span: MonthSpan
    term_break: Term | None
    in_semester: bool
    classes: list[SchoolClass]
    roster: list[RosterEntry]
    student_facts: dict[int, StudentFacts]
    taken_over: set[int]

    def __post_init__(self) -> None:
        self.class_names = {c.id or 0: c.name for c in self.classes}
        self.by_class: dict[int, list[RosterEntry]] = {}
        for student in self.roster:
            self.by_class.setdefault(student.class_id, []).append(student)

    def _pupil(self, student: RosterEntry) -> Pupil:
        return Pupil(student.id, student.name, self.class_names.get(student.class_id, ""))

    def _facts(self, student: RosterEntry) -> StudentFacts:
        return self.student_facts.get(student.id, StudentFacts())

    def _key_visits(self, student: RosterEntry) -> int:
        facts = self._facts(student)
        if not self.rules.key_visits_beyond_routine:
            return facts.key_routine_year
        return key_visits_done(key_routine=facts.key_routine_year, routine=facts.routine_year)

    def month(self, role: QuotaRole, facts: TeacherFacts) -> MonthStanding | None:
        return month_standing(role, facts, self.span, self.rules)

    def teacher(
        self, person: Staff, role: QuotaRole, head_of: list[SchoolClass], facts: TeacherFacts
    ) -> TeacherStanding:
        pupils = [s for c in head_of for s in self.by_class.get(c.id or 0, [])]
        month = self.month(role, facts)
        on_break = self.on_break(role, facts, pupils)
        if role != QuotaRole.HEAD_TEACHER:
            return TeacherStanding(
                staff_id=person.id or 0,
                name=person.name,
                role=role,
                classes=(),
                month=month,
                on_break=on_break,
            )
        by_head = self.rules.coverage_by == "head_teacher"
        unvisited = [
            s
            for s in pupils
            if (self._facts(s).head_year if by_head else self._facts(s).routine_year) == 0
        ]
        special = [s for s in pupils if is_special(s.tags)]
        key_missing = [s for s in special if not key_visits_met(self._key_visits(s), self.rules)]
        wanted_semester = self.rules.semester_contacts_per_student
        semester_missing = (
            [s for s in pupils if self._facts(s).semester < wanted_semester]
            if self.in_semester
            else []
        )
        # The monthly contact with left-behind children's parents, in months with term days.
        left = [s for s in pupils if is_left_behind(s.tags)] if month is not None else []
        wanted = self.rules.left_behind_contacts_per_month
        left_missing = [s for s in left if self._facts(s).month < wanted]
        return TeacherStanding(
            staff_id=person.id or 0,
            name=person.name,
            role=role,
            classes=tuple(c.name for c in head_of),
            month=month,
            coverage=Tally(len(pupils) - len(unvisited), len(pupils)),
            unvisited=tuple(self._pupil(s) for s in unvisited),
            semester=(
                Tally(len(pupils) - len(semester_missing), len(pupils))
                if self.in_semester
                else None
            ),
            semester_missing=tuple(self._pupil(s) for s in semester_missing),
            key_visits=Tally(len(special) - len(key_missing), len(special)) if special else None,
            key_missing=tuple(self._pupil(s) for s in key_missing),
            left_behind=Tally(len(left) - len(left_missing), len(left)) if left else None,
            left_behind_missing=tuple(self._pupil(s) for s in left_missing),
            on_break=on_break,
        )

    def on_break(
        self, role: QuotaRole, facts: TeacherFacts, pupils: list[RosterEntry]
    ) -> BreakStanding | None:
        term = self.term_break
        if term is None:
            return None
        target = break_visit_target(role, term.kind, self.rules)
        must: Tally | None = None
        pending: list[RosterEntry] = []
        if role == QuotaRole.HEAD_TEACHER:
            listed = [
                s
                for s in pupils
                if must_visit_in_break(term.kind, tags=s.tags, taken_over=s.id in self.taken_over)
            ]
            pending = [s for s in listed if self._facts(s).on_break == 0]
            must = Tally(len(listed) - len(pending), len(listed))
        if target is None and must is None:
            return None
        return BreakStanding(
            kind=term.kind,
            first=term.start_date,
            last=term.end_date,
            visits=Tally(facts.on_break, target) if target is not None else None,
            must_visit=must,
            pending=tuple(self._pupil(s) for s in pending),
            routine_forms=self.rules.counted_forms(),
        )

    def completion(
        self, klass: SchoolClass, teachers: dict[int, TeacherStanding]
    ) -> ClassCompletion:
        head = teachers.get(klass.head_teacher_id) if klass.head_teacher_id else None
        pupils = self.by_class.get(klass.id or 0, [])
        return class_completion(
            klass,
            (head.staff_id, head.name, head.month) if head is not None else None,
            ClassFacts(
                students=len(pupils),
                visits_this_month=sum(self._facts(s).month for s in pupils),
                visited_this_year=sum(1 for s in pupils if self._facts(s).home_year > 0),
            ),
        )


def class_completion(
    klass: SchoolClass,
    head: tuple[int, str, MonthStanding | None] | None,
    facts: ClassFacts,
) -> ClassCompletion:
    """A class's line: its head teacher (id, name, month; None when the class has no active
    head teacher with a quota) and its students' counts."""
    month = head[2] if head is not None else None
    visits = month.visits if month is not None else None
    return ClassCompletion(
        class_id=klass.id or 0,
        name=klass.name,
        grade=klass.grade,
        number=klass.number,
        head_teacher_id=head[0] if head else None,
        head_teacher_name=head[1] if head else None,
        done=visits.done if visits else 0,
        target=visits.target if visits else 0,
        class_visits=facts.visits_this_month,
        students=facts.students,
        visited_this_year=facts.visited_this_year,
    )
