"""The sender's progress message while a notice goes out: ONE message that updates
(`已发送 1,200/3,000 条`) rather than silence while thousands of families are sent to.

Everything goes through the outbox. When the delivery worker has handed over the first messages
of a notice, its after-round hook (`progress_hook`, wired where the worker is built) queues one
message to each of the author's accounts, keyed `notice-progress:{notice}:account:{id}`. The
worker keeps the messenger's id of what it sent (`OutboxMessage.message_ref`); later rounds queue
edits of that message (`Reply.edit_message_id`), keyed `…:edit:{n}`, at most every
`UPDATE_EVERY` and never while the previous edit is still waiting, so edits cannot overtake each
other. The last one shows the final figures. A channel without message ids (the console) gets
the first message and, at the end, one more with the final figures.

Progress rows are due just before the notice's own messages (`published_at` less a second):
the worker takes rows in due order, so the sender's message does not wait behind thousands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import exists, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.i18n import Translator, translator
from handlers.notice.render import title_line
from handlers.types import Reply
from models.accounts.tables import ChannelAccount, PersonKind
from models.db.columns import insert_ignoring_duplicates, utcnow
from models.db.engine import Database
from models.notices.tables import Notice, NoticeStatus
from models.notices.tracking import NoticeProgress, Sending, sending_of
from models.outbox.tables import OutboxMessage, OutboxStatus, enqueue

#: Outbox kind of the progress message and its edits.
KIND = "notice_progress"
#: At most one edit this often (Telegram also allows about one message a second per chat).
UPDATE_EVERY = timedelta(seconds=5)
#: Notices published longer ago than this get no progress message any more.
FOLLOW_FOR = timedelta(days=2)
#: How much earlier than the notice's messages the progress rows are due.
AHEAD = timedelta(seconds=1)


def progress_key(notice_id: int, account_id: int) -> str:
    return f"notice-progress:{notice_id}:account:{account_id}"


def progress_text(t: Translator, notice: Notice, sending: Sending) -> str:
    _ = t._
    total = f"{sending.messages:,}"
    if sending.finished:
        lines = [
            _("{title} 已发送完毕：已发送 {sent}/{total} 条。").format(
                title=title_line(t, notice), sent=f"{sending.sent:,}", total=total
            )
        ]
    else:
        lines = [
            _("{title} 正在发送给家长：已发送 {sent}/{total} 条……").format(
                title=title_line(t, notice), sent=f"{sending.sent:,}", total=total
            )
        ]
    if sending.failed:
        lines.append(
            _("{count} 条发送失败（家长停用或屏蔽了机器人）。").format(count=f"{sending.failed:,}")
        )
    if sending.unknown:
        lines.append(
            _("{count} 条送达情况不明（已发出但没有收到回应，不会重发）。").format(
                count=f"{sending.unknown:,}"
            )
        )
    if sending.unbound:
        lines.append(_("{count} 位家长尚未绑定，收不到消息。").format(count=f"{sending.unbound:,}"))
    if sending.finished:
        lines.append(_("发送 /notices 查看回执和未确认的家庭。"))
    return "\n".join(lines)


async def _followed(session: AsyncSession, now: datetime, school_id: int | None) -> list[Notice]:
    """Notices published lately (of `school_id`; None: of every school) whose author has an
    account and whose progress is not over."""
    author_bound = exists().where(
        col(ChannelAccount.person_kind) == PersonKind.STAFF,
        col(ChannelAccount.person_id) == col(Notice.author_id),
    )
    over = exists().where(
        col(NoticeProgress.notice_id) == col(Notice.id),
        col(NoticeProgress.finished_at).is_not(None),
    )
    query = (
        select(Notice)
        .where(
            col(Notice.status).in_([NoticeStatus.PUBLISHED, NoticeStatus.ARCHIVED]),
            col(Notice.published_at) >= now - FOLLOW_FOR,
            author_bound,
            ~over,
            *([col(Notice.school_id) == school_id] if school_id is not None else []),
        )
        .order_by(col(Notice.id))
    )
    return list((await session.exec(query)).all())


async def _outbox_rows(
    session: AsyncSession, school_id: int, keys: list[str]
) -> dict[str, OutboxMessage]:
    if not keys:
        return {}
    query = select(OutboxMessage).where(
        OutboxMessage.school_id == school_id, col(OutboxMessage.key).in_(keys)
    )
    return {row.key: row for row in (await session.exec(query)).all()}


async def refresh_progress(
    *, session: AsyncSession, now: datetime, school_id: int | None = None
) -> int:
    """Start, update or finish the progress messages of notices being sent (by `school_id`'s
    bot; None: every school's); rows queued."""
    queued = 0
    for notice in await _followed(session, now, school_id):
        sending = await sending_of(session=session, notice_id=notice.id or 0)
        if sending.messages == 0 or sending.done == 0:
            continue  # nobody to send to, or the sending has not begun (quiet hours)
        queued += await _refresh_notice(session, notice, sending, now)
    return queued


async def _refresh_notice(
    session: AsyncSession, notice: Notice, sending: Sending, now: datetime
) -> int:
    notice_id = notice.id or 0
    due_at = (notice.published_at or now) - AHEAD
    accounts = (
        await session.exec(
            select(ChannelAccount)
            .where(
                ChannelAccount.person_kind == PersonKind.STAFF,
                ChannelAccount.person_id == notice.author_id,
            )
            .order_by(col(ChannelAccount.id))
        )
    ).all()
    rows = {
        p.account_id: p
        for p in (
            await session.exec(select(NoticeProgress).where(NoticeProgress.notice_id == notice_id))
        ).all()
    }
    finished_at = now if sending.finished else None
    queued = 0
    for account in accounts:
        account_id = account.id or 0
        text = progress_text(translator(account.language), notice, sending)
        progress = rows.get(account_id)
        if progress is None:
            key = progress_key(notice_id, account_id)
            table = NoticeProgress.__table__  # type: ignore[attr-defined]
            values = {
                "notice_id": notice_id,
                "account_id": account_id,
                "outbox_key": key,
                "shown_sent": sending.sent,
                "shown_at": now,
                "edits": 0,
                "finished_at": finished_at,
            }
            if await insert_ignoring_duplicates(
                session, table, values, unique=["notice_id", "account_id"]
            ):
                queued += await enqueue(
                    session=session,
                    school_id=account.school_id,
                    key=key,
                    kind=KIND,
                    channel=account.channel,
                    chat_id=account.chat_id,
                    payload=Reply(text).to_dict(),
                    due_at=due_at,
                )
            continue
        if progress.finished_at is not None:
            continue
        queued += await _update(session, account, progress, text, sending, due_at, now)
    return queued


async def _update(
    session: AsyncSession,
    account: ChannelAccount,
    progress: NoticeProgress,
    text: str,
    sending: Sending,
    due_at: datetime,
    now: datetime,
) -> int:
    """Queue an edit (or, without message ids, a final message) if the figures moved."""
    if not sending.finished and (
        sending.sent == progress.shown_sent or now - progress.shown_at < UPDATE_EVERY
    ):
        return 0
    last_edit = f"{progress.outbox_key}:edit:{progress.edits}"
    rows = await _outbox_rows(session, account.school_id, [progress.outbox_key, last_edit])
    first, previous = rows.get(progress.outbox_key), rows.get(last_edit)
    if first is None or first.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        return 0  # the first message has not gone yet: edit it once it has
    if previous is not None and previous.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        return 0  # let the previous edit land first: edits must not overtake each other
    # An edit the messenger refused (the sender deleted the message …): stop updating it.
    gave_up = previous is not None and previous.status is OutboxStatus.FAILED
    queued = 0
    edits = progress.edits
    delivered = first.status is OutboxStatus.SENT
    if delivered and first.message_ref and not gave_up:
        edits += 1
        queued = await enqueue(
            session=session,
            school_id=account.school_id,
            key=f"{progress.outbox_key}:edit:{edits}",
            kind=KIND,
            channel=account.channel,
            chat_id=account.chat_id,
            payload=Reply(text, edit_message_id=first.message_ref).to_dict(),
            due_at=due_at,
        )
    elif delivered and not first.message_ref and sending.finished:
        queued = await enqueue(
            session=session,
            school_id=account.school_id,
            key=f"{progress.outbox_key}:done",
            kind=KIND,
            channel=account.channel,
            chat_id=account.chat_id,
            payload=Reply(text).to_dict(),
            due_at=due_at,
        )
    await session.exec(
        update(NoticeProgress)
        .where(
            col(NoticeProgress.notice_id) == progress.notice_id,
            col(NoticeProgress.account_id) == progress.account_id,
        )
        .values(
            shown_sent=sending.sent,
            shown_at=now,
            edits=edits,
            finished_at=now if sending.finished or gave_up else None,
        )
    )
    return queued


def progress_hook(
    db: Database,
    clock: Callable[[], datetime] = utcnow,
    *,
    school: Callable[[], int | None] | None = None,
) -> Callable[[], Awaitable[int]]:
    """The delivery worker's `after_round`: refresh the progress messages of the notices of the
    school `school` gives when called (the worker's; None: every school's) in a transaction."""

    async def hook() -> int:
        school_id = school() if school is not None else None
        async with db.session() as session:
            return await refresh_progress(session=session, now=clock(), school_id=school_id)

    return hook
