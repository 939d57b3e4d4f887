"""Every regular expression of the product reads any text in time proportional to its length.

A pattern that can match the same text in several ways (``(?:了一下|了|一下)+``) retries them all
when the text finally fails to match, and the work doubles with every repetition: one message then
holds the event loop, and everyone's answers wait. Here every pattern of the product is found (each
is a named, module-level `re.Pattern`: the first test sees to that), and each is run on texts built
from its own pieces repeated ~20,000 characters long with a tail that does not fit, by `search`,
`fullmatch` and `finditer`. A linear pattern reads them all in well under a second; a pattern that
backtracks exponentially would take longer than the age of the universe, one that rescans a run
from each of its positions (quadratic) minutes. Each pattern runs in a forked process given
`SECONDS`; only a catastrophic pattern gets near that bound, so the test does not depend on the
machine's speed.

The pieces come from the pattern's own parse tree (`re._parser`, CPython's): its literal words,
the members of its character classes, a sample of each class escape (``\\s`` → a space).
"""

from __future__ import annotations

import ast
import importlib
import itertools
import multiprocessing
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "handlers", "models", "scheduler")
#: How long a text built from one piece is, in characters.
LENGTH = 100_000
#: What follows the repeated piece: characters hardly any pattern accepts there.
TAILS = ("\x00", "。x", " 1!")
#: Far above what a linear pattern needs on the slowest machine, far below a catastrophic one.
SECONDS = 15.0
#: The `re` functions that take a pattern string; the product calls compiled patterns instead.
_PATTERN_FUNCTIONS = frozenset(
    {"match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer"}
)

_parser: Any = importlib.import_module("re._parser")

#: A character each class escape matches (and, for the negated ones, one it does not).
_CATEGORY_SAMPLES = {
    "CATEGORY_DIGIT": "1",
    "CATEGORY_NOT_DIGIT": "x",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "x",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "!",
    "CATEGORY_LINEBREAK": "\n",
    "CATEGORY_NOT_LINEBREAK": "x",
}


def _product_files() -> list[Path]:
    return sorted(
        path
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__main__.py"
    )


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _is_re_call(node: ast.AST, names: frozenset[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
        and node.func.attr in names
    )


def _in_function_or_class(tree: ast.Module) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            yield from ast.walk(node)


def _unnamed_patterns(path: Path) -> list[str]:
    """Where `path` uses a pattern the test below cannot find: `re.sub("…", …)` and the like,
    `re.compile` inside a function or class, `from re import …` of a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT)
    found = [
        f"{where}:{node.lineno}: re.{node.func.attr}() with a pattern string"  # type: ignore[attr-defined]
        for node in ast.walk(tree)
        if _is_re_call(node, _PATTERN_FUNCTIONS)
    ]
    found += [
        f"{where}:{node.lineno}: re.compile() inside a function or class"  # type: ignore[attr-defined]
        for node in _in_function_or_class(tree)
        if _is_re_call(node, frozenset({"compile"}))
    ]
    found += [
        f"{where}:{node.lineno}: from re import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "re"
        for alias in node.names
        if alias.name not in ("Match", "Pattern")
    ]
    return found


def _product_patterns() -> dict[str, re.Pattern[str]]:
    """Every module-level pattern of the product, by `module.NAME` (each pattern once)."""
    patterns: dict[str, re.Pattern[str]] = {}
    seen: set[tuple[str, int]] = set()
    for path in _product_files():
        if "re.compile" not in path.read_text(encoding="utf-8"):
            continue
        module = importlib.import_module(_module_name(path))
        for name, value in sorted(vars(module).items()):
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                key = (value.pattern, value.flags)
                if key not in seen:
                    seen.add(key)
                    patterns[f"{module.__name__}.{name}"] = value
    return patterns


PATTERNS = _product_patterns()


#: A repeat with more than this many turns counts as unbounded (`\d{1,2}` does not).
_FEW = 16


@dataclass(frozen=True)
class _Piece:
    text: str
    #: Inside a repeat without a (small) bound: where backtracking can pile up.
    repeated: bool


def _pieces(pattern: re.Pattern[str]) -> list[_Piece]:
    """The pattern's literal words and class members, in the order they are written."""
    found: list[_Piece] = []

    def walk(items: Any, repeated: bool) -> None:
        word = ""
        for op, argument in items:
            kind = str(op)
            if kind == "LITERAL":
                word += chr(argument)
                continue
            if word:
                found.append(_Piece(word, repeated))
                word = ""
            if kind == "NOT_LITERAL":
                found.append(_Piece("a" if chr(argument) != "a" else "b", repeated))
            elif kind == "ANY":
                found.append(_Piece("a", repeated))
            elif kind == "IN":
                found.extend(_Piece(member, repeated) for member in _class_members(argument))
            elif kind == "SUBPATTERN":
                walk(argument[-1], repeated)
            elif kind == "BRANCH":
                for branch in argument[1]:
                    walk(branch, repeated)
            elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                walk(argument[2], repeated or argument[1] > _FEW)
            elif kind == "ATOMIC_GROUP":
                walk(argument, repeated)
            elif kind in ("ASSERT", "ASSERT_NOT"):
                walk(argument[1], repeated)
            elif kind == "GROUPREF_EXISTS":
                walk(argument[1], repeated)
                if argument[2] is not None:
                    walk(argument[2], repeated)
        if word:
            found.append(_Piece(word, repeated))

    walk(_parser.parse(pattern.pattern, pattern.flags).data, False)
    return list(dict.fromkeys(piece for piece in found if piece.text))


def _class_members(items: Any) -> list[str]:
    members: list[str] = []
    negated = False
    for op, argument in items:
        kind = str(op)
        if kind == "NEGATE":
            negated = True
        elif kind == "LITERAL":
            members.append(chr(argument))
        elif kind == "RANGE":
            members += [chr(argument[0]), chr(argument[1])]
        elif kind == "CATEGORY":
            members.append(_CATEGORY_SAMPLES.get(str(argument).removeprefix("CATEGORY_UNI_"), "a"))
    if negated:  # what the class refuses is a tail; what it takes is anything else
        return [next(c for c in "a。1 " if c not in members), *members]
    return members


def _repeated(piece: str) -> str:
    return piece * max(1, LENGTH // len(piece))


def adversarial_bodies(pattern: re.Pattern[str]) -> list[str]:
    """Texts that keep the pattern's repeats busy: each piece a repeat takes, repeated to
    `LENGTH`; two neighbouring such pieces repeated together; and the piece written just before
    a repeat followed by the repeat's first piece repeated (a tail is added by `_read_all`).

    A pattern without an unbounded repeat does a bounded amount of work at each position, so it
    has no body and needs none."""
    pieces = _pieces(pattern)
    looped = list(dict.fromkeys(piece.text for piece in pieces if piece.repeated))
    bodies = [_repeated(piece) for piece in looped]
    bodies += [_repeated(first + second) for first, second in itertools.pairwise(looped)]
    bodies += [
        before.text + _repeated(after.text)
        for before, after in itertools.pairwise(pieces)
        if after.repeated and not before.repeated
    ]
    return list(dict.fromkeys(bodies))


def _read_all(pattern: re.Pattern[str]) -> None:
    """Search (every start position) and match whole (every way through) each body with each
    tail: the two ways a failing text makes a pattern try everything it can."""
    for body in adversarial_bodies(pattern):
        for tail in TAILS:
            pattern.search(body + tail)
            pattern.fullmatch(body + tail)


def _finishes_within(seconds: float, pattern: re.Pattern[str]) -> bool:
    """Whether `_read_all(pattern)` ends (successfully) within `seconds`, in a forked process:
    a regex holds the interpreter until it is done, so no thread could stop it."""
    process = multiprocessing.get_context("fork").Process(target=_read_all, args=(pattern,))
    process.start()
    process.join(seconds)
    if process.is_alive():
        process.kill()
        process.join()
        return False
    return process.exitcode == 0


def test_every_pattern_of_the_product_is_a_named_module_level_pattern() -> None:
    unnamed = [line for path in _product_files() for line in _unnamed_patterns(path)]
    assert unnamed == []


def test_the_product_patterns_are_found() -> None:
    assert "models.visits.message_rules._ONLY_FILLER" in PATTERNS
    assert len(PATTERNS) >= 30


def test_the_pieces_of_a_pattern_are_its_words_and_class_members() -> None:
    pieces = _pieces(re.compile(r"[,。]*(?:了一下|一下|[的过])+\s*\d{2}[^\x00]"))
    looped = [piece.text for piece in pieces if piece.repeated]
    assert looped == [",", "。", "了一下", "一下", "的", "过", " "]
    assert [piece.text for piece in pieces if not piece.repeated] == ["1", "a"]


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_reads_adversarial_text_in_linear_time(name: str) -> None:
    assert _finishes_within(SECONDS, PATTERNS[name]), f"{name} backtracks catastrophically"
