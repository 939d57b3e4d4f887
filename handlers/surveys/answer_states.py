"""The `/answer` conversation's states (see `answer.mmd`) and its draft: which family's sheet,
and the question being asked. The answers themselves are never in the draft: each is saved as it
comes, so a family that stops, or whose conversation expires, continues from the database."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class State(StrEnum):
    QUESTION = "question"
    SUMMARY = "summary"
    PICK = "pick"


class AnswerDraft(BaseModel):
    survey_id: int = 0
    #: The family's `SurveyRecipient`, found when the sheet was opened.
    recipient_id: int = 0
    #: The question asked in `QUESTION`.
    question_id: int = 0
    #: Asked from the summary's 修改某题: the summary comes back after it.
    changing: bool = False
