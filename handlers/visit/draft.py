"""The visit being written: persisted as JSON after every step, so it survives a restart.

`None` means "not asked yet" and `""` means "asked and skipped": that difference is what tells the
flow which question comes next (see `states.next_state`).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from models.visit import VisitCategory, VisitForm


class VisitDraft(BaseModel):
    #: The class whose students are listed (None: not chosen, or the student came from a search).
    class_id: int | None = None
    #: Students to choose between (a name search or two namesakes in a one-message log).
    candidates: list[int] = Field(default_factory=list)
    #: The page of the class list being shown (0-based).
    page: int = 0
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
        self.class_id = None
        self.candidates = []
        self.page = 0
        self.student_id = None
