"""The 大走访 from the command line: `campaign new|list|generate|assign|move` and `export
campaign`, over the test school: a generated table (one row per household, siblings once, the
head teacher first), an imported sheet — clean, and with mistakes that import nothing — a
household moved, and the export's three sheets, whose 包保表 reads back to the same table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import col, select

from models.campaigns.tables import AssignmentSource, Campaign, CampaignAssignment
from models.db.engine import Database
from models.families.tables import FamilyProfile
from models.roster.tables import Staff
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.factories import TestSchool

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")


async def rows(db: Database) -> list[CampaignAssignment]:
    async with db.session() as session:
        query = select(CampaignAssignment).order_by(col(CampaignAssignment.student_id))
        return list((await session.exec(query)).all())


async def _new(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    status = await run_main(
        *("campaign", "new", "--name", "秋季大走访", "--from", "2026-11-01"),
        *("--to", "2026-11-30", "--by", "T03", *extra),
    )
    assert status == 0
    return capsys.readouterr().out


def _sheet(path: Path, table: list[list[str]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "包保表"
    sheet.append(["校领导", "年级", "班级", "责任教师", "学生"])
    for line in table:
        sheet.append(line)
    workbook.save(path)
    return path


async def test_new_list_and_generate_write_one_row_per_household(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    said = await _new(capsys, "--grades", "3,4", "--rule", "any_form", "--no-left-behind")
    assert "已新建大走访 #1“秋季大走访”" in said and "3年级、4年级" in said
    async with db.session() as session:
        [campaign] = (await session.exec(select(Campaign))).all()
    assert campaign.grades == [3, 4] and not campaign.left_behind_monthly
    assert await run_main("campaign", "generate", "1", "--by", "T03") == 0
    out = capsys.readouterr().out
    assert "共 17 户" in out
    assert "三(1)班：6 户（李强 3、王芳 3）" in out
    saved = await rows(db)
    assert len(saved) == 17
    assert {r.source for r in saved} == {AssignmentSource.GENERATED}
    siblings = {school.students["张小明"].id, school.students["张小红"].id}
    assert [r.student_id for r in saved if r.student_id in siblings] == [
        school.students["张小红"].id
    ]
    first = next(r for r in saved if r.student_id == school.students["李华"].id)
    assert first.teacher_id == school.staff["李强"].id  # the head teacher's block first
    assert await run_main("campaign", "list") == 0
    listed = capsys.readouterr().out
    assert "#1 秋季大走访：2026-11-01 至 2026-11-30" in listed and "已分配 17 户" in listed


async def test_a_clean_sheet_is_imported(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _new(capsys)
    sheet = _sheet(
        tmp_path / "包保表.xlsx",
        [
            ["陈校长", "三年级", "三(1)班", "李强", "S001、S002、S003"],
            ["", "", "三(1)班", "T01", "S004、S005、陈晨"],
            ["", "", "三(2)班", "王芳", ""],
            ["", "四年级", "四(1)班", "孙丽", ""],
        ],
    )
    assert await run_main("campaign", "assign", "1", str(sheet), "--by", "T03") == 0
    out = capsys.readouterr().out
    assert "已导入" in out and "共 17 户" in out
    saved = await rows(db)
    assert len(saved) == 17 and {r.source for r in saved} == {AssignmentSource.IMPORTED}
    chen = next(r for r in saved if r.student_id == school.students["陈晨"].id)
    assert chen.teacher_id == school.staff["王芳"].id and chen.leader == "陈校长"


async def test_a_sheet_with_mistakes_imports_nothing_and_names_each_by_row_and_column(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _new(capsys)
    assert await run_main("campaign", "generate", "1", "--by", "T03") == 0
    before = [(r.student_id, r.teacher_id) for r in await rows(db)]
    capsys.readouterr()
    sheet = _sheet(
        tmp_path / "包保表.xlsx",
        [
            ["", "三年级", "三(1)班", "李强", "S001 S002 S003"],
            ["", "", "三(1)班", "王芳", "S003"],  # twice
            ["", "", "三(2)班", "李四", ""],  # not a teacher
            ["", "四年级", "四(1)班", "孙丽", "S013、S014、S015"],  # 四(1)班's others unassigned
        ],
    )
    assert await run_main("campaign", "assign", "1", str(sheet), "--by", "T03") == 1
    err = capsys.readouterr().err.splitlines()
    assert (
        "包保表 第 3 行 E 列（学生）：三(1)班吴迪（S003）已在第 2 行分配过，一个家庭只能有一位责任教师。"
        in err
    )
    assert "包保表 第 4 行 D 列（责任教师）：教师名单中没有“李四”。" in err
    assert any(line.startswith("包保表：") and "还没有责任教师" in line for line in err)
    assert err[-1].startswith("包保表未导入，数据库没有任何改动。")
    assert [(r.student_id, r.teacher_id) for r in await rows(db)] == before


async def test_move_gives_one_household_to_another_teacher(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    await _new(capsys)
    assert await run_main("campaign", "generate", "1", "--by", "T03") == 0
    assert await run_main("campaign", "move", "1", "S007", "T04", "--by", "T03") == 0
    assert "由孙丽改为钱进老师包保" in capsys.readouterr().out
    moved = [r for r in await rows(db) if r.teacher_id == school.staff["钱进"].id]
    assert [(r.student_id, r.source) for r in moved] == [
        (school.students["张小红"].id, AssignmentSource.EDITED)
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["campaign", "generate", "9", "--by", "T03"], "没有编号为 9 的大走访"),
        (["campaign", "generate", "一", "--by", "T03"], "大走访编号应是数字"),
        (["campaign", "generate", "1", "--by", "T99"], "没有工号为“T99”"),
        (["campaign", "generate", "1", "--by", "T01"], "不能管理大走访"),
        (["campaign", "move", "1", "S999", "T04", "--by", "T03"], "没有学号为“S999”"),
        (["campaign", "move", "1", "S001", "T99", "--by", "T03"], "没有工号为“T99”"),
    ],
)
async def test_bad_arguments_are_one_line_and_change_nothing(
    db: Database,
    school: TestSchool,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    said: str,
) -> None:
    await _new(capsys)
    assert await run_main(*args) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("错误：") and said in err[0]
    assert await rows(db) == []


async def test_no_household_is_given_to_a_district_admin_on_the_roster(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    async with db.session() as session:
        session.add(
            Staff(school_id=school.school.id or 0, staff_no="D01", name="李督导", roles="district")
        )
    await _new(capsys)
    assert await run_main("campaign", "generate", "1", "--by", "T03") == 0
    before = [(r.student_id, r.teacher_id) for r in await rows(db)]
    capsys.readouterr()
    assert await run_main("campaign", "move", "1", "S007", "D01", "--by", "T03") == 2
    assert "没有工号为“D01”" in capsys.readouterr().err
    assert [(r.student_id, r.teacher_id) for r in await rows(db)] == before


async def test_an_end_before_the_start_creates_nothing(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await run_main(
        *("campaign", "new", "--name", "秋季", "--from", "2026-11-30", "--to", "2026-11-01"),
        *("--by", "T03"),
    )
    assert status == 2
    assert "结束日期 2026-11-01 早于开始日期 2026-11-30" in capsys.readouterr().err
    async with db.session() as session:
        assert (await session.exec(select(Campaign))).all() == []


async def _visit(db: Database, school: TestSchool, student: str, teacher: str, day: int) -> None:
    async with db.session() as session:
        session.add(
            Visit(
                school_id=school.school.id or 0,
                teacher_id=school.staff[teacher].id or 0,
                student_id=school.students[student].id or 0,
                visit_date=date(2026, 11, day),
                form=VisitForm.HOME,
                category=VisitCategory.ROUTINE,
            )
        )


async def test_the_export_has_three_sheets_and_its_table_imports_back_unchanged(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _new(capsys)
    assert await run_main("campaign", "generate", "1", "--by", "T03") == 0
    await _visit(db, school, "张小明", "王芳", 3)
    await _visit(db, school, "张小红", "孙丽", 5)  # the same household: a double visit
    await _visit(db, school, "李华", "李强", 4)
    async with db.session() as session:
        session.add(
            FamilyProfile(
                school_id=school.school.id or 0,
                student_id=school.students["李华"].id or 0,
                economy="hard",
                father_work="farmer",
            )
        )
    output = tmp_path / "大走访.xlsx"
    assert await run_main("export", "campaign", "1", "-o", str(output), "--by", "T03") == 0
    assert "17 户" in capsys.readouterr().out
    workbook = load_workbook(output)
    assert workbook.sheetnames == ["包保表", "家访", "入户率"]
    table = [list(r) for r in workbook["包保表"].iter_rows(values_only=True)]
    assert table[0] == ["校领导", "年级", "班级", "责任教师", "学生"]
    assert table[1] == [None, "三年级", "三(1)班", "李强", "S001、S002、S003"]
    visits = [list(r) for r in workbook["家访"].iter_rows(values_only=True)]
    assert len(visits) == 18
    header = visits[0]
    hua = next(r for r in visits if r[1] == "李华（S001）")
    assert hua[header.index("已走访")] == "是"
    assert hua[header.index("经济状况")] == "困难" and hua[header.index("父亲职业")] == "农民"
    family = next(r for r in visits if "张小明" in str(r[1]))
    assert family[header.index("重复走访")] == "是"
    assert family[header.index("责任教师")] == "孙丽"
    assert "2026-11-03 王芳 上门家访；2026-11-05 孙丽 上门家访" in str(
        family[header.index("本次走访的家访记录")]
    )
    rates = [list(r) for r in workbook["入户率"].iter_rows(values_only=True)]
    assert ["全校", "全校", 17, 2, 12] in rates
    assert ["班级", "三(2)班", 6, 1, 17] in rates
    before = [(r.student_id, r.teacher_id) for r in await rows(db)]
    assert await run_main("campaign", "assign", "1", str(output), "--by", "T03") == 0
    assert [(r.student_id, r.teacher_id) for r in await rows(db)] == before
