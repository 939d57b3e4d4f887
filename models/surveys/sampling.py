"""Households, the stratified draw of a survey's families, and the opinion-week rotation (pure).

Households 家庭 are `models.families.households`: siblings sharing a guardian are one.

The draw (seed 000 §二.6: 每学期随机选择不少于30%的学生家长): every class of the audience gets at
least ceil(share × its households), and no household is asked twice in one survey. Classes are
filled in order of class id, each from its households not drawn yet, by `random.Random(seed)` over
households sorted by key, so the recorded seed draws the same sample again. A household drawn
through one child's class also counts for its other children's classes: it is one of their
households, and its answer is about their school too. A later class then needs that many fewer
households of its own, which keeps every class at its share or above without asking a family
twice, and keeps each class's figure (drawn / households) a true count of its families.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

# Household is re-exported for the modules that still import it from here.
from models.families.households import Child, within
from models.families.households import Household as Household
from models.surveys.errors import SurveyRefused
from models.text import N_


def quota(share: int, households: int) -> int:
    """ceil(share % × households), in whole numbers."""
    return (share * households + 99) // 100


def check_share(share: int, *, minimum: int) -> None:
    if share < minimum:
        raise SurveyRefused(N_("抽样比例不能低于 {minimum}%。"), minimum=minimum)
    if share > 100:
        raise SurveyRefused(N_("抽样比例不能超过 100%。"))


def new_seed() -> int:
    """A seed for a new draw, to record with the survey (fits a 32-bit integer column)."""
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Pick:
    household: Household
    #: The child the household was drawn through (and so its class).
    through: Child


@dataclass(frozen=True)
class ClassTally:
    drawn: int
    households: int


@dataclass(frozen=True)
class Draw:
    #: In the order drawn.
    picks: tuple[Pick, ...]
    #: Per class of the audience: households drawn (through any of its children) / households.
    per_class: dict[int, ClassTally]


def draw_sample(
    households: Iterable[Household],
    class_ids: Collection[int],
    *,
    share: int,
    seed: int,
    minimum: int,
) -> Draw:
    """Draw at least `share` % of every class's households (see the module's docstring).

    `class_ids` are the audience's classes (an empty class is reported as 0 / 0); children
    outside them are ignored. Refused for a share below `minimum` or above 100, and when the
    audience holds no household at all.
    """
    check_share(share, minimum=minimum)
    audience = within(households, class_ids)
    if not audience:
        raise SurveyRefused(N_("所选范围内没有可以询问的家庭。"))
    rng = random.Random(seed)
    ordered = sorted(audience, key=lambda h: h.key)
    members = {c: [h for h in ordered if c in h.class_ids()] for c in sorted(set(class_ids))}
    drawn: set[int] = set()
    picks: list[Pick] = []
    for class_id, in_class in members.items():
        already = sum(1 for h in in_class if h.key in drawn)
        need = quota(share, len(in_class)) - already
        if need <= 0:
            continue
        for household in rng.sample([h for h in in_class if h.key not in drawn], need):
            drawn.add(household.key)
            picks.append(Pick(household, household.child_in(class_id)))
    tallies = {
        class_id: ClassTally(sum(1 for h in in_class if h.key in drawn), len(in_class))
        for class_id, in_class in members.items()
    }
    return Draw(picks=tuple(picks), per_class=tallies)


def rotate_opinion_week(
    households: Sequence[Household],
    asked_this_semester: Collection[int],
    share: int,
    *,
    seed: int,
) -> list[Household]:
    """This opinion week's households, sorted by key: ceil(`share` % × all households) of those
    not asked yet this semester (`asked_this_semester` holds household keys), or all that are
    left when fewer remain, so no family is asked twice in a semester. At a share of 25 the four
    opinion weeks of a semester ask every household exactly once; a week after every household
    was asked (a fifth week, or a share above 25) asks no one."""
    if not 1 <= share <= 100:
        raise SurveyRefused(N_("抽样比例须在 1% 到 100% 之间。"))
    ordered = sorted(households, key=lambda h: h.key)
    pool = [h for h in ordered if h.key not in asked_this_semester]
    size = quota(share, len(ordered))
    if len(pool) <= size:
        return pool
    return sorted(random.Random(seed).sample(pool, size), key=lambda h: h.key)
