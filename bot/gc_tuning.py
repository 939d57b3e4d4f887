"""Garbage-collector settings for a long-running bot process.

Each update allocates many short-lived objects (SQLAlchemy rows and statements, httpx
requests, JSON); with CPython's default first-generation threshold (700 allocations) the
collector runs hundreds of times a second under load and rescans the start-up heap — the
imported libraries, the ORM's mappings — over and over. After start-up that heap is moved out
of the collector's sight (`gc.freeze`) and the young generation is collected less often. Reference
counting still frees almost everything at once; only cycles wait a little longer.
"""

from __future__ import annotations

import gc

#: Allocations between two young-generation collections (CPython's default is 700).
YOUNG_THRESHOLD = 20_000


def tune_after_startup() -> None:
    """Call once the bot is initialised (modules imported, database and channels ready)."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
