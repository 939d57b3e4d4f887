"""发送: one invitation per family drawn, to the guardian asked, in waking hours, with the button
开始填写 (`!svs:<survey id>`, the answering flow's action); then the survey is marked sent, all in
the caller's one transaction. Each invitation's key names the survey and the guardian, so a
press delivered twice queues nothing twice.

The same code sends a survey from the chat (`send_survey`, /survey) and from a scheduled job
(`queue_invitations`, the opinion week); `queue_reminders` reminds the families that have not
submitted yet, with the same button (the job `survey_reminders`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import action_button
from handlers.context import Context
from handlers.i18n import Translator
from handlers.notice.render import format_moment
from handlers.notify import Render, notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.audit.tables import audit
from models.school.rules import SchoolRules, next_waking_moment
from models.surveys.queries import mark_sent
from models.surveys.tables import Survey, SurveyForm, SurveyQuestion, SurveyRecipient

KIND = "survey_invite"
#: The reminder to a family that has not submitted (`queue_reminders`).
REMINDER_KIND = "survey_reminder"
#: The answering flow's action (registered by `handlers/surveys/answer*.py`).
ANSWER = "svs"
#: About this many questions are answered in a minute.
QUESTIONS_A_MINUTE = 3


@dataclass(frozen=True)
class Sent:
    #: Families with at least one bound account (a message was queued).
    reached: int
    #: Families whose guardian has no bound account.
    unbound: int
    #: Outbox rows queued (one per bound account; 0 when run again).
    queued: int = 0


@dataclass(frozen=True)
class Sending:
    """What sending needs besides the survey: the school, the moment, its zone and rules, and
    who sends (for the audit log: a member of staff, or "job")."""

    session: AsyncSession
    school_id: int
    now: datetime
    zone: ZoneInfo
    rules: SchoolRules
    actor: str


def invite_key(survey_id: int) -> str:
    """The invitations' key; `notify_people` adds the guardian and the channel."""
    return f"survey:{survey_id}:invite"


def reminder_key(survey_id: int) -> str:
    """The reminders' key; `notify_people` adds the guardian and the channel."""
    return f"survey:{survey_id}:reminder"


def minutes_for(questions: int) -> int:
    return max(1, -(-questions // QUESTIONS_A_MINUTE))


async def _question_count(session: AsyncSession, form: SurveyForm) -> int:
    count = select(SurveyQuestion.id).where(SurveyQuestion.form_id == form.id)
    return len((await session.exec(count)).all())


def _render(
    survey: Survey, form: SurveyForm, questions: int, zone: ZoneInfo, *, reminder: bool
) -> Render:
    survey_id, name, anonymous, deadline = (
        survey.id or 0,
        form.name,
        form.anonymous,
        survey.deadline,
    )

    def render(t: Translator) -> Reply:
        if reminder:
            lines = [t._("【提醒】您的家庭还没有提交问卷：{name}").format(name=name)]
        else:
            lines = [t._("学校邀请您填写问卷：{name}").format(name=name)]
        lines.append(
            t._("共 {count} 题，大约需要 {minutes} 分钟。").format(
                count=questions, minutes=minutes_for(questions)
            )
        )
        if anonymous:
            lines.append(t._("本问卷为匿名问卷：学校看不到哪个家庭填写了什么。"))
        lines.append(
            t._("请在 {deadline} 前填写。").format(deadline=format_moment(t, deadline, zone))
        )
        return Reply.with_buttons(
            "\n".join(lines), [[action_button(t._("开始填写"), ANSWER, survey_id)]]
        )

    return render


async def queue_invitations(sending: Sending, survey: Survey, form: SurveyForm) -> Sent:
    """Queue the invitations and mark the survey sent (the caller checked it is drawn), with an
    audit entry by `sending.actor`."""
    assert survey.id is not None
    survey_id = survey.id
    session = sending.session
    query = select(SurveyRecipient.guardian_id).where(SurveyRecipient.survey_id == survey_id)
    guardians = sorted(set((await session.exec(query)).all()))
    questions = await _question_count(session, form)
    notified = await notify_people(
        session=session,
        school_id=sending.school_id,
        people=[(PersonKind.GUARDIAN, g) for g in guardians],
        key=invite_key(survey_id),
        kind=KIND,
        render=_render(survey, form, questions, sending.zone, reminder=False),
        due_at=next_waking_moment(sending.now, zone=sending.zone, rules=sending.rules),
    )
    await mark_sent(session, survey, sending.now)
    sent = Sent(
        reached=len(guardians) - len(notified.unreachable),
        unbound=len(notified.unreachable),
        queued=notified.queued,
    )
    await audit(
        session=session,
        actor=sending.actor,
        action="survey.send",
        subject=f"survey:{survey_id}",
        detail=f"form={form.id} households={len(guardians)} unbound={sent.unbound}",
    )
    return sent


async def send_survey(ctx: Context, survey: Survey, form: SurveyForm) -> Sent:
    """/survey's 发送: `queue_invitations` as the member of staff pressing it."""
    sending = Sending(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        now=ctx.now,
        zone=ctx.zone,
        rules=ctx.rules,
        actor=ctx.actor,
    )
    sent = await queue_invitations(sending, survey, form)
    ctx.queued += sent.queued
    return sent


async def queue_reminders(sending: Sending, survey: Survey, form: SurveyForm) -> Sent:
    """One reminder to each family drawn that has not submitted, to the guardian asked, with
    the invitation's 开始填写 button, in waking hours (a family reminded already is not
    reminded again: the key names the survey and the guardian)."""
    assert survey.id is not None
    session = sending.session
    query = select(SurveyRecipient.guardian_id).where(
        SurveyRecipient.survey_id == survey.id, col(SurveyRecipient.submitted_at).is_(None)
    )
    guardians = sorted(set((await session.exec(query)).all()))
    questions = await _question_count(session, form)
    notified = await notify_people(
        session=session,
        school_id=sending.school_id,
        people=[(PersonKind.GUARDIAN, g) for g in guardians],
        key=reminder_key(survey.id),
        kind=REMINDER_KIND,
        render=_render(survey, form, questions, sending.zone, reminder=True),
        due_at=next_waking_moment(sending.now, zone=sending.zone, rules=sending.rules),
    )
    return Sent(
        reached=len(guardians) - len(notified.unreachable),
        unbound=len(notified.unreachable),
        queued=notified.queued,
    )
