"""Making a school's own survey form: the rules a form must meet, and saving it.

The same rules whether the form was edited in the chat (`/survey new`) or read from a sheet
(`survey import`): `form_problems` lists every problem of a form's questions, each naming the
question (its position) and the part of it (prompt, options …) at fault, so the chat can say
which question and the import which row and column.

A form is written once, whole: `save_form` checks everything first and writes the form and its
questions together, so a refused form leaves nothing behind. A saved form is never edited in
place — a survey already sent points at it, and its answers must keep meaning what was asked. To
change a form, a school starts a new one from it (its questions copied) and may retire the old
(`retire_form`: archived, offered no more, its surveys' results kept).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import audit
from models.db.columns import utcnow
from models.surveys.errors import SurveyRefused
from models.surveys.tables import (
    OPTIONS_LIMIT,
    PROMPT_LIMIT,
    FormPurpose,
    QuestionKind,
    Survey,
    SurveyForm,
    SurveyQuestion,
)
from models.text import N_

#: The longest form name (it is a button's label when a survey is sent).
NAME_LIMIT = 40
#: Questions a form has at most (a family answers it in about ten minutes).
QUESTIONS_LIMIT = 30
#: A choice question offers this many options at least and at most.
OPTIONS_MIN = 2
OPTIONS_MAX = 10
#: The longest option (it is a button's label); ten of them fit `OPTIONS_LIMIT`.
OPTION_LIMIT = 30
assert OPTIONS_MAX * (OPTION_LIMIT + 1) <= OPTIONS_LIMIT
#: Forms a school offers at once, the built-in ones included (the choice when a survey is sent).
ACTIVE_FORMS_LIMIT = 10
#: What separates a choice question's options when typed on one line: ／ / 、 ； ; or a new line.
_OPTION_SEPARATORS = re.compile(r"[\r\n／/、；;]+")

#: How a sheet (or a person) names a question's kind.
KIND_WORDS: dict[str, QuestionKind] = {
    "是否": QuestionKind.YES_NO,
    "是否题": QuestionKind.YES_NO,
    "判断": QuestionKind.YES_NO,
    "判断题": QuestionKind.YES_NO,
    "满意度": QuestionKind.SATISFACTION,
    "满意度题": QuestionKind.SATISFACTION,
    "选择": QuestionKind.CHOICE,
    "选择题": QuestionKind.CHOICE,
    "单选": QuestionKind.CHOICE,
    "单选题": QuestionKind.CHOICE,
    "填空": QuestionKind.TEXT,
    "填空题": QuestionKind.TEXT,
    "问答": QuestionKind.TEXT,
    "文字": QuestionKind.TEXT,
    **{kind.value: kind for kind in QuestionKind},
}


class Part(StrEnum):
    """The part of a form a problem is in."""

    NAME = "name"
    KIND = "kind"
    PROMPT = "prompt"
    OPTIONS = "options"
    FORM = "form"


@dataclass(frozen=True)
class FormProblem:
    """One thing wrong with a form: `message` is a msgid filled in with `params`; `position` the
    question's (1, 2 …; None for the form as a whole)."""

    message: str
    part: Part
    position: int | None = None
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.message).format(**self.params)


class FormRefused(SurveyRefused):
    """A form that cannot be saved; `problems` lists all that is wrong (the message is the
    first)."""

    def __init__(self, problems: Sequence[FormProblem]) -> None:
        first = problems[0]
        super().__init__(first.message, **first.params)
        self.problems = list(problems)


@dataclass(frozen=True)
class QuestionSpec:
    """A question as it will be written (its position is its place in the form)."""

    kind: QuestionKind
    prompt: str
    options: tuple[str, ...] = ()
    required: bool = True
    #: A 是 is a problem to follow up (kept from a template's question when copied).
    misconduct: bool = False
    #: A 不满意 counts toward the family's low-satisfaction threshold.
    counts_satisfaction: bool = False


def tidy(text: str) -> str:
    """Text as kept: surrounding space removed, runs of space inside made one."""
    return " ".join(text.split())


def kind_of(word: str) -> QuestionKind | None:
    """`是否` / `满意度` / `选择` / `填空` (and a few other words) → the kind; None if unknown."""
    key = unicodedata.normalize("NFKC", word).strip().casefold().replace(" ", "")
    return KIND_WORDS.get(key)


def split_options(text: str) -> list[str]:
    """A choice question's options as typed: one a line, or separated by ／ / 、 ；."""
    return [tidy(part) for part in _OPTION_SEPARATORS.split(text) if tidy(part)]


def new_question(
    kind: QuestionKind, prompt: str, options: Sequence[str] = (), *, required: bool = True
) -> QuestionSpec:
    """A question the school adds: a satisfaction question's 不满意 counts toward a family's low
    satisfaction, as the built-in forms' do; no question is a misconduct question."""
    return QuestionSpec(
        kind=kind,
        prompt=tidy(prompt),
        options=tuple(options) if kind is QuestionKind.CHOICE else (),
        required=required,
        counts_satisfaction=kind is QuestionKind.SATISFACTION,
    )


def name_problem(name: str) -> FormProblem | None:
    name = tidy(name)
    if not name:
        return FormProblem(N_("请给问卷起个名字。"), Part.NAME)
    if len(name) > NAME_LIMIT:
        return FormProblem(
            N_("问卷名称不能超过 {limit} 个字（现在 {count} 个字）。"),
            Part.NAME,
            params={"limit": NAME_LIMIT, "count": len(name)},
        )
    return None


def prompt_problem(prompt: str, position: int | None = None) -> FormProblem | None:
    prompt = tidy(prompt)
    if not prompt:
        return FormProblem(N_("题目不能为空。"), Part.PROMPT, position)
    if len(prompt) > PROMPT_LIMIT:
        return FormProblem(
            N_("题目不能超过 {limit} 个字（现在 {count} 个字）。"),
            Part.PROMPT,
            position,
            {"limit": PROMPT_LIMIT, "count": len(prompt)},
        )
    return None


def options_problem(options: Sequence[str], position: int | None = None) -> FormProblem | None:
    """A choice question's options: 2 to 10, each short, none twice."""
    if len(options) < OPTIONS_MIN:
        return FormProblem(
            N_("选择题至少需要 {minimum} 个选项（用／、或换行分开）。"),
            Part.OPTIONS,
            position,
            {"minimum": OPTIONS_MIN},
        )
    if len(options) > OPTIONS_MAX:
        return FormProblem(
            N_("选择题最多 {maximum} 个选项（现在 {count} 个）。"),
            Part.OPTIONS,
            position,
            {"maximum": OPTIONS_MAX, "count": len(options)},
        )
    long = next((option for option in options if len(option) > OPTION_LIMIT), None)
    if long is not None:
        return FormProblem(
            N_("选项“{option}”太长：每个选项不超过 {limit} 个字。"),
            Part.OPTIONS,
            position,
            {"option": long[:OPTION_LIMIT] + "…", "limit": OPTION_LIMIT},
        )
    seen: set[str] = set()
    for option in options:
        if option in seen:
            return FormProblem(
                N_("选项“{option}”重复了，每个选项只能写一次。"),
                Part.OPTIONS,
                position,
                {"option": option},
            )
        seen.add(option)
    return None


def question_problems(question: QuestionSpec, position: int) -> list[FormProblem]:
    problems: list[FormProblem] = []
    if not isinstance(question.kind, QuestionKind):
        problems.append(FormProblem(N_("题型不明。"), Part.KIND, position))
    found = prompt_problem(question.prompt, position)
    if found is not None:
        problems.append(found)
    if question.kind is QuestionKind.CHOICE:
        found = options_problem(question.options, position)
        if found is not None:
            problems.append(found)
    return problems


def form_problems(questions: Sequence[QuestionSpec]) -> list[FormProblem]:
    """Everything wrong with a form's questions (empty when it may be saved)."""
    if not questions:
        return [FormProblem(N_("问卷至少需要一道题。"), Part.FORM)]
    problems: list[FormProblem] = []
    if len(questions) > QUESTIONS_LIMIT:
        problems.append(
            FormProblem(
                N_("问卷最多 {limit} 道题（现在 {count} 道）。"),
                Part.FORM,
                params={"limit": QUESTIONS_LIMIT, "count": len(questions)},
            )
        )
    for position, question in enumerate(questions, start=1):
        problems.extend(question_problems(question, position))
    return problems


def spec_of(question: SurveyQuestion) -> QuestionSpec:
    """A saved question as a spec (to start a new form from it)."""
    return QuestionSpec(
        kind=question.kind,
        prompt=question.prompt,
        options=tuple(question.option_list()) if question.kind is QuestionKind.CHOICE else (),
        required=question.required,
        misconduct=question.misconduct,
        counts_satisfaction=question.counts_satisfaction,
    )


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormSummary:
    form: SurveyForm
    questions: int
    #: Surveys made with it (a form a survey points at is never changed).
    surveys: int


async def school_forms(
    session: AsyncSession, school_id: int, *, archived: bool = False
) -> list[FormSummary]:
    """The school's forms in the order made (the retired ones too when `archived`), each with its
    number of questions and of surveys."""
    query = select(SurveyForm).where(SurveyForm.school_id == school_id)
    if not archived:
        query = query.where(col(SurveyForm.archived).is_(False))
    forms = list((await session.exec(query.order_by(col(SurveyForm.id)))).all())
    ids = [form.id for form in forms]
    counted = (
        select(SurveyQuestion.form_id, func.count())
        .where(col(SurveyQuestion.form_id).in_(ids))
        .group_by(col(SurveyQuestion.form_id))
    )
    questions = {form_id: number for form_id, number in (await session.exec(counted)).all()}
    used = (
        select(Survey.form_id, func.count())
        .where(col(Survey.form_id).in_(ids))
        .group_by(col(Survey.form_id))
    )
    surveys = {form_id: number for form_id, number in (await session.exec(used)).all()}
    return [
        FormSummary(form, questions.get(form.id or 0, 0), surveys.get(form.id or 0, 0))
        for form in forms
    ]


async def name_taken(session: AsyncSession, school_id: int, name: str) -> bool:
    """Whether the school has a form of that name (a retired one included)."""
    query = select(SurveyForm.id).where(
        SurveyForm.school_id == school_id, SurveyForm.name == tidy(name)
    )
    return (await session.exec(query)).first() is not None


async def _active_forms(session: AsyncSession, school_id: int) -> int:
    query = select(func.count()).where(
        col(SurveyForm.school_id) == school_id, col(SurveyForm.archived).is_(False)
    )
    return int((await session.exec(query)).one())


async def save_problems(
    session: AsyncSession, school_id: int, name: str, questions: Sequence[QuestionSpec]
) -> list[FormProblem]:
    """Everything that stops the form being saved: its name (empty, too long, taken), the
    school's forms already at the limit, and its questions."""
    problems: list[FormProblem] = []
    found = name_problem(name)
    if found is not None:
        problems.append(found)
    elif await name_taken(session, school_id, name):
        problems.append(
            FormProblem(
                N_("本校已有名为“{name}”的问卷（含已停用的），请换一个名字。"),
                Part.NAME,
                params={"name": tidy(name)},
            )
        )
    if await _active_forms(session, school_id) >= ACTIVE_FORMS_LIMIT:
        problems.append(
            FormProblem(
                N_("本校在用的问卷已有 {limit} 份，请先停用不再使用的问卷。"),
                Part.FORM,
                params={"limit": ACTIVE_FORMS_LIMIT},
            )
        )
    return problems + form_problems(questions)


async def save_form(
    session: AsyncSession,
    *,
    school_id: int,
    by: int,
    name: str,
    purpose: FormPurpose,
    anonymous: bool,
    questions: Sequence[QuestionSpec],
    copied_from: int | None = None,
    actor: str,
    now: datetime | None = None,
) -> SurveyForm:
    """Write a new form and its questions, in order, after checking all of it (`FormRefused`
    lists every problem, and nothing is written)."""
    problems = await save_problems(session, school_id, name, questions)
    if problems:
        raise FormRefused(problems)
    form = SurveyForm(
        school_id=school_id,
        name=tidy(name),
        purpose=purpose,
        anonymous=anonymous,
        copied_from=copied_from,
        created_by=by,
        created_at=now or utcnow(),
    )
    session.add(form)
    await session.flush()
    assert form.id is not None
    session.add_all(
        SurveyQuestion(
            school_id=school_id,
            form_id=form.id,
            position=position,
            kind=question.kind,
            prompt=tidy(question.prompt),
            options="\n".join(question.options) if question.kind is QuestionKind.CHOICE else "",
            required=question.required,
            misconduct=question.misconduct,
            counts_satisfaction=question.counts_satisfaction,
        )
        for position, question in enumerate(questions, start=1)
    )
    await session.flush()
    await audit(
        session=session,
        actor=actor,
        action="survey.form",
        subject=f"survey_form:{form.id}",
        detail=f"questions={len(questions)} copied_from={copied_from or ''}",
    )
    return form


def retirable(form: SurveyForm, school_id: int) -> bool:
    """A school's own form still offered (the built-in ones stay)."""
    return form.school_id == school_id and form.template_key is None and not form.archived


async def retire_form(
    session: AsyncSession, school_id: int, form_id: int, *, actor: str
) -> SurveyForm:
    """Offer one of the school's own forms no more; its surveys and their results stay."""
    form = await session.get(SurveyForm, form_id)
    if form is None or form.school_id != school_id:
        raise SurveyRefused(N_("找不到这份问卷。"))
    if form.template_key is not None:
        raise SurveyRefused(N_("学校内置的问卷不能停用。"))
    if form.archived:
        raise SurveyRefused(N_("问卷“{name}”已经停用。"), name=form.name)
    form.archived = True
    session.add(form)
    await session.flush()
    await audit(
        session=session, actor=actor, action="survey.form_retire", subject=f"survey_form:{form.id}"
    )
    return form
