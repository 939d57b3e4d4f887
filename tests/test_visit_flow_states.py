"""The visit flow's routing rule and its state diagram."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from handlers.visit.draft import VisitDraft
from handlers.visit.states import State, next_state
from models.visits.tables import VisitCategory, VisitForm

CHOSEN: dict[str, Any] = {
    "student_id": 1,
    "form": VisitForm.HOME,
    "category": VisitCategory.ROUTINE,
    "visit_date": date(2026, 11, 16),
    "met": "奶奶",
}
SECTIONS_DONE: dict[str, Any] = {
    "school_report": "好",
    "home_learned": "",
    "family": "",
    "guidance": "",
    "measures": "",
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, State.CLASS),
        ({"class_id": 3}, State.STUDENT),
        ({"candidates": [4, 5]}, State.STUDENT),
        ({"student_id": 1}, State.FORM),
        ({**CHOSEN, "category": None}, State.CATEGORY),
        ({**CHOSEN, "visit_date": None}, State.DATE),
        ({**CHOSEN, "met": None}, State.MET),
        (CHOSEN, State.SCHOOL_REPORT),
        ({**CHOSEN, "school_report": ""}, State.HOME_LEARNED),
        ({**CHOSEN, **SECTIONS_DONE}, State.PROBLEMS),
        ({**CHOSEN, **SECTIONS_DONE, "problems": ""}, State.SUMMARY),
        ({**CHOSEN, **SECTIONS_DONE, "problems": "厌学"}, State.NEEDS_SCHOOL),
        ({**CHOSEN, **SECTIONS_DONE, "problems": "厌学", "needs_school": False}, State.SUMMARY),
        ({**CHOSEN, "quick": True}, State.SUMMARY),  # fast path: sections not asked
        ({**CHOSEN, "quick": True, "met": None}, State.MET),
        ({**CHOSEN, "quick": True, "problems": "厌学"}, State.NEEDS_SCHOOL),
    ],
)
def test_next_question_is_the_first_thing_the_draft_lacks(
    fields: dict[str, Any], expected: State
) -> None:
    assert next_state(VisitDraft(**fields)) is expected


def test_draft_survives_a_json_round_trip() -> None:
    draft = VisitDraft(**CHOSEN, **SECTIONS_DONE, problems="厌学 😢", needs_school=True)
    assert VisitDraft.model_validate(draft.model_dump(mode="json")) == draft


def test_a_draft_saved_before_the_shared_student_picker_still_loads() -> None:
    saved = {"class_id": 3, "candidates": [], "page": 1, "student_id": None, "notes": ""}
    draft = VisitDraft.model_validate(saved)
    assert (draft.grade, draft.class_id, draft.page) == (None, 3, 1)
    assert next_state(draft) is State.STUDENT
