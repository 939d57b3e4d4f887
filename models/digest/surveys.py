"""The digest's survey lines: one per survey still open (sent, its deadline not reached), with
its response rate, e.g. `问卷 #12 学期问卷：已提交 120/300（40%），12月10日截止`.

One statement (`STATEMENTS`) whatever the number of surveys and families: the open surveys with
their families drawn and submitted, counted in the database. Only counts of families: nothing
about what anyone answered (an anonymous survey's results wait for its closing,
`models.surveys.results`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.surveys.results import percent
from models.surveys.tables import Survey, SurveyForm, SurveyRecipient, SurveyStatus

#: The statements `open_surveys` runs.
STATEMENTS = 1


@dataclass(frozen=True)
class OpenSurvey:
    survey_id: int
    form_name: str
    drawn: int
    submitted: int
    deadline: datetime

    @property
    def percent(self) -> int:
        return percent(self.submitted, self.drawn)


async def open_surveys(session: AsyncSession, school_id: int, now: datetime) -> list[OpenSurvey]:
    """The school's surveys open at `now`, by deadline, with their response counts."""
    query = (
        select(
            Survey,
            col(SurveyForm.name),
            func.count(col(SurveyRecipient.id)),
            func.count(col(SurveyRecipient.submitted_at)),
        )
        .join(SurveyForm, col(SurveyForm.id) == col(Survey.form_id))
        .outerjoin(SurveyRecipient, col(SurveyRecipient.survey_id) == col(Survey.id))
        .where(
            col(Survey.school_id) == school_id,
            col(Survey.status) == SurveyStatus.SENT.value,
            col(Survey.deadline) > now,
        )
        .group_by(col(Survey.id), col(SurveyForm.name))
        .order_by(col(Survey.deadline), col(Survey.id))
    )
    return [
        OpenSurvey(survey.id or 0, name, int(drawn), int(done), survey.deadline)
        for survey, name, drawn, done in (await session.exec(query)).all()
    ]
