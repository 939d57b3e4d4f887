"""A family's answer sheet of one survey, as the chat's `/answer` and the WeCom survey page both
read it: the survey, its form and questions, the family's row and its answers so far; and what
both show and check (the words of an answer, the opening lines, a value sent).

Opening a sheet is refused for a survey that does not exist, is not the school's, was not sent
to the guardian's family (`SheetNotFound`, the same for all three: a forged id learns nothing),
and for one closed or past its deadline (`SheetClosed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.duty_notices import format_moment
from handlers.i18n import Translator
from models.surveys.queries import SKIPPED, answers_of, is_open, recipient_of
from models.surveys.tables import (
    ANSWER_LIMIT,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
    SurveyStatus,
)
from models.surveys.templates import questions_of


class SheetNotFound(Exception):
    """No survey of the school sent to this family has that id."""


class SheetClosed(Exception):
    """The survey is closed, or its deadline has passed."""

    def __init__(self, survey: Survey) -> None:
        super().__init__(survey.id)
        self.survey = survey


@dataclass
class Sheet:
    survey: Survey
    form: SurveyForm
    recipient: SurveyRecipient
    questions: list[SurveyQuestion]
    #: By question id.
    answers: dict[int, SurveyAnswer]

    def question(self, question_id: int) -> SurveyQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def number(self, question: SurveyQuestion) -> int:
        """1, 2, 3 … as shown."""
        return self.questions.index(question) + 1

    def first_unanswered(self) -> SurveyQuestion | None:
        return next((q for q in self.questions if q.id not in self.answers), None)

    def value(self, question: SurveyQuestion) -> str | None:
        answer = self.answers.get(question.id or 0)
        return answer.value if answer is not None else None


async def _sheet(session: AsyncSession, survey: Survey, recipient: SurveyRecipient) -> Sheet:
    form = await session.get(SurveyForm, survey.form_id)
    if form is None or recipient.id is None:
        raise SheetNotFound()
    questions = await questions_of(session, form.id or 0)
    return Sheet(survey, form, recipient, questions, await answers_of(session, recipient.id))


def _check_open(survey: Survey, now: datetime) -> None:
    if survey.status in (SurveyStatus.DRAFT, SurveyStatus.DRAWN):
        raise SheetNotFound()  # not sent yet: nobody was invited
    if not is_open(survey, now):
        raise SheetClosed(survey)


async def open_sheet(
    session: AsyncSession, *, school_id: int, survey_id: int, guardian_id: int, now: datetime
) -> Sheet:
    """The guardian's family's sheet of the survey (see the module's docstring for refusals)."""
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.school_id != school_id:
        raise SheetNotFound()
    recipient = await recipient_of(session, survey_id, guardian_id)
    if recipient is None:
        raise SheetNotFound()
    _check_open(survey, now)
    return await _sheet(session, survey, recipient)


async def reopen_sheet(session: AsyncSession, *, recipient_id: int, now: datetime) -> Sheet:
    """The sheet of a family row found before (by `open_sheet`), read again."""
    recipient = await session.get(SurveyRecipient, recipient_id)
    survey = await session.get(Survey, recipient.survey_id) if recipient is not None else None
    if recipient is None or survey is None:
        raise SheetNotFound()
    _check_open(survey, now)
    return await _sheet(session, survey, recipient)


# -- words ----------------------------------------------------------------------------------------


def option_label(t: Translator, question: SurveyQuestion, value: str) -> str:
    """How a stored value is shown: 是 / 否 and the satisfaction words translated, a choice's
    option and free text as written."""
    if question.kind in (QuestionKind.YES_NO, QuestionKind.SATISFACTION):
        return t._(value)
    return value


def answer_label(t: Translator, question: SurveyQuestion, value: str | None) -> str:
    if value is None:
        return t._("（未答）")
    if value == SKIPPED:
        return t._("（跳过）")
    return option_label(t, question, value)


def anonymity_line(t: Translator, form: SurveyForm) -> str:
    if form.anonymous:
        return t._("这是匿名问卷：学校看不到是哪个家庭填写了什么。")
    return t._("这份问卷为实名填写：学校会看到您家的回答，以便跟进您反映的问题。")


def intro_lines(t: Translator, sheet: Sheet, zone: ZoneInfo) -> list[str]:
    """The form's name, how many questions, the deadline, and what anonymity means here."""
    return [
        t._("问卷：{name}").format(name=sheet.form.name),
        t._("共 {count} 题，请在 {deadline} 前填写。").format(
            count=len(sheet.questions), deadline=format_moment(t, sheet.survey.deadline, zone)
        ),
        anonymity_line(t, sheet.form),
    ]


def closed_text(t: Translator, survey: Survey, zone: ZoneInfo) -> str:
    return t._("这份问卷已于 {deadline} 截止，不能再填写或修改了。谢谢您的关心。").format(
        deadline=format_moment(t, survey.deadline, zone)
    )


def checked_value(question: SurveyQuestion, raw: str) -> str | None:
    """The value to store for `raw` (an option as stored, or free text), or None when it is no
    answer to the question: not one of its options, empty, or too long."""
    text = raw.strip()
    if question.kind is QuestionKind.TEXT:
        return text if text and len(text) <= ANSWER_LIMIT else None
    return text if text in question.option_list() else None
