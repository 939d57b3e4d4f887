"""The figures behind /campaign's views (`models.campaigns.queries.campaign_figures`) against the
November campaign counted by hand (`tests.helpers.campaign_figures`): 入户率 per class, grade,
school and leader with a household counted once, double visits, left-behind contacts this
month, a teacher's households most due first, the chart's bars — in a fixed number of
statements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from benchmarks.digest import counting_statements as counting
from handlers.campaigns.chart import coverage_chart, pace_percent
from handlers.i18n import translator
from models.campaigns import queries
from models.campaigns.coverage import Rate
from models.campaigns.figures import CampaignFigures, HouseholdLine, leader_staff
from models.campaigns.rules import VisitRule
from models.campaigns.tables import Campaign
from models.db.engine import Database
from models.visits.tables import VisitForm
from tests.helpers.campaign_figures import TODAY, add_visit, november_campaign
from tests.helpers.factories import TestSchool


async def _figures(db: Database, campaign: Campaign, today: date = TODAY) -> CampaignFigures:
    async with db.session() as session:
        return await queries.campaign_figures(session, campaign, today=today)


def _names(figures: CampaignFigures, lines: Iterable[HouseholdLine | None]) -> list[str]:
    return ["、".join(c.name for c in h.children) if h else "?" for h in lines]


async def test_coverage_counts_a_household_once_per_class_grade_school_and_leader(
    db: Database, school: TestSchool
) -> None:
    campaign = await november_campaign(db, school)
    figures = await _figures(db, campaign)
    per_class = {figures.class_name(c): r for c, r in figures.coverage.per_class.items()}
    assert per_class == {"三(1)班": Rate(1, 6), "三(2)班": Rate(2, 6), "四(1)班": Rate(2, 6)}
    assert figures.coverage.per_grade == {3: Rate(3, 12), 4: Rate(2, 6)}
    assert figures.coverage.school == Rate(4, 17)
    assert figures.coverage.school.percent == 24
    assert figures.by_leader == {"钱进": Rate(2, 11), "陈校长": Rate(2, 6)}
    assert figures.counted == 7  # the phone call and the October visit do not count
    assert len(figures.households) == 17


async def test_double_visits_name_the_first_visitor_and_the_other_teacher(
    db: Database, school: TestSchool
) -> None:
    campaign = await november_campaign(db, school)
    figures = await _figures(db, campaign)
    names = figures.names
    doubles = [
        (
            _names(figures, [figures.household(d.visit.household)]),
            names[d.first.teacher_id],
            d.first.visit_date,
            names[d.visit.teacher_id],
            d.visit.visit_date,
        )
        for d in figures.doubles
    ]
    # 李强's own second visit to 李华 (11-10) is not a double.
    assert doubles == [
        (["李华"], "李强", date(2026, 11, 3), "王芳", date(2026, 11, 5)),
        (["张小红、张小明"], "孙丽", date(2026, 11, 6), "王芳", date(2026, 11, 12)),
    ]


async def test_left_behind_households_contacted_this_month_in_any_form(
    db: Database, school: TestSchool
) -> None:
    campaign = await november_campaign(db, school)
    figures = await _figures(db, campaign)
    assert figures.left_behind == Rate(1, 2)
    assert _names(figures, [h for h in figures.households if h.contact_due]) == ["杨帆"]
    await add_visit(db, school, "王芳", "杨帆", date(2026, 11, 15), VisitForm.PHONE)
    figures = await _figures(db, campaign)
    assert figures.left_behind == Rate(2, 2)
    assert figures.coverage.school == Rate(4, 17)  # a phone call contacts, it does not visit


async def test_a_teachers_households_come_most_due_first(db: Database, school: TestSchool) -> None:
    campaign = await november_campaign(db, school)
    figures = await _figures(db, campaign)
    wang = school.staff["王芳"].id or 0
    mine = figures.of_teacher(wang)
    assert _names(figures, mine) == [
        "杨帆",  # not visited, left-behind and not contacted this month
        "郑爽",
        "冯雪",
        "陈晨",
        "李娜",  # her October visit was before the campaign
        "刘洋",
        "陈静",
        "王磊",  # visited
    ]
    assert [h.visited for h in mine] == [False] * 7 + [True]
    assert figures.progress[wang] == Rate(1, 8)
    sun = figures.of_teacher(school.staff["孙丽"].id or 0)
    assert _names(figures, sun)[-2:] == ["张小红、张小明", "赵刚"]
    assert figures.progress[school.staff["李强"].id or 0] == Rate(1, 3)


async def test_under_the_any_form_rule_a_phone_call_ticks_the_household(
    db: Database, school: TestSchool
) -> None:
    campaign = await november_campaign(db, school, rule=VisitRule.ANY_FORM)
    figures = await _figures(db, campaign)
    assert figures.coverage.school == Rate(5, 17)  # 周杰's phone call counts
    assert figures.counted == 8
    zhou = [h for h in figures.households if h.children[0].name == "周杰"]
    assert [h.first.form if h.first else None for h in zhou] == ["phone"]


async def test_unvisited_households_per_class_agree_with_the_coverage(
    db: Database, school: TestSchool
) -> None:
    campaign = await november_campaign(db, school)
    figures = await _figures(db, campaign)
    counts = [(k.name, n) for k, n in figures.unvisited_per_class()]
    assert counts == [("三(1)班", 5), ("三(2)班", 4), ("四(1)班", 4)]
    second = school.classes["三(2)班"].id or 0
    assert _names(figures, figures.unvisited_in(second)) == ["李娜", "刘洋", "陈静", "杨帆"]


async def test_a_leader_names_a_member_of_staff_only_when_one_has_that_name() -> None:
    staff = [(1, "王芳", True), (2, "张伟", True), (3, "张伟", True), (4, "刘军", False)]
    found = leader_staff(["王芳副校长", "王芳", "张伟", "刘军", "陈校长", "王芳主任 "], staff)
    assert found == {"王芳副校长": 1, "王芳": 1, "王芳主任 ": 1}


async def test_the_figures_are_read_in_a_fixed_number_of_statements(
    db: Database, school: TestSchool
) -> None:
    campaign = await november_campaign(db, school, visits=False)
    async with db.session() as session:
        await session.connection()
        with counting(db) as empty:
            await queries.campaign_figures(session, campaign, today=TODAY)
    for teacher, student, day, form in [("李强", "李华", date(2026, 11, 3), VisitForm.HOME)] * 5:
        await add_visit(db, school, teacher, student, day, form)
    async with db.session() as session:
        await session.connection()
        with counting(db) as busy:
            await queries.campaign_figures(session, campaign, today=TODAY)
    assert len(empty) == len(busy) == queries.FIGURES_STATEMENTS


async def test_the_chart_has_a_bar_per_class_with_the_pace_while_it_runs(
    db: Database, school: TestSchool
) -> None:
    campaign = await november_campaign(db, school)
    figures = await _figures(db, campaign)
    spec = coverage_chart(figures, campaign, translator("zh"))
    assert spec is not None
    assert spec.names == ("三(1)班", "三(2)班", "四(1)班")
    assert spec.percents == (17, 33, 33)
    assert spec.notes == ("1/6", "2/6", "2/6")
    assert spec.in_term and spec.pace == pace_percent(campaign, TODAY) == 53  # 16 of 30 days
    assert spec.pace_label == "按进度应达 53%"
    assert spec.title == "大走访“秋季大走访”各班入户率（截至11月16日）"
    after = coverage_chart(
        await _figures(db, campaign, date(2026, 12, 5)), campaign, translator("zh")
    )
    assert after is not None and not after.in_term and after.pace_label is None
    assert after.title.endswith("（截至11月30日）")
