"""发送: one invitation per family drawn, to the guardian asked, in waking hours, with the button
开始填写 (`!svs:<survey id>`, the answering flow's action); then the survey is marked sent, all in
the update's one transaction. Each invitation's key names the survey and the guardian, so a
press delivered twice queues nothing twice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from handlers.actions import action_button
from handlers.context import Context
from handlers.i18n import Translator
from handlers.notice.render import format_moment
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.audit.tables import audit
from models.school.rules import next_waking_moment
from models.surveys.queries import mark_sent
from models.surveys.tables import Survey, SurveyForm, SurveyQuestion, SurveyRecipient

KIND = "survey_invite"
#: The answering flow's action (registered by `handlers/surveys/answer*.py`).
ANSWER = "svs"
#: About this many questions are answered in a minute.
QUESTIONS_A_MINUTE = 3


@dataclass(frozen=True)
class Sent:
    #: Families with at least one bound account (an invitation was queued).
    reached: int
    #: Families whose guardian has no bound account.
    unbound: int


def invite_key(survey_id: int) -> str:
    """The invitations' key; `notify_people` adds the guardian and the channel."""
    return f"survey:{survey_id}:invite"


def minutes_for(questions: int) -> int:
    return max(1, -(-questions // QUESTIONS_A_MINUTE))


async def send_survey(ctx: Context, survey: Survey, form: SurveyForm) -> Sent:
    """Queue the invitations and mark the survey sent (the caller checked it is drawn)."""
    assert survey.id is not None
    survey_id = survey.id
    query = select(SurveyRecipient.guardian_id).where(SurveyRecipient.survey_id == survey_id)
    guardians = sorted(set((await ctx.session.exec(query)).all()))
    count = select(SurveyQuestion.id).where(SurveyQuestion.form_id == form.id)
    questions = len((await ctx.session.exec(count)).all())
    name, anonymous, deadline, zone = form.name, form.anonymous, survey.deadline, ctx.zone

    def render(t: Translator) -> Reply:
        lines = [
            t._("学校邀请您填写问卷：{name}").format(name=name),
            t._("共 {count} 题，大约需要 {minutes} 分钟。").format(
                count=questions, minutes=minutes_for(questions)
            ),
        ]
        if anonymous:
            lines.append(t._("本问卷为匿名问卷：学校看不到哪个家庭填写了什么。"))
        lines.append(
            t._("请在 {deadline} 前填写。").format(deadline=format_moment(t, deadline, zone))
        )
        return Reply.with_buttons(
            "\n".join(lines), [[action_button(t._("开始填写"), ANSWER, survey_id)]]
        )

    notified = await notify_people(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        people=[(PersonKind.GUARDIAN, g) for g in guardians],
        key=invite_key(survey_id),
        kind=KIND,
        render=render,
        due_at=next_waking_moment(ctx.now, zone=ctx.zone, rules=ctx.rules),
    )
    ctx.queued += notified.queued
    await mark_sent(ctx.session, survey, ctx.now)
    sent = Sent(
        reached=len(guardians) - len(notified.unreachable), unbound=len(notified.unreachable)
    )
    await audit(
        session=ctx.session,
        actor=ctx.actor,
        action="survey.send",
        subject=f"survey:{survey_id}",
        detail=f"form={form.id} households={len(guardians)} unbound={sent.unbound}",
    )
    return sent
