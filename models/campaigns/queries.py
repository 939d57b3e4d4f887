"""The 大走访 campaign in the database: campaigns, the roster an assignment table 包保表 is checked
against, the table's rows, and the visits that count (reads and writes on an `AsyncSession`).

Every function runs a fixed, small number of statements whatever the size of the school (no
statement per row). Writes happen in the caller's transaction: the caller commits (so a refused
write leaves nothing behind once the caller rolls back).

- *Scope*: a campaign covers the classes of its grades (or of the whole school); its households
  are those with a child in them (`models.families.households.within`: children outside the
  scope are left out of the household).
- *Running*: `start_date ≤ day ≤ end_date` and not cancelled.
- *Rows ↔ households*: a `CampaignAssignment` row names the household's home child; a row is
  matched to today's household through any of its children (household keys change when
  guardians are added or removed; the child does not).
- *Visits*: not copied; `campaign_visits` reads the `visit` table between the campaign's dates
  (all forms: left-behind contacts count any form), `counted_campaign_visits` keeps those the
  campaign's rule counts (`models.campaigns.coverage.counted_visits`).
- *Overlapping campaigns* (same days, shared grades) are allowed — a school may run a grade's own
  campaign inside a school-wide one — but `overlapping` lists them so that whoever creates one is
  told; a student covered by two running campaigns belongs to the newest
  (`campaign_for_student`). Two campaigns of a school may not share a name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.audit.tables import audit
from models.campaigns.assignment import (
    Assignment,
    AssignmentRoster,
    CampaignClass,
    Pupil,
    Responsible,
    Teacher,
    generate_assignment,
    home_class,
)
from models.campaigns.coverage import (
    CampaignVisit,
    Caution,
    cautions,
    counted_visits,
    household_keys,
    left_behind_contacts,
)
from models.campaigns.figures import CampaignFigures, ClassInfo, campaign_figures_from
from models.campaigns.figures import Pupil as FigurePupil
from models.campaigns.rules import CampaignRefused, CampaignScope, CampaignSpec, VisitRule
from models.campaigns.tables import (
    LEADER_LIMIT,
    AssignmentSource,
    Campaign,
    CampaignAssignment,
)
from models.families.households import Household, households_from, within
from models.quota.rules import LEFT_BEHIND_TAG, is_left_behind
from models.roster.tables import Staff, Student, StudentGuardian, Teaching
from models.school.calendar import month_bounds
from models.school.tables import SchoolClass
from models.text import N_
from models.visits.tables import Visit

#: Audit actions (labelled in `models.audit.labels`).
AUDIT_CREATE = "campaign.create"
AUDIT_ASSIGN = "campaign.assign"
AUDIT_MOVE = "campaign.move"
AUDIT_STOP = "campaign.stop"

_INSERT_ROWS = insert(CampaignAssignment.__table__)  # type: ignore[attr-defined]


def spec_of(campaign: Campaign) -> CampaignSpec:
    """The campaign's rules as `models.campaigns.rules` checks them (pure)."""
    return CampaignSpec(
        campaign.name,
        campaign.start_date,
        campaign.end_date,
        campaign.scope,
        tuple(sorted(campaign.grades)),
        campaign.visit_rule,
        campaign.left_behind_monthly,
    )


def _subject(campaign: Campaign) -> str:
    return f"campaign:{campaign.id}"


# -- campaigns -----------------------------------------------------------------------------------


async def campaign_by_id(
    session: AsyncSession, school_id: int, campaign_id: int
) -> Campaign | None:
    """The school's campaign with this id (None for another school's or an unknown one)."""
    found = await session.get(Campaign, campaign_id)
    return found if found is not None and found.school_id == school_id else None


async def campaigns_of(session: AsyncSession, school_id: int) -> list[Campaign]:
    """Every campaign of the school, newest first (by first day, then id)."""
    query = (
        select(Campaign)
        .where(Campaign.school_id == school_id)
        .order_by(col(Campaign.start_date).desc(), col(Campaign.id).desc())
    )
    return list((await session.exec(query)).all())


def _running_on(school_id: int, day: date) -> tuple[ColumnElement[bool], ...]:
    """The school's campaigns running on `day` (first day ≤ day ≤ last day, not cancelled)."""
    return (
        col(Campaign.school_id) == school_id,
        col(Campaign.start_date) <= day,
        col(Campaign.end_date) >= day,
        col(Campaign.cancelled_at).is_(None),
    )


def _newest_first() -> tuple[UnaryExpression[Any], ...]:
    return col(Campaign.start_date).desc(), col(Campaign.id).desc()


async def running_campaigns(session: AsyncSession, school_id: int, day: date) -> list[Campaign]:
    """The campaigns running on `day` (first day ≤ day ≤ last day, not cancelled), newest
    first."""
    query = select(Campaign).where(*_running_on(school_id, day)).order_by(*_newest_first())
    return list((await session.exec(query)).all())


async def open_campaigns(session: AsyncSession, school_id: int, day: date) -> list[Campaign]:
    """The campaigns running on `day` or still to come (not cancelled), newest first: those
    whose 包保表 may still be set up or changed."""
    query = (
        select(Campaign)
        .where(
            Campaign.school_id == school_id,
            col(Campaign.end_date) >= day,
            col(Campaign.cancelled_at).is_(None),
        )
        .order_by(col(Campaign.start_date).desc(), col(Campaign.id).desc())
    )
    return list((await session.exec(query)).all())


def _grade_of(school_id: int, student_id: int) -> SelectOfScalar[int]:
    """The grade of the student, if an active student of the school."""
    return (
        select(SchoolClass.grade)
        .join(Student, col(Student.class_id) == col(SchoolClass.id))
        .where(Student.id == student_id, Student.school_id == school_id, col(Student.active))
    )


async def student_grade(session: AsyncSession, school_id: int, student_id: int) -> int | None:
    """The grade of an active student of the school (None otherwise)."""
    return (await session.exec(_grade_of(school_id, student_id))).first()


async def campaign_for_student(
    session: AsyncSession, school_id: int, student_id: int, day: date
) -> Campaign | None:
    """The running campaign whose scope covers the student's grade (the newest when several
    do); None when none does or the student is not an active student of the school. One
    statement: the running campaigns, each with the grade."""
    grade = _grade_of(school_id, student_id).scalar_subquery()
    query = select(Campaign, grade).where(*_running_on(school_id, day)).order_by(*_newest_first())
    for campaign, found in (await session.exec(query)).all():
        if found is None:
            return None
        if spec_of(campaign).covers_grade(found):
            return campaign
    return None


async def overlapping(session: AsyncSession, school_id: int, spec: CampaignSpec) -> list[Campaign]:
    """The school's campaigns (not cancelled) sharing a day and a grade with `spec`: allowed,
    but worth telling whoever creates it."""
    query = select(Campaign).where(
        Campaign.school_id == school_id,
        col(Campaign.start_date) <= spec.end,
        col(Campaign.end_date) >= spec.start,
        col(Campaign.cancelled_at).is_(None),
    )
    found = []
    for campaign in (await session.exec(query)).all():
        other = spec_of(campaign)
        if (
            spec.scope is CampaignScope.SCHOOL
            or other.scope is CampaignScope.SCHOOL
            or set(spec.grades) & set(other.grades)
        ):
            found.append(campaign)
    return sorted(found, key=lambda c: c.id or 0)


async def create_campaign(
    session: AsyncSession, school_id: int, spec: CampaignSpec, *, by: int | None, now: datetime
) -> Campaign:
    """Save a checked campaign (audited). `CampaignRefused` when the school already has a
    campaign of that name (cancelled ones too: names identify campaigns in exports)."""
    taken = await session.exec(
        select(Campaign.id).where(Campaign.school_id == school_id, Campaign.name == spec.name)
    )
    if taken.first() is not None:
        raise CampaignRefused(N_("已有名为“{name}”的大走访，请换一个名称。"), name=spec.name)
    campaign = Campaign(
        school_id=school_id,
        name=spec.name,
        start_date=spec.start,
        end_date=spec.end,
        scope=spec.scope,
        grades=list(spec.grades),
        visit_rule=spec.visit_rule,
        left_behind_monthly=spec.left_behind_monthly,
        created_by=by,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    await audit(
        session=session,
        actor=f"staff:{by}" if by is not None else "cli",
        action=AUDIT_CREATE,
        subject=_subject(campaign),
        detail=f"{spec.name} {spec.start.isoformat()}–{spec.end.isoformat()}",
    )
    return campaign


async def stop_campaign(
    session: AsyncSession, campaign: Campaign, *, by: int | None, now: datetime
) -> bool:
    """Stop a campaign now (audited): from then on it is not running, so it counts no visits, is
    on no digest and reminds no one; its 包保表 and the visits stay. False when it was stopped
    already (a repeated press writes nothing)."""
    stopped = await session.exec(
        update(Campaign)
        .where(col(Campaign.id) == campaign.id, col(Campaign.cancelled_at).is_(None))
        .values(cancelled_at=now)
    )
    if stopped.rowcount != 1:
        return False
    campaign.cancelled_at = now
    await audit(
        session=session,
        actor=f"staff:{by}" if by is not None else "cli",
        action=AUDIT_STOP,
        subject=_subject(campaign),
        detail=campaign.name,
    )
    return True


# -- the roster ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRoster:
    """What `assignment_roster` reads, with each class's head teacher (for generating)."""

    roster: AssignmentRoster
    #: Class id → its head teacher's staff id (None when it has none).
    heads: Mapping[int, int | None]


async def _classes(session: AsyncSession, campaign: Campaign) -> list[SchoolClass]:
    query = select(SchoolClass).where(SchoolClass.school_id == campaign.school_id)
    if campaign.scope is CampaignScope.GRADES:
        query = query.where(col(SchoolClass.grade).in_(campaign.grades))
    found = (await session.exec(query)).all()
    return sorted(found, key=lambda k: (k.grade, k.number))


async def _school_households(session: AsyncSession, school_id: int) -> list[Household]:
    # The same read as `models.surveys.queries.households` (models.surveys must not be a
    # dependency of the campaign).
    query = (
        select(StudentGuardian.student_id, Student.class_id, StudentGuardian.guardian_id)
        .join(Student, col(Student.id) == col(StudentGuardian.student_id))
        .where(Student.school_id == school_id, col(Student.active))
    )
    return households_from((await session.exec(query)).all())


async def scope_class_ids(session: AsyncSession, campaign: Campaign) -> list[int]:
    """The ids of the campaign's classes, by grade and number."""
    return [k.id for k in await _classes(session, campaign) if k.id is not None]


async def campaign_households(session: AsyncSession, campaign: Campaign) -> list[Household]:
    """The households with a child in the campaign's classes (only those children kept),
    sorted by key. Two statements."""
    class_ids = await scope_class_ids(session, campaign)
    return within(await _school_households(session, campaign.school_id), class_ids)


async def campaign_roster(session: AsyncSession, campaign: Campaign) -> CampaignRoster:
    """The roster with the head teachers (five statements)."""
    found = await _classes(session, campaign)
    classes = tuple(CampaignClass(k.id, k.grade, k.number) for k in found if k.id is not None)
    class_ids = [k.class_id for k in classes]
    pupils_query = (
        select(Student)
        .where(
            Student.school_id == campaign.school_id,
            col(Student.active),
            col(Student.class_id).in_(class_ids),
        )
        .order_by(col(Student.student_no))
    )
    pupils = tuple(
        Pupil(s.id, s.student_no, s.name, s.class_id)
        for s in (await session.exec(pupils_query)).all()
        if s.id is not None
    )
    staff_query = (
        select(Staff)
        .where(Staff.school_id == campaign.school_id, col(Staff.active))
        .order_by(col(Staff.id))
    )
    teachers = tuple(
        Teacher(s.id, s.staff_no, s.name)
        for s in (await session.exec(staff_query)).all()
        if s.id is not None
    )
    teaching_query = select(Teaching.class_id, Teaching.staff_id).where(
        col(Teaching.class_id).in_(class_ids)
    )
    active = {t.staff_id for t in teachers}
    teach: dict[int, set[int]] = {class_id: set() for class_id in class_ids}
    for class_id, staff_id in (await session.exec(teaching_query)).all():
        if staff_id in active:
            teach[class_id].add(staff_id)
    heads: dict[int, int | None] = {}
    for klass in found:
        if klass.id is None:
            continue
        head = klass.head_teacher_id if klass.head_teacher_id in active else None
        heads[klass.id] = head
        if head is not None:
            teach[klass.id].add(head)
    households = within(await _school_households(session, campaign.school_id), class_ids)
    roster = AssignmentRoster(
        classes,
        pupils,
        teachers,
        {class_id: frozenset(ids) for class_id, ids in teach.items()},
        tuple(households),
    )
    return CampaignRoster(roster, heads)


async def assignment_roster(session: AsyncSession, campaign: Campaign) -> AssignmentRoster:
    """What a 包保表 is checked against: the campaign's classes, their active pupils (学号,
    name), the school's active staff, who teaches each class (`Teaching` rows and the head
    teacher) and the campaign's households. Five statements."""
    return (await campaign_roster(session, campaign)).roster


def generated(found: CampaignRoster) -> Assignment:
    """The generated table over a roster (`generate_assignment`: head teacher first, siblings
    through the eldest child's class, each class split in 学号 order)."""
    roster = found.roster
    return generate_assignment(
        roster.classes,
        roster.households,
        roster.teachers_of_class,
        found.heads,
        student_nos={p.student_id: p.student_no for p in roster.pupils},
    )


# -- the assignment table ------------------------------------------------------------------------


async def _rows(session: AsyncSession, campaign: Campaign) -> list[CampaignAssignment]:
    query = (
        select(CampaignAssignment)
        .where(CampaignAssignment.campaign_id == campaign.id)
        .order_by(col(CampaignAssignment.id))
    )
    return list((await session.exec(query)).all())


def assignment_from(
    rows: Iterable[CampaignAssignment], households: Sequence[Household]
) -> Assignment:
    """The saved rows as an `Assignment` over today's households (pure): a row is matched to
    the household of its child; a household matched by several rows (guardians joined two
    households since) keeps the earliest row; rows of children no longer in a household are
    dropped; households with no row are unassigned."""
    key_of = household_keys(households)
    chosen: dict[int, CampaignAssignment] = {}
    for row in sorted(rows, key=lambda r: r.id or 0):
        key = key_of.get(row.student_id)
        if key is not None:
            chosen.setdefault(key, row)
    responsible = tuple(
        Responsible(key, row.teacher_id, row.class_id, row.leader)
        for key, row in sorted(chosen.items())
    )
    unassigned = tuple(h.key for h in households if h.key not in chosen)
    return Assignment(responsible, unassigned)


async def assignment_of(
    session: AsyncSession,
    campaign: Campaign,
    *,
    households: Sequence[Household] | None = None,
) -> Assignment:
    """The campaign's saved 包保表 (`assignment_from`); pass `households` when already read
    (`campaign_households`) to save two statements."""
    if households is None:
        households = await campaign_households(session, campaign)
    return assignment_from(await _rows(session, campaign), households)


async def responsible_for(
    session: AsyncSession, campaign: Campaign, student_id: int
) -> tuple[int, str] | None:
    """The responsible teacher (staff id, name) of the student's household in the campaign;
    None when it has none (unassigned, or the student is not in the campaign). Two
    statements."""
    guardians = select(StudentGuardian.guardian_id).where(StudentGuardian.student_id == student_id)
    siblings = select(StudentGuardian.student_id).where(
        col(StudentGuardian.guardian_id).in_(guardians)
    )
    query = (
        select(CampaignAssignment.student_id, Staff.id, Staff.name)
        .join(Staff, col(Staff.id) == col(CampaignAssignment.teacher_id))
        .where(
            CampaignAssignment.campaign_id == campaign.id,
            (col(CampaignAssignment.student_id) == student_id)
            | col(CampaignAssignment.student_id).in_(siblings),
        )
        .order_by(col(CampaignAssignment.id))
    )
    found = (await session.exec(query)).all()
    if not found:
        return None
    own = next((row for row in found if row[0] == student_id), found[0])
    assert own[1] is not None
    return own[1], own[2]


def _row_values(
    campaign: Campaign,
    household: Household,
    item: Responsible,
    *,
    leader: str,
    source: AssignmentSource,
    by: int | None,
    now: datetime,
) -> dict[str, object]:
    in_class = [c for c in household.children if c.class_id == item.class_id]
    child = in_class[0] if in_class else household.children[-1]
    return {
        "school_id": campaign.school_id,
        "campaign_id": campaign.id,
        "student_id": child.student_id,
        "household": household.key,
        "class_id": item.class_id,
        "teacher_id": item.teacher_id,
        "leader": leader[:LEADER_LIMIT],
        "source": source.value,
        "assigned_by": by,
        "assigned_at": now,
    }


async def write_assignment(
    session: AsyncSession,
    campaign: Campaign,
    assignment: Assignment,
    *,
    source: AssignmentSource,
    by: int | None,
    now: datetime,
    leaders: Mapping[int, str] | None = None,
    households: Sequence[Household] | None = None,
) -> int:
    """Replace the campaign's 包保表 with `assignment` (one DELETE, one multi-row INSERT, one
    audit entry), in the caller's transaction; the number of rows written. Each row names the
    household's child in the class it is assigned through. `leaders` (class id → 校领导)
    overrides the assignment's own leader. Households of `assignment` no longer in the campaign
    are skipped."""
    if households is None:
        households = await campaign_households(session, campaign)
    by_key = {h.key: h for h in households}
    values = [
        _row_values(
            campaign,
            by_key[item.household],
            item,
            leader=(leaders or {}).get(item.class_id, item.leader),
            source=source,
            by=by,
            now=now,
        )
        for item in assignment.responsible
        if item.household in by_key
    ]
    await session.exec(
        delete(CampaignAssignment).where(col(CampaignAssignment.campaign_id) == campaign.id)
    )
    if values:
        await session.exec(_INSERT_ROWS.values(values))
    await audit(
        session=session,
        actor=f"staff:{by}" if by is not None else "cli",
        action=AUDIT_ASSIGN,
        subject=_subject(campaign),
        detail=f"{source.value} {len(values)}",
    )
    return len(values)


@dataclass(frozen=True)
class Moved:
    """A household given to another teacher."""

    household: int
    #: The responsible teacher before (None when it had none).
    before: int | None
    after: int
    #: The children of the household in the campaign.
    student_ids: tuple[int, ...]


async def move_household(
    session: AsyncSession,
    campaign: Campaign,
    student_id: int,
    teacher_id: int,
    *,
    by: int | None,
    now: datetime,
) -> Moved:
    """Give the household of `student_id` to `teacher_id` (its row becomes `edited`; a row is
    added for a household that had none), audited, in the caller's transaction.
    `CampaignRefused` for a teacher not on the school's active staff, or a student whose
    household is not in the campaign."""
    teacher = await session.get(Staff, teacher_id)
    if teacher is None or teacher.school_id != campaign.school_id or not teacher.active:
        raise CampaignRefused(N_("这位老师不在本校教职工名单中。"))
    classes = await _classes(session, campaign)
    by_id = {k.id: CampaignClass(k.id, k.grade, k.number) for k in classes if k.id is not None}
    households = within(await _school_households(session, campaign.school_id), list(by_id))
    household = next(
        (h for h in households if any(c.student_id == student_id for c in h.children)), None
    )
    if household is None:
        raise CampaignRefused(N_("这名学生的家庭不在本次大走访的范围内。"))
    children = {c.student_id for c in household.children}
    rows = [row for row in await _rows(session, campaign) if row.student_id in children]
    before = rows[0].teacher_id if rows else None
    if rows:
        row = rows[0]
        row.teacher_id = teacher_id
        row.source = AssignmentSource.EDITED
        row.assigned_by = by
        row.assigned_at = now
        row.household = household.key
        session.add(row)
        for extra in rows[1:]:
            await session.delete(extra)
    else:
        home = home_class(household, by_id)
        assert home is not None
        item = Responsible(household.key, teacher_id, home)
        await session.exec(
            _INSERT_ROWS.values(
                [
                    _row_values(
                        campaign,
                        household,
                        item,
                        leader="",
                        source=AssignmentSource.EDITED,
                        by=by,
                        now=now,
                    )
                ]
            )
        )
    await session.flush()
    await audit(
        session=session,
        actor=f"staff:{by}" if by is not None else "cli",
        action=AUDIT_MOVE,
        subject=_subject(campaign),
        detail=f"{before or '-'}→{teacher_id}",
        student_id=student_id,
    )
    return Moved(household.key, before, teacher_id, tuple(sorted(children)))


# -- visits --------------------------------------------------------------------------------------


async def campaign_visits(
    session: AsyncSession,
    campaign: Campaign,
    *,
    until: date | None = None,
    households: Sequence[Household] | None = None,
) -> list[CampaignVisit]:
    """Every visit (any form) to the campaign's students dated from its first day to its last
    (or `until`, if earlier), mapped to their household's key, in order of date then logging.
    Visits to a student in no household (no guardian) are left out. Feed them to
    `counted_visits` for coverage and doubles; left-behind contacts take any form. One
    statement (three without `households`)."""
    if households is None:
        households = await campaign_households(session, campaign)
    key_of = household_keys(households)
    last = min(campaign.end_date, until) if until is not None else campaign.end_date
    if last < campaign.start_date or not key_of:
        return []
    query = (
        sa_select(
            col(Visit.id),
            col(Visit.student_id),
            col(Visit.teacher_id),
            col(Visit.visit_date),
            col(Visit.form),
        )
        .join(Student, col(Student.id) == col(Visit.student_id))
        .where(
            col(Visit.school_id) == campaign.school_id,
            col(Visit.visit_date) >= campaign.start_date,
            col(Visit.visit_date) <= last,
            col(Student.active),
            col(Student.class_id).in_({c.class_id for h in households for c in h.children}),
        )
        .order_by(col(Visit.visit_date), col(Visit.id))
    )
    found = []
    connection = await session.connection()
    for visit_id, student, teacher, day, form in (await connection.execute(query)).all():
        key = key_of.get(student)
        if key is not None and visit_id is not None:
            found.append(CampaignVisit(visit_id, key, teacher, day, str(form)))
    return found


async def counted_campaign_visits(
    session: AsyncSession,
    campaign: Campaign,
    home_forms: Iterable[str],
    *,
    until: date | None = None,
    households: Sequence[Household] | None = None,
) -> list[CampaignVisit]:
    """The visits that tick a household by the campaign's rule (`counted_visits`;
    `home_forms` is `SchoolRules.home_forms()`)."""
    visits = await campaign_visits(session, campaign, until=until, households=households)
    return counted_visits(visits, spec_of(campaign), home_forms)


async def staff_names(session: AsyncSession, school_id: int) -> dict[int, str]:
    """Staff id → name for the whole school (inactive staff too: old visits name them)."""
    query = select(Staff.id, Staff.name).where(Staff.school_id == school_id)
    return {sid: name for sid, name in (await session.exec(query)).all() if sid is not None}


# -- the views' figures --------------------------------------------------------------------------

#: The statements `campaign_figures` runs whatever the school's size: the campaign's classes,
#: the school's students with their guardians (households, names, tags), the 包保表's rows, the
#: visits between the campaign's days, the staff's names.
FIGURES_STATEMENTS = 5


async def _light_assignment(
    session: AsyncSession, campaign: Campaign, households: Sequence[Household]
) -> Assignment:
    """`assignment_of` for big tables: the rows' columns only, no ORM objects (building a few
    thousand costs more than reading them); the same matching as `assignment_from`."""
    query = (
        sa_select(
            col(CampaignAssignment.id),
            col(CampaignAssignment.student_id),
            col(CampaignAssignment.teacher_id),
            col(CampaignAssignment.class_id),
            col(CampaignAssignment.leader),
        )
        .where(col(CampaignAssignment.campaign_id) == campaign.id)
        .order_by(col(CampaignAssignment.id))
    )
    key_of = household_keys(households)
    chosen: dict[int, Responsible] = {}
    connection = await session.connection()
    for _id, student_id, teacher_id, class_id, leader in (await connection.execute(query)).all():
        key = key_of.get(student_id)
        if key is not None and key not in chosen:
            chosen[key] = Responsible(key, teacher_id, class_id, leader)
    responsible = tuple(chosen[key] for key in sorted(chosen))
    unassigned = tuple(h.key for h in households if h.key not in chosen)
    return Assignment(responsible, unassigned)


async def _figure_visits(
    session: AsyncSession,
    campaign: Campaign,
    households: Sequence[Household],
    last: date,
    month: date,
    home_forms: tuple[str, ...],
) -> list[CampaignVisit]:
    """`campaign_visits` up to `last`, less what the figures never look at: under the in-person
    rule, visits of other forms before `month` (they neither tick a household nor contact a
    left-behind one this month). One statement, none before the first day."""
    key_of = household_keys(households)
    if last < campaign.start_date or not key_of:
        return []
    query = (
        sa_select(
            col(Visit.id),
            col(Visit.student_id),
            col(Visit.teacher_id),
            col(Visit.visit_date),
            col(Visit.form),
        )
        .join(Student, col(Student.id) == col(Visit.student_id))
        .where(
            col(Visit.school_id) == campaign.school_id,
            col(Visit.visit_date) >= campaign.start_date,
            col(Visit.visit_date) <= last,
            col(Student.active),
            col(Student.class_id).in_({c.class_id for h in households for c in h.children}),
        )
    )
    if campaign.visit_rule is not VisitRule.ANY_FORM:
        first_of_month, _following = month_bounds(month)
        query = query.where(
            col(Visit.form).in_(home_forms) | (col(Visit.visit_date) >= first_of_month)
        )
    found = []
    connection = await session.connection()
    for visit_id, student, teacher, day, form in (await connection.execute(query)).all():
        key = key_of.get(student)
        if key is not None and visit_id is not None:
            found.append(CampaignVisit(visit_id, key, teacher, day, str(form)))
    return found


async def campaign_figures(
    session: AsyncSession,
    campaign: Campaign,
    *,
    today: date,
    home_forms: Iterable[str] = ("home",),
) -> CampaignFigures:
    """Everything `/campaign`'s views show of the campaign on `today`
    (`models.campaigns.figures`), in `FIGURES_STATEMENTS` statements (one fewer before its
    first day: no visits to read); `home_forms` is `SchoolRules.home_forms()`. Left-behind
    contacts are those of `today`'s month (of the last day's once the campaign is over)."""
    found = await _classes(session, campaign)
    classes = [ClassInfo(k.id, k.grade, k.number, k.name) for k in found if k.id is not None]
    class_ids = {k.class_id for k in classes}
    links_query = (
        sa_select(
            col(StudentGuardian.student_id),
            col(Student.class_id),
            col(StudentGuardian.guardian_id),
            col(Student.student_no),
            col(Student.name),
            col(Student.tags),
        )
        .join(Student, col(Student.id) == col(StudentGuardian.student_id))
        .where(col(Student.school_id) == campaign.school_id, col(Student.active))
    )
    links: list[tuple[int, int, int]] = []
    pupils: dict[int, FigurePupil] = {}
    connection = await session.connection()
    for student_id, class_id, guardian_id, student_no, name, tags in (
        await connection.execute(links_query)
    ).all():
        links.append((student_id, class_id, guardian_id))
        if class_id in class_ids:
            pupils[student_id] = FigurePupil(
                student_id, student_no, name, class_id, tuple(t for t in tags.split(",") if t)
            )
    households = within(households_from(links), class_ids)
    assignment = await _light_assignment(session, campaign, households)
    last = min(today, campaign.end_date)
    month = max(last, campaign.start_date)
    forms = tuple(home_forms)
    visits = await _figure_visits(session, campaign, households, last, month, forms)
    staff_query = select(Staff.id, Staff.name, Staff.active).where(
        Staff.school_id == campaign.school_id
    )
    staff = [
        (sid, name, bool(active))
        for sid, name, active in (await session.exec(staff_query)).all()
        if sid is not None
    ]
    return campaign_figures_from(
        campaign_id=campaign.id or 0,
        today=today,
        month=month,
        classes=classes,
        pupils=pupils,
        households=households,
        assignment=assignment,
        visits=visits,
        counted=counted_visits(visits, spec_of(campaign), forms),
        staff=staff,
    )


# -- before saving a visit, and the left-behind households' month -------------------------------


async def visit_cautions(
    session: AsyncSession,
    campaign: Campaign,
    student_id: int,
    teacher_id: int,
    home_forms: Iterable[str],
) -> list[Caution]:
    """What to tell `teacher_id` before saving a visit to the student's household
    (`models.campaigns.coverage.cautions`: who visited it first in the campaign, by its rule,
    when that is another teacher; whose household it is, when a colleague's). Nothing for a
    student outside the campaign's households. Six statements at most."""
    households = await campaign_households(session, campaign)
    key = household_keys(households).get(student_id)
    if key is None:
        return []
    visits = await counted_campaign_visits(session, campaign, home_forms, households=households)
    responsible = await responsible_for(session, campaign, student_id)
    names = await staff_names(session, campaign.school_id)
    return cautions(
        key,
        teacher_id,
        visits,
        responsible=responsible[0] if responsible is not None else None,
        names=names,
    )


@dataclass(frozen=True)
class LeftBehindChild:
    student_id: int
    name: str
    class_name: str


@dataclass(frozen=True)
class LeftBehindHousehold:
    """A campaign household with a child tagged 留守 (`models.quota.rules.is_left_behind`)."""

    key: int
    children: tuple[LeftBehindChild, ...]
    #: Any teacher had a visit of any form with it dated in the month (`left_behind_contacts`).
    contacted: bool


async def left_behind_month(
    session: AsyncSession,
    campaign: Campaign,
    day: date,
    *,
    households: Sequence[Household] | None = None,
) -> list[LeftBehindHousehold]:
    """The campaign's left-behind households, by key, and whether each was contacted in `day`'s
    calendar month up to `day` (visits of any form, before the campaign's first day too: the
    parents were reached). Two statements (four without `households`)."""
    if households is None:
        households = await campaign_households(session, campaign)
    class_ids = {c.class_id for h in households for c in h.children}
    if not class_ids:
        return []
    query = (
        select(Student.id, Student.name, SchoolClass.name, Student.tags)
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(
            Student.school_id == campaign.school_id,
            col(Student.active),
            col(Student.class_id).in_(class_ids),
            col(Student.tags).contains(LEFT_BEHIND_TAG),
        )
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )
    key_of = household_keys(households)
    children: dict[int, list[LeftBehindChild]] = {}
    for sid, name, class_name, tags in (await session.exec(query)).all():
        key = key_of.get(sid or 0)
        if key is not None and sid is not None and is_left_behind(tags.split(",")):
            children.setdefault(key, []).append(LeftBehindChild(sid, name, class_name))
    if not children:
        return []
    first, _following = month_bounds(day)
    visits_query = sa_select(
        col(Visit.id), col(Visit.student_id), col(Visit.teacher_id), col(Visit.visit_date)
    ).where(
        col(Visit.school_id) == campaign.school_id,
        col(Visit.visit_date) >= first,
        col(Visit.visit_date) <= day,
        col(Visit.student_id).in_(
            [c.student_id for h in households if h.key in children for c in h.children]
        ),
    )
    connection = await session.connection()
    visits = [
        CampaignVisit(visit_id, key_of[student], teacher, visit_day, "")
        for visit_id, student, teacher, visit_day in (await connection.execute(visits_query)).all()
        if student in key_of and visit_id is not None
    ]
    contacted = left_behind_contacts(children, visits, day)
    return [
        LeftBehindHousehold(key, tuple(found), contacted[key])
        for key, found in sorted(children.items())
    ]
