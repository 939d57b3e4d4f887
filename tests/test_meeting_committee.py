"""The parent committee 家长委员会 kept from the command line (`committee add|remove|list`) and in
the chat (/meeting 家委会): the same members, by 学号, a guardian named when a student has two,
德育处 and the principal only, each change audited; refusals are one line and change nothing."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.meetings.tables import CommitteeMember
from models.roster.tables import Guardian, StudentGuardian
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool
from tests.helpers.visits import full_dispatcher, person

__all__ = ["cli_environment"]


async def members(db: Database) -> list[tuple[int, int]]:
    """(guardian, student) of each member, by id."""
    async with db.session() as session:
        rows = await session.exec(select(CommitteeMember).order_by(col(CommitteeMember.id)))
        return [(m.guardian_id, m.student_id) for m in rows.all()]


async def audited(db: Database) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        query = (
            select(AuditEntry)
            .where(col(AuditEntry.action).startswith("committee."))
            .order_by(col(AuditEntry.id))
        )
        return [(e.actor, e.action, e.subject) for e in (await session.exec(query)).all()]


async def _second_guardian(db: Database, school: TestSchool, student: str) -> Guardian:
    """A father for `student` (phone ending 4321), after the family's first guardian."""
    async with db.session() as session:
        father = Guardian(school_id=school.school.id or 0, name="李建国", phone="13612344321")
        session.add(father)
        await session.flush()
        session.add(
            StudentGuardian(
                student_id=school.students[student].id or 0,
                guardian_id=father.id or 0,
                relation="父亲",
                position=2,
            )
        )
    return father


@pytest.mark.usefixtures("cli_environment")
async def test_the_command_line_adds_lists_and_removes_a_member_by_student_number(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    mother, ming, hong = (
        school.guardians["刘梅"],
        school.students["张小明"],
        school.students["张小红"],
    )
    assert await run_main("committee", "add", ming.student_no, "--by", "T03") == 0
    assert (
        "已把刘梅（三(2)班 张小明的母亲）加入家长委员会（经办人：赵敏）" in capsys.readouterr().out
    )
    assert await members(db) == [(mother.id, ming.id)]
    # Again, through her other child: she is on the committee once.
    assert await run_main("committee", "add", hong.student_no, "--by", "T03") == 0
    assert "已经是家委会成员，没有改动" in capsys.readouterr().out
    assert len(await members(db)) == 1

    assert await run_main("committee", "list") == 0
    shown = capsys.readouterr().out
    assert "家长委员会成员（1 人）" in shown and "1. 刘梅（三(2)班 张小明的母亲" in shown
    assert mother.phone not in shown

    # Removed through the sibling's 学号: she is the guardian of both.
    assert await run_main("committee", "remove", hong.student_no, "--by", "T03") == 0
    assert "已把刘梅（四(1)班 张小红的母亲）移出家长委员会" in capsys.readouterr().out
    assert await members(db) == []
    assert await run_main("committee", "remove", ming.student_no, "--by", "T03") == 2
    assert "张小明（三(2)班）的家长都不在家委会中" in capsys.readouterr().err
    admin = f"staff:{school.staff['赵敏'].id}"
    assert await audited(db) == [
        (admin, "committee.add", f"guardian:{mother.id}"),
        (admin, "committee.remove", f"guardian:{mother.id}"),
    ]


@pytest.mark.usefixtures("cli_environment")
async def test_a_student_with_two_guardians_needs_guardian_named_by_name_or_phone_digits(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    father = await _second_guardian(db, school, "李娜")
    number = school.students["李娜"].student_no
    assert await run_main("committee", "add", number, "--by", "T03") == 2
    said = capsys.readouterr().err
    assert "李娜有 2 位家长（李娜家长（父亲）、李建国（父亲））" in said and "--guardian" in said
    assert await run_main("committee", "add", number, "--guardian", "张三", "--by", "T03") == 2
    assert "李娜的家长中没有“张三”" in capsys.readouterr().err
    assert await members(db) == []
    assert await run_main("committee", "add", number, "--guardian", "4321", "--by", "T03") == 0
    assert "已把李建国（三(2)班 李娜的父亲）加入" in capsys.readouterr().out
    assert await members(db) == [(father.id, school.students["李娜"].id)]
    # Only he is on the committee, so removing needs no name.
    assert await run_main("committee", "remove", number, "--by", "T03") == 0
    assert await members(db) == []


@pytest.mark.usefixtures("cli_environment")
async def test_only_the_moral_education_office_and_the_principal_change_the_committee(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    number = school.students["张小明"].student_no
    assert await run_main("committee", "add", number, "--by", "T01") == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：王芳（T01）不能管理家长委员会") and len(err.splitlines()) == 1
    assert await run_main("committee", "add", number, "--by", "X99") == 2
    assert "名册中没有工号为“X99”的在职教职工" in capsys.readouterr().err
    assert await run_main("committee", "add", "S999", "--by", "T03") == 2
    assert "没有找到学号为“S999”的在读学生" in capsys.readouterr().err
    assert await members(db) == [] and await audited(db) == []


async def test_in_the_chat_the_office_adds_a_member_by_number_and_removes_her(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    father = await _second_guardian(db, school, "李娜")
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, school.staff["赵敏"])
    await admin.send("/meeting 家委会")
    assert "家长委员会成员（0 人）" in admin.text and "（还没有成员）" in admin.text
    await admin.press("添加成员")
    await admin.send("S999")
    assert "没有找到学号为 S999 的在读学生" in admin.text
    await admin.send(school.students["张小明"].student_no)
    assert "已添加。" in admin.text and "1. 刘梅（三(2)班 张小明的母亲）" in admin.text
    # A student with two guardians: the office chooses which one joins.
    await admin.press("添加成员")
    await admin.send(school.students["李娜"].student_no)
    assert "请选择加入家委会的家长" in admin.text
    await admin.press("李建国（父亲）")
    assert "家长委员会成员（2 人）" in admin.text
    assert await members(db) == [
        (school.guardians["刘梅"].id, school.students["张小明"].id),
        (father.id, school.students["李娜"].id),
    ]
    [remove_mother] = [b.data for b in admin.buttons if b.label == "移除 刘梅"]
    await admin.callback(remove_mother)
    assert "已移除。" in admin.text and "家长委员会成员（1 人）" in admin.text
    await admin.press("移除 李建国")
    assert await members(db) == []
    await admin.callback(remove_mother)  # an old button: she is no longer on it
    assert "这位成员已经不在家委会中" in admin.text
    actor = f"staff:{school.staff['赵敏'].id}"
    assert [a for a in await audited(db) if a[1] == "committee.remove"] == [
        (actor, "committee.remove", f"guardian:{school.guardians['刘梅'].id}"),
        (actor, "committee.remove", f"guardian:{father.id}"),
    ]
    # A head teacher has no committee to keep.
    teacher = await person(db, clock, dispatcher, school.staff["王芳"])
    await teacher.callback("!mca:0")
    assert teacher.text == "这个按钮不适用于您。"
