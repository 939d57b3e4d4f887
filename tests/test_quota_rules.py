"""The quota rules as pure functions (models/quota/rules.py): tables of cases, no database."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.settings import Settings
from models.quota.rules import (
    MonthSpan,
    QuotaRole,
    Tally,
    behind_pace,
    break_on,
    break_starting,
    break_visit_target,
    expected_so_far,
    is_left_behind,
    is_special,
    key_visits_done,
    key_visits_met,
    month_end_reminder_day,
    month_span,
    monthly_visit_target,
    must_visit_in_break,
    newly_taken_over,
    prorated,
    quota_role,
    semester_midpoint,
)
from models.school.rules import SchoolRules
from models.school.tables import Term, TermKind

HEAD, SUBJECT, COACH = QuotaRole.HEAD_TEACHER, QuotaRole.SUBJECT_TEACHER, QuotaRole.COACH
WINTER, SUMMER = TermKind.WINTER_BREAK, TermKind.SUMMER_BREAK


def _term(kind: TermKind, first: date, last: date) -> Term:
    return Term(school_id=1, kind=kind, name=kind.value, start_date=first, end_date=last)


#: The demo school's year 2026-2027.
CALENDAR = [
    _term(TermKind.SEMESTER, date(2026, 9, 1), date(2027, 1, 22)),
    _term(WINTER, date(2027, 1, 23), date(2027, 2, 22)),
    _term(TermKind.SEMESTER, date(2027, 2, 23), date(2027, 7, 3)),
    _term(SUMMER, date(2027, 7, 4), date(2027, 8, 31)),
]


@pytest.mark.parametrize(
    ("head", "subject", "coach", "role"),
    [
        (True, False, False, HEAD),
        (True, True, False, HEAD),
        (False, True, True, SUBJECT),
        (False, False, True, COACH),
        (False, False, False, None),
    ],
)
def test_the_role_quotas_follow_puts_head_teacher_first(
    head: bool, subject: bool, coach: bool, role: QuotaRole | None
) -> None:
    assert quota_role(head_teacher=head, subject_teacher=subject, coach=coach) == role


@pytest.mark.parametrize(("role", "target"), [(HEAD, 10), (SUBJECT, 3), (COACH, None)])
def test_monthly_visit_target_by_role(role: QuotaRole, target: int | None) -> None:
    assert monthly_visit_target(role) == target


def test_monthly_targets_come_from_the_schools_rules() -> None:
    rules = SchoolRules(
        monthly_visits_head_teacher=12, monthly_visits_subject_teacher=4, monthly_parent_contacts=9
    )
    assert monthly_visit_target(HEAD, rules) == 12
    assert monthly_visit_target(SUBJECT, rules) == 4


@pytest.mark.parametrize(
    ("day", "terms", "term_days", "elapsed"),
    [
        # No calendar on record: every day is term time.
        (date(2026, 11, 16), [], 30, 15),
        (date(2026, 11, 16), CALENDAR, 30, 15),
        # January: the semester ends on the 22nd, the winter break follows.
        (date(2027, 1, 10), CALENDAR, 22, 9),
        (date(2027, 1, 28), CALENDAR, 22, 22),
        # February: term from the 23rd.
        (date(2027, 2, 1), CALENDAR, 6, 0),
        (date(2027, 2, 25), CALENDAR, 6, 2),
        # August: all break.
        (date(2027, 8, 10), CALENDAR, 0, 0),
    ],
)
def test_a_month_is_counted_over_its_term_days(
    day: date, terms: list[Term], term_days: int, elapsed: int
) -> None:
    span = month_span(day, terms)
    assert (span.term_days, span.elapsed, span.remaining) == (
        term_days,
        elapsed,
        term_days - elapsed,
    )


def test_a_complete_day_counts_as_past() -> None:
    span = month_span(date(2026, 11, 16), [], day_complete=True)
    assert (span.elapsed, span.remaining) == (16, 14)


@pytest.mark.parametrize(
    ("day", "target", "expected"),
    [
        (date(2026, 11, 16), 10, 10),  # a whole term month
        (date(2027, 1, 10), 10, 8),  # 22 of 31 days: 7.1, rounded up
        (date(2027, 2, 25), 10, 3),  # 6 of 28 days: 2.1, rounded up
        (date(2027, 2, 25), 8, 2),  # 1.7, rounded up
        (date(2027, 8, 10), 10, 0),  # no term day
    ],
)
def test_a_month_partly_in_a_break_has_a_pro_rated_target(
    day: date, target: int, expected: int
) -> None:
    assert prorated(target, month_span(day, CALENDAR)) == expected


def _span(day: date) -> MonthSpan:
    return month_span(day, [])


@pytest.mark.parametrize(
    ("done", "day", "behind"),
    [
        # The cases: a head teacher at 4/10 on the 15th is behind, at 10/10 is not.
        (4, date(2026, 11, 15), True),
        (10, date(2026, 11, 15), False),
        (4, date(2027, 3, 15), True),  # a 31-day month
        (5, date(2026, 11, 15), False),  # 14 of 30 days past: 4.7, rounded to 5
        (4, date(2026, 11, 16), True),
        (0, date(2026, 11, 1), False),  # nothing is due on the first morning
        (0, date(2026, 11, 2), False),  # one day past: 0.3, rounded to 0
        (0, date(2026, 11, 3), True),
        (9, date(2026, 11, 30), True),
    ],
)
def test_pace_asks_for_the_past_share_of_the_month(done: int, day: date, behind: bool) -> None:
    assert behind_pace(done, 10, _span(day)) is behind


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 23), 10),  # the semester is over: the whole (pro-rated) target
        (date(2027, 2, 1), 0),  # the term has not begun
        (date(2027, 2, 26), 5),  # 3 of 6 term days past, of a target of 10
    ],
)
def test_pace_counts_only_term_days(day: date, expected: int) -> None:
    assert expected_so_far(10, month_span(day, CALENDAR)) == expected


@pytest.mark.parametrize(
    ("role", "kind", "target"),
    [
        (HEAD, WINTER, 6),
        (SUBJECT, WINTER, 4),
        (SUBJECT, SUMMER, 6),
        (HEAD, SUMMER, None),  # every newly taken-over student instead
        (COACH, WINTER, None),
        (COACH, SUMMER, None),
    ],
)
def test_break_quotas_by_role(role: QuotaRole, kind: TermKind, target: int | None) -> None:
    assert break_visit_target(role, kind) == target


def test_break_quotas_come_from_the_schools_rules() -> None:
    rules = SchoolRules(winter_visits_head_teacher=8, summer_visits_subject_teacher=5)
    assert break_visit_target(HEAD, WINTER, rules) == 8
    assert break_visit_target(SUBJECT, SUMMER, rules) == 5


@pytest.mark.parametrize(
    ("day", "on", "starting"),
    [
        (date(2027, 1, 22), None, None),
        (date(2027, 1, 23), WINTER, WINTER),
        (date(2027, 2, 1), WINTER, None),
        (date(2027, 7, 4), SUMMER, SUMMER),
        (date(2027, 8, 31), SUMMER, None),
        (date(2027, 9, 1), None, None),
    ],
)
def test_breaks_are_found_by_their_dates(
    day: date, on: TermKind | None, starting: TermKind | None
) -> None:
    found, first = break_on(day, CALENDAR), break_starting(day, CALENDAR)
    assert (found.kind if found else None, first.kind if first else None) == (on, starting)


@pytest.mark.parametrize(
    ("day", "reminder"),
    [
        (date(2026, 11, 5), date(2026, 11, 27)),
        (date(2026, 12, 31), date(2026, 12, 28)),
        (date(2027, 2, 1), date(2027, 2, 25)),
    ],
)
def test_the_month_end_reminder_goes_out_three_days_before_the_last_day(
    day: date, reminder: date
) -> None:
    assert month_end_reminder_day(day) == reminder


@pytest.mark.parametrize(
    ("tags", "special", "left_behind"),
    [
        ([], False, False),
        (["贫困"], True, False),
        (["单亲", "留守"], True, True),
        (["留守"], True, True),
        (["unknown"], False, False),
    ],
)
def test_special_type_and_left_behind_students_are_known_by_their_tags(
    tags: list[str], special: bool, left_behind: bool
) -> None:
    assert (is_special(tags), is_left_behind(tags)) == (special, left_behind)


@pytest.mark.parametrize(
    ("kind", "tags", "taken_over", "listed"),
    [
        # "重点家访……寒假期间为必访对象" (seed 000 §三.2): every special-type student in winter.
        (WINTER, ["孤儿"], False, True),
        (WINTER, [], True, False),
        # "暑假期间,对新接班学生遍访一次" (§三.1): newly taken over, whatever their tags.
        (SUMMER, [], True, True),
        (SUMMER, ["孤儿"], False, False),
        (TermKind.SEMESTER, ["孤儿"], True, False),
    ],
)
def test_the_must_visit_list_of_a_break(
    kind: TermKind, tags: list[str], taken_over: bool, listed: bool
) -> None:
    assert must_visit_in_break(kind, tags=tags, taken_over=taken_over) is listed


@pytest.mark.parametrize(
    ("since", "taken_over"),
    [
        (None, False),  # recorded by the school's first import: long-standing
        (date(2026, 8, 31), False),  # became head before this school year
        (date(2026, 9, 1), True),
        (date(2027, 3, 2), True),  # a head teacher changed mid-year
        (date(2027, 7, 10), True),  # next year's roster imported in the summer
    ],
)
def test_newly_taken_over_means_the_head_teacher_changed_this_school_year(
    since: date | None, taken_over: bool
) -> None:
    """ "暑假期间,对新接班学生遍访一次" (seed 000 §三.1), for the school year from 1 Sep 2026."""
    assert newly_taken_over(since, date(2026, 9, 1)) is taken_over


@pytest.mark.parametrize(
    ("key_routine", "routine", "done"),
    [
        (0, 0, 0),
        (1, 1, 0),  # one 重点 visit alone is the year's routine visit
        (0, 1, 0),
        (1, 2, 1),  # a routine visit, then a key one: one key visit
        (2, 2, 1),  # two key visits: the first is the routine one
        (2, 3, 2),
        (1, 5, 1),  # routine visits of the routine category do not add key visits
    ],
)
def test_key_visits_are_counted_beyond_the_routine_visit(
    key_routine: int, routine: int, done: int
) -> None:
    """ "班主任对每一名特殊类型学生在常规家访的基础上,每年增加1至2次家访" (seed 000 §三.2)."""
    assert key_visits_done(key_routine=key_routine, routine=routine) == done


@pytest.mark.parametrize(("key_visits", "met"), [(0, False), (1, True), (2, True)])
def test_a_special_type_student_needs_one_key_visit_a_year(key_visits: int, met: bool) -> None:
    assert key_visits_met(key_visits) is met


def test_a_tally_knows_what_is_short() -> None:
    assert (Tally(4, 10).met, Tally(4, 10).short) == (False, 6)
    assert (Tally(11, 10).met, Tally(11, 10).short) == (True, 0)


def test_a_school_sets_its_quotas_and_reminder_times_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RULES__MONTHLY_VISITS_HEAD_TEACHER", "12")
    monkeypatch.setenv("RULES__WEEKLY_NUDGE_DAY", "fri")
    monkeypatch.setenv("RULES__BREAK_START_TIME", "09:30")
    rules = Settings(_env_file=None).rules
    assert (rules.monthly_visits_head_teacher, rules.monthly_visits_subject_teacher) == (12, 3)
    assert (rules.weekly_nudge_day, rules.break_start_time) == ("fri", time(9, 30))


@pytest.mark.parametrize(
    ("start", "end", "middle"),
    [
        (date(2026, 9, 1), date(2027, 1, 20), date(2026, 11, 10)),
        (date(2027, 2, 20), date(2027, 7, 10), date(2027, 5, 1)),
        (date(2026, 9, 1), date(2026, 9, 2), date(2026, 9, 1)),
        (date(2026, 9, 1), date(2026, 9, 1), date(2026, 9, 1)),
    ],
)
def test_a_semesters_midpoint_is_its_middle_day(start: date, end: date, middle: date) -> None:
    term = Term(school_id=1, kind=TermKind.SEMESTER, name="学期", start_date=start, end_date=end)
    assert semester_midpoint(term) == middle
