"""Quiet hours and the school's configurable rules."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from models.school.rules import SchoolRules, in_quiet_hours, next_waking_moment

ZONE = ZoneInfo("Asia/Shanghai")


def _local(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (6, 59, True), (7, 0, False)],
)
def test_quiet_hours_run_from_nine_in_the_evening_to_seven_in_the_morning(
    hour: int, minute: int, quiet: bool
) -> None:
    assert in_quiet_hours(_local(hour, minute), zone=ZONE) is quiet


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (_local(12), _local(12)),
        (_local(22), _local(7, day=24)),
        (_local(3), _local(7)),
    ],
)
def test_a_message_in_quiet_hours_waits_for_the_morning(
    moment: datetime, expected: datetime
) -> None:
    assert next_waking_moment(moment.astimezone(UTC), zone=ZONE) == expected


def test_quiet_hours_inside_one_day_and_none_at_all_are_understood() -> None:
    afternoon = SchoolRules(quiet_start=time(12), quiet_end=time(14))
    assert in_quiet_hours(_local(13), zone=ZONE, rules=afternoon)
    assert not in_quiet_hours(_local(15), zone=ZONE, rules=afternoon)
    never = SchoolRules(quiet_start=time(0), quiet_end=time(0))
    assert not in_quiet_hours(_local(3), zone=ZONE, rules=never)


def test_a_school_changes_its_rules_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RULES__QUIET_START", "22:30")
    monkeypatch.setenv("RULES__DUTY_DUE_HOURS", "12")
    rules = Settings(_env_file=None).rules
    assert rules.quiet_start == time(22, 30)
    assert rules.duty_due_hours == 12
    assert rules.ack_timeout_minutes == 10


def test_the_routine_forms_are_a_setting_and_a_wrong_form_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).rules.routine_forms == ("home",)
    monkeypatch.setenv("RULES__ROUTINE_FORMS", '["home", "parent_came"]')
    assert Settings(_env_file=None).rules.routine_forms == ("home", "parent_came")
    monkeypatch.setenv("RULES__ROUTINE_FORMS", '["home", "visit"]')
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
