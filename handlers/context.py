"""What a step may use besides the inbound and its draft: the session, the clock, the person."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.i18n import Translator
from handlers.types import Reply
from models.accounts.tables import ChannelAccount
from models.outbox.tables import enqueue
from models.roster.tables import Guardian, Staff
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School

T = TypeVar("T")


@dataclass
class Context:
    session: AsyncSession
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
    #: What `read_once` read in this update, by key.
    _reads: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    async def read_once(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """`read()`'s result, read at most once in this update (e.g. the classes a question and
        the check of the answer both need); the update's transaction keeps it current."""
        if key not in self._reads:
            self._reads[key] = await read()
        value: T = self._reads[key]
        return value

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
            key=key,
            kind=kind,
            channel=account.channel,
            chat_id=account.chat_id,
            payload=reply.to_dict(),
            due_at=self.now,
        )
        self.queued += added
        return added
