"""The assignment table 包保表 written out: one row per class and teacher, its students as 学号
and 学号 ranges, which `models.campaigns.sheet` reads back to the same assignment (pure)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from models.campaigns.assignment import Assignment, AssignmentRoster


@dataclass(frozen=True)
class TableRow:
    """One row of the table as exported: the students as 学号 and 学号 ranges."""

    leader: str
    grade: int
    class_name: str
    teacher: str
    students: str


def student_ranges(chosen: Iterable[str], every: Iterable[str]) -> list[str]:
    """`chosen` 学号 written as ranges where they are consecutive among `every` 学号 of the
    school (numerically, among those of the same length): three or more in a row become
    `first-last`, others stay single. Non-numeric 学号 are listed as they are."""
    picked = set(chosen)
    numeric = sorted((n for n in set(every) | picked if n.isdecimal()), key=lambda n: (len(n), n))
    items: list[str] = []
    for taken, run in itertools.groupby(numeric, key=lambda n: n in picked):
        block = list(run)
        if not taken:
            continue
        if len(block) >= 3 and len({len(n) for n in block}) == 1:
            items.append(f"{block[0]}-{block[-1]}")
        else:
            items.extend(block)
    items.extend(sorted(n for n in picked if not n.isdecimal()))
    return items


def table_rows(
    assignment: Assignment, roster: AssignmentRoster, *, leaders: Mapping[int, str] | None = None
) -> list[TableRow]:
    """The table of an assignment, one row per class and teacher (classes by grade and number,
    the head teacher's block first as generated), each listing its households' children in that
    class. `leaders` (class id → 校领导) fills the leader column, else the assignment's own."""
    classes = {k.class_id: k for k in roster.classes}
    teachers = {t.staff_id: t for t in roster.teachers}
    households = {h.key: h for h in roster.households}
    nos = {p.student_id: p.student_no for p in roster.pupils}
    every = [p.student_no for p in roster.pupils]
    blocks: dict[tuple[int, int], list[str]] = {}
    leader_of: dict[tuple[int, int], str] = {}
    for item in assignment.responsible:
        slot = (item.class_id, item.teacher_id)
        children = [c for c in households[item.household].children if c.class_id == item.class_id]
        blocks.setdefault(slot, []).extend(nos[c.student_id] for c in children)
        leader_of.setdefault(slot, item.leader)
    rows: list[TableRow] = []
    for (class_id, teacher_id), students in sorted(
        blocks.items(), key=lambda b: (classes[b[0][0]].key, min(b[1]))
    ):
        klass = classes[class_id]
        leader = (leaders or {}).get(class_id, leader_of[(class_id, teacher_id)])
        rows.append(
            TableRow(
                leader,
                klass.grade,
                klass.name,
                teachers[teacher_id].name,
                "、".join(student_ranges(students, every)),
            )
        )
    return rows
