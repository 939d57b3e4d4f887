"""Parent surveys 问卷 and opinion week 民意访问周 (DOMAIN.md "Meetings and surveys", seed 003).

A `SurveyForm` is a template (built in, `models.surveys.templates`) or a school's copy of one,
with its `SurveyQuestion`s in order. A `Survey` is one sending of a form to a sample of families
(`models.surveys.sampling` draws it); each family drawn is one `SurveyRecipient`, and what it
answered is one `SurveyAnswer` per question.

Anonymous answers: answers are stored against the recipient row, not against a random
answer-sheet token. The chat flows need the link while the survey is open: to save answers step
by step and resume after a break, to let a family change an answer until the deadline, and to
count each family once (unique recipient and question). A random token would have to be kept
somewhere the family's chat can find it again — on the recipient row (then it links exactly as
the id does) or in the conversation state (lost when a draft expires, so no resuming and no
changing later). So the link is kept, and bounded instead:

- for an anonymous form `SurveyAnswer.answered_at` is never set, so answer times cannot be
  matched with `SurveyRecipient.submitted_at`;
- whatever shows results to staff reads `SurveyAnswer` by survey and question only, never joined
  to `SurveyRecipient` (staff may see who has submitted, to chase the others, never what);
- when the survey closes, `models.surveys.queries.detach_anonymous_answers` clears
  `recipient_id` on an anonymous form's answers: from then on nothing in the database links an
  answer to a family.

A named (non-anonymous) form keeps the link, so a family with low satisfaction can be given a
key visit by its responsible teacher (DOMAIN.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, str_enum
from models.text import N_

#: The longest prompt, option list, and free-text answer.
PROMPT_LIMIT = 500
OPTIONS_LIMIT = 1000
ANSWER_LIMIT = 2000


class FormPurpose(StrEnum):
    SEMESTER = "semester"  # 学期问卷: at least 30 % of families each semester
    OPINION_WEEK = "opinion_week"  # 民意访问周: the last week of every month
    OTHER = "other"


PURPOSE_LABELS: dict[FormPurpose, str] = {
    FormPurpose.SEMESTER: N_("学期问卷"),
    FormPurpose.OPINION_WEEK: N_("民意访问周"),
    FormPurpose.OTHER: N_("其他问卷"),
}


class QuestionKind(StrEnum):
    YES_NO = "yes_no"  # 是 / 否
    SATISFACTION = "satisfaction"  # 满意 / 基本满意 / 不满意
    CHOICE = "choice"  # one of `SurveyQuestion.options`
    TEXT = "text"  # free text


KIND_LABELS: dict[QuestionKind, str] = {
    QuestionKind.YES_NO: N_("是否题"),
    QuestionKind.SATISFACTION: N_("满意度"),
    QuestionKind.CHOICE: N_("选择题"),
    QuestionKind.TEXT: N_("填空"),
}

#: The stored values (and the words shown) of a yes/no answer.
YES = N_("是")
NO = N_("否")
YES_NO_VALUES: tuple[str, ...] = (YES, NO)

#: The stored values of a satisfaction answer, best first.
SATISFIED = N_("满意")
FAIRLY_SATISFIED = N_("基本满意")
DISSATISFIED = N_("不满意")
SATISFACTION_VALUES: tuple[str, ...] = (SATISFIED, FAIRLY_SATISFIED, DISSATISFIED)


class SurveyForm(SQLModel, table=True):
    """A questionnaire: a built-in template (`created_by` None) or a school's copy of one."""

    __tablename__ = "survey_form"
    __table_args__ = (
        UniqueConstraint("school_id", "template_key", name="uq_survey_form_template"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str = Field(max_length=100)
    purpose: FormPurpose = Field(sa_type=str_enum(FormPurpose))
    #: Staff never see which family gave which answer (see the module's docstring).
    anonymous: bool = True
    #: The form this one was copied from (`models.surveys.templates.copy_form`).
    copied_from: int | None = Field(default=None, foreign_key="survey_form.id")
    #: Who made the copy; None for a built-in template.
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=AwareDateTime)
    #: An archived form is kept for its surveys' results but offered no more.
    archived: bool = False
    #: Which built-in template this is (None for a copy): a school has each template once.
    template_key: str | None = Field(default=None, max_length=40)


class SurveyQuestion(SQLModel, table=True):
    __tablename__ = "survey_question"
    __table_args__ = (UniqueConstraint("form_id", "position", name="uq_survey_question_position"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    form_id: int = Field(foreign_key="survey_form.id", index=True)
    #: 1, 2, 3 … in the order asked.
    position: int
    kind: QuestionKind = Field(sa_type=str_enum(QuestionKind))
    prompt: str = Field(max_length=PROMPT_LIMIT)
    #: For a choice question: its options, one a line.
    options: str = Field(default="", max_length=OPTIONS_LIMIT)
    required: bool = True
    #: A misconduct question (体罚, 有偿家教, 违规收费, 迟到拖堂): a 是 is a problem to follow up.
    misconduct: bool = False
    #: A 不满意 to this question counts toward the family's low-satisfaction threshold.
    counts_satisfaction: bool = False

    def option_list(self) -> list[str]:
        """The answers this question accepts; empty for free text."""
        if self.kind is QuestionKind.YES_NO:
            return list(YES_NO_VALUES)
        if self.kind is QuestionKind.SATISFACTION:
            return list(SATISFACTION_VALUES)
        if self.kind is QuestionKind.CHOICE:
            return [line.strip() for line in self.options.splitlines() if line.strip()]
        return []


class SurveyAudience(StrEnum):
    SCHOOL = "school"  # every class
    GRADES = "grades"  # `Survey.audience_ids` are grades (3, 4, …)
    CLASSES = "classes"  # `Survey.audience_ids` are class ids


AUDIENCE_LABELS: dict[SurveyAudience, str] = {
    SurveyAudience.SCHOOL: N_("全校"),
    SurveyAudience.GRADES: N_("按年级"),
    SurveyAudience.CLASSES: N_("按班级"),
}


class SurveyStatus(StrEnum):
    DRAFT = "draft"  # being set up: form, audience, share, deadline
    DRAWN = "drawn"  # the sample is drawn (`SurveyRecipient` rows), not yet sent
    SENT = "sent"  # families are being asked; answers may change until the deadline
    CLOSED = "closed"  # past the deadline or closed by hand; anonymous answers detached


STATUS_LABELS: dict[SurveyStatus, str] = {
    SurveyStatus.DRAFT: N_("草稿"),
    SurveyStatus.DRAWN: N_("已抽样"),
    SurveyStatus.SENT: N_("已发出"),
    SurveyStatus.CLOSED: N_("已结束"),
}


class Survey(SQLModel, table=True):
    """One sending of a form to a sample of families."""

    __tablename__ = "survey"
    __table_args__ = (Index("ix_survey_school_status", "school_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    form_id: int = Field(foreign_key="survey_form.id", index=True)
    audience: SurveyAudience = Field(
        default=SurveyAudience.SCHOOL, sa_type=str_enum(SurveyAudience)
    )
    #: Comma-separated grades or class ids, by `audience` ("" for the whole school).
    audience_ids: str = Field(default="", max_length=500)
    #: The share of each class's families asked, in percent (never below the school's minimum).
    share: int
    #: The seed of the draw, recorded so the same sample can be drawn again.
    seed: int
    deadline: datetime = Field(sa_type=AwareDateTime)
    status: SurveyStatus = Field(default=SurveyStatus.DRAFT, sa_type=str_enum(SurveyStatus))
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=AwareDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=AwareDateTime)

    def audience_id_list(self) -> list[int]:
        return [int(part) for part in self.audience_ids.split(",") if part.strip()]


class SurveyRecipient(SQLModel, table=True):
    """A family drawn for a survey (once per survey, however many of its children study here)."""

    __tablename__ = "survey_recipient"
    __table_args__ = (
        UniqueConstraint("survey_id", "household", name="uq_survey_recipient_household"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    #: The household's key: the lowest guardian id among its guardians
    #: (`models.surveys.sampling.Household.key`).
    household: int
    #: The guardian asked: the household's first guardian by id when drawn.
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    #: The child the family was drawn through, and that child's class then.
    student_id: int = Field(foreign_key="student.id")
    class_id: int = Field(foreign_key="school_class.id", index=True)
    asked_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class SurveyAnswer(SQLModel, table=True):
    """One family's answer to one question (see the module's docstring for anonymous forms)."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        UniqueConstraint("recipient_id", "question_id", name="uq_survey_answer_recipient"),
        Index("ix_survey_answer_survey_question", "survey_id", "question_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    survey_id: int = Field(foreign_key="survey.id")
    #: The family answering; None once an anonymous form's survey closed (detached).
    recipient_id: int | None = Field(default=None, foreign_key="survey_recipient.id")
    question_id: int = Field(foreign_key="survey_question.id")
    value: str = Field(max_length=ANSWER_LIMIT)
    #: When last changed; never set for an anonymous form.
    answered_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class FindingKind(StrEnum):
    MISCONDUCT = "misconduct"  # a 是 to a misconduct question (体罚, 有偿家教, 违规收费, 迟到拖堂)
    LOW_SATISFACTION = "low_satisfaction"  # at least the threshold's 不满意 answers


class SurveyFinding(SQLModel, table=True):
    """Something a survey found that the school must follow (`models.surveys.findings`): the
    cause of a ledger item (`LedgerSource.SURVEY`) and, for a named family's low satisfaction,
    of a key-visit duty.

    A named form's finding is one family's (its student set) and is made when the family
    submits; an anonymous form's is a class's (`count` families; class None: the classes with
    too few answers together) and is made only when the survey closes.
    """

    __tablename__ = "survey_finding"
    __table_args__ = (UniqueConstraint("survey_id", "key", name="uq_survey_finding_key"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    kind: FindingKind = Field(sa_type=str_enum(FindingKind))
    #: The class; None for the school-wide finding of an anonymous form's small classes.
    class_id: int | None = Field(default=None, foreign_key="school_class.id")
    #: The student the family was drawn through; None for an anonymous form.
    student_id: int | None = Field(default=None, foreign_key="student.id")
    #: The misconduct question answered 是; None for low satisfaction.
    question_id: int | None = Field(default=None, foreign_key="survey_question.id")
    #: How many families (1 for a named family's finding).
    count: int = 1
    #: (kind, class, student, question) in one string: unique per survey whatever is None.
    key: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=AwareDateTime)
