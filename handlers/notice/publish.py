"""Publishing an approved notice: one transaction writes the receipts, the deliveries and one
outbox row per (notice, guardian, channel), each message in the guardian's language.

Called at approval (publish now), at submit (an admin's own notice) and by the job
`publish_due_notices` (`scheduler.jobs.publish_notices`) for notices whose time has come. A
meeting's notice also tells the class's subject teachers (`handlers.meetings.announce`).
Messages to parents wait for the end of quiet hours, except emergency notices.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.i18n import Translator, translator
from handlers.meetings.announce import tell_teachers
from handlers.notice.render import (
    guardian_buttons,
    guardian_files,
    guardian_text,
    title_line,
)
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import ChannelAccount, PersonKind
from models.notices.publishing import Family, Publication, publish_notice
from models.notices.queries import attachments_of
from models.notices.tables import Notice, NoticeKind
from models.school.rules import SchoolRules, next_waking_moment
from models.school.tables import School


def delivery_moment(
    notice: Notice, now: datetime, *, zone: ZoneInfo, rules: SchoolRules
) -> datetime:
    """Now for an emergency notice; otherwise now, or the end of the quiet hours."""
    if notice.kind is NoticeKind.EMERGENCY:
        return now
    return next_waking_moment(now, zone=zone, rules=rules)


async def publish(
    *,
    session: AsyncSession,
    notice_id: int,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules,
    school: School,
) -> Publication | None:
    """Publish the approved notice (see `models.notices.publishing.publish_notice`); None if it already was.
    Raises `models.notices.queries.NotApproved` for a notice nobody approved."""
    notice = await session.get(Notice, notice_id)
    if notice is None:
        return None
    attachments = await attachments_of(session=session, notice_id=notice_id)

    def render(notice: Notice, family: Family, account: ChannelAccount) -> dict[str, Any]:
        t = translator(account.language)
        text = guardian_text(
            t,
            notice,
            family.children,
            zone=zone,
            school_name=school.name,
            attachments=attachments,
        )
        reply = Reply.with_buttons(text, guardian_buttons(t, notice))
        files = guardian_files([a for a in attachments if a.channel == account.channel])
        return replace(reply, files=files).to_dict()

    publication = await publish_notice(
        session=session,
        notice_id=notice_id,
        now=now,
        due_at=delivery_moment(notice, now, zone=zone, rules=rules),
        render=render,
    )
    if publication is not None and notice.kind is NoticeKind.MEETING:
        # A class meeting's subject teachers meet the parents there: told once, now.
        publication.queued += await tell_teachers(
            session=session, notice=publication.notice, now=now, zone=zone, rules=rules
        )
    return publication


async def publish_now(ctx: Context, notice_id: int) -> Publication | None:
    """`publish` from a conversation (approval, an admin's own notice), counting the rows queued
    in this update's."""
    publication = await publish(
        session=ctx.session,
        notice_id=notice_id,
        now=ctx.now,
        zone=ctx.zone,
        rules=ctx.rules,
        school=ctx.school,
    )
    ctx.queued += publication.queued if publication else 0
    return publication


def publication_text(t: Translator, publication: Publication) -> str:
    """What the author (or approver) is told once a notice went out."""
    _ = t._
    lines = [
        _("{title} 已发布：{students} 名学生，{reachable} 位家长将收到消息。").format(
            title=title_line(t, publication.notice),
            students=publication.students,
            reachable=publication.reachable,
        )
    ]
    if publication.unreachable:
        lines.append(
            _(
                "另有 {count} 位家长尚未绑定，收不到消息，请电话通知（/notices 可查看名单）。"
            ).format(count=publication.unreachable)
        )
    return "\n".join(lines)


async def tell_author(*, session: AsyncSession, publication: Publication, now: datetime) -> int:
    """Queue the publication note for the notice's author; rows queued."""
    notice = publication.notice

    def render(t: Translator) -> Reply:
        return Reply(publication_text(t, publication))

    notified = await notify_people(
        session=session,
        school_id=notice.school_id,
        people=[(PersonKind.STAFF, notice.author_id)],
        key=f"notice-published:{notice.id}",
        kind="notice_published",
        render=render,
        due_at=now,
    )
    return notified.queued
