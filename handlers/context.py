"""What a step may use besides the inbound and its draft: the update's transaction, the clock,
the person."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.conversation_store import UserTurn
from handlers.i18n import Translator
from handlers.types import Reply
from models.accounts.tables import ChannelAccount
from models.db.unchanged_reads import KeptReads
from models.db.update_tx import UpdateTx
from models.outbox.tables import enqueue
from models.roster.duties import Duty, staff_duties
from models.roster.scope import ROSTER_READS
from models.roster.tables import Guardian, Staff
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School

T = TypeVar("T")


@dataclass
class Context:
    #: The update's transaction: its session, and its caches (`cached`).
    tx: UpdateTx
    #: The moment the update is handled (timezone-aware); steps never read the clock.
    now: datetime
    school: School
    zone: ZoneInfo
    t: Translator
    channel: str
    account: ChannelAccount | None = None
    staff: Staff | None = None
    guardian: Guardian | None = None
    bot_username: str | None = None
    #: The school's configurable rules (quotas, quiet hours, deadlines).
    rules: SchoolRules = DEFAULT_RULES
    #: Messages this update queued in the outbox.
    queued: int = 0
    #: The user's conversation in this update (None outside the dispatcher).
    turn: UserTurn | None = None
    #: Called when the update changed the user's own account (a binding, a language).
    on_account_change: Callable[[], None] | None = field(default=None, repr=False)
    #: What the staff member does with students (`read_duties`), for the flows' gates.
    duties: frozenset[Duty] = frozenset()

    @property
    def session(self) -> AsyncSession:
        return self.tx.session

    async def cached(
        self, key: Hashable, loader: Callable[[], Awaitable[T]], *, kept: KeptReads | None = None
    ) -> T:
        """`loader()`'s result, read at most once in this update (e.g. the classes a question
        and the check of the answer both need); with `kept`, kept across updates too
        (`models.db.update_tx` says what makes each stale)."""
        return await self.tx.cached(key, loader, kept=kept)

    async def read_duties(self) -> None:
        """Read `duties` for the staff member (kept across updates while the roster is
        unchanged), so that a flow's synchronous gate can tell a head teacher or a coach."""
        staff = self.staff
        if staff is None:
            self.duties = frozenset()
            return

        async def read() -> frozenset[Duty]:
            return await staff_duties(session=self.session, staff=staff)

        self.duties = await self.cached(("duties", staff.id), read, kept=ROSTER_READS)

    def account_changed(self) -> None:
        """The user's own account was bound or changed: nothing kept about them is used again."""
        if self.on_account_change is not None:
            self.on_account_change()

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    @property
    def actor(self) -> str:
        if self.staff is not None:
            return f"staff:{self.staff.id}"
        if self.guardian is not None:
            return f"guardian:{self.guardian.id}"
        return f"{self.channel}:anonymous"

    async def notify(self, *, key: str, kind: str, account: ChannelAccount, reply: Reply) -> bool:
        """Queue `reply` for another person's account, in this update's transaction."""
        added = await enqueue(
            session=self.session,
            school_id=account.school_id,
            key=key,
            kind=kind,
            channel=account.channel,
            chat_id=account.chat_id,
            payload=reply.to_dict(),
            due_at=self.now,
        )
        self.queued += added
        return added
