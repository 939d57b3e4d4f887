"""Class names: every spelling a school uses maps to one (grade, number), shown as 三(2)班."""

from __future__ import annotations

import pytest

from models.roster.classnames import (
    chinese_numeral,
    class_display,
    normalise_class_name,
    parse_class_name,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三(2)班", (3, 2)),
        ("三（2）班", (3, 2)),
        ("3(2)", (3, 2)),
        ("3(2)班", (3, 2)),
        ("3-2", (3, 2)),
        ("3－2", (3, 2)),
        ("3—2班", (3, 2)),
        ("三年级2班", (3, 2)),
        ("三年级(2)班", (3, 2)),
        ("三年级（2）班", (3, 2)),
        ("3年级2班", (3, 2)),
        ("三2班", (3, 2)),
        ("三二班", (3, 2)),
        ("三(二)班", (3, 2)),
        ("三年级二班", (3, 2)),
        (" 三 ( 2 ) 班 ", (3, 2)),
        ("三\u3000(2)\u3000班", (3, 2)),
        ("３（２）", (3, 2)),
        ("３－２", (3, 2)),
        ("三[2]班", (3, 2)),
        ("一(1)班", (1, 1)),
        ("六(30)班", (6, 30)),
        ("6-30", (6, 30)),
        ("五年级十班", (5, 10)),
        ("五年级十二班", (5, 12)),
        ("五年级二十班", (5, 20)),
        ("五(三十)班", (5, 30)),
        ("四年级(12)班", (4, 12)),
        ("四12班", (4, 12)),
    ],
)
def test_accepted_spellings_give_grade_and_number(text: str, expected: tuple[int, int]) -> None:
    assert parse_class_name(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "班级名称为空"),
        ("   ", "班级名称为空"),
        ("三（二二）班", "无法识别的班级名称“三（二二）班”"),
        ("abc", "无法识别的班级名称“abc”"),
        ("32", "无法识别的班级名称“32”"),
        ("3 2", "无法识别的班级名称“3 2”"),
        ("32班", "无法识别的班级名称“32班”"),
        ("三十二班", "无法识别的班级名称“三十二班”"),
        ("三班", "无法识别的班级名称“三班”"),
        ("三(2", "无法识别的班级名称“三(2”"),
        ("3--2", "无法识别的班级名称“3--2”"),
        ("三(2)班级", "无法识别的班级名称“三(2)班级”"),
        ("七(2)班", "年级超出范围（一至六年级）：“七(2)班”"),
        ("0-1", "年级超出范围（一至六年级）：“0-1”"),
        ("十(1)班", "年级超出范围（一至六年级）：“十(1)班”"),
        ("三(0)班", "班号超出范围（1至30班）：“三(0)班”"),
        ("三(31)班", "班号超出范围（1至30班）：“三(31)班”"),
        ("3-100", "班号超出范围（1至30班）：“3-100”"),
    ],
)
def test_unusable_names_are_refused_with_a_chinese_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_class_name(text)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("grade", "number", "shown"),
    [(1, 1, "一(1)班"), (3, 2, "三(2)班"), (6, 30, "六(30)班")],
)
def test_classes_are_shown_with_a_chinese_grade_and_arabic_number(
    grade: int, number: int, shown: str
) -> None:
    assert class_display(grade, number) == shown


@pytest.mark.parametrize("grade", [0, 7])
def test_showing_a_grade_outside_primary_school_is_an_error(grade: int) -> None:
    with pytest.raises(ValueError):
        class_display(grade, 1)


@pytest.mark.parametrize("text", ["三(2)班", "3-2", "三年级2班", "３（２）", "三2班"])
def test_every_spelling_normalises_to_the_display_form(text: str) -> None:
    assert normalise_class_name(text) == "三(2)班"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十九", 29),
        ("两", 2),
        ("12", 12),
        ("二二", None),
        ("十十", None),
        ("百", None),
    ],
)
def test_chinese_numerals_read_as_numbers(text: str, value: int | None) -> None:
    assert chinese_numeral(text) == value
