"""Reading a school's households, drawing a survey's families, and detaching anonymous answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.duties.tables import Duty
from models.families.households import Household, household_of_guardian, households_from
from models.roster.tables import Student, StudentGuardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import SchoolClass
from models.surveys.errors import SurveyRefused
from models.surveys.findings import record_family_findings
from models.surveys.sampling import Draw, draw_sample
from models.surveys.tables import (
    FormPurpose,
    Survey,
    SurveyAnswer,
    SurveyAudience,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
    SurveyStatus,
)
from models.text import N_


async def households(session: AsyncSession, school_id: int) -> list[Household]:
    """The school's households of active students, sorted by key (siblings share one)."""
    query = (
        select(StudentGuardian.student_id, Student.class_id, StudentGuardian.guardian_id)
        .join(Student, col(Student.id) == col(StudentGuardian.student_id))
        .where(Student.school_id == school_id, col(Student.active))
    )
    return households_from((await session.exec(query)).all())


async def guardians_households(session: AsyncSession, school_id: int) -> dict[int, int]:
    """Each guardian's household key among the school's households of active students, as
    `households` keys them (`household_of_guardian`)."""
    query = (
        select(StudentGuardian.student_id, StudentGuardian.guardian_id)
        .join(Student, col(Student.id) == col(StudentGuardian.student_id))
        .where(Student.school_id == school_id, col(Student.active))
    )
    return household_of_guardian((await session.exec(query)).all())


async def audience_classes(
    session: AsyncSession, school_id: int, audience: SurveyAudience, ids: list[int]
) -> list[int]:
    """The ids of the school's classes in the audience, sorted (grades or classes not at the
    school are ignored)."""
    query = select(SchoolClass.id).where(SchoolClass.school_id == school_id)
    if audience is SurveyAudience.GRADES:
        query = query.where(col(SchoolClass.grade).in_(ids))
    elif audience is SurveyAudience.CLASSES:
        query = query.where(col(SchoolClass.id).in_(ids))
    found = (await session.exec(query)).all()
    return sorted(class_id for class_id in found if class_id is not None)


async def draw_survey(session: AsyncSession, survey: Survey, *, minimum: int) -> Draw:
    """Draw a draft survey's families with its recorded share and seed, write them as
    `SurveyRecipient`s and mark the survey drawn. Refused (`SurveyRefused`) as
    `draw_sample` refuses, and for a survey already drawn."""
    if survey.status is not SurveyStatus.DRAFT:
        raise SurveyRefused(N_("这份问卷已经抽过样了。"))
    assert survey.id is not None
    classes = await audience_classes(
        session, survey.school_id, survey.audience, survey.audience_id_list()
    )
    found = await households(session, survey.school_id)
    draw = draw_sample(found, classes, share=survey.share, seed=survey.seed, minimum=minimum)
    session.add_all(
        SurveyRecipient(
            school_id=survey.school_id,
            survey_id=survey.id,
            household=pick.household.key,
            guardian_id=pick.household.guardian_id,
            student_id=pick.through.student_id,
            class_id=pick.through.class_id,
        )
        for pick in draw.picks
    )
    survey.status = SurveyStatus.DRAWN
    session.add(survey)
    await session.flush()
    return draw


async def asked_since(
    session: AsyncSession, school_id: int, purpose: FormPurpose, since: datetime
) -> set[int]:
    """The household keys drawn for the school's surveys of forms with this purpose created at
    or after `since` (the semester's start: `rotate_opinion_week`'s `asked_this_semester`)."""
    query = (
        select(SurveyRecipient.household)
        .join(Survey, col(Survey.id) == col(SurveyRecipient.survey_id))
        .join(SurveyForm, col(SurveyForm.id) == col(Survey.form_id))
        .where(
            Survey.school_id == school_id,
            SurveyForm.purpose == purpose,
            col(Survey.created_at) >= since,
        )
    )
    return set((await session.exec(query)).all())


async def detach_anonymous_answers(session: AsyncSession, survey_id: int) -> int:
    """Once a survey closes: if its form is anonymous, unlink every answer from the family that
    gave it (`recipient_id` set to None); how many were unlinked."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        return 0
    form = await session.get(SurveyForm, survey.form_id)
    if form is None or not form.anonymous:
        return 0
    statement = (
        update(SurveyAnswer)
        .where(
            col(SurveyAnswer.survey_id) == survey_id, col(SurveyAnswer.recipient_id).is_not(None)
        )
        .values(recipient_id=None, answered_at=None)
    )
    result = await session.exec(statement)
    return int(getattr(result, "rowcount", 0))


# -- a family answering ------------------------------------------------------------------------

#: The value stored for an optional question the family skipped (跳过, or left blank on the
#: page): answered, with nothing to say, so resuming does not ask it again.
SKIPPED = ""


def is_open(survey: Survey, now: datetime) -> bool:
    """Whether families may still answer: sent, and its deadline not reached."""
    return survey.status is SurveyStatus.SENT and now < survey.deadline


async def recipient_of(
    session: AsyncSession, survey_id: int, guardian_id: int
) -> SurveyRecipient | None:
    """The family's row of the survey for one of its guardians: the guardian asked, or another
    guardian of the same household; None when the survey was not sent to their family."""
    query = select(SurveyRecipient).where(SurveyRecipient.survey_id == survey_id)
    direct = (await session.exec(query.where(SurveyRecipient.guardian_id == guardian_id))).first()
    if direct is not None:
        return direct
    survey = await session.get(Survey, survey_id)
    if survey is None:
        return None
    for household in await households(session, survey.school_id):
        if guardian_id in household.guardian_ids:
            keyed = query.where(SurveyRecipient.household == household.key)
            return (await session.exec(keyed)).first()
    return None


async def open_surveys_of(
    session: AsyncSession, school_id: int, guardian_id: int, now: datetime
) -> list[Survey]:
    """The school's surveys still open at `now` that were sent to the guardian's family, by
    deadline."""
    query = (
        select(Survey)
        .where(
            Survey.school_id == school_id,
            Survey.status == SurveyStatus.SENT,
            col(Survey.deadline) > now,
        )
        .order_by(col(Survey.deadline), col(Survey.id))
    )
    found = []
    for survey in (await session.exec(query)).all():
        if survey.id is not None and await recipient_of(session, survey.id, guardian_id):
            found.append(survey)
    return found


async def answers_of(session: AsyncSession, recipient_id: int) -> dict[int, SurveyAnswer]:
    """The family's answers so far, by question id."""
    query = select(SurveyAnswer).where(SurveyAnswer.recipient_id == recipient_id)
    return {a.question_id: a for a in (await session.exec(query)).all()}


async def save_answer(
    session: AsyncSession,
    recipient: SurveyRecipient,
    question: SurveyQuestion,
    value: str,
    *,
    anonymous: bool,
    now: datetime,
) -> SurveyAnswer:
    """Store the family's answer to the question, replacing the one it gave before (one row per
    family and question, however often it is sent). An anonymous form's answers get no time."""
    assert recipient.id is not None and question.id is not None
    query = select(SurveyAnswer).where(
        SurveyAnswer.recipient_id == recipient.id, SurveyAnswer.question_id == question.id
    )
    answer = (await session.exec(query)).first()
    if answer is None:
        answer = SurveyAnswer(
            school_id=recipient.school_id,
            survey_id=recipient.survey_id,
            recipient_id=recipient.id,
            question_id=question.id,
            value=value,
        )
    answer.value = value
    answer.answered_at = None if anonymous else now
    session.add(answer)
    await session.flush()
    return answer


def missing_required(
    questions: list[SurveyQuestion], answers: dict[int, SurveyAnswer]
) -> list[SurveyQuestion]:
    """The required questions without an answer (a skipped one counts as none)."""
    return [
        q
        for q in questions
        if q.required and (q.id not in answers or answers[q.id or 0].value == SKIPPED)
    ]


async def submit_answers(
    session: AsyncSession,
    recipient: SurveyRecipient,
    now: datetime,
    *,
    rules: SchoolRules = DEFAULT_RULES,
) -> Duty | None:
    """Mark the family's answers submitted (the first submission's time is kept) and, on a named
    form, act on them (`models.surveys.findings.record_family_findings`), in the caller's
    transaction. Returns the key-visit duty opened now, if any."""
    if recipient.submitted_at is None:
        recipient.submitted_at = now
        session.add(recipient)
        await session.flush()
    return await record_family_findings(session, recipient, now=now, rules=rules)


# -- setting up and sending (德育处, the principal) -------------------------------------------------


async def discard_unsent(session: AsyncSession, school_id: int, created_by: int) -> int:
    """Delete the surveys this person drew and never sent, with their families (a set-up left by
    /cancel or 上一步): how many were deleted."""
    query = select(Survey.id).where(
        Survey.school_id == school_id,
        Survey.created_by == created_by,
        col(Survey.status).in_((SurveyStatus.DRAFT, SurveyStatus.DRAWN)),
    )
    ids = [i for i in (await session.exec(query)).all() if i is not None]
    if ids:
        await session.exec(delete(SurveyRecipient).where(col(SurveyRecipient.survey_id).in_(ids)))
        await session.exec(delete(Survey).where(col(Survey.id).in_(ids)))
    return len(ids)


async def redraw_survey(session: AsyncSession, survey: Survey, *, seed: int, minimum: int) -> Draw:
    """Draw a drawn, unsent survey again with a new seed: its families are deleted first, so it
    keeps one set. Refused (`SurveyRefused`) for a survey already sent and as `draw_survey`."""
    if survey.status is not SurveyStatus.DRAWN:
        raise SurveyRefused(N_("这份问卷已经发出，不能重新抽样。"))
    await session.exec(delete(SurveyRecipient).where(col(SurveyRecipient.survey_id) == survey.id))
    survey.seed = seed
    survey.status = SurveyStatus.DRAFT
    return await draw_survey(session, survey, minimum=minimum)


async def mark_sent(session: AsyncSession, survey: Survey, now: datetime) -> None:
    """The survey is sent: its status, when, and when each family was asked."""
    survey.status = SurveyStatus.SENT
    survey.sent_at = now
    session.add(survey)
    await session.exec(
        update(SurveyRecipient)
        .where(col(SurveyRecipient.survey_id) == survey.id)
        .values(asked_at=now)
    )
    await session.flush()
