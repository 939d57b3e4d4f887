"""The figures of 德育处's daily digest, for one school and one morning, in a fixed number of
queries, whatever the school's size (`QUERIES`).

The digest of day D reports:

* exceptions at the moment it is built — immediate visits past due and not done, incidents whose
  guardians were not reached (no 已知悉, no 已电话联系), the problems recorded on visits logged on
  D − 1, and the teachers behind pace for the month (`models.quota.rules`'s pace rule, as /quota and the
  reminders apply it: visits, and for every teacher the families contacted);
* D − 1 ("yesterday", the last whole day): the visits with that visit date, by form and category;
* the problem ledger at the moment it is built (`models.digest.ledger`): items new in the last
  24 hours, overdue, unclassified too long, complaints without an owner too long;
* the surveys open at the moment it is built (`models.digest.surveys`): each one's response rate;
* the 大走访 campaigns running on D (`models.digest.campaign`): 入户, double visits and the
  left-behind households not contacted this month, as of D;
* the month of D − 1, through D − 1: each class's completion, i.e. the visits its head teacher
  logged on the month's term days (any student, any form) against the head teacher's target for
  the month (pro-rated when part of the month is a break). On the 1st the digest therefore closes
  the month just ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.digest.campaign import CampaignLine, campaign_lines
from models.digest.ledger import EMPTY_LINE, LedgerLine, ledger_line
from models.digest.surveys import OpenSurvey, open_surveys
from models.duties.queries import overdue_duties
from models.duties.tables import DutyTrigger
from models.incidents.tables import Incident, IncidentKind
from models.quota.rules import Tally, expected_so_far, home_percent, prorated
from models.quota.standing import OVERVIEW_QUERIES, MonthStanding, month_overview
from models.roster.tables import Staff, Student
from models.school.calendar import month_bounds
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import SchoolClass
from models.visits.tables import Visit, VisitCategory, VisitForm

#: How many SQL statements `gather_digest` runs in a fresh session (a test holds it to this
#: number): four of its own, the ledger line's three (`models.digest.ledger.STATEMENTS`), the
#: open surveys' one (`models.digest.surveys.STATEMENTS`), the campaigns' one (three while a
#: campaign runs: `models.digest.campaign.STATEMENTS`) and the month's
#: (`models.quota.standing.month_overview`, five for a school with no head teacher).
QUERIES = 9 + OVERVIEW_QUERIES
#: Statements the campaign line adds on a day a 大走访 runs.
CAMPAIGN_QUERIES = 2


@dataclass(frozen=True)
class OverdueVisit:
    """An immediate visit 立即家访 past its due time and not done."""

    class_name: str
    student_name: str
    teacher_name: str
    trigger: DutyTrigger
    due_at: datetime


@dataclass(frozen=True)
class UnreachedIncident:
    """An urgent incident whose guardians neither acknowledged nor were phoned."""

    class_name: str
    student_name: str
    kind: IncidentKind
    reported_at: datetime


@dataclass(frozen=True)
class FlaggedProblem:
    """A problem recorded on a visit logged yesterday; `needs_school`: 德育处 must act."""

    class_name: str
    student_name: str
    teacher_name: str
    needs_school: bool


@dataclass(frozen=True)
class TeacherPace:
    """A teacher behind pace this month: on routine visits (head and subject teachers), on
    contacts with parents (every teacher, 人次), or both."""

    name: str
    #: Visits done and the month's target (None for coaches, who have no visit quota).
    visits: Tally | None
    visits_expected: int
    contacts: Tally
    contacts_expected: int
    #: The forms the visits count (`SchoolRules.routine_forms`), to name them.
    routine_forms: tuple[str, ...] = ("home",)

    @property
    def visits_behind(self) -> bool:
        return self.visits is not None and self.visits.done < self.visits_expected

    @property
    def contacts_behind(self) -> bool:
        return self.contacts.done < self.contacts_expected


@dataclass(frozen=True)
class ClassCompletion:
    class_name: str
    head_teacher: str | None
    #: Visits the head teacher logged this month (term days, through the digest's day).
    done: int
    #: The head teacher's target for the month (0 without a head teacher or a term day).
    target: int
    #: 入户率: students whose homes were visited (上门家访, anyone) this school year, of all.
    homes_visited: int = 0
    students: int = 0

    @property
    def percent(self) -> int | None:
        """Completion in whole percent (may pass 100); None without a target."""
        if self.target <= 0:
            return None
        return round(100 * self.done / self.target)

    @property
    def home_percent(self) -> int | None:
        """入户率 in whole percent; None for a class without students."""
        return home_percent(self.homes_visited, self.students)


@dataclass(frozen=True)
class DigestFigures:
    school_name: str
    #: The morning the digest is for (local date).
    today: date
    #: "Yesterday": the last whole day, whose visits are counted.
    day: date
    #: When the exceptions were read.
    now: datetime
    overdue: list[OverdueVisit] = field(default_factory=list)
    unreached: list[UnreachedIncident] = field(default_factory=list)
    problems: list[FlaggedProblem] = field(default_factory=list)
    behind: list[TeacherPace] = field(default_factory=list)
    by_form: dict[VisitForm, int] = field(default_factory=dict)
    by_category: dict[VisitCategory, int] = field(default_factory=dict)
    classes: list[ClassCompletion] = field(default_factory=list)
    #: A head teacher's target for the month and what pace asks for by the end of `day`.
    head_target: int = 0
    head_expected: int = 0
    #: False when the month of `day` has no term day (no monthly quota, no pace).
    in_term: bool = True
    #: False when the school year has no semester on record (no calendar imported).
    has_calendar: bool = True
    #: The forms the visits count (`SchoolRules.routine_forms`), to name them.
    routine_forms: tuple[str, ...] = ("home",)
    #: The problem ledger's line (omitted when all its counts are zero).
    ledger: LedgerLine = EMPTY_LINE
    #: The surveys open when the digest was built, by deadline.
    surveys: list[OpenSurvey] = field(default_factory=list)
    #: The 大走访 campaigns running on the digest's morning, newest first.
    campaigns: list[CampaignLine] = field(default_factory=list)

    @property
    def month_first(self) -> date:
        return month_bounds(self.day)[0]

    @property
    def visits_yesterday(self) -> int:
        return sum(self.by_form.values())

    @property
    def has_exceptions(self) -> bool:
        return bool(self.overdue or self.unreached or self.problems or self.behind)


# -- gathering -----------------------------------------------------------------------------------


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """`day` from local midnight to the next local midnight, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


async def gather_digest(
    *,
    session: AsyncSession,
    school_id: int,
    school_name: str,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules = DEFAULT_RULES,
) -> DigestFigures:
    """Every figure of the digest for the morning of `now` (in `zone`), in `QUERIES` queries."""
    today = now.astimezone(zone).date()
    day = today - timedelta(days=1)

    overdue = [
        OverdueVisit(
            class_name=row.klass.name,
            student_name=row.student.name,
            teacher_name=row.teacher.name,
            trigger=row.duty.trigger,
            due_at=row.duty.due_at,
        )
        for row in await overdue_duties(session=session, school_id=school_id, now=now)
    ]
    unreached = await _unreached_incidents(session, school_id)
    problems = await _problems_logged(session, school_id, *local_day_bounds(day, zone))
    by_form, by_category = await _visits_on(session, school_id, day)
    ledger = await ledger_line(session, school_id=school_id, now=now, zone=zone, rules=rules)
    surveys = await open_surveys(session, school_id, now)
    campaigns = await campaign_lines(session, school_id, today, rules.home_forms())
    standing = await month_overview(
        session=session, school_id=school_id, day=day, rules=rules, day_complete=True
    )

    behind = [_pace(name, month) for name, month in standing.behind_pace()]
    behind.sort(key=lambda p: (_share(p), p.name))
    head_target = prorated(rules.monthly_visits_head_teacher, standing.span)
    return DigestFigures(
        school_name=school_name,
        today=today,
        day=day,
        now=now,
        overdue=overdue,
        unreached=unreached,
        problems=problems,
        behind=behind,
        by_form=by_form,
        by_category=by_category,
        classes=[
            ClassCompletion(
                c.name, c.head_teacher_name, c.done, c.target, c.visited_this_year, c.students
            )
            for c in standing.classes
        ],
        head_target=head_target,
        head_expected=expected_so_far(head_target, standing.span),
        in_term=standing.span.term_days > 0,
        has_calendar=standing.has_calendar,
        routine_forms=rules.counted_forms(),
        ledger=ledger,
        surveys=surveys,
        campaigns=campaigns,
    )


def _pace(name: str, month: MonthStanding) -> TeacherPace:
    return TeacherPace(
        name=name,
        visits=month.visits,
        visits_expected=month.visits_expected,
        contacts=month.contacts,
        contacts_expected=month.contacts_expected,
        routine_forms=month.routine_forms,
    )


def _share(pace: TeacherPace) -> float:
    """How far along the furthest-behind rule is (lowest first)."""
    tally = pace.visits if pace.visits is not None else pace.contacts
    return tally.done / tally.target if tally.target else 1.0


async def _unreached_incidents(session: AsyncSession, school_id: int) -> list[UnreachedIncident]:
    query = (
        select(SchoolClass.name, Student.name, Incident.kind, Incident.reported_at)
        .join(Student, col(Student.id) == col(Incident.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            col(Incident.school_id) == school_id,
            col(Incident.not_reached_at).is_not(None),
            col(Incident.acknowledged_at).is_(None),
            col(Incident.phoned_at).is_(None),
        )
        .order_by(col(Incident.reported_at), col(Incident.id))
    )
    return [
        UnreachedIncident(class_name, student, IncidentKind(kind), reported_at)
        for class_name, student, kind, reported_at in (await session.exec(query)).all()
    ]


async def _problems_logged(
    session: AsyncSession, school_id: int, start: datetime, end: datetime
) -> list[FlaggedProblem]:
    """Visits logged in [start, end) that recorded a problem or asked for the school's help."""
    query = (
        select(SchoolClass.name, Student.name, Staff.name, Visit.needs_school)
        .join(Student, col(Student.id) == col(Visit.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .join(Staff, col(Staff.id) == col(Visit.teacher_id))
        .where(
            col(Visit.school_id) == school_id,
            col(Visit.created_at) >= start,
            col(Visit.created_at) < end,
            or_(col(Visit.needs_school), col(Visit.problems) != ""),
        )
        .order_by(col(Visit.needs_school).desc(), col(Visit.id))
    )
    return [
        FlaggedProblem(class_name, student, teacher, bool(needs))
        for class_name, student, teacher, needs in (await session.exec(query)).all()
    ]


async def _visits_on(
    session: AsyncSession, school_id: int, day: date
) -> tuple[dict[VisitForm, int], dict[VisitCategory, int]]:
    query = (
        select(Visit.form, Visit.category, func.count())
        .where(col(Visit.school_id) == school_id, col(Visit.visit_date) == day)
        .group_by(col(Visit.form), col(Visit.category))
    )
    by_form: dict[VisitForm, int] = {}
    by_category: dict[VisitCategory, int] = {}
    for form, category, count in (await session.exec(query)).all():
        by_form[VisitForm(form)] = by_form.get(VisitForm(form), 0) + int(count)
        by_category[VisitCategory(category)] = by_category.get(VisitCategory(category), 0) + int(
            count
        )
    return by_form, by_category
