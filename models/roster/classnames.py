"""Class names as schools write them → one (grade, number) pair, shown as `三(2)班`.

Rosters, teachers and admins write the same class many ways: `三(2)班`, `三（2）班`, `3(2)`,
`3-2`, `三年级2班`, `三年级(2)班`, `3年级2班`, `三2班`, with full-width digits or spaces. This module
is the one place that understands them, so the roster importer, `--class` options and chat flows
all agree on which class is meant.
"""

from __future__ import annotations

import re
import unicodedata

MIN_GRADE, MAX_GRADE = 1, 6
MIN_NUMBER, MAX_NUMBER = 1, 30

_DIGITS = "一二三四五六七八九"
_GRADE_NUMERALS = "一二三四五六"

_NUMERAL = r"\d{1,3}|[一二三四五六七八九十〇零两]{1,4}"
#: Forms with an explicit separator between grade and class: 年级, brackets, or a hyphen.
_SEPARATED = re.compile(
    rf"^(?P<grade>{_NUMERAL})"
    rf"(?:年级\(?(?P<n1>{_NUMERAL})\)?|\((?P<n2>{_NUMERAL})\)|-(?P<n3>{_NUMERAL}))"
    r"班?$"
)
#: `三2班`, `三二班`: a Chinese grade numeral directly followed by the class number and 班.
#: `三十二班` stays unrecognised: it could be 三(12)班 or a class 32 with its grade left out.
_BARE = re.compile(r"^(?P<grade>[一二三四五六七八九])(?P<n1>\d{1,3}|[一二三四五六七八九])班$")

#: `十`, `十二`, `二十`, `二十三`: the tens and the ones around 十.
_TENS = re.compile(rf"([{_DIGITS}]?)十([{_DIGITS}]?)")
_SPACES = re.compile(r"\s+")

_DASHES = str.maketrans({"—": "-", "–": "-", "－": "-", "‐": "-", "―": "-", "〔": "(", "〕": ")"})


def chinese_numeral(text: str) -> int | None:
    """`一`…`九十九` (and plain digits) → int; None when it is not a well-formed numeral.

    Only the forms a class number takes: `十`, `十二`, `二十`, `二十三`. `二二` is not a numeral.
    """
    if text.isdigit():
        return int(text)
    if text in ("两", "〇", "零"):
        return 2 if text == "两" else 0
    if len(text) == 1 and text in _DIGITS:
        return _DIGITS.index(text) + 1
    match = _TENS.fullmatch(text)
    if match is None:
        return None
    tens = _DIGITS.index(match[1]) + 1 if match[1] else 1
    ones = _DIGITS.index(match[2]) + 1 if match[2] else 0
    return tens * 10 + ones


def _clean(text: str) -> str:
    # NFKC turns full-width digits, brackets and hyphens into their ASCII forms.
    folded = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return _SPACES.sub("", folded).replace("[", "(").replace("]", ")")


def parse_class_name(text: str) -> tuple[int, int]:
    """`三(2)班`, `3-2`, `三年级2班`, … → `(3, 2)`.

    Raises ValueError with a Chinese message an admin can act on when the text is not a class
    name, or names a grade outside 一–六 or a class number outside 1–30.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise ValueError("班级名称为空")
    match = _SEPARATED.match(cleaned) or _BARE.match(cleaned)
    if match is None:
        raise ValueError(f"无法识别的班级名称“{text.strip()}”")
    number_text = next(v for k, v in match.groupdict().items() if k != "grade" and v)
    grade = chinese_numeral(match["grade"])
    number = chinese_numeral(number_text)
    if grade is None or number is None:
        raise ValueError(f"无法识别的班级名称“{text.strip()}”")
    if not MIN_GRADE <= grade <= MAX_GRADE:
        raise ValueError(f"年级超出范围（一至六年级）：“{text.strip()}”")
    if not MIN_NUMBER <= number <= MAX_NUMBER:
        raise ValueError(f"班号超出范围（1至{MAX_NUMBER}班）：“{text.strip()}”")
    return grade, number


def class_display(grade: int, number: int) -> str:
    """`(3, 2)` → `三(2)班`, the one way a class is shown everywhere."""
    if not MIN_GRADE <= grade <= MAX_GRADE:
        raise ValueError(f"年级超出范围：{grade}")
    return f"{_GRADE_NUMERALS[grade - 1]}({number})班"


def normalise_class_name(text: str) -> str:
    """Any accepted spelling → its display form, e.g. `3-2` → `三(2)班` (ValueError otherwise)."""
    return class_display(*parse_class_name(text))
