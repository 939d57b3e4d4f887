"""Importing the roster into the database: create, re-import, update in place, refuse bad files."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from bot.cli import main
from bot.roster.importer import ImportReport, import_roster, load_roster
from bot.settings import get_settings
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.roster.rules import validate_roster
from models.roster.sheets import SHEET_LABELS, RawSheet
from models.roster.tables import Guardian, Staff, Student, StudentGuardian, Teaching
from models.school.tables import Group, GroupCoach, GroupMember, School, SchoolClass
from tests.helpers.statements import counting_selects

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCHOOL = "测试小学"

Rows = list[list[str]]
Snapshot = dict[str, set[tuple[Any, ...]]]


def example_rows(name: str) -> Rows:
    with (EXAMPLES / name).open(encoding="utf-8-sig", newline="") as handle:
        return [list(row) for row in csv.reader(handle)]


def write_csv(path: Path, rows: Rows, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_roster(
    folder: Path, teachers: Rows | None = None, students: Rows | None = None
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_csv(folder / "teachers.csv", teachers or example_rows("teachers.csv")),
        write_csv(folder / "students.csv", students or example_rows("students.csv")),
    ]


def edit(rows: Rows, key: str, column: str, value: str) -> Rows:
    """A copy of `rows` with one cell changed: the row whose first cell is `key`."""
    index = rows[0].index(column)
    return [
        [*row[:index], value, *row[index + 1 :]] if row[0] == key else list(row) for row in rows
    ]


async def import_files(db: Database, files: list[Path], school: str = SCHOOL) -> ImportReport:
    return await import_roster(db, load_roster(files), school_name=school)


async def snapshot(db: Database, school_name: str = SCHOOL) -> Snapshot:
    """The school's roster data by natural keys (no ids), to compare two imports."""
    async with db.session() as s:
        school = (await s.exec(select(School).where(School.name == school_name))).one()
        staff_no = {st.id: st.staff_no for st in await s.exec(select(Staff))}
        classes = {c.id: c for c in await s.exec(select(SchoolClass))}
        students = {st.id: st for st in await s.exec(select(Student))}
        guardians = {g.id: g for g in await s.exec(select(Guardian))}
        groups = {g.id: g.name for g in await s.exec(select(Group))}
        sid = school.id
        return {
            "staff": {
                (st.staff_no, st.name, st.phone, st.roles, st.wecom_userid, st.active)
                for st in await s.exec(select(Staff).where(Staff.school_id == sid))
            },
            "classes": {
                (c.name, c.grade, c.number, staff_no.get(c.head_teacher_id))
                for c in classes.values()
                if c.school_id == sid
            },
            "teaching": {
                (staff_no[t.staff_id], classes[t.class_id].name, t.subject)
                for t in await s.exec(select(Teaching))
                if classes[t.class_id].school_id == sid
            },
            "students": {
                (st.student_no, st.name, classes[st.class_id].name, st.tags, st.active)
                for st in students.values()
                if st.school_id == sid
            },
            "guardians": {
                (
                    students[link.student_id].student_no,
                    guardians[link.guardian_id].name,
                    guardians[link.guardian_id].phone,
                    link.relation,
                    link.position,
                )
                for link in await s.exec(select(StudentGuardian))
                if students[link.student_id].school_id == sid
            },
            "coaches": {
                (groups[c.group_id], staff_no[c.staff_id])
                for c in await s.exec(select(GroupCoach))
                if c.group_id in groups
            },
            "members": {
                (groups[m.group_id], students[m.student_id].student_no)
                for m in await s.exec(select(GroupMember))
                if students[m.student_id].school_id == sid
            },
        }


def rows_of(snap: Snapshot, table: str, key: str) -> set[tuple[Any, ...]]:
    return {row for row in snap[table] if row[0] == key}


# --- a first import ---------------------------------------------------------------------------


async def test_importing_the_example_creates_the_whole_school(db: Database) -> None:
    report = await import_files(db, [EXAMPLES / "roster.xlsx"])
    assert report.summary() == (
        "导入完成：教师 6（新增 6），学生 20（新增 20），家长 24（新增 24），"
        "班级 2（新增 2），社团/队 1（新增 1）。"
    )


async def test_head_teachers_and_teaching_come_from_the_file(db: Database) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    snap = await snapshot(db)
    assert snap["classes"] == {("三(1)班", 3, 1, "T001"), ("五(2)班", 5, 2, "T002")}
    assert rows_of(snap, "teaching", "T001") == {
        ("T001", "三(1)班", "语文"),
        ("T001", "五(2)班", "道德与法治"),
    }


async def test_roles_and_wecom_accounts_are_stored_on_the_staff_row(db: Database) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    staff = {row[0]: row for row in (await snapshot(db))["staff"]}
    assert (staff["T005"][3], staff["T004"][3], staff["T001"][3]) == ("admin", "care", "")
    assert staff["T005"][4] == "zhaomin"


async def test_siblings_share_one_guardian_in_the_same_positions(db: Database) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    snap = await snapshot(db)
    for student_no in ("20240101", "20220201"):
        assert rows_of(snap, "guardians", student_no) == {
            (student_no, "刘梅", "13800010002", "母亲", 1),
            (student_no, "张伟", "13800010001", "父亲", 2),
        }
    async with db.session() as s:
        mothers = await s.exec(select(func.count()).where(Guardian.phone == "13800010002"))
        assert mothers.one() == 1


async def test_tags_are_stored_in_canonical_order(db: Database) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    tags = {row[0]: row[3] for row in (await snapshot(db))["students"]}
    assert (tags["20240108"], tags["20240102"], tags["20240101"]) == ("贫困,留守", "留守", "")


async def test_a_coach_leads_the_team_whose_members_the_file_lists(db: Database) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    snap = await snapshot(db)
    assert snap["coaches"] == {("足球队", "T006")}
    assert {no for _, no in snap["members"]} == {
        "20240101",
        "20240103",
        "20240107",
        "20220202",
        "20220205",
        "20220209",
    }


def _gbk(folder: Path) -> list[Path]:
    teachers, students = example_rows("teachers.csv"), example_rows("students.csv")
    folder.mkdir()
    return [
        write_csv(folder / "teachers.csv", teachers, "gbk"),
        write_csv(folder / "students.csv", students, "gbk"),
    ]


def _english_headers(folder: Path) -> list[Path]:
    english = {
        "工号": " Staff_No",
        "姓名": "NAME ",
        "手机": "phone",
        "班主任": "head_of",
        "任教": "teaches",
        "角色": "roles",
        "企业微信账号": "wecom_userid",
        "带队": "coaches",
        "学号": "student_no",
        "班级": "class",
        "特殊类型": "tags",
        "社团": "groups",
    }
    for position in (1, 2):
        for chinese, alias in (("姓名", "name"), ("关系", "relation"), ("手机", "phone")):
            english[f"家长{position}{chinese}"] = f"guardian{position}_{alias}"
    teachers, students = example_rows("teachers.csv"), example_rows("students.csv")
    teachers[0] = [english[h] for h in teachers[0]]
    students[0] = [english[h] for h in students[0]]
    return write_roster(folder, teachers, students)


FORMATS: dict[str, Callable[[Path], list[Path]]] = {
    "utf8-bom-csv": lambda _folder: [EXAMPLES / "teachers.csv", EXAMPLES / "students.csv"],
    "gbk-csv": _gbk,
    "english-headers": _english_headers,
}


@pytest.mark.parametrize("variant", list(FORMATS))
async def test_every_roster_format_imports_the_same_data_as_the_workbook(
    db: Database, tmp_path: Path, variant: str
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"], school="工作簿小学")
    await import_files(db, FORMATS[variant](tmp_path / variant), school="CSV小学")
    assert await snapshot(db, "CSV小学") == await snapshot(db, "工作簿小学")


# --- re-imports -------------------------------------------------------------------------------


async def test_reimporting_the_same_file_changes_nothing(db: Database) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    before = await snapshot(db)
    count = select(func.count(col(AuditEntry.id)))
    async with db.session() as s:
        entries = (await s.exec(count)).one()
    report = await import_files(db, [EXAMPLES / "teachers.csv", EXAMPLES / "students.csv"])
    assert not report.changed
    assert report.summary() == (
        "导入完成：名单未变化（教师 6，学生 20，家长 24，班级 2，社团/队 1）。"
    )
    assert await snapshot(db) == before
    async with db.session() as s:
        assert (await s.exec(count)).one() == entries  # nothing changed: nothing audited


async def test_a_student_who_changes_class_is_moved_in_place(db: Database, tmp_path: Path) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    students = edit(example_rows("students.csv"), "20240104", "班级", "5-2")
    report = await import_files(db, write_roster(tmp_path, students=students))
    assert report.summary() == ("导入完成：教师 6，学生 20（更新 1），家长 24，班级 2，社团/队 1。")
    assert rows_of(await snapshot(db), "students", "20240104") == {
        ("20240104", "赵雨涵", "五(2)班", "单亲", True)
    }


async def test_a_changed_guardian_phone_links_the_student_to_the_new_number(
    db: Database, tmp_path: Path
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    students = edit(example_rows("students.csv"), "20240104", "家长1手机", "13800019999")
    report = await import_files(db, write_roster(tmp_path, students=students))
    assert (report.guardians.created, report.students.updated) == (1, 1)
    assert rows_of(await snapshot(db), "guardians", "20240104") == {
        ("20240104", "赵丽", "13800019999", "母亲", 1)
    }


async def test_a_teacher_who_loses_a_class_no_longer_teaches_it(
    db: Database, tmp_path: Path
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    teachers = edit(example_rows("teachers.csv"), "T003", "任教", "三(1)班:数学")
    report = await import_files(db, write_roster(tmp_path, teachers=teachers))
    assert report.teachers.updated == 1
    assert rows_of(await snapshot(db), "teaching", "T003") == {("T003", "三(1)班", "数学")}


async def test_a_head_teacher_left_blank_is_cleared_from_the_class(
    db: Database, tmp_path: Path
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    teachers = edit(example_rows("teachers.csv"), "T002", "班主任", "")
    report = await import_files(db, write_roster(tmp_path, teachers=teachers))
    assert report.classes.updated == 1
    assert ("五(2)班", 5, 2, None) in (await snapshot(db))["classes"]


async def test_a_renamed_guardian_is_updated_for_every_child(db: Database, tmp_path: Path) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    students = example_rows("students.csv")
    for student_no in ("20240101", "20220201"):
        students = edit(students, student_no, "家长1姓名", "刘梅梅")
    report = await import_files(db, write_roster(tmp_path, students=students))
    assert (report.guardians.updated, report.guardians.created) == (1, 0)
    async with db.session() as s:
        names = await s.exec(select(Guardian.name).where(Guardian.phone == "13800010002"))
        assert names.all() == ["刘梅梅"]


async def test_people_missing_from_a_partial_import_are_kept_active_and_counted(
    db: Database, tmp_path: Path
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    before = await snapshot(db)
    teachers = [row for row in example_rows("teachers.csv") if row[0] != "T006"]
    teachers = [[c for i, c in enumerate(row) if i != 7] for row in teachers]  # no 带队 column
    students = [r for r in example_rows("students.csv") if r[0] not in ("20240110", "20220210")]
    files = write_roster(tmp_path, teachers, students)
    report = await import_roster(db, load_roster(files), school_name=SCHOOL, partial=True)
    assert report.summary().splitlines()[1] == (
        "另有 1 名教师、2 名学生不在本次名单中，已保留，未停用（--partial）。"
    )
    assert await snapshot(db) == before


async def test_people_missing_from_a_whole_school_import_are_deactivated_not_deleted(
    db: Database, tmp_path: Path
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    teachers = [row for row in example_rows("teachers.csv") if row[0] != "T006"]
    teachers = [[c for i, c in enumerate(row) if i != 7] for row in teachers]  # no 带队 column
    students = [r for r in example_rows("students.csv") if r[0] not in ("20240110", "20220210")]
    report = await import_files(db, write_roster(tmp_path, teachers, students))
    assert report.summary().splitlines()[1] == (
        "已停用不在名单中的 1 名教师、2 名学生（记录保留，重新导入名单即可恢复）。"
    )
    snap = await snapshot(db)
    [(*_, staff_active)] = rows_of(snap, "staff", "T006")
    [(*_, student_active)] = rows_of(snap, "students", "20220210")
    assert (staff_active, student_active) == (False, False)
    again = await import_files(db, [EXAMPLES / "roster.xlsx"])  # the full file brings them back
    assert again.students.updated == 2
    [(*_, back)] = rows_of(await snapshot(db), "students", "20220210")
    assert back is True


async def test_a_student_who_leaves_the_roster_starts_the_retention_clock_until_back(
    db: Database, tmp_path: Path
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    teachers = [row for row in example_rows("teachers.csv")]
    students = [r for r in example_rows("students.csv") if r[0] != "20220210"]
    await import_files(db, write_roster(tmp_path, teachers, students))

    async def left_at() -> dict[str, object]:
        async with db.session() as session:
            rows = (await session.exec(select(Student))).all()
        return {s.student_no: s.left_at for s in rows if s.left_at is not None}

    gone = await left_at()
    assert list(gone) == ["20220210"]
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    assert await left_at() == {}


async def test_a_column_left_out_of_the_file_leaves_that_data_alone(
    db: Database, tmp_path: Path
) -> None:
    await import_files(db, [EXAMPLES / "roster.xlsx"])
    before = await snapshot(db)
    wecom = example_rows("teachers.csv")[0].index("企业微信账号")
    teachers = [
        [c for i, c in enumerate(row) if i != wecom] for row in example_rows("teachers.csv")
    ]
    report = await import_files(db, write_roster(tmp_path, teachers=teachers))
    assert not report.changed
    assert await snapshot(db) == before


# --- efficiency and progress ------------------------------------------------------------------


def generated_roster(students: int) -> RawSheet:
    header = ["学号", "姓名", "班级", "特殊类型", "家长1姓名", "家长1关系", "家长1手机", "社团"]
    rows: list[tuple[int, list[str]]] = [(1, header)]
    for n in range(students):
        klass = f"{n % 6 + 1}-{n % 4 + 1}"
        tags = "留守" if n % 7 == 0 else ""
        group = "合唱团" if n % 5 == 0 else ""
        row = [f"S{n:05d}", f"学生{n}", klass, tags, f"家长{n}", "母亲", f"139{n:08d}", group]
        rows.append((n + 2, row))
    return RawSheet(label=SHEET_LABELS["students"], kind="students", rows=rows)


TEACHERS = RawSheet(
    label="教师",
    kind="teachers",
    rows=[
        (1, ["工号", "姓名", "班主任", "任教", "带队"]),
        (2, ["T1", "王芳", "1-1", "1-2", "合唱团"]),
    ],
)


async def test_the_number_of_queries_does_not_grow_with_the_roster(db: Database) -> None:
    counts = []
    for size, school in ((12, "小学甲"), (240, "小学乙")):
        roster = validate_roster(TEACHERS, generated_roster(size))
        for _ in range(2):  # a first import, then a re-import of the same roster
            with counting_selects(db) as selects:
                await import_roster(db, roster, school_name=school)
            counts.append(len(selects))
    assert counts[:2] == counts[2:]


@pytest.mark.parametrize(("students", "shows_bar"), [(20, False), (250, True)])
async def test_a_progress_bar_is_shown_only_for_large_files(
    db: Database, capsys: pytest.CaptureFixture[str], students: int, shows_bar: bool
) -> None:
    await import_roster(
        db, validate_roster(TEACHERS, generated_roster(students)), school_name=SCHOOL
    )
    assert ("导入名单" in capsys.readouterr().err) is shows_bar


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SCHOOL_NAME", SCHOOL)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_the_cli_imports_a_fresh_database_and_exits_zero(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["roster", "import", str(EXAMPLES / "roster.xlsx")]) == 0
    assert capsys.readouterr().out.startswith("导入完成：教师 6（新增 6），学生 20（新增 20）")


def test_the_cli_refuses_a_missing_file_in_one_line_with_status_two(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["roster", "import", str(tmp_path / "nowhere.xlsx")]) == 2
    assert capsys.readouterr().err == f"错误：找不到文件：{tmp_path / 'nowhere.xlsx'}\n"


async def test_a_file_with_invalid_rows_imports_nothing_and_lists_each_problem(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["roster", "import", str(EXAMPLES / "roster.xlsx")]) == 0
    db = Database(cli_database)
    before = await snapshot(db)
    teachers = edit(example_rows("teachers.csv"), "T004", "角色", "教导主任")
    students = example_rows("students.csv")
    students = edit(students, "20240102", "班级", "三（二二）班")
    students = edit(students, "20240105", "家长2手机", "1380001")
    students = edit(students, "20220203", "学号", "")
    students = edit(students, "20240103", "姓名", "王浩然改")  # a valid edit: must not land either
    capsys.readouterr()

    files = [str(path) for path in write_roster(tmp_path / "bad", teachers, students)]
    status = await asyncio.to_thread(main, ["roster", "import", *files])

    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        "teachers.csv 第5行 角色：未知的角色“教导主任”（可填：管理员/德育处、校长、关爱室、区域管理员/区教育局）",
        "students.csv 第3行 班级：无法识别的班级名称“三（二二）班”",
        "students.csv 第6行 家长2手机：手机号“1380001”无效，应为11位大陆手机号",
        "students.csv 第14行 学号：学号不能为空",
        "名单未导入，数据库没有任何改动。请修改以上问题后重新导入。",
    ]
    assert await snapshot(db) == before
    await db.dispose()
