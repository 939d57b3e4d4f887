"""The visit log's filler and separator rules, rewritten to read a text in one pass, accept what
the earlier patterns accepted. The earlier patterns are kept here as the reference (on texts this
short they are quick); the product's are in `models/visits/message_rules.py`."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.visits import message_rules as rules
from models.visits.message_rules import VISIT_TEXT_LIMIT, parse_visit_text

_PUNCTUATION = r"\s,.;:!?、，。；：！？~～\-—…·"
EARLIER_ONLY_FILLER = re.compile(
    rf"[{_PUNCTUATION}]*(?:(?:了一下|一下|一次|一趟|进行|[了的过去到在家给对向为和与跟同地])[{_PUNCTUATION}]*)*"
)
EARLIER_LEADING_FILLER = re.compile(r"(?:了一下|了一次|一下|一次|一趟|了|的|过|地)+")
EARLIER_TRAILING_FILLER = re.compile(r"(?:的|在|去|到|给|向|对|为)+\Z")
EARLIER_SEPARATOR_RUN = re.compile(rf"\s*([,.;:!?、，。；：！？~～…])[{_PUNCTUATION}]*")

#: Leftovers between recognised pieces, as teachers' messages leave them.
LEFTOVERS = [
    "",
    " ",
    "了",
    "了一下",
    "了一下。",
    "，了一下，",
    "去",
    "家",
    "去家",
    "在家",
    "给",
    "一下",
    "一次",
    "一趟",
    "进行",
    "进行了一次",
    "了一趟",
    "的",
    "了一",
    "一",
    "下",
    "了下",
    "一一下",
    "了一下了一下了一下",
    "了一下。x",
    "孩子感冒",
    "，孩子感冒",
    "说孩子感冒",
    "了解情况",
    "一下午",
    "进去",
    "。。，，",
    "…—·",
    "的的的的的地",
    "和与跟同",
]


@pytest.mark.parametrize("text", LEFTOVERS)
def test_a_leftover_is_filler_exactly_when_it_was_before(text: str) -> None:
    expected = EARLIER_ONLY_FILLER.fullmatch(text) is not None
    assert (rules._ONLY_FILLER.fullmatch(text) is not None) is expected


@pytest.mark.parametrize("text", LEFTOVERS)
def test_the_small_words_dropped_at_a_leftovers_start_are_those_dropped_before(text: str) -> None:
    earlier = EARLIER_LEADING_FILLER.match(text)
    now = rules._LEADING_FILLER.match(text)
    assert (now.end() if now else 0) == (earlier.end() if earlier else 0)


@pytest.mark.parametrize("text", [*LEFTOVERS, "孩子在", "孩子的的", "去给对向为", "在家的"])
def test_the_small_words_dropped_at_a_leftovers_end_are_those_dropped_before(text: str) -> None:
    earlier = EARLIER_TRAILING_FILLER.search(text)
    assert text.rstrip(rules._TRAILING_FILLER) == (text[: earlier.start()] if earlier else text)


@pytest.mark.parametrize(
    "text",
    [
        "孩子 感冒",
        "孩子 ，感冒",
        "孩子   ，，  感冒。。",
        " ，孩子",
        "孩子， ",
        "a  , b ,c",
        "，",
        "   ",
        "孩子\n。\n感冒",
        "孩子～～～",
    ],
)
def test_separators_are_tidied_as_before(text: str) -> None:
    assert rules._SEPARATOR_RUN.sub(r"\1", text) == EARLIER_SEPARATOR_RUN.sub(r"\1", text)


#: The characters the filler rules are made of, and a few that are not filler.
_ALPHABET = "了一下次趟进行的过去到在家给对向为和与跟同地 ，。…x孩"


@given(st.text(alphabet=_ALPHABET, max_size=12))
def test_any_short_leftover_reads_as_it_did_before(text: str) -> None:
    assert (rules._ONLY_FILLER.fullmatch(text) is None) is (
        EARLIER_ONLY_FILLER.fullmatch(text) is None
    )
    earlier = EARLIER_LEADING_FILLER.match(text)
    now = rules._LEADING_FILLER.match(text)
    assert (now.end() if now else 0) == (earlier.end() if earlier else 0)
    trail = EARLIER_TRAILING_FILLER.search(text)
    assert text.rstrip(rules._TRAILING_FILLER) == (text[: trail.start()] if trail else text)
    assert rules._SEPARATOR_RUN.sub(r"\1", text) == EARLIER_SEPARATOR_RUN.sub(r"\1", text)


TODAY = date(2026, 11, 19)


def test_a_message_at_the_length_limit_is_read() -> None:
    text = ("昨天电访张小明妈妈 说孩子感冒" + "，最近作业按时完成" * 200)[:VISIT_TEXT_LIMIT]
    parsed = parse_visit_text(text, today=TODAY, names=["张小明"])
    assert not parsed.too_long
    assert parsed.student_names == ("张小明",)


def test_a_message_over_the_length_limit_is_not_read() -> None:
    text = ("昨天电访张小明妈妈 说孩子感冒" + "，最近作业按时完成" * 200)[: VISIT_TEXT_LIMIT + 1]
    parsed = parse_visit_text(text, today=TODAY, names=["张小明"])
    assert parsed.too_long
    assert (parsed.student_names, parsed.form, parsed.notes) == ((), None, "")
    assert not parsed.found_anything()
