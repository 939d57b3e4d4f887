"""The digest's 大走访 line, one per campaign running on the digest's morning, e.g.
`大走访「秋季大走访」：入户 120/300（40%），重复家访 2 户，留守家庭本月未联系 5 户`.

- *入户*: the campaign's households visited by its rule (`models.campaigns.coverage`: counted
  visits dated from its first day to today, each household once) / its households.
- *重复家访*: households another teacher visited after their first visitor in the campaign
  (`double_visits`; the first visitor's own second visit is none).
- *留守家庭本月未联系* (campaigns with the monthly rule only): households with a child tagged 留守
  that had no visit of any form, by anyone, dated in today's calendar month
  (`left_behind_contacts`).

`STATEMENTS` whatever the school's size and the number of campaigns: the running campaigns; then,
only while one runs, the school's students with their guardians, classes' grades and tags (the
households), and the school's visits from the earliest day needed to today. The rules themselves
are `models.campaigns`'s, applied in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.campaigns.coverage import (
    CampaignVisit,
    counted_visits,
    double_visits,
    household_keys,
    left_behind_contacts,
)
from models.campaigns.queries import spec_of
from models.campaigns.tables import Campaign
from models.families.households import households_from, within
from models.quota.rules import home_percent, is_left_behind
from models.roster.tables import Student, StudentGuardian
from models.school.calendar import month_bounds
from models.school.tables import SchoolClass
from models.visits.tables import Visit

#: The statements `campaign_lines` runs while a campaign runs; one (the campaigns) otherwise.
STATEMENTS = 3


@dataclass(frozen=True)
class CampaignLine:
    name: str
    visited: int
    households: int
    #: Households with a double visit.
    doubles: int
    #: Left-behind households not contacted this month; None without the monthly rule.
    left_behind_waiting: int | None

    @property
    def percent(self) -> int | None:
        return home_percent(self.visited, self.households)


async def campaign_lines(
    session: AsyncSession, school_id: int, today: date, home_forms: Iterable[str]
) -> list[CampaignLine]:
    """A line for each campaign running on `today` (newest first); `home_forms` is
    `SchoolRules.home_forms()`."""
    query = (
        select(Campaign)
        .where(
            Campaign.school_id == school_id,
            col(Campaign.start_date) <= today,
            col(Campaign.end_date) >= today,
            col(Campaign.cancelled_at).is_(None),
        )
        .order_by(col(Campaign.start_date).desc(), col(Campaign.id).desc())
    )
    campaigns = list((await session.exec(query)).all())
    if not campaigns:
        return []
    connection = await session.connection()
    links_query = (
        sa_select(
            col(StudentGuardian.student_id),
            col(Student.class_id),
            col(StudentGuardian.guardian_id),
            col(SchoolClass.grade),
            col(Student.tags),
        )
        .join(Student, col(Student.id) == col(StudentGuardian.student_id))
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(col(Student.school_id) == school_id, col(Student.active))
    )
    links: list[tuple[int, int, int]] = []
    grade_of: dict[int, int] = {}
    left_behind: set[int] = set()
    for student_id, class_id, guardian_id, grade, tags in (
        await connection.execute(links_query)
    ).all():
        links.append((student_id, class_id, guardian_id))
        grade_of[class_id] = grade
        if is_left_behind(tags.split(",")):
            left_behind.add(student_id)
    school_households = households_from(links)
    since = min(min(c.start_date for c in campaigns), month_bounds(today)[0])
    visits_query = sa_select(
        col(Visit.id),
        col(Visit.student_id),
        col(Visit.teacher_id),
        col(Visit.visit_date),
        col(Visit.form),
    ).where(
        col(Visit.school_id) == school_id,
        col(Visit.visit_date) >= since,
        col(Visit.visit_date) <= today,
    )
    visits = list((await connection.execute(visits_query)).all())
    forms = tuple(home_forms)
    lines = []
    for campaign in campaigns:
        spec = spec_of(campaign)
        class_ids = {k for k, grade in grade_of.items() if spec.covers_grade(grade)}
        households = within(school_households, class_ids)
        key_of = household_keys(households)
        mapped = [
            CampaignVisit(visit_id, key_of[student], teacher, day, str(form))
            for visit_id, student, teacher, day, form in visits
            if student in key_of and visit_id is not None
        ]
        counted = counted_visits(mapped, spec, forms)
        waiting = None
        if campaign.left_behind_monthly:
            keys = {key_of[s] for s in left_behind if s in key_of}
            contacted = left_behind_contacts(keys, mapped, today)
            waiting = sum(not reached for reached in contacted.values())
        lines.append(
            CampaignLine(
                name=campaign.name,
                visited=len({v.household for v in counted}),
                households=len(households),
                doubles=len({d.visit.household for d in double_visits(counted)}),
                left_behind_waiting=waiting,
            )
        )
    return lines
