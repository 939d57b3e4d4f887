"""What the bot sends obeys the permission matrix too: after a busy school day (visits, an
incident, a referral, a notice, parents' messages and feedback, the ledger, and every scheduled job
morning and evening), every message queued for a person is of a kind the matrix binds, and its
recipient's roles reach that kind's action (`handlers.permissions.OUTBOX_ACTIONS`)."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from handlers.permissions import OUTBOX_ACTIONS
from models.accounts.tables import ChannelAccount, PersonKind
from models.db.engine import Database
from models.outbox.tables import OutboxMessage
from models.permissions.matrix import Role, permits
from models.permissions.roles import roles_of
from models.roster.duties import staff_duties
from models.roster.tables import Guardian, Staff
from tests.helpers.clock import FakeClock
from tests.test_log_privacy_day import school_day


async def _roles(db: Database, account: ChannelAccount) -> frozenset[Role]:
    async with db.session() as session:
        if account.person_kind is PersonKind.STAFF:
            staff = await session.get(Staff, account.person_id)
            assert staff is not None
            return roles_of(staff, await staff_duties(session=session, staff=staff), None)
        return roles_of(None, (), await session.get(Guardian, account.person_id))


async def test_every_message_of_a_school_day_goes_to_someone_the_matrix_lets_see_it(
    db: Database, clock: FakeClock
) -> None:
    await school_day(db, clock)
    async with db.session() as session:
        rows = list((await session.exec(select(OutboxMessage))).all())
        accounts = {
            (a.channel, a.chat_id): a for a in (await session.exec(select(ChannelAccount))).all()
        }
    kinds = Counter(row.kind for row in rows)
    assert len(kinds) >= 12, kinds  # the day sends many kinds of message, not a few
    unbound = sorted(kind for kind in kinds if kind not in OUTBOX_ACTIONS)
    assert unbound == [], f"messages the permission matrix does not bind: {unbound}"
    refused = []
    for row in rows:
        account = accounts[(row.channel, row.chat_id)]
        roles = await _roles(db, account)
        if not permits(roles, OUTBOX_ACTIONS[row.kind], {}):
            refused.append((row.kind, account.person_kind.value, sorted(roles)))
    assert refused == []
