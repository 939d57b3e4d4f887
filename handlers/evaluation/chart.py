"""A class's evaluation chart for the principal and 德育处: one PNG per class, its teachers'
scores as bars (the head teacher first) against the school's average.

`class_chart` turns the report into what the chart shows (names, scores, translated words);
`handlers.evaluation.chart_drawing` draws it. As the digest's chart (`handlers.chart_process`),
the bot has it drawn in a child process (`draw_class_chart`), so matplotlib never stays in the
bot's memory and the event loop only awaits a pipe.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys

from handlers.evaluation.chart_drawing import ClassChart
from handlers.evaluation.render import ROLE_NAMES
from handlers.i18n import Translator
from models.evaluation.queries import EvaluationReport

log = logging.getLogger(__name__)

#: A chart not drawn within this many seconds is given up (the text goes without it).
CHART_TIMEOUT_SECONDS = 60.0
CHART_MODULE = "handlers.evaluation.chart_drawing"


def class_chart(report: EvaluationReport, class_id: int, t: Translator) -> ClassChart | None:
    """The chart of the class's teachers; None for a class with no teacher evaluated."""
    klass = next((c for c in report.classes if c.id == class_id), None)
    teachers = report.of_class(class_id)
    if klass is None or not teachers:
        return None
    scored = [x.score for x in report.teachers if x.score is not None]
    average = sum(scored) / len(scored) if scored else None
    return ClassChart(
        title=t._("{klass} 教师家访工作考核得分 · {period}").format(
            klass=klass.name, period=report.period.label
        ),
        names=tuple(
            f"{x.name}\n"
            + (t._("班主任") if x.staff_id == klass.head_teacher_id else t._(ROLE_NAMES[x.role]))
            for x in teachers
        ),
        scores=tuple(x.score for x in teachers),
        notes=tuple(f"{x.score:.1f}" if x.score is not None else "—" for x in teachers),
        y_label=t._("得分"),
        average=average,
        average_label=(
            t._("全校平均 {score}").format(score=f"{average:.1f}") if average is not None else ""
        ),
    )


async def draw_class_chart(spec: ClassChart) -> bytes | None:
    """The PNG of `spec`, drawn in a child process; None when the child failed or took too
    long (logged by its exit status only), or there is no CJK font."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CHART_MODULE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        png, _ = await asyncio.wait_for(
            child.communicate(pickle.dumps(spec)), CHART_TIMEOUT_SECONDS
        )
    except TimeoutError:
        child.kill()
        await child.wait()
        log.warning("evaluation chart: not drawn within %.0f s", CHART_TIMEOUT_SECONDS)
        return None
    if child.returncode != 0:
        log.warning("evaluation chart: the drawing process failed (status %s)", child.returncode)
        return None
    return png or None
