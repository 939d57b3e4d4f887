"""A campaign's coverage 入户率, its double visits and the left-behind households' monthly
contact (pure rules over plain visits; seed 003: 确保不漏访，不重复访).

- *Counted visits*: those dated within the campaign, of a form its rule counts
  (`counted_visits`); a household is visited once it has one, however many it has.
- *入户率*: households visited / households, per class (a household with children in two classes
  is a household of each), per grade and for the school (each household once), in whole percent
  as `models.quota.rules.home_percent` rounds it.
- *Double visits*: visits in order of date, then of logging (visit id); a household's first
  visitor is the teacher of its first counted visit. A later visit by another teacher is a double
  visit 重复走访 (the household is still counted once); the first visitor's own later visits are
  second visits, not doubles.
- *Before saving* a visit (`cautions`): a teacher is told when another teacher visited the
  household first in the campaign (`已由李强老师于11月3日家访过，仍要记录吗？`), and when the
  household is assigned to a colleague (`这一家由王芳老师包保。`).
- *Left-behind households* 留守: contacted this calendar month when any teacher has a visit of
  any form dated in it; those not yet contacted are reminded to their responsible teacher on
  the first day of the month's last seven days (`left_behind_reminder_day`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from models.campaigns.assignment import Assignment, CampaignClass
from models.campaigns.rules import CampaignSpec, counts_for_campaign
from models.families.households import Household
from models.quota.rules import home_percent
from models.school.calendar import month_bounds
from models.text import N_


@dataclass(frozen=True)
class CampaignVisit:
    #: Logging order breaks ties between visits of one day.
    visit_id: int
    #: The household's key (`Household.key`).
    household: int
    teacher_id: int
    visit_date: date
    form: str


@dataclass(frozen=True)
class Rate:
    visited: int
    households: int

    @property
    def percent(self) -> int | None:
        """Whole percent; None with no household."""
        return home_percent(self.visited, self.households)


@dataclass(frozen=True)
class Coverage:
    per_class: dict[int, Rate]
    per_grade: dict[int, Rate]
    school: Rate


def household_keys(households: Iterable[Household]) -> dict[int, int]:
    """Student id → the key of the student's household."""
    return {child.student_id: h.key for h in households for child in h.children}


def _ordered(visits: Iterable[CampaignVisit]) -> list[CampaignVisit]:
    return sorted(visits, key=lambda v: (v.visit_date, v.visit_id))


def counted_visits(
    visits: Iterable[CampaignVisit], spec: CampaignSpec, home_forms: Iterable[str]
) -> list[CampaignVisit]:
    """The visits that count for the campaign, in order (see the module's docstring)."""
    forms = tuple(home_forms)
    return _ordered(
        v
        for v in visits
        if spec.runs_on(v.visit_date) and counts_for_campaign(v.form, spec.visit_rule, forms)
    )


def coverage(
    households: Iterable[Household],
    classes: Sequence[CampaignClass],
    visits: Iterable[CampaignVisit],
) -> Coverage:
    """入户率 of the campaign's classes, their grades and the school, from counted visits.
    Children outside `classes` are ignored; a class with no household is 0 / 0."""
    visited = {v.household for v in visits}
    grade_of = {k.class_id: k.grade for k in classes}
    in_class: dict[int, set[int]] = {k.class_id: set() for k in classes}
    in_grade: dict[int, set[int]] = {k.grade: set() for k in classes}
    everyone: set[int] = set()
    for household in households:
        for child in household.children:
            if child.class_id in grade_of:
                in_class[child.class_id].add(household.key)
                in_grade[grade_of[child.class_id]].add(household.key)
                everyone.add(household.key)

    def rate(keys: set[int]) -> Rate:
        return Rate(len(keys & visited), len(keys))

    return Coverage(
        per_class={c: rate(keys) for c, keys in in_class.items()},
        per_grade={g: rate(keys) for g, keys in sorted(in_grade.items())},
        school=rate(everyone),
    )


def first_visit_of(household: int, visits: Iterable[CampaignVisit]) -> CampaignVisit | None:
    """The household's first counted visit (who and when), None before any."""
    return next((v for v in _ordered(visits) if v.household == household), None)


@dataclass(frozen=True)
class DoubleVisit:
    visit: CampaignVisit
    #: The household's first visit, by another teacher.
    first: CampaignVisit


def double_visits(visits: Iterable[CampaignVisit]) -> list[DoubleVisit]:
    """Visits to a household another teacher visited first, in order."""
    first: dict[int, CampaignVisit] = {}
    doubles: list[DoubleVisit] = []
    for visit in _ordered(visits):
        earlier = first.setdefault(visit.household, visit)
        if earlier.teacher_id != visit.teacher_id:
            doubles.append(DoubleVisit(visit, earlier))
    return doubles


def teacher_progress(assignment: Assignment, visits: Iterable[CampaignVisit]) -> dict[int, Rate]:
    """Per responsible teacher: their households they have visited themselves / assigned to
    them (a colleague's visit covers the household for 入户率 but is not the teacher's work)."""
    own = {(v.teacher_id, v.household) for v in visits}
    progress: dict[int, Rate] = {}
    for item in assignment.responsible:
        before = progress.get(item.teacher_id, Rate(0, 0))
        done = (item.teacher_id, item.household) in own
        progress[item.teacher_id] = Rate(before.visited + done, before.households + 1)
    return progress


@dataclass(frozen=True)
class Caution:
    """Told to a teacher before a visit is saved; `message` is a msgid."""

    message: str
    params: dict[str, object]


def cautions(
    household: int,
    teacher_id: int,
    visits: Iterable[CampaignVisit],
    *,
    responsible: int | None,
    names: Mapping[int, str],
) -> list[Caution]:
    """What to tell `teacher_id` before saving a visit to `household` (counted visits of the
    campaign so far; `names`: staff id → name)."""
    found: list[Caution] = []
    first = first_visit_of(household, visits)
    if first is not None and first.teacher_id != teacher_id:
        found.append(
            Caution(
                N_("已由{teacher}老师于{month}月{day}日家访过，仍要记录吗？"),
                {
                    "teacher": names.get(first.teacher_id, ""),
                    "month": first.visit_date.month,
                    "day": first.visit_date.day,
                },
            )
        )
    if responsible is not None and responsible != teacher_id:
        found.append(
            Caution(N_("这一家由{teacher}老师包保。"), {"teacher": names.get(responsible, "")})
        )
    return found


def left_behind_contacts(
    households: Collection[int], visits: Iterable[CampaignVisit], month: date
) -> dict[int, bool]:
    """Per left-behind household: contacted in `month`'s calendar month (any form, any
    teacher)."""
    first, following = month_bounds(month)
    reached = {v.household for v in visits if first <= v.visit_date < following}
    return {key: key in reached for key in sorted(households)}


def left_behind_reminder_day(month: date) -> date:
    """The first day of the month's last seven days: the reminder about the left-behind
    households not yet contacted this month goes out then."""
    _first, following = month_bounds(month)
    return following - timedelta(days=7)


def left_behind_reminders(
    households: Collection[int],
    visits: Iterable[CampaignVisit],
    assignment: Assignment,
    today: date,
) -> dict[int, list[int]]:
    """On the reminder day: responsible teacher → their left-behind households not contacted
    this month (empty on other days, and for households with no responsible teacher)."""
    if today != left_behind_reminder_day(today):
        return {}
    due: dict[int, list[int]] = {}
    for key, contacted in left_behind_contacts(households, visits, today).items():
        teacher = assignment.teacher_of(key)
        if not contacted and teacher is not None:
            due.setdefault(teacher, []).append(key)
    return due
