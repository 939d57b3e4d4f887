"""What a parent's own message means (`models.parents.rules`): a table of realistic texts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from models.parents.rules import (
    NamedChild,
    ParentIntent,
    classify,
    leave_day,
    named_child,
)

ACK, THANKS, LEAVE = ParentIntent.ACKNOWLEDGEMENT, ParentIntent.THANKS, ParentIntent.SICK_LEAVE
MESSAGE, UNREADABLE = ParentIntent.MESSAGE, ParentIntent.UNREADABLE

CASES: list[tuple[str, ParentIntent]] = [
    # Acknowledgements, with courtesy, punctuation, emoji and WeChat emoticons.
    ("收到", ACK),
    ("好的", ACK),
    ("已阅", ACK),
    ("知道了", ACK),
    ("收到，谢谢", ACK),
    ("收到了，谢谢老师！", ACK),
    ("好的老师，辛苦了", ACK),
    ("已收到🙏", ACK),
    ("好的[抱拳]", ACK),
    ("OK", ACK),
    ("嗯嗯，明白", ACK),
    ("确认收到", ACK),
    ("老师好的", ACK),
    # Thanks alone is not a receipt.
    ("谢谢老师", THANKS),
    ("谢谢您！辛苦了", THANKS),
    # An acknowledgement followed by something more is a message.
    ("收到，明天几点集合？", MESSAGE),
    ("好的？", MESSAGE),
    ("好好学习", MESSAGE),
    # Leaves and sickness.
    ("孩子今天发烧请假", LEAVE),
    ("请假", LEAVE),
    ("老师您好，李娜今天请一天假", LEAVE),
    ("孩子昨晚开始咳嗽，今天在家休息", LEAVE),
    ("肚子疼，早上去医院看病了", LEAVE),
    ("孩子有点不舒服", LEAVE),
    ("孩子感冒了，上午去不了学校", LEAVE),
    ("小明得了甲流，医生说要隔离", LEAVE),
    ("烧到39度了", LEAVE),
    ("家里有事，明天请假一天", LEAVE),
    ("孩子还在发烧，明天继续请假", LEAVE),
    # Back to health is a message (the return is the head teacher's /absence).
    ("烧退了，明天返校", MESSAGE),
    ("孩子已经好了，明天可以上学了", MESSAGE),
    ("孩子不发烧了", MESSAGE),
    # Anything else.
    ("老师，孩子最近作业写得很慢，怎么办？", MESSAGE),
    ("明天需要带午饭吗", MESSAGE),
    ("hello", MESSAGE),
    # Nothing to read.
    ("1", UNREADABLE),
    ("？？", UNREADABLE),
    ("[微笑]", UNREADABLE),
]


@pytest.mark.parametrize(("text", "intent"), CASES)
def test_a_parents_text_is_read_as_what_it_means(text: str, intent: ParentIntent) -> None:
    assert classify(text) is intent


def test_a_long_text_made_of_acknowledgements_is_not_one() -> None:
    assert classify("好的" * 11) is MESSAGE


MONDAY_MORNING = datetime(2026, 11, 16, 7, 30)
SUNDAY_EVENING = datetime(2026, 11, 15, 21, 0)


@pytest.mark.parametrize(
    ("text", "written", "day"),
    [
        ("孩子今天发烧请假", MONDAY_MORNING, date(2026, 11, 16)),
        ("孩子发烧，明天请假", MONDAY_MORNING, date(2026, 11, 17)),
        ("孩子发烧了，请个假", MONDAY_MORNING, date(2026, 11, 16)),
        ("孩子发烧了，请个假", SUNDAY_EVENING, date(2026, 11, 16)),
        ("孩子今天晚上又烧起来了，今天的作业没写完", SUNDAY_EVENING, date(2026, 11, 15)),
    ],
)
def test_a_leave_starts_on_the_day_the_parent_means(
    text: str, written: datetime, day: date
) -> None:
    assert leave_day(text, written) == day


CHILDREN = [NamedChild(1, "张小明"), NamedChild(2, "张小红")]


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("张小红今天发烧请假", 2),
        ("小明肚子疼", 1),
        ("孩子发烧请假", None),
        ("小明和小红都感冒了", None),
    ],
)
def test_the_child_a_message_names_is_found_by_full_or_given_name(
    text: str, chosen: int | None
) -> None:
    assert named_child(text, CHILDREN) == chosen
