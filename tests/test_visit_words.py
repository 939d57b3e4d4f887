"""The words teachers type, through the real dispatcher: video visits, relative and future
dates, "no problem", navigation words, several people met, names written not quite right, the
full-width slash and 完成 in a multi-select. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.dispatcher import Dispatcher
from handlers.registry import all_flows
from models.db.engine import Database
from models.digest.queries import gather_digest
from models.notices.tables import AudienceKind
from models.quota.standing import teacher_month
from models.school.rules import SchoolRules
from models.visits.message_rules import (
    Navigation,
    navigation_word,
    read_met,
    says_no_problem,
)
from models.visits.name_guess import guess_names
from models.visits.tables import VisitForm
from tests.helpers.clock import FakeClock
from tests.helpers.duties import duties, local, open_duty
from tests.helpers.factories import seed_school
from tests.helpers.notices import OPENING, notices
from tests.helpers.visits import (
    ZONE,
    ChatUser,
    chat_as,
    conversation_of,
    full_dispatcher,
    person,
    visits,
)

TODAY = date(2026, 11, 16)  # the clock fixture's day, a Monday


async def wang(db: Database, clock: FakeClock, rules: SchoolRules | None = None) -> ChatUser:
    """王芳: head of 三(2)班, teaches maths in 三(1)班."""
    ts = await seed_school(db)
    dispatcher = Dispatcher(db, all_flows(), zone=ZONE, clock=clock, rules=rules or SchoolRules())
    return await chat_as(db, clock, ts.staff["王芳"], dispatcher)


# -- answers read on their own ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "无",
        "没有",
        "暂无",
        "没有问题",
        "没问题",
        "都挺好",
        "都挺好的。",
        "一切正常",
        "无。",
        "没有！",
        "暂时没有",
        "没发现什么问题",
        "未发现问题",
        "没什么问题",
        "挺好的",
        "none",
        "No",
    ],
)
def test_no_problem_in_the_words_teachers_use(text: str) -> None:
    assert says_no_problem(text)


@pytest.mark.parametrize(
    "text",
    ["孩子没有问题，但作业拖拉", "有问题", "作业没交", "没有按时完成作业", "无故旷课两天"],
)
def test_an_answer_naming_a_problem_is_a_problem(text: str) -> None:
    assert not says_no_problem(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("返回", Navigation.BACK),
        ("上一步", Navigation.BACK),
        ("返回。", Navigation.BACK),
        ("back", Navigation.BACK),
        ("跳过", Navigation.SKIP),
        ("skip", Navigation.SKIP),
        ("Skip", Navigation.SKIP),
        ("ＳＫＩＰ", Navigation.SKIP),
        ("取消", Navigation.CANCEL),
        ("退出", Navigation.CANCEL),
        ("返回学校后情绪好转", None),
        ("孩子想跳过早饭", None),
        ("", None),
    ],
)
def test_navigation_words_are_whole_answers(text: str, word: Navigation | None) -> None:
    assert navigation_word(text) == word


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("爸爸和奶奶", "父亲、奶奶"),
        ("爸爸、妈妈", "父母"),
        ("爷爷奶奶", "爷爷、奶奶"),
        ("孩子妈妈", "母亲"),
        ("孩子的外婆", "外婆"),
        ("母亲", "母亲"),
        ("外公和外婆", "外公、外婆"),
        ("舅舅", "舅舅"),
        ("邻居王阿姨", "邻居王阿姨"),  # more than a relation: kept as typed
        ("继母", "继母"),
    ],
)
def test_who_was_met_typed(text: str, people: str) -> None:
    assert read_met(text, today=TODAY).people == people


@pytest.mark.parametrize("text", ["12月2日", "2026-12-02", "昨天", "11.20"])
def test_a_date_is_never_who_was_met(text: str) -> None:
    answer = read_met(text, today=TODAY)
    assert (answer.people, answer.is_date) == (None, True)


@pytest.mark.parametrize(
    ("text", "roster", "written", "names"),
    [
        ("张晓明家长来学校了", ("张小明", "李华"), "张晓明", ("张小明",)),  # homophone
        ("今天家访李桦", ("张小明", "李华"), "李桦", ("李华",)),  # two characters, same sound
        ("家访张大明", ("张小明", "李华"), "张大明", ("张小明",)),  # one character off
        ("家访章小明", ("张小明",), "章小明", ("张小明",)),  # the surname, same sound
        ("家访曾晓", ("曾小", "李华"), "曾晓", ("曾小",)),  # 曾 read zeng or ceng
    ],
)
def test_a_name_written_not_quite_right_is_guessed(
    text: str, roster: tuple[str, ...], written: str, names: tuple[str, ...]
) -> None:
    [(_, _, guess)] = guess_names(text, roster)
    assert (guess.written, guess.names) == (written, names)


@pytest.mark.parametrize(
    ("text", "roster"),
    [
        ("李老师来了", ("李华",)),  # one character off a two-character name is no guess
        ("家访王小明", ("张小明",)),  # another surname, another sound
        ("李华妈妈", ("李华敏",)),  # 妈 is a word of the log
        ("今天天气很好", ("张小明", "李华")),
        ("", ("张小明",)),
    ],
)
def test_ordinary_words_are_not_guessed_as_names(text: str, roster: tuple[str, ...]) -> None:
    assert guess_names(text, roster) == []


# -- forms: video --------------------------------------------------------------------------


async def test_a_video_visit_is_recorded_as_such_and_does_not_complete_an_immediate_visit(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await open_duty(db, ts, "王芳", "李华", local("2026-11-14 09:00"))
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.send("昨天视频家访李华妈妈")
    assert "已识别：三(1)班 李华 · 2026年11月15日 · 视频家访 · 母亲" in user.text
    await user.steps("立即", "保存")
    [visit] = await visits(db)
    assert (visit.form, visit.met, visit.notes) == (VisitForm.VIDEO, "母亲", "")
    assert "该生的立即家访任务还未完成：需要记录一次上门家访。" in user.text
    [duty] = await duties(db)
    assert duty.done_at is None


async def test_by_default_a_video_visit_is_a_contact_not_a_home_visit(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.steps(">今天和张小明妈妈视频通话了", "常规", "保存")
    assert user.text.endswith("本月上门家访 0/10。")
    await user.send("/quota")
    assert "本月上门家访 0/10" in user.text
    assert "本月联系家长 1/8 人次" in user.text
    assert "本学年亲自上门遍访（三(2)班）0/6 人" in user.text


async def test_a_school_may_count_a_video_visit_as_a_home_visit(
    db: Database, clock: FakeClock
) -> None:
    rules = SchoolRules(video_visit_counts_as="home")
    user = await wang(db, clock, rules)
    await user.steps(">今天和张小明妈妈视频通话了", "常规", "保存")
    assert user.text.endswith("本月家访（上门家访、视频家访） 1/10。")
    await user.send("/quota")
    assert "本月家访（上门家访、视频家访） 1/10" in user.text
    assert "本学年亲自上门遍访（三(2)班）1/6 人" in user.text


def test_the_video_rule_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import Settings

    monkeypatch.setenv("RULES__VIDEO_VISIT_COUNTS_AS", "home")
    rules = Settings().rules
    assert rules.counted_forms() == ("home", "video")
    assert rules.home_forms() == ("home", "video")
    assert SchoolRules().counted_forms() == ("home",)
    assert SchoolRules().home_forms() == ("home",)


async def test_a_parent_who_came_to_school_is_a_parents_visit(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.steps(">今天李华爸爸来学校了", "常规", "保存")
    [visit] = await visits(db)
    assert (visit.form, visit.met, visit.visit_date) == (VisitForm.PARENT_CAME, "父亲", TODAY)


# -- dates -------------------------------------------------------------------------------------


async def test_the_friday_before_last_is_read_whole(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.steps(">上上周五上门家访张小明，见了奶奶", "重点", ">出差回来才补记", "保存")
    [visit] = await visits(db)
    assert (visit.visit_date, visit.notes) == (date(2026, 11, 6), "")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("3天前上门家访张小明", date(2026, 11, 13)),
        ("大前天上门家访张小明", date(2026, 11, 13)),
        ("前天下午上门家访张小明", date(2026, 11, 14)),
        ("11号上门家访张小明", date(2026, 11, 11)),
    ],
)
async def test_relative_dates_are_understood(
    db: Database, clock: FakeClock, text: str, day: date
) -> None:
    user = await wang(db, clock)
    await user.steps(f">{text}", "重点", "奶奶", "保存")
    [visit] = await visits(db)
    assert (visit.visit_date, visit.notes) == (day, "")


async def test_a_day_of_the_month_is_the_latest_one_and_late_needs_a_reason(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.send("20号上门家访张小明，见了奶奶")
    assert "2026年10月20日" in user.text
    await user.press("重点")
    assert "请简单说明为什么现在才记录" in user.text


@pytest.mark.parametrize("words", ["明天", "后天", "下周三"])
async def test_a_future_date_is_refused_out_loud_and_asked_again(
    db: Database, clock: FakeClock, words: str
) -> None:
    user = await wang(db, clock)
    await user.send(f"{words}上门家访李华")
    assert f"家访日期不能晚于今天（2026年11月16日）：“{words}”是将来的日期。" in user.text
    assert "请写已经做过的家访" in user.text
    await user.press("常规")
    assert "家访是哪一天？" in user.text
    await user.steps("今天", "父亲", "保存")
    [visit] = await visits(db)
    assert (visit.visit_date, visit.notes) == (TODAY, "")


async def test_a_future_date_typed_at_the_date_question_is_refused_with_its_words(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "电访", "常规", "其他日期", ">明天")
    assert "“明天”是将来的日期" in user.text
    await user.send("3天前")
    assert "这次见到的是学生的哪位家长或看护人？" in user.text


# -- problems ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["没有问题", "无", "没有", "暂无", "都挺好", "没发现什么问题"])
async def test_no_problem_in_words_is_no_problem(
    db: Database, clock: FakeClock, answer: str
) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶")
    await user.steps("跳过", "跳过", "跳过", "跳过", "跳过", f">{answer}")
    assert "需要学校处理吗" not in user.text
    assert "发现的问题：无" in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert (visit.problems, visit.needs_school) == ("", False)
    async with db.session() as session:
        figures = await gather_digest(
            session=session,
            school_id=visit.school_id,
            school_name="测试小学",
            now=local("2026-11-17 07:30"),
            zone=ZONE,
        )
    assert figures.problems == []


async def test_a_problem_in_words_is_still_a_problem(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶")
    await user.steps("跳过", "跳过", "跳过", "跳过", "跳过", ">孩子晚上一个人在家")
    assert "需要学校处理吗" in user.text


# -- navigation words ------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["返回", "上一步"])
async def test_back_at_a_section_asks_the_previous_question_and_saves_nothing_of_it(
    db: Database, clock: FakeClock, word: str
) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶")
    await user.steps(">作业按时完成")
    assert "家庭表现" in user.text
    await user.send(word)
    assert "在校情况反馈" in user.text
    assert "家庭表现" not in user.text
    await user.send("作业按时，字迹工整")
    assert "家庭表现" in user.text
    await user.send(word)
    await user.send(word)
    assert "这次见到的是学生的哪位家长或看护人？" in user.text
    await user.press("母亲")
    assert "家庭表现" in user.text  # 在校情况反馈 was answered: not asked again
    await user.steps(">在家主动做家务", "跳过", "跳过", "跳过", "无", "保存")
    [visit] = await visits(db)
    assert (visit.met, visit.school_report, visit.home_learned) == (
        "母亲",
        "作业按时，字迹工整",
        "在家主动做家务",
    )
    assert word not in (visit.family, visit.guidance, visit.measures, visit.problems)


@pytest.mark.parametrize("word", ["跳过", "skip", "SKIP"])
async def test_skip_skips_an_optional_section_and_the_problems(
    db: Database, clock: FakeClock, word: str
) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶")
    for _ in range(6):
        await user.send(word)
    assert "请核对这次家访记录" in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert (visit.school_report, visit.measures, visit.problems) == ("", "", "")


async def test_skip_at_a_required_question_asks_it_again(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", ">跳过")
    assert "这一项必须填写，不能跳过。" in user.text
    assert "这次见到的是学生的哪位家长或看护人？" in user.text


async def test_back_at_the_first_question_chooses_the_student_again(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", ">返回")
    assert "请选择学生" in user.text
    if "三(2)班" in user.labels:  # the class list, or the class's page
        await user.press("三(2)班")
    await user.press("李娜")
    assert "请选择家访形式" in user.text


async def test_back_from_a_question_reopened_by_edit_leaves_it_unchanged(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.steps(">昨天电访李华妈妈 说孩子感冒", "常规", "修改", "备注", ">返回")
    # Back to the step before: the 修改 menu (the dispatcher's history) or the summary.
    assert "要修改哪一项？" in user.text or "请核对这次家访记录" in user.text
    if "要修改哪一项？" in user.text:
        await user.press("返回核对")
    assert "备注：说孩子感冒" in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert visit.notes == "说孩子感冒"


@pytest.mark.parametrize("word", ["取消", "退出"])
async def test_cancel_words_end_the_visit_and_save_nothing(
    db: Database, clock: FakeClock, word: str
) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "奶奶", f">{word}")
    assert "没有保存" in user.text
    assert await visits(db) == []
    assert await conversation_of(db, user) is None


# -- who was met --------------------------------------------------------------------------------


async def test_a_date_typed_as_who_was_met_is_refused(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.steps("/visit", "三(2)班", "张小明", "上门家访", "重点", "今天", "其他", ">12月2日")
    assert "“12月2日”是一个日期，不是见到的人。" in user.text
    await user.send("爸爸和奶奶")
    assert "在校情况反馈" in user.text
    await user.steps("跳过", "跳过", "跳过", "跳过", "跳过", "无")
    assert "见到的家长：父亲、奶奶" in user.text
    await user.press("保存")
    [visit] = await visits(db)
    assert visit.met == "父亲、奶奶"


async def test_several_people_met_in_one_message_are_kept(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.send("今天上门家访张小明，见了爸爸和奶奶")
    assert "已识别：三(2)班 张小明 · 2026年11月16日 · 上门家访 · 父亲、奶奶" in user.text
    await user.steps("重点", "保存")
    [visit] = await visits(db)
    assert (visit.met, visit.notes) == ("父亲、奶奶", "")


# -- names -----------------------------------------------------------------------------------


async def test_a_homophone_of_a_students_name_is_proposed(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.send("张晓明家长来学校了")
    assert "您的学生中没有“张晓明”。是三(2)班 张小明吗？" in user.text
    assert user.labels == ["是", "不是"]
    await user.press("是")
    assert "学生：三(2)班 张小明" in user.text
    await user.steps("重点", "今天", "奶奶", "保存")
    [visit] = await visits(db)
    assert (visit.student_id, visit.form) == (visit.student_id, VisitForm.PARENT_CAME)
    assert "张晓明" not in visit.notes


async def test_not_the_proposed_student_opens_the_list(db: Database, clock: FakeClock) -> None:
    user = await wang(db, clock)
    await user.send("今天家访张大明，见了爸爸")
    assert "是三(2)班 张小明吗？" in user.text
    await user.send("不是")
    assert "请选择学生所在的班级" in user.text


async def test_a_student_of_another_class_is_named_as_out_of_scope(
    db: Database, clock: FakeClock
) -> None:
    user = await wang(db, clock)
    await user.send("今天上门家访张小红，见了妈妈")  # 四(1)班: not 王芳's student
    assert "张小红不是您任教或负责的学生，不能由您记录家访。" in user.text
    assert "是三(2)班 张小明吗" not in user.text
    assert "请选择学生所在的班级" in user.text


# -- the full-width slash, 完成 in a multi-select ----------------------------------------------


@pytest.mark.parametrize("command", ["／visit", "／visit 张小明", " ／quota"])
async def test_the_full_width_slash_starts_a_command(
    db: Database, clock: FakeClock, command: str
) -> None:
    user = await wang(db, clock)
    await user.send(command)
    assert "您可以发送" not in user.text
    assert any(
        words in user.text for words in ("请选择学生所在的班级", "请选择家访形式", "家访指标")
    )


async def test_typing_done_ends_the_student_multi_select(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    await admin.steps(*OPENING, "选择学生", "三(2)班", "张小明", "李娜", ">完成")
    assert "需要家长回执" in admin.text
    await admin.steps("需要回执", "明天 18:00", "提交后立即发布", ">12月1日", "提交")
    [notice] = await notices(db)
    assert notice.audience_kind is AudienceKind.STUDENTS
    assert set(notice.audience_ids) == {ts.students["张小明"].id, ts.students["李娜"].id}


async def test_progress_figure_after_a_video_visit_is_the_standing(
    db: Database, clock: FakeClock
) -> None:
    """The line after a save is `teacher_month`, the same figure /quota reads."""
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"])
    await user.steps(">今天上门家访张小明，见了奶奶", "重点", "保存")
    async with db.session() as session:
        month = await teacher_month(session=session, staff=ts.staff["王芳"], day=TODAY)
    assert month is not None and month.visits is not None
    assert user.text.endswith(f"本月上门家访 {month.visits.done}/{month.visits.target}。")
