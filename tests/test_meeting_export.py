"""`python -m bot export meetings --semester … --by 工号 -o FILE.xlsx` (bot/exports/meetings.py): a
semester's meetings, each with its 文号, the families invited, their answers (确认参加, 不能参加, no
answer), who came and whether minutes exist; a sheet of each family's answer and attendance with
no phone number; 德育处 and the principal only; a semester with no meeting gives the headers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.exports.meetings import export_meetings
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.errors import CommandRefused
from models.school.tables import Term, TermKind
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool
from tests.helpers.notices import bind_guardians, press_on, received
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import full_dispatcher, person
from tests.test_meeting_chat import PLAN, meetings

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")


async def _terms(db: Database, school: TestSchool) -> None:
    async with db.session() as session:
        for name, start, end in (
            ("2026秋季学期", date(2026, 9, 1), date(2027, 1, 20)),
            ("2027春季学期", date(2027, 2, 20), date(2027, 7, 5)),
        ):
            session.add(
                Term(
                    school_id=school.school.id or 0,
                    kind=TermKind.SEMESTER,
                    name=name,
                    start_date=start,
                    end_date=end,
                )
            )


def _sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(path)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


async def _held_meeting(db: Database, clock: FakeClock, school: TestSchool) -> None:
    """王芳's 三(2)班 meeting: approved, 刘梅 确认参加, 李娜's family 不能参加, four silent; after
    it 王磊's family marked present too, minutes as text, closed. And 赵敏's school-wide meeting,
    cancelled."""
    dispatcher = full_dispatcher(db, clock)
    teacher = await person(db, clock, dispatcher, school.staff["王芳"])
    admin = await person(db, clock, dispatcher, school.staff["赵敏"])
    families = await bind_guardians(db, clock, dispatcher, school, "刘梅", "李娜家长")
    await teacher.send("/meeting")
    await teacher.steps(*PLAN, "提交")
    [approval] = [reply_of(r) for r in await outbox(db, kind="notice_approval")]
    await press_on(admin, approval, "批准")
    [to_mother] = await received(db, families["刘梅"])
    await press_on(families["刘梅"], to_mother, "确认参加")
    [to_lina] = await received(db, families["李娜家长"])
    await press_on(families["李娜家长"], to_lina, "不能参加")
    await admin.send("/meeting new")
    await admin.steps("全校家长会", ">12月20日 9:00", ">操场", ">安全教育", "提交")
    await admin.send("/meeting")
    await admin.press("取消会议（2）")
    await admin.press("确认取消会议")
    clock.advance(days=33)
    await teacher.send("/meeting")
    await teacher.steps("记录出席", "⬜ 王磊", "保存出席情况", "上传纪要")
    await teacher.send("家长会纪要：期中成绩分析，家长提出三条建议。")
    await teacher.press("结束会议")
    assert "会议已结束" in teacher.text


async def test_the_export_lists_each_meeting_with_answers_attendance_and_minutes(
    db: Database,
    school: TestSchool,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _terms(db, school)
    await _held_meeting(db, clock, school)
    held, cancelled = await meetings(db)
    path = tmp_path / "家长会.xlsx"
    args = ("export", "meetings", "--semester", "2026秋季学期", "--by", "T03", "-o", str(path))
    assert await run_main(*args) == 0
    said = capsys.readouterr().out
    assert "已导出2026秋季学期（2026-09-01 至 2027-01-20）的 2 次会议" in said
    sheets = _sheets(path)
    assert list(sheets) == ["会议", "出席"]
    head, first, second = sheets["会议"]
    assert head == (
        *("编号", "对象", "类型", "时间", "地点", "组织者", "状态", "文号", "通知状态"),
        *("邀请（户）", "确认参加", "不能参加", "未回复", "出席（户）", "纪要", "纪要形式"),
    )
    number = first[7]
    assert isinstance(number, str) and number.startswith("〔2026〕")
    assert first[:7] == (
        held.id,
        "三(2)班",
        "班级家长会",
        first[3],
        "三楼会议室",
        "王芳",
        "已召开",
    )
    assert (first[3].month, first[3].day, first[3].hour, first[3].minute) == (12, 18, 15, 30)
    # Its notice (published; 6 families), the answers 1 · 1 · 4 silent, 2 came, text minutes.
    assert first[8:] == ("已发布", 6, 1, 1, 4, 2, "有", "文字")
    # The cancelled meeting: its notice archived, no family answered, nothing recorded.
    assert second[:7] == (cancelled.id, "全校", "全校家长会", second[3], "操场", "赵敏", "已取消")
    assert second[9:] == (18, 0, 0, 18, None, "无", None)

    families = sheets["出席"]
    assert families[0] == ("会议编号", "会议时间", "班级", "学号", "学生", "回复", "出席")
    mine = {row[4]: row[5:] for row in families[1:] if row[0] == held.id}
    assert len(mine) == 6
    assert mine["张小明"] == ("确认参加", "出席")
    assert mine["李娜"] == ("不能参加", "缺席")
    assert mine["王磊"] == ("未回复", "出席")
    assert sum(1 for answer, came in mine.values() if (answer, came) == ("未回复", "缺席")) == 3
    assert {row[5:] for row in families[1:] if row[0] == cancelled.id} == {("未回复", "未记录")}
    text = "\n".join(str(cell) for row in families for cell in row)
    assert "137" not in text and "刘梅" not in text
    async with db.session() as session:
        [entry] = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "export.meetings"))
        ).all()
    assert entry.actor == f"staff:{school.staff['赵敏'].id}" and "2 meetings" in entry.detail


async def test_a_semester_is_named_by_a_date_in_it_or_is_todays(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _terms(db, school)
    path = tmp_path / "春.xlsx"
    args = ("export", "meetings", "--semester", "2027-02-20", "--by", "T03", "-o", str(path))
    assert await run_main(*args) == 0
    assert "2027春季学期（2027-02-20 至 2027-07-05）没有安排家长会；已写出只有表头的文件" in (
        capsys.readouterr().out
    )
    assert [len(rows) for rows in _sheets(path).values()] == [1, 1]
    done = await export_meetings(
        db, semester=None, staff_no="T03", path=tmp_path / "今.xlsx", today=date(2026, 11, 16)
    )
    assert (done.term.name, done.meetings) == ("2026秋季学期", 0)
    with pytest.raises(CommandRefused, match="不在任何学期内"):
        await export_meetings(
            db, semester=None, staff_no="T03", path=tmp_path / "寒.xlsx", today=date(2027, 2, 1)
        )


@pytest.mark.parametrize(
    ("semester", "by", "said"),
    [
        (
            "2025秋季学期",
            "T03",
            "校历中没有名为“2025秋季学期”的学期。校历中的学期：2026秋季学期（2026-09-01 起）",
        ),
        ("2027-08-01", "T03", "2027-08-01 不在任何学期内"),
        ("2026秋季学期", "T01", "王芳（T01）不能导出家长会记录：只有德育处和校长可以导出。"),
        ("2026秋季学期", "X99", "名册中没有工号为“X99”的在职教职工。"),
    ],
    ids=["an unknown semester", "a date in no semester", "a head teacher", "an unknown 工号"],
)
async def test_a_refused_export_is_one_line_and_writes_nothing(
    db: Database,
    school: TestSchool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    semester: str,
    by: str,
    said: str,
) -> None:
    await _terms(db, school)
    path = tmp_path / "m.xlsx"
    args = ("export", "meetings", "--semester", semester, "--by", by, "-o", str(path))
    assert await run_main(*args) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.splitlines()) == 1
    assert not path.exists()


async def test_without_a_calendar_the_export_asks_for_one(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.xlsx"
    assert await run_main("export", "meetings", "--by", "T03", "-o", str(path)) == 2
    assert "校历中还没有学期。请先导入校历" in capsys.readouterr().err
    assert not path.exists()
