"""The digest's 大走访 line while a campaign runs: 入户, double visits and left-behind households
not contacted this month, against the hand-counted campaign of `tests.helpers.campaign_figures`;
no line before the campaign, after it or once cancelled; the digest's statements stay fixed.
Runs on SQLite and PostgreSQL.

By hand (visits to 17 households, see the helper): 李华, the 张 household, 王磊 and 赵刚 are
visited in person within the campaign — 4/17, 24%; 王芳 after 李强 at 李华's and after 孙丽 at the
张 household are double visits — 2 households; of the left-behind households 张 (visited in
November) and 杨帆 (not), 1 is not contacted this month.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from benchmarks.digest import counting_statements
from handlers.digest import digest_text
from handlers.i18n import translator
from models.campaigns import queries
from models.campaigns.rules import CampaignScope, check_campaign
from models.campaigns.tables import Campaign
from models.db.engine import Database
from models.digest.campaign import CampaignLine
from models.digest.queries import CAMPAIGN_QUERIES, QUERIES, DigestFigures, gather_digest
from tests.helpers.campaign_figures import NOW, november_campaign
from tests.helpers.digest import ZONE
from tests.helpers.factories import TestSchool, seed_school

LINE = "· 大走访「秋季大走访」：入户 4/17（24%），重复家访 2 户，留守家庭本月未联系 1 户"


def morning(day: date) -> datetime:
    """7:30 in Shanghai on `day`."""
    return datetime(day.year, day.month, day.day, 7, 30, tzinfo=ZONE).astimezone(UTC)


async def digest_on(db: Database, ts: TestSchool, day: date) -> DigestFigures:
    async with db.session() as session:
        return await gather_digest(
            session=session,
            school_id=ts.school.id or 0,
            school_name=ts.school.name,
            now=morning(day),
            zone=ZONE,
        )


async def test_a_running_campaign_has_its_line_with_the_hand_counted_figures(
    db: Database,
) -> None:
    ts = await seed_school(db)
    await november_campaign(db, ts)
    figures = await digest_on(db, ts, date(2026, 11, 17))
    assert figures.campaigns == [CampaignLine("秋季大走访", 4, 17, 2, 1)]
    text = digest_text(figures, translator("zh"), ZONE)
    assert LINE in text.splitlines()
    english = digest_text(figures, translator("en"), ZONE)
    assert (
        "· Home-visit campaign “秋季大走访”: homes visited 4/17 (24%), households visited twice: "
        "2, left-behind families not contacted this month: 1" in english
    )


async def test_a_grade_campaign_counts_only_its_classes_children(db: Database) -> None:
    ts = await seed_school(db)
    await november_campaign(db, ts)
    spec = check_campaign(
        "四年级走访",
        date(2026, 11, 10),
        date(2026, 11, 20),
        scope=CampaignScope.GRADES,
        grades=(4,),
    )
    async with db.session() as session:
        await queries.create_campaign(session, ts.school.id or 0, spec, by=None, now=NOW)
    figures = await digest_on(db, ts, date(2026, 11, 17))
    # From 10 November, in 四(1)班 only: 6 households, none visited in person since the 10th
    # (孙丽's visits were on the 2nd and 6th; 王芳's on the 12th was to 张小明, in 三(2)班);
    # 张小明, the 留守 child, is outside the campaign's classes.
    assert figures.campaigns == [
        CampaignLine("四年级走访", 0, 6, 0, 0),
        CampaignLine("秋季大走访", 4, 17, 2, 1),
    ]
    text = digest_text(figures, translator("zh"), ZONE)
    assert "· 大走访「四年级走访」：入户 0/6（0%），重复家访 0 户，留守家庭本月未联系 0 户" in text


async def test_no_line_before_after_or_once_cancelled(db: Database) -> None:
    ts = await seed_school(db)
    campaign = await november_campaign(db, ts)
    assert (await digest_on(db, ts, date(2026, 10, 31))).campaigns == []
    assert (await digest_on(db, ts, date(2026, 12, 1))).campaigns == []
    assert "大走访" not in digest_text(
        await digest_on(db, ts, date(2026, 12, 1)), translator("zh"), ZONE
    )
    async with db.session() as session:
        found = await session.get(Campaign, campaign.id)
        assert found is not None
        found.cancelled_at = NOW
        session.add(found)
    assert (await digest_on(db, ts, date(2026, 11, 17))).campaigns == []


async def test_a_campaign_without_the_monthly_rule_leaves_left_behind_out(db: Database) -> None:
    ts = await seed_school(db)
    spec = check_campaign(
        "秋季大走访", date(2026, 11, 1), date(2026, 11, 30), left_behind_monthly=False
    )
    async with db.session() as session:
        await queries.create_campaign(session, ts.school.id or 0, spec, by=None, now=NOW)
    figures = await digest_on(db, ts, date(2026, 11, 17))
    assert figures.campaigns == [CampaignLine("秋季大走访", 0, 17, 0, None)]
    text = digest_text(figures, translator("zh"), ZONE)
    assert "· 大走访「秋季大走访」：入户 0/17（0%），重复家访 0 户" in text.splitlines()


async def test_the_digest_runs_its_fixed_statements_and_two_more_while_campaigns_run(
    db: Database,
) -> None:
    ts = await seed_school(db)

    async def count(day: date) -> int:
        async with db.session() as session:
            await session.connection()
            with counting_statements(db) as seen:
                await gather_digest(
                    session=session,
                    school_id=ts.school.id or 0,
                    school_name=ts.school.name,
                    now=morning(day),
                    zone=ZONE,
                )
        return len(seen)

    assert await count(date(2026, 11, 17)) == QUERIES
    await november_campaign(db, ts)
    assert await count(date(2026, 11, 17)) == QUERIES + CAMPAIGN_QUERIES
    spec = check_campaign("冬季大走访", date(2026, 11, 15), date(2026, 12, 15))
    async with db.session() as session:
        await queries.create_campaign(session, ts.school.id or 0, spec, by=None, now=NOW)
    assert await count(date(2026, 11, 17)) == QUERIES + CAMPAIGN_QUERIES
