"""Drawing the digest's chart (and any bar-per-class `ChartSpec`: the 大走访's 入户率,
`draw_in_child`) in a child process.

matplotlib and the CJK font take about 50 MB once a chart is drawn, and a process keeps that
memory for good: for a chart drawn once a morning (and on `/digest`), the bot would carry it all
day. So the chart is drawn by `python -m handlers.chart` in a child process that exits when the
PNG is written: the bot's own memory stays where the conversations need it, the event loop
only awaits a pipe, and a chart that fails or hangs costs the digest its picture, never the
bot. The child imports matplotlib and the font alone (the words arrive translated in a
`ChartSpec`); its start costs about 0.7 s on every draw.

At most `AT_ONCE` children draw at a time in a process (the others wait their turn): a process
of every school (`bot run --all-schools`) draws a hundred schools' morning digests within the
same minute, and a hundred children at once would take about 5 GB and gain nothing on the
machine's cores. The turn is waited for within the chart's time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import sys

from handlers.chart import chart_spec
from handlers.chart_drawing import ChartSpec, GroupedChartSpec
from handlers.i18n import Translator
from models.db.turns import Turns
from models.digest.queries import DigestFigures

log = logging.getLogger(__name__)

#: A chart not drawn within this many seconds is given up (the digest goes without it).
CHART_TIMEOUT_SECONDS = 60.0
#: The module the child runs (`handlers.chart_drawing`'s `main`).
CHART_MODULE = "handlers.chart_drawing"
#: Children drawing at the same time in one process (each about 50 MB and a core, briefly).
AT_ONCE = 2

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


async def _draw(request: bytes, what: str) -> bytes | None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CHART_MODULE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        png, _ = await child.communicate(request)
    except BaseException:  # the time limit (cancelled): the child goes with it
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        raise
    if child.returncode != 0:
        log.warning("%s: the drawing process failed (status %s)", what, child.returncode)
        return None
    return png or None
