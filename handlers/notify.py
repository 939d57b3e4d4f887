"""Queue one message for several people, on every account each has bound: one query for the
accounts and one INSERT for the rows (`enqueue_many`), however many people.

Used by jobs and flows that alert others (德育处, head teachers, guardians). Each row's key is
`{key}:{person kind}:{person id}:{channel}`, so enqueueing the same thing twice keeps one row.
The reply is built per recipient's language. `all_notified` tells, before the work of building a
message, that queueing it again would add nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.i18n import Translator, translator
from handlers.types import Reply
from models.accounts.tables import ChannelAccount, PersonKind
from models.outbox.keys import keyed_under
from models.outbox.tables import OutboxMessage, Outgoing, enqueue_many

Render = Callable[[Translator], Reply]


@dataclass
class Notified:
    #: Rows added (0 when every key already existed).
    queued: int = 0
    #: The people with no bound account (nothing could be queued for them).
    unreachable: list[tuple[PersonKind, int]] = field(default_factory=list)


def account_key(key: str, person: tuple[PersonKind, int], channel: str) -> str:
    """The row's key for one of `person`'s accounts."""
    return f"{key}:{person[0].value}:{person[1]}:{channel}"


async def notify_people(
    *,
    session: AsyncSession,
    school_id: int,
    people: Iterable[tuple[PersonKind, int]],
    key: str,
    kind: str,
    render: Render,
    due_at: datetime,
) -> Notified:
    return await notify_each(
        session=session,
        school_id=school_id,
        messages={person: render for person in people},
        key=key,
        kind=kind,
        due_at=due_at,
    )


async def notify_each(
    *,
    session: AsyncSession,
    school_id: int,
    messages: Mapping[tuple[PersonKind, int], Render],
    key: str,
    kind: str,
    due_at: datetime,
) -> Notified:
    """Like `notify_people`, with each person's own message (a reminder with their numbers)."""
    items = [(person, key, render) for person, render in messages.items()]
    return await notify_keyed(
        session=session, school_id=school_id, items=items, kind=kind, due_at=due_at
    )


async def notify_keyed(
    *,
    session: AsyncSession,
    school_id: int,
    items: Sequence[tuple[tuple[PersonKind, int], str, Render]],
    kind: str,
    due_at: datetime,
) -> Notified:
    """Queue `(person, key, render)` items, each with a key of its own: one account read."""
    result = Notified()
    if not items:
        return result
    missing: set[tuple[PersonKind, int]] = set()
    ids = {person[1] for person, _, _ in items}
    query = select(ChannelAccount).where(
        ChannelAccount.school_id == school_id, col(ChannelAccount.person_id).in_(ids)
    )
    accounts: dict[tuple[PersonKind, int], list[ChannelAccount]] = {}
    for account in (await session.exec(query)).all():
        accounts.setdefault((account.person_kind, account.person_id), []).append(account)
    outgoing: list[Outgoing] = []
    for person, key, render in items:
        bound = sorted(accounts.get(person, []), key=lambda a: a.id or 0)
        if not bound and person not in missing:
            missing.add(person)
            result.unreachable.append(person)
        outgoing += [
            Outgoing(
                key=account_key(key, person, account.channel),
                channel=account.channel,
                chat_id=account.chat_id,
                payload=render(translator(account.language)).to_dict(),
            )
            for account in bound
        ]
    result.queued = await enqueue_many(
        session=session, school_id=school_id, messages=outgoing, kind=kind, due_at=due_at
    )
    return result


async def all_notified(
    *,
    session: AsyncSession,
    school_id: int,
    people: Iterable[tuple[PersonKind, int]],
    key: str,
    kind: str,
) -> bool:
    """Whether notifying `people` under `key` would queue nothing, because every account they
    have bound has its `kind` row already (and there is one at least): a job may stop before
    building the message. One statement when nothing was queued under `key` yet, two else."""
    queued = await session.exec(
        select(OutboxMessage.key).where(
            col(OutboxMessage.kind) == kind, keyed_under(school_id, f"{key}:")
        )
    )
    keys = set(queued.all())
    if not keys:
        return False
    wanted = set(people)
    query = select(ChannelAccount).where(
        ChannelAccount.school_id == school_id,
        col(ChannelAccount.person_id).in_({person[1] for person in wanted}),
    )
    accounts = [
        account
        for account in (await session.exec(query)).all()
        if (account.person_kind, account.person_id) in wanted
    ]
    return all(
        account_key(key, (account.person_kind, account.person_id), account.channel) in keys
        for account in accounts
    )
