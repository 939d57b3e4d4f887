"""Households, the stratified draw of a survey's families, and the opinion-week rotation (pure).

A household 家庭 is a set of guardians and the children they look after: two students sharing a
guardian (siblings, by the guardian's row — a guardian is one phone number at a school) are one
household, as are their guardians together. It is keyed by its lowest guardian id, and its first
guardian by id is the one asked. A household belongs to each class one of its children is in.

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

from models.surveys.errors import SurveyRefused
from models.text import N_


@dataclass(frozen=True, order=True)
class Child:
    student_id: int
    class_id: int


@dataclass(frozen=True)
class Household:
    #: Sorted; never empty.
    guardian_ids: tuple[int, ...]
    #: Sorted by student id; never empty.
    children: tuple[Child, ...]

    @property
    def key(self) -> int:
        """`SurveyRecipient.household`: the lowest guardian id."""
        return self.guardian_ids[0]

    @property
    def guardian_id(self) -> int:
        """The guardian asked: the first by id."""
        return self.guardian_ids[0]

    def class_ids(self) -> set[int]:
        return {child.class_id for child in self.children}

    def child_in(self, class_id: int) -> Child:
        """The household's first child (by student id) in the class."""
        return next(child for child in self.children if child.class_id == class_id)


def households_from(links: Iterable[tuple[int, int, int]]) -> list[Household]:
    """Households from (student id, class id, guardian id) rows, sorted by key: students linked
    through any shared guardian are one household. A student with no guardian is in none (there
    is no one to ask)."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(node: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    classes: dict[int, int] = {}
    for student_id, class_id, guardian_id in links:
        classes[student_id] = class_id
        a, b = find(("s", student_id)), find(("g", guardian_id))
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[tuple[str, int], tuple[set[int], set[int]]] = {}
    for node in list(parent):
        guardians, students = groups.setdefault(find(node), (set(), set()))
        (guardians if node[0] == "g" else students).add(node[1])
    found = [
        Household(
            guardian_ids=tuple(sorted(guardians)),
            children=tuple(sorted(Child(s, classes[s]) for s in students)),
        )
        for guardians, students in groups.values()
    ]
    return sorted(found, key=lambda h: h.key)


def within(households: Iterable[Household], class_ids: Collection[int]) -> list[Household]:
    """The households with a child in these classes, keeping only those children."""
    kept: list[Household] = []
    for household in households:
        children = tuple(c for c in household.children if c.class_id in class_ids)
        if children:
            kept.append(Household(household.guardian_ids, children))
    return kept


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
