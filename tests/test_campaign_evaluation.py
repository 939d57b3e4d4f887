"""A teacher's semester figures and evaluation score (models/campaigns/evaluation.py), against a
fixture semester computed by hand: months met and missed, a winter break, late records and
immediate-visit duties on time, late, missed and pending."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest

from models.campaigns.evaluation import (
    DutyOutcome,
    DutyRecord,
    FiledVisit,
    MonthCount,
    Part,
    TeacherInputs,
    duty_figures,
    duty_outcome,
    evaluate,
    median,
    round_half_up,
)
from models.quota.rules import Tally
from models.school.rules import EvaluationWeights, SchoolRules

END = datetime(2027, 1, 22, 23, 59, tzinfo=UTC)
SEMESTER = [
    date(2026, 9, 1),
    date(2026, 10, 1),
    date(2026, 11, 1),
    date(2026, 12, 1),
    date(2027, 1, 1),
]


def at(month: int, day: int, hour: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def months(pairs: list[tuple[int, int]]) -> tuple[MonthCount, ...]:
    return tuple(
        MonthCount(m, done, target) for m, (done, target) in zip(SEMESTER, pairs, strict=True)
    )


DUTIES = (
    DutyRecord(at(10, 1, 10), at(10, 1, 9)),  # on time
    DutyRecord(at(10, 10, 10), at(10, 11, 10)),  # a day late
    DutyRecord(at(11, 5, 10), at(11, 5, 16)),  # six hours late
    DutyRecord(at(12, 1, 10)),  # missed
    DutyRecord(at(1, 30, 10, 2027)),  # not yet due at the semester's end: pending
    DutyRecord(at(12, 20, 10), at(12, 20, 10)),  # done at the due time: on time
)
#: Days between visit and logging: 0 1 3 4 7 0 0 2 10 3 — three over 3 days (4, 7, 10).
FILED = tuple(
    FiledVisit(date(2026, 10, 1), date(2026, 10, 1) + timedelta(days=d))
    for d in (0, 1, 3, 4, 7, 0, 0, 2, 10, 3)
)
HEAD_TEACHER = TeacherInputs(
    routine=months([(10, 10), (8, 10), (12, 10), (5, 10), (3, 6)]),  # 1 .8 1 .5 .5 → .76
    contacts=months([(8, 8), (10, 8), (6, 8), (8, 8), (2, 4)]),  # 1 1 .75 1 .5 → .85
    key_visits=Tally(3, 4),  # .75
    break_visits=Tally(4, 6),  # 2/3
    duties=DUTIES,  # (2 + ½·2) / 5 = .6
    filed=FILED,  # 7/10
    class_coverage=Tally(36, 40),  # .9
    campaign=Tally(9, 10),  # .9
    ledger=Tally(3, 4),  # .75
)


def test_the_head_teachers_semester_is_scored_as_computed_by_hand() -> None:
    found = evaluate(HEAD_TEACHER, as_of=END, late_days=3)
    assert found.parts == {
        Part.ROUTINE_VISITS: Fraction(76, 100),
        Part.PARENT_CONTACTS: Fraction(85, 100),
        Part.KEY_VISITS: Fraction(3, 4),
        Part.BREAK_VISITS: Fraction(2, 3),
        Part.DUTIES: Fraction(3, 5),
        Part.RECORDS_ON_TIME: Fraction(7, 10),
        Part.CLASS_COVERAGE: Fraction(9, 10),
        Part.CAMPAIGN: Fraction(9, 10),
        Part.LEDGER: Fraction(3, 4),
    }
    # 20·.76 + 15·.85 + 10·.75 + 10·⅔ + 15·.6 + 10·.7 + 10·.9 + 5·.9 + 5·.75 = 75.3667 (of 100)
    assert found.score == 75.4
    assert (found.late_records, found.records) == (3, 10)
    assert found.months_met(Part.ROUTINE_VISITS) == Tally(2, 5)
    assert found.months_met(Part.PARENT_CONTACTS) == Tally(3, 5)


def test_the_duties_are_on_time_late_missed_or_pending_with_the_median_delay() -> None:
    figures = duty_figures(DUTIES, END)
    assert (figures.on_time, figures.late, figures.missed, figures.pending) == (2, 2, 1, 1)
    assert figures.median_delay == timedelta(hours=15)  # (24 h + 6 h) / 2


@pytest.mark.parametrize(
    ("duty", "outcome"),
    [
        (DutyRecord(at(10, 1, 10), at(10, 1, 10)), DutyOutcome.ON_TIME),
        (DutyRecord(at(10, 1, 10), at(10, 1, 11)), DutyOutcome.LATE),
        (DutyRecord(at(10, 1, 10)), DutyOutcome.MISSED),
        (DutyRecord(END), DutyOutcome.PENDING),
        (DutyRecord(END - timedelta(minutes=1)), DutyOutcome.MISSED),
    ],
    ids=["at the due time", "an hour late", "never done", "due at the end", "due just before"],
)
def test_a_duty_is_judged_at_its_due_time(duty: DutyRecord, outcome: DutyOutcome) -> None:
    assert duty_outcome(duty, END) is outcome


@pytest.mark.parametrize(
    ("hours", "expected"),
    [([], None), ([5], 5), ([9, 1, 5], 5), ([1, 2, 10, 30], 6)],
)
def test_the_median_delay_is_the_middle_one_or_the_mean_of_two(
    hours: list[int], expected: int | None
) -> None:
    found = median([timedelta(hours=h) for h in hours])
    assert found == (timedelta(hours=expected) if expected is not None else None)


@pytest.mark.parametrize(("late_days", "late"), [(3, 3), (7, 1), (0, 7), (10, 0)])
def test_records_are_late_when_logged_more_than_the_settings_days_after(
    late_days: int, late: int
) -> None:
    assert evaluate(TeacherInputs(filed=FILED), as_of=END, late_days=late_days).late_records == late


def test_a_subject_teacher_without_break_duties_or_campaign_is_scored_on_the_rest() -> None:
    inputs = TeacherInputs(
        routine=months([(3, 3), (3, 3), (2, 3), (3, 3), (1, 2)]),  # 1 1 ⅔ 1 ½ → 5/6
        contacts=months([(8, 8)] * 5),  # 1
        filed=FILED[:2],  # 1
    )
    found = evaluate(inputs, as_of=END, late_days=3)
    assert set(found.parts) == {Part.ROUTINE_VISITS, Part.PARENT_CONTACTS, Part.RECORDS_ON_TIME}
    # (20·⅚ + 15·1 + 10·1) / 45 = 0.925926…
    assert found.score == 92.6


def test_a_month_with_no_quota_is_left_out_not_counted_as_met() -> None:
    inputs = TeacherInputs(routine=(MonthCount(SEMESTER[0], 5, 10), MonthCount(SEMESTER[1], 0, 0)))
    found = evaluate(inputs, as_of=END, late_days=3)
    assert found.parts == {Part.ROUTINE_VISITS: Fraction(1, 2)}
    assert found.months_met(Part.ROUTINE_VISITS) == Tally(0, 1)
    assert found.score == 50.0


def test_more_than_the_target_counts_as_the_target() -> None:
    found = evaluate(
        TeacherInputs(ledger=Tally(9, 4), key_visits=Tally(0, 2)), as_of=END, late_days=3
    )
    assert found.parts == {Part.LEDGER: Fraction(1), Part.KEY_VISITS: Fraction(0)}
    assert found.score == round_half_up(Fraction(5, 15) * 100) == 33.3


def test_with_nothing_to_measure_there_is_no_score() -> None:
    found = evaluate(TeacherInputs(campaign=Tally(0, 0)), as_of=END, late_days=3)
    assert found.parts == {} and found.score is None


def test_a_schools_own_weights_change_the_score() -> None:
    weights = EvaluationWeights(**{part.value: 0 for part in Part} | {"duties": 1})
    assert evaluate(HEAD_TEACHER, as_of=END, late_days=3, weights=weights).score == 60.0


def test_only_parts_of_weight_zero_give_no_score() -> None:
    weights = EvaluationWeights(**{part.value: 0 for part in Part} | {"ledger": 1})
    found = evaluate(TeacherInputs(campaign=Tally(1, 2)), as_of=END, late_days=3, weights=weights)
    assert found.score is None


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(8725, 100), 87.3),
        (Fraction(8724, 100), 87.2),
        (Fraction(100), 100.0),
        (Fraction(0), 0.0),
    ],
)
def test_the_score_is_rounded_half_up_to_one_decimal(value: Fraction, rounded: float) -> None:
    assert round_half_up(value) == rounded


def test_the_default_weights_sum_to_one_hundred_and_name_every_part() -> None:
    weights = SchoolRules().evaluation_weights
    assert sum(getattr(weights, part.value) for part in Part) == 100
    assert set(EvaluationWeights.model_fields) == {part.value for part in Part}
