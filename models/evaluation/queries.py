"""Every teacher's evaluation figures for a period, gathered in a fixed number of statements.

`evaluation_report` reads the school's staff and classes, one grouped count of visits per
teacher (month by month, break by break), the filing delays, the head teachers' classes and
their students' visits this school year, the immediate-visit duties, the ledger items, and the
大走访 campaigns' 包保表 with the households and the visits in them — `STATEMENTS` at most with
the calendar (`school_terms`), whatever the school's size — and scores each teacher with
`models.campaigns.evaluation.evaluate`. What each part counts, for a teacher whose quota role
`models.quota.rules.quota_role` gives (staff without a class or group are not evaluated):

- *Routine visits* 常规家访 and *parent contacts* 联系家长: each month of the period with term
  days, the visits dated on its term days (routine forms: `SchoolRules.counted_forms()`; any
  form for contacts, counted as `contacts_counted_as` says) against the role's monthly target
  pro-rated over the term days (`models.quota.rules.prorated`). The month in progress counts
  against the pace so far (`expected_so_far`); months not begun are left out.
- *Key visits* 重点家访 (head teachers with special-type students): students of the class with
  the year's key visits done (`key_visits_min`, beyond the first routine visit), this school
  year through the period — as `/quota` counts them.
- *Break visits* 假期家访: each break of the period that has begun: the role's visits over the
  break (pro-rated by days while it runs) — capped at the quota — plus, for head teachers once
  the break is over, its must-visit list (winter: special-type students; summer: newly taken
  over students) visited in it by anyone.
- *Immediate-visit duties* 立即家访: those due in the period, judged at `as_of`.
- *Records* 记录及时: the teacher's visits dated in the period; filed late when logged more than
  `late_filing_days` after the visit (`Visit.filed_days_late`, the school's local dates).
- *Class coverage* 班级遍访 (head teachers): the students of the class visited in routine form
  this school year through the period — by the head teacher themselves, or by anyone
  (`coverage_by`) — of all of them, as `/quota`'s yearly line.
- *Campaign households* 大走访包保: in every campaign (not cancelled) overlapping the period and
  begun, the households assigned to the teacher in its 包保表, and of them those the teacher
  visited themselves in the campaign by its rule (`models.campaigns.coverage.teacher_progress`:
  a colleague's visit covers the household's 入户率 but is not this teacher's work).
- *Ledger items* 问题台账: items recorded in the period that the teacher owns, and of them those
  closed by `as_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, false, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.campaigns.assignment import Assignment, Responsible
from models.campaigns.coverage import (
    CampaignVisit,
    counted_visits,
    household_keys,
    teacher_progress,
)
from models.campaigns.evaluation import (
    DutyRecord,
    Evaluation,
    FiledVisit,
    MonthCount,
    TeacherInputs,
    evaluate,
)
from models.campaigns.rules import CampaignSpec, VisitRule
from models.campaigns.tables import Campaign, CampaignAssignment
from models.duties.tables import Duty, DutyTrigger
from models.evaluation.period import Period, break_share, month_running
from models.ledger.tables import LedgerItem, LedgerStatus
from models.quota.facts import RosterEntry, classes_in_order, read_class_rosters
from models.quota.rules import (
    MonthSpan,
    QuotaRole,
    Tally,
    break_visit_target,
    expected_so_far,
    is_special,
    key_visits_done,
    key_visits_met,
    monthly_visit_target,
    must_visit_in_break,
    newly_taken_over,
    prorated,
    quota_role,
)
from models.roster.head_history import head_since
from models.roster.tables import Staff, Student, Teaching
from models.school.rules import EvaluationWeights, SchoolRules
from models.school.tables import Group, GroupCoach, School, SchoolClass, Term, TermKind
from models.surveys.queries import households
from models.visits.tables import Visit, VisitCategory, VisitForm

#: The most statements `school_terms` + `evaluation_report` run, whatever the school's size: the
#: calendar, the staff, the classes, who teaches and who coaches, the visits per teacher, the
#: filing delays, the head teachers' students and their visits, the duties, the ledger, the
#: campaigns' 包保表, the households and the campaigns' visits — and, in a period whose summer
#: break has ended, who took which student over (`STATEMENTS_WITH_SUMMER`).
STATEMENTS = 14
STATEMENTS_WITH_SUMMER = STATEMENTS + 1


async def school_terms(session: AsyncSession, school_id: int) -> list[Term]:
    """The school's calendar (semesters and breaks), by start date: one statement."""
    query = select(Term).where(Term.school_id == school_id).order_by(col(Term.start_date))
    return list((await session.exec(query)).all())


@dataclass(frozen=True)
class DutyRow:
    """One immediate-visit duty, as the export's 立即家访 sheet lists it."""

    teacher_id: int
    student: str
    class_name: str
    trigger: DutyTrigger
    due_at: datetime
    done_at: datetime | None

    @property
    def record(self) -> DutyRecord:
        return DutyRecord(self.due_at, self.done_at)


@dataclass(frozen=True)
class BreakFigures:
    """A break of the period for one teacher: visits against its quota (so far), and the
    head teacher's must-visit list (once the break is over)."""

    kind: TermKind
    name: str
    visits: Tally | None
    must_visit: Tally | None


@dataclass(frozen=True)
class TeacherReport:
    staff_id: int
    staff_no: str
    name: str
    role: QuotaRole
    #: The classes the teacher heads.
    headed: tuple[str, ...]
    #: Every class the teacher heads or teaches (the charts group teachers by class).
    class_ids: tuple[int, ...]
    evaluation: Evaluation
    breaks: tuple[BreakFigures, ...] = ()
    duties: tuple[DutyRow, ...] = ()

    @property
    def score(self) -> float | None:
        return self.evaluation.score


@dataclass(frozen=True)
class ClassRow:
    id: int
    name: str
    grade: int
    number: int
    head_teacher_id: int | None


@dataclass(frozen=True)
class EvaluationReport:
    period: Period
    #: The moment the figures are judged at, and the last day counted.
    as_of: datetime
    as_of_day: date
    late_days: int
    weights: EvaluationWeights
    #: Best score first (no score last), then by 工号.
    teachers: tuple[TeacherReport, ...]
    classes: tuple[ClassRow, ...]
    #: Visits dated in the period so far, by anyone: 0 means no data for the period yet.
    visits: int
    months: tuple[date, ...] = field(default=())

    def teacher(self, staff_id: int) -> TeacherReport | None:
        return next((t for t in self.teachers if t.staff_id == staff_id), None)

    def of_class(self, class_id: int) -> list[TeacherReport]:
        """The class's teachers: its head teacher first, then the others as ranked."""
        klass = next((c for c in self.classes if c.id == class_id), None)
        head = klass.head_teacher_id if klass else None
        found = [t for t in self.teachers if class_id in t.class_ids]
        return sorted(found, key=lambda t: t.staff_id != head)


def ranked(teachers: Sequence[TeacherReport]) -> tuple[TeacherReport, ...]:
    return tuple(sorted(teachers, key=lambda t: (t.score is None, -(t.score or 0), t.staff_no)))


# -- conditions -----------------------------------------------------------------------------------


def _between(first: date, last: date) -> Any:
    if first > last:
        return false()
    return and_(col(Visit.visit_date) >= first, col(Visit.visit_date) <= last)


def _month_days(span: MonthSpan, until: date) -> Any:
    """Visits dated on the month's term days up to `until`."""
    runs = [_between(r.first, min(r.last, until)) for r in span.ranges if r.first <= until]
    return or_(*runs) if runs else false()


def _counted(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


async def _rows(session: AsyncSession, query: Any) -> Sequence[Any]:
    """Run a many-column Core SELECT in the session's transaction."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


def _only(query: Any, column: Any, staff_ids: list[int] | None) -> Any:
    return query if staff_ids is None else query.where(column.in_(staff_ids))


# -- the report -------------------------------------------------------------------------------------


@dataclass
class _Read:
    """What the statements found (teacher and student ids as keys)."""

    months: list[MonthSpan]
    breaks: list[Term]
    by_teacher: dict[int, tuple[int, ...]]
    filed: dict[int, list[tuple[int, int]]]
    roster: list[RosterEntry]
    students: dict[int, tuple[int, ...]]
    taken_over: set[int]
    duties: dict[int, list[DutyRow]]
    ledger: dict[int, Tally]
    campaign: dict[int, Tally]


async def evaluation_report(
    session: AsyncSession,
    school: School,
    period: Period,
    *,
    now: datetime,
    rules: SchoolRules,
    staff_ids: Sequence[int] | None = None,
) -> EvaluationReport:
    """Every active teacher's figures and score for `period` as of `now` (or only `staff_ids`')."""
    school_id = school.id or 0
    zone = ZoneInfo(school.timezone)
    today = now.astimezone(zone).date()
    as_of = period.as_of(now, zone)
    until = period.as_of_day(today)
    only = list(staff_ids) if staff_ids is not None else None

    staff_query = select(Staff).where(Staff.school_id == school_id, col(Staff.active))
    staff = list(
        (
            await session.exec(
                _only(staff_query, col(Staff.id), only).order_by(col(Staff.staff_no))
            )
        ).all()
    )
    classes = list((await session.exec(classes_in_order(school_id))).all())
    teaching_query = (
        sa_select(col(Teaching.staff_id), col(Teaching.class_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Teaching.class_id))
        .where(col(SchoolClass.school_id) == school_id)
        .distinct()
    )
    teaching = await _rows(session, _only(teaching_query, col(Teaching.staff_id), only))
    coach_query = (
        sa_select(col(GroupCoach.staff_id))
        .join(Group, col(Group.id) == col(GroupCoach.group_id))
        .where(col(Group.school_id) == school_id)
        .distinct()
    )
    coaching = {
        int(s) for (s,) in await _rows(session, _only(coach_query, col(GroupCoach.staff_id), only))
    }

    months = period.months(today)
    begun = [b for b in period.breaks if b.start_date <= until]
    by_teacher = await _teacher_counts(
        session, school_id, period, months, begun, until, rules, only
    )
    filed = await _filed(session, school_id, period.first, until, only)
    headed = [
        c
        for c in classes
        if c.head_teacher_id is not None and (only is None or c.head_teacher_id in only)
    ]
    roster = await read_class_rosters(session, [c.id or 0 for c in headed])
    students = await _student_counts(
        session, school_id, period, begun, until, [c.id or 0 for c in headed], rules
    )
    taken_over: set[int] = set()
    summer = [b for b in begun if b.kind == TermKind.SUMMER_BREAK and b.end_date < today]
    if summer and roster:
        heads = {c.id or 0: c.head_teacher_id for c in headed}
        since = await head_since(
            session=session,
            school_id=school_id,
            heads={s.id: heads.get(s.class_id) for s in roster},
        )
        taken_over = {s for s, when in since.items() if newly_taken_over(when, period.year_start)}
    duties = await _duties(session, school_id, period, zone, only)
    ledger = await _ledger(session, school_id, period, zone, as_of, only)
    campaign = await _campaigns(session, school_id, period, until, rules, only)
    read = _Read(
        months, begun, by_teacher, filed, roster, students, taken_over, duties, ledger, campaign
    )

    taught: dict[int, set[int]] = {}
    for staff_id, class_id in teaching:
        taught.setdefault(int(staff_id), set()).add(int(class_id))
    reports: list[TeacherReport] = []
    for person in staff:
        person_id = person.id or 0
        head_of = [c for c in classes if c.head_teacher_id == person_id]
        role = quota_role(
            head_teacher=bool(head_of),
            subject_teacher=person_id in taught,
            coach=person_id in coaching,
        )
        if role is None:
            continue
        reports.append(
            _teacher(
                person,
                role,
                head_of,
                taught.get(person_id, set()),
                read,
                period,
                today,
                until,
                as_of,
                rules,
            )
        )
    visits = sum(count for rows in filed.values() for _days, count in rows)
    return EvaluationReport(
        period=period,
        as_of=as_of,
        as_of_day=until,
        late_days=rules.late_filing_days,
        weights=rules.evaluation_weights,
        teachers=ranked(reports),
        classes=tuple(
            ClassRow(c.id or 0, c.name, c.grade, c.number, c.head_teacher_id) for c in classes
        ),
        visits=visits,
        months=tuple(m.first for m in months),
    )


def _teacher(
    person: Staff,
    role: QuotaRole,
    head_of: list[SchoolClass],
    taught: set[int],
    read: _Read,
    period: Period,
    today: date,
    until: date,
    as_of: datetime,
    rules: SchoolRules,
) -> TeacherReport:
    person_id = person.id or 0
    counts = read.by_teacher.get(person_id, ())
    routine: list[MonthCount] = []
    contacts: list[MonthCount] = []
    visit_target = monthly_visit_target(role, rules)
    for index, span in enumerate(read.months):
        running = month_running(span, period, today)
        done_routine = counts[2 * index] if counts else 0
        done_contacts = counts[2 * index + 1] if counts else 0

        def target(full: int, span: MonthSpan = span, running: bool = running) -> int:
            whole = prorated(full, span)
            return expected_so_far(whole, span) if running else whole

        if visit_target is not None:
            routine.append(MonthCount(span.first, done_routine, target(visit_target)))
        contacts.append(
            MonthCount(span.first, done_contacts, target(rules.monthly_parent_contacts))
        )

    pupils = [s for c in head_of for s in read.roster if s.class_id == (c.id or 0)]
    breaks = _breaks(role, counts, len(read.months), pupils, read, until, rules)
    break_tally = None
    if breaks:
        done = sum(min(b.visits.done, b.visits.target) for b in breaks if b.visits) + sum(
            b.must_visit.done for b in breaks if b.must_visit
        )
        wanted = sum(b.visits.target for b in breaks if b.visits) + sum(
            b.must_visit.target for b in breaks if b.must_visit
        )
        break_tally = Tally(done, wanted) if wanted else None

    key_visits = coverage = None
    if role == QuotaRole.HEAD_TEACHER:
        special = [s for s in pupils if is_special(s.tags)]
        met = sum(1 for s in special if key_visits_met(_key_visits(read, s.id, rules), rules))
        key_visits = Tally(met, len(special)) if special else None
        by_head = rules.coverage_by == "head_teacher"
        visited = sum(1 for s in pupils if read.students.get(s.id, (0, 0))[0 if by_head else 1] > 0)
        coverage = Tally(visited, len(pupils)) if pupils else None

    duties = read.duties.get(person_id, [])
    filed = [
        FiledVisit(period.first, period.first + timedelta(days=days))
        for days, count in read.filed.get(person_id, [])
        for _ in range(count)
    ]
    inputs = TeacherInputs(
        routine=tuple(routine),
        contacts=tuple(contacts),
        key_visits=key_visits,
        break_visits=break_tally,
        duties=tuple(d.record for d in duties),
        filed=tuple(filed),
        class_coverage=coverage,
        campaign=read.campaign.get(person_id),
        ledger=read.ledger.get(person_id),
    )
    evaluation = evaluate(
        inputs, as_of=as_of, late_days=rules.late_filing_days, weights=rules.evaluation_weights
    )
    return TeacherReport(
        staff_id=person_id,
        staff_no=person.staff_no,
        name=person.name,
        role=role,
        headed=tuple(c.name for c in head_of),
        class_ids=tuple(sorted({c.id or 0 for c in head_of} | taught)),
        evaluation=evaluation,
        breaks=tuple(breaks),
        duties=tuple(duties),
    )


def _key_visits(read: _Read, student_id: int, rules: SchoolRules) -> int:
    facts = read.students.get(student_id)
    if facts is None:
        return 0
    _head, routine_year, key_routine = facts[0], facts[1], facts[2]
    if not rules.key_visits_beyond_routine:
        return key_routine
    return key_visits_done(key_routine=key_routine, routine=routine_year)


def _on_break(read: _Read, student_id: int, index: int) -> int:
    """The student's routine visits in the period's `index`th break (after the head, routine
    and key counts of `_student_counts`)."""
    facts = read.students.get(student_id, ())
    return facts[3 + index] if len(facts) > 3 + index else 0


def _breaks(
    role: QuotaRole,
    counts: tuple[int, ...],
    month_count: int,
    pupils: list[RosterEntry],
    read: _Read,
    until: date,
    rules: SchoolRules,
) -> list[BreakFigures]:
    found: list[BreakFigures] = []
    for index, term in enumerate(read.breaks):
        target = break_visit_target(role, term.kind, rules)
        visits = None
        if target is not None:
            past, days = break_share(term, until + timedelta(days=1))
            so_far = (2 * target * past + days) // (2 * days)
            done = counts[2 * month_count + index] if counts else 0
            visits = Tally(done, so_far)
        must = None
        if role == QuotaRole.HEAD_TEACHER and term.end_date <= until:
            listed = [
                s
                for s in pupils
                if must_visit_in_break(term.kind, tags=s.tags, taken_over=s.id in read.taken_over)
            ]
            reached = sum(1 for s in listed if _on_break(read, s.id, index) > 0)
            must = Tally(reached, len(listed)) if listed else None
        if (visits is not None and visits.target > 0) or must is not None:
            found.append(BreakFigures(term.kind, term.name, visits, must))
    return found


# -- the statements ----------------------------------------------------------------------------


async def _teacher_counts(
    session: AsyncSession,
    school_id: int,
    period: Period,
    months: list[MonthSpan],
    breaks: list[Term],
    until: date,
    rules: SchoolRules,
    only: list[int] | None,
) -> dict[int, tuple[int, ...]]:
    """Per teacher: (routine, contacts) for each month, then routine visits in each break."""
    routine = col(Visit.form).in_([VisitForm(form) for form in rules.counted_forms()])
    columns: list[Any] = []
    for span in months:
        days = _month_days(span, until)
        columns.append(_counted(and_(days, routine)))
        if rules.contacts_counted_as == "contacts":
            columns.append(_counted(days))
        else:
            columns.append(func.count(func.distinct(case((days, col(Visit.student_id))))))
    for term in breaks:
        columns.append(
            _counted(and_(_between(term.start_date, min(term.end_date, until)), routine))
        )
    if not columns:
        return {}
    query = (
        sa_select(col(Visit.teacher_id), *columns)
        .where(col(Visit.school_id) == school_id, _between(period.first, until))
        .group_by(col(Visit.teacher_id))
    )
    rows = await _rows(session, _only(query, col(Visit.teacher_id), only))
    return {int(teacher): tuple(int(n or 0) for n in counts) for teacher, *counts in rows}


async def _filed(
    session: AsyncSession, school_id: int, first: date, until: date, only: list[int] | None
) -> dict[int, list[tuple[int, int]]]:
    """Per teacher: (days late, visits) of the visits dated in the period so far."""
    query = (
        sa_select(col(Visit.teacher_id), col(Visit.filed_days_late), func.count())
        .where(col(Visit.school_id) == school_id, _between(first, until))
        .group_by(col(Visit.teacher_id), col(Visit.filed_days_late))
    )
    found: dict[int, list[tuple[int, int]]] = {}
    for teacher, days, count in await _rows(session, _only(query, col(Visit.teacher_id), only)):
        found.setdefault(int(teacher), []).append((max(0, int(days or 0)), int(count)))
    return found


async def _student_counts(
    session: AsyncSession,
    school_id: int,
    period: Period,
    breaks: list[Term],
    until: date,
    class_ids: list[int],
    rules: SchoolRules,
) -> dict[int, tuple[int, ...]]:
    """Per student of the head teachers' classes, this school year through `until`: routine
    visits by the class's head teacher, routine visits by anyone, those of the key category,
    then routine visits by anyone in each break."""
    routine = col(Visit.form).in_([VisitForm(form) for form in rules.counted_forms()])
    query = (
        sa_select(
            col(Visit.student_id),
            _counted(and_(routine, col(Visit.teacher_id) == col(SchoolClass.head_teacher_id))),
            _counted(routine),
            _counted(and_(routine, col(Visit.category) == VisitCategory.KEY)),
            *(
                _counted(and_(_between(b.start_date, min(b.end_date, until)), routine))
                for b in breaks
            ),
        )
        .join(Student, col(Student.id) == col(Visit.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            col(Visit.school_id) == school_id,
            _between(period.year_start, until),
            col(Student.class_id).in_(class_ids),
        )
        .group_by(col(Visit.student_id))
    )
    if not class_ids:
        query = query.where(false())
    rows = await _rows(session, query)
    return {int(student): tuple(int(n or 0) for n in counts) for student, *counts in rows}


async def _duties(
    session: AsyncSession, school_id: int, period: Period, zone: ZoneInfo, only: list[int] | None
) -> dict[int, list[DutyRow]]:
    query = (
        sa_select(
            col(Duty.teacher_id),
            col(Student.name),
            col(SchoolClass.name),
            col(Duty.trigger),
            col(Duty.due_at),
            col(Duty.done_at),
        )
        .join(Student, col(Student.id) == col(Duty.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            col(Duty.school_id) == school_id,
            col(Duty.due_at) >= _start_of(period.first, zone),
            col(Duty.due_at) < _start_of(period.last + timedelta(days=1), zone),
        )
        .order_by(col(Duty.due_at), col(Duty.id))
    )
    found: dict[int, list[DutyRow]] = {}
    for teacher, student, klass, trigger, due_at, done_at in await _rows(
        session, _only(query, col(Duty.teacher_id), only)
    ):
        found.setdefault(int(teacher), []).append(
            DutyRow(int(teacher), student, klass, DutyTrigger(trigger), due_at, done_at)
        )
    return found


async def _ledger(
    session: AsyncSession,
    school_id: int,
    period: Period,
    zone: ZoneInfo,
    as_of: datetime,
    only: list[int] | None,
) -> dict[int, Tally]:
    """Per owner: items recorded in the period closed by `as_of` / owned."""
    closed = and_(
        col(LedgerItem.status) == LedgerStatus.CLOSED,
        col(LedgerItem.closed_at).is_not(None),
        col(LedgerItem.closed_at) <= as_of,
    )
    query = (
        sa_select(col(LedgerItem.owner_id), _counted(closed), func.count())
        .where(
            col(LedgerItem.school_id) == school_id,
            col(LedgerItem.owner_id).is_not(None),
            col(LedgerItem.created_at) >= _start_of(period.first, zone),
            col(LedgerItem.created_at) < as_of,
        )
        .group_by(col(LedgerItem.owner_id))
    )
    rows = await _rows(session, _only(query, col(LedgerItem.owner_id), only))
    return {int(owner): Tally(int(done or 0), int(owned)) for owner, done, owned in rows}


async def _campaigns(
    session: AsyncSession,
    school_id: int,
    period: Period,
    until: date,
    rules: SchoolRules,
    only: list[int] | None,
) -> dict[int, Tally]:
    """Per responsible teacher, over the campaigns overlapping the period and begun by `until`:
    their households they visited themselves in the campaign / assigned to them."""
    running = and_(
        col(Campaign.school_id) == school_id,
        col(Campaign.cancelled_at).is_(None),
        col(Campaign.start_date) <= min(until, period.last),
        col(Campaign.end_date) >= period.first,
    )
    assigned_query = (
        sa_select(
            col(Campaign.id),
            col(Campaign.name),
            col(Campaign.start_date),
            col(Campaign.end_date),
            col(Campaign.scope),
            col(Campaign.visit_rule),
            col(CampaignAssignment.teacher_id),
            col(CampaignAssignment.student_id),
            col(CampaignAssignment.class_id),
        )
        .join(Campaign, col(Campaign.id) == col(CampaignAssignment.campaign_id))
        .where(running)
    )
    assigned = await _rows(session, _only(assigned_query, col(CampaignAssignment.teacher_id), only))
    keys = household_keys(await households(session, school_id))
    visit_query = (
        sa_select(
            col(Campaign.id),
            col(Visit.teacher_id),
            col(Visit.student_id),
            col(Visit.form),
            func.min(col(Visit.visit_date)),
        )
        .join(
            Campaign,
            and_(
                col(Visit.visit_date) >= col(Campaign.start_date),
                col(Visit.visit_date) <= col(Campaign.end_date),
            ),
        )
        .where(
            running,
            col(Visit.school_id) == school_id,
            col(Visit.visit_date) <= until,
            exists().where(
                col(CampaignAssignment.campaign_id) == col(Campaign.id),
                col(CampaignAssignment.teacher_id) == col(Visit.teacher_id),
            ),
        )
        .group_by(col(Campaign.id), col(Visit.teacher_id), col(Visit.student_id), col(Visit.form))
    )
    seen = await _rows(session, _only(visit_query, col(Visit.teacher_id), only))
    if not assigned:
        return {}

    def key(student_id: int) -> int:
        return keys.get(student_id, -student_id)

    specs: dict[int, CampaignSpec] = {}
    rows: dict[int, list[Responsible]] = {}
    for cid, name, start, end, scope, rule, teacher, student, class_id in assigned:
        specs[int(cid)] = CampaignSpec(name, start, end, scope, (), VisitRule(rule))
        rows.setdefault(int(cid), []).append(Responsible(key(int(student)), int(teacher), class_id))
    visits: dict[int, list[CampaignVisit]] = {}
    for cid, teacher, student, form, first in seen:
        visits.setdefault(int(cid), []).append(
            CampaignVisit(0, key(int(student)), int(teacher), first, str(form))
        )
    totals: dict[int, Tally] = {}
    for cid, spec in specs.items():
        counted = counted_visits(visits.get(cid, []), spec, rules.home_forms())
        progress = teacher_progress(Assignment(tuple(rows[cid])), counted)
        for teacher, rate in progress.items():
            before = totals.get(teacher, Tally(0, 0))
            totals[teacher] = Tally(before.done + rate.visited, before.target + rate.households)
    return totals
