"""德育处's daily digest (`daily_digest`, at `rules.digest_time`, 07:30 by default).

Every 德育处 admin gets the digest on each account they have bound, in that account's language,
with the chart. The principal is not sent it every morning (the regime makes 德育处 its
recipient); they, like any admin, can ask for it with /digest. Keys are
`daily-digest:{date}:staff:{id}:{channel}`, so a second run of the same day sends nothing.
"""

from __future__ import annotations

import logging

from handlers.digest import chart_attachment, digest_text
from handlers.i18n import Translator, translator
from handlers.types import Attachment, Reply
from models.accounts.tables import PersonKind
from models.digest.queries import gather_digest
from models.roster.queries import accounts_of, staff_with_role
from models.roster.tables import StaffRole
from scheduler.base import Job, JobContext, daily_at

log = logging.getLogger(__name__)

KIND = "daily_digest"


def digest_key(jc: JobContext) -> str:
    """`daily-digest:{date}`: the slot's day (a slot caught up later is still that day's)."""
    return f"daily-digest:{jc.slot_day.isoformat()}"


async def send_daily_digest(jc: JobContext) -> int:
    """Queue today's digest for every 德育处 admin; returns the rows queued."""
    school_id = jc.school.id or 0
    admins = await staff_with_role(session=jc.session, school_id=school_id, role=StaffRole.ADMIN)
    ids = [a.id for a in admins if a.id is not None]
    accounts = await accounts_of(session=jc.session, kind=PersonKind.STAFF, person_ids=ids)
    if not accounts:
        log.info("daily digest: no 德育处 admin has a bound account; nothing queued")
        return 0
    figures = await gather_digest(
        session=jc.session,
        school_id=school_id,
        school_name=jc.school.name,
        now=jc.now,
        zone=jc.zone,
        rules=jc.rules,
    )
    charts: dict[str, Attachment | None] = {}
    for language in sorted({a.language for a in accounts}):
        t = translator(language)
        charts[t.language] = await chart_attachment(
            session=jc.session, figures=figures, school_id=school_id, t=t
        )

    def render(t: Translator) -> Reply:
        # The outbox row keeps the chart's media key only; the delivery worker reads the bytes.
        return Reply(digest_text(figures, t, jc.zone), image=charts.get(t.language))

    notified = await jc.notify(
        [(PersonKind.STAFF, i) for i in ids],
        key=digest_key(jc),
        kind=KIND,
        render=render,
    )
    if notified.unreachable:
        log.info("daily digest: %d admin(s) have no bound account", len(notified.unreachable))
    return notified.queued


DAILY_DIGEST = Job(
    name="daily_digest",
    func=send_daily_digest,
    schedule=daily_at(lambda rules: rules.digest_time),
    describe="德育处家访日报：异常情况、昨日家访、本月各班进度和图表",
)
