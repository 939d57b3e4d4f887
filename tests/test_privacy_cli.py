"""`python -m bot privacy export|erase STUDENT --by 工号`: only the principal may; export writes
every record about the student on separate sheets, audited; erase shows what it will do, asks
for confirmation (or --yes), then anonymises in one transaction — the counts stay — audited and
recorded as a retention run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.privacy_cli import erase
from models.accounts.tables import ChannelAccount
from models.audit.tables import AuditEntry
from models.care.tables import CareCase, CareEntry
from models.db.engine import Database
from models.incidents.tables import Incident
from models.ledger.tables import LedgerItem
from models.privacy.tables import RetentionRun
from models.roster.tables import Guardian, Staff, Student
from models.visits.tables import Visit, VisitForm
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind
from tests.helpers.privacy import SECRET, write_records

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")


@pytest.fixture
async def principal(db: Database, school: TestSchool) -> Staff:
    async with db.session() as session:
        staff = Staff(
            school_id=school.school.id or 0,
            staff_no="P01",
            name="周校长",
            phone="13900000009",
            roles="principal",
        )
        session.add(staff)
    return staff


async def _student(db: Database, student_id: int | None) -> Student:
    async with db.session() as session:
        student = await session.get(Student, student_id)
        assert student is not None
        return student


async def _audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.session() as session:
        query = select(AuditEntry).where(col(AuditEntry.action) == action)
        return list((await session.exec(query)).all())


# -- who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "by", "said"),
    [
        ("export", "T03", "赵敏（T03）无权导出一名学生的全部数据：只有校长可以。"),
        ("erase", "T03", "赵敏（T03）无权删除（匿名化）一名学生的数据：只有校长可以。"),
        ("export", "T01", "王芳（T01）无权"),
        ("erase", "T99", "名册中没有工号为“T99”的在职教职工。"),
    ],
)
async def test_only_the_principal_may_and_a_refusal_is_one_line(
    db: Database,
    school: TestSchool,
    principal: Staff,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    by: str,
    said: str,
) -> None:
    target = tmp_path / "out.xlsx"
    extra = ("-o", str(target)) if command == "export" else ("--yes",)
    status = await run_main("privacy", command, "S007", "--by", by, *extra)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("错误：") and said in err and err.count("\n") == 1
    assert not target.exists()
    assert (await _student(db, school.students["张小明"].id)).name == "张小明"


@pytest.mark.parametrize("command", ["export", "erase"])
async def test_an_unknown_student_is_said_and_nothing_is_done(
    db: Database,
    school: TestSchool,
    principal: Staff,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    target = tmp_path / "out.xlsx"
    extra = ("-o", str(target)) if command == "export" else ("--yes",)
    status = await run_main("privacy", command, "S999", "--by", "P01", *extra)
    err = capsys.readouterr().err
    assert status == 2
    assert "名册中没有学号为“S999”的学生" in err
    assert not target.exists()
    async with db.session() as session:
        assert (await session.exec(select(RetentionRun))).all() == []


# -- export --------------------------------------------------------------------------------------


async def test_export_writes_every_record_on_its_sheet_and_is_audited(
    db: Database, school: TestSchool, principal: Staff, clock: FakeClock, tmp_path: Path
) -> None:
    written = await write_records(db, school, clock())
    target = tmp_path / "张小明.xlsx"
    assert await run_main("privacy", "export", "S007", "--by", "P01", "-o", str(target)) == 0
    book = load_workbook(target)
    for sheet in ("学生", "家长", "家访", "突发事件", "回执", "台账", "意见反馈", "关爱室个案"):
        assert sheet in book.sheetnames, sheet

    def rows(sheet: str) -> list[dict[str, object]]:
        values = list(book[sheet].iter_rows(values_only=True))
        header = [str(h) for h in values[0]]
        return [dict(zip(header, row, strict=True)) for row in values[1:]]

    [student] = rows("学生")
    assert (student["name"], student["student_no"], student["tags"]) == (
        "张小明",
        "S007",
        "单亲,留守",
    )
    [guardian] = rows("家长")
    assert (guardian["name"], guardian["phone"], guardian["relation"]) == (
        "刘梅",
        "13700000000",
        "母亲",
    )
    [visit] = rows("家访")
    assert visit["id"] == written.visit_id and visit["problems"] == f"{SECRET}问题：经济困难"
    assert [r["what"] for r in rows("突发事件")] == [f"{SECRET}操场摔倒"]
    assert [r["noticed"] for r in rows("关爱室个案")] == [f"{SECRET}情绪低落"]
    assert [r["place"] for r in rows("个案记录")] == [f"{SECRET}关爱室"]
    assert [r["text"] for r in rows("意见反馈")] == ["希望增加课后服务"]
    assert [r["id"] for r in rows("台账")] == [written.ledger_id]
    [entry] = await _audit(db, "privacy.export")
    assert (entry.actor, entry.student_id) == (
        f"staff:{principal.id}",
        school.students["张小明"].id,
    )


# -- erase ---------------------------------------------------------------------------------------


async def test_erase_without_a_terminal_and_without_yes_refuses_and_changes_nothing(
    db: Database, school: TestSchool, principal: Staff, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await run_main("privacy", "erase", "S007", "--by", "P01")
    out, err = capsys.readouterr()
    assert status == 2
    assert "将匿名化学生 三(2)班张小明（学号 S007）的数据" in out
    assert "没有确认" in err
    assert (await _student(db, school.students["张小明"].id)).name == "张小明"


async def test_erase_asks_and_an_answer_other_than_confirm_cancels(
    db: Database, school: TestSchool, principal: Staff, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await erase(
        db,
        school.school,
        student_no="S007",
        staff_no="P01",
        yes=False,
        interactive=True,
        ask=lambda prompt: "算了",
    )
    assert status == 1
    assert "已取消" in capsys.readouterr().out
    assert (await _student(db, school.students["张小明"].id)).name == "张小明"


async def test_erase_anonymises_the_student_and_keeps_the_counts(
    db: Database, school: TestSchool, principal: Staff, clock: FakeClock
) -> None:
    written = await write_records(db, school, clock())
    status = await erase(
        db,
        school.school,
        student_no="S007",
        staff_no="P01",
        yes=False,
        interactive=True,
        ask=lambda prompt: "确认",
        now=clock(),
    )
    assert status == 0
    student = await _student(db, school.students["张小明"].id)
    assert (student.name, student.tags, student.erased_at, student.active) == (
        "已删除学生",
        "",
        clock(),
        False,
    )
    assert student.student_no != "S007" and student.student_no.startswith("已删除-")
    async with db.session() as session:
        visits = (await session.exec(select(Visit))).all()
        visit = await session.get(Visit, written.visit_id)
        incident = await session.get(Incident, written.incident_id)
        case = await session.get(CareCase, written.case_id)
        entries = (await session.exec(select(CareEntry))).all()
        item = await session.get(LedgerItem, written.ledger_id)
        mother = await session.get(Guardian, school.guardians["刘梅"].id)
        runs = (await session.exec(select(RetentionRun))).all()
    assert len(visits) == 1  # the count stays
    assert visit is not None and incident is not None and case is not None and item is not None
    assert (visit.visit_date, visit.form) == (clock().date() - timedelta(days=3), VisitForm.HOME)
    assert SECRET not in "".join(
        [visit.school_report, visit.family, visit.problems, visit.notes, visit.measures]
    )
    assert (incident.what, incident.where_now) == ("", "")
    assert (case.noticed, case.problem, case.background) == ("", "", "")
    assert all(e.problem == e.place == "" for e in entries)
    assert item.description == "已删除"
    # 刘梅 is also 张小红's mother: kept as she is.
    assert mother is not None and (mother.name, mother.phone) == ("刘梅", "13700000000")
    [run] = runs
    assert (run.kind, run.action) == ("erase", "anonymised") and run.count > 5
    [entry] = await _audit(db, "privacy.erase")
    assert (entry.actor, entry.student_id) == (f"staff:{principal.id}", student.id)


async def test_erase_anonymises_and_unbinds_a_guardian_with_no_other_child(
    db: Database, school: TestSchool, principal: Staff, clock: FakeClock
) -> None:
    father = school.guardians["王磊家长"]
    await bind(db, clock, father)
    assert await run_main("privacy", "erase", "S009", "--by", "P01", "--yes") == 0
    async with db.session() as session:
        erased = await session.get(Guardian, father.id)
        accounts = (
            await session.exec(
                select(ChannelAccount).where(col(ChannelAccount.person_id) == father.id)
            )
        ).all()
    assert erased is not None
    assert erased.name == "已删除家长" and erased.phone != father.phone
    assert [a for a in accounts if a.person_kind.value == "guardian"] == []
    assert (await _student(db, school.students["王磊"].id)).name == "已删除学生"
    # The number is gone: a second erase does not find the student.
    assert await run_main("privacy", "erase", "S009", "--by", "P01", "--yes") == 2
