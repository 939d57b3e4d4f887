"""Turns: at most N of something at a time in a process (job runs, chart drawings), waited for
in the order asked.

An asyncio semaphore belongs to the event loop that first waits on it, so `Turns` keeps one per
running loop (the bot has one; the tests start a loop per test).
"""

from __future__ import annotations

import asyncio
import weakref


class Turns:
    """`async with turns():` — one of `at_once` turns of the running event loop."""

    def __init__(self, at_once: int) -> None:
        if at_once < 1:
            raise ValueError(f"at least one turn at a time: {at_once}")
        self.at_once = at_once
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        turns = self._by_loop.get(loop)
        if turns is None:
            turns = self._by_loop[loop] = asyncio.Semaphore(self.at_once)
        return turns
