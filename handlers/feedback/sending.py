"""Sending a parent's feedback, from the chat's 提交 or the WeCom page's form: check it, apply
the flood limits, store it (`models.feedback.queries.submit_feedback`: the feedback and its
ledger item together) and tell 德育处 — and, for praise of a teacher, that teacher — all in the
caller's transaction, so a refusal or a failure leaves nothing half-way.

**The flood limits.** Feedback reaches staff, so it obeys `RULES__MESSAGES_TO_STAFF_PER_HOUR`
like a parent's questions and messages (`handlers.notice.limits`):

- *Named* feedback counts, with the guardian's questions and messages of the last hour, against
  the guardian's hourly limit (their named feedback is read from the `feedback` rows).
- *Anonymous* feedback keeps no trace of its author, and a per-person count would be one: a row
  "this guardian sent anonymous feedback at 10:02" next to a feedback created at 10:02 names
  the author. So an anonymous one is refused when the guardian is over their hourly limit on
  what they sent under their name (a refusal stores nothing), and the school's anonymous
  feedback together may not exceed the same number in any hour: a flood of anonymous messages
  is held back without anybody's anonymous feedback being counted as theirs. A parent held back
  by that school-wide limit may still write under their name.

Messages to staff are not urgent: they wait for the end of the school's quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.feedback.render import about_of, office_message, teacher_praise
from handlers.i18n import Translator
from handlers.notice.limits import record_refusal
from handlers.notice.render import format_clock
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.feedback.queries import (
    NewFeedback,
    Targets,
    anonymous_feedback_since,
    author_of,
    named_feedback_since,
    submit_feedback,
    targets_of_guardian,
)
from models.feedback.tables import FEEDBACK_TEXT_LIMIT, Feedback, FeedbackAbout, FeedbackKind
from models.ledger.tables import LedgerItem
from models.limits.queries import sent_to_staff_since
from models.limits.rules import WINDOW, Verdict, hourly_verdict
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole
from models.school.rules import SchoolRules, next_waking_moment

#: The outbox kind of the messages about new feedback (to 德育处, to a praised teacher).
NEW_FEEDBACK_KIND = "feedback_new"


class FeedbackRefused(Exception):
    """The feedback cannot be sent as it is; `message` (translated) says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sent:
    feedback: Feedback
    #: Its ledger item (None for praise).
    item: LedgerItem | None
    #: Outbox rows queued for staff.
    queued: int


def text_problem(t: Translator, text: str) -> str | None:
    """Why the text cannot be sent (empty, too long), or None."""
    if not text.strip():
        return t._("请写下您的意见内容。")
    if len(text.strip()) > FEEDBACK_TEXT_LIMIT:
        return too_long_note(t, len(text.strip()))
    return None


def too_long_note(t: Translator, length: int) -> str:
    """The words of `handlers.hints.too_long` (the same message), where there is no chat."""
    return t._(
        "内容太长了：最多 {limit} 个字，您发来的有 {length} 个字。请精简后重新发送。"
    ).format(limit=FEEDBACK_TEXT_LIMIT, length=length)


def target_problem(t: Translator, new: NewFeedback, targets: Targets) -> str | None:
    """Why the class or teacher chosen is not one the guardian may write about, or None."""
    if new.about is FeedbackAbout.CLASS and targets.class_named(new.about_class_id) is None:
        return t._("请从您孩子所在的班级中选择。")
    if new.about is FeedbackAbout.TEACHER and targets.teacher_named(new.about_staff_id) is None:
        return t._("请从您孩子的老师中选择。")
    return None


async def check_limits(
    session: AsyncSession, *, new: NewFeedback, now: datetime, rules: SchoolRules
) -> tuple[Verdict, bool]:
    """The verdict on one more feedback now, and whether a refusal is the school-wide anonymous
    limit (True) rather than the guardian's own (False). See the module's docstring."""
    since = now - WINDOW
    sender = (PersonKind.GUARDIAN, new.guardian_id)
    sent = await sent_to_staff_since(session, sender=sender, since=since)
    sent += await named_feedback_since(session, guardian_id=new.guardian_id, since=since)
    own = hourly_verdict(sent, now=now, rules=rules)
    if not own.allowed or not new.anonymous:
        return own, False
    school = await anonymous_feedback_since(session, school_id=new.school_id, since=since)
    return hourly_verdict(school, now=now, rules=rules), True


def limit_refusal(
    t: Translator,
    verdict: Verdict,
    *,
    school_wide: bool,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules,
) -> str:
    """Why the feedback was held back, until when, and what else to do."""
    again = format_clock(verdict.again_at or now, zone)
    limit = rules.messages_to_staff_per_hour
    if school_wide:
        return t._(
            "这条匿名意见暂未提交：这一小时内学校收到的匿名意见已达 {limit} 条。"
            "请在 {time} 以后再提交，或改为实名提交。"
        ).format(limit=limit, time=again)
    return t._(
        "这条意见暂未提交：为免打扰老师，每人每小时最多给学校发 {limit} 条消息。"
        "请在 {time} 以后再提交；如有急事，请直接打电话给班主任。"
    ).format(limit=limit, time=again)


async def send_feedback(
    session: AsyncSession,
    new: NewFeedback,
    *,
    t: Translator,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules,
) -> Sent:
    """Check, store and announce the feedback; `FeedbackRefused` (nothing written but, for a
    limit, its line in the audit log) when it cannot be sent."""
    problem = text_problem(t, new.text)
    targets = await targets_of_guardian(session, guardian_id=new.guardian_id)
    problem = problem or target_problem(t, new, targets)
    if problem is not None:
        raise FeedbackRefused(problem)
    verdict, school_wide = await check_limits(session, new=new, now=now, rules=rules)
    if not verdict.allowed:
        await record_refusal(
            session,
            sender=(PersonKind.GUARDIAN, new.guardian_id),
            subject="feedback",
            verdict=verdict,
        )
        raise FeedbackRefused(
            limit_refusal(t, verdict, school_wide=school_wide, now=now, zone=zone, rules=rules)
        )
    feedback, item = await submit_feedback(session, new, now=now)
    queued = await _announce(session, feedback, item, targets, now=now, zone=zone, rules=rules)
    return Sent(feedback, item, queued)


async def _announce(
    session: AsyncSession,
    feedback: Feedback,
    item: LedgerItem | None,
    targets: Targets,
    *,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules,
) -> int:
    """德育处 hear of every feedback; a praised teacher hears of their praise."""
    author = await author_of(session, feedback)
    due = next_waking_moment(now, zone=zone, rules=rules)
    admins = await staff_with_role(
        session=session, school_id=feedback.school_id, role=StaffRole.ADMIN
    )

    def to_office(t: Translator) -> Reply:
        about = about_of(
            t, feedback.about, targets, feedback.about_class_id, feedback.about_staff_id
        )
        return Reply(office_message(t, feedback, item, about, author))

    office = await notify_people(
        session=session,
        school_id=feedback.school_id,
        people=[(PersonKind.STAFF, a.id or 0) for a in admins],
        key=f"feedback:{feedback.id}:office",
        kind=NEW_FEEDBACK_KIND,
        render=to_office,
        due_at=due,
    )
    queued = office.queued
    praised = feedback.about_staff_id
    if feedback.kind is FeedbackKind.PRAISE and praised is not None:
        teacher = await notify_people(
            session=session,
            school_id=feedback.school_id,
            people=[(PersonKind.STAFF, praised)],
            key=f"feedback:{feedback.id}:praise",
            kind=NEW_FEEDBACK_KIND,
            render=lambda t: Reply(teacher_praise(t, feedback, author)),
            due_at=due,
        )
        queued += teacher.queued
    return queued
