"""A survey's results for 德育处 and the principal (`/survey results`, `export survey`), read in at
most `STATEMENTS` SQL statements whatever the number of families, classes and questions.

What is shown, and what never is:

* **Response rates** per class: families drawn and families that submitted (`SurveyRecipient`;
  staff may see who has submitted, to chase the others). A class with fewer than `MIN_GROUP`
  submitted families is counted with the other small classes in one group 其他. When 其他 then
  holds 1 to 4 submitted families, the class with the fewest submissions is folded into it too,
  again until 其他 has at least `MIN_GROUP` (or no class is left): otherwise the school-wide
  figures minus the classes shown would give the small group's answers. The same groups are used
  for the distributions, so the tables agree.
* **Distributions** of each non-text question, school-wide and, for a named form, per group.
  Only the families that submitted are counted (a draft never handed in is not an answer). No
  distribution at all while fewer than `MIN_GROUP` families have submitted in all.
* **An anonymous form** is shown school-wide only, and only once the survey has closed.
  - Per class: its answers carry no class. They are linked to the families (and so to a class)
    only while the survey is open, and whatever shows results reads them by survey and question
    only, never joined to the families drawn (`models.surveys.tables`); at closing the link is
    cleared. Recording a class on each answer would need the class kept on the answer after the
    link is gone; school-wide figures say least about anyone, so that is what is shown.
  - Only once closed: results that change while families answer would tell, by comparing two
    looks, what the family that just submitted answered (staff see who has submitted). Closed,
    the answers are fixed. A closed anonymous survey's answers can no longer be told to come from
    a family that submitted or from one that began and never pressed 提交; they are all counted,
    each question over the families that answered it.
* **Free texts** are listed without any name or class, sorted by their text (so their order
  says nothing about when, or by whom, they were written), under the same conditions as the
  distributions: an anonymous form's only once closed and with at least `MIN_GROUP` submissions.
  A named form's texts are listed without names too: the chat and the export never name a
  family (a family with a problem is followed up through the ledger and its key visit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.school.tables import SchoolClass
from models.surveys.findings import MIN_CLASS_ANSWERS
from models.surveys.queries import SKIPPED
from models.surveys.tables import (
    FormPurpose,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
    SurveyStatus,
)
from models.text import N_

#: A group (class, 其他) needs this many submitted families to be shown on its own; a survey
#: needs this many in all for any distribution or free text (the findings' threshold).
MIN_GROUP = MIN_CLASS_ANSWERS
#: The statements `survey_results` runs: the survey and its form, the questions, the families
#: per class, the answers counted per class, question and value (three when the answers are
#: withheld: they are not read).
STATEMENTS = 4
#: The merged group's name.
OTHER = N_("其他")


class Withheld(StrEnum):
    """Why a survey's distributions and free texts are not shown (yet)."""

    TOO_FEW = "too_few"  # fewer than MIN_GROUP families submitted
    OPEN_ANONYMOUS = "open_anonymous"  # an anonymous survey not yet closed


@dataclass(frozen=True)
class ClassTally:
    """One class's families drawn and submitted."""

    class_id: int
    name: str
    drawn: int
    submitted: int


@dataclass(frozen=True)
class Group:
    """A class shown on its own, or (`class_id` None) the small classes together, 其他."""

    class_id: int | None
    #: The class's name; `OTHER` (untranslated) for the merged group.
    name: str
    class_ids: tuple[int, ...]
    drawn: int
    submitted: int

    @property
    def merged(self) -> bool:
        return self.class_id is None

    @property
    def percent(self) -> int:
        return percent(self.submitted, self.drawn)


def percent(part: int, whole: int) -> int:
    """`part` of `whole` in whole percent (0 of nothing)."""
    return round(100 * part / whole) if whole else 0


def group_classes(tallies: Sequence[ClassTally], minimum: int = MIN_GROUP) -> list[Group]:
    """The classes as shown (in the order given), then 其他: classes with fewer than `minimum`
    submitted families merged, and classes folded into 其他 (fewest submissions first, the later
    class on a tie) while it holds between 1 and `minimum - 1`. 其他 is listed only when it holds
    a class."""
    own = [t for t in tallies if t.submitted >= minimum]
    small = [t for t in tallies if t.submitted < minimum]
    while own and 0 < sum(t.submitted for t in small) < minimum:
        fold = min(reversed(own), key=lambda t: t.submitted)
        own.remove(fold)
        small.append(fold)
    groups = [Group(t.class_id, t.name, (t.class_id,), t.drawn, t.submitted) for t in own]
    if small:
        order = {t.class_id: n for n, t in enumerate(tallies)}
        small.sort(key=lambda t: order[t.class_id])
        groups.append(
            Group(
                None,
                OTHER,
                tuple(t.class_id for t in small),
                sum(t.drawn for t in small),
                sum(t.submitted for t in small),
            )
        )
    return groups


@dataclass(frozen=True)
class Distribution:
    """How one group answered one question: each option's count (options in the form's order,
    then any other value given), and how many families the group has."""

    counts: tuple[tuple[str, int], ...]
    #: The families counted (submitted ones; for a closed anonymous survey, those that answered).
    families: int

    @property
    def answered(self) -> int:
        return sum(count for _value, count in self.counts)

    @property
    def skipped(self) -> int:
        """Families that left the question blank (an optional one)."""
        return max(0, self.families - self.answered)

    def count(self, value: str) -> int:
        return dict(self.counts).get(value, 0)

    def percent(self, value: str) -> int:
        return percent(self.count(value), self.answered)


def distribution(options: Sequence[str], counted: Counter[str], families: int) -> Distribution:
    extra = sorted(v for v in counted if v not in options)
    return Distribution(tuple((v, counted[v]) for v in [*options, *extra]), families)


@dataclass(frozen=True)
class QuestionResult:
    question_id: int
    position: int
    kind: QuestionKind
    prompt: str
    #: The answers a non-text question accepts, in order (empty for free text).
    options: tuple[str, ...]
    #: School-wide (None for a free-text question).
    school: Distribution | None
    #: Per group, in the groups' order (a named form's non-text questions only).
    by_group: tuple[tuple[Group, Distribution], ...] = ()
    #: A free-text question's answers, sorted, without names.
    texts: tuple[str, ...] = ()

    @property
    def is_text(self) -> bool:
        return self.kind is QuestionKind.TEXT


@dataclass(frozen=True)
class SurveyResults:
    survey_id: int
    form_name: str
    purpose: FormPurpose
    anonymous: bool
    status: SurveyStatus
    deadline: datetime
    #: Response rates: the classes shown and 其他.
    groups: tuple[Group, ...]
    drawn: int
    submitted: int
    #: Why no distribution and no free text is shown; None when they are.
    withheld: Withheld | None
    questions: tuple[QuestionResult, ...] = field(default=())

    @property
    def percent(self) -> int:
        return percent(self.submitted, self.drawn)

    @property
    def per_group(self) -> bool:
        """Whether the distributions are shown per class (a named form), not only school-wide."""
        return not self.anonymous


def _withheld(anonymous: bool, status: SurveyStatus, submitted: int) -> Withheld | None:
    if submitted < MIN_GROUP:
        return Withheld.TOO_FEW
    if anonymous and status is not SurveyStatus.CLOSED:
        return Withheld.OPEN_ANONYMOUS
    return None


async def survey_results(
    session: AsyncSession, school_id: int, survey_id: int
) -> SurveyResults | None:
    """The results of the school's survey `survey_id` (None for another school's, an unknown one,
    or one not yet sent), in at most `STATEMENTS` statements."""
    found = (
        await session.exec(
            select(Survey, SurveyForm)
            .join(SurveyForm, col(SurveyForm.id) == col(Survey.form_id))
            .where(col(Survey.id) == survey_id, col(Survey.school_id) == school_id)
        )
    ).first()
    if found is None:
        return None
    survey, form = found
    if survey.status not in (SurveyStatus.SENT, SurveyStatus.CLOSED):
        return None
    questions = (
        await session.exec(
            select(SurveyQuestion)
            .where(col(SurveyQuestion.form_id) == form.id)
            .order_by(col(SurveyQuestion.position))
        )
    ).all()
    tallies = await _class_tallies(session, survey_id)
    groups = group_classes(tallies)
    drawn = sum(t.drawn for t in tallies)
    submitted = sum(t.submitted for t in tallies)
    withheld = _withheld(form.anonymous, survey.status, submitted)
    results = SurveyResults(
        survey_id=survey_id,
        form_name=form.name,
        purpose=form.purpose,
        anonymous=form.anonymous,
        status=survey.status,
        deadline=survey.deadline,
        groups=tuple(groups),
        drawn=drawn,
        submitted=submitted,
        withheld=withheld,
    )
    if withheld is not None:
        return results
    rows = await _answer_counts(session, survey_id, anonymous=form.anonymous)
    shown = [_question(q, rows, groups, submitted, anonymous=form.anonymous) for q in questions]
    return replace(results, questions=tuple(shown))


async def _class_tallies(session: AsyncSession, survey_id: int) -> list[ClassTally]:
    query = (
        select(
            col(SurveyRecipient.class_id),
            col(SchoolClass.name),
            func.count(col(SurveyRecipient.id)),
            func.count(col(SurveyRecipient.submitted_at)),
        )
        .join(SchoolClass, col(SchoolClass.id) == col(SurveyRecipient.class_id))
        .where(col(SurveyRecipient.survey_id) == survey_id)
        .group_by(col(SurveyRecipient.class_id), col(SchoolClass.name), col(SchoolClass.grade))
        .order_by(col(SchoolClass.grade), col(SurveyRecipient.class_id))
    )
    return [
        ClassTally(int(class_id), name, int(drawn), int(done))
        for class_id, name, drawn, done in (await session.exec(query)).all()
    ]


#: (class id or None, question id, value) → how many families gave it.
_Counts = dict[tuple[int | None, int, str], int]


async def _answer_counts(session: AsyncSession, survey_id: int, *, anonymous: bool) -> _Counts:
    """A named form's answers of the families that submitted, per class, question and value; an
    anonymous form's per question and value only, never joined to the families drawn."""
    if anonymous:
        plain = (
            select(col(SurveyAnswer.question_id), col(SurveyAnswer.value), func.count())
            .where(col(SurveyAnswer.survey_id) == survey_id)
            .group_by(col(SurveyAnswer.question_id), col(SurveyAnswer.value))
        )
        return {
            (None, int(qid), value): int(n) for qid, value, n in (await session.exec(plain)).all()
        }
    joined = (
        select(
            col(SurveyRecipient.class_id),
            col(SurveyAnswer.question_id),
            col(SurveyAnswer.value),
            func.count(),
        )
        .join(SurveyRecipient, col(SurveyRecipient.id) == col(SurveyAnswer.recipient_id))
        .where(
            col(SurveyAnswer.survey_id) == survey_id,
            col(SurveyRecipient.submitted_at).is_not(None),
        )
        .group_by(
            col(SurveyRecipient.class_id), col(SurveyAnswer.question_id), col(SurveyAnswer.value)
        )
    )
    return {
        (int(cid), int(qid), value): int(n)
        for cid, qid, value, n in (await session.exec(joined)).all()
    }


def _question(
    question: SurveyQuestion,
    rows: _Counts,
    groups: Iterable[Group],
    submitted: int,
    *,
    anonymous: bool,
) -> QuestionResult:
    qid = question.id or 0
    mine = [(class_id, value, n) for (class_id, q, value), n in rows.items() if q == qid and value]
    base = QuestionResult(
        question_id=qid,
        position=question.position,
        kind=question.kind,
        prompt=question.prompt,
        options=tuple(question.option_list()),
        school=None,
    )
    if question.kind is QuestionKind.TEXT:
        texts = sorted(value for _c, value, n in mine for _ in range(n) if value != SKIPPED)
        return replace(base, texts=tuple(texts))
    school: Counter[str] = Counter()
    by_class: dict[int | None, Counter[str]] = {}
    for class_id, value, n in mine:
        school[value] += n
        by_class.setdefault(class_id, Counter())[value] += n
    # A closed anonymous survey's answers cannot be told apart by submission: its families are
    # those that answered the question (none skipped it, as far as can be told).
    families = sum(school.values()) if anonymous else submitted
    by_group: list[tuple[Group, Distribution]] = []
    if not anonymous:
        for group in groups:
            counted: Counter[str] = Counter()
            for class_id in group.class_ids:
                counted.update(by_class.get(class_id, Counter()))
            by_group.append((group, distribution(base.options, counted, group.submitted)))
    return replace(
        base,
        school=distribution(base.options, school, families),
        by_group=tuple(by_group),
    )
