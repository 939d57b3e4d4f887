"""`export campaign ID -o FILE.xlsx --by 工号`: a 大走访 campaign as a workbook, for 德育处 and the
principal.

- 包保表: the assignment table as `models.campaigns.table.table_rows` writes it, under the headers
  the import reads (校领导, 年级, 班级, 责任教师, 学生), so that the file can be edited and given
  back to `campaign assign` (a teacher whose name another teacher shares is written by 工号).
- 家访: each household of the campaign: its class, children (学号), responsible teacher, whether
  it is visited by the campaign's rule, its visits in the campaign (date, teacher, form, any
  form), double visits (another teacher after the first visitor) and the 附2 fields of its
  family profile.
- 入户率: households visited / households per class, per grade and for the school.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlmodel import col, select

from bot.exports.xlsx import save_audited, table_sheet
from models.campaigns import queries
from models.campaigns.assignment import Assignment, AssignmentRoster, Teacher
from models.campaigns.coverage import CampaignVisit, counted_visits, coverage, double_visits
from models.campaigns.problems import HEADERS, SHEET, Column
from models.campaigns.rules import EXTRA_FIELDS
from models.campaigns.table import table_rows
from models.campaigns.tables import Campaign
from models.db.engine import Database
from models.families.households import Household
from models.families.tables import FamilyProfile
from models.school.rules import SchoolRules
from models.visits.tables import FORM_LABELS, VisitForm

VISITS_SHEET = "家访"
RATES_SHEET = "入户率"
TABLE_COLUMNS = tuple(
    (HEADERS[column][0], width)
    for column, width in (
        (Column.LEADER, 12),
        (Column.GRADE, 8),
        (Column.CLASS, 10),
        (Column.TEACHER, 12),
        (Column.STUDENTS, 60),
    )
)
VISIT_COLUMNS: tuple[tuple[str, int], ...] = (
    ("班级", 10),
    ("学生", 30),
    ("责任教师", 10),
    ("已走访", 8),
    ("首次走访", 18),
    ("重复走访", 8),
    ("本次走访的家访记录", 60),
    *(
        (name, 12)
        for name in ("家庭结构", "经济状况", "住房条件", "在家照看人", "父亲职业", "母亲职业")
    ),
)
RATE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("范围", 8),
    ("名称", 12),
    ("家庭数", 8),
    ("已走访", 8),
    ("入户率（%）", 12),
)
GRADE_NAMES = {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级"}


def grade_text(grade: int) -> str:
    return GRADE_NAMES.get(grade, f"{grade}年级")


def _unique_names(roster: AssignmentRoster) -> AssignmentRoster:
    """The roster with every teacher whose name another shares written as their 工号 (the
    import reads either; a shared name would not read back)."""
    count: dict[str, int] = {}
    for teacher in roster.teachers:
        count[teacher.name] = count.get(teacher.name, 0) + 1
    teachers = tuple(
        Teacher(t.staff_id, t.staff_no, t.staff_no if count[t.name] > 1 and t.staff_no else t.name)
        for t in roster.teachers
    )
    return replace(roster, teachers=teachers)


def table_sheet_rows(assignment: Assignment, roster: AssignmentRoster) -> list[list[Any]]:
    return [
        [row.leader, grade_text(row.grade), row.class_name, row.teacher, row.students]
        for row in table_rows(assignment, _unique_names(roster))
    ]


def _form(form: str) -> str:
    try:
        return FORM_LABELS[VisitForm(form)]
    except ValueError:
        return form


def _profile_cells(profile: FamilyProfile | None) -> list[str]:
    cells = []
    for spec in EXTRA_FIELDS:
        value = getattr(profile, spec.field.value, None) if profile is not None else None
        if value is None:
            cells.append("")
            continue
        text = value.value if hasattr(value, "value") else str(value)
        cells.append(spec.label(text))
    return cells


def visit_rows(
    roster: AssignmentRoster,
    assignment: Assignment,
    every: list[CampaignVisit],
    counted: list[CampaignVisit],
    profiles: dict[int, FamilyProfile],
    names: dict[int, str],
) -> list[list[Any]]:
    """One row per household, by class and 学号."""
    classes = {k.class_id: k for k in roster.classes}
    pupils = {p.student_id: p for p in roster.pupils}
    doubled = {d.visit.household for d in double_visits(counted)}
    first: dict[int, CampaignVisit] = {}
    for visit in counted:
        first.setdefault(visit.household, visit)
    mine: dict[int, list[CampaignVisit]] = {}
    for visit in every:
        mine.setdefault(visit.household, []).append(visit)
    responsible = {r.household: r for r in assignment.responsible}

    def order(household: Household) -> tuple[tuple[int, int], str]:
        item = responsible.get(household.key)
        class_id = item.class_id if item else household.children[0].class_id
        child = next((c for c in household.children if c.class_id == class_id), None)
        child = child or household.children[0]
        return classes[class_id].key, pupils[child.student_id].student_no

    rows = []
    for household in sorted(roster.households, key=order):
        item = responsible.get(household.key)
        class_id = item.class_id if item else household.children[0].class_id
        children = "、".join(
            f"{pupils[c.student_id].name}（{pupils[c.student_id].student_no}）"
            for c in household.children
            if c.student_id in pupils
        )
        visited = first.get(household.key)
        profile = next(
            (profiles[c.student_id] for c in household.children if c.student_id in profiles), None
        )
        rows.append(
            [
                classes[class_id].name,
                children,
                names.get(item.teacher_id, "") if item else "（未分配）",
                "是" if visited else "否",
                f"{visited.visit_date.isoformat()} {names.get(visited.teacher_id, '')}"
                if visited
                else "",
                "是" if household.key in doubled else "否",
                "；".join(
                    f"{v.visit_date.isoformat()} {names.get(v.teacher_id, '')} {_form(v.form)}"
                    for v in mine.get(household.key, [])
                ),
                *_profile_cells(profile),
            ]
        )
    return rows


def rate_rows(
    roster: AssignmentRoster, households: list[Household], counted: list[CampaignVisit]
) -> list[list[Any]]:
    found = coverage(households, roster.classes, counted)
    rows: list[list[Any]] = []
    for klass in roster.classes:
        rate = found.per_class[klass.class_id]
        rows.append(["班级", klass.name, rate.households, rate.visited, rate.percent])
    for grade, rate in found.per_grade.items():
        rows.append(["年级", grade_text(grade), rate.households, rate.visited, rate.percent])
    school = found.school
    rows.append(["全校", "全校", school.households, school.visited, school.percent])
    return rows


async def write_campaign_workbook(
    db: Database, campaign: Campaign, path: Path, rules: SchoolRules, *, by: int | None
) -> int:
    """Write the three sheets; the number of households. Audited as export.campaign."""
    async with db.session() as session:
        found = await queries.campaign_roster(session, campaign)
        roster = found.roster
        households = list(roster.households)
        assignment = await queries.assignment_of(session, campaign, households=households)
        every = await queries.campaign_visits(session, campaign, households=households)
        names = await queries.staff_names(session, campaign.school_id)
        students = [c.student_id for h in households for c in h.children]
        query = select(FamilyProfile).where(col(FamilyProfile.student_id).in_(students))
        profiles = {p.student_id: p for p in (await session.exec(query)).all()}
    counted = counted_visits(every, queries.spec_of(campaign), rules.home_forms())
    workbook = Workbook(write_only=True)
    table = table_sheet(workbook, SHEET, TABLE_COLUMNS)
    for row in table_sheet_rows(assignment, roster):
        table.append(row)
    visits = table_sheet(workbook, VISITS_SHEET, VISIT_COLUMNS)
    for row in visit_rows(roster, assignment, every, counted, profiles, names):
        visits.append(row)
    rates = table_sheet(workbook, RATES_SHEET, RATE_COLUMNS)
    for row in rate_rows(roster, households, counted):
        rates.append(row)
    await save_audited(
        db,
        workbook,
        path,
        actor=f"staff:{by}" if by is not None else "cli",
        action="export.campaign",
        subject=f"campaign:{campaign.id}",
        detail=f"{len(households)} households",
    )
    return len(households)
