"""Flood limits as the notice flows and the receipt page apply them: read what the sender
already sent, ask `models.limits.rules`, word the refusal, and record it for 德育处.

Questions 有疑问 are checked when the button is pressed (so nobody writes a question that cannot
be sent) and again before the written one is queued; a head teacher's notice is checked at 提交,
before it is saved. A refusal forwards nothing and says so, with the limit and what to do; each
one beyond a limit is a line of the audit log (`limit.refused`), so a flood shows there.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.i18n import Translator
from handlers.notice.render import format_clock
from models.accounts.tables import PersonKind
from models.audit.tables import audit
from models.limits.queries import questions_asked, sent_to_staff_since
from models.limits.rules import WINDOW, Refusal, Verdict, hourly_verdict, question_verdict
from models.school.rules import SchoolRules


async def check_question(
    session: AsyncSession,
    *,
    notice_id: int,
    guardian_id: int,
    now: datetime,
    rules: SchoolRules,
    text: str | None = None,
    student_id: int | None = None,
) -> Verdict:
    """Whether the guardian may ask (`text` about `student_id`) about the notice now."""
    asked = await questions_asked(session, notice_id=notice_id, guardian_id=guardian_id)
    sent = await sent_to_staff_since(
        session, sender=(PersonKind.GUARDIAN, guardian_id), since=now - WINDOW
    )
    return question_verdict(
        asked=asked, sent=sent, now=now, rules=rules, text=text, student_id=student_id
    )


async def check_message_to_staff(
    session: AsyncSession, *, sender: tuple[PersonKind, int], now: datetime, rules: SchoolRules
) -> Verdict:
    """Whether the sender may reach staff once more now (the hourly limit)."""
    sent = await sent_to_staff_since(session, sender=sender, since=now - WINDOW)
    return hourly_verdict(sent, now=now, rules=rules)


async def record_refusal(
    session: AsyncSession, *, sender: tuple[PersonKind, int], subject: str, verdict: Verdict
) -> None:
    """A message held back by a limit, in the audit log (a repeat is not a flood: not recorded)."""
    if verdict.refusal is None or verdict.refusal is Refusal.REPEAT:
        return
    kind, person_id = sender
    await audit(
        session=session,
        actor=f"{kind.value}:{person_id}",
        action="limit.refused",
        subject=subject,
        detail=verdict.refusal.value,
    )


def question_refusal(
    t: Translator, verdict: Verdict, *, zone: ZoneInfo, rules: SchoolRules, written: bool
) -> str:
    """Why a question is not forwarded (`written`: the guardian wrote it; else they only
    pressed 有疑问), with the limit and whom to contact; "" when it is allowed."""
    _ = t._
    if verdict.refusal is Refusal.REPEAT:
        return _("您的疑问已转给班主任，无需重复发送。老师会尽快答复您。")
    if verdict.refusal is Refusal.PER_NOTICE:
        reason = _(
            "您对这份通知已提了 {count} 个疑问，每份通知最多可提 {count} 个。"
            "请等待老师答复；如需进一步沟通，请直接打电话给班主任。"
        ).format(count=rules.questions_per_notice)
    elif verdict.refusal is Refusal.HOURLY and verdict.again_at is not None:
        reason = _(
            "为免打扰老师，每人每小时最多给老师发 {limit} 条消息。"
            "请在 {time} 以后再发送；如有急事，请直接打电话给班主任。"
        ).format(limit=rules.messages_to_staff_per_hour, time=format_clock(verdict.again_at, zone))
    else:
        return ""
    return (_("这条疑问没有转发。") + reason) if written else reason


def submission_refusal(
    t: Translator, verdict: Verdict, *, zone: ZoneInfo, rules: SchoolRules
) -> str:
    """Why 提交 did not send the notice for approval (the hourly limit); the summary stays."""
    assert verdict.again_at is not None
    return t._(
        "这条通知暂未提交：为免打扰德育处，每人每小时最多提交 {limit} 条通知审批。"
        "请在 {time} 以后再点“提交”。"
    ).format(limit=rules.messages_to_staff_per_hour, time=format_clock(verdict.again_at, zone))
