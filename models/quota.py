"""Visit quotas 家访指标 (DOMAIN.md "Quotas"): for now, the monthly target per role.

The numbers are the school's rules with the seed documents' defaults; a school that sets other
numbers passes its own `MonthlyTargets`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MonthlyTargets:
    """Routine visits expected per calendar month, by role."""

    #: 班主任: at least 10 visits a month (seed 000 §三.3).
    head_teacher: int = 10
    #: 任课教师: at least 3 visits a month.
    subject_teacher: int = 3
    #: Everyone else who logs visits (coaches, 德育处): 8 parent contacts a month (seed 000 §二.4).
    other_staff: int = 8


DEFAULT_TARGETS = MonthlyTargets()


def monthly_target(
    *, head_teacher: bool, subject_teacher: bool, targets: MonthlyTargets = DEFAULT_TARGETS
) -> int:
    """The month's target for one person; a head teacher who also teaches counts as head teacher."""
    if head_teacher:
        return targets.head_teacher
    if subject_teacher:
        return targets.subject_teacher
    return targets.other_staff
