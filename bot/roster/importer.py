"""`roster import`: bring the school's teachers, classes, students and guardians in line with a file.

The file is the school's own spreadsheet and the authority on who is where: staff are matched
on 工号, students on 学号, guardians on their phone. Everything happens in one transaction, after
the whole file has been validated, so a file with any problem changes nothing and a crash half
way leaves the old roster intact. Existing rows are loaded in a fixed handful of queries (no
query per row), so a 3,000-student file takes seconds.

Two ways to import:
* **the whole school** (the default): people missing from the file are deactivated (never
  deleted: visits and accounts hang off them; a later import brings them back) and classes
  missing from it lose their head teacher. Into a school that already has a roster, the command
  first shows what it would add, change and deactivate, and changes nothing without `--yes`.
* **`--partial`** (one grade, a few classes): it only adds and updates; nobody is deactivated,
  no head teacher, class, team or guardian link is removed.

The demo school is never merged with a real one: into a database that holds only the demo, a
real roster needs `--replace-demo`, and then replaces every demo record in the same transaction.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import SQLModel, col, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tqdm import tqdm

from bot.command_line import refused
from bot.roster.files import read_roster_files
from bot.settings import Settings
from models.audit.tables import TAGS_CHANGE, Entry, audit, audit_all
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import RosterError
from models.privacy.retention import allow_audit_purge
from models.roster.classnames import class_display
from models.roster.head_history import record_heads
from models.roster.rules import validate_roster
from models.roster.sheets import ClassKey, Roster, RosterInvalid, StudentRow, TeacherRow
from models.roster.tables import Guardian, Staff, Student, StudentGuardian, Teaching
from models.school.tables import Group, GroupCoach, GroupMember, School, SchoolClass

#: Files with more rows than this get a progress bar on stderr.
PROGRESS_THRESHOLD = 200

#: Tables `--replace-demo` leaves alone: the scheduler's own state, not the school's records.
KEPT_ON_REPLACE = frozenset({"apscheduler_jobs"})
#: PostgreSQL: this transaction deletes no more audit entries (see `allow_audit_purge`).
AUDIT_PURGE_OFF = "SET LOCAL jiafang.audit_purge = 'off'"

Link = TypeVar("Link", bound=SQLModel)
Keyed = TypeVar("Keyed", Staff, Student, Guardian)


def load_roster(files: Sequence[Path]) -> Roster:
    """Read and validate roster files; RosterError lists every problem (nothing is imported)."""
    teachers, students = read_roster_files(files)
    try:
        return validate_roster(teachers, students)
    except RosterInvalid as exc:
        raise RosterError([str(problem) for problem in exc.problems]) from exc


@dataclass
class Tally:
    """How many of one kind of thing the file holds, and how many were new or changed."""

    total: int = 0
    created: int = 0
    updated: int = 0

    def describe(self, label: str) -> str:
        details = [
            f"{word} {count}"
            for word, count in (("新增", self.created), ("更新", self.updated))
            if count
        ]
        return f"{label} {self.total}" + (f"（{'，'.join(details)}）" if details else "")


@dataclass
class ImportReport:
    school: str
    school_created: bool = False
    teachers: Tally = field(default_factory=Tally)
    students: Tally = field(default_factory=Tally)
    guardians: Tally = field(default_factory=Tally)
    classes: Tally = field(default_factory=Tally)
    groups: Tally = field(default_factory=Tally)
    #: Only added and updated (`--partial`): people missing from the file were kept as they are.
    partial: bool = False
    #: Nothing was written: what the import would do (`summary` says so).
    preview: bool = False
    #: Whether the school had a roster before (a whole-school import then needs `--yes`).
    had_roster: bool = False
    #: Active people missing from the file: deactivated (whole school) or kept (`--partial`).
    staff_not_in_file: int = 0
    students_not_in_file: int = 0
    #: Classes missing from the file whose head teacher was cleared (whole school only).
    heads_cleared: int = 0

    @property
    def deactivates(self) -> bool:
        """Whether the import deactivates anyone or clears a head teacher."""
        return not self.partial and bool(
            self.staff_not_in_file or self.students_not_in_file or self.heads_cleared
        )

    @property
    def changed(self) -> bool:
        tallies = (self.teachers, self.students, self.guardians, self.classes, self.groups)
        return (
            self.school_created or self.deactivates or any(t.created or t.updated for t in tallies)
        )

    def summary(self) -> str:
        """What an admin reads after the import, e.g. `导入完成：教师 8（新增 8），…，班级 4。`"""
        parts = [
            self.teachers.describe("教师"),
            self.students.describe("学生"),
            self.guardians.describe("家长"),
            self.classes.describe("班级"),
        ]
        if self.groups.total:
            parts.append(self.groups.describe("社团/队"))
        if self.preview:
            lines = [f"预览（尚未导入，数据库没有任何改动）：{'，'.join(parts)}。"]
        elif self.changed:
            lines = [f"导入完成：{'，'.join(parts)}。"]
        else:
            lines = [f"导入完成：名单未变化（{'，'.join(parts)}）。"]
        missing = "、".join(
            f"{count} 名{label}"
            for label, count in (
                ("教师", self.staff_not_in_file),
                ("学生", self.students_not_in_file),
            )
            if count
        )
        if missing and self.partial:
            lines.append(f"另有 {missing}不在本次名单中，已保留，未停用（--partial）。")
        elif missing:
            verb = "将停用" if self.preview else "已停用"
            lines.append(f"{verb}不在名单中的 {missing}（记录保留，重新导入名单即可恢复）。")
        if self.heads_cleared and not self.partial:
            verb = "将清除" if self.preview else "已清除"
            lines.append(f"{verb} {self.heads_cleared} 个不在名单中的班级的班主任。")
        if self.preview:
            lines.append(
                "确认无误请加 --yes 重新运行；只补充或更新部分班级请改用 --partial"
                "（只新增和更新，不停用任何人）。"
            )
        return "\n".join(lines)

    def audit_detail(self) -> str:
        """Counts only — the audit log never holds names or phones."""
        return (
            f"staff +{self.teachers.created}/~{self.teachers.updated}, "
            f"students +{self.students.created}/~{self.students.updated}, "
            f"guardians +{self.guardians.created}/~{self.guardians.updated}, "
            f"classes +{self.classes.created}/~{self.classes.updated}, "
            f"deactivated staff {self.staff_not_in_file if not self.partial else 0}, "
            f"students {self.students_not_in_file if not self.partial else 0}"
        )


def tag_change(before: str, after: str) -> str:
    """What changed between two comma-separated tag lists: `+贫困,-留守` ("" when nothing)."""
    old = [t for t in before.split(",") if t]
    new = [t for t in after.split(",") if t]
    added = [f"+{t}" for t in new if t not in old]
    removed = [f"-{t}" for t in old if t not in new]
    return ",".join(added + removed)


def _assign(row: SQLModel, values: Mapping[str, Any]) -> bool:
    """Set the attributes that differ; True when anything changed (so unchanged rows stay clean)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


@dataclass
class _LinkSet(Generic[Link]):
    """The rows of a link table (teaching, coaching, membership, guardianship) per owner.

    `replace` makes one owner's links exactly the file's — one rule for all four tables (with
    `additive`, it only adds and updates: `--partial`). New links are collected as plain rows and
    written by `insert_pending` in one batch.
    """

    model: type[Link]
    owner: str  # e.g. "staff_id"
    target: str  # e.g. "class_id"
    rows: dict[int, dict[int, Link]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    additive: bool = False

    def load(self, rows: Sequence[Link]) -> None:
        for row in rows:
            self.rows.setdefault(getattr(row, self.owner), {})[getattr(row, self.target)] = row

    async def replace(
        self, session: AsyncSession, owner_id: int, wanted: Mapping[int, Mapping[str, Any]]
    ) -> bool:
        current = self.rows.get(owner_id, {})
        changed = False
        for target_id, row in current.items():
            if target_id not in wanted and not self.additive:
                await session.delete(row)
                changed = True
        for target_id, values in wanted.items():
            existing = current.get(target_id)
            if existing is None:
                self.pending.append({self.owner: owner_id, self.target: target_id, **values})
                changed = True
            elif _assign(existing, values):
                changed = True
        return changed

    async def insert_pending(self, session: AsyncSession) -> None:
        if self.pending:
            await session.exec(insert(self.model), params=self.pending)
            self.pending = []


async def _insert_returning_ids(
    session: AsyncSession, model: type[Keyed], key: str, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """Insert new rows in one batched `INSERT … RETURNING`; their ids by natural key.

    Plain rows rather than ORM objects: an ORM flush inserts SQLite rows one at a time (SQLite
    has no insert sentinel) and building thousands of SQLModel objects costs seconds as well.
    """
    if not rows:
        return {}
    statement = insert(model).returning(col(model.id), getattr(model, key))
    result = await session.exec(statement, params=rows)
    return {natural: id_ for id_, natural in result.all()}


class _Importer:
    """One import run: the school's existing rows, loaded once, brought in line with the file."""

    def __init__(
        self, session: AsyncSession, school: School, roster: Roster, report: ImportReport
    ) -> None:
        self.session = session
        self.school_id = school.id or 0
        self.today = datetime.now(ZoneInfo(school.timezone)).date()
        self.roster = roster
        self.report = report
        self.classes: dict[ClassKey, SchoolClass] = {}
        # Existing rows by natural key (updated in place), and every id, new rows' included.
        self.staff: dict[str, Staff] = {}
        self.students: dict[str, Student] = {}
        self.guardians: dict[str, Guardian] = {}
        self.staff_ids: dict[str, int] = {}
        self.student_ids: dict[str, int] = {}
        self.guardian_ids: dict[str, int] = {}
        self.groups: dict[str, Group] = {}
        self.teaching = _LinkSet(Teaching, "staff_id", "class_id")
        self.coaching = _LinkSet(GroupCoach, "staff_id", "group_id")
        self.membership = _LinkSet(GroupMember, "student_id", "group_id")
        self.guardianship = _LinkSet(StudentGuardian, "student_id", "guardian_id")
        for link_set in (self.teaching, self.coaching, self.membership, self.guardianship):
            link_set.additive = report.partial
        self.changed_staff: set[str] = set()
        self.changed_students: set[str] = set()
        #: Students whose special-type tags the file changes: `+贫困,-留守` by student number.
        self.tag_changes: dict[str, str] = {}

    async def load(self) -> None:
        """Every existing row the import may touch, in ten queries whatever the school's size."""
        exec_ = self.session.exec
        school = self.school_id
        for klass in (
            await exec_(select(SchoolClass).where(SchoolClass.school_id == school))
        ).all():
            self.classes[(klass.grade, klass.number)] = klass
        for staff in (await exec_(select(Staff).where(Staff.school_id == school))).all():
            self.staff[staff.staff_no] = staff
            self.staff_ids[staff.staff_no] = staff.id or 0
        for student in (await exec_(select(Student).where(Student.school_id == school))).all():
            self.students[student.student_no] = student
            self.student_ids[student.student_no] = student.id or 0
        for guardian in (await exec_(select(Guardian).where(Guardian.school_id == school))).all():
            self.guardians[guardian.phone] = guardian
            self.guardian_ids[guardian.phone] = guardian.id or 0
        for group in (await exec_(select(Group).where(Group.school_id == school))).all():
            self.groups[group.name] = group
        teaching = (
            select(Teaching)
            .join(Staff, col(Staff.id) == col(Teaching.staff_id))
            .where(Staff.school_id == school)
        )
        self.teaching.load((await exec_(teaching)).all())
        coaching = (
            select(GroupCoach)
            .join(Group, col(Group.id) == col(GroupCoach.group_id))
            .where(Group.school_id == school)
        )
        self.coaching.load((await exec_(coaching)).all())
        membership = (
            select(GroupMember)
            .join(Group, col(Group.id) == col(GroupMember.group_id))
            .where(Group.school_id == school)
        )
        self.membership.load((await exec_(membership)).all())
        guardianship = (
            select(StudentGuardian)
            .join(Student, col(Student.id) == col(StudentGuardian.student_id))
            .where(Student.school_id == school)
        )
        self.guardianship.load((await exec_(guardianship)).all())

    async def run(self, progress: tqdm[Any]) -> None:
        await self.load()
        roster, report = self.roster, self.report
        report.had_roster = bool(self.staff or self.students)
        listed_staff = {t.staff_no for t in roster.teachers}
        listed_students = {s.student_no for s in roster.students}
        missing_staff = [p for no, p in self.staff.items() if no not in listed_staff and p.active]
        missing_students = [
            p for no, p in self.students.items() if no not in listed_students and p.active
        ]
        report.staff_not_in_file = len(missing_staff)
        report.students_not_in_file = len(missing_students)
        if not report.partial:
            for person in (*missing_staff, *missing_students):
                person.active = False
            left = datetime.now(UTC)
            for student in missing_students:
                student.left_at = left  # the retention periods run from here
        new_staff = [new for t in roster.teachers if (new := self._upsert_staff(t, progress))]
        self.staff_ids |= await _insert_returning_ids(self.session, Staff, "staff_no", new_staff)
        await self._sync_classes()
        await self._sync_groups()
        for teacher in roster.teachers:
            await self._sync_staff_links(teacher)
        new_students = [new for s in roster.students if (new := self._upsert_student(s, progress))]
        self.student_ids |= await _insert_returning_ids(
            self.session, Student, "student_no", new_students
        )
        self.guardian_ids |= await _insert_returning_ids(
            self.session, Guardian, "phone", self._upsert_guardians()
        )
        for row in roster.students:
            await self._sync_student_links(row)
        for link_set in (self.teaching, self.coaching, self.membership, self.guardianship):
            await link_set.insert_pending(self.session)
        await self.session.flush()
        # Whose head teacher changed, and when (newly taken-over students: the summer's list).
        await record_heads(session=self.session, school_id=self.school_id, today=self.today)
        report.teachers.total = len(roster.teachers)
        report.teachers.created = len(new_staff)
        report.teachers.updated = len(self.changed_staff - {t["staff_no"] for t in new_staff})
        report.students.total = len(roster.students)
        report.students.created = len(new_students)
        report.students.updated = len(
            self.changed_students - {s["student_no"] for s in new_students}
        )

    def _upsert_staff(self, row: TeacherRow, progress: tqdm[Any]) -> dict[str, Any] | None:
        """Update an existing staff member in place; a new one is returned as a row to insert."""
        progress.update()
        values: dict[str, Any] = {"name": row.name, "active": True}
        for name, value in (
            ("phone", row.phone),
            ("roles", row.roles),
            ("wecom_userid", row.wecom_userid),
        ):
            if name in self.roster.teacher_fields:
                values[name] = value
        staff = self.staff.get(row.staff_no)
        if staff is None:
            defaults = {"phone": None, "roles": "", "wecom_userid": None}
            return {"school_id": self.school_id, "staff_no": row.staff_no, **defaults, **values}
        if _assign(staff, values):
            self.changed_staff.add(row.staff_no)
        return None

    async def _sync_classes(self) -> None:
        """Create the classes the file names; set or clear head teachers from the 班主任 column."""
        keys = self.roster.class_keys()
        self.report.classes.total = len(keys)
        updated: set[ClassKey] = set()
        for grade, number in keys:
            klass = self.classes.get((grade, number))
            display = class_display(grade, number)
            if klass is None:
                klass = SchoolClass(
                    school_id=self.school_id, grade=grade, number=number, name=display
                )
                self.session.add(klass)
                self.classes[(grade, number)] = klass
                self.report.classes.created += 1
            elif _assign(klass, {"name": display}):
                updated.add((grade, number))
        if "head_of" in self.roster.teacher_fields:
            heads = {
                t.head_of: self.staff_ids[t.staff_no] for t in self.roster.teachers if t.head_of
            }
            for key, klass in self.classes.items():
                head = heads.get(key)
                if head is None and (self.report.partial or klass.head_teacher_id is None):
                    continue  # --partial never clears a head teacher
                if not _assign(klass, {"head_teacher_id": head}) or klass.id is None:
                    continue
                if key in keys:
                    updated.add(key)
                else:
                    self.report.heads_cleared += 1
        self.report.classes.updated = len(updated)
        await self.session.flush()

    async def _sync_groups(self) -> None:
        names = self.roster.group_names()
        self.report.groups.total = len(names)
        for name in names:
            if name not in self.groups:
                self.groups[name] = Group(school_id=self.school_id, name=name)
                self.session.add(self.groups[name])
                self.report.groups.created += 1
        await self.session.flush()

    def _class_id(self, key: ClassKey) -> int:
        return self.classes[key].id or 0

    def _group_ids(self, names: Sequence[str]) -> dict[int, dict[str, Any]]:
        return {self.groups[name].id or 0: {} for name in names}

    async def _sync_staff_links(self, row: TeacherRow) -> None:
        staff_id = self.staff_ids[row.staff_no]
        fields = self.roster.teacher_fields
        changed = False
        if "teaches" in fields:
            wanted = {self._class_id(k): {"subject": subject} for k, subject in row.teaches}
            changed |= await self.teaching.replace(self.session, staff_id, wanted)
        if "coaches" in fields:
            coached = self._group_ids(row.coaches)
            changed |= await self.coaching.replace(self.session, staff_id, coached)
        if changed:
            self.changed_staff.add(row.staff_no)

    def _upsert_student(self, row: StudentRow, progress: tqdm[Any]) -> dict[str, Any] | None:
        """Update an existing student in place; a new one is returned as a row to insert."""
        progress.update()
        values: dict[str, Any] = {
            "name": row.name,
            "class_id": self._class_id(row.klass),
            "active": True,
            "left_at": None,  # back on the roster: no retention clock runs
        }
        student = self.students.get(row.student_no)
        if "tags" in self.roster.student_fields:
            values["tags"] = row.tags
            change = tag_change(student.tags if student else "", row.tags)
            if change:
                self.tag_changes[row.student_no] = change
        if student is None:
            return {"school_id": self.school_id, "student_no": row.student_no, "tags": "", **values}
        if _assign(student, values):
            self.changed_students.add(row.student_no)
        return None

    def tag_entries(self) -> list[Entry]:
        """One `tags.change` audit entry per student whose tags the import changed."""
        return [
            Entry(
                "cli",
                TAGS_CHANGE,
                subject=f"student:{self.student_ids[no]}",
                detail=change,
                student_id=self.student_ids[no],
            )
            for no, change in sorted(self.tag_changes.items())
        ]

    def _upsert_guardians(self) -> list[dict[str, Any]]:
        """One guardian per phone (siblings share one); returns the new ones as rows to insert."""
        names = {g.phone: g.name for s in self.roster.students for g in s.guardians}
        tally = self.report.guardians
        tally.total = len(names)
        new: list[dict[str, Any]] = []
        for phone, name in names.items():
            guardian = self.guardians.get(phone)
            if guardian is None:
                new.append({"school_id": self.school_id, "name": name, "phone": phone})
            elif _assign(guardian, {"name": name}):
                tally.updated += 1
        tally.created = len(new)
        return new

    async def _sync_student_links(self, row: StudentRow) -> None:
        student_id = self.student_ids[row.student_no]
        changed = False
        if self.roster.has_guardians:
            wanted = {
                self.guardian_ids[g.phone]: {"relation": g.relation, "position": g.position}
                for g in row.guardians
            }
            changed |= await self.guardianship.replace(self.session, student_id, wanted)
        if "groups" in self.roster.student_fields:
            groups = self._group_ids(row.groups)
            changed |= await self.membership.replace(self.session, student_id, groups)
        if changed:
            self.changed_students.add(row.student_no)


async def _school(session: AsyncSession, name: str, report: ImportReport) -> School:
    school = (await session.exec(select(School).where(School.name == name))).first()
    if school is None:
        school = School(name=name)
        session.add(school)
        await session.flush()
        report.school_created = True
    return school


class _Preview(Exception):
    """Raised inside the import's transaction to roll it back after counting what it does."""


async def _clear_demo(session: AsyncSession) -> None:
    """Delete every record of the demo (the database holds nothing else), children first.

    The demo's audit log goes too: it is about fictional people, and its student ids would be
    given again to real students. On PostgreSQL the log is append-only, and only a transaction
    that says it purges may delete from it (migration 0020); the import's own entries (its tag
    changes, `roster.replace_demo`) then begin the real school's log."""
    await allow_audit_purge(session)
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name not in KEPT_ON_REPLACE:
            await session.exec(table.delete())
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await (await session.connection()).execute(text(AUDIT_PURGE_OFF))


async def import_roster(
    db: Database,
    roster: Roster,
    *,
    school_name: str,
    partial: bool = False,
    preview: bool = False,
    replace_demo: bool = False,
) -> ImportReport:
    """Bring the school named `school_name` (created if missing) in line with `roster`: the
    whole school, or only adding and updating (`partial`). With `preview`, nothing is written
    and the report says what would be. With `replace_demo`, the demo's records go first, in the
    same transaction (the caller checks that the database holds only the demo)."""
    report = ImportReport(school=school_name, partial=partial, preview=preview)
    rows = len(roster.teachers) + len(roster.students)
    try:
        with tqdm(
            total=rows,
            desc="导入名单",
            unit="行",
            file=sys.stderr,
            disable=rows <= PROGRESS_THRESHOLD,
            leave=False,
        ) as progress:
            async with db.session() as session:
                if replace_demo:
                    await _clear_demo(session)
                school = await _school(session, school_name, report)
                importer = _Importer(session, school, roster, report)
                await importer.run(progress)
                if preview:
                    raise _Preview
                await audit_all(session, importer.tag_entries())
                if report.changed:
                    await audit(
                        session=session,
                        actor="cli",
                        action="roster.replace_demo" if replace_demo else "roster.import",
                        subject=f"school:{school.id}",
                        detail=report.audit_detail(),
                    )
    except _Preview:
        pass
    return report


async def _schools(db: Database) -> list[School]:
    async with db.session() as session:
        return list((await session.exec(select(School).order_by(col(School.id)))).all())


def _demo_refusal(schools: Sequence[School], *, replace_demo: bool) -> str | None:
    """Why this import may not go ahead (one line), or None: the demo is never merged."""
    demo_only = bool(schools) and all(school.demo for school in schools)
    if demo_only and not replace_demo:
        names = "、".join(school.name for school in schools)
        return (
            f"数据库里只有示范学校「{names}」，真实名单不会与示范数据合并。"
            "如要用这份名单替换示范学校（示范的人员、家访、通知等全部删除），请加 --replace-demo。"
        )
    if replace_demo and not demo_only:
        return "数据库里没有可替换的示范学校（已有正式学校的数据），--replace-demo 不适用，未做任何改动。"
    return None


async def run_import(
    settings: Settings,
    files: list[Path],
    *,
    school_name: str | None,
    partial: bool = False,
    yes: bool = False,
    replace_demo: bool = False,
) -> int:
    """The `roster import` command: 0 when imported or previewed, 1 when the file has problems,
    2 when the database is not one this import may change (the demo, without --replace-demo)."""
    try:
        roster = await asyncio.to_thread(load_roster, files)
    except RosterError as exc:
        return refused(exc.problems, "名单")
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    name = school_name or settings.school_name
    try:
        refusal = _demo_refusal(await _schools(db), replace_demo=replace_demo)
        if refusal is not None:
            print(f"错误：{refusal}", file=sys.stderr)
            return 2
        if not partial and not yes and not replace_demo:
            report = await import_roster(db, roster, school_name=name, preview=True)
            if report.had_roster and report.changed:
                print(report.summary())
                return 0
        report = await import_roster(
            db, roster, school_name=name, partial=partial, replace_demo=replace_demo
        )
    finally:
        await db.dispose()
    print(report.summary())
    return 0
