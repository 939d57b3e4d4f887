"""The visit being written: persisted as JSON after every step, so it survives a restart.

`None` means "not asked yet" and `""` means "asked and skipped": that difference is what tells the
flow which question comes next (see `states.next_state`).

The draft *is* the state of the shared student picker (`handlers.student_picker`): its `grade`,
`class_id`, `candidates` and `page` fields sit at the top level of the JSON, where the visit flow
kept them before it used the picker, so conversations saved by an older version still load.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from handlers.student_picker import PickerState
from models.visits.tables import VisitCategory, VisitForm


class VisitDraft(PickerState):
    student_id: int | None = None
    form: VisitForm | None = None
    category: VisitCategory | None = None
    visit_date: date | None = None
    #: Days the visit date lies back when it is more than the school's limit (else 0), and
    #: then why it is logged only now (`set_date`).
    late_days: int = 0
    late_reason: str | None = None
    met: str | None = None
    school_report: str | None = None
    home_learned: str | None = None
    family: str | None = None
    guidance: str | None = None
    measures: str | None = None
    problems: str | None = None
    needs_school: bool | None = None
    notes: str = ""
    #: The household form (seed 003 附2), optional: this visit's answers by field, whether it
    #: is open, the field it asks now, and what was recorded before (shown, kept if not asked).
    family_form: dict[str, int | str | bool] = Field(default_factory=dict)
    family_form_open: bool = False
    family_form_at: int = 0
    family_known: dict[str, int | str | bool] = Field(default_factory=dict)
    #: The fields the open form asks, in order (empty: the form's own, `FAMILY_FIELDS`): the
    #: 大走访's 附2 questions, or the whole form with them (`handlers.visit.campaign`).
    family_form_fields: list[str] = Field(default_factory=list)
    #: Whether a running 大走访 covering the student was looked for once the household section
    #: was reached (its questions are asked once), or its questions were opened from the summary.
    campaign_checked: bool = False
    #: Started from one message: the optional sections are not asked (they can be edited).
    quick: bool = False
    #: A one-message log named this student not quite right (`guess_written`): proposed.
    guess_id: int | None = None
    guess_written: str = ""
    #: The teacher confirmed saving a visit like one already recorded (same student, date
    #: and form): a second visit, counted as such.
    repeat_confirmed: bool = False
    #: The teacher chose 仍要记录 for a household another teacher visited first in the 大走访.
    double_confirmed: bool = False

    def set_date(self, day: date, *, today: date, limit: int) -> None:
        """The visit date, and whether it is late enough to need a reason (a date moved within
        the limit needs none, and a reason given for another date is asked again)."""
        if day != self.visit_date:
            self.late_reason = None
            self.double_confirmed = False
        self.visit_date = day
        back = (today - day).days
        self.late_days = back if back > limit else 0

    def forget_student(self) -> None:
        """Choose the student again, from the class list."""
        self.reset()
        self.student_id = None
        self.guess_id = None
        self.guess_written = ""
        self.campaign_checked = False
        self.double_confirmed = False
