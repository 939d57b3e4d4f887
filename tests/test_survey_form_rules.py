"""The rules every survey form meets, in the chat and from a sheet (`models.surveys.forms`):
options as typed, the words for a kind, each problem naming its question and part, and a
refused form writing nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from models.db.engine import Database
from models.surveys.forms import (
    FormRefused,
    Part,
    QuestionSpec,
    form_problems,
    kind_of,
    save_form,
    split_options,
)
from models.surveys.tables import FormPurpose, QuestionKind, SurveyForm, SurveyQuestion
from tests.helpers.factories import TestSchool

NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "options"),
    [
        ("东校区／西校区", ["东校区", "西校区"]),
        ("东校区、西校区、南校区", ["东校区", "西校区", "南校区"]),
        ("东校区\n西校区\n\n", ["东校区", "西校区"]),
        ("东校区 / 西校区；北校区", ["东校区", "西校区", "北校区"]),
        ("  半小时  以内 ／", ["半小时 以内"]),
        ("", []),
    ],
)
def test_options_are_read_one_a_line_or_between_separators(typed: str, options: list[str]) -> None:
    assert split_options(typed) == options


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("是否", QuestionKind.YES_NO),
        ("判断题", QuestionKind.YES_NO),
        ("满意度", QuestionKind.SATISFACTION),
        ("选择", QuestionKind.CHOICE),
        (" 单选题 ", QuestionKind.CHOICE),
        ("填空", QuestionKind.TEXT),
        ("ＴＥＸＴ", QuestionKind.TEXT),
        ("打分", None),
        ("", None),
    ],
)
def test_a_kind_is_read_from_the_words_a_school_writes(
    word: str, kind: QuestionKind | None
) -> None:
    assert kind_of(word) is kind


def _choice(*options: str, prompt: str = "孩子在哪个校区？") -> QuestionSpec:
    return QuestionSpec(QuestionKind.CHOICE, prompt, tuple(options))


@pytest.mark.parametrize(
    ("questions", "found"),
    [
        ([], [(None, Part.FORM, "问卷至少需要一道题。")]),
        ([QuestionSpec(QuestionKind.TEXT, "建议？")], []),
        ([QuestionSpec(QuestionKind.TEXT, " ")], [(1, Part.PROMPT, "题目不能为空。")]),
        ([_choice("东", "西"), _choice("东")], [(2, Part.OPTIONS, "选择题至少需要 2 个选项")]),
        ([_choice(*"一二三四五六七八九十百")], [(1, Part.OPTIONS, "选择题最多 10 个选项")]),
        ([_choice("东", "西" * 31)], [(1, Part.OPTIONS, "每个选项不超过 30 个字")]),
        ([_choice("东", "东")], [(1, Part.OPTIONS, "选项“东”重复了")]),
        ([QuestionSpec(QuestionKind.YES_NO, "?")] * 31, [(None, Part.FORM, "问卷最多 30 道题")]),
    ],
    ids=[
        "no question",
        "one free-text question",
        "a blank prompt",
        "a choice with one option",
        "eleven options",
        "a long option",
        "an option twice",
        "31 questions",
    ],
)
def test_each_problem_names_its_question_and_part(
    questions: list[QuestionSpec], found: list[tuple[int | None, Part, str]]
) -> None:
    problems = form_problems(questions)
    assert len(problems) == len(found)
    for problem, (position, part, text) in zip(problems, found, strict=True):
        assert (problem.position, problem.part) == (position, part)
        assert text in problem.text(lambda message: message)


async def test_a_refused_form_writes_nothing_and_lists_every_problem(
    db: Database, school: TestSchool
) -> None:
    questions = [QuestionSpec(QuestionKind.TEXT, ""), _choice("东")]
    with pytest.raises(FormRefused) as refused:
        async with db.session() as session:
            await save_form(
                session,
                school_id=school.school.id or 0,
                by=school.staff["赵敏"].id or 0,
                name="",
                purpose=FormPurpose.OTHER,
                anonymous=True,
                questions=questions,
                actor="cli",
                now=NOW,
            )
    assert [(p.position, p.part) for p in refused.value.problems] == [
        (None, Part.NAME),
        (1, Part.PROMPT),
        (2, Part.OPTIONS),
    ]
    async with db.session() as session:
        assert (await session.exec(select(SurveyForm))).all() == []
        assert (await session.exec(select(SurveyQuestion))).all() == []
