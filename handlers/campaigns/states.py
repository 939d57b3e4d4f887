"""The `/campaign` conversation's states, its draft and the rule that picks the next question
(see `campaign.mmd`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from models.campaigns.rules import CampaignScope, VisitRule


class State(StrEnum):
    NAME = "name"
    START = "start"
    END = "end"
    SCOPE = "scope"
    GRADES = "grades"
    RULE = "rule"
    LEFT_BEHIND = "left_behind"
    CONFIRM = "confirm"
    #: The campaign is saved: 自动分配包保表, or later (an imported table).
    #: `/campaign 调整 学号 工号`: the move, confirmed or not.
    MOVE = "move"


class CampaignDraft(BaseModel):
    name: str | None = None
    start: date | None = None
    end: date | None = None
    scope: CampaignScope | None = None
    grades: list[int] = Field(default_factory=list)
    grades_done: bool = False
    visit_rule: VisitRule | None = None
    left_behind_monthly: bool | None = None
    #: The campaign of a move (MOVE).
    campaign_id: int | None = None
    #: A move: the student whose household moves, and the teacher who takes it.
    student_id: int | None = None
    teacher_id: int | None = None

    def forget_scope(self) -> None:
        self.scope, self.grades, self.grades_done = None, [], False


def next_state(draft: CampaignDraft) -> State:
    """The first thing the new campaign still lacks, or the summary when it is complete."""
    if draft.name is None:
        return State.NAME
    if draft.start is None:
        return State.START
    if draft.end is None:
        return State.END
    if draft.scope is None:
        return State.SCOPE
    if draft.scope is CampaignScope.GRADES and not draft.grades_done:
        return State.GRADES
    if draft.visit_rule is None:
        return State.RULE
    if draft.left_behind_monthly is None:
        return State.LEFT_BEHIND
    return State.CONFIRM
