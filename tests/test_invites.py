"""`python -m bot invites`: who gets a row, the codes, the links, and the two output formats."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.roster.invites import display_width, format_table, invite_link, print_invites
from bot.settings import Settings
from models.accounts.tables import Invite
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.errors import JiafangError
from tests.fakes.telegram_request import FakeBotApi, FakeTelegramRequest
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind


def settings_for(db: Database, **values: Any) -> Settings:
    return Settings(_env_file=None, database_url=db.url, school_name="测试小学", **values)


async def export_csv(
    db: Database, clock: FakeClock, tmp_path: Path, **options: Any
) -> list[dict[str, str]]:
    settings = settings_for(db, **options.pop("settings", {"telegram_bot_username": "jiafang_bot"}))
    output = tmp_path / "invites.csv"
    status = await print_invites(
        settings,
        fmt="csv",
        role=options.pop("role", "all"),
        class_name=options.pop("class_name", None),
        output=output,
        now=clock(),
        **options,
    )
    assert status == 0
    raw = output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def by_name(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in rows}


async def test_every_staff_member_and_guardian_gets_a_code_and_a_link(
    db: Database, clock: FakeClock, tmp_path: Path, school: factories.TestSchool
) -> None:
    rows = await export_csv(db, clock, tmp_path)
    assert list(rows[0]) == ["role", "name", "class", "student", "code", "link"]
    assert len(rows) == 5 + 17  # five staff; seventeen guardians (one mother of two)
    people = by_name(rows)
    code = people["王芳"]["code"]
    assert people["王芳"]["link"] == f"https://t.me/jiafang_bot?start={code}"
    async with db.session() as session:
        invites = (await session.exec(select(Invite))).all()
    assert {i.code for i in invites} == {row["code"] for row in rows}


@pytest.mark.parametrize(
    ("name", "role", "classes", "students"),
    [
        ("王芳", "班主任、任课教师", "三(2)班、三(1)班", ""),
        ("李强", "班主任", "三(1)班", ""),
        ("赵敏", "德育处", "", ""),
        ("钱进", "教练", "", ""),
        ("刘梅", "家长", "三(2)班、四(1)班", "三(2)班 张小明、四(1)班 张小红"),
        ("李华家长", "家长", "三(1)班", "三(1)班 李华"),
    ],
)
async def test_each_row_says_the_role_in_chinese_with_classes_and_children(
    db: Database,
    clock: FakeClock,
    tmp_path: Path,
    school: factories.TestSchool,
    name: str,
    role: str,
    classes: str,
    students: str,
) -> None:
    row = by_name(await export_csv(db, clock, tmp_path))[name]
    assert (row["role"], row["class"], row["student"]) == (role, classes, students)


async def test_running_it_again_hands_out_the_same_unused_codes(
    db: Database, clock: FakeClock, tmp_path: Path, school: factories.TestSchool
) -> None:
    first = await export_csv(db, clock, tmp_path)
    clock.advance(days=1)
    second = await export_csv(db, clock, tmp_path)
    assert [r["code"] for r in first] == [r["code"] for r in second]


async def test_people_already_bound_are_marked_instead_of_given_a_code(
    db: Database, clock: FakeClock, tmp_path: Path, school: factories.TestSchool
) -> None:
    await bind(db, clock, school.staff["王芳"], channel="telegram")
    row = by_name(await export_csv(db, clock, tmp_path))["王芳"]
    assert (row["code"], row["link"]) == ("已绑定", "")


@pytest.mark.parametrize(
    ("role", "class_name", "names"),
    [
        ("staff", None, {"王芳", "李强", "赵敏", "钱进", "孙丽"}),
        ("staff", "3-2", {"王芳"}),
        ("staff", "三（1）班", {"王芳", "李强"}),
        (
            "guardian",
            "四(1)班",
            {"刘梅", "赵刚家长", "孙悦家长", "周敏家长", "吴昊家长", "郑凯家长"},
        ),
    ],
)
async def test_rows_can_be_limited_to_a_role_and_a_class(
    db: Database,
    clock: FakeClock,
    tmp_path: Path,
    school: factories.TestSchool,
    role: str,
    class_name: str | None,
    names: set[str],
) -> None:
    rows = await export_csv(db, clock, tmp_path, role=role, class_name=class_name)
    assert {r["name"] for r in rows} == names


async def test_an_unknown_class_is_refused_clearly(
    db: Database, clock: FakeClock, tmp_path: Path, school: factories.TestSchool
) -> None:
    with pytest.raises(JiafangError, match="无法识别班级"):
        await export_csv(db, clock, tmp_path, class_name="火星班")


async def test_without_a_bot_name_the_link_column_says_how_to_use_the_code(
    db: Database, clock: FakeClock, tmp_path: Path, school: factories.TestSchool
) -> None:
    rows = await export_csv(db, clock, tmp_path, settings={})
    assert rows[0]["link"] == f"向机器人发送 /start {rows[0]['code']}"


async def test_the_bot_name_is_asked_from_telegram_when_only_a_token_is_set(
    db: Database, clock: FakeClock, tmp_path: Path, school: factories.TestSchool
) -> None:
    api = FakeBotApi()
    rows = await export_csv(
        db,
        clock,
        tmp_path,
        settings={"telegram_bot_token": "7000000001:TEST-token"},
        request=FakeTelegramRequest(api),
    )
    assert rows[0]["link"].startswith("https://t.me/jiafang_test_bot?start=")
    assert [c.method for c in api.calls] == ["getMe"]


async def test_the_export_of_invites_is_audited(
    db: Database, clock: FakeClock, tmp_path: Path, school: factories.TestSchool
) -> None:
    await export_csv(db, clock, tmp_path, role="staff")
    async with db.session() as session:
        entry = (await session.exec(select(AuditEntry))).one()
    assert (entry.actor, entry.action) == ("cli", "export.invites")
    assert "5 rows" in entry.detail


async def test_without_a_roster_it_says_to_import_one_first(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    with pytest.raises(JiafangError, match="roster import"):
        await export_csv(db, clock, tmp_path)


async def test_the_table_format_prints_to_stdout(
    db: Database,
    clock: FakeClock,
    school: factories.TestSchool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = settings_for(db, telegram_bot_username="jiafang_bot")
    await print_invites(
        settings, fmt="table", role="staff", class_name=None, output=None, now=clock()
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["角色", "姓名", "班级", "学生", "邀请码", "链接"]
    assert len(lines) == 2 + 5


@pytest.mark.parametrize(
    ("text", "width"),
    [("abc", 3), ("王芳", 4), ("三(2)班", 7), ("（", 2), ("", 0), ("✓", 1)],
)
def test_display_width_counts_cjk_characters_as_two_columns(text: str, width: int) -> None:
    assert display_width(text) == width


def test_table_columns_line_up_with_mixed_chinese_and_latin_text() -> None:
    table = format_table(
        [("角色", "姓名", "代码"), ("班主任、任课教师", "王芳", "ABC"), ("家长", "Li", "X")]
    )
    header, rule, first, second = table.splitlines()
    columns = {
        display_width(line[: line.index(cell)])
        for line, cell in [(header, "代码"), (first, "ABC"), (second, "X")]
    }
    assert len(columns) == 1
    assert rule.startswith("-" * display_width("班主任、任课教师") + "  ")


@pytest.mark.parametrize(
    ("username", "link"),
    [
        ("jiafang_bot", "https://t.me/jiafang_bot?start=ABC234"),
        (None, "向机器人发送 /start ABC234"),
    ],
)
def test_invite_links(username: str | None, link: str) -> None:
    assert invite_link(username, "ABC234") == link
