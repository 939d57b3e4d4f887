"""The monthly retention pass (`models.privacy.retention`): on the 1st of each month at
`RULES__RETENTION_TIME` (03:00), the free text of visits, incidents and care cases of students
who left more than their retention ago is blanked (dates, forms and categories stay for the
statistics), their notice receipts are deleted, and audit entries past theirs are deleted; one
`RetentionRun` per kind records how many.

Like every job it runs once per slot (`scheduler.run` claims the slot); a second pass finds
nothing left to change and records zeros. It sends nothing.
"""

from __future__ import annotations

from typing import Any

from models.privacy.retention import apply_retention
from models.school.rules import SchoolRules
from scheduler.base import Job, JobContext


async def apply_retention_job(jc: JobContext) -> int:
    """Anonymise and delete what is past its retention; nothing is queued (returns 0)."""
    await apply_retention(
        session=jc.session, school_id=jc.school.id or 0, now=jc.now, rules=jc.rules
    )
    return 0


def _monthly(rules: SchoolRules) -> dict[str, Any]:
    at = rules.retention_time
    return {"day": 1, "hour": at.hour, "minute": at.minute}


RETENTION = Job(
    name="retention",
    func=apply_retention_job,
    schedule=_monthly,
    describe="每月1日：匿名化或删除超过保存期限的记录（家访、突发事件、关爱个案、回执、审计日志）",
)
