"""What a roster file holds once read: the sheets and their columns, the rows a valid file yields,
and the problems found, located as the person who typed the file sees them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

SheetKind = Literal["teachers", "students"]
ClassKey = tuple[int, int]

#: The sheet names of the workbook, which are also how problems name the sheet.
SHEET_LABELS: Mapping[SheetKind, str] = {"teachers": "教师", "students": "学生"}

GUARDIAN_POSITIONS = (1, 2)


@dataclass(frozen=True)
class Column:
    """A column: its field, the Chinese header (first) and the accepted aliases."""

    field: str
    names: tuple[str, ...]
    required: bool = False

    @property
    def header(self) -> str:
        return self.names[0]


def _guardian_columns(position: int) -> tuple[Column, ...]:
    prefix = f"家长{position}"
    return (
        Column(f"guardian{position}_name", (f"{prefix}姓名", f"guardian{position}_name")),
        Column(f"guardian{position}_relation", (f"{prefix}关系", f"guardian{position}_relation")),
        Column(
            f"guardian{position}_phone",
            (f"{prefix}手机", f"{prefix}手机号", f"{prefix}电话", f"guardian{position}_phone"),
        ),
    )


TEACHER_COLUMNS: tuple[Column, ...] = (
    Column("staff_no", ("工号", "staff_no"), required=True),
    Column("name", ("姓名", "name"), required=True),
    Column("phone", ("手机", "手机号", "手机号码", "phone")),
    Column("head_of", ("班主任", "head_of")),
    Column("teaches", ("任教", "任教班级", "teaches")),
    Column("roles", ("角色", "roles")),
    Column("wecom_userid", ("企业微信账号", "企业微信", "wecom_userid")),
    Column("coaches", ("带队", "coaches")),
)
STUDENT_COLUMNS: tuple[Column, ...] = (
    Column("student_no", ("学号", "student_no"), required=True),
    Column("name", ("姓名", "name"), required=True),
    Column("class", ("班级", "class"), required=True),
    Column("tags", ("特殊类型", "tags")),
    *(column for position in GUARDIAN_POSITIONS for column in _guardian_columns(position)),
    Column("groups", ("社团", "groups")),
)
COLUMNS: Mapping[SheetKind, tuple[Column, ...]] = {
    "teachers": TEACHER_COLUMNS,
    "students": STUDENT_COLUMNS,
}


@dataclass(frozen=True)
class RawSheet:
    """One sheet (or CSV file) as read: cell text by row, the header row included.

    `rows` holds `(row number as the spreadsheet shows it, cell texts)`; blank rows may be absent.
    """

    label: str
    kind: SheetKind
    rows: Sequence[tuple[int, Sequence[str]]]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file, located as a person sees it in their spreadsheet."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f" {self.column}"
        return f"{where}：{self.message}"


class RosterInvalid(ValueError):
    """The roster has problems; nothing may be imported. Carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class TeacherRow:
    row: int
    staff_no: str
    name: str
    phone: str | None
    head_of: ClassKey | None
    #: (class, subject) pairs; a class taught in two subjects appears once, subjects joined by 、.
    teaches: tuple[tuple[ClassKey, str], ...]
    roles: str  # comma-separated StaffRole values, in enum order
    wecom_userid: str | None
    coaches: tuple[str, ...]


@dataclass(frozen=True)
class GuardianEntry:
    position: int
    name: str
    relation: str
    phone: str


@dataclass(frozen=True)
class StudentRow:
    row: int
    student_no: str
    name: str
    klass: ClassKey
    tags: str  # comma-separated, in STUDENT_TAGS order
    guardians: tuple[GuardianEntry, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Roster:
    """A validated roster, ready to import. `*_fields` name the optional columns the file has:
    a column left out of the file leaves that data in the database untouched."""

    teachers: tuple[TeacherRow, ...]
    students: tuple[StudentRow, ...]
    teacher_fields: frozenset[str] = field(default_factory=frozenset)
    student_fields: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_guardians(self) -> bool:
        return any(f.startswith("guardian") for f in self.student_fields)

    def class_keys(self) -> list[ClassKey]:
        """Every class the roster mentions, in order of first appearance."""
        seen: dict[ClassKey, None] = {}
        for teacher in self.teachers:
            if teacher.head_of is not None:
                seen.setdefault(teacher.head_of)
            for klass, _subject in teacher.teaches:
                seen.setdefault(klass)
        for student in self.students:
            seen.setdefault(student.klass)
        return list(seen)

    def group_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for teacher in self.teachers:
            for name in teacher.coaches:
                seen.setdefault(name)
        for student in self.students:
            for name in student.groups:
                seen.setdefault(name)
        return list(seen)
