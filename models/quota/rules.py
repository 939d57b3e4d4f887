"""Visit quotas 家访指标 (DOMAIN.md "Quotas") as pure rules: no database, numbers from `SchoolRules`.

How the school's rules are read here, each with the seed's sentence (the tables of cases in
tests/test_quota_rules.py quote them too):

- *Routine visits* 常规家访 are "有计划地上门访问" (seed 000 §二.1): only the forms in
  `rules.routine_forms` count (default 上门家访; a school may add 家长来访 and 约访). The monthly
  10 / 3 visits and the break quotas are routine visits, in 人次 (every visit counts).
- *Video visits* 视频家访 are a parent contact by default, not a visit to the home; a school
  that counts them as 上门 (`rules.video_visit_counts_as = "home"`) has them counted wherever
  上门家访 is (`rules.counted_forms()`, `rules.home_forms()`).
- *Parent contacts* "每月与学生家长的联系不少于8人次" (§二.4, 家访、信访、电话访): every visit of any
  form counts, in 人次 (two calls to one family are two contacts).
- *遍访* "每学年对班内每一名学生遍访一次" (§三.1): the head teacher's own routine visits this school
  year; another teacher's visit or a phone call does not tick it.
- *Key visits* 重点家访 "在常规家访的基础上,每年增加1至2次家访" (§三.2): routine visits of the key
  category beyond the first routine visit of the year, so one 重点 visit alone is the routine
  visit, and a second one is the first key visit.
- *Semester contact* "每学期至少一次联系学生家长" (seed 003): every student's parents, any form,
  any teacher, within the semester `day` falls in (no rule in a break or without a calendar).
- *Months* are calendar months over their term days (days inside a semester `Term`). A school
  with no semester on record is taken to be in term every day. A month partly in a break gets a
  pro-rated target (rounded up); a month with no term day has no monthly quota; visits dated in
  a break count for the break, not for the month.
- *Pace*: the visits expected so far are the target times the share of the month's term days
  already past (before today), rounded to the nearest whole visit; fewer than that is behind
  pace. A head teacher at 4/10 on the 15th is behind (5 expected), one at 10/10 is not.
- *Breaks* apply as a whole: visits dated from the break's first to its last day.
- The winter must-visit list, the monthly contact with a left-behind child's parents and the
  semester contact look at the household: a visit by any teacher counts.
- *Newly taken over* "暑假期间,对新接班学生遍访一次" (§三.1): the students whose head teacher
  changed during the school year the summer break closes, as the roster imports recorded it
  (`models.roster.head_history`). The first import records every student as long-standing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from models.roster.tables import STUDENT_TAGS
from models.school.calendar import month_bounds
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import Term, TermKind

#: The tag of a left-behind child 留守儿童 (parents working away).
LEFT_BEHIND_TAG = "留守"
BREAK_KINDS = frozenset({TermKind.WINTER_BREAK, TermKind.SUMMER_BREAK})


class QuotaRole(StrEnum):
    """The role a person's quotas follow; a head teacher who also teaches counts as head."""

    HEAD_TEACHER = "head_teacher"
    SUBJECT_TEACHER = "subject_teacher"
    #: PE / arts / science coaches: only the parent-contact rule applies.
    COACH = "coach"


def quota_role(*, head_teacher: bool, subject_teacher: bool, coach: bool) -> QuotaRole | None:
    """None for staff with no class or group (德育处, principal, care room): no quota."""
    if head_teacher:
        return QuotaRole.HEAD_TEACHER
    if subject_teacher:
        return QuotaRole.SUBJECT_TEACHER
    if coach:
        return QuotaRole.COACH
    return None


@dataclass(frozen=True)
class Tally:
    """How many of a rule's target are done."""

    done: int
    target: int

    @property
    def met(self) -> bool:
        return self.done >= self.target

    @property
    def short(self) -> int:
        return max(0, self.target - self.done)


# -- months over term days --------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """Consecutive days, both ends included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True)
class MonthSpan:
    """`day`'s calendar month and the runs of term days inside it."""

    day: date
    first: date
    last: date
    ranges: tuple[DateRange, ...]
    #: Whether `day` itself is over (a digest about yesterday) and counts as past for the pace.
    day_complete: bool = False

    @property
    def calendar_days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def term_days(self) -> int:
        return sum(r.days for r in self.ranges)

    @property
    def elapsed(self) -> int:
        """Term days of the month before `day` (through `day` when it is complete)."""
        through = self.day if self.day_complete else self.day - timedelta(days=1)
        return sum(_clip(r, r.first, through) for r in self.ranges)

    @property
    def remaining(self) -> int:
        """Term days left in the month: from `day` on (after it, when it is complete)."""
        return self.term_days - self.elapsed

    def in_term(self, day: date) -> bool:
        return any(day in r for r in self.ranges)


def _clip(span: DateRange, first: date, last: date) -> int:
    start, end = max(span.first, first), min(span.last, last)
    return max(0, (end - start).days + 1)


def semesters(terms: Iterable[Term]) -> list[Term]:
    return sorted(
        (t for t in terms if t.kind == TermKind.SEMESTER), key=lambda t: (t.start_date, t.end_date)
    )


def month_span(day: date, terms: Sequence[Term], *, day_complete: bool = False) -> MonthSpan:
    """`day`'s month over its semester days (every day when the school has no semester on record)."""
    first, following = month_bounds(day)
    last = following - timedelta(days=1)
    known = semesters(terms)
    if not known:
        whole = (DateRange(first, last),)
        return MonthSpan(day=day, first=first, last=last, ranges=whole, day_complete=day_complete)
    runs: list[DateRange] = []
    for term in known:
        start, end = max(term.start_date, first), min(term.end_date, last)
        if start > end:
            continue
        if runs and start <= runs[-1].last + timedelta(days=1):
            runs[-1] = DateRange(runs[-1].first, max(runs[-1].last, end))
        else:
            runs.append(DateRange(start, end))
    return MonthSpan(day=day, first=first, last=last, ranges=tuple(runs), day_complete=day_complete)


def prorated(target: int, span: MonthSpan) -> int:
    """The month's target over its term days: whole in a full term month, rounded up otherwise."""
    if span.term_days >= span.calendar_days:
        return target
    return -(-target * span.term_days // span.calendar_days)


def expected_so_far(target: int, span: MonthSpan) -> int:
    """Visits expected by the start of `span.day`: the past share of term days, rounded half up."""
    if span.term_days == 0:
        return 0
    return (2 * target * span.elapsed + span.term_days) // (2 * span.term_days)


def behind_pace(done: int, target: int, span: MonthSpan) -> bool:
    return done < expected_so_far(target, span)


def monthly_visit_target(role: QuotaRole, rules: SchoolRules = DEFAULT_RULES) -> int | None:
    """Visits a month for the role (None: the role has no visit quota, only parent contacts)."""
    if role == QuotaRole.HEAD_TEACHER:
        return rules.monthly_visits_head_teacher
    if role == QuotaRole.SUBJECT_TEACHER:
        return rules.monthly_visits_subject_teacher
    return None


def month_end_reminder_day(day: date, rules: SchoolRules = DEFAULT_RULES) -> date:
    """The day the month-end reminder goes out: `month_end_days_before` before the last day."""
    _, following = month_bounds(day)
    return following - timedelta(days=1 + rules.month_end_days_before)


# -- breaks -----------------------------------------------------------------------------------


def break_on(day: date, terms: Iterable[Term]) -> Term | None:
    """The winter or summer break `day` falls in."""
    for term in terms:
        if term.kind in BREAK_KINDS and term.start_date <= day <= term.end_date:
            return term
    return None


def break_starting(day: date, terms: Iterable[Term]) -> Term | None:
    """The winter or summer break whose first day is `day`."""
    found = break_on(day, terms)
    return found if found is not None and found.start_date == day else None


def break_visit_target(
    role: QuotaRole, kind: TermKind, rules: SchoolRules = DEFAULT_RULES
) -> int | None:
    """Visits over the whole break; None when the role's break rule is not a count.

    A head teacher's summer rule is a list (every newly taken-over student once), a coach has no
    break quota.
    """
    table: dict[tuple[QuotaRole, TermKind], int] = {
        (QuotaRole.HEAD_TEACHER, TermKind.WINTER_BREAK): rules.winter_visits_head_teacher,
        (QuotaRole.SUBJECT_TEACHER, TermKind.WINTER_BREAK): rules.winter_visits_subject_teacher,
        (QuotaRole.SUBJECT_TEACHER, TermKind.SUMMER_BREAK): rules.summer_visits_subject_teacher,
    }
    return table.get((role, kind))


def must_visit_rule(role: QuotaRole, kind: TermKind) -> bool:
    """Whether the role has a list of students to visit in this break (head teachers only)."""
    return role == QuotaRole.HEAD_TEACHER and kind in BREAK_KINDS


# -- students ---------------------------------------------------------------------------------


def is_special(tags: Iterable[str]) -> bool:
    """A special-type student 特殊类型学生: any of the known tags, 留守 included (seed 003)."""
    return any(tag in STUDENT_TAGS for tag in tags)


def home_percent(visited: int, students: int) -> int | None:
    """入户率 in whole percent: students whose homes were visited this school year, of all
    (None for a class without students)."""
    if students <= 0:
        return None
    return round(100 * visited / students)


def is_left_behind(tags: Iterable[str]) -> bool:
    return LEFT_BEHIND_TAG in tags


def key_visits_done(*, key_routine: int, routine: int) -> int:
    """Key visits beyond the routine one: of `routine` routine visits this year, `key_routine`
    of the key category; the year's first routine visit is the routine one, whatever its
    category (在常规家访的基础上, 每年增加1至2次)."""
    return max(0, min(key_routine, routine - 1))


def key_visits_met(key_visits: int, rules: SchoolRules = DEFAULT_RULES) -> bool:
    """A special-type student has had the year's minimum of key visits."""
    return key_visits >= rules.key_visits_min


def newly_taken_over(head_since: date | None, year_start: date) -> bool:
    """Whether the student's head teacher took them over in the school year starting on
    `year_start` (None: long-standing, as the first roster import records everyone)."""
    return head_since is not None and head_since >= year_start


def must_visit_in_break(kind: TermKind, *, tags: Iterable[str], taken_over: bool) -> bool:
    """Whether a student of a head teacher's class is on that break's must-visit list.

    Winter: every special-type student 必访. Summer: every newly taken-over student.
    """
    if kind == TermKind.WINTER_BREAK:
        return is_special(tags)
    if kind == TermKind.SUMMER_BREAK:
        return taken_over
    return False


def semester_on(day: date, terms: Iterable[Term]) -> Term | None:
    """The semester `day` falls in."""
    for term in terms:
        if term.kind == TermKind.SEMESTER and term.start_date <= day <= term.end_date:
            return term
    return None


def semester_midpoint(term: Term) -> date:
    """The semester's middle day (the earlier of two): the day the semester's survey and parent
    meeting rules are checked (seed 000 §二.5–6: by then a class should have its meetings planned
    and the school its survey under way)."""
    return term.start_date + timedelta(days=(term.end_date - term.start_date).days // 2)
