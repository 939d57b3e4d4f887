"""德育处's digest: the problem ledger's line (new, overdue, unclassified too long, complaints
without an owner too long), with the school-day thresholds on the school's calendar.

The test school has no terms, so every weekday is a school day unless the calendar marks it off;
14–15 November 2026 is a weekend. Digests are built at 07:30.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handlers.digest import digest_text
from handlers.i18n import translator
from models.db.engine import Database
from models.digest.ledger import late_cutoff
from models.digest.queries import DigestFigures, gather_digest
from models.feedback.tables import FeedbackKind
from models.ledger.rules import school_days_after
from models.school.calendar import SchoolCalendar
from models.school.rules import SchoolRules
from models.school.tables import CalendarDay, CalendarDayKind
from tests.helpers.duties import ZONE, local
from tests.helpers.factories import TestSchool
from tests.helpers.ledger_data import add_feedback, handle, manual_item


async def digest_at(
    db: Database, ts: TestSchool, now: datetime, rules: SchoolRules | None = None
) -> DigestFigures:
    async with db.session() as session:
        return await gather_digest(
            session=session,
            school_id=ts.school.id or 0,
            school_name=ts.school.name,
            now=now,
            zone=ZONE,
            rules=rules or SchoolRules(),
        )


def ledger_lines(figures: DigestFigures) -> list[str]:
    text = digest_text(figures, translator("zh"), ZONE)
    return [line for line in text.splitlines() if line.startswith("· 台账")]


async def a_week_of_items(db: Database, ts: TestSchool) -> None:
    """B (Wed 11th) and C (Thu 12th) unclassified; complaints E (Thu 12th) and D (Fri 13th)
    with no owner; a suggestion G (Thu 12th); F classified on the 9th, due the 13th; A recorded
    on Sunday evening."""
    await manual_item(db, ts, at=local("2026-11-11 10:00"), description="B")
    await manual_item(db, ts, at=local("2026-11-12 10:00"), description="C")
    await add_feedback(db, ts, FeedbackKind.COMPLAINT, at=local("2026-11-12 11:00"))
    await add_feedback(db, ts, FeedbackKind.COMPLAINT, at=local("2026-11-13 11:00"))
    await add_feedback(db, ts, FeedbackKind.SUGGESTION, at=local("2026-11-12 12:00"))
    overdue = await manual_item(db, ts, at=local("2026-11-09 10:00"), description="F")
    await handle(db, ts, overdue, at=local("2026-11-09 11:00"), due_on=date(2026, 11, 13))
    await manual_item(db, ts, at=local("2026-11-15 20:00"), description="A")


async def test_monday_s_digest_counts_each_part_of_the_line(
    db: Database, school: TestSchool
) -> None:
    await a_week_of_items(db, school)

    figures = await digest_at(db, school, local("2026-11-16 07:30"))

    assert ledger_lines(figures) == [
        "· 台账：新增 1 条，逾期 1 条，超过2个上学日未分类 1 条，投诉超过1个上学日未指定负责人 1 条"
    ]


async def test_a_day_later_the_thresholds_have_moved_and_zero_parts_are_left_out(
    db: Database, school: TestSchool
) -> None:
    await a_week_of_items(db, school)

    figures = await digest_at(db, school, local("2026-11-17 07:30"))

    # Thursday's items have had Friday and Monday; Friday's complaint has had Monday.
    assert ledger_lines(figures) == [
        "· 台账：逾期 1 条，超过2个上学日未分类 4 条，投诉超过1个上学日未指定负责人 2 条"
    ]


async def test_an_owner_takes_a_complaint_off_the_line(db: Database, school: TestSchool) -> None:
    complaint = await add_feedback(db, school, FeedbackKind.COMPLAINT, at=local("2026-11-12 11:00"))
    await handle(
        db, school, complaint or 0, at=local("2026-11-16 07:00"), due_on=date(2026, 11, 20)
    )

    figures = await digest_at(db, school, local("2026-11-16 07:30"))

    assert ledger_lines(figures) == []
    assert figures.ledger.empty


async def test_a_day_off_on_the_calendar_is_not_a_school_day(
    db: Database, school: TestSchool
) -> None:
    await manual_item(db, school, at=local("2026-11-11 10:00"), description="B")
    monday = local("2026-11-16 07:30")
    assert ledger_lines(await digest_at(db, school, monday)) == ["· 台账：超过2个上学日未分类 1 条"]
    async with db.session() as session:
        session.add(
            CalendarDay(
                school_id=school.school.id or 0,
                day=date(2026, 11, 13),
                kind=CalendarDayKind.OFF,
                name="运动会",
            )
        )

    assert ledger_lines(await digest_at(db, school, monday)) == []


async def test_the_rules_set_the_school_days(db: Database, school: TestSchool) -> None:
    await manual_item(db, school, at=local("2026-11-12 10:00"), description="C")
    rules = SchoolRules(ledger_classify_school_days=1)

    figures = await digest_at(db, school, local("2026-11-16 07:30"), rules)

    assert ledger_lines(figures) == ["· 台账：超过1个上学日未分类 1 条"]


async def test_the_line_reads_in_english(db: Database, school: TestSchool) -> None:
    await a_week_of_items(db, school)

    figures = await digest_at(db, school, local("2026-11-16 07:30"))
    text = digest_text(figures, translator("en"), ZONE)

    assert (
        "· Problem ledger: 1 new, 1 overdue, 1 unclassified for over 2 school days, "
        "1 complaint(s) with no owner for over 1 school day(s)"
    ) in text.splitlines()


# -- the cut-off agrees with `school_days_after` --------------------------------------------------


def test_the_cut_off_is_the_school_days_rule_solved_for_the_recorded_day() -> None:
    off = {date(2026, 10, 1) + timedelta(days=n) for n in range(7)}  # 国庆
    calendars = [
        SchoolCalendar(use_statutory=False),
        SchoolCalendar(days_off=frozenset(off), use_statutory=False),
        SchoolCalendar(
            semesters=((date(2026, 9, 1), date(2027, 1, 20)),),
            make_up_days=frozenset({date(2026, 10, 10)}),
            use_statutory=False,
        ),
    ]
    for calendar in calendars:
        for today in (date(2026, 9, 20) + timedelta(days=n) for n in range(40)):
            for count in (1, 2, 3):
                cutoff = late_cutoff(today, count, calendar, ZONE)
                for back in range(1, 25):
                    recorded = today - timedelta(days=back)
                    start = datetime.combine(recorded, datetime.min.time(), ZONE)
                    late = school_days_after(recorded, count, calendar) <= today
                    assert (start < cutoff) == late, (calendar, today, count, recorded)


def test_the_cut_off_is_found_when_no_school_day_lies_ahead() -> None:
    """In the summer break with next year's calendar not imported there is no school day after
    today: the cut-off needs none."""
    calendar = SchoolCalendar(
        semesters=((date(2027, 2, 21), date(2027, 7, 5)),), use_statutory=False
    )
    cutoff = late_cutoff(date(2027, 8, 10), 2, calendar, ZONE)
    # The last two school days are Friday 2 and Monday 5 July.
    assert cutoff == datetime(2027, 7, 2, tzinfo=ZONE)
