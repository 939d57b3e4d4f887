"""区域家访合规日报 to the bureau's 区域管理员 (`district_digest`, at `rules.digest_time`, 07:30
by default, like the school digest).

Every school-day morning each active member of staff with the district role (`StaffRole.DISTRICT`)
on this school's roster — the bureau's own entry — gets the district digest (every school's
figures, counts only) with its chart, on each account they have bound, in that account's
language, through the outbox and outside quiet hours. A school day is one by this school's own
calendar (the bureau's: with no semester imported, every weekday but China's statutory holidays,
and the 调休 working weekends). A roster without a 区域管理员 queues nothing and reads no figure.
Keys are `district-digest:{date}:staff:{id}:{channel}`, so a second run of the same day sends
nothing.
"""

from __future__ import annotations

import logging

from handlers.district import district_chart, district_digest_text
from handlers.i18n import Translator, translator
from handlers.types import Attachment, Reply
from models.accounts.tables import PersonKind
from models.district.report import district_report
from models.roster.queries import accounts_of, staff_with_role
from models.roster.tables import StaffRole
from models.school.calendar_store import stored_calendar
from scheduler.base import Job, JobContext, daily_at

log = logging.getLogger(__name__)

KIND = "district_digest"


def district_key(jc: JobContext) -> str:
    """`district-digest:{date}`: the slot's day (a slot caught up later is still that day's)."""
    return f"district-digest:{jc.slot_day.isoformat()}"


async def send_district_digest(jc: JobContext) -> int:
    """Queue this morning's district digest for every 区域管理员; returns the rows queued."""
    school_id = jc.school.id or 0
    admins = await staff_with_role(session=jc.session, school_id=school_id, role=StaffRole.DISTRICT)
    ids = [a.id for a in admins if a.id is not None]
    if not ids:
        return 0
    day = jc.slot_day
    calendar = await stored_calendar(session=jc.session, school_id=school_id)
    if not calendar.rules.is_school_day(day):
        log.info("district digest: %s is no school day; nothing queued", day.isoformat())
        return 0
    accounts = await accounts_of(session=jc.session, kind=PersonKind.STAFF, person_ids=ids)
    if not accounts:
        log.info("district digest: no 区域管理员 has a bound account; nothing queued")
        return 0
    report = await district_report(jc.session, today=day, now=jc.now, rules=jc.rules)
    charts: dict[str, Attachment | None] = {}
    for language in sorted({a.language for a in accounts}):
        t = translator(language)
        charts[t.language] = await district_chart(jc.session, report, t)

    def render(t: Translator) -> Reply:
        # The outbox row keeps the chart's media key only; the delivery worker reads the bytes.
        return Reply(district_digest_text(t, report), image=charts.get(t.language))

    notified = await jc.notify(
        [(PersonKind.STAFF, i) for i in ids],
        key=district_key(jc),
        kind=KIND,
        render=render,
    )
    if notified.unreachable:
        log.info("district digest: %d 区域管理员 have no bound account", len(notified.unreachable))
    return notified.queued


DISTRICT_DIGEST = Job(
    name="district_digest",
    func=send_district_digest,
    schedule=daily_at(lambda rules: rules.digest_time),
    describe="区域家访合规日报：每个上课日早上把各校合规统计和对比图发给区域管理员（仅统计数字）",
)
