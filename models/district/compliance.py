"""Every school of the deployment side by side on the home-visit rules: the district view
(aggregates only — no child's, guardian's or teacher's name is read, only counts per school).

`district_compliance` reads the whole district in `STATEMENTS` SQL statements, whatever the
number of schools, students or visits: each statement is grouped by school (or, for the
month's quota, by teacher, to apply the pace rule to each one), and each school's calendar and
rules are applied in Python to the grouped rows. The figures of one school, for the morning of
`today` (a local date shared by the district) and the moment `now`:

* **students, staff**: active students and active staff on the roster.
* **the month's quota** (`models.quota.rules`, as the school's digest applies it): the month is
  the one of D − 1 ("yesterday", the last whole day), over the school's term days, through
  D − 1. For every active teacher with a visit quota (head teachers 10, subject teachers 3,
  pro-rated when part of the month is a break): routine visits (`SchoolRules.counted_forms`)
  done and the target. `visits_met` counts each teacher's visits up to their own target, so one
  teacher's surplus does not hide another's shortfall; the quota figure is `visits_met / target`.
  **On pace**: the teachers with a quota this month (coaches too, whose rule is the parent
  contacts) who are not behind pace — the digest's rule: visits and parent contacts at least
  what the share of the month's term days already past asks for. Outside term time (a break, a
  month without term days) nobody is behind.
* **coverage** (入户率, the digest's definition): active students whose home was visited this
  school year (上门家访, and 视频家访 where the school counts it as 上门,
  `SchoolRules.home_forms`), by anyone, from the school year's first day (`School.year_start_*`)
  through D − 1, of all active students.
* **immediate visits overdue** (立即家访): duties due before `now` and not done by `now`.
* **incidents not reached** (the digest's definition): urgent incidents whose guardians were
  found not reached by `now` and that neither a guardian acknowledged (已知悉) nor staff phoned
  (已电话联系) by `now`.
* **notice receipts** (回执): notices asking for a receipt, published in the 30 days before
  `now`; each student of their audience is one receipt, confirmed when a guardian confirmed it
  by `now`. The rate is confirmed / receipts.
* **ledger items overdue** (问题台账, the digest's definition): items being handled (active)
  whose due date is before `today`, as the ledger stands when read.

For `now` equal to the present these are exactly the figures the school's own digest shows; an
earlier `now` (a report for a past date) counts a duty done or an incident answered later as
still open at that moment.

The bureau's own entry is no school of the district: a school with an active 区域管理员
(`StaffRole.DISTRICT`) on its roster and no active student is left out of the report.

Schools are listed by concern: incidents not reached first, then overdue immediate visits,
then the lowest of the quota, coverage and receipt rates, then overdue ledger items, then name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, case, exists, false, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.duties.tables import Duty
from models.incidents.tables import Incident
from models.ledger.tables import LedgerItem, LedgerStatus
from models.notices.tables import Notice, NoticeReceipt
from models.quota.facts import TeacherFacts
from models.quota.rules import MonthSpan, month_span, quota_role
from models.quota.standing import month_standing
from models.roster.tables import Staff, StaffRole, Student, Teaching
from models.school.calendar import has_semester_in_year, month_bounds, school_year_start
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import GroupCoach, School, SchoolClass, Term
from models.visits.tables import Visit, VisitForm

#: The SQL statements `district_compliance` runs, whatever the district's size: the schools
#: with their counts, the terms, the month per teacher, the year's coverage, the receipts.
STATEMENTS = 5
#: Notices published this many days before `now` count for the receipt rate.
NOTICE_DAYS = 30


def percent(part: int, whole: int) -> int | None:
    """`part / whole` in whole percent; None when there is nothing to count."""
    if whole <= 0:
        return None
    return round(100 * part / whole)


@dataclass(frozen=True)
class SchoolCompliance:
    """One school's figures (or the district's totals): counts only."""

    school_id: int
    name: str
    students: int = 0
    staff: int = 0
    #: Whether the month has term days (a monthly quota), and the school year a calendar.
    in_term: bool = True
    has_calendar: bool = True
    #: Teachers with a rule this month (visits or parent contacts) and those on pace.
    teachers: int = 0
    on_pace: int = 0
    #: Routine visits this month by teachers with a visit quota; each one's visits up to their
    #: target; the sum of their targets.
    visits: int = 0
    visits_met: int = 0
    visits_target: int = 0
    #: Active students whose home was visited this school year (入户).
    homes_visited: int = 0
    overdue_duties: int = 0
    unreached_incidents: int = 0
    #: Notices asking for a receipt published in the last `NOTICE_DAYS` days, their receipts,
    #: and the receipts confirmed.
    notices: int = 0
    receipts: int = 0
    confirmed: int = 0
    ledger_overdue: int = 0

    @property
    def quota_percent(self) -> int | None:
        return percent(self.visits_met, self.visits_target)

    @property
    def pace_percent(self) -> int | None:
        return percent(self.on_pace, self.teachers)

    @property
    def coverage_percent(self) -> int | None:
        return percent(self.homes_visited, self.students)

    @property
    def receipt_percent(self) -> int | None:
        return percent(self.confirmed, self.receipts)

    @property
    def lowest_percent(self) -> int:
        """The lowest of the quota, coverage and receipt rates (100 when none applies)."""
        found = [
            p
            for p in (self.quota_percent, self.coverage_percent, self.receipt_percent)
            if p is not None
        ]
        return min(found, default=100)

    @property
    def concern(self) -> tuple[int, int, int, int, str]:
        """The sort key: most in need of attention first."""
        return (
            -self.unreached_incidents,
            -self.overdue_duties,
            self.lowest_percent,
            -self.ledger_overdue,
            self.name,
        )


#: The counts a district total sums.
_SUMMED = tuple(
    f.name for f in fields(SchoolCompliance) if f.type == "int" and f.name != "school_id"
)


@dataclass(frozen=True)
class DistrictReport:
    #: The morning the report is for; "yesterday", whose month the quota counts; the moment.
    today: date
    day: date
    now: datetime
    #: Every school, by concern (`SchoolCompliance.concern`).
    schools: list[SchoolCompliance] = field(default_factory=list)

    @property
    def month_first(self) -> date:
        return month_bounds(self.day)[0]

    @property
    def totals(self) -> SchoolCompliance:
        """The district's sums (its rates are the district's, not a mean of the schools')."""
        sums = {name: sum(getattr(s, name) for s in self.schools) for name in _SUMMED}
        return SchoolCompliance(
            school_id=0,
            name="",
            in_term=any(s.in_term for s in self.schools),
            has_calendar=all(s.has_calendar for s in self.schools),
            **sums,
        )


# -- the statements ----------------------------------------------------------------------------


async def _rows(session: AsyncSession, query: Any) -> Sequence[Row[*tuple[Any, ...]]]:
    connection = await session.connection()
    return (await connection.execute(query)).all()


def _count(where: Any) -> Any:
    return sa_select(func.count()).where(*where).scalar_subquery()


def _schools_query(today: date, now: datetime) -> Any:
    """Each school with its roster sizes and its exception counts (correlated counts by the
    school's key: one statement)."""
    school_id = col(School.id)
    return sa_select(
        school_id,
        col(School.name),
        col(School.year_start_month),
        col(School.year_start_day),
        _count([col(Student.school_id) == school_id, col(Student.active)]),
        _count([col(Staff.school_id) == school_id, col(Staff.active)]),
        _count(
            [
                col(Duty.school_id) == school_id,
                col(Duty.due_at) < now,
                or_(col(Duty.done_at).is_(None), col(Duty.done_at) > now),
            ]
        ),
        _count(
            [
                col(Incident.school_id) == school_id,
                col(Incident.not_reached_at) <= now,
                or_(col(Incident.acknowledged_at).is_(None), col(Incident.acknowledged_at) > now),
                or_(col(Incident.phoned_at).is_(None), col(Incident.phoned_at) > now),
            ]
        ),
        _count(
            [
                col(LedgerItem.school_id) == school_id,
                col(LedgerItem.status) == LedgerStatus.ACTIVE.value,
                col(LedgerItem.due_on) < today,
            ]
        ),
        _count(
            [
                col(Staff.school_id) == school_id,
                col(Staff.active),
                col(Staff.roles).contains(StaffRole.DISTRICT.value),
            ]
        ),
    ).order_by(school_id)


def _month_query(spans: Mapping[int, MonthSpan]) -> Any:
    """Every active member of staff: whether they head a class, teaches one, coaches a group, and
    their visits of each form and the families they reached on their school's term days of the
    month through its day (`models.quota.rules.month_span`: the runs of semester days, or every
    day for a school with no semester on record). Schools with the same runs share one
    condition, so the statement grows with the number of calendars, not of schools."""
    schools_by_runs: dict[tuple[tuple[date, date], ...], list[int]] = defaultdict(list)
    for school_id, span in spans.items():
        runs = tuple((r.first, min(r.last, span.day)) for r in span.ranges if r.first <= span.day)
        if runs:
            schools_by_runs[runs].append(school_id)
    in_term = or_(
        false(),
        *(
            and_(
                col(Visit.school_id).in_(schools),
                or_(*(col(Visit.visit_date).between(a, b) for a, b in runs)),
            )
            for runs, schools in schools_by_runs.items()
        ),
    )
    by_form = [
        func.sum(case((col(Visit.form) == form, 1), else_=0)).label(form.value)
        for form in VisitForm
    ]
    month = (
        sa_select(
            col(Visit.teacher_id).label("teacher_id"),
            *by_form,
            func.count(func.distinct(col(Visit.student_id))).label("families"),
        )
        .where(in_term)
        .group_by(col(Visit.teacher_id))
        .subquery()
    )
    staff_id = col(Staff.id)
    return (
        sa_select(
            staff_id,
            col(Staff.school_id),
            exists().where(col(SchoolClass.head_teacher_id) == staff_id),
            exists().where(col(Teaching.staff_id) == staff_id),
            exists().where(col(GroupCoach.staff_id) == staff_id),
            *(month.c[form.value] for form in VisitForm),
            month.c.families,
        )
        .outerjoin(month, month.c.teacher_id == staff_id)
        .where(col(Staff.active))
    )


def _coverage_query(year_starts: Mapping[int, date], day: date) -> Any:
    """Per school: active students visited at home (上门) this school year, and those visited
    at home or by video, each school's year starting on its own day."""
    starts = case(year_starts, value=col(Visit.school_id), else_=day + timedelta(days=1))
    home = col(Visit.form) == VisitForm.HOME
    return (
        sa_select(
            col(Visit.school_id),
            func.count(func.distinct(case((home, col(Visit.student_id))))),
            func.count(func.distinct(col(Visit.student_id))),
        )
        .join(Student, col(Student.id) == col(Visit.student_id))
        .where(
            col(Student.active),
            col(Visit.form).in_([VisitForm.HOME, VisitForm.VIDEO]),
            col(Visit.visit_date) >= min(year_starts.values()),
            col(Visit.visit_date) >= starts,
            col(Visit.visit_date) <= day,
        )
        .group_by(col(Visit.school_id))
    )


def _receipts_query(now: datetime) -> Any:
    confirmed = and_(
        col(NoticeReceipt.confirmed_at).is_not(None), col(NoticeReceipt.confirmed_at) <= now
    )
    return (
        sa_select(
            col(Notice.school_id),
            func.count(func.distinct(col(Notice.id))),
            func.count(),
            func.sum(case((confirmed, 1), else_=0)),
        )
        .join(NoticeReceipt, col(NoticeReceipt.notice_id) == col(Notice.id))
        .where(
            col(Notice.receipt_required),
            col(Notice.published_at) >= now - timedelta(days=NOTICE_DAYS),
            col(Notice.published_at) <= now,
        )
        .group_by(col(Notice.school_id))
    )


# -- the report ------------------------------------------------------------------------------------


@dataclass
class _Month:
    teachers: int = 0
    on_pace: int = 0
    visits: int = 0
    visits_met: int = 0
    visits_target: int = 0


def _teacher_month(row: Sequence[Any], span: MonthSpan, rules: SchoolRules, month: _Month) -> None:
    """Add one member of staff's month to their school's (nothing for staff without a quota)."""
    heads, teaches, coaches = (bool(v) for v in row[2:5])
    role = quota_role(head_teacher=heads, subject_teacher=teaches, coach=coaches)
    if role is None:
        return
    forms = [form.value for form in VisitForm]
    counts = {name: int(n or 0) for name, n in zip(forms, row[5 : 5 + len(forms)], strict=True)}
    routine = sum(counts[form] for form in rules.counted_forms())
    contacts = (
        int(row[-1] or 0) if rules.contacts_counted_as == "families" else sum(counts.values())
    )
    standing = month_standing(role, TeacherFacts(routine, contacts, 0), span, rules)
    if standing is None:
        return
    month.teachers += 1
    month.on_pace += not (span.in_term(span.day) and standing.behind)
    if standing.visits is not None:
        month.visits += standing.visits.done
        month.visits_met += min(standing.visits.done, standing.visits.target)
        month.visits_target += standing.visits.target


def _is_bureau(*, pupils: int, district_staff: int) -> bool:
    """The bureau's own entry (区教育局): its 区域管理员 and no student."""
    return district_staff > 0 and pupils == 0


async def district_compliance(
    session: AsyncSession,
    *,
    today: date,
    now: datetime,
    rules: SchoolRules = DEFAULT_RULES,
    rules_for: Mapping[int, SchoolRules] | None = None,
) -> DistrictReport:
    """Every school's figures for the morning of `today`, exceptions as of `now` (aware), in
    `STATEMENTS` statements; `rules_for` gives a school rules of its own (else `rules`)."""
    day = today - timedelta(days=1)
    overrides = rules_for or {}
    schools = [
        row[:-1]
        for row in await _rows(session, _schools_query(today, now))
        if not _is_bureau(pupils=int(row[4]), district_staff=int(row[-1]))
    ]
    report = DistrictReport(today=today, day=day, now=now)
    if not schools:
        return report

    terms: dict[int, list[Term]] = defaultdict(list)
    for term in (await session.exec(select(Term).order_by(col(Term.start_date)))).all():
        terms[term.school_id].append(term)
    spans = {
        int(s[0]): month_span(day, terms.get(int(s[0]), []), day_complete=True) for s in schools
    }

    months: dict[int, _Month] = defaultdict(_Month)
    for row in await _rows(session, _month_query(spans)):
        school_id = int(row[1])
        if school_id in spans:
            school_rules = overrides.get(school_id, rules)
            _teacher_month(row, spans[school_id], school_rules, months[school_id])

    year_starts = {
        int(s[0]): school_year_start(day, month=int(s[2]), start_day=int(s[3])) for s in schools
    }
    coverage: dict[int, int] = {}
    for school_id, home, home_or_video in await _rows(session, _coverage_query(year_starts, day)):
        counts_video = "video" in overrides.get(int(school_id), rules).home_forms()
        coverage[int(school_id)] = int(home_or_video if counts_video else home)

    receipts = {
        int(school_id): (int(notices), int(total), int(confirmed or 0))
        for school_id, notices, total, confirmed in await _rows(session, _receipts_query(now))
    }

    found: list[SchoolCompliance] = []
    for school_id, name, start_month, start_day, pupils, staff, duties, unreached, late in schools:
        sid = int(school_id)
        month = months[sid]
        notices, total, confirmed = receipts.get(sid, (0, 0, 0))
        found.append(
            SchoolCompliance(
                school_id=sid,
                name=str(name),
                students=int(pupils),
                staff=int(staff),
                in_term=spans[sid].term_days > 0,
                has_calendar=has_semester_in_year(
                    terms.get(sid, []), day, month=int(start_month), start_day=int(start_day)
                ),
                teachers=month.teachers,
                on_pace=month.on_pace,
                visits=month.visits,
                visits_met=month.visits_met,
                visits_target=month.visits_target,
                homes_visited=coverage.get(sid, 0),
                overdue_duties=int(duties),
                unreached_incidents=int(unreached),
                notices=notices,
                receipts=total,
                confirmed=confirmed,
                ledger_overdue=int(late),
            )
        )
    found.sort(key=lambda s: s.concern)
    return DistrictReport(today=today, day=day, now=now, schools=found)
