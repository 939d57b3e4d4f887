"""Who each recent user is and where their conversation stands, kept between their updates.

A teacher logging a visit sends fourteen updates in a minute or two; reading their account, the
person behind it and their conversation again for each one is most of what an update costs. The
dispatcher keeps that `Snapshot` here after each update it handled, so the next update of a
conversation reads nothing before its step.

Why that is safe:
- **The conversation** is written only by the dispatcher, which replaces it here after each
  commit (and drops it after a rollback). A copy that is out of date anyway (another process, a
  row swept as idle) is caught at the next write, which is version-checked, or when a button is
  about to be refused as not offered: either raises `models.conversations.store.StaleConversation`,
  and the dispatcher reads afresh and handles the update again.
- **The account and the person** change with a binding, a language choice or a roster import.
  The first two pass through the dispatcher, which forgets the user then; a roster import (another
  process) is seen within `ttl` seconds, as the school itself is.
- Only bound users are kept, and at most `limit` of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from models.conversations.store import ConversationState, Snapshot

#: How long the account and the person are trusted without reading them again.
DEFAULT_TTL_SECONDS = 60.0
#: Users kept at most (a school's staff and guardians fit many times over).
DEFAULT_LIMIT = 20_000

Key = tuple[str, str]


class SnapshotCache:
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

    def get(self, channel: str, user_id: str) -> Snapshot | None:
        entry = self._entries.get((channel, user_id))
        if entry is None:
            return None
        read_at, snapshot = entry
        if self._monotonic() - read_at >= self.ttl:
            del self._entries[(channel, user_id)]
            return None
        return snapshot

    def read_at(self, channel: str, user_id: str) -> float | None:
        entry = self._entries.get((channel, user_id))
        return entry[0] if entry is not None else None

    def keep(
        self,
        channel: str,
        user_id: str,
        snapshot: Snapshot,
        conversation: ConversationState | None,
        *,
        read_at: float | None,
    ) -> None:
        """Keep `snapshot` with its conversation as it now stands. `read_at` is when its account
        and person were read (None: just now)."""
        if snapshot.account is None:
            self.forget(channel, user_id)
            return
        if len(self._entries) >= self.limit and (channel, user_id) not in self._entries:
            self._entries.clear()
        stamp = self._monotonic() if read_at is None else read_at
        self._entries[(channel, user_id)] = (stamp, replace(snapshot, conversation=conversation))

    def forget(self, channel: str, user_id: str) -> None:
        self._entries.pop((channel, user_id), None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
