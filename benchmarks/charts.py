"""How long the digest's chart takes through the bot's drawing children, cold and warm.

Why: a process of every school (`bot run --all-schools`) draws about a hundred morning digests
within a minute or two, each chart in a child process (`handlers.chart_process`); a fresh child
for each chart spends 0.4–0.9 s starting Python, matplotlib and the CJK font before it draws.

How: the chart of a school of 3,000 students (66 classes, Chinese names: the figures
`tests.helpers.charts.figures_with` builds, a 2,000 × 480 PNG) is drawn `--charts` times through
`handlers.chart_process.draw_in_child`, one after another: cold, the waiting children ended
before each draw (`close_children`, so each draw starts a fresh process, as before the children
were kept), then warm (the same child for every draw, its start in the first). It prints each
pass's time per chart (median, worst, first), the whole pass, the warm child's memory (VmRSS
and its peak VmHWM, from /proc) and the load average before and after; then `--burst` charts
asked for at once, as the morning asks for them (`AT_ONCE` drawn at a time).

A child keeps the frame of the last charts it drew (`handlers.chart_drawing.BACKDROPS_KEPT`:
the axes, the classes' names, the scale) and draws a chart of the same classes over it; with
`--layouts N` the charts take N schools' class layouts in turn (11 classes a grade, then 10,
9, …), so that a warm child draws some frames afresh: more layouts than it keeps, and every
chart is a frame drawn afresh.

Run it from the repository root: `python benchmarks/charts.py [--charts 100] [--cold-only |
--warm-only] [--burst 100] [--layouts 1]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/charts.py`: import the project, not benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.chart import chart_spec
from handlers.chart_drawing import BACKDROPS_KEPT, ChartSpec
from handlers.chart_process import AT_ONCE, close_children, draw_in_child
from handlers.i18n import translator
from tests.helpers.charts import child_pids, figures_with


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time the digest's chart, cold and warm")
    parser.add_argument("--charts", type=int, default=100, help="charts drawn in each pass")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cold-only", action="store_true", help="a fresh process each chart")
    which.add_argument("--warm-only", action="store_true", help="the same child for every chart")
    parser.add_argument(
        "--burst", type=int, default=100, help="charts asked for at once after the passes (0: none)"
    )
    parser.add_argument(
        "--layouts",
        type=int,
        default=1,
        choices=range(1, 11),
        help="schools' class layouts the charts take in turn (11, 10, 9, … classes a grade)",
    )
    return parser.parse_args(argv)


def load() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def memory(pid: int) -> str:
    """The process's resident memory now and at its peak, in MB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else ""
    return f"VmRSS {int(fields['VmRSS']) / 1024:.0f} MB, VmHWM {int(fields['VmHWM']) / 1024:.0f} MB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def school_specs(layouts: int) -> list[ChartSpec]:
    """A chart for each of `layouts` schools: 11 classes a grade, then 10, 9, …"""
    specs = [
        chart_spec(figures_with(6 * per_grade, per_grade=per_grade), translator("zh"))
        for per_grade in range(11, 11 - layouts, -1)
    ]
    return [spec for spec in specs if spec is not None]


async def one_pass(specs: list[ChartSpec], charts: int, *, cold: bool) -> list[float]:
    times = []
    for n in range(charts):
        if cold:
            await close_children()
        started = time.perf_counter()
        png = await draw_in_child(specs[n % len(specs)], what="benchmark chart")
        times.append(time.perf_counter() - started)
        if png is None:
            raise SystemExit("no chart drawn (no CJK font?)")
    return times


async def run(options: argparse.Namespace) -> None:
    specs = school_specs(options.layouts)
    bars = "/".join(str(len(spec.names)) for spec in specs)
    print(
        f"{options.charts} charts of {bars} bars each pass, the schools' layouts in turn "
        f"({BACKDROPS_KEPT} frames kept by a child); load before: {load()}"
    )
    passes = [("cold", True), ("warm", False)]
    if options.cold_only or options.warm_only:
        passes = [("cold", True)] if options.cold_only else [("warm", False)]
    for name, cold in passes:
        await close_children()
        started = time.perf_counter()
        times = await one_pass(specs, options.charts, cold=cold)
        whole = time.perf_counter() - started
        print(
            f"{name}: median {ms(statistics.median(times))}, worst {ms(max(times))}, first "
            f"{ms(times[0])}; {whole:.1f} s for {options.charts} (load {load()})"
        )
        if not cold:
            [pid] = child_pids()
            print(f"warm child after {options.charts} charts: {memory(pid)}")
    if options.burst > 0:
        await close_children()
        started = time.perf_counter()
        pngs = await asyncio.gather(
            *(
                draw_in_child(specs[n % len(specs)], what="benchmark chart")
                for n in range(options.burst)
            )
        )
        whole = time.perf_counter() - started
        drawn = sum(png is not None for png in pngs)
        print(
            f"burst: {options.burst} asked at once, {drawn} drawn, {AT_ONCE} at a time, in "
            f"{whole:.1f} s ({ms(whole / options.burst)} a chart; load {load()})"
        )
        for pid in sorted(child_pids()):
            print(f"  child {pid}: {memory(pid)}")
    await close_children()
    print(f"children left: {len(child_pids())}")


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse_options(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
