"""The moves of the fuzz test as Hypothesis strategies: text (commands with odd arguments, huge
numbers, impossible dates, control characters, long texts), presses of shown and stale buttons,
forged callbacks, contacts, photos and documents with odd metadata.

Kept apart from `tests.helpers.fuzz_updates` (the world and the playing of a move), so that the
fuzz benchmark replays generated moves in a process that never imports Hypothesis.
"""

from __future__ import annotations

from hypothesis import strategies as st

from handlers.actions import PREFIX as ACTION_PREFIX
from handlers.commands import KEYWORDS
from handlers.registry import all_actions, all_flows
from handlers.student_picker import BY_CLASS, PREFIXES
from handlers.types import FileRef
from tests.helpers.fuzz_updates import REMEMBERED_BUTTONS, ROSTER, SAME, Move

_COMMANDS = sorted(
    {"start", "cancel", "help", "lang", "nope", "", "start@jiafang_bot"}
    | {f.name for f in all_flows()}
    | {word for f in all_flows() for word in f.commands if word.isascii()}
)
_KEYWORDS = sorted(
    set(KEYWORDS) | {word for f in all_flows() for word in f.commands if not word.isascii()}
)
#: Commands that start something, as typed.
_STARTS = sorted({f"/{f.name}" for f in all_flows() if f.describe} | {"/cancel", "/help", "家访"})
_ACTIONS = sorted({a.name for a in all_actions()} | {"", "nope", "inc", "!"})
#: Callback prefixes the flows use (each flow's own, and the student picker's).
_PREFIXES = sorted(
    {*PREFIXES, BY_CLASS, "grade:all", "kind:", "aud:", "dl:", "pa:", "dsp:", "field:", "trg:"}
    | {"child:", "save", "submit", "edit:", "form:", "cat:", "date:", "met:", "", ":"}
)

#: Numbers that break careless parsing: huge, negative, just past a 64-bit integer.
big_numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**100, -(2**63) - 1]),
)
number_texts = st.one_of(
    big_numbers.map(str),
    st.sampled_from(
        ["1e309", "١٢", "²", "0x10", " 12 ", "+7", "1_000", "-0", "3.5", "NaN", "inf", "٣", "Ⅻ"]
    ),
)


def _date_text(year: int, month: int, day: int, form: int) -> str:
    forms = (
        f"{year}-{month}-{day}",
        f"{year}年{month}月{day}日",
        f"{month}月{day}日",
        f"{month}/{day}",
        f"{year}.{month}.{day}",
        f"{month}-{day}",
        f"{month}月{day}号",
        f"{year:04d}{month:02d}{day:02d}",
    )
    return forms[form % len(forms)]


def _time_text(hour: int, minute: int, form: int) -> str:
    forms = (f"{hour}:{minute:02d}", f"{hour}点{minute}分", f"{hour}点", f"下午{hour}点半")
    return forms[form % len(forms)]


dates = st.one_of(
    st.sampled_from(
        [
            "9999-99-99",
            "0000-00-00",
            "2026-02-30",
            "2026-13-01",
            "99999-1-1",
            "9999-12-31",
            "0001-01-01",
            "12月99日",
            "2月30日",
            "99月99日",
            "25:00",
            "99:99",
            "明天 99:99",
            "12月1日 25:61",
            "前天",
            "下周一",
        ]
    ),
    st.builds(
        _date_text,
        st.integers(min_value=-1, max_value=10**12),
        st.integers(min_value=-1, max_value=10**6),
        st.integers(min_value=-1, max_value=10**6),
        st.integers(min_value=0, max_value=7),
    ),
    st.builds(
        _time_text,
        st.integers(min_value=-1, max_value=10**9),
        st.integers(min_value=0, max_value=10**6),
        st.integers(min_value=0, max_value=3),
    ),
)
#: Ordinary characters, and those that should not be there (controls, format marks, private use).
odd_text = st.one_of(
    st.text(max_size=40),
    st.text(
        alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Mn"]),
        max_size=20,
    ),
    st.sampled_from(
        ["", " ", "\x00", "\u202e反向", "\ufeff", "🙂" * 10, "三(2)班", "张小明", "奶奶"]
    ),
)
long_text = st.builds(
    lambda piece, times: piece * times,
    st.text(min_size=1, max_size=12),
    st.integers(min_value=100, max_value=800),
)
texts = st.one_of(odd_text, number_texts, dates, long_text)
#: Things a person types inside a conversation (answers) or to start one.
answers = st.one_of(
    texts,
    st.builds(
        lambda name, args: f"/{name} {args}".rstrip(),
        st.sampled_from(_COMMANDS),
        st.one_of(texts, st.just("")),
    ),
    st.builds(lambda word, args: f"{word} {args}", st.sampled_from(_KEYWORDS), texts),
    st.builds(
        lambda when, who: f"{when}上门家访了三(2)班{who}，见了奶奶，最近作业按时完成",
        dates,
        st.sampled_from(["张小明", "李华", "", "x" * 60]),
    ),
)


def _forged_callbacks(ids: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    argument = st.one_of(
        number_texts,
        ids.map(str),
        st.builds(lambda a, b: f"{a}.{b}", ids | big_numbers, big_numbers),
        odd_text,
    )
    action = st.builds(
        lambda name, arg: f"{ACTION_PREFIX}{name}:{arg}", st.sampled_from(_ACTIONS), argument
    )
    return st.one_of(
        action,
        action,
        st.builds(lambda prefix, arg: f"{prefix}{arg}", st.sampled_from(_PREFIXES), argument),
        odd_text,
    )


_FORGE = ("huge", "negative", "zero", "word", "dotted", "empty", "unicode")
files = st.builds(
    lambda channel, ref, kind, name, size: FileRef(channel, ref, kind, name, size),
    st.sampled_from(["telegram", "wecom", "console", ""]),
    st.one_of(st.text(max_size=30), st.just("A" * 400)),
    st.sampled_from(["document", "photo", "", "video"]),
    st.one_of(
        st.text(max_size=30),
        st.sampled_from(["../../etc/passwd", "a" * 300 + ".pdf", "通知.docx", "\x00.exe", ".", ""]),
    ),
    st.one_of(st.none(), big_numbers),
)


def moves(people: int, ids: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[Move]:
    """One update from one of `people` (an index into `FuzzWorld.people`), most often from the
    sender of the move before (`SAME`), so conversations get somewhere."""
    anyone = st.integers(min_value=0, max_value=people - 1)
    who = st.one_of(st.just(SAME), st.just(SAME), st.just(SAME), anyone)
    pause = st.one_of(st.just(0), st.just(0), st.just(0), st.sampled_from([1, 31, 60 * 24]))
    known_ids = ids if ids is not None else st.integers(min_value=1, max_value=60)
    press = st.builds(Move, who, st.just("press"), pick=st.integers(0, 8))
    return st.one_of(
        press,
        press,
        press,
        press,
        st.builds(Move, who, st.just("stale"), pick=st.integers(0, REMEMBERED_BUTTONS)),
        st.builds(
            Move,
            who,
            st.sampled_from(["press", "stale"]),
            pick=st.integers(0, REMEMBERED_BUTTONS),
            forge=st.sampled_from(_FORGE),
        ),
        st.builds(Move, who, st.just("text"), text=st.sampled_from(_STARTS)),
        st.builds(Move, who, st.just("text"), text=st.sampled_from(_STARTS)),
        st.builds(Move, who, st.just("text"), text=answers, pause=pause),
        st.builds(Move, who, st.just("text"), text=dates),
        st.builds(Move, who, st.just("text"), text=number_texts),
        st.builds(Move, who, st.just("callback"), callback=_forged_callbacks(known_ids)),
        st.builds(
            Move,
            who,
            st.just("contact"),
            phone=st.one_of(
                st.from_regex(r"\+?(86)?199\d{8}", fullmatch=True), odd_text, st.just(ROSTER)
            ),
        ),
        st.builds(Move, who, st.just("photo"), text=st.none() | texts, photo=odd_text),
        st.builds(Move, who, st.just("document"), text=st.none() | texts, file=files),
    )


def move_lists(world_people: int, size: int = 12) -> st.SearchStrategy[list[Move]]:
    return st.lists(moves(world_people), min_size=1, max_size=size)
