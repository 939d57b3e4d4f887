"""A parent's leave or message, forwarded to the head teacher of the child's class (德育处, the
school's admins, when the class has none), without either side's phone number or account.

Before anything is recorded the flood limits are asked (`handlers.notice.limits`: messages to
staff in an hour, the same setting as 有疑问), and the same text about the same child within
that hour is not forwarded twice. A leave carries 确认为病假 / 不是病假 for the head teacher
(`handlers.parent_messages.leave`); every forwarded message carries 回复家长
(`handlers.parent_messages.reply`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from handlers.actions import action_button
from handlers.context import Context
from handlers.duty_notices import format_day
from handlers.i18n import Translator
from handlers.notice.converse import tell
from handlers.notice.limits import check_message_to_staff, question_refusal, record_refusal
from handlers.parent_messages.common import ANSWER, NOT_SICK, SICK, greeting, who_wrote
from handlers.types import Button, Inbound, Reply
from models.accounts.tables import PersonKind
from models.limits.rules import WINDOW
from models.notices.publishing import Child
from models.parents.queries import record_message, sent_before
from models.parents.tables import ParentMessage, ParentMessageKind
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole

#: The outbox kind and key prefix of a forwarded parent's message.
FORWARD_KIND = "parent_message"


def staff_buttons(t: Translator, message: ParentMessage) -> list[list[Button]]:
    """确认为病假 / 不是病假 while a leave is undecided, and 回复家长 until answered."""
    rows: list[list[Button]] = []
    if message.kind is ParentMessageKind.SICK_LEAVE and message.decided_at is None:
        rows.append(
            [
                action_button(t._("确认为病假"), SICK, message.id or 0),
                action_button(t._("不是病假"), NOT_SICK, message.id or 0),
            ]
        )
    if message.answered_at is None:
        rows.append([action_button(t._("回复家长"), ANSWER, message.id or 0)])
    return rows


def staff_text(t: Translator, message: ParentMessage, child: Child) -> str:
    """The message as the head teacher reads it: the child, the relation and the words."""
    who = who_wrote(t, child)
    privacy = t._("（为保护隐私，不显示家长的电话和账号。点“回复家长”可以通过我答复。）")
    if message.kind is ParentMessageKind.SICK_LEAVE:
        day = format_day(t, message.leave_from or message.sent_at.date())
        return t._(
            "【家长请假】{who}说：\n{text}\n\n"
            "点“确认为病假”即登记为自 {day} 起的病假（与 /absence 登记的相同）；"
            "日期不对时，请点“不是病假”后用 /absence 登记。\n{privacy}"
        ).format(who=who, text=message.text, day=day, privacy=privacy)
    return t._("【家长留言】{who}说：\n{text}\n\n{privacy}").format(
        who=who, text=message.text, privacy=privacy
    )


async def _recipients(ctx: Context, child: Child) -> list[tuple[PersonKind, int]]:
    if child.klass.head_teacher_id is not None:
        return [(PersonKind.STAFF, child.klass.head_teacher_id)]
    admins = await staff_with_role(
        session=ctx.session, school_id=ctx.school.id or 0, role=StaffRole.ADMIN
    )
    return [(PersonKind.STAFF, s.id or 0) for s in admins]


def _who_reads(t: Translator, child: Child) -> str:
    if child.klass.head_teacher_id is None:
        return t._("学校德育处")
    return t._("{klass}班主任").format(klass=child.klass.name)


async def forward(
    inbound: Inbound,
    ctx: Context,
    *,
    kind: ParentMessageKind,
    text: str,
    child: Child,
    children: Sequence[Child],
    leave_from: date | None,
) -> Reply:
    """Forward `text` about `child` (one of the guardian's `children`) and say what was done."""
    _ = ctx.t._
    guardian = ctx.guardian
    assert guardian is not None
    hello = greeting(ctx.t, children)
    sender = (PersonKind.GUARDIAN, guardian.id or 0)
    if await sent_before(
        session=ctx.session,
        guardian_id=guardian.id or 0,
        student_id=child.student.id or 0,
        text=text,
        since=ctx.now - WINDOW,
    ):
        return Reply(hello + _("这条消息已转给老师，无需重复发送。"))
    verdict = await check_message_to_staff(ctx.session, sender=sender, now=ctx.now, rules=ctx.rules)
    if not verdict.allowed:
        await record_refusal(ctx.session, sender=sender, subject="parent_message", verdict=verdict)
        reason = question_refusal(ctx.t, verdict, zone=ctx.zone, rules=ctx.rules, written=False)
        return Reply(hello + _("这条消息没有转给老师。") + reason)
    message = await record_message(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        guardian_id=guardian.id or 0,
        child=child,
        kind=kind,
        text=text,
        channel=inbound.channel,
        now=ctx.now,
        leave_from=leave_from,
    )

    def render(t: Translator) -> Reply:
        return Reply.with_buttons(staff_text(t, message, child), staff_buttons(t, message))

    people = await _recipients(ctx, child)
    queued = await tell(
        ctx, people=people, key=f"parent-message:{message.id}", kind=FORWARD_KIND, render=render
    )
    reader = _who_reads(ctx.t, child)
    if not queued:
        return Reply(
            hello
            + _(
                "您的消息已记下，但{reader}还没有开通本机器人，暂时收不到。请直接打电话告诉老师。"
            ).format(reader=reader)
        )
    if kind is ParentMessageKind.SICK_LEAVE:
        return Reply(
            hello
            + _("您的请假消息已转给{reader}，老师确认后会登记为病假。祝孩子早日康复！").format(
                reader=reader
            )
        )
    return Reply(
        hello
        + _("您的消息已转给{reader}，老师会尽快答复您。您的电话和账号不会显示给老师。").format(
            reader=reader
        )
    )
