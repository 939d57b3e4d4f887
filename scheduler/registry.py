"""Every scheduled job, in one list.

Import-light on purpose: this registry imports the job modules; a job module imports only
`scheduler.base` (and `models`, `handlers.notify`), never this registry nor the scheduler set-up.
"""

from __future__ import annotations

from scheduler import (
    jobs_digest,
    jobs_duties,
    jobs_incidents,
    jobs_notices,
    jobs_publish_notices,
    jobs_reminders,
)
from scheduler.base import Job

# Other modules add one line each: an import here, e.g. `from scheduler import jobs_digest`,
# and one entry in the list below, e.g. `jobs_digest.DAILY_DIGEST,`.


def all_jobs() -> list[Job]:
    """The jobs the scheduler runs and `python -m bot jobs` lists; names are unique."""
    return [
        # Other modules add one line each.
        jobs_duties.SICK_ABSENCE_CHECK,
        jobs_duties.DUTY_REMINDERS,
        jobs_duties.DUTY_OVERDUE_ALERTS,
        jobs_digest.DAILY_DIGEST,
        jobs_incidents.INCIDENT_NOT_REACHED,
        jobs_reminders.WEEKLY_NUDGE,
        jobs_reminders.MONTH_END_REMINDER,
        jobs_reminders.BREAK_START_REMINDER,
        jobs_publish_notices.PUBLISH_DUE_NOTICES,
        jobs_notices.NOTICE_REMINDERS,
        jobs_notices.NOTICE_ARCHIVE,
    ]
