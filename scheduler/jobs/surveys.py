"""Closing surveys at their deadline: a sent survey whose deadline has passed is closed, an
anonymous form's answers are counted per class into ledger items
(`models.surveys.findings.record_class_findings`) and then unlinked from the families that gave
them (`models.surveys.queries.detach_anonymous_answers`), in one transaction with an audit entry.

Runs every minute (a deadline is a moment, usually 23:59 of a day). A closed survey takes no more
answers (the answering flow and page check the status and the deadline). It sends nothing, so it
runs in quiet hours too; a second run finds nothing to close.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select

from models.audit.tables import audit
from models.surveys.findings import record_class_findings
from models.surveys.queries import detach_anonymous_answers
from models.surveys.tables import Survey, SurveyStatus
from scheduler.base import Job, JobContext, every_minute


async def close_due_surveys(jc: JobContext) -> int:
    """Close the school's sent surveys past their deadline; returns 0 (nothing is sent)."""
    due = (
        await jc.session.exec(
            select(col(Survey.id)).where(
                col(Survey.school_id) == jc.school.id,
                col(Survey.status) == SurveyStatus.SENT.value,
                col(Survey.deadline) <= jc.now,
            )
        )
    ).all()
    for survey_id in due:
        closed = await jc.session.exec(
            update(Survey)
            .where(col(Survey.id) == survey_id, col(Survey.status) == SurveyStatus.SENT.value)
            .values(status=SurveyStatus.CLOSED.value)
        )
        if closed.rowcount != 1:
            continue
        survey = await jc.session.get(Survey, survey_id)
        assert survey is not None
        # Counted while the answers still know their class: detaching unlinks them.
        items = await record_class_findings(jc.session, survey, now=jc.now, rules=jc.rules)
        unlinked = await detach_anonymous_answers(jc.session, survey_id or 0)
        await audit(
            session=jc.session,
            actor="job",
            action="survey.close",
            subject=f"survey:{survey_id}",
            detail=f"{unlinked} anonymous answers unlinked, {items} ledger items",
        )
    return 0


CLOSE_DUE_SURVEYS = Job(
    name="close_due_surveys",
    func=close_due_surveys,
    schedule=every_minute,
    describe="每分钟：关闭已过截止时间的问卷（匿名问卷的答案与家庭脱钩）",
)
