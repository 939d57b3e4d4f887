"""Acting on survey answers (DOMAIN.md "Meetings and surveys", "Problem ledger"): a 是 to a
misconduct question becomes a ledger item for 德育处, and low satisfaction (at least
`SchoolRules.survey_low_satisfaction_threshold` 不满意 answers) a key visit or a ledger item.
Each is a `SurveyFinding`, the cause of what it opened, made once per survey and key.

- A named form, when the family submits (`record_family_findings`): each misconduct 是 is a
  finding with the student the family was drawn through and a ledger item; low satisfaction is
  a finding and a key-visit duty for the student's head teacher, due in `KEY_VISIT_DAYS`.
  Submitting again adds nothing.
- An anonymous form, when the survey closes (`record_class_findings`, before the answers are
  detached): per class, how many families answered 是 to each misconduct question and how many
  have low satisfaction, each count a class-level finding and ledger item (no student, no duty:
  there is no family to visit). Made only at closing, so no item's time points at a family; the
  classes with fewer than `MIN_CLASS_ANSWERS` submitted families are counted together,
  school-wide, so a small class never points at one.

Descriptions name the form, the question and the class, never a family or its free text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import insert_ignoring_duplicates
from models.duties.queries import open_duty
from models.duties.tables import Duty, DutyTrigger
from models.ledger.queries import NewItem, record_items
from models.ledger.tables import LedgerSource
from models.roster.tables import Student
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import SchoolClass
from models.surveys.tables import (
    DISSATISFIED,
    YES,
    FindingKind,
    Survey,
    SurveyAnswer,
    SurveyFinding,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
)

#: A family with low satisfaction on a named form gets its key visit within this many days.
KEY_VISIT_DAYS = 7
#: An anonymous form's class with fewer submitted families is counted school-wide.
MIN_CLASS_ANSWERS = 5
#: The reason shown on the key-visit duty.
LOW_SATISFACTION_REASON = "问卷满意度低"


@dataclass(frozen=True)
class _Found:
    kind: FindingKind
    class_id: int | None
    student_id: int | None
    question_id: int | None
    count: int


def _key(found: _Found) -> str:
    parts = (found.class_id, found.student_id, found.question_id)
    return ":".join([found.kind.value, *("-" if part is None else str(part) for part in parts)])


async def _claim(session: AsyncSession, survey: Survey, found: _Found, now: datetime) -> int:
    """The finding's id, adding it unless the survey has it already (its key)."""
    assert survey.id is not None
    key = _key(found)
    await insert_ignoring_duplicates(
        session,
        SurveyFinding.__table__,  # type: ignore[attr-defined]
        {
            "school_id": survey.school_id,
            "survey_id": survey.id,
            "kind": found.kind.value,
            "class_id": found.class_id,
            "student_id": found.student_id,
            "question_id": found.question_id,
            "count": found.count,
            "key": key,
            "created_at": now,
        },
        unique=["survey_id", "key"],
    )
    query = select(col(SurveyFinding.id)).where(
        SurveyFinding.survey_id == survey.id, SurveyFinding.key == key
    )
    finding_id = (await session.exec(query)).one()
    assert finding_id is not None
    return finding_id


def _named(question: SurveyQuestion) -> str:
    """The question as a description quotes it (without its closing punctuation)."""
    return question.prompt.strip().rstrip("。.?？!！ ")


async def _questions(session: AsyncSession, form_id: int) -> list[SurveyQuestion]:
    query = (
        select(SurveyQuestion)
        .where(SurveyQuestion.form_id == form_id)
        .order_by(col(SurveyQuestion.position))
    )
    return list((await session.exec(query)).all())


def _is_low(answers: dict[int, str], counting: set[int], threshold: int) -> bool:
    unhappy = sum(1 for qid, value in answers.items() if qid in counting and value == DISSATISFIED)
    return unhappy >= threshold


async def record_family_findings(
    session: AsyncSession,
    recipient: SurveyRecipient,
    *,
    now: datetime,
    rules: SchoolRules = DEFAULT_RULES,
) -> Duty | None:
    """A named form's family submitted: its misconduct 是 answers into the ledger, its low
    satisfaction into the ledger and a key-visit duty for the head teacher; nothing for an
    anonymous form, and nothing again for what an earlier submission found. Returns the
    key-visit duty opened now (its teacher is to be told), if any."""
    survey = await session.get(Survey, recipient.survey_id)
    form = await session.get(SurveyForm, survey.form_id) if survey is not None else None
    if survey is None or form is None or form.anonymous or recipient.id is None:
        return None
    questions = await _questions(session, form.id or 0)
    query = select(SurveyAnswer).where(SurveyAnswer.recipient_id == recipient.id)
    answers = {a.question_id: a.value for a in (await session.exec(query)).all()}
    items = []
    for question in questions:
        if question.misconduct and answers.get(question.id or 0) == YES:
            found = _Found(
                FindingKind.MISCONDUCT, recipient.class_id, recipient.student_id, question.id, 1
            )
            finding_id = await _claim(session, survey, found, now)
            items.append(
                NewItem(
                    school_id=survey.school_id,
                    source=LedgerSource.SURVEY,
                    source_id=finding_id,
                    student_id=recipient.student_id,
                    description=f"问卷《{form.name}》：家长反映“{_named(question)}”（是）",
                    class_id=recipient.class_id,
                )
            )
    await record_items(session, items, now=now)
    counting = {q.id or 0 for q in questions if q.counts_satisfaction}
    if not _is_low(answers, counting, rules.survey_low_satisfaction_threshold):
        return None
    found = _Found(FindingKind.LOW_SATISFACTION, recipient.class_id, recipient.student_id, None, 1)
    finding_id = await _claim(session, survey, found, now)
    # Every problem a survey finds is in the ledger (DOMAIN.md); the key visit is how it is met.
    await record_items(
        session,
        [
            NewItem(
                school_id=survey.school_id,
                source=LedgerSource.SURVEY,
                source_id=finding_id,
                student_id=recipient.student_id,
                description=f"问卷《{form.name}》：家长满意度低，已安排班主任重点家访",
                class_id=recipient.class_id,
            )
        ],
        now=now,
    )
    teacher_id = await _head_teacher_of(session, recipient)
    if teacher_id is None:
        return None
    return await open_duty(
        session=session,
        school_id=survey.school_id,
        student_id=recipient.student_id,
        teacher_id=teacher_id,
        trigger=DutyTrigger.OTHER,
        source_key=f"survey:{finding_id}",
        triggered_at=now,
        reason=LOW_SATISFACTION_REASON,
        rules=rules,
        due_at=now + timedelta(days=KEY_VISIT_DAYS),
    )


async def _head_teacher_of(session: AsyncSession, recipient: SurveyRecipient) -> int | None:
    """The head teacher of the student's class now (of the class drawn, if the student has none)."""
    student = await session.get(Student, recipient.student_id)
    class_id = student.class_id if student is not None and student.class_id else recipient.class_id
    found = await session.get(SchoolClass, class_id)
    return found.head_teacher_id if found is not None else None


async def record_class_findings(
    session: AsyncSession,
    survey: Survey,
    *,
    now: datetime,
    rules: SchoolRules = DEFAULT_RULES,
) -> int:
    """An anonymous form's survey closes: per class, the families that answered 是 to each
    misconduct question and those with low satisfaction, each non-zero count a class-level
    finding and ledger item (the small classes counted together, school-wide). Must run before
    the answers are detached. Returns how many items were added."""
    form = await session.get(SurveyForm, survey.form_id)
    if form is None or not form.anonymous or survey.id is None:
        return 0
    questions = await _questions(session, form.id or 0)
    misconduct = [q for q in questions if q.misconduct]
    counting = {q.id or 0 for q in questions if q.counts_satisfaction}
    query = (
        select(
            SurveyRecipient.class_id,
            SurveyAnswer.recipient_id,
            SurveyAnswer.question_id,
            SurveyAnswer.value,
        )
        .join(SurveyRecipient, col(SurveyRecipient.id) == col(SurveyAnswer.recipient_id))
        .where(
            col(SurveyAnswer.survey_id) == survey.id,
            col(SurveyRecipient.submitted_at).is_not(None),
        )
    )
    families: dict[int, dict[int, str]] = {}
    class_of: dict[int, int] = {}
    for class_id, recipient_id, answered, value in (await session.exec(query)).all():
        assert recipient_id is not None
        families.setdefault(recipient_id, {})[answered] = value
        class_of[recipient_id] = class_id
    size = Counter(class_of.values())
    counts: Counter[tuple[int | None, int | None]] = Counter()
    for recipient_id, answers in families.items():
        class_id = class_of[recipient_id]
        where: int | None = class_id if size[class_id] >= MIN_CLASS_ANSWERS else None
        for question in misconduct:
            if answers.get(question.id or 0) == YES:
                counts[(where, question.id)] += 1
        if _is_low(answers, counting, rules.survey_low_satisfaction_threshold):
            counts[(where, None)] += 1
    names = await _class_names(session, survey.school_id)
    by_id = {q.id: q for q in misconduct}
    items = []
    for (place_id, question_id), count in sorted(counts.items(), key=_order):
        kind = FindingKind.LOW_SATISFACTION if question_id is None else FindingKind.MISCONDUCT
        finding_id = await _claim(
            session, survey, _Found(kind, place_id, None, question_id, count), now
        )
        place = (
            names.get(place_id, "")
            if place_id is not None
            else f"全校答卷不足 {MIN_CLASS_ANSWERS} 份的班级合计"
        )
        if question_id is None:
            what = f"满意度低（{rules.survey_low_satisfaction_threshold} 项及以上“{DISSATISFIED}”）"
        else:
            what = f"反映“{_named(by_id[question_id])}”"
        items.append(
            NewItem(
                school_id=survey.school_id,
                source=LedgerSource.SURVEY,
                source_id=finding_id,
                student_id=None,
                description=f"问卷《{form.name}》：{place} 有 {count} 户{what}",
                class_id=place_id,
            )
        )
    return len(await record_items(session, items, now=now))


def _order(entry: tuple[tuple[int | None, int | None], int]) -> tuple[bool, int, bool, int]:
    """Classes first, then the school-wide counts; misconduct questions, then low satisfaction."""
    (class_id, question_id), _ = entry
    return (class_id is None, class_id or 0, question_id is None, question_id or 0)


async def _class_names(session: AsyncSession, school_id: int) -> dict[int | None, str]:
    query = select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id)
    return {class_id: name for class_id, name in (await session.exec(query)).all()}
