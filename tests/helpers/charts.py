"""A school's digest figures with as many classes as asked (the digest's chart: a bar per
class), and the drawing children of this process."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from models.digest.queries import ClassCompletion, DigestFigures

GRADES = "一二三四五六"


def figures_with(classes: int, *, per_grade: int = 3) -> DigestFigures:
    """`classes` classes, `per_grade` to a grade (66 and 11: a school of 3,000 students)."""
    rows = [
        ClassCompletion(
            f"{GRADES[i // per_grade % 6]}({i % per_grade + 1})班", "某老师", i % 12, 10
        )
        for i in range(classes)
    ]
    return DigestFigures(
        school_name="测试小学",
        today=date(2026, 11, 16),
        day=date(2026, 11, 15),
        now=datetime(2026, 11, 16, 2, 0, tzinfo=UTC),
        classes=rows,
        head_target=10,
        head_expected=5,
    )


def child_pids() -> set[int]:
    """This process's children that have not been reaped (from /proc)."""
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[1] == me:
                        found.add(int(entry))
            except OSError:
                continue
    return found
