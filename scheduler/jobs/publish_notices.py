"""Publishing approved notices whose publish time has come (every minute).

Each notice is published once: `models.notices.publishing.publish_notice` moves it from approved to
published with a guarded UPDATE, so a second run (or a second process) finds nothing to do; its
outbox rows have deterministic keys (`notice:{id}:guardian:{gid}:{channel}`).
"""

from __future__ import annotations

from handlers.notice.publish import publish, tell_author
from models.notices.publishing import due_for_publication
from scheduler.base import Job, JobContext, every_minute


async def publish_due_notices(jc: JobContext) -> int:
    """Publish every approved notice due by `jc.now`; rows queued (guardians and authors)."""
    queued = 0
    school_id = jc.school.id or 0
    for notice in await due_for_publication(session=jc.session, school_id=school_id, now=jc.now):
        publication = await publish(
            session=jc.session,
            notice_id=notice.id or 0,
            now=jc.now,
            zone=jc.zone,
            rules=jc.rules,
            school=jc.school,
        )
        if publication is None:
            continue
        queued += publication.queued
        queued += await tell_author(session=jc.session, publication=publication, now=jc.now)
    return queued


PUBLISH_DUE_NOTICES = Job(
    name="publish_due_notices",
    func=publish_due_notices,
    schedule=every_minute,
    describe="发布已审批、到了发布时间的通知（生成回执并发送）",
)
