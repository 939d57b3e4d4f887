"""How long a survey's results take for 3,000 families that all answered, and how many statements.

Why: `/survey results` and `export survey` read a survey's results
(`models.surveys.results.survey_results`) for 德育处 and the principal; they must stay a fixed
number of statements whatever the number of families, classes and questions, and under 0.5 s on
SQLite for a survey of 3,000 families with every family answering every question (the charts
not counted: they are drawn in a child process afterwards).

How: the school of `benchmarks/digest.py` (3,000 students in 66 classes), each student with a
guardian of its own (3,000 households), and the school's two built-in forms. Two surveys are
sent to every family by bulk inserts and every family answers every question and submits:

* (a) the seed-003 parent form, anonymous (eight questions, one of them free text), closed as
  the closing job closes it (its answers unlinked from the families): 24,000 answers, counted
  school-wide;
* (b) the opinion-week form, named (five questions, one free text), still open: 15,000
  answers, counted per class through the families drawn.

Answers are drawn at random (a fixed seed); a fifth of the free texts are left blank. Each read
runs in a fresh session `--repeat` times; the statements of every run are counted (as
`benchmarks/ledger.py` counts them) and the median, the worst and the first are printed against
the target. With `--charts` the charts of (a) are drawn once in the child process and timed.
It exits 1 if a statement count differs from `models.surveys.results.STATEMENTS` or a count does
not add up to what was answered.

Run it from the repository root: `python benchmarks/surveys.py [--students 3000] [--repeat 20]
[--charts] [--database-url postgresql://…]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/surveys.py`: import the project
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.digest import (
    DEFAULT_TODAY,
    ZONE,
    build_school,
    counting_statements,
    scratch_database,
)
from models.db.engine import Database
from models.roster.tables import Guardian, StudentGuardian
from models.surveys.queries import detach_anonymous_answers
from models.surveys.results import STATEMENTS, SurveyResults, survey_results
from models.surveys.tables import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
    SurveyStatus,
)
from models.surveys.templates import ensure_templates, questions_of

TARGET_SECONDS = 0.5
CHUNK = 2000


@dataclass(frozen=True)
class BuiltSurvey:
    survey_id: int
    name: str
    families: int
    answers: int
    #: What was answered: (question id, value) → how many families.
    answered: Counter[tuple[int, str]]


async def _families(session: AsyncSession, school_id: int) -> list[tuple[int, int, int]]:
    """A guardian for every student: (student id, class id, guardian id)."""
    db = await session.connection()
    pupils = [
        (int(sid), int(cid))
        for sid, cid in (
            await db.execute(
                text("SELECT id, class_id FROM student WHERE school_id = :s ORDER BY id"),
                {"s": school_id},
            )
        ).all()
    ]
    rows = [
        {"school_id": school_id, "name": f"家长{n:05d}", "phone": f"139{n:08d}"}
        for n in range(len(pupils))
    ]
    for start in range(0, len(rows), CHUNK):
        await db.execute(insert(Guardian), rows[start : start + CHUNK])
    guardians = [
        int(gid)
        for (gid,) in (
            await db.execute(
                text("SELECT id FROM guardian WHERE school_id = :s ORDER BY id"), {"s": school_id}
            )
        ).all()
    ]
    links = [
        {"student_id": sid, "guardian_id": gid, "relation": "母亲", "position": 1}
        for (sid, _cid), gid in zip(pupils, guardians, strict=True)
    ]
    for start in range(0, len(links), CHUNK):
        await db.execute(insert(StudentGuardian), links[start : start + CHUNK])
    return [(sid, cid, gid) for (sid, cid), gid in zip(pupils, guardians, strict=True)]


def _value(question: SurveyQuestion, rng: random.Random, n: int) -> str:
    if question.kind is QuestionKind.TEXT:
        return "" if rng.random() < 0.2 else f"建议{n % 97}：希望学校多组织亲子活动"
    options = question.option_list()
    weights = [6, 3, 1, 1][: len(options)]
    return rng.choices(options, weights=weights)[0]


async def send_and_answer(
    session: AsyncSession,
    school_id: int,
    form: SurveyForm,
    families: list[tuple[int, int, int]],
    *,
    now: datetime,
    seed: int,
) -> BuiltSurvey:
    """A survey of `form` sent to every family, every family answering every question and
    submitting, by bulk inserts."""
    rng = random.Random(seed)
    db = await session.connection()
    survey = Survey(
        school_id=school_id,
        form_id=form.id or 0,
        share=100,
        seed=seed,
        deadline=now + timedelta(days=7),
        status=SurveyStatus.SENT,
        created_at=now - timedelta(days=3),
        sent_at=now - timedelta(days=3),
    )
    session.add(survey)
    await session.flush()
    survey_id = survey.id or 0
    recipients = [
        {
            "school_id": school_id,
            "survey_id": survey_id,
            "household": gid,
            "guardian_id": gid,
            "student_id": sid,
            "class_id": cid,
            "asked_at": now - timedelta(days=3),
            "submitted_at": now - timedelta(hours=rng.randint(1, 70)),
        }
        for sid, cid, gid in families
    ]
    for start in range(0, len(recipients), CHUNK):
        await db.execute(insert(SurveyRecipient), recipients[start : start + CHUNK])
    ids = [
        int(rid)
        for (rid,) in (
            await db.execute(
                text("SELECT id FROM survey_recipient WHERE survey_id = :s ORDER BY id"),
                {"s": survey_id},
            )
        ).all()
    ]
    questions = await questions_of(session, form.id or 0)
    answered: Counter[tuple[int, str]] = Counter()
    rows = []
    for n, recipient_id in enumerate(ids):
        for question in questions:
            value = _value(question, rng, n)
            answered[(question.id or 0, value)] += 1
            rows.append(
                {
                    "school_id": school_id,
                    "survey_id": survey_id,
                    "recipient_id": recipient_id,
                    "question_id": question.id or 0,
                    "value": value,
                    "answered_at": None if form.anonymous else now,
                }
            )
    for start in range(0, len(rows), CHUNK):
        await db.execute(insert(SurveyAnswer), rows[start : start + CHUNK])
    if form.anonymous:  # closed as the closing job closes it
        survey.status = SurveyStatus.CLOSED
        session.add(survey)
        await session.flush()
        await detach_anonymous_answers(session, survey_id)
    return BuiltSurvey(survey_id, form.name, len(ids), len(rows), answered)


def agrees(results: SurveyResults, built: BuiltSurvey) -> bool:
    """Whether every count shown is what was answered (and every family counted)."""
    if results.submitted != built.families or results.withheld is not None:
        return False
    for question in results.questions:
        if question.is_text:
            given = sum(
                n for (q, v), n in built.answered.items() if q == question.question_id and v
            )
            if len(question.texts) != given:
                return False
            continue
        assert question.school is not None
        for value, count in question.school.counts:
            if built.answered[(question.question_id, value)] != count:
                return False
        for _group, shown in question.by_group:
            if shown.answered != shown.families:
                return False
        if question.by_group and sum(d.answered for _g, d in question.by_group) != built.families:
            return False
    return True


@dataclass(frozen=True)
class Timing:
    name: str
    statements: int
    times: list[float]
    agrees: bool

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def worst(self) -> float:
        return max(self.times)

    @property
    def fixed(self) -> bool:
        return self.statements == STATEMENTS

    def render(self) -> str:
        fixed = "fixed" if self.fixed else f"NOT {STATEMENTS}"
        verdict = "met" if self.median < TARGET_SECONDS else "NOT met"
        counts = "counts agree with the answers" if self.agrees else "COUNTS DO NOT AGREE"
        return (
            f"{self.name}: {self.statements} statements ({fixed}); median "
            f"{self.median * 1000:.1f} ms, worst {self.worst * 1000:.1f} ms of {len(self.times)} "
            f"runs, first {self.times[0] * 1000:.1f} ms (target < {TARGET_SECONDS:g} s: "
            f"{verdict}); {counts}"
        )


async def time_results(
    database: Database, school_id: int, built: BuiltSurvey, name: str, repeat: int
) -> Timing:
    times: list[float] = []
    counts: set[int] = set()
    results: SurveyResults | None = None
    for _ in range(max(1, repeat)):
        async with database.session() as session:
            await session.connection()  # the transaction is open: count only the read
            with counting_statements(database) as seen:
                started = time.perf_counter()
                results = await survey_results(session, school_id, built.survey_id)
                times.append(time.perf_counter() - started)
            counts.add(len(seen))
    assert results is not None
    return Timing(name, counts.pop() if len(counts) == 1 else -1, times, agrees(results, built))


async def time_charts(database: Database, school_id: int, survey_id: int) -> str:
    from handlers.i18n import translator
    from handlers.surveys.chart import chart_specs, draw_survey_charts

    async with database.session() as session:
        results = await survey_results(session, school_id, survey_id)
    assert results is not None
    specs = chart_specs(results, translator("zh"))
    started = time.perf_counter()
    pngs = await draw_survey_charts(specs)
    took = time.perf_counter() - started
    drawn = sum(1 for png in pngs if png)
    size = sum(len(png) for png in pngs if png)
    return (
        f"charts of (a): {drawn} of {len(specs)} drawn in one child process in {took:.2f} s "
        f"({size // 1024} KB in all)"
    )


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time a survey's results for a big school")
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--teachers", type=int, default=150)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each read")
    parser.add_argument("--charts", action="store_true", help="also draw and time the charts")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Report:
    families: int
    classes: int
    surveys: list[BuiltSurvey]
    timings: list[Timing]
    charts: str | None

    @property
    def good(self) -> bool:
        return all(t.fixed and t.agrees for t in self.timings)

    def render(self) -> str:
        lines = [f"school: {self.families} families in {self.classes} classes"]
        lines += [
            f"survey #{s.survey_id} {s.name}: {s.families} families, {s.answers} answers"
            for s in self.surveys
        ]
        lines += [t.render() for t in self.timings]
        if self.charts:
            lines.append(self.charts)
        return "\n".join(lines)


async def run_benchmark(options: argparse.Namespace) -> Report:
    now = datetime.combine(options.today, clock_time(10, 0), tzinfo=ZONE).astimezone(UTC)
    async with scratch_database(options.database_url) as database:
        async with database.session() as session:
            school = await build_school(
                session, students=options.students, teachers=options.teachers, today=options.today
            )
            families = await _families(session, school.school_id)
            parent, opinion = await ensure_templates(session, school.school_id, now=now)
            anonymous = await send_and_answer(
                session, school.school_id, parent, families, now=now, seed=3
            )
            named = await send_and_answer(
                session, school.school_id, opinion, families, now=now, seed=5
            )
        timings = [
            await time_results(
                database,
                school.school_id,
                anonymous,
                "(a) anonymous, closed: school-wide",
                options.repeat,
            ),
            await time_results(
                database,
                school.school_id,
                named,
                "(b) named, open: per class and school-wide",
                options.repeat,
            ),
        ]
        charts = (
            await time_charts(database, school.school_id, anonymous.survey_id)
            if options.charts
            else None
        )
    return Report(len(families), school.classes, [anonymous, named], timings, charts)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    report = asyncio.run(run_benchmark(options))
    print(report.render())
    return 0 if report.good else 1


if __name__ == "__main__":
    sys.exit(main())
