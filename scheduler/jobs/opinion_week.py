"""Opinion week 民意访问周 (DOMAIN.md "Meetings and surveys"): the last school week of every
month, the opinion-week form goes to this month's share of the families not asked yet this
semester, so that over the semester every family is asked once (`models.surveys.opinion_week`
says when the week falls; `models.surveys.sampling.rotate_opinion_week` draws).

`opinion_week` runs daily at `rules.opinion_week_time` (09:00). On the first school day of the
month's opinion week (or the next school day of the week in the month, when the bot was down) it
draws `rules.opinion_week_share` % of the school's households from those no opinion week asked
since the semester began, with a seed recorded on the survey, and sends the school's own
opinion-week form (its newest copy not archived, else the built-in one) to the whole school:
one invitation per family with 开始填写, through the same code as /survey's 发送, in waking
hours, open until the week's Sunday at 20:00. The survey is made by no one (`created_by` None);
the audit log names the job.

Once a month: a survey of the month already made means nothing is done; two runs at once are
kept apart by a claim row `opinion_week:{yyyy-mm}` written in the run's transaction (unique, so
one run commits the month's survey). A month without a school day, a day in a break, a week with
nobody left to ask (every family asked this semester) send nothing. A school with no semester on
record counts every weekday outside its breaks, and rotates over half-years.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from handlers.surveys.send import Sending, queue_invitations
from models.audit.tables import audit
from models.quota.rules import semester_on
from models.school.calendar import month_bounds
from models.school.calendar_store import stored_calendar
from models.surveys.opinion_week import opinion_week, rotation_start
from models.surveys.queries import asked_since, households
from models.surveys.sampling import new_seed, rotate_opinion_week
from models.surveys.scheduled import (
    claim_once,
    create_drawn,
    opinion_week_form,
    opinion_week_survey,
)
from models.surveys.tables import FormPurpose
from scheduler.base import Job, JobContext, daily_at

ACTOR = "job"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def month_claim(day: date) -> str:
    """The name of the month's claim (see the module's docstring)."""
    return f"opinion_week:{day:%Y-%m}"


async def send_opinion_week(jc: JobContext) -> int:
    """On a day of the month's opinion week, the month's opinion-week survey, once; returns the
    invitations queued."""
    day = jc.today
    school_id = jc.school.id or 0
    stored = await stored_calendar(session=jc.session, school_id=school_id)
    calendar = stored.rules
    week = opinion_week(day, calendar)
    if week is None or not week.sends_on(day) or not calendar.is_school_day(day):
        return 0
    first, following = month_bounds(day)
    since, until = _midnight(first, jc.zone), _midnight(following, jc.zone)
    if await opinion_week_survey(jc.session, school_id, since, until) is not None:
        return 0
    semester = semester_on(day, stored.terms)
    start = rotation_start(day, semester.start_date if semester is not None else None)
    asked = await asked_since(
        jc.session, school_id, FormPurpose.OPINION_WEEK, _midnight(start, jc.zone)
    )
    found = await households(jc.session, school_id)
    seed = new_seed()
    share = jc.rules.opinion_week_share
    picks = rotate_opinion_week(found, asked, share, seed=seed)
    if not picks:
        return 0
    form = await opinion_week_form(jc.session, school_id, now=jc.now)
    if form is None:
        return 0
    detail = f"{len(picks)} of {len(found)} households, {len(asked)} asked since {start}"
    claimed = await claim_once(
        jc.session, school_id, month_claim(first), since, now=jc.now, outcome=detail
    )
    if not claimed:
        return 0
    survey = await create_drawn(
        jc.session,
        school_id=school_id,
        form=form,
        picks=picks,
        share=share,
        seed=seed,
        deadline=week.deadline(jc.zone),
        now=jc.now,
    )
    await audit(
        session=jc.session,
        actor=ACTOR,
        action="survey.opinion_week",
        subject=f"survey:{survey.id}",
        detail=f"month={first:%Y-%m} seed={seed} {detail}",
    )
    sending = Sending(
        session=jc.session,
        school_id=school_id,
        now=jc.now,
        zone=jc.zone,
        rules=jc.rules,
        actor=ACTOR,
    )
    sent = await queue_invitations(sending, survey, form)
    return sent.queued


OPINION_WEEK = Job(
    name="opinion_week",
    func=send_opinion_week,
    schedule=daily_at(lambda rules: rules.opinion_week_time),
    describe="民意访问周：每月最后一个教学周的第一个教学日，向本学期尚未问过的一部分家庭发出满意度问卷",
)
