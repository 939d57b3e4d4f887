"""The monthly summary of parents' feedback: the pure computation (a table of cases), its text,
and the job that sends it on the 1st (caught up until the 5th), once per month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.i18n import translator
from models.db.engine import Database
from models.feedback.summary import FeedbackRow, month_rows, previous_month, summarise
from models.feedback.tables import FeedbackAbout, FeedbackKind
from models.ledger.tables import LedgerOutcome, LedgerStatus
from models.roster.tables import Staff
from models.school.rules import SchoolRules
from scheduler.jobs.feedback_summary import (
    FEEDBACK_SUMMARY,
    duration_text,
    send_feedback_summary,
    summary_text,
)
from scheduler.registry import all_jobs
from tests.helpers.clock import FakeClock
from tests.helpers.duties import ZONE, local, run_at
from tests.helpers.factories import TestSchool, bind
from tests.helpers.ledger_data import add_feedback, handle
from tests.helpers.outbox import outbox, reply_of

NOV = date(2026, 11, 1)
AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

C, S, P, OT = (
    FeedbackKind.COMPLAINT,
    FeedbackKind.SUGGESTION,
    FeedbackKind.PRAISE,
    FeedbackKind.OTHER,
)


def row(
    kind: FeedbackKind = S,
    about: FeedbackAbout = FeedbackAbout.SCHOOL,
    class_name: str = "",
    *,
    status: LedgerStatus | None = LedgerStatus.OPEN,
    outcome: LedgerOutcome | None = None,
    response_after: float | None = None,
    closed_after: float | None = None,
) -> FeedbackRow:
    return FeedbackRow(
        kind=kind,
        about=about,
        class_name=class_name,
        created_at=AT,
        status=None if kind is P else status,
        outcome=outcome,
        first_response_at=AT + timedelta(hours=response_after) if response_after else None,
        closed_at=AT + timedelta(hours=closed_after) if closed_after else None,
    )


def in_class(name: str, kind: FeedbackKind = S, **more: object) -> FeedbackRow:
    return row(kind, FeedbackAbout.CLASS, name, **more)  # type: ignore[arg-type]


def about_teacher(kind: FeedbackKind = S, **more: object) -> FeedbackRow:
    return row(kind, FeedbackAbout.TEACHER, **more)  # type: ignore[arg-type]


# -- the computation ------------------------------------------------------------------------------


SUMMARY_CASES: list[tuple[str, list[FeedbackRow], dict[str, object]]] = [
    (
        "nothing this month",
        [],
        {"total": 0, "items": 0, "by_about": {}, "followed_up_percent": None},
    ),
    (
        "praise has no ledger item",
        [row(P), row(P), row(S)],
        {"total": 3, "items": 1, "by_kind": {P: 2, S: 1}, "by_status": {LedgerStatus.OPEN: 1}},
    ),
    (
        "five about a class keep its name; four do not",
        [in_class("三(2)班")] * 5 + [in_class("三(1)班")] * 4,
        {"by_about": {"三(2)班": 5, "其他": 4}},
    ),
    (
        "the school and teachers are groups too, merged when small",
        [row()] * 6 + [about_teacher()] * 2 + [in_class("四(1)班")] * 2,
        {"by_about": {"关于学校": 6, "其他": 4}},
    ),
    (
        "teachers are one group, never named",
        [about_teacher(C)] * 3 + [about_teacher(P)] * 2,
        {"by_about": {"关于教师": 5}},
    ),
    (
        "bigger groups first",
        [in_class("一(1)班")] * 5 + [row()] * 7 + [about_teacher()] * 6,
        {"by_about": {"关于学校": 7, "关于教师": 6, "一(1)班": 5}},
    ),
    (
        "a complaint is followed up once someone acted on it; rounded down",
        [row(C, response_after=1)] * 2 + [row(C)],
        {"complaints": 3, "complaints_followed_up": 2, "followed_up_percent": 66},
    ),
    (
        "all complaints followed up is the target",
        [row(C, response_after=5)] * 2 + [row(S)],
        {"followed_up_percent": 100},
    ),
    (
        "closed ones by outcome; medians of response and close",
        [
            row(
                C,
                status=LedgerStatus.CLOSED,
                outcome=LedgerOutcome.SOLVED,
                response_after=2,
                closed_after=72,
            ),
            row(
                S,
                status=LedgerStatus.CLOSED,
                outcome=LedgerOutcome.EXPLAINED,
                response_after=4,
                closed_after=120,
            ),
            row(S, status=LedgerStatus.ACTIVE, response_after=30),
            row(OT),
        ],
        {
            "by_status": {LedgerStatus.CLOSED: 2, LedgerStatus.ACTIVE: 1, LedgerStatus.OPEN: 1},
            "by_outcome": {LedgerOutcome.SOLVED: 1, LedgerOutcome.EXPLAINED: 1},
            "hours_to_first_response": 4.0,
            "hours_to_close": 96.0,
        },
    ),
    (
        "no response yet: no median",
        [row(S), row(C)],
        {"hours_to_first_response": None, "hours_to_close": None},
    ),
]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [(rows, expected) for _, rows, expected in SUMMARY_CASES],
    ids=[name for name, _, _ in SUMMARY_CASES],
)
def test_the_summary_of_plain_rows(rows: list[FeedbackRow], expected: dict[str, object]) -> None:
    summary = summarise(date(2026, 11, 17), rows)
    assert summary.month == NOV
    for name, value in expected.items():
        assert getattr(summary, name) == value, name


def test_the_previous_month_wraps_over_the_year() -> None:
    assert previous_month(date(2027, 1, 1)) == date(2026, 12, 1)
    assert previous_month(date(2026, 12, 5)) == NOV


def test_durations_read_in_hours_then_days() -> None:
    t = translator("zh")
    assert [duration_text(t, h) for h in (None, 0.4, 4.0, 47.4, 96.0)] == [
        "暂无",
        "不到 1 小时",
        "4 小时",
        "47 小时",
        "4.0 天",
    ]


# -- the job on a month of feedback ----------------------------------------------------------------


async def november(db: Database, ts: TestSchool) -> None:
    """14 feedback in November (and one each in October and December, not counted):

    三(2)班: 3 complaints, 2 suggestions, 1 praise; 三(1)班: a suggestion, an other; about 王芳:
    a complaint, 2 praise, 2 suggestions; the school: a suggestion. Of the 4 complaints, 3 were
    acted on (after 2, 4 and 30 hours), 2 of them closed (after 3 and 5 days).
    """
    complaints = [
        await add_feedback(db, ts, C, at=AT, klass="三(2)班", text="作业太多，孩子睡得太晚")
        for _ in range(3)
    ]
    for kind in (S, S, P):
        await add_feedback(db, ts, kind, at=AT, klass="三(2)班")
    await add_feedback(db, ts, S, at=AT, klass="三(1)班", guardian="李华家长")
    await add_feedback(db, ts, OT, at=AT, klass="三(1)班", anonymous=True)
    complaints.append(await add_feedback(db, ts, C, at=AT, teacher="王芳"))
    for kind in (P, P, S, S):
        await add_feedback(db, ts, kind, at=AT, teacher="王芳")
    await add_feedback(db, ts, S, at=AT)
    await add_feedback(db, ts, C, at=AT - timedelta(days=20))
    await add_feedback(db, ts, C, at=local("2026-12-01 00:30"))

    first, second, _untouched, about_teacher_ = complaints
    due = date(2026, 11, 30)
    await handle(
        db,
        ts,
        first or 0,
        at=AT + timedelta(hours=2),
        due_on=due,
        closed=(AT + timedelta(days=3), LedgerOutcome.SOLVED, "已调整作业量"),
    )
    await handle(db, ts, second or 0, at=AT + timedelta(hours=4), due_on=due)
    await handle(
        db,
        ts,
        about_teacher_ or 0,
        at=AT + timedelta(hours=30),
        due_on=due,
        closed=(AT + timedelta(days=5), LedgerOutcome.EXPLAINED, "已当面说明"),
    )


EXPECTED = """\
【家长意见月报】2026年11月
共收到家长意见 14 条：建议 6 · 投诉 4 · 表扬 3 · 其他 1
转入问题台账跟进 11 条：待分类 8 · 处理中 1 · 已办结 2
已办结的处理结果：已解决 1 · 已当面解释 1
投诉已跟进 3/4 条（75%，目标 100%）
用时中位数：首次回应 4 小时，办结 4.0 天
按反馈对象：三(2)班 6 · 关于教师 5 · 其他 3
（不足 5 条的对象合并计入“其他”。）"""


async def with_principal(db: Database, ts: TestSchool, clock: FakeClock) -> Staff:
    async with db.session() as session:
        principal = Staff(
            school_id=ts.school.id or 0, staff_no="P01", name="周校长", roles="principal"
        )
        session.add(principal)
        await session.flush()
    await bind(db, clock, principal)
    await bind(db, clock, ts.staff["赵敏"])
    await bind(db, clock, ts.staff["王芳"])
    return principal


async def test_on_the_first_德育处_and_the_principal_get_last_months_summary(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    principal = await with_principal(db, school, clock)
    await november(db, school)

    assert await run_at(db, school.school, send_feedback_summary, local("2026-12-01 08:00")) == 2

    rows = await outbox(db, kind="feedback_summary")
    assert sorted(r.key for r in rows) == sorted(
        [
            f"feedback-summary:2026-11:staff:{school.staff['赵敏'].id}:console",
            f"feedback-summary:2026-11:staff:{principal.id}:console",
        ]
    )
    assert all(reply_of(r).text == EXPECTED for r in rows)


async def test_the_summary_names_no_one_and_quotes_nothing(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await with_principal(db, school, clock)
    await november(db, school)

    await run_at(db, school.school, send_feedback_summary, local("2026-12-01 08:00"))

    text = reply_of((await outbox(db, kind="feedback_summary"))[0]).text
    for secret in ("王芳", "李娜", "李华", "作业太多", "午餐", "三(1)班", "已调整作业量"):
        assert secret not in text


async def test_a_second_run_sends_nothing_and_a_missed_first_is_caught_up_until_the_fifth(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await with_principal(db, school, clock)
    await november(db, school)

    assert await run_at(db, school.school, send_feedback_summary, local("2026-12-06 08:00")) == 0
    assert await run_at(db, school.school, send_feedback_summary, local("2026-12-03 08:00")) == 2
    assert await run_at(db, school.school, send_feedback_summary, local("2026-12-04 08:00")) == 0
    assert await run_at(db, school.school, send_feedback_summary, local("2026-12-01 08:00")) == 0
    assert len(await outbox(db, kind="feedback_summary")) == 2


async def test_published_it_reaches_every_guardian_with_an_account_once(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await with_principal(db, school, clock)
    await november(db, school)
    for name in ("李娜家长", "刘梅"):
        await bind(db, clock, school.guardians[name])
    await bind(db, clock, school.guardians["刘梅"], channel="telegram", external_id="555")
    rules = SchoolRules(feedback_summary_publish=True)

    moment = local("2026-12-01 08:00")
    assert await run_at(db, school.school, send_feedback_summary, moment, rules) == 5
    assert await run_at(db, school.school, send_feedback_summary, moment, rules) == 0

    keys = {r.key for r in await outbox(db, kind="feedback_summary", prefix="feedback-summary")}
    li_na, liu_mei = school.guardians["李娜家长"].id, school.guardians["刘梅"].id
    assert {
        f"feedback-summary:2026-11:guardian:{li_na}:console",
        f"feedback-summary:2026-11:guardian:{liu_mei}:console",
        f"feedback-summary:2026-11:guardian:{liu_mei}:telegram",
    } <= keys


async def test_unpublished_no_guardian_gets_it(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await with_principal(db, school, clock)
    await bind(db, clock, school.guardians["刘梅"])

    assert await run_at(db, school.school, send_feedback_summary, local("2026-12-01 08:00")) == 2
    texts = [reply_of(r).text for r in await outbox(db, kind="feedback_summary")]
    assert texts == ["【家长意见月报】2026年11月\n本月没有收到家长的意见和建议。"] * 2


async def test_it_waits_for_the_end_of_quiet_hours(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await with_principal(db, school, clock)

    await run_at(db, school.school, send_feedback_summary, local("2026-12-01 05:00"))

    assert {r.due_at for r in await outbox(db, kind="feedback_summary")} == {
        local("2026-12-01 07:00")
    }


async def test_the_summary_reads_in_english(db: Database, school: TestSchool) -> None:
    await november(db, school)
    async with db.session() as session:
        rows = await month_rows(session, school_id=school.school.id or 0, month=NOV, zone=ZONE)

    text = summary_text(translator("en"), summarise(NOV, rows))

    assert len(text.splitlines()) == len(EXPECTED.splitlines())
    # Only the class name (the roster's own) stays in Chinese.
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text.replace("三(2)班", ""))


def test_the_job_runs_on_the_first_five_days_at_the_schools_time() -> None:
    assert FEEDBACK_SUMMARY in all_jobs()
    rules = SchoolRules.model_validate({"feedback_summary_time": "09:15"})
    assert FEEDBACK_SUMMARY.schedule(rules) == {"day": "1-5", "hour": 9, "minute": 15}
