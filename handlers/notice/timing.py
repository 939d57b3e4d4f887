"""The rules a notice's times must keep (pure): nothing in the past, nothing more than half a
year ahead (a mistyped year), the deadline after the publication, the display window covering
both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Field(StrEnum):
    DEADLINE = "deadline"
    PUBLISH_AT = "publish_at"
    DISPLAY = "display"


@dataclass(frozen=True)
class TimeProblem:
    #: A msgid; placeholders filled by the caller.
    code: str
    #: The answers involved: setting any of them again may fix it.
    fields: frozenset[Field]


DEADLINE_PAST = TimeProblem("deadline_past", frozenset({Field.DEADLINE}))
PUBLISH_PAST = TimeProblem("publish_past", frozenset({Field.PUBLISH_AT}))
DEADLINE_BEFORE_PUBLISH = TimeProblem(
    "deadline_before_publish", frozenset({Field.DEADLINE, Field.PUBLISH_AT})
)
DISPLAY_BEFORE_PUBLISH = TimeProblem(
    "display_before_publish", frozenset({Field.DISPLAY, Field.PUBLISH_AT})
)
DISPLAY_BEFORE_DEADLINE = TimeProblem(
    "display_before_deadline", frozenset({Field.DISPLAY, Field.DEADLINE})
)
DEADLINE_TOO_FAR = TimeProblem("deadline_too_far", frozenset({Field.DEADLINE}))
PUBLISH_TOO_FAR = TimeProblem("publish_too_far", frozenset({Field.PUBLISH_AT}))

#: A notice's deadline or publication further ahead than this is taken for a mistyped year.
MAX_AHEAD = timedelta(days=183)


def time_problems(
    *,
    now: datetime,
    zone: ZoneInfo,
    deadline: datetime | None,
    publish_at: datetime | None,
    display_until: date | None,
) -> list[TimeProblem]:
    """Every rule the given times break (None: not chosen yet, or at once for `publish_at`)."""
    found: list[TimeProblem] = []
    publish = publish_at or now
    if deadline is not None and deadline <= now:
        found.append(DEADLINE_PAST)
    if deadline is not None and deadline > now + MAX_AHEAD:
        found.append(DEADLINE_TOO_FAR)
    if publish_at is not None and publish_at <= now:
        found.append(PUBLISH_PAST)
    if publish_at is not None and publish_at > now + MAX_AHEAD:
        found.append(PUBLISH_TOO_FAR)
    if deadline is not None and publish_at is not None and deadline <= publish_at:
        found.append(DEADLINE_BEFORE_PUBLISH)
    if display_until is not None:
        if display_until < publish.astimezone(zone).date():
            found.append(DISPLAY_BEFORE_PUBLISH)
        if deadline is not None and display_until < deadline.astimezone(zone).date():
            found.append(DISPLAY_BEFORE_DEADLINE)
    return found


def problems_with(field: Field, found: list[TimeProblem]) -> list[TimeProblem]:
    return [p for p in found if field in p.fields]
