"""Clearing old drafts: a draft (`/drafts`) not touched for `RULES__DRAFT_KEEP_DAYS` days is
deleted, and its owner is told in one message through the outbox
(`您 12月1日 未完成的家访草稿（张小明）已超过 7 天，已清除。`).

Runs daily at `RULES__DRAFT_CLEANUP_TIME`. The deletion and the notes are one transaction, and
each note's key is the draft's (`draft-cleared:{id}`), so a second run sends nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from handlers.flow import Flow
from handlers.i18n import Translator, translator
from handlers.registry import all_flows
from handlers.types import Reply
from models.accounts.tables import ChannelAccount
from models.drafts.queries import older_than, remove_all
from models.drafts.tables import Draft
from models.outbox.tables import enqueue
from scheduler.base import Job, JobContext, daily_at


def cleared_text(t: Translator, draft: Draft, flow: Flow | None, days: int, jc: JobContext) -> str:
    local = draft.updated_at.astimezone(jc.zone)
    day = t._("{month}月{day}日").format(month=local.month, day=local.day)
    if flow is not None and flow.draft_noun and draft.about:
        return t._("您 {day} 未完成的{noun}草稿（{about}）已超过 {days} 天，已清除。").format(
            day=day, noun=t._(flow.draft_noun), about=draft.about, days=days
        )
    return t._("您 {day} 未完成的草稿（{label}）已超过 {days} 天，已清除。").format(
        day=day, label=draft.label, days=days
    )


async def clear_old_drafts(jc: JobContext) -> int:
    """Delete the school's drafts past the keeping time and tell each owner."""
    days = jc.rules.draft_keep_days
    old = await older_than(
        session=jc.session, school_id=jc.school.id or 0, cutoff=jc.now - timedelta(days=days)
    )
    if not old:
        return 0
    owners = {d.external_id for d in old}
    accounts = (
        await jc.session.exec(
            select(ChannelAccount).where(
                ChannelAccount.school_id == jc.school_id,
                col(ChannelAccount.external_id).in_(owners),
            )
        )
    ).all()
    language = {(a.channel, a.external_id): a.language for a in accounts}
    flows = {f.name: f for f in all_flows()}
    queued = 0
    for draft in old:
        t = translator(language.get((draft.channel, draft.external_id), "zh"))
        text = cleared_text(t, draft, flows.get(draft.flow), days, jc)
        queued += await enqueue(
            session=jc.session,
            school_id=draft.school_id,
            key=f"draft-cleared:{draft.id}",
            kind="draft_cleared",
            channel=draft.channel,
            chat_id=draft.chat_id,
            payload=Reply(text).to_dict(),
            due_at=jc.now,
        )
    await remove_all(session=jc.session, drafts=old)
    return queued


CLEAR_OLD_DRAFTS = Job(
    name="clear_old_drafts",
    func=clear_old_drafts,
    schedule=daily_at(lambda rules: rules.draft_cleanup_time),
    describe="清除超过保存期限的草稿，并告知本人",
)
