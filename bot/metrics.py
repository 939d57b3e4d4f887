"""The running process's counters: things worth an operator's attention that are not errors of
one person's message (updates skipped as unreadable, messages held back by a limit).

Counters are per process and start at zero. Whoever counts also writes a WARNING line with the
running total (without personal data), so a log search finds them across restarts and workers.
"""

from __future__ import annotations

from collections import Counter

_counters: Counter[str] = Counter()


def count(name: str, by: int = 1) -> int:
    """Add `by` to the counter `name`; the new total."""
    _counters[name] += by
    return _counters[name]


def snapshot() -> dict[str, int]:
    """Every counter and its total so far."""
    return dict(_counters)
