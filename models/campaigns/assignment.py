"""The assignment table 包保表 (seed 003: 包保领导 → 年级 → 班级 → 责任教师), as data (pure).

Every household 家庭 (siblings sharing a guardian are one, `models.families.households`) has
exactly one responsible teacher for the campaign.

*A household's class.* A household with children in two classes is assigned once, through its
*home class*: the class of its child in the highest grade (the eldest, whose teachers have known
the family longest), at equal grades the lower class number. A row that names no students (the
学生 cell left blank) covers the households whose home class is its class; a row listing students
covers their households, through whichever class it names.

*Generating* (`generate_assignment`): each class's households (by home class), ordered by their
child's 学号 in that class, are split into consecutive blocks among the class's teachers as
evenly as possible — the head teacher first, then the others by staff id; the first teachers
take one more when the households do not divide evenly. The same inputs give the same table. A
class with no teacher leaves its households unassigned (returned as such).

*Checking* a table read from a file (`check_assignment`): see its docstring. Writing one out
(学号 ranges) is `models.campaigns.table`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from models.campaigns.problems import SHEET, AssignmentInvalid, Column, Problem, errors
from models.families.households import Household
from models.roster.classnames import class_display
from models.text import N_

ClassKey = tuple[int, int]


@dataclass(frozen=True)
class CampaignClass:
    class_id: int
    grade: int
    number: int

    @property
    def key(self) -> ClassKey:
        return (self.grade, self.number)

    @property
    def name(self) -> str:
        return class_name(self.key)


def class_name(key: ClassKey) -> str:
    """`(3, 2)` → `三(2)班`; a grade outside 一–六 is written in digits."""
    try:
        return class_display(*key)
    except ValueError:
        return f"{key[0]}({key[1]})班"


@dataclass(frozen=True)
class Pupil:
    student_id: int
    student_no: str
    name: str
    class_id: int


@dataclass(frozen=True)
class Teacher:
    staff_id: int
    staff_no: str
    name: str


@dataclass(frozen=True)
class AssignmentRoster:
    """What a table is checked against: the campaign's classes, their students, the school's
    teachers, who teaches each class (head teacher included) and the households."""

    classes: tuple[CampaignClass, ...]
    pupils: tuple[Pupil, ...]
    teachers: tuple[Teacher, ...]
    teachers_of_class: Mapping[int, frozenset[int]]
    households: tuple[Household, ...]


@dataclass(frozen=True)
class AssignmentRow:
    """One row of the table as read (`models.campaigns.sheet`) or built by hand."""

    sheet: str
    row: int
    klass: ClassKey
    #: A teacher's name or 工号.
    teacher: str
    #: Items as typed: a 学号, a range `2026320101-2026320115`, or a student's name. Empty: the
    #: households whose home class is this class.
    students: tuple[str, ...] = ()
    leader: str = ""
    #: Column letters, to locate problems (empty for rows built by hand).
    letters: Mapping[Column, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Responsible:
    #: The household's key (its lowest guardian id).
    household: int
    teacher_id: int
    #: The class it is assigned through.
    class_id: int
    leader: str = ""


@dataclass(frozen=True)
class Assignment:
    #: By household key.
    responsible: tuple[Responsible, ...]
    #: Keys of the households no teacher was given.
    unassigned: tuple[int, ...] = ()

    def teacher_of(self, household: int) -> int | None:
        return next((r.teacher_id for r in self.responsible if r.household == household), None)

    def of_teacher(self, teacher_id: int) -> list[int]:
        return [r.household for r in self.responsible if r.teacher_id == teacher_id]


def home_class(household: Household, classes: Mapping[int, CampaignClass]) -> int | None:
    """The class a household is assigned through (see the module's docstring); None when none
    of its children is in `classes`."""
    known = [classes[c.class_id] for c in household.children if c.class_id in classes]
    if not known:
        return None
    return min(known, key=lambda k: (-k.grade, k.number, k.class_id)).class_id


def generate_assignment(
    classes: Sequence[CampaignClass],
    households: Iterable[Household],
    teachers_of_class: Mapping[int, Iterable[int]],
    head_teacher_of: Mapping[int, int | None],
    *,
    student_nos: Mapping[int, str] | None = None,
) -> Assignment:
    """Every household given to one teacher of its home class (see the module's docstring).
    `student_nos` (student id → 学号) orders each class's households; by student id without it."""
    by_id = {k.class_id: k for k in classes}
    nos = student_nos or {}
    members: dict[int, list[tuple[tuple[str, int], int]]] = {k.class_id: [] for k in classes}
    for household in households:
        home = home_class(household, by_id)
        if home is None:
            continue
        child = household.child_in(home)
        order = (nos.get(child.student_id, ""), child.student_id)
        members[home].append((order, household.key))
    responsible: list[Responsible] = []
    unassigned: list[int] = []
    for klass in classes:
        ordered = [key for _order, key in sorted(members[klass.class_id])]
        teachers = _teachers_in_order(
            teachers_of_class.get(klass.class_id, ()), head_teacher_of.get(klass.class_id)
        )
        if not teachers:
            unassigned.extend(ordered)
            continue
        size, extra = divmod(len(ordered), len(teachers))
        start = 0
        for position, teacher in enumerate(teachers):
            end = start + size + (1 if position < extra else 0)
            responsible.extend(
                Responsible(key, teacher, klass.class_id) for key in ordered[start:end]
            )
            start = end
    return Assignment(
        tuple(sorted(responsible, key=lambda r: r.household)), tuple(sorted(unassigned))
    )


def _teachers_in_order(teachers: Iterable[int], head: int | None) -> list[int]:
    others = sorted(set(teachers) - {head} if head is not None else set(teachers))
    return [head, *others] if head is not None else others


# -- checking a table ----------------------------------------------------------------------------

#: A 学号 range: two 学号 joined by - ~ — 至 or 到 (full-width forms folded by the sheet reader).
_RANGE = re.compile(r"^(\d+)\s*(?:-|~|～|—|–|至|到)\s*(\d+)$")
_DIGIT = re.compile(r"\d")


class _Index:
    """The roster, looked up."""

    def __init__(self, roster: AssignmentRoster) -> None:
        self.classes = {k.key: k for k in roster.classes}
        self.class_by_id = {k.class_id: k for k in roster.classes}
        self.pupils = {p.student_id: p for p in roster.pupils}
        self.by_no: dict[str, Pupil] = {p.student_no: p for p in roster.pupils}
        self.in_class: dict[int, list[Pupil]] = {}
        for pupil in roster.pupils:
            self.in_class.setdefault(pupil.class_id, []).append(pupil)
        self.teachers: dict[str, list[Teacher]] = {}
        for teacher in roster.teachers:
            self.teachers.setdefault(teacher.name, []).append(teacher)
        self.by_staff_no = {t.staff_no: t for t in roster.teachers if t.staff_no}
        self.teaches = roster.teachers_of_class
        self.households = roster.households
        self.household_of = {c.student_id: h for h in roster.households for c in h.children}
        self.home = {h.key: home_class(h, self.class_by_id) for h in roster.households}

    def describe(self, student_id: int) -> str:
        pupil = self.pupils[student_id]
        klass = self.class_by_id.get(pupil.class_id)
        return f"{klass.name if klass else ''}{pupil.name}（{pupil.student_no}）"


@dataclass
class _Cover:
    row: AssignmentRow
    class_id: int
    #: The teacher's staff id, or the text typed when it is not a known teacher.
    teacher: int | str
    students: list[int] = field(default_factory=list)


class _Checker:
    def __init__(self, roster: AssignmentRoster) -> None:
        self.index = _Index(roster)
        self.problems: list[Problem] = []
        self.covers: list[_Cover] = []
        self.result = Assignment(())

    def report(
        self,
        row: AssignmentRow,
        column: Column,
        message: str,
        *,
        warning: bool = False,
        **params: object,
    ) -> None:
        letter = row.letters.get(column, "")
        self.problems.append(Problem(row.sheet, row.row, column, letter, message, params, warning))

    def teacher(self, row: AssignmentRow, klass: CampaignClass) -> int | str:
        text = row.teacher.strip()
        found = self.index.by_staff_no.get(text)
        named = self.index.teachers.get(text, [])
        if found is None and len(named) == 1:
            found = named[0]
        if found is None:
            if named:
                self.report(
                    row,
                    Column.TEACHER,
                    N_("有 {count} 位教师叫“{teacher}”，请改写工号。"),
                    count=len(named),
                    teacher=text,
                )
            else:
                self.report(row, Column.TEACHER, N_("教师名单中没有“{teacher}”。"), teacher=text)
            return text
        if found.staff_id not in self.index.teaches.get(klass.class_id, frozenset()):
            self.report(
                row,
                Column.TEACHER,
                N_("{teacher}不在{klass}任教，仍按表中分配。"),
                warning=True,
                teacher=found.name,
                klass=klass.name,
            )
        return found.staff_id

    def students(self, row: AssignmentRow, klass: CampaignClass) -> list[int]:
        if not row.students:
            return [
                pupil.student_id
                for pupil in self.index.in_class.get(klass.class_id, [])
                if (h := self.index.household_of.get(pupil.student_id)) is not None
                and self.index.home[h.key] == klass.class_id
            ]
        chosen: list[int] = []
        for item in row.students:
            chosen.extend(self.item(row, klass, item.strip()))
        return list(dict.fromkeys(chosen))

    def item(self, row: AssignmentRow, klass: CampaignClass, item: str) -> list[int]:
        ranged = _RANGE.match(item)
        if ranged is not None:
            return self.range(row, klass, item, ranged[1], ranged[2])
        if item.isdecimal() or item in self.index.by_no:  # a 学号 (some schools add letters)
            pupil = self.index.by_no.get(item)
            if pupil is None:
                self.report(row, Column.STUDENTS, N_("没有学号为 {no} 的学生。"), no=item)
                return []
            if pupil.class_id != klass.class_id:
                self.report(
                    row,
                    Column.STUDENTS,
                    N_("{student}不是{klass}的学生。"),
                    student=self.index.describe(pupil.student_id),
                    klass=klass.name,
                )
                return []
            return [pupil.student_id]
        if _DIGIT.search(item):
            self.report(
                row,
                Column.STUDENTS,
                N_("“{item}”既不是学号，也不是学号范围（例如 2026320101-2026320115）。"),
                item=item,
            )
            return []
        named = [p for p in self.index.in_class.get(klass.class_id, []) if p.name == item]
        if len(named) == 1:
            return [named[0].student_id]
        if named:
            self.report(
                row,
                Column.STUDENTS,
                N_("{klass}有 {count} 名学生叫“{name}”，请改写学号。"),
                klass=klass.name,
                count=len(named),
                name=item,
            )
        else:
            self.report(
                row,
                Column.STUDENTS,
                N_("{klass}没有名叫“{name}”的学生。"),
                klass=klass.name,
                name=item,
            )
        return []

    def range(
        self, row: AssignmentRow, klass: CampaignClass, item: str, first: str, last: str
    ) -> list[int]:
        if len(first) != len(last) or first > last:
            self.report(
                row,
                Column.STUDENTS,
                N_(
                    "学号范围“{item}”有误：两端位数应相同，且前小后大（例如 2026320101-2026320115）。"
                ),
                item=item,
            )
            return []
        within = [
            p
            for p in self.index.by_no.values()
            if len(p.student_no) == len(first) and first <= p.student_no <= last
        ]
        outside = sorted(
            (p for p in within if p.class_id != klass.class_id), key=lambda p: p.student_no
        )
        if outside:
            self.report(
                row,
                Column.STUDENTS,
                N_("学号范围“{item}”包括了不在{klass}的学生{student}。"),
                item=item,
                klass=klass.name,
                student=self.index.describe(outside[0].student_id),
            )
            return []
        if not within:
            self.report(row, Column.STUDENTS, N_("学号范围“{item}”内没有学生。"), item=item)
        return [p.student_id for p in sorted(within, key=lambda p: p.student_no)]

    def run(self, rows: Iterable[AssignmentRow]) -> None:
        for row in rows:
            klass = self.index.classes.get(row.klass)
            if klass is None:
                self.report(
                    row,
                    Column.CLASS,
                    N_("本次大走访的范围内没有{klass}。"),
                    klass=class_name(row.klass),
                )
                continue
            teacher = self.teacher(row, klass)
            self.covers.append(_Cover(row, klass.class_id, teacher, self.students(row, klass)))
        self.result = self.households()

    def households(self) -> Assignment:
        """Twice, split and unassigned households; the assignment of the others."""
        rows_of: dict[int, list[_Cover]] = {}
        for cover in self.covers:
            for student in cover.students:
                earlier = rows_of.setdefault(student, [])
                if earlier:
                    self.report(
                        cover.row,
                        Column.STUDENTS,
                        N_("{student}已在第 {other} 行分配过，一个家庭只能有一位责任教师。"),
                        student=self.index.describe(student),
                        other=earlier[0].row.row,
                    )
                earlier.append(cover)
        responsible: list[Responsible] = []
        unassigned: list[int] = []
        for household in self.index.households:
            children = [
                c.student_id for c in household.children if c.student_id in self.index.pupils
            ]
            covering = [(s, rows_of[s][0]) for s in children if s in rows_of]
            if not covering:
                if any(c.class_id in self.index.class_by_id for c in household.children):
                    unassigned.append(household.key)
                continue
            if any(len(rows_of[s]) > 1 for s, _c in covering):
                continue  # already reported as assigned twice
            first_student, first = min(covering, key=lambda sc: sc[1].row.row)
            for student, cover in covering:
                if cover.teacher != first.teacher:
                    self.report(
                        cover.row,
                        Column.STUDENTS,
                        N_("{student}与第 {other} 行的{sibling}是一家人，应由同一位教师包保。"),
                        student=self.index.describe(student),
                        other=first.row.row,
                        sibling=self.index.describe(first_student),
                    )
            if isinstance(first.teacher, int):
                responsible.append(
                    Responsible(household.key, first.teacher, first.class_id, first.row.leader)
                )
        for key in unassigned:
            household = next(h for h in self.index.households if h.key == key)
            names = "、".join(
                self.index.describe(c.student_id)
                for c in household.children
                if c.student_id in self.index.pupils
            )
            sheet = self.covers[0].row.sheet if self.covers else SHEET
            self.problems.append(
                Problem(
                    sheet, None, None, "", N_("{students}一家还没有责任教师。"), {"students": names}
                )
            )
        return Assignment(tuple(sorted(responsible, key=lambda r: r.household)), tuple(unassigned))


def check_assignment(rows: Iterable[AssignmentRow], roster: AssignmentRoster) -> list[Problem]:
    """Every problem of the table, errors and warnings, in row order, then the households no row
    covers. Errors: an unknown class (or one outside the campaign), an unknown teacher or a name
    two teachers share, an unknown 学号, a student of another class, a name not in the class or
    shared in it, a bad 学号 range, a student in two rows (assigned twice), siblings in rows of two
    teachers (split), a household in no row (unassigned). Warnings: a teacher who does not teach
    the class (the seed assigns 处室 staff to classes too). The leader (校领导) is kept as typed."""
    checker = _Checker(roster)
    checker.run(rows)
    return checker.problems


def assignment_from_rows(
    rows: Iterable[AssignmentRow], roster: AssignmentRoster
) -> tuple[Assignment, list[Problem]]:
    """The assignment the table gives, with its warnings; `AssignmentInvalid` with every problem
    when any is an error (nothing is to be imported then)."""
    checker = _Checker(roster)
    checker.run(rows)
    if errors(checker.problems):
        raise AssignmentInvalid(checker.problems)
    return checker.result, checker.problems
