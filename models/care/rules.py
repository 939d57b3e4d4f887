"""The care room's pure rules: text limits, the plan's intervals, when a contact is due, what a
contact's time may be, and what closing needs. No database here."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.text import N_

#: What was noticed, or what a guardian asks for.
NOTICED_LIMIT = 1000
#: A contact's problem, measures and effect; a summary; an evaluation.
ENTRY_LIMIT = 1000
#: Each part of the help plan (心理支持, 学业帮扶, 生活帮扶).
PLAN_LIMIT = 500
#: Who helps (a few names or roles).
WHO_LIMIT = 100
#: Where a contact took place.
PLACE_LIMIT = 100
#: The intervals offered for the plan's contacts, in days.
PLAN_EVERY_CHOICES: tuple[int, ...] = (3, 7, 14, 30)
#: A contact dated further back than this is taken for a mistyped year.
OLDEST_CONTACT_DAYS = 366


def contact_due_on(
    *, last_contact: date | None, planned: date | None, every_days: int | None
) -> date | None:
    """When the next contact is due: the plan's interval after the last contact (or, before any
    contact, after the plan was made); None without a plan."""
    if every_days is None:
        return None
    since = last_contact or planned
    if since is None:
        return None
    return since + timedelta(days=every_days)


def contact_time_problem(at: datetime, now: datetime) -> str | None:
    """Why `at` cannot be a contact's time (a msgid), or None when it can."""
    if at > now:
        return N_("辅导时间不能晚于现在。")
    if at < now - timedelta(days=OLDEST_CONTACT_DAYS):
        return N_("辅导时间早于一年前，请检查年份。")
    return None


def closing_problem(student: str, teacher: str, parents: str) -> str | None:
    """Why a case cannot close with this evaluation (a msgid), or None: nothing closes without
    the student's, the teacher's and the parents' feedback."""
    if not student.strip():
        return N_("结案需要学生的反馈评价。")
    if not teacher.strip():
        return N_("结案需要教师的反馈评价。")
    if not parents.strip():
        return N_("结案需要家长的反馈评价。")
    return None
