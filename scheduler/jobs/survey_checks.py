"""Chasing a survey's families, and the semester rule (DOMAIN.md "Meetings and surveys").

`survey_reminders` (every ten minutes): every sent survey, the opinion week's and /survey's
alike, reminds the families drawn that have not submitted once, halfway between its sending and
its deadline (`models.surveys.opinion_week.halfway`): one message to the guardian asked, with the
invitation's 开始填写 button, keyed `survey:{id}:reminder:guardian:{gid}:{channel}`. Nothing in
quiet hours: a halfway point that falls in them waits for their end and reminds whoever has still
not submitted by then. A survey is reminded once (a claim row `survey_reminder:{id}` written in
the run's transaction); a halfway point reached with less than `LATE` left before the deadline
(the bot was down) is passed over.

`survey_semester_check` (daily at `rules.survey_check_time`): from the semester's midpoint
(`models.quota.rules.semester_midpoint`), if the semester's surveys — its semester and other
surveys sent within it, every family once, opinion weeks not counted — reached fewer than
`rules.survey_min_share` % of the school's families, 德育处 (the admin role) is told the figure
and asked to send a semester survey, once a semester: the key `survey-semester-check:{first day
of the semester}` (then `:staff:{id}:{channel}`) is the semester's, so later runs, and a run that
catches up a missed midpoint, queue nothing twice. Nothing before the midpoint, outside a
semester, or when no semester is on record (there is no midpoint). The check runs every day to
the semester's end; once every account of 德育处 has its row of the semester, a run stops before
reading the school's households (`handlers.notify.all_notified`): there is nothing left to say.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.i18n import Translator
from handlers.notify import all_notified
from handlers.surveys.send import Sending, queue_reminders
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.audit.tables import audit
from models.quota.rules import semester_midpoint, semester_on
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole
from models.school.calendar_store import stored_calendar
from models.school.rules import SchoolRules, in_quiet_hours
from models.surveys.opinion_week import below_share, coverage_percent, halfway
from models.surveys.scheduled import claim_once, open_surveys, semester_coverage
from models.surveys.tables import SurveyForm
from scheduler.base import Job, JobContext, daily_at

ACTOR = "job"
SEMESTER_KIND = "survey_semester_check"
#: A reminder with less than this left before the deadline is not sent.
LATE = timedelta(hours=1)


def reminder_claim(survey_id: int) -> str:
    return f"survey_reminder:{survey_id}"


def semester_key(first_day: date) -> str:
    return f"survey-semester-check:{first_day.isoformat()}"


# -- reminders ------------------------------------------------------------------------------------


async def remind_survey_families(jc: JobContext) -> int:
    """Halfway to each open survey's deadline, its families that have not submitted; returns the
    reminders queued."""
    if in_quiet_hours(jc.now, zone=jc.zone, rules=jc.rules):
        return 0
    school_id = jc.school.id or 0
    sending = Sending(
        session=jc.session,
        school_id=school_id,
        now=jc.now,
        zone=jc.zone,
        rules=jc.rules,
        actor=ACTOR,
    )
    queued = 0
    for survey in await open_surveys(jc.session, school_id, jc.now):
        assert survey.id is not None and survey.sent_at is not None
        if jc.now < halfway(survey.sent_at, survey.deadline):
            continue
        late = survey.deadline - jc.now < LATE
        outcome = "skipped: too close to the deadline" if late else "reminded"
        claimed = await claim_once(
            jc.session,
            school_id,
            reminder_claim(survey.id),
            survey.deadline,
            now=jc.now,
            outcome=outcome,
        )
        if not claimed or late:
            continue
        form = await jc.session.get(SurveyForm, survey.form_id)
        if form is None:
            continue
        sent = await queue_reminders(sending, survey, form)
        await audit(
            session=jc.session,
            actor=ACTOR,
            action="survey.remind",
            subject=f"survey:{survey.id}",
            detail=f"{sent.reached} families reminded, {sent.unbound} unbound",
        )
        queued += sent.queued
    return queued


# -- the semester rule ----------------------------------------------------------------------------


def semester_check_text(
    t: Translator, *, first: date, last: date, covered: int, households: int, share: int
) -> str:
    return "\n".join(
        [
            t._("【学期问卷提醒】本学期（{first} 至 {last}）已过半。").format(
                first=first.isoformat(), last=last.isoformat()
            ),
            t._(
                "本学期问卷已覆盖 {percent}% 的家庭（{covered}/{households}），不足 {share}%。"
            ).format(
                percent=coverage_percent(covered, households),
                covered=covered,
                households=households,
                share=share,
            ),
            t._("请发送 /survey 发起学期问卷，每个班随机抽取不少于 {share}% 的家庭。").format(
                share=share
            ),
        ]
    )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


async def check_semester_surveys(jc: JobContext) -> int:
    """From the semester's midpoint: 德育处 told once when its surveys reached too few families;
    returns the messages queued."""
    day = jc.today
    school_id = jc.school.id or 0
    stored = await stored_calendar(session=jc.session, school_id=school_id)
    semester = semester_on(day, stored.terms)
    if semester is None or day < semester_midpoint(semester):
        return 0
    first, last = semester.start_date, semester.end_date
    admins = await staff_with_role(session=jc.session, school_id=school_id, role=StaffRole.ADMIN)
    people = [(PersonKind.STAFF, staff.id or 0) for staff in admins]
    key = semester_key(first)
    if await all_notified(
        session=jc.session, school_id=school_id, people=people, key=key, kind=SEMESTER_KIND
    ):
        return 0
    covered, found = await semester_coverage(
        jc.session,
        school_id,
        _midnight(first, jc.zone),
        _midnight(last + timedelta(days=1), jc.zone),
    )
    share = jc.rules.survey_min_share
    if not below_share(covered, found, share):
        return 0

    def render(t: Translator) -> Reply:
        return Reply(
            semester_check_text(
                t, first=first, last=last, covered=covered, households=found, share=share
            )
        )

    notified = await jc.notify(people, key=key, kind=SEMESTER_KIND, render=render)
    if notified.queued:
        await audit(
            session=jc.session,
            actor=ACTOR,
            action="survey.semester_check",
            subject=f"semester:{first.isoformat()}",
            detail=f"{covered}/{found} households reached, below {share}%",
        )
    return notified.queued


def _every_ten_minutes(rules: SchoolRules) -> dict[str, Any]:
    return {"minute": "*/10"}


SURVEY_REMINDERS = Job(
    name="survey_reminders",
    func=remind_survey_families,
    schedule=_every_ten_minutes,
    describe="问卷（含民意访问周）过半时，提醒尚未提交的家庭一次（免打扰时段顺延）",
)
SURVEY_SEMESTER_CHECK = Job(
    name="survey_semester_check",
    func=check_semester_surveys,
    schedule=daily_at(lambda rules: rules.survey_check_time),
    describe="学期过半时，若本学期问卷覆盖的家庭不足规定比例，提醒德育处发起学期问卷（每学期一次）",
)
