"""The visit being written: persisted as JSON after every step, so it survives a restart.

`None` means "not asked yet" and `""` means "asked and skipped": that difference is what tells the
flow which question comes next (see `states.next_state`).

The draft *is* the state of the shared student picker (`handlers.student_picker`): its `grade`,
`class_id`, `candidates` and `page` fields sit at the top level of the JSON, where the visit flow
kept them before it used the picker, so conversations saved by an older version still load.
"""

from __future__ import annotations

from datetime import date

from handlers.student_picker import PickerState
from models.visits.tables import VisitCategory, VisitForm


class VisitDraft(PickerState):
    student_id: int | None = None
    form: VisitForm | None = None
    category: VisitCategory | None = None
    visit_date: date | None = None
    met: str | None = None
    school_report: str | None = None
    home_learned: str | None = None
    family: str | None = None
    guidance: str | None = None
    measures: str | None = None
    problems: str | None = None
    needs_school: bool | None = None
    notes: str = ""
    #: Started from one message: the optional sections are not asked (they can be edited).
    quick: bool = False

    def forget_student(self) -> None:
        """Choose the student again, from the class list."""
        self.reset()
        self.student_id = None
