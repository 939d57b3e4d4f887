"""Parking, listing, taking back and clearing drafts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drafts.tables import Draft

#: Drafts a person keeps at most; parking another clears the oldest.
DRAFTS_PER_PERSON = 10


async def park(*, session: AsyncSession, draft: Draft) -> Draft:
    """Keep `draft`; beyond `DRAFTS_PER_PERSON` of its owner, the oldest go."""
    session.add(draft)
    await session.flush()
    kept = await drafts_of(
        session=session,
        school_id=draft.school_id,
        channel=draft.channel,
        external_id=draft.external_id,
    )
    surplus = [d.id for d in kept[DRAFTS_PER_PERSON:]]
    if surplus:
        await session.exec(delete(Draft).where(col(Draft.id).in_(surplus)))
    return draft


async def drafts_of(
    *, session: AsyncSession, school_id: int, channel: str, external_id: str
) -> list[Draft]:
    """The drafts of the account (in `school_id`), the most recently touched first."""
    query = (
        select(Draft)
        .where(
            col(Draft.school_id) == school_id,
            col(Draft.channel) == channel,
            col(Draft.external_id) == external_id,
        )
        .order_by(col(Draft.updated_at).desc(), col(Draft.id).desc())
    )
    return list((await session.exec(query)).all())


async def draft_of(
    *, session: AsyncSession, draft_id: int, school_id: int, channel: str, external_id: str
) -> Draft | None:
    """The draft `draft_id` if it belongs to this account (a forged id finds nothing)."""
    query = select(Draft).where(
        col(Draft.id) == draft_id,
        col(Draft.school_id) == school_id,
        col(Draft.channel) == channel,
        col(Draft.external_id) == external_id,
    )
    return (await session.exec(query)).first()


async def remove(*, session: AsyncSession, draft: Draft) -> None:
    await session.exec(delete(Draft).where(col(Draft.id) == draft.id))


async def older_than(*, session: AsyncSession, school_id: int, cutoff: datetime) -> list[Draft]:
    """The school's drafts last touched before `cutoff`, oldest first."""
    query = (
        select(Draft)
        .where(col(Draft.school_id) == school_id, col(Draft.updated_at) < cutoff)
        .order_by(col(Draft.updated_at), col(Draft.id))
    )
    return list((await session.exec(query)).all())


async def remove_all(*, session: AsyncSession, drafts: Sequence[Draft]) -> None:
    ids = [d.id for d in drafts]
    if ids:
        await session.exec(delete(Draft).where(col(Draft.id).in_(ids)))
