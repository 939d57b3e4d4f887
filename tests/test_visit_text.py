"""The one-message visit log parser: each rule of the rule book in `models/visits/message_rules.py`."""

from __future__ import annotations

import time
from datetime import date

import pytest

from models.visits.message_rules import ParsedVisit, parse_visit_text
from models.visits.tables import VisitCategory, VisitForm

MONDAY = date(2026, 11, 16)  # the `clock` fixture's day
THURSDAY = date(2026, 11, 19)
ROSTER = ("张小明", "张小", "李华", "王芳", "李文静", "刘伟强", "陈一诺", "赵一诺")


def parse(text: str, *, today: date = THURSDAY, names: tuple[str, ...] = ROSTER) -> ParsedVisit:
    return parse_visit_text(text, today=today, names=names)


# --- the two examples -----------------------------------------------------------------


def test_home_visit_sentence_is_read_completely() -> None:
    parsed = parse("今天上门家访了三(2)班张小明，见了奶奶，最近作业按时完成", today=MONDAY)
    assert parsed == ParsedVisit(
        visit_date=MONDAY,
        form=VisitForm.HOME,
        category=None,
        met="奶奶",
        class_name=(3, 2),
        student_names=("张小明",),
        notes="最近作业按时完成",
    )


def test_phone_visit_sentence_keeps_reported_speech_in_notes() -> None:
    parsed = parse("昨天电访李华妈妈 说孩子感冒", today=MONDAY)
    assert parsed == ParsedVisit(
        visit_date=date(2026, 11, 15),
        form=VisitForm.PHONE,
        category=None,
        met="母亲",
        class_name=None,
        student_names=("李华",),
        notes="说孩子感冒",
    )


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("今天家访", THURSDAY, THURSDAY),
        ("今日家访", THURSDAY, THURSDAY),
        ("今晚电话", THURSDAY, THURSDAY),
        ("昨天家访", THURSDAY, date(2026, 11, 18)),
        ("昨日家访", THURSDAY, date(2026, 11, 18)),
        ("前天家访", THURSDAY, date(2026, 11, 17)),
        ("大前天家访", THURSDAY, date(2026, 11, 16)),
        ("昨天家访", date(2026, 3, 1), date(2026, 2, 28)),
        ("11月16日家访", THURSDAY, date(2026, 11, 16)),
        ("11月16号家访", THURSDAY, date(2026, 11, 16)),
        ("十一月十六日家访", THURSDAY, date(2026, 11, 16)),
        ("三月五号家访", THURSDAY, date(2026, 3, 5)),
        ("１１月１６日家访", THURSDAY, date(2026, 11, 16)),
        ("11.16家访", THURSDAY, date(2026, 11, 16)),
        ("11/3家访", THURSDAY, date(2026, 11, 3)),
        ("12月25日家访", THURSDAY, date(2026, 12, 25)),  # future: returned, the caller refuses
        ("2026-11-03 家访", THURSDAY, date(2026, 11, 3)),
        ("2025/12/31 家访", THURSDAY, date(2025, 12, 31)),
        ("2026年11月3日家访", THURSDAY, date(2026, 11, 3)),
        ("2024年2月29日家访", THURSDAY, date(2024, 2, 29)),
        ("周三家访", THURSDAY, date(2026, 11, 18)),  # said on Thursday: yesterday
        ("周四家访", THURSDAY, THURSDAY),  # said on Thursday: today
        ("周五家访", THURSDAY, date(2026, 11, 13)),  # last Friday
        ("星期一家访", THURSDAY, MONDAY),
        ("礼拜二家访", THURSDAY, date(2026, 11, 17)),
        ("周日家访", THURSDAY, date(2026, 11, 15)),
        ("星期天家访", THURSDAY, date(2026, 11, 15)),
        ("上周三家访", THURSDAY, date(2026, 11, 11)),
        ("上星期五家访", THURSDAY, date(2026, 11, 13)),
        ("上周日家访", MONDAY, date(2026, 11, 15)),
        ("本周二家访", THURSDAY, date(2026, 11, 17)),
        ("这周五家访", THURSDAY, date(2026, 11, 20)),  # future: returned, the caller refuses
        ("昨天补记：前天家访", THURSDAY, date(2026, 11, 18)),  # the first date counts
    ],
)
def test_date_words_name_the_day(text: str, today: date, expected: date) -> None:
    assert parse(text, today=today).visit_date == expected


@pytest.mark.parametrize(
    "text",
    [
        "2月30日家访",
        "13月1日家访",
        "2026-02-30 家访",
        "2025年2月29日家访",
        "4/31家访",
    ],
)
def test_impossible_date_gives_no_date_and_stays_in_notes(text: str) -> None:
    parsed = parse(text)
    assert parsed.visit_date is None
    assert parsed.notes == text.removesuffix("家访").strip()


def test_impossible_first_date_is_not_replaced_by_a_later_one() -> None:
    assert parse("2月30日家访，今天补记").visit_date is None


@pytest.mark.parametrize(
    "text",
    [
        "孩子每天学习3.5小时",
        "1/3的作业没交",
        "数学考了9.5分",
        "每周三电话联系",
        "一周一次",
        "三个月没回家",
        "周末在家",
        "Hello, how are you?",
    ],
)
def test_amounts_and_habits_are_not_dates(text: str) -> None:
    assert parse(text).visit_date is None


# --- forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("上门看望", VisitForm.HOME),
        ("家访张小明", VisitForm.HOME),
        ("走访", VisitForm.HOME),
        ("入户", VisitForm.HOME),
        ("上门家访", VisitForm.HOME),
        ("电话", VisitForm.PHONE),
        ("电访", VisitForm.PHONE),
        ("打电话给李华妈妈", VisitForm.PHONE),
        ("打了个电话", VisitForm.PHONE),
        ("通话十分钟", VisitForm.PHONE),
        ("微信电话沟通", VisitForm.PHONE),
        ("电话家访", VisitForm.PHONE),  # the specific word beats 家访
        ("家访（电话）", VisitForm.PHONE),
        ("家长来校", VisitForm.PARENT_CAME),
        ("来访", VisitForm.PARENT_CAME),
        ("奶奶到校", VisitForm.PARENT_CAME),
        ("约谈家长", VisitForm.INVITED),
        ("约访", VisitForm.INVITED),
        ("约见李华爸爸", VisitForm.INVITED),
        ("请家长来校", VisitForm.INVITED),  # the first specific word counts
        ("微信家访", VisitForm.LETTER),
        ("信访", VisitForm.LETTER),
        ("发短信", VisitForm.LETTER),
        ("写信给家长", VisitForm.LETTER),
        ("发邮件", VisitForm.LETTER),
        ("给妈妈写了一封信", VisitForm.LETTER),
        ("来信收到", VisitForm.LETTER),
        ("上门家访，之前打过电话", VisitForm.HOME),
        ("电话约好后上门", VisitForm.PHONE),
        ("家访，孩子很有自信", VisitForm.HOME),
    ],
)
def test_form_words_name_the_form(text: str, form: VisitForm) -> None:
    assert parse(text).form == form


@pytest.mark.parametrize(
    "text",
    [
        "孩子缺乏信心",
        "相信孩子",
        "孩子很自信",
        "家长很信任老师",
        "了解了家庭信息",
        "难以置信",
        "孩子按时到校",
        "经常迟到",
        "留了电话号码",
        "张小明",
        "",
        "hello",
    ],
)
def test_words_that_only_look_like_form_words_name_no_form(text: str) -> None:
    assert parse(text).form is None


def test_form_word_and_its_contact_verb_leave_the_notes() -> None:
    assert parse("电话联系了张小明妈妈，孩子发烧").notes == "孩子发烧"


def test_word_that_only_looks_like_a_letter_stays_in_notes() -> None:
    assert parse("家访张小明，孩子缺乏信心").notes == "孩子缺乏信心"


# --- categories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("常规家访", VisitCategory.ROUTINE),
        ("重点家访", VisitCategory.KEY),
        ("立即家访", VisitCategory.IMMEDIATE),
        ("紧急：孩子受伤", VisitCategory.IMMEDIATE),
        ("重点学生，常规家访", VisitCategory.KEY),  # the first one counts
        ("家访张小明", None),
        ("上门", None),
    ],
)
def test_category_only_when_written(text: str, category: VisitCategory | None) -> None:
    assert parse(text).category == category


# --- who was met ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "met"),
    [
        ("见了爸爸", "父亲"),
        ("父亲在家", "父亲"),
        ("李华爸说好", "父亲"),
        ("见了妈妈", "母亲"),
        ("母亲接待", "母亲"),
        ("李华妈妈", "母亲"),
        ("李华的妈妈", "母亲"),
        ("爷爷", "爷爷"),
        ("见了祖父", "爷爷"),
        ("见了奶奶", "奶奶"),
        ("和奶奶谈了", "奶奶"),
        ("与祖母交流", "奶奶"),
        ("外公", "外公"),
        ("跟姥爷聊了聊", "外公"),
        ("外婆", "外婆"),
        ("见到了姥姥", "外婆"),
        ("哥哥", "哥哥"),
        ("姐姐", "姐姐"),
        ("叔叔", "叔叔"),
        ("阿姨", "阿姨"),
        ("舅舅", "舅舅"),
        ("姑姑", "姑姑"),
        ("姑妈", "姑姑"),  # not 母亲 because of 妈
        ("姨妈", "阿姨"),
        ("监护人", "监护人"),
        ("父母都在", "父母"),
        ("见了孩子的奶奶", "奶奶"),
        ("妈妈在外地打工，见了爷爷", "爷爷"),  # tied to a meeting word
        ("妈妈在外地，李华爷爷说", "爷爷"),  # tied to a student's name
        ("爸爸和妈妈都在家", "父母"),  # both met: kept together (父亲 and 母亲 are 父母)
        ("孩子说想妈妈了", "母亲"),  # nothing tied: the first one written
        ("家访张小明", None),
        ("", None),
    ],
)
def test_who_was_met(text: str, met: str | None) -> None:
    assert parse(text).met == met


@pytest.mark.parametrize(
    ("text", "notes"),
    [
        ("家访张小明，和奶奶谈了孩子的学习", "孩子的学习"),
        ("家访张小明，见到了孩子的外婆。孩子很乖", "孩子很乖"),
        ("家访张小明，妈妈说孩子感冒", "说孩子感冒"),
        ("家访张小明，孩子说想妈妈了", "孩子说想妈妈了"),
        ("家访张小明，见了爸爸，妈妈在外地打工", "妈妈在外地打工"),
    ],
)
def test_only_the_chosen_relation_phrase_leaves_the_notes(text: str, notes: str) -> None:
    assert parse(text).notes == notes


# --- class ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "class_name"),
    [
        ("三(2)班张小明", (3, 2)),
        ("三（2）班张小明", (3, 2)),
        ("3(2)班", (3, 2)),
        ("３（２）班", (3, 2)),
        ("3-2班", (3, 2)),
        ("三年级2班", (3, 2)),
        ("三年级二班", (3, 2)),
        ("六年级十二班", (6, 12)),
        ("1(10)班", (1, 10)),
        ("家访三(2)班的张小明", (3, 2)),
        ("三年级", None),
        ("2班", None),
        ("家访张小明", None),
    ],
)
def test_class_is_found_inside_the_sentence(text: str, class_name: tuple[int, int] | None) -> None:
    assert parse(text).class_name == class_name


# --- students ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names", "students"),
    [
        ("家访张小明", ROSTER, ("张小明",)),  # not also 张小
        ("家访张小", ROSTER, ("张小",)),
        ("李华和王芳", ROSTER, ("李华", "王芳")),  # in the order written
        ("王芳和李华", ROSTER, ("王芳", "李华")),
        ("李华李华", ROSTER, ("李华",)),  # once
        ("家访刘伟强", ("刘伟强", "刘伟强"), ("刘伟强",)),  # two students, one name
        ("小明今天上门", ROSTER, ("张小明",)),  # given name, unambiguous
        ("文静电访", ROSTER, ("李文静",)),
        ("一诺家访", ROSTER, ()),  # 陈一诺 and 赵一诺: ambiguous
        ("伟强家访", ("刘伟强", "刘伟强"), ("刘伟强",)),  # one name, however many students
        ("张小明很文静", ROSTER, ("张小明",)),  # a full name: no given-name guessing
        ("打电话给王文静爸爸", ROSTER, ()),  # 王文静 is not 李文静: another surname before it
        ("打电话给文静爸爸", ROSTER, ("李文静",)),  # 给 is no surname
        ("华家访", ROSTER, ()),  # two-character names have no given-name match
        ("家访王五", ROSTER, ()),
        ("家访张小明", (), ()),
        ("家访张小明", ("", " ", "张"), ()),  # blanks and one-character names are ignored
        ("家访张小明", (" 张小明 ",), ("张小明",)),
    ],
)
def test_student_names_come_from_the_roster(
    text: str, names: tuple[str, ...], students: tuple[str, ...]
) -> None:
    assert parse(text, names=names).student_names == students


def test_student_name_wins_over_a_form_word_inside_it() -> None:
    parsed = parse("家访王信", names=("王信",))
    assert (parsed.student_names, parsed.form) == (("王信",), VisitForm.HOME)


# --- notes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "notes"),
    [
        ("今天去张小明家家访了", ""),
        ("今天在张小明家上门家访", ""),
        ("常规家访张小明。", ""),
        ("昨天家访了张小明，孩子进步很大！", "孩子进步很大"),
        ("张小明的成绩进步了，今天家访", "成绩进步了"),
        ("给陈一诺妈妈写了一封信，说明期末安排", "说明期末安排"),
        ("紧急：李华在家摔伤，电话联系了爸爸", "在家摔伤"),
        ("家访张小明  孩子   感冒", "孩子 感冒"),
        ("家访张小明，，，孩子感冒。。", "孩子感冒"),
        ("11.16 走访王芳，数学考了9.5分", "数学考了9.5分"),
        ("今天上门家访张小明：（家里装修）", "（家里装修）"),
        ("Visited the family today", "Visited the family today"),
    ],
)
def test_notes_keep_what_was_not_recognised(text: str, notes: str) -> None:
    assert parse(text).notes == notes


# --- found anything ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("家访张小明", True),
        ("张小明", True),
        ("电话", True),
        ("今天", False),
        ("见了奶奶", False),
        ("三(2)班", False),
        ("你好", False),
        ("", False),
    ],
)
def test_found_anything_needs_a_student_or_a_form(text: str, found: bool) -> None:
    assert parse(text).found_anything() is found


# --- robustness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x00家访",
        "🙂🙂🙂 家访 😀",
        "！？。，、",
        "（（（（",
        "周",
        "月日号",
        "2026-",
        "99月99日 9999-99-99 0000年1月1日",
        "見了媽媽",  # traditional characters: nothing recognised, nothing broken
        "Hello world, I called the mum yesterday.",
        "家访" * 2500,
        "张小明见了妈妈" * 700,
        "妈" * 5000,
        "\n\t\r",
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    parsed = parse(text)
    assert isinstance(parsed.notes, str)
    assert len(parsed.notes) <= len(text)


def test_emoji_survive_in_notes() -> None:
    assert parse("家访张小明 孩子很开心😀").notes == "孩子很开心😀"


def test_full_width_digits_in_notes_are_kept_as_written() -> None:
    assert parse("家访张小明，考了９８分").notes == "考了９８分"


def _best_seconds_per_call(text: str, names: list[str], calls: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            parse_visit_text(text, today=THURSDAY, names=names)
        best = min(best, (time.perf_counter() - started) / calls)
    return best


FIFTY_NAMES = [
    s + g
    for s in "王李张刘陈"
    for g in ("小明", "华", "芳", "伟强", "静", "子涵", "一诺", "浩然", "欣怡", "梓轩")
]


def test_normal_message_with_fifty_names_parses_well_under_a_millisecond() -> None:
    text = "今天上门家访了三(2)班张小明，见了奶奶，最近作业按时完成"
    assert _best_seconds_per_call(text, FIFTY_NAMES, calls=100) < 0.001


def test_five_thousand_characters_parse_quickly() -> None:
    text = ("孩子最近作业按时完成，张小明的奶奶说信心足了。" * 250)[:5000]
    assert _best_seconds_per_call(text, FIFTY_NAMES, calls=2) < 0.1
