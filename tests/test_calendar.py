from __future__ import annotations

from datetime import date

import pytest

from models.school.calendar import month_bounds, school_year_label, school_year_start


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (date(2026, 9, 1), date(2026, 9, 1)),
        (date(2026, 8, 31), date(2025, 9, 1)),
        (date(2026, 11, 16), date(2026, 9, 1)),
        (date(2027, 2, 28), date(2026, 9, 1)),
        (date(2027, 1, 1), date(2026, 9, 1)),
    ],
)
def test_school_year_starts_on_the_first_of_september(day: date, start: date) -> None:
    assert school_year_start(day) == start


def test_school_year_start_is_configurable() -> None:
    assert school_year_start(date(2026, 8, 20), month=8, start_day=15) == date(2026, 8, 15)
    assert school_year_start(date(2026, 8, 14), month=8, start_day=15) == date(2025, 8, 15)


def test_school_year_label_names_both_years() -> None:
    assert school_year_label(date(2027, 3, 1)) == "2026-2027学年"


@pytest.mark.parametrize(
    ("day", "bounds"),
    [
        (date(2026, 11, 16), (date(2026, 11, 1), date(2026, 12, 1))),
        (date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
        (date(2027, 2, 1), (date(2027, 2, 1), date(2027, 3, 1))),
    ],
)
def test_month_bounds_are_half_open(day: date, bounds: tuple[date, date]) -> None:
    assert month_bounds(day) == bounds
