"""Flood limits for people: the pure rule asked before a person's message is queued for another.

A guardian may ask `questions_per_notice` questions 有疑问 about one notice, every channel
together, and nobody may reach staff more than `messages_to_staff_per_hour` times in any hour
(`SchoolRules`). The same question about the same child and notice again is not forwarded a
second time. The rule is given what the sender already sent (`models.limits.queries` reads it
from the rows those messages left) and answers allowed, or refused with the reason and, for the
hourly limit, the moment the sender may write again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from models.school.rules import DEFAULT_RULES, SchoolRules

#: The hourly limit's window: a message counts until it is this old.
WINDOW = timedelta(hours=1)


class Refusal(StrEnum):
    #: The same question about the same child and notice was already forwarded.
    REPEAT = "repeat"
    #: The guardian asked `questions_per_notice` questions about this notice already.
    PER_NOTICE = "per_notice"
    #: The sender reached staff `messages_to_staff_per_hour` times in the last hour.
    HOURLY = "hourly"


@dataclass(frozen=True)
class Verdict:
    refusal: Refusal | None = None
    #: For `HOURLY`: when the oldest message counted leaves the window.
    again_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


ALLOWED = Verdict()


@dataclass(frozen=True)
class Asked:
    """One of the guardian's earlier questions about the notice: its child and text."""

    student_id: int
    text: str


def hourly_verdict(
    sent: Sequence[datetime], *, now: datetime, rules: SchoolRules = DEFAULT_RULES
) -> Verdict:
    """One more message to staff from a sender who sent at `sent` moments: allowed while fewer
    than the limit fall in the hour before `now`; refused until the oldest of the last
    `limit` leaves that hour."""
    limit = rules.messages_to_staff_per_hour
    recent = sorted(moment for moment in sent if now - WINDOW < moment <= now)
    if len(recent) < limit:
        return ALLOWED
    return Verdict(Refusal.HOURLY, again_at=recent[len(recent) - limit] + WINDOW)


def question_verdict(
    *,
    asked: Sequence[Asked],
    sent: Sequence[datetime],
    now: datetime,
    rules: SchoolRules = DEFAULT_RULES,
    text: str | None = None,
    student_id: int | None = None,
) -> Verdict:
    """One more question about a notice, from a guardian who asked `asked` about it and sent
    staff messages at `sent`; without `text` (the 有疑问 button, before anything is written),
    only the limits are checked. A repeat is told as such even beyond the limits."""
    if text is not None and any(a.student_id == student_id and a.text == text for a in asked):
        return Verdict(Refusal.REPEAT)
    if len(asked) >= rules.questions_per_notice:
        return Verdict(Refusal.PER_NOTICE)
    return hourly_verdict(sent, now=now, rules=rules)
