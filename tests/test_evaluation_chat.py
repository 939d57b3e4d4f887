"""`/evaluation` in the chat (handlers/evaluation/): 德育处 and the principal see every teacher
ranked and open each one's figures; a teacher sees their own only (another's button or name is
refused); `/quota` links to it; the principal gets a class's chart as a picture. The semester is
the fixture of tests/helpers/evaluation.py, looked at on 1 March 2027 (after its winter break).
"""

from __future__ import annotations

from models.db.engine import Database
from models.roster.tables import Staff
from tests.helpers.clock import FakeClock
from tests.helpers.evaluation import EVALUATED, build_semester
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.quota import YEAR_2026, add_terms
from tests.helpers.visits import ChatUser, full_dispatcher, person


async def chat(db: Database, clock: FakeClock, staff: Staff) -> ChatUser:
    return await person(db, clock, full_dispatcher(db, clock), staff)


async def semester(db: Database, clock: FakeClock) -> TestSchool:
    ts = await build_semester(db)
    clock.now = EVALUATED
    return ts


async def test_the_office_sees_every_teacher_ranked_and_opens_one_month_by_month(
    db: Database, clock: FakeClock
) -> None:
    ts = await semester(db, clock)
    office = await chat(db, clock, ts.staff["赵敏"])
    await office.send("/evaluation 2026-09-01")
    listing = office.replies[0].text.splitlines()
    assert listing[0] == "家访工作考核 · semester（2026年9月1日至2027年2月22日）"
    assert listing[1] == "共 4 位教师，按得分从高到低："
    ranked = [line for line in listing[2:6]]
    assert "王芳（三(2)班班主任）66.2 分" in "\n".join(ranked)
    assert "钱进（教练）52.0 分" in "\n".join(ranked)
    assert "赵敏" not in office.text  # 德育处 only: no quota, not evaluated
    assert "王芳 66.2 分" in office.labels
    assert {"三(1)班", "三(2)班", "四(1)班"} <= set(office.labels)

    await office.press("王芳 66.2 分")
    lines = office.text.splitlines()
    assert lines[0] == "王芳（T01 · 三(2)班班主任）的家访工作考核"
    assert lines[2] == "得分：66.2 分"
    assert (
        "常规上门家访（达标 2/5 个月）：9月 10/10 · 10月 8/10 · 11月 0/10 · 12月 10/10 · 1月 4/8"
        in lines
    )
    assert (
        "联系家长（人次，达标 3/5 个月）：9月 10/8 · 10月 10/8 · 11月 0/8 · 12月 10/8 · 1月 4/6"
        in lines
    )
    assert "重点家访：特殊类型学生 1/2 人已完成" in lines
    assert "寒假家访 3/6 次" in lines and "寒假必访学生 1/2 人" in lines
    assert "立即家访：按时 1 · 逾期完成 2 · 未完成 1（逾期时间中位数 15 小时）" in lines
    assert "记录及时：37 条记录中 2 条晚于家访 7 天以上才记录" in lines
    assert "班级遍访（本学年）：5/6 人" in lines
    assert "大走访包保：亲自走访 2/3 户" in lines
    assert "问题台账：负责 3 条，已办结 2 条" in lines


async def test_a_teacher_or_class_is_opened_by_name_and_an_unknown_word_is_explained(
    db: Database, clock: FakeClock
) -> None:
    ts = await semester(db, clock)
    office = await chat(db, clock, ts.staff["赵敏"])
    await office.send("/evaluation 2026-09-01 T04")
    assert office.text.startswith("钱进（T04 · 教练）的家访工作考核")
    await office.send("/evaluation 2026-09-01 五(9)班")
    assert office.text.startswith("没有找到“五(9)班”。")


async def test_a_teacher_sees_only_their_own_figures(db: Database, clock: FakeClock) -> None:
    ts = await semester(db, clock)
    wang = await chat(db, clock, ts.staff["王芳"])
    await wang.send("/evaluation 2026-09-01")
    assert wang.text.startswith("王芳（T01 · 三(2)班班主任）的家访工作考核")
    assert "李强" not in wang.text and wang.buttons == []

    await wang.send("/evaluation 2026-09-01 李强")
    assert wang.text == "您只能查看自己的家访工作考核。"
    li = ts.staff["李强"].id
    await wang.callback(f"!evt:{li}.0")
    assert wang.text == "您只能查看自己的家访工作考核。"
    await wang.callback(f"!evc:{ts.classes['三(2)班'].id}.0")
    assert wang.text == "只有德育处和校长可以查看各班的考核图表。"


async def test_quota_links_to_the_teachers_own_figures(db: Database, clock: FakeClock) -> None:
    ts = await semester(db, clock)
    li = await chat(db, clock, ts.staff["李强"])
    await li.send("/quota")
    assert li.labels == ["我的家访考核"]
    await li.press("我的家访考核")
    assert li.text.startswith("李强（T02 · 三(1)班班主任）的家访工作考核")


async def test_the_principal_gets_a_class_chart_as_a_picture(
    db: Database, clock: FakeClock
) -> None:
    ts = await semester(db, clock)
    async with db.session() as session:
        principal = Staff(
            school_id=ts.school.id or 0, staff_no="P01", name="周校长", roles="principal"
        )
        session.add(principal)
    head = await chat(db, clock, principal)
    await head.send("/evaluation 2026-09-01")
    li = next(label for label in head.labels if label.startswith("李强 "))
    await head.press("三(1)班")
    (reply,) = head.replies
    # 三(1)班: its head teacher 李强 first, then 王芳 who teaches maths there.
    assert reply.text.splitlines() == [
        "三(1)班 · semester",
        f"李强（班主任）{li.removeprefix('李强 ')}",
        "王芳（任课教师或教练）66.2 分",
    ]
    assert reply.image is not None and reply.image.data and reply.image.data[:4] == b"\x89PNG"


async def test_a_semester_without_visits_says_so(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    await add_terms(db, ts, *YEAR_2026)
    office = await chat(db, clock, ts.staff["赵敏"])
    await office.send("/evaluation")
    assert office.text == "本学期还没有家访数据。"
    await office.send("/evaluation 1999秋季学期")
    assert office.text.startswith("校历中没有名为“1999秋季学期”的学期。")
    await office.send("/evaluation 1999-09-01")
    assert office.text.startswith("1999-09-01 不在任何学期内。")
