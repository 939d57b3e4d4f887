"""The pure rules of parent meetings: the announcing notice's title and receipt deadline, the
times a meeting may have, and the semester-midpoint check (DOMAIN.md: two parent meetings per
semester per class, one committee meeting per semester, with minutes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from models.meetings.tables import MeetingKind
from models.notices.tables import TITLE_MAX
from models.roster.tables import Guardian

#: A meeting further ahead than this is taken for a mistyped year (as a notice's times).
MAX_AHEAD = timedelta(days=183)
#: The families answer by this time on the day before the meeting.
ANSWER_BY = time(18, 0)


class TimeProblem(StrEnum):
    PAST = "past"
    TOO_FAR = "too_far"


def time_problem(starts_at: datetime, *, now: datetime) -> TimeProblem | None:
    """Why a meeting cannot start then (None: it can): not in the past, not half a year ahead."""
    if starts_at <= now:
        return TimeProblem.PAST
    if starts_at > now + MAX_AHEAD:
        return TimeProblem.TOO_FAR
    return None


def receipt_deadline(starts_at: datetime, *, now: datetime, zone: ZoneInfo) -> datetime:
    """When the families' answers are due: 18:00 on the day before the meeting; the meeting's
    own start when that has already passed (a meeting planned for today or tomorrow morning)."""
    day_before = starts_at.astimezone(zone).date() - timedelta(days=1)
    deadline = datetime.combine(day_before, ANSWER_BY, tzinfo=zone)
    return deadline if deadline > now else starts_at


def meeting_title(audience: str, starts_at: datetime, place: str, *, zone: ZoneInfo) -> str:
    """`三(2)班家长会：12月18日 15:30 · 三楼会议室`, cut to a notice title's length (`audience`
    is `三(2)班家长会`, `家长委员会会议` …)."""
    local = starts_at.astimezone(zone)
    title = f"{audience}：{local.month}月{local.day}日 {local:%H:%M} · {place}"
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def classes_short(class_ids: Iterable[int], planned: Mapping[int, int], required: int) -> list[int]:
    """The classes with fewer than `required` meetings planned (`planned`: class id → count)."""
    return [c for c in class_ids if planned.get(c, 0) < required]


def check_due(today: date, midpoint: date, semester_end: date) -> bool:
    """Whether the midpoint check runs today: from the midpoint to the semester's end (the
    first run on or after the midpoint does it; the outbox keys keep it once a semester)."""
    return midpoint <= today <= semester_end


def audience_label(kind: MeetingKind, class_name: str | None) -> str:
    """What the title calls the meeting (the title is stored once, in Chinese, as notices')."""
    if kind is MeetingKind.CLASS:
        return f"{class_name}家长会"
    if kind is MeetingKind.COMMITTEE:
        return "家长委员会会议"
    return "全校家长会"


def matching_guardians(guardians: Sequence[Guardian], hint: str | None) -> list[Guardian]:
    """The guardians a hint names (`--guardian` on the command line): every one without a hint,
    else those of that name or whose phone number ends in those digits (手机号后四位)."""
    wanted = (hint or "").strip()
    if not wanted:
        return list(guardians)
    by_name = [g for g in guardians if g.name == wanted]
    if by_name:
        return by_name
    if wanted.isdigit():
        return [g for g in guardians if g.phone.endswith(wanted)]
    return []
