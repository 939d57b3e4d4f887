"""A student's name written not quite right: which of the teacher's students it may mean.

Teachers type on phones with a pinyin keyboard, so the usual slip is a homophone (``张晓明`` for
``张小明``, ``李桦`` for ``李华``) or one wrong character. A piece of a message *may mean* a
roster name of the same length when

- it sounds the same, character by character (pinyin without tones, any reading of a
  character with several: ``曾`` is zeng or ceng), or
- the name has three characters or more, the surname is the same, and exactly one other
  character differs (``张大明`` for ``张小明``), that character not being a common word of a
  visit log (``李华妈`` is no mistyped ``李华敏``).

A two-character name is guessed only by its sound: one character off from a two-character name
is half of it. Only Chinese characters are compared; what the message already said otherwise
(a date, a form word, a relation) is not a name. The conversation proposes the guess
(`是张小明吗？`); nothing here decides for the teacher.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from xpinyin import Pinyin

#: Every reading of each character (a 300 KB table, read with the module in ~20 ms, ~7 MB
#: resident: a dictionary of phrases would cost ~56 MB for no better guess of a name).
_PINYIN = Pinyin()

#: Characters that end a guess when they are the one that differs: the small words of a
#: visit log, relations, and the words around a name.
_NOT_IN_A_GUESS = frozenset(
    "的了和与跟同在是说去来到见访电话校班年级家长老师学孩子们爸妈爷奶婆公姥哥姐叔姨舅姑"
    "他她它我你这那有没不很也都就还又被把给对向为从今昨前天周号月日上下午晚"
)
#: Readings kept per name, at most (a name of characters with several readings each).
_READINGS_PER_NAME = 32


@dataclass(frozen=True)
class NameGuess:
    """A piece of the message that may be a student's name, and the roster names it may be."""

    written: str
    names: tuple[str, ...]


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


@lru_cache(maxsize=8192)
def _char_readings(char: str) -> tuple[str, ...]:
    """Every reading of `char` without tones (the character itself if it has none)."""
    found = _PINYIN.get_pinyins(char, splitter="")
    return tuple(dict.fromkeys(found)) if found else (char,)


@lru_cache(maxsize=8192)
def _name_readings(name: str) -> frozenset[tuple[str, ...]]:
    """Every way `name` can be read (capped at `_READINGS_PER_NAME`)."""
    choices = [_char_readings(char) for char in name]
    return frozenset(itertools.islice(itertools.product(*choices), _READINGS_PER_NAME))


@dataclass(frozen=True)
class _Index:
    """A roster's names by length, by the name with one given-name character blanked, and by
    every way each can be read."""

    by_length: dict[int, set[str]]
    one_off: dict[str, set[str]]
    by_sound: dict[tuple[str, ...], set[str]]


@lru_cache(maxsize=16)
def _index(names: frozenset[str]) -> _Index:
    """Built once per roster (the same teacher's roster comes with every message)."""
    index = _Index({}, {}, {})
    for name in names:
        if len(name) < 2 or not all(_is_han(c) for c in name):
            continue
        index.by_length.setdefault(len(name), set()).add(name)
        if len(name) >= 3:
            for at in range(1, len(name)):
                index.one_off.setdefault(name[:at] + "\x01" + name[at + 1 :], set()).add(name)
        for reading in _name_readings(name):
            index.by_sound.setdefault(reading, set()).add(name)
    return index


def guess_names(
    text: str, names: Iterable[str], *, blocked: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int, NameGuess]]:
    """Pieces of `text` that may be one of `names` (none of which is written exactly): their
    spans and guesses, leftmost and longest first, never overlapping each other or `blocked`."""
    if not any(_is_han(c) for c in text):
        return []
    index = _index(frozenset(names))
    by_length, one_off, by_sound = index.by_length, index.one_off, index.by_sound
    if not by_length:
        return []
    lengths = sorted(by_length, reverse=True)
    free = [_is_han(c) for c in text]
    for start, end in blocked:
        free[start:end] = [False] * (end - start)
    found: list[tuple[int, int, NameGuess]] = []
    position = 0
    while position < len(text):
        for length in lengths:
            end = position + length
            if end > len(text) or not all(free[position:end]):
                continue
            window = text[position:end]
            candidates = {
                name
                for reading in _name_readings(window)
                for name in by_sound.get(reading, ())
                if _plausible(window, name)
            }
            if length >= 3:
                for at in range(1, length):
                    if window[at] in _NOT_IN_A_GUESS:
                        continue
                    candidates |= one_off.get(window[:at] + "\x01" + window[at + 1 :], set())
            candidates.discard(window)
            if candidates:
                found.append((position, end, NameGuess(window, tuple(sorted(candidates)))))
                position = end
                break
        else:
            position += 1
    return found


def _plausible(window: str, name: str) -> bool:
    """A same-sounding piece whose differing characters are no common words."""
    return all(w == n or w not in _NOT_IN_A_GUESS for w, n in zip(window, name, strict=True))
