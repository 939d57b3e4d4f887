"""Who each user is and where their conversation stands: read from the database, and kept in
memory between their updates.

A teacher logging a visit sends fourteen updates in a minute or two; reading their account, the
person behind it and their conversation again for each one is most of what an update costs. So
after each update the dispatcher handled, the store keeps that `Snapshot`, and the next update of
the conversation reads nothing before its step.

What makes a kept copy stale, and what happens then:
- **The conversation** is written only through a `UserTurn` (`save`, `drop`), which the store
  keeps once the update has committed. A copy that is out of date anyway (another process, a
  row swept as idle) is caught at the next write, which is version-checked, or when a button is
  about to be refused as not offered: either raises `models.conversations.store.
  StaleConversation`, and the dispatcher forgets the copy and handles the update again.
- **The account and the person** change with a binding, a language choice or a roster import.
  The code that binds or changes an account calls `forget` (through `Context.account_changed`),
  and an update during which anything was forgotten keeps nothing; a roster import (another
  process) is seen within `ttl` seconds, as the school itself is.
- **No conversation** is never kept as such: another process may open one at any moment (the
  user's next update may go to another worker, `bot run --workers N`), and an update read on a
  copy that shows none would change nothing that a version check could refuse — a typed answer
  to that other process's question would be taken for free text and lost. So only users in a
  flow are kept; the first update of a flow reads the user, the rest of it does not.
- Only bound users are kept, and at most `limit` of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from models.conversations.store import (
    ConversationState,
    Snapshot,
    StaleConversation,
    drop_conversation,
    load_snapshot,
    store_conversation,
)
from models.db.update_tx import UpdateTx

#: How long the account and the person are trusted without reading them again.
DEFAULT_TTL_SECONDS = 60.0
#: Users kept at most (a school's staff and guardians fit many times over).
DEFAULT_LIMIT = 20_000

Key = tuple[str, str]


@dataclass
class UserTurn:
    """One update's view of its user: who they are, and their conversation as the update
    moves it on (in the update's transaction)."""

    tx: UpdateTx
    school_id: int
    channel: str
    user_id: str
    snapshot: Snapshot
    conversation: ConversationState | None
    #: The snapshot is the copy kept from the user's last update, not read in this transaction.
    kept: bool
    #: When its account and person were read (`time.monotonic` of the store).
    read_at: float | None
    #: The store's count of forgets when the turn began.
    forgets: int

    def refusing_a_button(self) -> None:
        """A button is about to be refused as not offered: if that was judged on the kept copy,
        which may be out of date, the update is handled again on what the database says."""
        if self.kept:
            raise StaleConversation()

    async def save(
        self,
        *,
        chat_id: str,
        flow: str,
        state: str,
        draft: dict[str, Any],
        choices: list[list[str]],
        now: datetime,
    ) -> None:
        """Put the user at `state` of `flow` (version-checked: `StaleConversation`)."""
        self.conversation = await store_conversation(
            tx=self.tx,
            existing=self.conversation,
            school_id=self.school_id,
            channel=self.channel,
            external_id=self.user_id,
            chat_id=chat_id,
            flow=flow,
            state=state,
            draft=draft,
            choices=choices,
            now=now,
        )

    async def drop(self) -> None:
        """End the user's conversation, if any."""
        if self.conversation is not None:
            await drop_conversation(tx=self.tx, conversation=self.conversation)
            self.conversation = None


class ConversationStore:
    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        limit: int = DEFAULT_LIMIT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self._monotonic = monotonic
        #: (channel, user) → (when the account and person were read, the snapshot).
        self._entries: dict[Key, tuple[float, Snapshot]] = {}
        self._forgets = 0

    async def load(
        self, tx: UpdateTx, school_id: int, channel: str, user_id: str, *, fresh: bool
    ) -> UserTurn:
        """The user's turn with `school_id`'s bot in `tx`: from the kept copy, unless `fresh`
        or none is kept (a store serves one school's dispatcher)."""
        snapshot = None if fresh else self.get(channel, user_id)
        if snapshot is not None:
            read_at = self._entries[(channel, user_id)][0]
            return UserTurn(
                tx,
                school_id,
                channel,
                user_id,
                snapshot,
                snapshot.conversation,
                True,
                read_at,
                self._forgets,
            )
        snapshot = await load_snapshot(
            tx=tx, school_id=school_id, channel=channel, external_id=user_id
        )
        return self.begin(tx, school_id, channel, user_id, snapshot)

    def begin(
        self, tx: UpdateTx, school_id: int, channel: str, user_id: str, snapshot: Snapshot
    ) -> UserTurn:
        """The user's turn in `tx`, from a snapshot just read."""
        return UserTurn(
            tx,
            school_id,
            channel,
            user_id,
            snapshot,
            snapshot.conversation,
            False,
            None,
            self._forgets,
        )

    def keep(self, turn: UserTurn) -> None:
        """Keep the turn's user once its update has committed, with the conversation as it
        now stands; nothing is kept if anything was forgotten meanwhile."""
        key = (turn.channel, turn.user_id)
        if (
            turn.snapshot.account is None
            or turn.conversation is None
            or self._forgets != turn.forgets
        ):
            self._entries.pop(key, None)
            return
        if len(self._entries) >= self.limit and key not in self._entries:
            self._entries.clear()
        stamp = self._monotonic() if turn.read_at is None else turn.read_at
        self._entries[key] = (stamp, replace(turn.snapshot, conversation=turn.conversation))

    def get(self, channel: str, user_id: str) -> Snapshot | None:
        """The kept copy of the user, if it is still within its `ttl`."""
        entry = self._entries.get((channel, user_id))
        if entry is None:
            return None
        read_at, snapshot = entry
        if self._monotonic() - read_at >= self.ttl:
            del self._entries[(channel, user_id)]
            return None
        return snapshot

    def forget(self, channel: str, user_id: str) -> None:
        """Read the user afresh next time (their account changed, or their copy is stale)."""
        self._forgets += 1
        self._entries.pop((channel, user_id), None)

    def clear(self) -> None:
        self._forgets += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
