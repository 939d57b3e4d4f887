"""A survey's charts: one PNG per question with options (free texts have none).

`chart_specs` turns `models.surveys.results.SurveyResults` into what the charts show (numbers
and translated words, never a family); `handlers.surveys.chart_drawing` draws them with
matplotlib and the digest's CJK font. As the digest's chart (`handlers.chart_process`), the bot
has them drawn in a child process, one for all of a survey's charts, so matplotlib never stays
in the bot's memory and the event loop only awaits a pipe; `survey_charts` draws in this
process (the tests).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys

from handlers.i18n import Translator
from handlers.surveys.chart_drawing import QuestionChart, draw
from models.surveys.results import Distribution, QuestionResult, SurveyResults
from models.surveys.tables import QuestionKind

log = logging.getLogger(__name__)

#: Charts not drawn within this many seconds are given up (the results go without them).
CHART_TIMEOUT_SECONDS = 90.0
#: The module the child runs.
CHART_MODULE = "handlers.surveys.chart_drawing"
#: A title longer than this is cut with an ellipsis.
TITLE_LIMIT = 60


def option_label(question: QuestionResult, value: str, t: Translator) -> str:
    """An option as shown: the built-in words translated, a choice question's as written."""
    return value if question.kind is QuestionKind.CHOICE else t._(value)


def _title(question: QuestionResult, t: Translator) -> str:
    prompt = question.prompt.strip()
    if len(prompt) > TITLE_LIMIT:
        prompt = prompt[: TITLE_LIMIT - 1] + "…"
    return t._("第{position}题 {prompt}").format(position=question.position, prompt=prompt)


def question_chart(question: QuestionResult, t: Translator) -> QuestionChart | None:
    """The chart of one question: 全校, then (a named form) each group; None for free text or a
    question nobody answered."""
    if question.school is None or question.school.answered == 0:
        return None
    options = [value for value, _count in question.school.counts]
    rows: list[tuple[str, Distribution]] = [(t._("全校"), question.school)]
    rows += [(t._(group.name), shown) for group, shown in question.by_group]
    return QuestionChart(
        title=_title(question, t),
        rows=tuple(name for name, _shown in rows),
        options=tuple(option_label(question, value, t) for value in options),
        counts=tuple(tuple(shown.count(value) for value in options) for _name, shown in rows),
        notes=tuple(f"n={shown.answered}" for _name, shown in rows),
        x_label=t._("占作答家庭的比例（%）"),
    )


def chart_specs(results: SurveyResults, t: Translator) -> list[QuestionChart]:
    """The charts of the survey's questions with options, in order (none while withheld)."""
    found = (question_chart(q, t) for q in results.questions)
    return [spec for spec in found if spec is not None]


def survey_charts(results: SurveyResults, t: Translator) -> list[bytes | None]:
    """The charts' PNGs drawn in this process (None where no CJK font is found)."""
    return [draw(spec) for spec in chart_specs(results, t)]


async def draw_survey_charts(specs: list[QuestionChart]) -> list[bytes | None]:
    """The PNGs of `specs`, drawn in one child process; all None when the child failed or took
    too long (logged without the charts' words)."""
    if not specs:
        return []
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CHART_MODULE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    nothing: list[bytes | None] = [None] * len(specs)
    try:
        out, _ = await asyncio.wait_for(
            child.communicate(pickle.dumps(specs)), CHART_TIMEOUT_SECONDS
        )
    except TimeoutError:
        child.kill()
        await child.wait()
        log.warning("survey charts: not drawn within %.0f s", CHART_TIMEOUT_SECONDS)
        return nothing
    if child.returncode != 0 or not out:
        log.warning("survey charts: the drawing process failed (status %s)", child.returncode)
        return nothing
    pngs = pickle.loads(out)  # our own child's answer
    if not isinstance(pngs, list) or len(pngs) != len(specs):
        return nothing
    return [png if isinstance(png, bytes) and png else None for png in pngs]
