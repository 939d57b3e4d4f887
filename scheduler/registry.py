"""Every scheduled job, in one list.

Import-light on purpose: this registry imports the job modules; a job module imports only
`scheduler.base` (and `models`, `handlers.notify`), never this registry nor the scheduler set-up.
"""

from __future__ import annotations

from scheduler.base import Job
from scheduler.jobs import (
    campaigns,
    care,
    digest,
    district,
    drafts,
    duties,
    feedback_summary,
    incidents,
    ledger,
    meetings,
    notices,
    opinion_week,
    publish_notices,
    reminders,
    retention,
    survey_checks,
    surveys,
)

# Other modules add one line each: an import here, e.g. `from scheduler.jobs import digest`,
# and one entry in the list below, e.g. `digest.DAILY_DIGEST,`.


def all_jobs() -> list[Job]:
    """The jobs the scheduler runs and `python -m bot jobs` lists; names are unique."""
    return [
        # Other modules add one line each.
        duties.SICK_ABSENCE_CHECK,
        duties.DUTY_REMINDERS,
        duties.DUTY_OVERDUE_ALERTS,
        digest.DAILY_DIGEST,
        district.DISTRICT_DIGEST,
        incidents.INCIDENT_NOT_REACHED,
        reminders.WEEKLY_NUDGE,
        reminders.MONTH_END_REMINDER,
        reminders.BREAK_START_REMINDER,
        publish_notices.PUBLISH_DUE_NOTICES,
        notices.NOTICE_REMINDERS,
        notices.NOTICE_ARCHIVE,
        drafts.CLEAR_OLD_DRAFTS,
        ledger.LEDGER_REMINDERS,
        feedback_summary.FEEDBACK_SUMMARY,
        retention.RETENTION,
        care.CARE_REMINDERS,
        care.CARE_SEVERE_ALERTS,
        surveys.CLOSE_DUE_SURVEYS,
        meetings.MEETING_MIDPOINT_CHECK,
        opinion_week.OPINION_WEEK,
        survey_checks.SURVEY_REMINDERS,
        survey_checks.SURVEY_SEMESTER_CHECK,
        campaigns.CAMPAIGN_LEFT_BEHIND_REMINDERS,
    ]
