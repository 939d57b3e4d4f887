"""One teacher's home-visit figures for a semester (or a year) and the evaluation score 考评
(seed 000: 本细则实施纳入教师业绩考评, 由学校德育处负责实施), pure: plain counts in, figures out.

The parts, each scored 0–1 (`Part`), and how:

- *Routine visits* and *parent contacts*: month by month, done / target capped at 1, averaged
  over the months with a target (a strong month does not make up for an empty one). The targets
  are the caller's (`models.quota.rules`: pro-rated months, 8 contacts a month).
- *Key visits*, *break visits*, *the class's coverage* (遍访), *campaign households* (assigned
  to the teacher and visited by them) and *ledger items* (closed / owned): done / target, capped.
- *Immediate-visit duties*: done by the due time is on time, after it late, not done with the
  due time passed (at `as_of`) missed, not done and not yet due pending (left out). Scored
  (on time + ½ late) / (on time + late + missed). The median delay is over the late ones (how
  late, past the due time).
- *Records filed on time*: a visit logged more than `late_days` days after its date is filed
  late (`SchoolRules.late_filing_days`); scored on time / all.

A part with no target (no month with a quota, no duty due, no campaign, no ledger item, no
visit logged) is left out, and the weights of the others (`EvaluationWeights`) count in
proportion: score = Σ weight × part / Σ weight × 100, rounded half up to one decimal. With no
part left (or only parts of weight 0) there is no score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from models.quota.rules import Tally
from models.school.rules import EvaluationWeights
from models.text import N_


class Part(StrEnum):
    """The parts of the score; the values are `EvaluationWeights`' fields."""

    ROUTINE_VISITS = "routine_visits"
    PARENT_CONTACTS = "parent_contacts"
    KEY_VISITS = "key_visits"
    BREAK_VISITS = "break_visits"
    DUTIES = "duties"
    RECORDS_ON_TIME = "records_on_time"
    CLASS_COVERAGE = "class_coverage"
    CAMPAIGN = "campaign"
    LEDGER = "ledger"


PART_LABELS: dict[Part, str] = {
    Part.ROUTINE_VISITS: N_("常规家访"),
    Part.PARENT_CONTACTS: N_("家长联系"),
    Part.KEY_VISITS: N_("重点家访"),
    Part.BREAK_VISITS: N_("假期家访"),
    Part.DUTIES: N_("立即家访"),
    Part.RECORDS_ON_TIME: N_("记录及时"),
    Part.CLASS_COVERAGE: N_("班级遍访"),
    Part.CAMPAIGN: N_("大走访包保"),
    Part.LEDGER: N_("问题台账"),
}


@dataclass(frozen=True)
class MonthCount:
    #: Any day of the month (its first, by habit).
    month: date
    done: int
    #: 0: no quota that month (a month all in a break); left out.
    target: int


@dataclass(frozen=True)
class DutyRecord:
    due_at: datetime
    done_at: datetime | None = None


@dataclass(frozen=True)
class FiledVisit:
    visit_date: date
    #: The day it was logged (the school's local date).
    logged_on: date

    @property
    def days_late(self) -> int:
        return (self.logged_on - self.visit_date).days


@dataclass(frozen=True)
class TeacherInputs:
    """What the period's records say about one teacher; None or empty: no such target."""

    routine: Sequence[MonthCount] = ()
    contacts: Sequence[MonthCount] = ()
    key_visits: Tally | None = None
    break_visits: Tally | None = None
    duties: Sequence[DutyRecord] = ()
    filed: Sequence[FiledVisit] = ()
    class_coverage: Tally | None = None
    #: Campaign households assigned to the teacher: visited by them / assigned.
    campaign: Tally | None = None
    #: Ledger items the teacher owns: closed / owned.
    ledger: Tally | None = None


class DutyOutcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"
    PENDING = "pending"


def duty_outcome(duty: DutyRecord, as_of: datetime) -> DutyOutcome:
    if duty.done_at is not None:
        return DutyOutcome.ON_TIME if duty.done_at <= duty.due_at else DutyOutcome.LATE
    return DutyOutcome.MISSED if duty.due_at < as_of else DutyOutcome.PENDING


@dataclass(frozen=True)
class DutyFigures:
    on_time: int
    late: int
    missed: int
    pending: int
    #: Median time past the due time of the late ones; None with none late.
    median_delay: timedelta | None

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.missed


def duty_figures(duties: Iterable[DutyRecord], as_of: datetime) -> DutyFigures:
    outcomes: dict[DutyOutcome, int] = dict.fromkeys(DutyOutcome, 0)
    delays: list[timedelta] = []
    for duty in duties:
        outcome = duty_outcome(duty, as_of)
        outcomes[outcome] += 1
        if outcome is DutyOutcome.LATE and duty.done_at is not None:
            delays.append(duty.done_at - duty.due_at)
    return DutyFigures(
        outcomes[DutyOutcome.ON_TIME],
        outcomes[DutyOutcome.LATE],
        outcomes[DutyOutcome.MISSED],
        outcomes[DutyOutcome.PENDING],
        median(delays),
    )


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle value, or the mean of the two middle ones; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Evaluation:
    inputs: TeacherInputs
    duties: DutyFigures
    #: Records filed more than `late_days` after the visit, of all filed.
    late_records: int
    records: int
    #: Each part with a target, scored 0–1 (exact).
    parts: dict[Part, Fraction] = field(default_factory=dict)
    #: 0–100 with one decimal; None when no part has a target and a weight.
    score: float | None = None

    def months_met(self, which: Part) -> Tally:
        """Months met / months with a target, for routine visits or parent contacts."""
        counts = self.inputs.routine if which is Part.ROUTINE_VISITS else self.inputs.contacts
        targeted = [m for m in counts if m.target > 0]
        return Tally(sum(1 for m in targeted if m.done >= m.target), len(targeted))


def _ratio(tally: Tally | None) -> Fraction | None:
    if tally is None or tally.target <= 0:
        return None
    return min(Fraction(1), Fraction(tally.done, tally.target))


def _monthly(counts: Sequence[MonthCount]) -> Fraction | None:
    scores = [min(Fraction(1), Fraction(m.done, m.target)) for m in counts if m.target > 0]
    return sum(scores, Fraction(0)) / len(scores) if scores else None


def round_half_up(value: Fraction) -> float:
    """To one decimal, halves up (87.25 → 87.3), exactly."""
    return math.floor(value * 10 + Fraction(1, 2)) / 10


def evaluate(
    inputs: TeacherInputs,
    *,
    as_of: datetime,
    late_days: int,
    weights: EvaluationWeights | None = None,
) -> Evaluation:
    """The teacher's figures and score (see the module's docstring). `as_of`: the end of the
    period (or now, for a period still running) — duties due before it and not done are missed."""
    weights = weights or EvaluationWeights()
    duties = duty_figures(inputs.duties, as_of)
    late = sum(1 for visit in inputs.filed if visit.days_late > late_days)
    records = len(inputs.filed)
    candidates: dict[Part, Fraction | None] = {
        Part.ROUTINE_VISITS: _monthly(inputs.routine),
        Part.PARENT_CONTACTS: _monthly(inputs.contacts),
        Part.KEY_VISITS: _ratio(inputs.key_visits),
        Part.BREAK_VISITS: _ratio(inputs.break_visits),
        Part.DUTIES: (
            Fraction(2 * duties.on_time + duties.late, 2 * duties.counted)
            if duties.counted
            else None
        ),
        Part.RECORDS_ON_TIME: Fraction(records - late, records) if records else None,
        Part.CLASS_COVERAGE: _ratio(inputs.class_coverage),
        Part.CAMPAIGN: _ratio(inputs.campaign),
        Part.LEDGER: _ratio(inputs.ledger),
    }
    parts = {part: value for part, value in candidates.items() if value is not None}
    weight = {part: Fraction(str(getattr(weights, part.value))) for part in parts}
    total = sum(weight.values(), Fraction(0))
    score = None
    if total > 0:
        weighted = sum((weight[part] * value for part, value in parts.items()), Fraction(0))
        score = round_half_up(weighted / total * 100)
    return Evaluation(inputs, duties, late, records, parts, score)
