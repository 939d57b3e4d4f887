"""The 大走访 commands of `bot.campaign_cli` (which says what each does), on the database."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import col, select

from bot.command_line import refused, school_or_say
from bot.exports.campaign import write_campaign_workbook
from bot.exports.xlsx import output_path
from bot.meetings_cli import permitted_staff
from bot.schools import rules_for
from bot.settings import Settings
from models.campaigns import queries
from models.campaigns.assignment import Assignment, AssignmentRoster
from models.campaigns.problems import AssignmentInvalid, render
from models.campaigns.rules import (
    SCOPE_LABELS,
    VISIT_RULE_LABELS,
    CampaignRefused,
    CampaignScope,
    VisitRule,
    check_campaign,
)
from models.campaigns.sheet import assignment_from_workbook
from models.campaigns.tables import AssignmentSource, Campaign
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CommandRefused, FileRefused
from models.permissions.matrix import Action
from models.roster.scope import holds_records
from models.roster.tables import Staff, Student
from models.school.tables import School

WHAT = "包保表"
RULES = {rule.value: rule for rule in VisitRule}
_GRADE_SPLIT = re.compile(r"[,，、\s]+")
_CHINESE_GRADES = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `campaign …` or `export campaign …`."""
    school = args.school
    if args.command == "export":
        return asyncio.run(
            _run(
                settings,
                school,
                lambda db, s: export(db, s, args.campaign, args.by, args.output, settings),
            )
        )
    action = args.campaign_command
    if action == "list":
        return asyncio.run(_run(settings, school, list_campaigns))
    if action == "new":
        return asyncio.run(
            _run(
                settings,
                school,
                lambda db, s: new(
                    db,
                    s,
                    name=args.name,
                    start=args.date_from,
                    end=args.date_to,
                    grades=args.grades,
                    rule=args.rule,
                    left_behind=not args.no_left_behind,
                    staff_no=args.by,
                ),
            )
        )
    if action == "generate":
        return asyncio.run(
            _run(settings, school, lambda db, s: generate(db, s, args.campaign, args.by))
        )
    if action == "assign":
        return asyncio.run(
            _run(settings, school, lambda db, s: assign(db, s, args.campaign, args.file, args.by))
        )
    return asyncio.run(
        _run(
            settings,
            school,
            lambda db, s: move(db, s, args.campaign, args.student, args.teacher, args.by),
        )
    )


Act = Callable[[Database, School], Awaitable[int]]


async def _run(settings: Settings, school_name: str | None, act: Act) -> int:
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        return await act(db, school)
    finally:
        await db.dispose()


# -- arguments -----------------------------------------------------------------------------------


def parse_campaign_id(text: str) -> int:
    """`1` or `#1`, or a clear error."""
    cleaned = text.strip().lstrip("#＃")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise CommandRefused(f"大走访编号应是数字（例如 1），收到的是“{text}”。")
    return int(cleaned)


def parse_grades(text: str | None) -> tuple[int, ...]:
    """`3,4`, `三、四` → (3, 4); () for None; a clear error otherwise."""
    if text is None:
        return ()
    grades = []
    for item in _GRADE_SPLIT.split(text.strip()):
        if not item:
            continue
        item = item.removesuffix("年级")
        grade = _CHINESE_GRADES.get(item) or (
            int(item) if item.isdigit() and len(item) < 3 else None
        )
        if grade is None:
            raise CommandRefused(f"无法识别的年级“{item}”：请写成 3,4 这样的数字。")
        grades.append(grade)
    if not grades:
        raise CommandRefused(
            "--grades 没有写年级：请写成 3,4 这样的数字，或不加 --grades 走访全校。"
        )
    return tuple(grades)


def _refusal(refused: CampaignRefused) -> CommandRefused:
    return CommandRefused(refused.message.format(**refused.params))


async def _manager(db: Database, school: School, staff_no: str) -> Staff:
    return await permitted_staff(
        db,
        school.id or 0,
        staff_no,
        Action.CAMPAIGN_MANAGE,
        "不能管理大走访：只有德育处和校长可以新建、分配、调整或导出。",
    )


async def _campaign(db: Database, school: School, ref: str) -> Campaign:
    campaign_id = parse_campaign_id(ref)
    async with db.session() as session:
        campaign = await queries.campaign_by_id(session, school.id or 0, campaign_id)
    if campaign is None:
        raise CommandRefused(f"{school.name}没有编号为 {campaign_id} 的大走访。")
    return campaign


def _now() -> datetime:
    return datetime.now(UTC)


def days(campaign: Campaign) -> str:
    return f"{campaign.start_date.isoformat()} 至 {campaign.end_date.isoformat()}"


def scope(campaign: Campaign) -> str:
    if campaign.scope is CampaignScope.SCHOOL:
        return SCOPE_LABELS[CampaignScope.SCHOOL]
    return "、".join(f"{g}年级" for g in campaign.grades)


def class_summary(
    roster: AssignmentRoster, assignment: Assignment, names: dict[int, str]
) -> list[str]:
    """`三(1)班：6 户（李强 3、王芳 3）` per class, then the households no one has."""
    lines = []
    for klass in roster.classes:
        counts: dict[int, int] = {}
        for item in assignment.responsible:
            if item.class_id == klass.class_id:
                counts[item.teacher_id] = counts.get(item.teacher_id, 0) + 1
        teachers = "、".join(f"{names.get(t, '?')} {n}" for t, n in counts.items())
        lines.append(f"  {klass.name}：{sum(counts.values())} 户（{teachers or '无'}）")
    if assignment.unassigned:
        lines.append(
            f"  还有 {len(assignment.unassigned)} 户没有责任教师（所在班级没有任课教师）。"
        )
    return lines


# -- the commands --------------------------------------------------------------------------------


async def new(
    db: Database,
    school: School,
    *,
    name: str,
    start: date,
    end: date,
    grades: str | None,
    rule: str,
    left_behind: bool,
    staff_no: str,
) -> int:
    chosen = RULES.get(rule)
    if chosen is None:
        raise CommandRefused(
            f"规则“{rule}”无效：请用 in_person（仅上门家访）或 any_form（任何形式）。"
        )
    picked = parse_grades(grades)
    try:
        spec = check_campaign(
            name,
            start,
            end,
            scope=CampaignScope.GRADES if picked else CampaignScope.SCHOOL,
            grades=picked,
            visit_rule=chosen,
            left_behind_monthly=left_behind,
        )
    except CampaignRefused as exc:
        raise _refusal(exc) from None
    staff = await _manager(db, school, staff_no)
    try:
        async with db.session() as session:
            others = await queries.overlapping(session, school.id or 0, spec)
            campaign = await queries.create_campaign(
                session, school.id or 0, spec, by=staff.id, now=_now()
            )
            campaign_id = campaign.id
    except CampaignRefused as exc:
        raise _refusal(exc) from None
    print(
        f"已新建大走访 #{campaign_id}“{spec.name}”：{spec.start.isoformat()} 至 "
        f"{spec.end.isoformat()}，{scope(campaign)}，计入：{VISIT_RULE_LABELS[chosen]}，"
        f"留守儿童家庭每月联系：{'是' if left_behind else '否'}。"
    )
    for other in others:
        print(
            f"提醒：与 #{other.id}“{other.name}”（{days(other)}）的时间和年级有重叠，两次都会进行。"
        )
    print(
        f"下一步：jiafang campaign generate {campaign_id} --by {staff_no}（自动分配包保表），"
        f"或 jiafang campaign assign {campaign_id} 包保表.xlsx --by {staff_no}。"
    )
    return 0


async def list_campaigns(db: Database, school: School) -> int:
    today = _now().date()
    async with db.session() as session:
        found = await queries.campaigns_of(session, school.id or 0)
        counts = []
        for campaign in found:
            found_households = await queries.campaign_households(session, campaign)
            assignment = await queries.assignment_of(session, campaign, households=found_households)
            counts.append((len(found_households), len(assignment.responsible)))
    if not found:
        print(
            f"{school.name}还没有大走访。新建：jiafang campaign new --name 名称 --from 日期 --to 日期 --by 工号"
        )
        return 0
    for campaign, (households, assigned) in zip(found, counts, strict=True):
        if campaign.cancelled_at is not None:
            state = "已取消"
        elif today < campaign.start_date:
            state = "未开始"
        else:
            state = "进行中" if today <= campaign.end_date else "已结束"
        print(
            f"#{campaign.id} {campaign.name}：{days(campaign)}（{state}），{scope(campaign)}，"
            f"计入：{VISIT_RULE_LABELS[campaign.visit_rule]}；家庭 {households} 户，"
            f"已分配 {assigned} 户"
        )
    return 0


async def generate(db: Database, school: School, ref: str, staff_no: str) -> int:
    campaign = await _campaign(db, school, ref)
    staff = await _manager(db, school, staff_no)
    async with db.session() as session:
        found = await queries.campaign_roster(session, campaign)
        households = found.roster.households
        before = await queries.assignment_of(session, campaign, households=households)
        leaders = {r.class_id: r.leader for r in before.responsible if r.leader}
        assignment = queries.generated(found)
        count = await queries.write_assignment(
            session,
            campaign,
            assignment,
            source=AssignmentSource.GENERATED,
            by=staff.id,
            now=_now(),
            leaders=leaders,
            households=households,
        )
        names = await queries.staff_names(session, school.id or 0)
    print(f"已为大走访 #{campaign.id}“{campaign.name}”自动分配包保表：共 {count} 户。")
    for line in class_summary(found.roster, assignment, names):
        print(line)
    return 0


async def assign(db: Database, school: School, ref: str, path: Path, staff_no: str) -> int:
    campaign = await _campaign(db, school, ref)
    if not await asyncio.to_thread(path.is_file):
        raise FileRefused(f"找不到文件：{path}")
    if path.suffix.lower() != ".xlsx":
        raise FileRefused(
            f"不支持的文件类型“{path.suffix or '（无扩展名）'}”：包保表请使用 .xlsx 工作簿"
        )
    staff = await _manager(db, school, staff_no)
    data = await asyncio.to_thread(path.read_bytes)
    async with db.session() as session:
        found = await queries.campaign_roster(session, campaign)
    try:
        assignment, warnings = await asyncio.to_thread(assignment_from_workbook, data, found.roster)
    except AssignmentInvalid as exc:
        return refused([render(p, lambda text: text) for p in exc.problems], WHAT)
    for warning in warnings:
        print(render(warning, lambda text: text))
    async with db.session() as session:
        count = await queries.write_assignment(
            session,
            campaign,
            assignment,
            source=AssignmentSource.IMPORTED,
            by=staff.id,
            now=_now(),
            households=found.roster.households,
        )
        names = await queries.staff_names(session, school.id or 0)
    print(f"已导入大走访 #{campaign.id}“{campaign.name}”的包保表：共 {count} 户。")
    for line in class_summary(found.roster, assignment, names):
        print(line)
    return 0


async def move(
    db: Database, school: School, ref: str, student_no: str, teacher_no: str, staff_no: str
) -> int:
    campaign = await _campaign(db, school, ref)
    staff = await _manager(db, school, staff_no)
    async with db.session() as session:
        student = (
            await session.exec(
                select(Student).where(
                    col(Student.school_id) == school.id,
                    col(Student.student_no) == student_no.strip(),
                    col(Student.active),
                )
            )
        ).first()
        teacher = (
            await session.exec(
                select(Staff).where(
                    col(Staff.school_id) == school.id,
                    col(Staff.staff_no) == teacher_no.strip(),
                    col(Staff.active),
                    holds_records(),
                )
            )
        ).first()
    if student is None or student.id is None:
        raise CommandRefused(f"名册中没有学号为“{student_no}”的在读学生。")
    if teacher is None or teacher.id is None:
        raise CommandRefused(f"名册中没有工号为“{teacher_no}”的在职教职工。")
    try:
        async with db.session() as session:
            moved = await queries.move_household(
                session, campaign, student.id, teacher.id, by=staff.id, now=_now()
            )
            names = await queries.staff_names(session, school.id or 0)
    except CampaignRefused as exc:
        raise _refusal(exc) from None
    before = names.get(moved.before, "（无人）") if moved.before is not None else "（无人）"
    print(
        f"已调整：{student.name}（{student.student_no}）一家在大走访 #{campaign.id} 中由"
        f"{before}改为{teacher.name}老师包保。"
    )
    return 0


async def export(
    db: Database, school: School, ref: str, staff_no: str, output: Path, settings: Settings
) -> int:
    path = output_path(output)
    campaign = await _campaign(db, school, ref)
    staff = await _manager(db, school, staff_no)
    rules = await rules_for(db, settings, school.name)  # the school's own, over RULES__*
    households = await write_campaign_workbook(db, campaign, path, rules, by=staff.id)
    print(
        f"已导出大走访 #{campaign.id}“{campaign.name}”到 {path}：{households} 户"
        "（工作表：包保表、家访、入户率）。"
    )
    return 0
