"""The 大走访 campaign in the database (`models.campaigns.queries`) over the test school: which
campaigns run, its roster and households, the 包保表 written, read back and moved, who is
responsible for a student, and the visits between its dates mapped to households."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from models.audit.tables import AuditEntry
from models.campaigns import queries
from models.campaigns.rules import (
    CampaignRefused,
    CampaignScope,
    VisitRule,
    check_campaign,
)
from models.campaigns.tables import AssignmentSource, Campaign, CampaignAssignment
from models.db.engine import Database
from models.roster.tables import Student
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.helpers.factories import TestSchool

NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)


async def _campaign(
    db: Database,
    school: TestSchool,
    name: str = "秋季大走访",
    *,
    start: date = date(2026, 11, 1),
    end: date = date(2026, 11, 30),
    grades: tuple[int, ...] = (),
    rule: VisitRule = VisitRule.IN_PERSON,
) -> Campaign:
    scope = CampaignScope.GRADES if grades else CampaignScope.SCHOOL
    spec = check_campaign(name, start, end, scope=scope, grades=grades, visit_rule=rule)
    async with db.session() as session:
        return await queries.create_campaign(
            session, school.school.id or 0, spec, by=school.staff["赵敏"].id, now=NOW
        )


async def _generate(db: Database, campaign: Campaign) -> int:
    async with db.session() as session:
        found = await queries.campaign_roster(session, campaign)
        return await queries.write_assignment(
            session,
            campaign,
            queries.generated(found),
            source=AssignmentSource.GENERATED,
            by=None,
            now=NOW,
            households=found.roster.households,
        )


def _sid(school: TestSchool, name: str) -> int:
    return school.students[name].id or 0


def _staff(school: TestSchool, name: str) -> int:
    return school.staff[name].id or 0


async def test_a_campaign_runs_between_its_days_and_covers_only_its_grades(
    db: Database, school: TestSchool
) -> None:
    whole = await _campaign(db, school)
    fourth = await _campaign(db, school, "四年级走访", start=date(2026, 11, 10), grades=(4,))
    school_id = school.school.id or 0
    async with db.session() as session:
        on_5th = await queries.running_campaigns(session, school_id, date(2026, 11, 5))
        on_12th = await queries.running_campaigns(session, school_id, date(2026, 11, 12))
        in_december = await queries.running_campaigns(session, school_id, date(2026, 12, 1))
        hong = await queries.campaign_for_student(
            session, school_id, _sid(school, "张小红"), date(2026, 11, 12)
        )
        ming = await queries.campaign_for_student(
            session, school_id, _sid(school, "张小明"), date(2026, 11, 12)
        )
    assert [c.id for c in on_5th] == [whole.id]
    assert [c.id for c in on_12th] == [fourth.id, whole.id]
    assert in_december == []
    assert hong is not None and hong.id == fourth.id  # the newest covering grade 4
    assert ming is not None and ming.id == whole.id


async def test_no_campaign_is_found_for_a_student_who_left_or_on_a_day_none_runs(
    db: Database, school: TestSchool
) -> None:
    await _campaign(db, school)
    school_id = school.school.id or 0
    async with db.session() as session:
        student = await session.get(Student, _sid(school, "张小明"))
        assert student is not None
        student.active = False
        session.add(student)
    async with db.session() as session:
        left = await queries.campaign_for_student(
            session, school_id, _sid(school, "张小明"), date(2026, 11, 12)
        )
        none_runs = await queries.campaign_for_student(
            session, school_id, _sid(school, "张小红"), date(2026, 12, 1)
        )
        another_school = await queries.campaign_for_student(
            session, school_id + 1, _sid(school, "张小红"), date(2026, 11, 12)
        )
    assert (left, none_runs, another_school) == (None, None, None)


async def test_a_cancelled_campaign_is_not_running(db: Database, school: TestSchool) -> None:
    campaign = await _campaign(db, school)
    async with db.session() as session:
        saved = await session.get(Campaign, campaign.id)
        assert saved is not None
        saved.cancelled_at = NOW
        session.add(saved)
    async with db.session() as session:
        running = await queries.running_campaigns(
            session, school.school.id or 0, date(2026, 11, 20)
        )
    assert running == []


async def test_a_second_campaign_of_the_same_name_is_refused_and_overlaps_are_listed(
    db: Database, school: TestSchool
) -> None:
    first = await _campaign(db, school)
    with pytest.raises(CampaignRefused) as refused:
        await _campaign(db, school, start=date(2027, 3, 1), end=date(2027, 3, 31))
    assert refused.value.params == {"name": "秋季大走访"}
    spec = check_campaign(
        "三年级", date(2026, 11, 20), date(2026, 12, 5), scope=CampaignScope.GRADES, grades=(3,)
    )
    later = check_campaign("寒假走访", date(2027, 1, 20), date(2027, 2, 5))
    async with db.session() as session:
        assert [c.id for c in await queries.overlapping(session, first.school_id, spec)] == [
            first.id
        ]
        assert await queries.overlapping(session, first.school_id, later) == []
        names = [c.name for c in await queries.campaigns_of(session, first.school_id)]
    assert names == ["秋季大走访"]


async def test_the_roster_has_the_classes_pupils_teachers_and_households_in_scope(
    db: Database, school: TestSchool
) -> None:
    campaign = await _campaign(db, school, grades=(3,))
    async with db.session() as session:
        found = await queries.campaign_roster(session, campaign)
    roster = found.roster
    third_1, third_2 = school.classes["三(1)班"].id, school.classes["三(2)班"].id
    assert [k.name for k in roster.classes] == ["三(1)班", "三(2)班"]
    assert len(roster.pupils) == 12
    assert roster.teachers_of_class[third_1 or 0] == {
        _staff(school, "李强"),
        _staff(school, "王芳"),
    }
    assert roster.teachers_of_class[third_2 or 0] == {_staff(school, "王芳")}
    assert found.heads == {third_1: _staff(school, "李强"), third_2: _staff(school, "王芳")}
    # 张小明's household is in scope through him only (his sister is in grade 4).
    assert len(roster.households) == 12
    ming = next(
        h
        for h in roster.households
        if len(h.guardian_ids) == 1
        and any(c.student_id == _sid(school, "张小明") for c in h.children)
    )
    assert [c.student_id for c in ming.children] == [_sid(school, "张小明")]


async def test_a_generated_table_writes_one_row_per_household_head_teacher_first(
    db: Database, school: TestSchool
) -> None:
    campaign = await _campaign(db, school)
    assert await _generate(db, campaign) == 17  # 18 pupils, the siblings one household
    async with db.session() as session:
        rows = (
            await session.exec(
                select(CampaignAssignment).where(CampaignAssignment.campaign_id == campaign.id)
            )
        ).all()
        assignment = await queries.assignment_of(session, campaign)
    assert len({r.student_id for r in rows}) == 17
    assert assignment.unassigned == ()
    by_teacher = {name: len(assignment.of_teacher(_staff(school, name))) for name in school.staff}
    # 三(1)班: 李强 (head) 3, 王芳 3; 三(2)班: 王芳 5 (张小明's family goes with his elder sister);
    # 四(1)班: 孙丽 6 with the siblings.
    assert by_teacher == {"王芳": 8, "李强": 3, "赵敏": 0, "钱进": 0, "孙丽": 6}
    first_rows = [r for r in rows if r.student_id == _sid(school, "李华")]
    assert first_rows[0].teacher_id == _staff(school, "李强")
    sibling_rows = [
        r for r in rows if r.student_id in (_sid(school, "张小明"), _sid(school, "张小红"))
    ]
    assert [(r.student_id, r.teacher_id) for r in sibling_rows] == [
        (_sid(school, "张小红"), _staff(school, "孙丽"))
    ]


async def test_writing_a_table_again_replaces_the_old_rows(
    db: Database, school: TestSchool
) -> None:
    campaign = await _campaign(db, school)
    await _generate(db, campaign)
    await _generate(db, campaign)
    async with db.session() as session:
        count = len(
            (
                await session.exec(
                    select(CampaignAssignment.id).where(
                        CampaignAssignment.campaign_id == campaign.id
                    )
                )
            ).all()
        )
        actions = (
            await session.exec(
                select(AuditEntry.action).where(col(AuditEntry.action).startswith("campaign."))
            )
        ).all()
    assert count == 17
    assert list(actions) == ["campaign.create", "campaign.assign", "campaign.assign"]


async def test_responsible_for_a_younger_sibling_is_the_teacher_of_the_household(
    db: Database, school: TestSchool
) -> None:
    campaign = await _campaign(db, school)
    async with db.session() as session:
        assert await queries.responsible_for(session, campaign, _sid(school, "张小明")) is None
    await _generate(db, campaign)
    async with db.session() as session:
        ming = await queries.responsible_for(session, campaign, _sid(school, "张小明"))
        hua = await queries.responsible_for(session, campaign, _sid(school, "李华"))
    assert ming == (_staff(school, "孙丽"), "孙丽")
    assert hua == (_staff(school, "李强"), "李强")


async def test_moving_a_household_changes_its_one_row_and_refuses_a_stranger(
    db: Database, school: TestSchool
) -> None:
    campaign = await _campaign(db, school)
    await _generate(db, campaign)
    async with db.session() as session:
        moved = await queries.move_household(
            session, campaign, _sid(school, "张小明"), _staff(school, "王芳"), by=None, now=NOW
        )
    assert moved.before == _staff(school, "孙丽")
    assert moved.student_ids == (_sid(school, "张小明"), _sid(school, "张小红"))
    async with db.session() as session:
        rows = (
            await session.exec(
                select(CampaignAssignment).where(
                    col(CampaignAssignment.student_id).in_(moved.student_ids)
                )
            )
        ).all()
    assert [(r.teacher_id, r.source) for r in rows] == [
        (_staff(school, "王芳"), AssignmentSource.EDITED)
    ]
    with pytest.raises(CampaignRefused):
        async with db.session() as session:
            await queries.move_household(
                session, campaign, _sid(school, "李华"), 9999, by=None, now=NOW
            )


async def test_moving_an_unassigned_household_adds_its_row(
    db: Database, school: TestSchool
) -> None:
    campaign = await _campaign(db, school, grades=(3,))
    async with db.session() as session:
        await queries.move_household(
            session, campaign, _sid(school, "李华"), _staff(school, "钱进"), by=None, now=NOW
        )
        assignment = await queries.assignment_of(session, campaign)
        with pytest.raises(CampaignRefused):  # 四(1)班 is not in the campaign
            await queries.move_household(
                session, campaign, _sid(school, "赵刚"), _staff(school, "钱进"), by=None, now=NOW
            )
    assert [r.teacher_id for r in assignment.responsible] == [_staff(school, "钱进")]
    assert len(assignment.unassigned) == 11


async def _visit(
    db: Database, school: TestSchool, student: str, teacher: str, day: date, form: VisitForm
) -> int:
    async with db.session() as session:
        visit = Visit(
            school_id=school.school.id or 0,
            teacher_id=_staff(school, teacher),
            student_id=_sid(school, student),
            visit_date=day,
            form=form,
            category=VisitCategory.ROUTINE,
        )
        session.add(visit)
        await session.flush()
        return visit.id or 0


async def test_campaign_visits_are_those_between_its_days_by_household_and_counted_by_rule(
    db: Database, school: TestSchool
) -> None:
    campaign = await _campaign(db, school, grades=(3,))
    before = await _visit(db, school, "李华", "李强", date(2026, 10, 31), VisitForm.HOME)
    home = await _visit(db, school, "张小明", "王芳", date(2026, 11, 3), VisitForm.HOME)
    phone = await _visit(db, school, "李华", "李强", date(2026, 11, 4), VisitForm.PHONE)
    await _visit(db, school, "赵刚", "孙丽", date(2026, 11, 4), VisitForm.HOME)  # grade 4
    late = await _visit(db, school, "李娜", "王芳", date(2026, 11, 20), VisitForm.HOME)
    async with db.session() as session:
        households = await queries.campaign_households(session, campaign)
        every = await queries.campaign_visits(session, campaign, households=households)
        until = await queries.campaign_visits(session, campaign, until=date(2026, 11, 10))
        counted = await queries.counted_campaign_visits(session, campaign, ("home",))
    keys = {c.student_id: h.key for h in households for c in h.children}
    assert before not in [v.visit_id for v in every]
    assert [(v.visit_id, v.household, v.form) for v in every] == [
        (home, keys[_sid(school, "张小明")], "home"),
        (phone, keys[_sid(school, "李华")], "phone"),
        (late, keys[_sid(school, "李娜")], "home"),
    ]
    assert [v.visit_id for v in until] == [home, phone]
    assert [v.visit_id for v in counted] == [home, late]
    assert every[0].teacher_id == _staff(school, "王芳")
    assert every[0].visit_date == date(2026, 11, 3)
