"""One-time invite codes and binding a messenger account to a person."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts.tables import ChannelAccount, Invite, PersonKind

#: No 0/O, 1/I/L: codes are read aloud and typed by hand too.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Redeemed:
    account: ChannelAccount
    #: True when this account had already redeemed this same code (a repeated /start).
    again: bool = False


async def issue_invite(
    *,
    session: AsyncSession,
    school_id: int,
    kind: PersonKind,
    person_id: int,
    now: datetime,
    ttl: timedelta,
) -> Invite:
    """The person's current unused, unexpired invite, or a new one."""
    issued = await issue_invites(
        session=session, school_id=school_id, people=[(kind, person_id)], now=now, ttl=ttl
    )
    return issued[(kind, person_id)]


async def issue_invites(
    *,
    session: AsyncSession,
    school_id: int,
    people: Sequence[tuple[PersonKind, int]],
    now: datetime,
    ttl: timedelta,
) -> dict[tuple[PersonKind, int], Invite]:
    """Each person's current unused, unexpired invite, new ones where there is none.

    Two queries for any number of people (one read, one insert), so a whole school is quick.
    """
    wanted = set(people)
    if not wanted:
        return {}
    query = select(Invite).where(
        Invite.school_id == school_id,
        col(Invite.used_at).is_(None),
        col(Invite.expires_at) > now,
        col(Invite.person_id).in_({person_id for _, person_id in wanted}),
    )
    current: dict[tuple[PersonKind, int], Invite] = {}
    for invite in (await session.exec(query.order_by(col(Invite.id)))).all():
        key = (invite.person_kind, invite.person_id)
        if key in wanted:
            current[key] = invite  # ordered by id: the newest wins
    for kind, person_id in people:
        if (kind, person_id) in current:
            continue
        invite = Invite(
            code=new_code(),
            school_id=school_id,
            person_kind=kind,
            person_id=person_id,
            created_at=now,
            expires_at=now + ttl,
        )
        session.add(invite)
        current[(kind, person_id)] = invite
    await session.flush()
    return current


async def bind_account(
    *,
    session: AsyncSession,
    channel: str,
    external_id: str,
    chat_id: str,
    school_id: int,
    kind: PersonKind,
    person_id: int,
    language: str,
    now: datetime,
) -> ChannelAccount:
    """Create or re-point the account `(channel, external_id)` in `school_id` to this person
    (the same messenger user in another school is another account, left as it is)."""
    query = select(ChannelAccount).where(
        ChannelAccount.school_id == school_id,
        ChannelAccount.channel == channel,
        ChannelAccount.external_id == external_id,
    )
    account = (await session.exec(query)).first()
    if account is None:
        account = ChannelAccount(
            channel=channel,
            external_id=external_id,
            chat_id=chat_id,
            school_id=school_id,
            person_kind=kind,
            person_id=person_id,
            language=language,
            bound_at=now,
        )
    else:
        account.chat_id = chat_id
        account.person_kind = kind
        account.person_id = person_id
        account.bound_at = now
    session.add(account)
    await session.flush()
    return account


async def redeem_invite(
    *,
    session: AsyncSession,
    code: str,
    channel: str,
    external_id: str,
    chat_id: str,
    language: str,
    now: datetime,
    school_id: int | None = None,
) -> Redeemed | InviteProblem:
    """Bind the account to the invite's person. `school_id`: the school whose bot the code was
    sent to; another school's code is unknown there (each school's bot binds its own people)."""
    code = code.strip().upper()
    invite = (await session.exec(select(Invite).where(Invite.code == code))).first()
    if invite is None or (school_id is not None and invite.school_id != school_id):
        return InviteProblem.UNKNOWN
    if invite.used_at is not None:
        if invite.used_by is not None:
            account = await session.get(ChannelAccount, invite.used_by)
            if (
                account is not None
                and account.channel == channel
                and account.external_id == external_id
                and account.person_kind == invite.person_kind
                and account.person_id == invite.person_id
            ):
                return Redeemed(account, again=True)
        return InviteProblem.USED
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    account = await bind_account(
        session=session,
        channel=channel,
        external_id=external_id,
        chat_id=chat_id,
        school_id=invite.school_id,
        kind=invite.person_kind,
        person_id=invite.person_id,
        language=language,
        now=now,
    )
    invite.used_at = now
    invite.used_by = account.id
    session.add(invite)
    return Redeemed(account)
