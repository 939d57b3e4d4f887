"""Ten thousand generated updates against the real dispatcher, and the memory it took.

    python benchmarks/fuzz.py                        # 10,000 updates on SQLite
    python benchmarks/fuzz.py --updates 2000 --seed 7
    python benchmarks/fuzz.py --database postgresql --database-url postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/fuzz.py --tracemalloc 15       # and the 15 places holding the most memory

It seeds the demo school on a scratch database (as `updates.py` does), binds staff and parents on
the console, Telegram and WeCom, publishes one notice, and hands the dispatcher the moves of
`tests/helpers/fuzz_moves.py` (the suite's fuzz test), drawn by Hypothesis from a fixed seed in a
child process, so that the memory measured here is the bot's, not Hypothesis's: commands with odd
arguments, huge numbers, impossible dates, control characters, long texts, forged and stale
buttons, contacts, photos and documents with odd metadata, from bound staff, bound parents and
strangers. It prints the updates by kind, the replies, the updates the dispatcher's last-resort
handler answered (by exception type), the updates left unanswered, the strangers' updates that
wrote something, and the peak resident memory (VmHWM) next to the goal. It exits 1 when any
update broke one of those rules.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.updates import scratch_database
from models.db.engine import Database
from tests.helpers.clock import FakeClock
from tests.helpers.fuzz_updates import (
    FailureLog,
    Move,
    Tally,
    failures_logged,
    fuzz_world,
    play,
    restore,
)

#: Monday 16 November 2026, 10:00 in Shanghai: inside the demo school's autumn semester.
MONDAY_MORNING = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
#: Updates per generated example (the world carries over from one example to the next).
BATCH = 20
#: The resident memory the bot should stay under.
GOAL_MB = 150.0


@dataclass
class Report:
    tally: Tally
    failures: FailureLog
    seconds: float


def peak_rss_mb() -> float:
    """The process's peak resident set (VmHWM), in MB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(people: int, updates: int, seed: int) -> list[list[Move]]:
    """The moves, in batches of `BATCH`, as Hypothesis draws them from `seed` (run in a child
    process: Hypothesis and its bookkeeping stay out of the measured one)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed
    from hypothesis import strategies as st

    from tests.helpers.fuzz_moves import moves

    batches: list[list[Move]] = []

    @with_seed(seed)
    @settings(
        max_examples=math.ceil(updates / BATCH),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(moves(people), min_size=BATCH, max_size=BATCH))
    def draw(generated: list[Move]) -> None:
        batches.append(generated)

    draw()
    return batches


def generated_in_child(people: int, updates: int, seed: int) -> list[list[Move]]:
    """`generate` in a child process (`--generate-to FILE`), read back here."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "moves.pickle"
        command = [sys.executable, __file__, "--generate-to", str(path), "--people", str(people)]
        command += ["--updates", str(updates), "--seed", str(seed)]
        subprocess.run(command, check=True)
        batches: list[list[Move]] = pickle.loads(path.read_bytes())  # written by our own child
        return batches


def fuzz(loop: asyncio.AbstractEventLoop, db: Database, updates: int, seed: int) -> Report:
    world = loop.run_until_complete(fuzz_world(db, FakeClock(MONDAY_MORNING)))
    tally = Tally()
    batches = generated_in_child(len(world.people), updates, seed)
    started = time.perf_counter()
    with failures_logged() as failures:
        for batch in batches:
            loop.run_until_complete(restore(world))
            for move in batch:
                if sum(tally.updates.values()) >= updates:
                    break
                loop.run_until_complete(play(world, move, tally))
    return Report(tally, failures, time.perf_counter() - started)


def run_in_scratch(database: str, url: str | None, updates: int, seed: int) -> Report:
    loop = asyncio.new_event_loop()
    try:
        scratch = scratch_database(database, url)
        database_url = loop.run_until_complete(scratch.__aenter__())
        db = Database(database_url)
        try:
            return fuzz(loop, db, updates, seed)
        finally:
            loop.run_until_complete(db.dispose())
            loop.run_until_complete(scratch.__aexit__(None, None, None))
    finally:
        loop.close()


def print_report(report: Report, top: list[tracemalloc.Statistic]) -> int:
    tally = report.tally
    total = sum(tally.updates.values())
    print(f"{total} updates in {report.seconds:.1f} s ({total / report.seconds:.0f}/s)")
    for kind, count in tally.updates.most_common():
        print(f"  {kind:<10} {count:6d}")
    print(f"replies: {tally.replies}")
    failed = sum(report.failures.failures.values())
    print(f"answered by the last-resort handler: {failed}")
    for kind, count in report.failures.failures.most_common():
        print(f"  {kind:<24} {count:6d}")
    for place, count in report.failures.places.most_common(10):
        print(f"    {count:5d}  {place}")
    print(f"unanswered: {len(tally.unanswered)}")
    for line in tally.unanswered[:5]:
        print(f"  {line}")
    print(f"strangers' updates that wrote something: {len(tally.written_by_strangers)}")
    for line in tally.written_by_strangers[:5]:
        print(f"  {line}")
    peak = peak_rss_mb()
    verdict = "met" if peak < GOAL_MB else "NOT met"
    print(f"peak RSS (VmHWM): {peak:.0f} MB (goal < {GOAL_MB:.0f} MB: {verdict})")
    for stat in top:
        print(f"  {stat.size / 1024 / 1024:6.1f} MB  {stat.traceback[0]}")
    return 1 if failed or tally.unanswered or tally.written_by_strangers else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="generated updates against the dispatcher")
    parser.add_argument("--updates", type=int, default=10_000, metavar="N")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--tracemalloc", type=int, default=0, metavar="K", help="show the K largest allocations"
    )
    parser.add_argument("--generate-to", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate_to is not None:
        batches = generate(args.people, args.updates, args.seed)
        args.generate_to.write_bytes(pickle.dumps(batches))
        return 0
    # The last-resort handler's tracebacks are counted, not printed.
    logging.getLogger("handlers.dispatcher").propagate = False
    if args.tracemalloc:
        tracemalloc.start()
    report = run_in_scratch(args.database, args.database_url, args.updates, args.seed)
    top: list[tracemalloc.Statistic] = []
    if args.tracemalloc:
        top = tracemalloc.take_snapshot().statistics("lineno")[: args.tracemalloc]
    return print_report(report, top)


if __name__ == "__main__":
    sys.exit(main())
