"""The running process's counters: things worth an operator's attention that are not errors of
one person's message (updates skipped as unreadable, messages held back by a limit).

Counters are per process and start at zero; each increment is also written to the log at WARNING
with the running total, so a log search finds them across restarts and workers.
"""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger(__name__)

_counters: Counter[str] = Counter()


def count(name: str, by: int = 1) -> int:
    """Add `by` to the counter `name`; the new total."""
    _counters[name] += by
    return _counters[name]


def snapshot() -> dict[str, int]:
    """Every counter and its total so far."""
    return dict(_counters)
