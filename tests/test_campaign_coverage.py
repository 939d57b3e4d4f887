"""A campaign's 入户率, double visits, cautions before saving and the left-behind households'
monthly contact (models/campaigns/coverage.py), against figures counted by hand on the school of
tests/helpers/campaigns.py.

Households per class: 三(1)班 {2, 3, 4}; 三(2)班 {1, 5, 6, 7, 10}; 四(1)班 {1, 8, 9} (household 1 is
张小明 in 三(2)班 and 张小红 in 四(1)班). Grade 三: 8 households, grade 四: 3, school: 10.
"""

from __future__ import annotations

from datetime import date

import pytest

from models.campaigns.assignment import generate_assignment
from models.campaigns.coverage import (
    CampaignVisit,
    Caution,
    Rate,
    cautions,
    counted_visits,
    coverage,
    double_visits,
    first_visit_of,
    household_keys,
    left_behind_contacts,
    left_behind_reminder_day,
    left_behind_reminders,
    teacher_progress,
)
from models.campaigns.rules import VisitRule, check_campaign
from tests.helpers.campaigns import CLASSES, HEADS, HOUSEHOLDS, TEACHES

CAMPAIGN = check_campaign("秋季大走访", date(2026, 11, 1), date(2026, 11, 30))
NAMES = {1: "王芳", 2: "李强", 4: "钱进", 5: "孙丽"}


def visit(
    visit_id: int, household: int, teacher: int, day: date, form: str = "home"
) -> CampaignVisit:
    return CampaignVisit(visit_id, household, teacher, day, form)


VISITS = [
    visit(1, 2, 4, date(2026, 11, 3)),
    visit(2, 2, 4, date(2026, 11, 10)),  # 钱进 again: a second visit
    visit(3, 1, 1, date(2026, 11, 3)),
    visit(4, 1, 5, date(2026, 11, 5)),  # 孙丽 after 王芳: a double
    visit(5, 5, 1, date(2026, 11, 4), "phone"),  # not in person
    visit(6, 6, 1, date(2026, 10, 30)),  # before the campaign
    visit(7, 8, 5, date(2026, 11, 30)),  # its last day
    visit(8, 9, 5, date(2026, 12, 1)),  # after it
    visit(9, 7, 2, date(2026, 11, 5)),
    visit(10, 7, 1, date(2026, 11, 5)),  # the same day, logged after 李强's: a double
]
COUNTED = counted_visits(VISITS, CAMPAIGN, ("home",))
ASSIGNMENT = generate_assignment(CLASSES, HOUSEHOLDS, TEACHES, HEADS)


def test_only_visits_within_the_campaign_and_of_a_counted_form_count() -> None:
    assert [v.visit_id for v in COUNTED] == [1, 3, 4, 9, 10, 2, 7]


@pytest.mark.parametrize(
    ("rule", "per_class", "per_grade", "school"),
    [
        (
            VisitRule.IN_PERSON,
            {31: Rate(1, 3), 32: Rate(2, 5), 41: Rate(2, 3)},
            {3: Rate(3, 8), 4: Rate(2, 3)},
            Rate(4, 10),
        ),
        (
            VisitRule.ANY_FORM,
            {31: Rate(1, 3), 32: Rate(3, 5), 41: Rate(2, 3)},
            {3: Rate(4, 8), 4: Rate(2, 3)},
            Rate(5, 10),
        ),
    ],
)
def test_coverage_counts_each_household_once_per_class_grade_and_school(
    rule: VisitRule, per_class: dict[int, Rate], per_grade: dict[int, Rate], school: Rate
) -> None:
    spec = check_campaign("秋季大走访", date(2026, 11, 1), date(2026, 11, 30), visit_rule=rule)
    found = coverage(HOUSEHOLDS, CLASSES, counted_visits(VISITS, spec, ("home",)))
    assert (found.per_class, found.per_grade, found.school) == (per_class, per_grade, school)


@pytest.mark.parametrize(
    ("rate", "percent"),
    [(Rate(1, 3), 33), (Rate(2, 3), 67), (Rate(3, 8), 38), (Rate(4, 10), 40), (Rate(0, 0), None)],
)
def test_a_rate_is_shown_in_whole_percent(rate: Rate, percent: int | None) -> None:
    assert rate.percent == percent


def test_a_class_with_no_household_is_zero_of_zero() -> None:
    found = coverage([], CLASSES[:1], COUNTED)
    assert found.per_class == {31: Rate(0, 0)} and found.school == Rate(0, 0)


def test_a_household_visited_by_another_teacher_first_is_a_double_the_same_teacher_is_not() -> None:
    assert [(d.visit.visit_id, d.first.visit_id) for d in double_visits(COUNTED)] == [
        (4, 3),
        (10, 9),
    ]


def test_the_first_visitors_return_after_a_double_is_still_not_a_double() -> None:
    visits = [*COUNTED, visit(11, 1, 1, date(2026, 11, 20))]
    assert [d.visit.visit_id for d in double_visits(visits)] == [4, 10]


@pytest.mark.parametrize(("household", "first"), [(1, 3), (7, 9), (2, 1), (3, None)])
def test_the_first_visit_of_a_household_says_who_and_when(
    household: int, first: int | None
) -> None:
    found = first_visit_of(household, COUNTED)
    assert (found.visit_id if found else None) == first


SEEN_BY_WANG = Caution(
    "已由{teacher}老师于{month}月{day}日家访过，仍要记录吗？",
    {"teacher": "王芳", "month": 11, "day": 3},
)


@pytest.mark.parametrize(
    ("household", "teacher", "expected"),
    [
        (1, 5, [SEEN_BY_WANG]),
        (1, 2, [SEEN_BY_WANG, Caution("这一家由{teacher}老师包保。", {"teacher": "孙丽"})]),
        (1, 1, [Caution("这一家由{teacher}老师包保。", {"teacher": "孙丽"})]),
        (3, 4, []),
        (2, 4, []),
    ],
    ids=[
        "visited first by a colleague",
        "and assigned to another",
        "the first visitor",
        "nothing",
        "own second",
    ],
)
def test_a_teacher_is_cautioned_before_saving_a_visit(
    household: int, teacher: int, expected: list[Caution]
) -> None:
    found = cautions(
        household, teacher, COUNTED, responsible=ASSIGNMENT.teacher_of(household), names=NAMES
    )
    assert found == expected
    if found:
        assert found[0].message.format(**found[0].params) in {
            "已由王芳老师于11月3日家访过，仍要记录吗？",
            "这一家由孙丽老师包保。",
        }


def test_each_teachers_progress_counts_their_own_visits_to_their_households() -> None:
    assert teacher_progress(ASSIGNMENT, COUNTED) == {
        1: Rate(0, 2),  # households 5 (a phone call) and 6 (before the campaign)
        2: Rate(1, 3),  # 4, 7 (visited), 10
        4: Rate(1, 2),  # 2 (visited), 3
        5: Rate(2, 3),  # 1 and 8 visited, 9 after the campaign
    }


def test_household_keys_map_siblings_to_one_household() -> None:
    keys = household_keys(HOUSEHOLDS)
    assert keys[201] == keys[301] == 1 and keys[202] == 5 and 205 not in keys


@pytest.mark.parametrize(
    ("month", "contacted"),
    [(date(2026, 11, 15), {3: False, 8: True}), (date(2026, 12, 1), {3: False, 8: False})],
)
def test_a_left_behind_household_is_contacted_by_any_visit_in_the_month(
    month: date, contacted: dict[int, bool]
) -> None:
    assert left_behind_contacts({8, 3}, VISITS, month) == contacted


def test_a_phone_call_is_a_left_behind_contact() -> None:
    assert left_behind_contacts({5}, VISITS, date(2026, 11, 1)) == {5: True}


@pytest.mark.parametrize(
    ("month", "day"),
    [
        (date(2026, 11, 3), date(2026, 11, 24)),
        (date(2027, 2, 1), date(2027, 2, 22)),
        (date(2028, 2, 1), date(2028, 2, 23)),
        (date(2026, 12, 31), date(2026, 12, 25)),
    ],
)
def test_the_left_behind_reminder_goes_out_as_the_months_last_week_begins(
    month: date, day: date
) -> None:
    assert left_behind_reminder_day(month) == day


@pytest.mark.parametrize(
    ("today", "reminders"),
    [(date(2026, 11, 24), {4: [3]}), (date(2026, 11, 23), {}), (date(2026, 11, 25), {})],
)
def test_responsible_teachers_are_reminded_of_left_behind_households_not_contacted(
    today: date, reminders: dict[int, list[int]]
) -> None:
    assert left_behind_reminders({3, 8}, VISITS, ASSIGNMENT, today) == reminders
