"""Drawing the digest's chart (and any bar-per-class `ChartSpec`: the 大走访's 入户率,
`draw_in_child`) in a child process kept warm while draws keep coming.

matplotlib and the CJK font take their memory once a chart is drawn (a drawing process holds
about 110 MB: `benchmarks/charts.py`), and a process keeps it for good: for charts drawn in the
morning (and on `/digest`), the bot would carry it all day. So the charts are drawn by
`python -m handlers.chart_drawing` in a child process: the bot's own memory stays where the
conversations need it, the event loop only awaits a pipe, and a chart that fails or hangs costs
the digest its picture, never the bot. The child imports matplotlib and the font alone (the
words arrive translated in a `ChartSpec`).

Starting the child costs 0.4–0.9 s (Python, matplotlib, the font), and a process of every school
(`bot run --all-schools`) draws a hundred morning digests within a minute or two; so a child
answers one request after another on its pipes (`handlers.chart_drawing.serve`) and exits by
itself after `IDLE_SECONDS` without one, its memory with it. At most `AT_ONCE` children draw at
a time in a process (the others wait their turn; a hundred children at once would take about
11 GB and gain nothing on the machine's cores), so at most `AT_ONCE` are alive. The turn is
waited for within the chart's time limit; a child that outlives it is killed and the next draw
starts a fresh one; a child found gone (idle, killed, crashed) is replaced before the request is
lost. The children of an event loop end with it: `close_children` once the bot's jobs have
stopped (`bot.runner`), or the end of `asyncio.run`, which cancels the task that keeps them; and
a child whose parent is gone reads the end of its stdin and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import sys
import weakref
from asyncio.subprocess import Process

from handlers.chart import chart_spec
from handlers.chart_drawing import ANSWER, DRAWN, REQUEST, ChartSpec, GroupedChartSpec
from handlers.i18n import Translator
from models.db.turns import Turns
from models.digest.queries import DigestFigures

log = logging.getLogger(__name__)

#: A chart not drawn within this many seconds is given up (the digest goes without it).
CHART_TIMEOUT_SECONDS = 60.0
#: The module the child runs (`handlers.chart_drawing`'s `main`).
CHART_MODULE = "handlers.chart_drawing"
#: Children drawing at the same time in one process (each about 110 MB and a core, briefly).
AT_ONCE = 2
#: A child exits after this many seconds without a request.
IDLE_SECONDS = 30.0

_turn = Turns(AT_ONCE)


async def draw_completion_chart(figures: DigestFigures, t: Translator) -> bytes | None:
    """The PNG of `handlers.chart.completion_chart`, drawn in a child process; None when there
    is nothing to draw, no CJK font, or the child failed (logged by its exit status only)."""
    spec = chart_spec(figures, t)
    if spec is None:
        return None
    return await draw_in_child(spec, what="digest chart")


async def draw_in_child(spec: ChartSpec | GroupedChartSpec, *, what: str) -> bytes | None:
    """The PNG of a bar-per-class `ChartSpec` (the digest's, the campaign's coverage) or a
    `GroupedChartSpec` (the district view's rates per school), drawn
    in a child process; None without a CJK font or when the child failed or took too long
    (logged as `what`, without the chart's words)."""
    try:
        async with asyncio.timeout(CHART_TIMEOUT_SECONDS), _turn():
            return await _draw(pickle.dumps(spec), what)
    except TimeoutError:
        log.warning("%s: not drawn within %.0f s; sent without it", what, CHART_TIMEOUT_SECONDS)
        return None


async def close_children() -> None:
    """End the running event loop's children that wait for a request (the bot's shutdown, once
    nothing draws any more). A draw after it starts a fresh child."""
    children = _by_loop.pop(asyncio.get_running_loop(), None)
    if children is not None:
        children.keeper.cancel()
        await asyncio.wait([children.keeper])


async def _draw(request: bytes, what: str) -> bytes | None:
    child = _children().take()
    reused = child is not None
    try:
        if child is None:
            child = await _start()
        answer = await _ask(child, request)
        if answer is None and reused:  # it was gone (idle, killed) before it read the request
            await child.wait()
            child = await _start()
            answer = await _ask(child, request)
        if answer is None:
            log.warning("%s: the drawing process failed (status %s)", what, await child.wait())
            return None
    except BaseException:  # the time limit (cancelled): the child goes with it
        if child is not None:
            await _end(child)
        raise
    _children().waiting.append(child)
    status, png = answer
    if status != DRAWN:
        log.warning("%s: the drawing failed", what)
        return None
    return png or None


async def _start() -> Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CHART_MODULE,
        str(IDLE_SECONDS),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _ask(child: Process, request: bytes) -> tuple[bytes, bytes] | None:
    """The child's answer to `request` (its status and PNG); None when the child ended first."""
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(REQUEST.pack(len(request)) + request)
        await child.stdin.drain()
        status, size = ANSWER.unpack(await child.stdout.readexactly(ANSWER.size))
        return status, await child.stdout.readexactly(size)
    except (ConnectionError, asyncio.IncompleteReadError):
        return None


async def _end(child: Process) -> None:
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
    await child.wait()


class _Children:
    """An event loop's children waiting for a request, and the task that keeps them: it ends
    them when cancelled (`close_children`, or the loop shutting down)."""

    def __init__(self) -> None:
        self.waiting: list[Process] = []
        self.keeper = asyncio.create_task(self._keep(), name="chart-children")

    def take(self) -> Process | None:
        """The child that waited least (the others may go idle), None when none is left."""
        while self.waiting:
            child = self.waiting.pop()
            if child.returncode is None:
                return child
        return None

    async def _keep(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            if _by_loop.get(asyncio.get_running_loop()) is self:
                del _by_loop[asyncio.get_running_loop()]
            await asyncio.gather(*(_end(child) for child in self.waiting))
            self.waiting.clear()


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Children] = (
    weakref.WeakKeyDictionary()
)


def _children() -> _Children:
    loop = asyncio.get_running_loop()
    children = _by_loop.get(loop)
    if children is None:
        children = _by_loop[loop] = _Children()
    return children
