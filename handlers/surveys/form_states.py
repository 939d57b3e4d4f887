"""The `/survey new` conversation's states and its draft (see `survey_form.mmd`): the form being
made lives here, whole, until 保存问卷 writes it (`models.surveys.forms.save_form`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from models.surveys.forms import QuestionSpec
from models.surveys.tables import FormPurpose, QuestionKind


class State(StrEnum):
    NAME = "name"
    ANONYMOUS = "anonymous"
    PURPOSE = "purpose"
    EDIT = "edit"
    KIND = "kind"
    PROMPT = "prompt"
    OPTIONS = "options"
    REQUIRED = "required"
    PICK = "pick"
    CHANGE = "change"


class Pick(StrEnum):
    """What a question is picked for (修改 / 删除 / 上移)."""

    CHANGE = "change"
    DELETE = "delete"
    UP = "up"


class QuestionDraft(BaseModel):
    kind: QuestionKind
    prompt: str = ""
    options: list[str] = Field(default_factory=list)
    required: bool = True
    misconduct: bool = False
    counts_satisfaction: bool = False

    @classmethod
    def of(cls, spec: QuestionSpec) -> QuestionDraft:
        return cls(
            kind=spec.kind,
            prompt=spec.prompt,
            options=list(spec.options),
            required=spec.required,
            misconduct=spec.misconduct,
            counts_satisfaction=spec.counts_satisfaction,
        )

    def spec(self) -> QuestionSpec:
        return QuestionSpec(
            kind=self.kind,
            prompt=self.prompt,
            options=tuple(self.options),
            required=self.required,
            misconduct=self.misconduct,
            counts_satisfaction=self.counts_satisfaction,
        )


class FormDraft(BaseModel):
    #: The form started from, and its name (for the note and the draft's label).
    base_id: int = 0
    base_name: str = ""
    name: str | None = None
    anonymous: bool | None = None
    purpose: FormPurpose | None = None
    questions: list[QuestionDraft] = Field(default_factory=list)
    #: What the question to pick is for (in `State.PICK`).
    picking: Pick | None = None
    #: The question being changed (its index), in `State.CHANGE` and the prompt and options
    #: asked from there.
    target: int | None = None
    #: The question being added, from its kind to 必答.
    adding: QuestionDraft | None = None

    def specs(self) -> list[QuestionSpec]:
        return [question.spec() for question in self.questions]

    def edited(self) -> QuestionDraft | None:
        """The question the prompt and options asked are for: the one added, or changed."""
        if self.adding is not None:
            return self.adding
        if self.target is not None and 0 <= self.target < len(self.questions):
            return self.questions[self.target]
        return None
