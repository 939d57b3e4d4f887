"""`/quota` (指标) through the real Dispatcher on the console, as a teacher would use it.

The clock stands on Monday 16 November 2026, 10:00 in Shanghai (15 of 30 days past).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from models.db.engine import Database
from models.roster.tables import Staff, Student
from models.visits.tables import VisitForm
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.quota import YEAR_2026, add_subject_teacher, add_terms, add_visits
from tests.helpers.visits import ChatUser, chat_as, visit_dispatcher


async def test_a_head_teacher_sees_each_rule_with_numbers_first_and_who_is_not_visited(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "李华"], day=date(2026, 11, 10))
    # A subject teacher's call reaches 刘洋's parents this semester, but is not 王芳's 遍访.
    await add_subject_teacher(db, ts)
    await add_visits(db, ts, "周婷", ["刘洋"], day=date(2026, 11, 11), form=VisitForm.PHONE)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/quota")
    assert user.text.splitlines() == [
        "您的家访指标：",
        "本月上门家访 4/10（进度偏慢，此时应有 5 次）",
        "本月联系家长 4/8 人次",
        "本学年亲自上门遍访（三(2)班）3/6 人",
        "重点家访：特殊类型学生 0/2 人已完成（每年 1–2 次）",
        "本学期已联系家长 4/6 人",
        "留守儿童家长本月联系 1/1 人",
        "本学年您尚未亲自上门家访的学生（3 人）：刘洋、陈静、杨帆",
        "本学期尚未联系家长的学生（2 人）：陈静、杨帆",
        "发送 /visit 记录家访。",
    ]


async def test_the_chinese_keyword_works_like_the_command(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("指标")
    assert user.text.startswith("您的家访指标：")
    assert "本月上门家访 0/10（进度偏慢，此时应有 5 次）" in user.text


async def test_a_subject_teacher_sees_only_their_own_rules(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_subject_teacher(db, ts)
    await add_visits(db, ts, "周婷", ["李娜", "张小红", "李娜"], day=date(2026, 11, 3))
    user = await chat_as(db, clock, ts.staff["周婷"])
    await user.send("/quota")
    assert user.text.splitlines() == [
        "您的家访指标：",
        "本月上门家访 3/3（已完成）",
        "本月联系家长 3/8 人次（进度偏慢，此时应有 4 人次）",
        "发送 /visit 记录家访。",
    ]


async def test_staff_without_a_class_are_told_they_have_no_quota(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    async with db.session() as session:  # a principal: no class, no group, not 德育处
        principal = Staff(
            school_id=ts.school.id or 0, staff_no="P01", name="周校长", roles="principal"
        )
        session.add(principal)
    user = await chat_as(db, clock, principal)
    await user.send("/quota")
    assert user.text == "您没有任教班级，也不带队，暂无家访指标。"


async def test_a_parent_cannot_see_quotas(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    user_id = await bind(db, clock, ts.guardians["刘梅"])
    parent = ChatUser(visit_dispatcher(db, clock), user_id)
    await parent.send("/quota")
    assert parent.text == "这项功能只对本校教师开放。"


async def test_a_long_list_of_students_not_yet_visited_is_cut_short(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    async with db.session() as session:
        for number in range(1, 25):
            session.add(
                Student(
                    school_id=ts.school.id or 0,
                    student_no=f"X{number:03d}",
                    name=f"学生{number}",
                    class_id=ts.classes["三(2)班"].id or 0,
                )
            )
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/quota")
    [line] = [x for x in user.text.splitlines() if x.startswith("本学年您尚未亲自上门家访")]
    assert line.startswith("本学年您尚未亲自上门家访的学生（30 人）：张小明、李娜、")
    assert line.endswith("学生14等 30 人")


async def test_quota_is_listed_in_help_and_answers_in_english(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "李华"], day=date(2026, 11, 10))
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/help")
    assert "/quota — " in user.text
    await user.send("/lang en")
    await user.send("/quota")
    assert "4/10" in user.text
    assert "刘洋" in user.text
    assert "本月" not in user.text


async def test_in_the_winter_break_the_break_comes_first_and_the_ended_month_is_not_paced(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    await add_visits(db, ts, "王芳", ["张小明", "李娜", "王磊", "李华"], day=date(2027, 1, 10))
    await add_visits(db, ts, "王芳", ["王磊"], day=date(2027, 1, 24))
    clock.now = datetime(2027, 1, 25, 2, 0, tzinfo=UTC)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/quota")
    assert user.text.splitlines()[:6] == [
        "您的家访指标：",
        "寒假上门家访 1/6",
        "寒假必访（特殊类型学生）1/2 人",
        "　尚未家访：张小明",
        "本月上门家访 4/8（未完成）",
        "本月联系家长 4/6 人次（未完成）",
    ]


async def test_without_a_calendar_quota_says_so_before_the_numbers(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)  # a roster, no 校历: months run through holidays
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("/quota")
    first, blank, heading = user.text.splitlines()[:3]
    assert first.startswith("本校还没有导入2026-2027学年的校历：")
    assert "python -m bot calendar import 校历.xlsx" in first
    assert (blank, heading) == ("", "您的家访指标：")
