"""`python -m bot invites`: a one-time code and a Telegram link for everyone on the roster.

The school prints or mails the list; each person opens their link (or sends `/start CODE`) and
is bound to their roster entry. Running it again hands out the same unused codes rather than
new ones, and people already bound are marked instead of being given a code they do not need.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, TextIO

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.channels.telegram import TelegramRequest, fetch_bot_username
from bot.settings import Settings
from models.accounts.invites import issue_invites
from models.accounts.tables import ChannelAccount, PersonKind
from models.audit.tables import audit
from models.db import migrate
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError, JiafangError
from models.roster.classnames import normalise_class_name
from models.roster.queries import active_staff, current_school
from models.roster.tables import Guardian, StaffRole, Student, StudentGuardian, Teaching
from models.school.tables import Group, GroupCoach, School, SchoolClass

#: The table is read by people; the CSV by people and scripts, so it keeps the column names the
#: operator's documentation uses (values stay Chinese).
TABLE_HEADERS = ("角色", "姓名", "班级", "学生", "邀请码", "链接")
CSV_HEADERS = ("role", "name", "class", "student", "code", "link")
BOUND = "已绑定"
ROLE_WORDS = {
    StaffRole.ADMIN: "德育处",
    StaffRole.PRINCIPAL: "校长",
    StaffRole.CARE: "关爱室",
    StaffRole.DISTRICT: "区域管理员",
}

Format = Literal["table", "csv"]
RoleFilter = Literal["all", "staff", "guardian"]


@dataclass
class InviteRow:
    kind: PersonKind
    person_id: int
    role: str
    name: str
    classes: list[str]
    students: str = ""
    code: str = ""
    link: str = ""

    def cells(self) -> tuple[str, ...]:
        return (self.role, self.name, "、".join(self.classes), self.students, self.code, self.link)


async def print_invites(
    settings: Settings,
    *,
    fmt: Format | str,
    role: RoleFilter | str,
    class_name: str | None,
    output: Path | None,
    now: datetime | None = None,
    request: TelegramRequest | None = None,
) -> int:
    """Issue (or reuse) invites and print them; returns the exit status."""
    only_class = _class_filter(class_name)
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    username = await fetch_bot_username(settings, request=request)
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            school = await current_school(session=session, name=settings.school_name)
            if school is None or school.id is None:
                raise JiafangError(
                    "还没有学校名册：请先运行 `python -m bot roster import 名册.xlsx`。"
                )
            rows = await _rows(session, school, role=role, only_class=only_class)
            await _attach_codes(
                session,
                school.id,
                rows,
                username=username,
                now=now or utcnow(),
                ttl=timedelta(days=settings.invite_ttl_days),
            )
            await audit(
                session=session,
                actor="cli",
                action="export.invites",
                subject=f"school:{school.id}",
                detail=f"{len(rows)} rows; role={role}; class={only_class or 'all'}",
            )
    finally:
        await db.dispose()
    _write(rows, fmt=fmt, output=output)
    bound = sum(1 for r in rows if r.code == BOUND)
    print(
        f"共 {len(rows)} 人：{len(rows) - bound} 个邀请码（{settings.invite_ttl_days} 天内有效，"
        f"每个只能使用一次），{bound} 人已绑定。",
        file=sys.stderr,
    )
    if username is None:
        print(
            "提示：未设置 TELEGRAM_BOT_USERNAME 或 TELEGRAM_BOT_TOKEN，无法生成链接；"
            "请让对方在机器人对话中发送 /start 邀请码。",
            file=sys.stderr,
        )
    return 0


def _class_filter(class_name: str | None) -> str | None:
    if not class_name:
        return None
    try:
        return normalise_class_name(class_name)
    except ValueError as exc:
        raise JiafangError(f"无法识别班级 {class_name!r}，请写成 三(2)班 这样的形式。") from exc


# -- who gets a row ----------------------------------------------------------------------------


async def _rows(
    session: AsyncSession, school: School, *, role: str, only_class: str | None
) -> list[InviteRow]:
    rows: list[InviteRow] = []
    if role in ("all", "staff"):
        rows += await _staff_rows(session, school)
    if role in ("all", "guardian"):
        rows += await _guardian_rows(session, school)
    if only_class is not None:
        rows = [r for r in rows if only_class in r.classes]
    return rows


async def _staff_rows(session: AsyncSession, school: School) -> list[InviteRow]:
    """Staff with their duties, in four queries whatever the size of the school."""
    staff = await active_staff(session=session, school_id=school.id or 0)
    classes = (
        await session.exec(
            select(SchoolClass)
            .where(SchoolClass.school_id == school.id)
            .order_by(col(SchoolClass.grade), col(SchoolClass.number))
        )
    ).all()
    class_names = {c.id: c.name for c in classes}
    teaching = (
        await session.exec(select(Teaching).where(col(Teaching.class_id).in_(list(class_names))))
    ).all()
    coaching = (
        await session.exec(
            select(GroupCoach.staff_id)
            .join(Group, col(Group.id) == col(GroupCoach.group_id))
            .where(Group.school_id == school.id)
        )
    ).all()
    rows = []
    for person in staff:
        assert person.id is not None
        head_of = [c.name for c in classes if c.head_teacher_id == person.id]
        taught = [class_names[t.class_id] for t in teaching if t.staff_id == person.id]
        roles = (["班主任"] if head_of else []) + (["任课教师"] if taught else [])
        if person.id in coaching:
            roles.append("教练")
        roles += [ROLE_WORDS[r] for r in sorted(person.role_set())]
        rows.append(
            InviteRow(
                kind=PersonKind.STAFF,
                person_id=person.id,
                role="、".join(roles) or "教职工",
                name=person.name,
                classes=_unique(head_of + taught),
            )
        )
    return rows


async def _guardian_rows(session: AsyncSession, school: School) -> list[InviteRow]:
    """One row per guardian, listing all their children (siblings in other classes too)."""
    links = (
        await session.exec(
            select(Guardian, Student, SchoolClass)
            .join(StudentGuardian, col(StudentGuardian.guardian_id) == col(Guardian.id))
            .join(Student, col(Student.id) == col(StudentGuardian.student_id))
            .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
            .where(Guardian.school_id == school.id, col(Student.active))
            .order_by(
                col(SchoolClass.grade),
                col(SchoolClass.number),
                col(Student.student_no),
                col(Guardian.id),
            )
        )
    ).all()
    rows: dict[int, InviteRow] = {}
    children: dict[int, list[str]] = {}
    for guardian, student, klass in links:
        assert guardian.id is not None
        row = rows.setdefault(
            guardian.id,
            InviteRow(
                kind=PersonKind.GUARDIAN,
                person_id=guardian.id,
                role="家长",
                name=guardian.name,
                classes=[],
            ),
        )
        row.classes = _unique([*row.classes, klass.name])
        children.setdefault(guardian.id, []).append(f"{klass.name} {student.name}")
    for guardian_id, row in rows.items():
        row.students = "、".join(children[guardian_id])
    return list(rows.values())


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


async def _attach_codes(
    session: AsyncSession,
    school_id: int,
    rows: Sequence[InviteRow],
    *,
    username: str | None,
    now: datetime,
    ttl: timedelta,
) -> None:
    accounts = await session.exec(
        select(ChannelAccount.person_kind, ChannelAccount.person_id).where(
            ChannelAccount.school_id == school_id
        )
    )
    bound = {(kind, person_id) for kind, person_id in accounts.all()}
    for row in rows:
        if (row.kind, row.person_id) in bound:
            row.code = BOUND
    wanted = [(r.kind, r.person_id) for r in rows if r.code != BOUND]
    invites = await issue_invites(
        session=session, school_id=school_id, people=wanted, now=now, ttl=ttl
    )
    for row in rows:
        if row.code == BOUND:
            continue
        row.code = invites[(row.kind, row.person_id)].code
        row.link = invite_link(username, row.code)


def invite_link(username: str | None, code: str) -> str:
    """The deep link that opens the bot with `/start CODE`, or how to use the code by hand."""
    if username:
        return f"https://t.me/{username}?start={code}"
    return f"向机器人发送 /start {code}"


# -- output -------------------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Columns a terminal uses: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Aligned columns, two spaces apart, with a rule under the header row."""
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(cells: Sequence[str]) -> str:
        padded = [c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])]) + "\n"


def format_csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _write(rows: Sequence[InviteRow], *, fmt: str, output: Path | None) -> None:
    cells = [r.cells() for r in rows]
    if fmt == "csv":
        text = format_csv([CSV_HEADERS, *cells])
    else:
        text = format_table([TABLE_HEADERS, *cells])
    if output is not None:
        if not output.parent.is_dir():
            raise ConfigError(f"无法写入 {output}：目录 {output.parent} 不存在。")
        try:
            # With a BOM, Excel opens the CSV as UTF-8 instead of guessing GBK.
            output.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        except OSError as exc:
            raise ConfigError(f"无法写入 {output}：{exc.strerror or type(exc).__name__}") from exc
        print(f"已写入 {output}", file=sys.stderr)
        return
    stream: TextIO = sys.stdout
    if fmt == "csv" and not stream.isatty():
        stream.write("\ufeff")
    stream.write(text)
    stream.flush()
