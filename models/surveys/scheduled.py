"""What the survey jobs read and write: the opinion week's form and survey, the open surveys to
remind, the semester's coverage, and a claim that a thing was done once (see
`models.surveys.opinion_week` for the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import insert_ignoring_duplicates
from models.jobs.tables import JobRun
from models.surveys.queries import guardians_households
from models.surveys.sampling import Household
from models.surveys.tables import (
    FormPurpose,
    Survey,
    SurveyAudience,
    SurveyForm,
    SurveyRecipient,
    SurveyStatus,
)
from models.surveys.templates import ensure_templates

#: The purposes the semester rule counts (an opinion week is a rotation of its own).
SEMESTER_RULE_PURPOSES = (FormPurpose.SEMESTER, FormPurpose.OTHER)
SENT_STATUSES = (SurveyStatus.SENT, SurveyStatus.CLOSED)


async def claim_once(
    session: AsyncSession,
    school_id: int,
    name: str,
    at: datetime,
    *,
    now: datetime,
    outcome: str = "",
) -> bool:
    """Record, in the caller's transaction, that the thing `name` due `at` is done; False when
    it was recorded already for `school_id` (by an earlier run, or a run committing first: the row is unique).

    The row is a finished `job_run` claim under a name no job has (e.g. "opinion_week:2026-11"),
    so it rolls back with the run that made it and is forgotten like other slots 90 days after
    `at` (choose `at` so that nothing asks again by then)."""
    values = {
        "school_id": school_id,
        "job": name,
        "slot": at,
        "owner": "job",
        "claimed_at": now,
        "finished_at": now,
        "failed": False,
        "outcome": outcome[:500],
    }
    table = JobRun.__table__  # type: ignore[attr-defined]
    return await insert_ignoring_duplicates(
        session, table, values, unique=["school_id", "job", "slot"]
    )


# -- opinion week -------------------------------------------------------------------------------


async def opinion_week_form(
    session: AsyncSession, school_id: int, *, now: datetime
) -> SurveyForm | None:
    """The form opinion week sends: the school's newest own copy of an opinion-week form not
    archived, else the built-in one (unless archived: then None, and nothing is sent)."""
    await ensure_templates(session, school_id, now=now)
    query = (
        select(SurveyForm)
        .where(
            SurveyForm.school_id == school_id,
            SurveyForm.purpose == FormPurpose.OPINION_WEEK,
            col(SurveyForm.archived).is_(False),
        )
        .order_by(col(SurveyForm.created_by).is_(None), col(SurveyForm.id).desc())
    )
    return (await session.exec(query)).first()


async def opinion_week_survey(
    session: AsyncSession, school_id: int, since: datetime, until: datetime
) -> Survey | None:
    """The school's opinion-week survey created in [since, until) (a month), if any."""
    query = (
        select(Survey)
        .join(SurveyForm, col(SurveyForm.id) == col(Survey.form_id))
        .where(
            Survey.school_id == school_id,
            SurveyForm.purpose == FormPurpose.OPINION_WEEK,
            col(Survey.created_at) >= since,
            col(Survey.created_at) < until,
        )
        .order_by(col(Survey.id))
    )
    return (await session.exec(query)).first()


async def create_drawn(
    session: AsyncSession,
    *,
    school_id: int,
    form: SurveyForm,
    picks: Sequence[Household],
    share: int,
    seed: int,
    deadline: datetime,
    now: datetime,
) -> Survey:
    """A whole-school survey of `form`, drawn (`picks`, each asked through its first child) and
    not yet sent, made by no one (a scheduled job)."""
    survey = Survey(
        school_id=school_id,
        form_id=form.id or 0,
        audience=SurveyAudience.SCHOOL,
        share=share,
        seed=seed,
        deadline=deadline,
        status=SurveyStatus.DRAWN,
        created_at=now,
    )
    session.add(survey)
    await session.flush()
    session.add_all(
        SurveyRecipient(
            school_id=school_id,
            survey_id=survey.id or 0,
            household=household.key,
            guardian_id=household.guardian_id,
            student_id=household.children[0].student_id,
            class_id=household.children[0].class_id,
        )
        for household in picks
    )
    await session.flush()
    return survey


# -- reminding and the semester rule ------------------------------------------------------------


async def open_surveys(session: AsyncSession, school_id: int, now: datetime) -> list[Survey]:
    """The school's sent surveys still open at `now`, oldest first."""
    query = (
        select(Survey)
        .where(
            Survey.school_id == school_id,
            Survey.status == SurveyStatus.SENT,
            col(Survey.sent_at).is_not(None),
            col(Survey.deadline) > now,
        )
        .order_by(col(Survey.id))
    )
    return list((await session.exec(query)).all())


async def semester_coverage(
    session: AsyncSession, school_id: int, since: datetime, until: datetime
) -> tuple[int, int]:
    """(families reached, families) for the semester rule: the school's current households of
    which a guardian was asked in a semester or other survey sent in [since, until)."""
    household_of = await guardians_households(session, school_id)
    query = (
        select(SurveyRecipient.guardian_id)
        .join(Survey, col(Survey.id) == col(SurveyRecipient.survey_id))
        .join(SurveyForm, col(SurveyForm.id) == col(Survey.form_id))
        .where(
            Survey.school_id == school_id,
            col(SurveyForm.purpose).in_(SEMESTER_RULE_PURPOSES),
            col(Survey.status).in_(SENT_STATUSES),
            col(Survey.sent_at) >= since,
            col(Survey.sent_at) < until,
        )
        .distinct()
    )
    asked = (await session.exec(query)).all()
    covered = {household_of[g] for g in asked if g in household_of}
    return len(covered), len(set(household_of.values()))
