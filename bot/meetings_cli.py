"""`committee add 学号 [--guardian 姓名或手机号后四位] --by 工号`, `committee remove 学号 [--guardian …]
--by 工号` and `committee list`: the parent committee 家长委员会 from the command line, for
德育处 at a desk.

The same model functions as the chat's /meeting → 家委会成员 (`models.meetings.queries`): a member
is a guardian, through one of their children; a student with one guardian needs no
`--guardian`, one with several does. Only staff whose roles reach `Action.COMMITTEE_MANAGE` in
the permission matrix (德育处, the principal) may add or remove, each change audited in their
name. A refusal is one line and status 2, with nothing changed; adding a member already on the
committee, or the list, changes nothing and says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlmodel import col, select

from bot.command_line import school_or_say
from bot.settings import Settings
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CommandRefused
from models.meetings.queries import (
    add_member,
    committee_members,
    guardians_of,
    members_among,
    remove_member,
    student_by_number,
)
from models.meetings.rules import matching_guardians
from models.permissions.matrix import Action, permits
from models.permissions.roles import roles_of
from models.roster.duties import staff_duties
from models.roster.tables import Guardian, Staff, Student, StudentGuardian
from models.school.tables import School, SchoolClass


async def permitted_staff(
    db: Database, school_id: int, staff_no: str, action: Action, refusal: str
) -> Staff:
    """The active member of staff with this 工号 if the matrix lets their roles do `action`;
    else refused (`refusal` is said after their name: `不能导出家长会记录：…`)."""
    async with db.session() as session:
        query = select(Staff).where(
            col(Staff.school_id) == school_id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
        if staff is None or not staff.active:
            raise CommandRefused(f"名册中没有工号为“{staff_no}”的在职教职工。")
        duties = await staff_duties(session=session, staff=staff)
    if not permits(roles_of(staff, duties, None), action):
        raise CommandRefused(f"{staff.name}（{staff.staff_no}）{refusal}")
    return staff


def _manager(db: Database, school: School, staff_no: str) -> Awaitable[Staff]:
    return permitted_staff(
        db,
        school.id or 0,
        staff_no,
        Action.COMMITTEE_MANAGE,
        "不能管理家长委员会：只有德育处和校长可以添加或移除成员。",
    )


Act = Callable[[Database, School], Awaitable[None]]


async def _run(settings: Settings, school_name: str | None, act: Act) -> int:
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        await act(db, school)
    finally:
        await db.dispose()
    return 0


def _who(guardian: Guardian, link: StudentGuardian | None, student: Student, klass: str) -> str:
    relation = (link.relation if link is not None else "") or "家长"
    return f"{guardian.name}（{klass} {student.name}的{relation}）"


def _names(guardians: list[tuple[Guardian, StudentGuardian]]) -> str:
    return "、".join(f"{g.name}（{link.relation or '家长'}）" for g, link in guardians)


async def _family(
    db: Database, school: School, student_no: str
) -> tuple[Student, SchoolClass, list[tuple[Guardian, StudentGuardian]]]:
    if not student_no.strip():
        raise CommandRefused("请写上学生的学号。")
    async with db.session() as session:
        found = await student_by_number(
            session=session, school_id=school.id or 0, student_no=student_no
        )
        if found is None:
            raise CommandRefused(f"没有找到学号为“{student_no.strip()[:32]}”的在读学生。")
        student, klass = found
        guardians = await guardians_of(session=session, student_id=student.id or 0)
    return student, klass, guardians


def _one(
    student: Student,
    guardians: list[tuple[Guardian, StudentGuardian]],
    hint: str | None,
    doing: str,
) -> tuple[Guardian, StudentGuardian]:
    """The guardian `--guardian` names among `guardians` (the only one without it)."""
    chosen = matching_guardians([g for g, _link in guardians], hint)
    if len(chosen) == 1:
        return next((g, link) for g, link in guardians if g.id == chosen[0].id)
    if not chosen:
        raise CommandRefused(
            f"{student.name}的家长中没有“{(hint or '').strip()}”（{_names(guardians)}）："
            "--guardian 请写家长的姓名或手机号后四位。"
        )
    raise CommandRefused(
        f"{student.name}有 {len(chosen)} 位家长（{_names(guardians)}），请用 --guardian "
        f"写明{doing}哪一位（姓名或手机号后四位）。"
    )


async def _add(db: Database, school: School, student_no: str, hint: str | None, by: str) -> None:
    staff = await _manager(db, school, by)
    student, klass, guardians = await _family(db, school, student_no)
    if not guardians:
        raise CommandRefused(f"{student.name}在名册中没有家长信息，无法加入家委会。")
    guardian, link = _one(student, guardians, hint, "加入")
    async with db.session() as session:
        member = await add_member(
            session=session,
            school_id=school.id or 0,
            guardian_id=guardian.id or 0,
            student_id=student.id or 0,
            by=staff.id or 0,
            now=datetime.now(UTC),
        )
    who = _who(guardian, link, student, klass.name)
    if member is None:
        print(f"{who}已经是家委会成员，没有改动。")
    else:
        print(f"已把{who}加入家长委员会（经办人：{staff.name}）。")


async def _remove(db: Database, school: School, student_no: str, hint: str | None, by: str) -> None:
    staff = await _manager(db, school, by)
    student, klass, guardians = await _family(db, school, student_no)
    async with db.session() as session:
        members = await members_among(
            session=session,
            school_id=school.id or 0,
            guardian_ids=[g.id or 0 for g, _ in guardians],
        )
    on_committee = [(g, link) for g, link in guardians if g.id in {m.guardian_id for m in members}]
    if not on_committee:
        raise CommandRefused(
            f"{student.name}（{klass.name}）的家长都不在家委会中，没有可移除的成员。"
        )
    guardian, link = _one(student, on_committee, hint, "移除")
    [member] = [m for m in members if m.guardian_id == guardian.id]
    async with db.session() as session:
        removed = await remove_member(
            session=session, school_id=school.id or 0, member_id=member.id or 0, by=staff.id or 0
        )
    if not removed:
        raise CommandRefused(f"{guardian.name}已经不在家委会中。")
    print(
        f"已把{_who(guardian, link, student, klass.name)}移出家长委员会（经办人：{staff.name}）。"
    )


async def _list(db: Database, school: School) -> None:
    async with db.session() as session:
        entries = await committee_members(session=session, school_id=school.id or 0)
    print(f"{school.name}家长委员会成员（{len(entries)} 人）：")
    if not entries:
        print("（还没有成员。添加：python -m bot committee add 学号 --by 工号）")
    for number, entry in enumerate(entries, start=1):
        relation = entry.relation or "家长"
        print(
            f"{number}. {entry.guardian.name}（{entry.klass.name} {entry.student.name}的{relation}，"
            f"学号 {entry.student.student_no}）"
        )


async def run_committee_add(
    settings: Settings,
    *,
    student_no: str,
    guardian: str | None,
    staff_no: str,
    school_name: str | None,
) -> int:
    return await _run(
        settings,
        school_name,
        lambda db, school: _add(db, school, student_no, guardian, staff_no),
    )


async def run_committee_remove(
    settings: Settings,
    *,
    student_no: str,
    guardian: str | None,
    staff_no: str,
    school_name: str | None,
) -> int:
    return await _run(
        settings,
        school_name,
        lambda db, school: _remove(db, school, student_no, guardian, staff_no),
    )


async def run_committee_list(settings: Settings, *, school_name: str | None) -> int:
    return await _run(settings, school_name, _list)
