"""The flood limits as a rule: a guardian's questions about one notice, anyone's messages to
staff in an hour, and repeats — given what the sender already sent, allowed or refused with the
reason and, for the hourly limit, the moment they may write again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from models.limits.rules import Asked, Refusal, Verdict, hourly_verdict, question_verdict
from models.school.rules import DEFAULT_RULES, SchoolRules

NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def at(minutes_from_now: float) -> datetime:
    return NOW + timedelta(minutes=minutes_from_now)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param([], Verdict(), id="nothing sent"),
        pytest.param(minutes_ago(*range(19)), Verdict(), id="19 in the hour: the 20th may go"),
        pytest.param(
            minutes_ago(*range(20)),
            Verdict(Refusal.HOURLY, again_at=at(60 - 19)),
            id="20 in the hour: refused until the oldest is an hour old",
        ),
        pytest.param(
            minutes_ago(*range(0, 50, 2)),
            Verdict(Refusal.HOURLY, again_at=at(60 - 38)),
            id="25 in the hour: refused until only 19 are left in it",
        ),
        pytest.param(
            minutes_ago(*range(19), 60, 61, 120), Verdict(), id="an hour old or more: not counted"
        ),
        pytest.param(minutes_ago(*range(19), -5), Verdict(), id="a moment after now: not counted"),
    ],
)
def test_the_hourly_limit_counts_the_messages_of_the_last_hour(
    sent: list[datetime], expected: Verdict
) -> None:
    assert hourly_verdict(sent, now=NOW, rules=DEFAULT_RULES) == expected


def test_the_hourly_limit_is_a_setting() -> None:
    rules = SchoolRules(messages_to_staff_per_hour=2)
    assert hourly_verdict(minutes_ago(1), now=NOW, rules=rules).allowed
    assert hourly_verdict(minutes_ago(1, 30), now=NOW, rules=rules) == Verdict(
        Refusal.HOURLY, again_at=at(30)
    )


def asked(count: int, student_id: int = 7) -> list[Asked]:
    return [Asked(student_id, f"第{n}个问题") for n in range(count)]


@pytest.mark.parametrize(
    ("earlier", "sent", "text", "student_id", "expected"),
    [
        pytest.param([], [], "几点集合？", 7, Verdict(), id="a first question"),
        pytest.param(asked(4), [], "几点集合？", 7, Verdict(), id="the 5th question"),
        pytest.param(
            asked(5), [], "几点集合？", 7, Verdict(Refusal.PER_NOTICE), id="the 6th question"
        ),
        pytest.param(
            asked(5, student_id=8),
            [],
            "几点集合？",
            7,
            Verdict(Refusal.PER_NOTICE),
            id="the 6th, counting questions about the other child",
        ),
        pytest.param(
            asked(2), [], "第1个问题", 7, Verdict(Refusal.REPEAT), id="an earlier question again"
        ),
        pytest.param(
            asked(5), [], "第1个问题", 7, Verdict(Refusal.REPEAT), id="a repeat beyond the limit"
        ),
        pytest.param(
            asked(2), [], "第1个问题", 8, Verdict(), id="the same words about the other child"
        ),
        pytest.param(asked(2), [], "第1个问题？", 7, Verdict(), id="different words"),
        pytest.param(
            asked(1),
            minutes_ago(*range(20)),
            "几点集合？",
            7,
            Verdict(Refusal.HOURLY, again_at=at(41)),
            id="within the notice's limit, beyond the hour's",
        ),
        pytest.param(
            asked(5),
            minutes_ago(*range(20)),
            "几点集合？",
            7,
            Verdict(Refusal.PER_NOTICE),
            id="beyond both: the notice's limit is said",
        ),
        pytest.param(asked(5), [], None, None, Verdict(Refusal.PER_NOTICE), id="no text yet"),
        pytest.param(asked(4), [], None, None, Verdict(), id="no text yet, room for one more"),
    ],
)
def test_a_question_is_refused_as_a_repeat_then_by_notice_then_by_the_hour(
    earlier: list[Asked],
    sent: list[datetime],
    text: str | None,
    student_id: int | None,
    expected: Verdict,
) -> None:
    verdict = question_verdict(
        asked=earlier, sent=sent, now=NOW, rules=DEFAULT_RULES, text=text, student_id=student_id
    )
    assert verdict == expected


def test_the_questions_per_notice_are_a_setting() -> None:
    rules = SchoolRules(questions_per_notice=2)
    assert question_verdict(asked=asked(1), sent=[], now=NOW, rules=rules).allowed
    assert question_verdict(asked=asked(2), sent=[], now=NOW, rules=rules) == Verdict(
        Refusal.PER_NOTICE
    )


def test_the_limits_default_to_five_questions_and_twenty_messages_an_hour() -> None:
    assert (DEFAULT_RULES.questions_per_notice, DEFAULT_RULES.messages_to_staff_per_hour) == (5, 20)


@pytest.mark.parametrize("field", ["questions_per_notice", "messages_to_staff_per_hour"])
def test_a_limit_below_one_is_refused(field: str) -> None:
    with pytest.raises(ValidationError):
        SchoolRules.model_validate({field: 0})
