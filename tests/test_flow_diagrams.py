"""Every flow the bot offers ships a Mermaid diagram beside its code (`handlers/visit/visit.mmd`,
`handlers/notice/notice_question.mmd`), and the diagram, the flow's `State` enum (where it has
one) and its step functions name the same states."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from handlers.absence.states import State as AbsenceState
from handlers.campaigns.states import State as CampaignState
from handlers.care.refer import State as ReferState
from handlers.care.request import State as CareState
from handlers.care.work import State as CaseWorkState
from handlers.feedback.states import State as FeedbackState
from handlers.flag.flow import State as FlagState
from handlers.flow import Flow
from handlers.incident.states import State as IncidentState
from handlers.ledger.classify_states import State as LedgerClassifyState
from handlers.ledger.flow import State as LedgerState
from handlers.meetings.committee import State as CommitteeState
from handlers.meetings.record import AttendanceState, MinutesState
from handlers.meetings.states import State as MeetingState
from handlers.notice.states import State as NoticeState
from handlers.registry import all_flows
from handlers.surveys.answer_states import State as AnswerState
from handlers.surveys.form_states import State as SurveyFormState
from handlers.surveys.states import State as SurveyState
from handlers.visit.states import State as VisitState

HANDLERS = Path(__file__).parent.parent / "handlers"

#: The `State` enum of each flow that has one: the states its steps are keyed by. The short
#: conversations an action button starts key their one or two steps by plain names.
STATES: dict[str, type[StrEnum]] = {
    "visit": VisitState,
    "incident": IncidentState,
    "absence": AbsenceState,
    "flag": FlagState,
    "notice": NoticeState,
    "feedback": FeedbackState,
    "ledger": LedgerState,
    "ledger_classify": LedgerClassifyState,
    "refer": ReferState,
    "care": CareState,
    "case_work": CaseWorkState,
    "survey": SurveyState,
    "answer": AnswerState,
    "survey_form": SurveyFormState,
    "meeting": MeetingState,
    "meeting_attendance": AttendanceState,
    "meeting_minutes": MinutesState,
    "committee": CommitteeState,
    "campaign": CampaignState,
}

#: Commands answered at once (no step, so no state to draw): exempt, as long as they stay so.
ANSWERED_AT_ONCE = frozenset(
    {
        "incident_ack",
        "incident_phoned",
        "pending",
        "quota",
        "evaluation",
        "digest",
        "district",
        "notices",
        "calendar",
        "cases",
        "mydata",
    }
)


def diagram_of(flow: Flow) -> Path:
    """`<name>.mmd` beside the flow's code: in its own package, or its feature's."""
    found = sorted(HANDLERS.rglob(f"{flow.name}.mmd"))
    assert len(found) == 1, f"{flow.name}: expected one diagram, found {found}"
    return found[0]


@pytest.mark.parametrize("flow", [pytest.param(flow, id=flow.name) for flow in all_flows()])
def test_every_state_has_a_step_and_appears_in_the_flows_diagram(flow: Flow) -> None:
    if flow.name in ANSWERED_AT_ONCE:
        assert flow.steps == {}
        return
    diagram = diagram_of(flow).read_text(encoding="utf-8")
    assert "\nstateDiagram-v2\n" in diagram
    in_diagram = set(re.findall(r"^\s*(\w+) --> ", diagram, re.MULTILINE))
    in_diagram |= set(re.findall(r"--> (\w+)", diagram))
    state = STATES.get(flow.name)
    states = set(flow.steps) if state is None else {s.value for s in state}
    assert set(flow.steps) == states
    assert in_diagram == states


def test_every_diagram_belongs_to_a_flow_the_bot_offers() -> None:
    drawn = {path.relative_to(HANDLERS) for path in HANDLERS.rglob("*.mmd")}
    assert drawn == {
        diagram_of(flow).relative_to(HANDLERS)
        for flow in all_flows()
        if flow.name not in ANSWERED_AT_ONCE
    }
