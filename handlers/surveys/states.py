"""The `/survey` conversation's states and the rule that picks the next question (see
`survey.mmd`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from models.surveys.tables import SurveyAudience


class State(StrEnum):
    FORM = "form"
    AUDIENCE = "audience"
    GRADES = "grades"
    CLASSES = "classes"
    SHARE = "share"
    DEADLINE = "deadline"
    DRAW = "draw"


class SurveyDraft(BaseModel):
    form_id: int | None = None
    audience: SurveyAudience | None = None
    #: Grades or class ids, by `audience`.
    audience_ids: list[int] = Field(default_factory=list)
    audience_done: bool = False
    share: int | None = None
    deadline: datetime | None = None
    #: The survey drawn (status drawn), once the draw is shown.
    survey_id: int | None = None

    def forget_audience(self) -> None:
        self.audience, self.audience_ids, self.audience_done = None, [], False


#: The question that completes each multi-answer audience.
AUDIENCE_STATES: dict[SurveyAudience, State] = {
    SurveyAudience.GRADES: State.GRADES,
    SurveyAudience.CLASSES: State.CLASSES,
}


def next_state(draft: SurveyDraft) -> State:
    if draft.form_id is None:
        return State.FORM
    if draft.audience is None:
        return State.AUDIENCE
    if not draft.audience_done:
        return AUDIENCE_STATES.get(draft.audience, State.AUDIENCE)
    if draft.share is None:
        return State.SHARE
    if draft.deadline is None:
        return State.DEADLINE
    return State.DRAW
