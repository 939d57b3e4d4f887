"""德育处's daily digest: its figures on a fixed data set, its text, its query count, /digest."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from benchmarks.digest import build_school, counting_statements
from handlers.digest import digest_text
from handlers.i18n import translator
from models.db.engine import Database
from models.digest.queries import (
    QUERIES,
    ClassCompletion,
    DigestFigures,
    FlaggedProblem,
    OverdueVisit,
    UnreachedIncident,
    gather_digest,
)
from models.duties.tables import DutyTrigger
from models.incidents.tables import IncidentKind
from models.outbox.media import Media
from models.quota.rules import Tally
from models.roster.tables import Staff
from models.visits.tables import VisitCategory, VisitForm
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.digest import ZONE, add_data_set, local, nov, seed_digest_school
from tests.helpers.factories import bind, seed_school
from tests.helpers.visits import ChatUser, visit_dispatcher


async def digest_of(db: Database, ts: factories.TestSchool, now: datetime) -> DigestFigures:
    async with db.session() as session:
        return await gather_digest(
            session=session,
            school_id=ts.school.id or 0,
            school_name=ts.school.name,
            now=now,
            zone=ZONE,
        )


# -- the figures ------------------------------------------------------------------------------


async def test_the_digest_of_a_fixed_data_set_has_the_hand_counted_figures(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_digest_school(db)

    figures = await digest_of(db, ts, clock())

    assert (figures.today, figures.day, figures.month_first) == (nov(16), nov(15), nov(1))
    assert figures.overdue == [
        OverdueVisit("三(2)班", "张小明", "王芳", DutyTrigger.SICK_ABSENCE, local(nov(15), 9))
    ]
    assert figures.unreached == [
        UnreachedIncident("四(1)班", "赵刚", IncidentKind.INJURY, local(nov(16), 8))
    ]
    assert figures.problems == [
        FlaggedProblem("三(1)班", "周杰", "李强", needs_school=True),
        FlaggedProblem("四(1)班", "赵刚", "孙丽", needs_school=True),
        FlaggedProblem("四(1)班", "孙悦", "孙丽", needs_school=False),
    ]
    assert figures.visits_yesterday == 4
    assert figures.by_form == {VisitForm.HOME: 1, VisitForm.PHONE: 2, VisitForm.PARENT_CAME: 1}
    assert figures.by_category == {
        VisitCategory.ROUTINE: 2,
        VisitCategory.KEY: 1,
        VisitCategory.IMMEDIATE: 1,
    }
    assert figures.classes == [
        # 上门家访 only (seed 000 §二.1: 有计划地上门访问): 李强's call to 周杰 and 孙丽's
        # call and parents' visit on the 15th are contacts, not visits.
        ClassCompletion("三(1)班", "李强", done=3, target=10, homes_visited=2, students=6),
        ClassCompletion("三(2)班", "王芳", done=6, target=10, homes_visited=6, students=6),
        ClassCompletion("四(1)班", "孙丽", done=8, target=10, homes_visited=5, students=6),
    ]
    assert [c.percent for c in figures.classes] == [30, 60, 80]
    # 入户率: 三(1)班 李华 and 周杰 (周杰's second contact was a call); 四(1)班 all but 郑凯.
    assert [c.home_percent for c in figures.classes] == [33, 100, 83]
    assert (figures.head_target, figures.head_expected) == (10, 5)


async def test_teachers_behind_pace_are_listed_furthest_behind_first(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_digest_school(db)

    behind = (await digest_of(db, ts, clock())).behind

    assert [p.name for p in behind] == ["钱进", "李强"]
    coach, head = behind
    assert (coach.visits, coach.contacts, coach.contacts_expected) == (None, Tally(0, 8), 4)
    assert (head.visits, head.visits_expected) == (Tally(3, 10), 5)
    assert (head.contacts, head.contacts_expected) == (Tally(4, 8), 4)  # 人次, any form


async def test_a_quiet_school_has_no_exceptions(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)

    figures = await digest_of(db, ts, datetime(2026, 11, 1, 23, 30, tzinfo=UTC))  # 2 Nov 07:30

    assert figures.day == date(2026, 11, 1)
    assert not (figures.overdue or figures.unreached or figures.problems)
    assert figures.visits_yesterday == 0
    assert "没有逾期的立即家访" in digest_text(figures, translator("zh"), ZONE)


# -- the text -----------------------------------------------------------------------------------

EXPECTED_TEXT = """\
家访日报 · 测试小学 · 11月16日

【需要关注】
· 立即家访逾期未完成：1 项
  三(2)班张小明（王芳；因病缺课两天以上；逾期 1 天）
· 突发事件未联系上家长：1 起
  四(1)班赵刚（意外伤害；11月16日 08:00 报告）
· 昨日记录的家访发现问题：3 条，其中需学校协助 2 条
  三(1)班周杰（李强记录，需学校协助）
  四(1)班赵刚（孙丽记录，需学校协助）
· 本月进度落后的教师：2 人
  钱进 联系家长 0/8 人次，按进度应联系 4 人次
  李强 上门家访 3/10，按进度应完成 5 次

【昨日家访】11月15日，共 4 次
  按形式：上门家访 1 · 家长来访 1 · 电访 2
  按类别：常规 2 · 重点 1 · 立即 1

【本月班主任家访完成情况】11月1日至11月15日
  三(1)班 3/10（入户 33%） · 三(2)班 6/10（入户 100%）
  四(1)班 8/10（入户 83%）
完成情况 = 班主任本月上门家访次数 / 本月指标 10 次；按进度截至昨日应完成 5 次。
入户率 = 本学年有老师上门家访过的学生 / 全班学生。"""


async def test_the_text_leads_with_exceptions_then_yesterday_then_the_month(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_digest_school(db)

    text = digest_text(await digest_of(db, ts, clock()), translator("zh"), ZONE)

    assert text == EXPECTED_TEXT


async def test_a_school_without_a_calendar_is_told_so_under_the_title(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        add_data_set(session, ts)

    lines = digest_text(await digest_of(db, ts, clock()), translator("zh"), ZONE).splitlines()

    assert lines[2].startswith("本校还没有导入2026-2027学年的校历：")
    assert lines[3:5] == ["", "【需要关注】"]


async def test_the_text_names_no_student_whose_problem_needs_no_one_to_act(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_digest_school(db)

    text = digest_text(await digest_of(db, ts, clock()), translator("zh"), ZONE)

    assert "孙悦" not in text  # a problem recorded, not for the school: counted only
    assert "学习跟不上" not in text and "家中变故" not in text  # never a problem's content


async def test_the_text_reads_in_english_for_an_english_speaking_admin(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_digest_school(db)

    text = digest_text(await digest_of(db, ts, clock()), translator("en"), ZONE)

    assert text.startswith("Home-visit digest · 测试小学 · 16/11\n\n[Needs attention]\n")
    assert "· Immediate visits overdue: 1\n" in text
    assert "[Yesterday's visits] 15/11: 4 in all" in text


# -- a fixed number of queries ----------------------------------------------------------------


async def count_digest_queries(db: Database, ts_id: int, name: str, now: datetime) -> int:
    async with db.session() as session:
        await session.connection()
        with counting_statements(db) as seen:
            await gather_digest(
                session=session, school_id=ts_id, school_name=name, now=now, zone=ZONE
            )
    return len(seen)


async def test_the_digest_runs_the_same_number_of_queries_for_a_small_and_a_bigger_school(
    db: Database, clock: FakeClock
) -> None:
    small = await seed_digest_school(db)
    async with db.session() as session:
        big = await build_school(
            session, students=450, teachers=30, today=date(2026, 11, 16), name="大学校"
        )

    small_count = await count_digest_queries(db, small.school.id or 0, "测试小学", clock())
    big_count = await count_digest_queries(db, big.school_id, big.name, clock())

    assert big.visits > 200 and big.classes == 12
    assert small_count == big_count == QUERIES


# -- /digest on demand ------------------------------------------------------------------------


async def test_an_admin_gets_the_digest_with_its_chart_on_demand(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    admin = ChatUser(
        visit_dispatcher(db, clock), await bind(db, clock, digest_school.staff["赵敏"])
    )

    await admin.send("/digest")

    (reply,) = admin.replies
    assert reply.text == EXPECTED_TEXT
    assert reply.image is not None and reply.image.data is not None
    assert reply.image.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert reply.image.filename == "digest-2026-11-16.png"
    async with db.session() as session:
        stored = (await session.exec(select(Media))).one()
    assert (stored.key, stored.data) == (reply.image.media_key, reply.image.data)


async def test_the_chinese_keyword_asks_for_the_digest_too(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    admin = ChatUser(
        visit_dispatcher(db, clock), await bind(db, clock, digest_school.staff["赵敏"])
    )

    await admin.send("日报")

    assert admin.text.startswith("家访日报")


async def test_the_principal_may_ask_for_the_digest(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    async with db.session() as session:
        principal = Staff(
            school_id=digest_school.school.id or 0, staff_no="P01", name="周校长", roles="principal"
        )
        session.add(principal)
    user = ChatUser(visit_dispatcher(db, clock), await bind(db, clock, principal))

    await user.send("/digest")

    assert user.text.startswith("家访日报")


async def test_a_teacher_asking_for_the_digest_is_refused_politely(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    teacher = ChatUser(
        visit_dispatcher(db, clock), await bind(db, clock, digest_school.staff["王芳"])
    )

    await teacher.send("/digest")

    assert teacher.text == "家访日报只提供给德育处和校长。您本人的家访进度可以发送 /quota 查看。"
    assert "张小明" not in teacher.text
    async with db.session() as session:
        assert (await session.exec(select(Media))).all() == []


async def test_help_lists_the_digest_for_an_admin_only(
    db: Database, clock: FakeClock, digest_school: factories.TestSchool
) -> None:
    dispatcher = visit_dispatcher(db, clock)
    admin = ChatUser(dispatcher, await bind(db, clock, digest_school.staff["赵敏"]))
    teacher = ChatUser(dispatcher, await bind(db, clock, digest_school.staff["王芳"]))

    await admin.send("/help")
    await teacher.send("/help")

    assert "/digest" in admin.text
    assert "/digest" not in teacher.text
