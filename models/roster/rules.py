"""The roster's rules: which columns a sheet has, what a valid row is, and every problem found.

Pure functions over cell text (no files, no database), so every rule is tested with a table of
cases. `validate_roster` checks the whole roster and raises `RosterInvalid` with *every* problem,
each located by sheet, row and column as the person who typed the file sees them, so the school
can fix the file in one go instead of one error per attempt.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from models.roster.classnames import class_display, parse_class_name
from models.roster.phones import is_mainland_mobile, normalise_phone
from models.roster.sheets import (
    COLUMNS,
    GUARDIAN_POSITIONS,
    ClassKey,
    GuardianEntry,
    Problem,
    RawSheet,
    Roster,
    RosterInvalid,
    StudentRow,
    TeacherRow,
)
from models.roster.tables import STUDENT_TAGS, StaffRole

#: Separators of list cells (classes taught, roles, tags, groups): ; ； , ， 、 and line breaks.
_LIST_SEPARATORS = re.compile(r"[;；,，、\n]+")
_SUBJECT_SEPARATOR = re.compile(r"[:：]")

ROLE_WORDS: Mapping[str, StaffRole] = {
    "管理员": StaffRole.ADMIN,
    "admin": StaffRole.ADMIN,
    "德育处": StaffRole.ADMIN,
    "校长": StaffRole.PRINCIPAL,
    "principal": StaffRole.PRINCIPAL,
    "关爱室": StaffRole.CARE,
    "care": StaffRole.CARE,
    "区域管理员": StaffRole.DISTRICT,
    "区教育局": StaffRole.DISTRICT,
    "district": StaffRole.DISTRICT,
}
#: What the roles column accepts, as its problems say.
ROLE_CHOICES = "管理员/德育处、校长、关爱室、区域管理员/区教育局"
#: Words a school's sheet may use for a tag: the older 智障 is read as the respectful 智力障碍.
TAG_ALIASES: Mapping[str, str] = {"留守儿童": "留守", "智障": "智力障碍"}

# Column widths in the database (models.roster.tables / models.school.tables).
_MAX_NO, _MAX_NAME, _MAX_RELATION, _MAX_SUBJECT, _MAX_GROUP, _MAX_WECOM = 32, 50, 20, 20, 50, 64


# --- cell rules -------------------------------------------------------------------------------


def split_list(text: str) -> list[str]:
    """`三(1)班；三(2)班、四(1)班` → three items; blanks dropped."""
    return [item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip()]


def header_key(text: str) -> str:
    """How headers are compared: full-width folded, surrounding spaces ignored, any case."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def parse_roles(text: str) -> tuple[str, list[str]]:
    """`管理员；校长` → (`"admin,principal"`, unknown words)."""
    roles: set[StaffRole] = set()
    unknown: list[str] = []
    for word in split_list(text):
        role = ROLE_WORDS.get(header_key(word))
        if role is None:
            unknown.append(word)
        else:
            roles.add(role)
    return ",".join(r.value for r in StaffRole if r in roles), unknown


def parse_tags(text: str) -> tuple[str, list[str]]:
    """`留守儿童、贫困` → (`"贫困,留守"`, unknown words), tags in STUDENT_TAGS order."""
    tags: set[str] = set()
    unknown: list[str] = []
    for word in split_list(text):
        tag = TAG_ALIASES.get(word, word)
        if tag in STUDENT_TAGS:
            tags.add(tag)
        else:
            unknown.append(word)
    return ",".join(t for t in STUDENT_TAGS if t in tags), unknown


def parse_phone(text: str) -> str:
    """A mainland mobile in its plain 11-digit form; ValueError otherwise."""
    phone = normalise_phone(text)
    if not is_mainland_mobile(phone):
        raise ValueError(f"手机号“{text}”无效，应为11位大陆手机号")
    return phone


# --- sheets -----------------------------------------------------------------------------------


@dataclass
class _Sheet:
    """A sheet being validated: where each column is, and the problems found so far."""

    raw: RawSheet
    problems: list[Problem]
    index: dict[str, tuple[int, str]] = field(default_factory=dict)  # field → (position, header)
    header_row: int = 1

    def header(self, field_name: str) -> str:
        if field_name in self.index:
            return self.index[field_name][1]
        return next(c.header for c in COLUMNS[self.raw.kind] if c.field == field_name)

    def value(self, cells: Sequence[str], field_name: str) -> str:
        located = self.index.get(field_name)
        if located is None or located[0] >= len(cells):
            return ""
        return cells[located[0]].strip()

    def report(self, row: int | None, field_name: str | None, message: str) -> None:
        column = self.header(field_name) if field_name else None
        self.problems.append(Problem(self.raw.label, row, column, message))

    def data_rows(self) -> Iterable[tuple[int, Sequence[str]]]:
        for number, cells in self.raw.rows:
            if number > self.header_row and any(c.strip() for c in cells):
                yield number, cells


def _locate_columns(sheet: _Sheet) -> bool:
    """Find the header row and each known column; False when a required column is missing."""
    header = next(
        ((n, cells) for n, cells in sheet.raw.rows if any(c.strip() for c in cells)), None
    )
    if header is None:
        sheet.report(None, None, "表格是空的，没有找到标题行")
        return False
    sheet.header_row, cells = header
    by_key = {
        header_key(name): column for column in COLUMNS[sheet.raw.kind] for name in column.names
    }
    for position, text in enumerate(cells):
        column = by_key.get(header_key(text))
        if column is None:
            continue  # extra columns (备注, 序号 …) are the school's business
        if column.field in sheet.index:
            sheet.problems.append(
                Problem(sheet.raw.label, sheet.header_row, text.strip(), "这一列重复出现")
            )
            continue
        sheet.index[column.field] = (position, text.strip())
    complete = True
    for column in COLUMNS[sheet.raw.kind]:
        if column.required and column.field not in sheet.index:
            english = next(n for n in column.names if n.isascii())
            sheet.report(None, None, f"缺少必需的列“{column.header}”（或英文列名 {english}）")
            complete = False
    return complete


def _required(sheet: _Sheet, number: int, cells: Sequence[str], field_name: str) -> str:
    value = sheet.value(cells, field_name)
    if not value:
        sheet.report(number, field_name, f"{sheet.header(field_name)}不能为空")
    return value


def _within(sheet: _Sheet, number: int, field_name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        sheet.report(number, field_name, f"“{value[:20]}…”太长（最多{limit}个字）")
    return value


def _unique(sheet: _Sheet, seen: dict[str, int], number: int, field_name: str, value: str) -> None:
    if not value:
        return
    if value in seen:
        sheet.report(
            number, field_name, f"{sheet.header(field_name)}“{value}”与第{seen[value]}行重复"
        )
    else:
        seen[value] = number


def _class(sheet: _Sheet, number: int, field_name: str, text: str) -> ClassKey | None:
    try:
        return parse_class_name(text)
    except ValueError as exc:
        sheet.report(number, field_name, str(exc))
        return None


def _names(sheet: _Sheet, number: int, cells: Sequence[str], field_name: str) -> tuple[str, ...]:
    names = dict.fromkeys(split_list(sheet.value(cells, field_name)))
    for name in names:
        _within(sheet, number, field_name, name, _MAX_GROUP)
    return tuple(names)


def _split_subject(item: str) -> tuple[str, str]:
    """`三(1)班:数学` or `三(1)班：数学` → (`三(1)班`, `数学`); no colon → no subject."""
    class_text, _, subject = _SUBJECT_SEPARATOR.sub(":", item, count=1).partition(":")
    return class_text.strip(), subject.strip()


def _teaches(sheet: _Sheet, number: int, text: str) -> tuple[tuple[ClassKey, str], ...]:
    subjects: dict[ClassKey, list[str]] = {}
    for item in split_list(text):
        class_text, subject = _split_subject(item)
        klass = _class(sheet, number, "teaches", class_text)
        if klass is None:
            continue
        listed = subjects.setdefault(klass, [])
        if subject and subject not in listed:
            listed.append(subject)
    result: list[tuple[ClassKey, str]] = []
    for klass, listed in subjects.items():
        subject = "、".join(listed)
        if len(subject) > _MAX_SUBJECT:
            sheet.report(number, "teaches", f"{class_display(*klass)}的科目“{subject}”太长")
        result.append((klass, subject))
    return tuple(result)


def _optional_phone(sheet: _Sheet, number: int, field_name: str, text: str) -> str | None:
    if not text:
        return None
    try:
        return parse_phone(text)
    except ValueError as exc:
        sheet.report(number, field_name, str(exc))
        return None


def _district_alone(sheet: _Sheet, row: TeacherRow) -> None:
    """A 区域管理员 sees every school's counts and nothing of any child: not a class, a team or
    another role in the same row."""
    if StaffRole.DISTRICT.value not in row.roles.split(","):
        return
    if row.roles != StaffRole.DISTRICT.value or row.head_of or row.teaches or row.coaches:
        sheet.report(
            row.row,
            "roles",
            "区域管理员只查看各校的统计数字，不能同时是班主任、任课教师、教练或担任其他角色",
        )


def _teacher_rows(sheet: _Sheet) -> list[TeacherRow]:
    rows: list[TeacherRow] = []
    staff_nos: dict[str, int] = {}
    heads: dict[ClassKey, int] = {}
    for number, cells in sheet.data_rows():
        staff_no = _within(
            sheet, number, "staff_no", _required(sheet, number, cells, "staff_no"), _MAX_NO
        )
        _unique(sheet, staff_nos, number, "staff_no", staff_no)
        name = _within(sheet, number, "name", _required(sheet, number, cells, "name"), _MAX_NAME)
        phone = _optional_phone(sheet, number, "phone", sheet.value(cells, "phone"))

        head_of: ClassKey | None = None
        head_text = sheet.value(cells, "head_of")
        if len(split_list(head_text)) > 1:
            sheet.report(number, "head_of", f"班主任只能填写一个班级：“{head_text}”")
        elif head_text:
            head_of = _class(sheet, number, "head_of", head_text)
        if head_of is not None:
            if head_of in heads:
                sheet.report(
                    number,
                    "head_of",
                    f"{class_display(*head_of)}已在第{heads[head_of]}行指定了班主任，"
                    "一个班只能有一位班主任",
                )
            else:
                heads[head_of] = number

        roles, unknown_roles = parse_roles(sheet.value(cells, "roles"))
        for word in unknown_roles:
            sheet.report(number, "roles", f"未知的角色“{word}”（可填：{ROLE_CHOICES}）")
        wecom = _within(
            sheet, number, "wecom_userid", sheet.value(cells, "wecom_userid"), _MAX_WECOM
        )
        row = TeacherRow(
            row=number,
            staff_no=staff_no,
            name=name,
            phone=phone,
            head_of=head_of,
            teaches=_teaches(sheet, number, sheet.value(cells, "teaches")),
            roles=roles,
            wecom_userid=wecom or None,
            coaches=_names(sheet, number, cells, "coaches"),
        )
        _district_alone(sheet, row)
        rows.append(row)
    return rows


@dataclass
class _GuardianBook:
    """Guardian phones seen so far in the file: one phone is one person, with one name."""

    first: dict[str, tuple[str, int]] = field(default_factory=dict)  # phone → (name, row)

    def check(self, sheet: _Sheet, number: int, field_name: str, phone: str, name: str) -> None:
        known = self.first.setdefault(phone, (name, number))
        if known[0] != name:
            sheet.report(
                number,
                field_name,
                f"手机号{phone}在第{known[1]}行登记的家长是“{known[0]}”，这里却是“{name}”；"
                "同一位家长请填写相同的姓名",
            )


def _guardian_sheet_check(sheet: _Sheet) -> list[int]:
    """Positions whose name and phone columns are both present (a lone one is reported once)."""
    usable: list[int] = []
    for position in GUARDIAN_POSITIONS:
        name_f, phone_f = f"guardian{position}_name", f"guardian{position}_phone"
        has_name, has_phone = name_f in sheet.index, phone_f in sheet.index
        if has_name and has_phone:
            usable.append(position)
        elif has_name or has_phone:
            missing = sheet.header(phone_f if has_name else name_f)
            sheet.report(
                None,
                None,
                f"有“{sheet.header(name_f if has_name else phone_f)}”列，却缺少“{missing}”列",
            )
    return usable


def _guardians(
    sheet: _Sheet, number: int, cells: Sequence[str], positions: list[int], book: _GuardianBook
) -> tuple[GuardianEntry, ...]:
    entries: list[GuardianEntry] = []
    for position in positions:
        name_f, relation_f, phone_f = (
            f"guardian{position}_name",
            f"guardian{position}_relation",
            f"guardian{position}_phone",
        )
        name = _within(sheet, number, name_f, sheet.value(cells, name_f), _MAX_NAME)
        relation = _within(sheet, number, relation_f, sheet.value(cells, relation_f), _MAX_RELATION)
        phone_text = sheet.value(cells, phone_f)
        if name and not phone_text:
            sheet.report(number, phone_f, f"填写了家长{position}姓名，但缺少家长{position}手机")
            continue
        if phone_text and not name:
            sheet.report(number, name_f, f"填写了家长{position}手机，但缺少家长{position}姓名")
            continue
        if not name:
            if relation:
                sheet.report(number, relation_f, f"填写了家长{position}关系，但缺少姓名和手机")
            continue
        phone = _optional_phone(sheet, number, phone_f, phone_text)
        if phone is None:
            continue
        if any(entry.phone == phone for entry in entries):
            sheet.report(number, phone_f, f"家长{position}的手机号与家长1相同")
            continue
        book.check(sheet, number, phone_f, phone, name)
        entries.append(GuardianEntry(position=position, name=name, relation=relation, phone=phone))
    return tuple(entries)


def _student_rows(sheet: _Sheet) -> list[StudentRow]:
    rows: list[StudentRow] = []
    student_nos: dict[str, int] = {}
    positions = _guardian_sheet_check(sheet)
    book = _GuardianBook()
    for number, cells in sheet.data_rows():
        student_no = _within(
            sheet, number, "student_no", _required(sheet, number, cells, "student_no"), _MAX_NO
        )
        _unique(sheet, student_nos, number, "student_no", student_no)
        name = _within(sheet, number, "name", _required(sheet, number, cells, "name"), _MAX_NAME)
        class_text = _required(sheet, number, cells, "class")
        klass = _class(sheet, number, "class", class_text) if class_text else None
        tags, unknown_tags = parse_tags(sheet.value(cells, "tags"))
        for word in unknown_tags:
            sheet.report(
                number, "tags", f"未知的特殊类型“{word}”（可填：{'、'.join(STUDENT_TAGS)}）"
            )
        guardians = _guardians(sheet, number, cells, positions, book)
        groups = _names(sheet, number, cells, "groups")
        if klass is not None:
            rows.append(
                StudentRow(
                    row=number,
                    student_no=student_no,
                    name=name,
                    klass=klass,
                    tags=tags,
                    guardians=guardians,
                    groups=groups,
                )
            )
    return rows


def _optional_fields(sheet: _Sheet) -> frozenset[str]:
    return frozenset(
        f
        for f in sheet.index
        if not any(c.field == f and c.required for c in COLUMNS[sheet.raw.kind])
    )


def validate_roster(teachers: RawSheet, students: RawSheet) -> Roster:
    """The validated roster; raises RosterInvalid listing every problem in both sheets."""
    problems: list[Problem] = []
    teacher_sheet = _Sheet(teachers, problems)
    teacher_rows = _teacher_rows(teacher_sheet) if _locate_columns(teacher_sheet) else []
    student_sheet = _Sheet(students, problems)
    student_rows = _student_rows(student_sheet) if _locate_columns(student_sheet) else []
    if problems:
        raise RosterInvalid(problems)
    return Roster(
        teachers=tuple(teacher_rows),
        students=tuple(student_rows),
        teacher_fields=_optional_fields(teacher_sheet),
        student_fields=_optional_fields(student_sheet),
    )
