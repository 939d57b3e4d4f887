"""Households 家庭 (pure): a set of guardians and the children they look after.

Two students sharing a guardian (siblings, by the guardian's row — a guardian is one phone number
at a school) are one household, as are their guardians together. It is keyed by its lowest
guardian id, and its first guardian by id is the one asked. A household belongs to each class one
of its children is in. Surveys draw households (`models.surveys.sampling`); the 大走访 campaign
assigns and counts them (`models.campaigns`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass


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


def household_of_guardian(links: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each guardian's household key from (student id, guardian id) rows: the `Household.key`
    `households_from` gives the same rows, without building the households (to count families,
    and the families some guardians belong to, is all the semester rule needs)."""
    parent: dict[int, int] = {}

    def find(guardian: int) -> int:
        parent.setdefault(guardian, guardian)
        while parent[guardian] != guardian:
            parent[guardian] = parent[parent[guardian]]
            guardian = parent[guardian]
        return guardian

    # A student's guardians are one household: each is joined to the student's first. A root
    # is always the lowest id of its household, the key.
    first_of: dict[int, int] = {}
    for student_id, guardian_id in links:
        a, b = find(first_of.setdefault(student_id, guardian_id)), find(guardian_id)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {guardian: find(guardian) for guardian in parent}


def within(households: Iterable[Household], class_ids: Collection[int]) -> list[Household]:
    """The households with a child in these classes, keeping only those children."""
    kept: list[Household] = []
    for household in households:
        children = tuple(c for c in household.children if c.class_id in class_ids)
        if children:
            kept.append(Household(household.guardian_ids, children))
    return kept
