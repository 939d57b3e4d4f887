"""确认上报: store the incident and, in the same transaction and in this order, tell the family,
alert the head teacher and 德育处, and give the head teacher an immediate-visit duty.

Each of these is a line of the incident's history. Incident messages are urgent: they are due at
once, even in quiet hours. Everything is committed with the end of the conversation, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from handlers.context import Context
from handlers.i18n import Translator
from handlers.incident.buttons import ack_button, log_button
from handlers.incident.draft import IncidentDraft
from handlers.incident.questions import PICKER, proceed
from handlers.incident.render import (
    contact_lines,
    guardian_message,
    moment,
    photo_files,
    staff_alert,
)
from handlers.notify import notify_people
from handlers.types import Reply, Transition
from models.accounts.tables import PersonKind
from models.duties.queries import open_duty
from models.duties.tables import DutyTrigger
from models.incidents.queries import (
    Contact,
    Event,
    IncidentView,
    contacts_of,
    create_incident,
    record,
)
from models.incidents.tables import INCIDENT_KIND_LABELS, Incident
from models.roster.queries import staff_with_role
from models.roster.tables import Staff, StaffRole


@dataclass(frozen=True)
class Alerted:
    #: Staff members alerted (with a bound account).
    count: int
    #: The head teacher was alerted, or reported it, or there is none.
    head_knows: bool
    #: A 德育处 admin was alerted, or reported it.
    office_knows: bool


async def report(draft: IncidentDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    reporter = ctx.staff
    if reporter is None:
        raise PermissionError("only staff report incidents")
    pupil = await PICKER.pupil(ctx, draft.student_id)
    if pupil is None:
        draft.forget_student()
        return await proceed(draft, ctx, _("这位学生已不在本校名册中，请重新选择。"))
    if draft.kind is None or draft.what is None or draft.where_now is None:
        return await proceed(draft, ctx, _("还有必填的内容没有完成，请先补上。"))
    incident = await create_incident(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        student_id=pupil.id,
        reporter_id=reporter.id or 0,
        kind=draft.kind,
        what=draft.what,
        where_now=draft.where_now,
        photo_ref=draft.photo or "",
        photo_channel=draft.photo_channel,
        now=ctx.now,
    )
    view = IncidentView(incident, pupil.student, pupil.klass)
    head = await _head_teacher(ctx, view)
    contacts = await contacts_of(session=ctx.session, student_id=pupil.id)
    notified, unreachable = await _tell_family(ctx, view, head, contacts)
    alerted = await _alert_staff(ctx, view, head, reporter, notified, unreachable)
    await _open_duty(ctx, incident, head)
    return Transition.end(_receipt(ctx, incident, head, notified, unreachable, alerted))


async def _head_teacher(ctx: Context, view: IncidentView) -> Staff | None:
    if view.head_teacher_id is None:
        return None
    head = await ctx.session.get(Staff, view.head_teacher_id)
    return head if head is not None and head.active else None


async def _tell_family(
    ctx: Context, view: IncidentView, head: Staff | None, contacts: list[Contact]
) -> tuple[int, list[Contact]]:
    """The short factual message with 已知悉 to every bound guardian; returns how many were
    told, and the guardians who could not be (no bound account)."""
    incident_id = view.incident.id or 0
    head_name = head.name if head is not None else None
    result = await notify_people(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        people=[(PersonKind.GUARDIAN, c.guardian.id or 0) for c in contacts],
        key=f"incident:{incident_id}:family",
        kind="incident_family",
        render=lambda t: Reply.with_buttons(
            guardian_message(t, view, ctx.zone, head_name), [[ack_button(t, incident_id)]]
        ),
        due_at=ctx.now,
    )
    ctx.queued += result.queued
    missing = {person_id for _, person_id in result.unreachable}
    unreachable = [c for c in contacts if c.guardian.id in missing]
    notified = len(contacts) - len(unreachable)
    await record(
        session=ctx.session,
        incident_id=incident_id,
        at=ctx.now,
        event=Event.GUARDIANS_NOTIFIED,
        detail=str(notified),
    )
    for contact in unreachable:
        await record(
            session=ctx.session,
            incident_id=incident_id,
            at=ctx.now,
            event=Event.GUARDIAN_NOT_NOTIFIED,
            detail=str(contact.guardian.id),
        )
    return notified, unreachable


async def _alert_staff(
    ctx: Context,
    view: IncidentView,
    head: Staff | None,
    reporter: Staff,
    notified: int,
    unreachable: list[Contact],
) -> Alerted:
    """The alert to the head teacher and every 德育处 admin (not to the reporter, who gets the
    receipt)."""
    incident_id = view.incident.id or 0
    admins = await staff_with_role(
        session=ctx.session, school_id=ctx.school.id or 0, role=StaffRole.ADMIN
    )
    people = [s.id or 0 for s in ([head] if head is not None else []) + admins]
    people = [p for p in dict.fromkeys(people) if p != reporter.id]
    minutes = ctx.rules.ack_timeout_minutes
    due = ctx.now + timedelta(hours=ctx.rules.duty_due_hours)

    def render(t: Translator) -> Reply:
        text = staff_alert(
            t,
            view,
            ctx.zone,
            reporter=reporter.name,
            notified=notified,
            unreachable=unreachable,
            minutes=minutes,
        )
        if head is not None:
            text += "\n" + t._("班主任需在 {due} 前上门家访（立即家访任务）。").format(
                due=moment(t, due, ctx.zone)
            )
        reply = Reply.with_buttons(text, [[log_button(t, incident_id)]])
        return replace(reply, files=photo_files(view.incident))

    result = await notify_people(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        people=[(PersonKind.STAFF, p) for p in people],
        key=f"incident:{incident_id}:alert",
        kind="incident_alert",
        render=render,
        due_at=ctx.now,
    )
    ctx.queued += result.queued
    missed = {person_id for _, person_id in result.unreachable}
    alerted = Alerted(
        count=len(people) - len(missed),
        head_knows=head is None or head.id == reporter.id or head.id not in missed,
        office_knows=any(a.id == reporter.id or a.id not in missed for a in admins),
    )
    await record(
        session=ctx.session,
        incident_id=incident_id,
        at=ctx.now,
        event=Event.STAFF_ALERTED,
        detail=str(alerted.count),
    )
    return alerted


async def _open_duty(ctx: Context, incident: Incident, head: Staff | None) -> None:
    incident_id = incident.id or 0
    if head is None:
        await record(
            session=ctx.session, incident_id=incident_id, at=ctx.now, event=Event.NO_HEAD_TEACHER
        )
        return
    await open_duty(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        student_id=incident.student_id,
        teacher_id=head.id or 0,
        trigger=DutyTrigger.INCIDENT,
        source_key=f"incident:{incident_id}",
        triggered_at=ctx.now,
        reason=INCIDENT_KIND_LABELS[incident.kind],
        rules=ctx.rules,
    )
    await record(
        session=ctx.session,
        incident_id=incident_id,
        at=ctx.now,
        event=Event.DUTY_CREATED,
        detail=str(head.id),
    )


def _receipt(
    ctx: Context,
    incident: Incident,
    head: Staff | None,
    notified: int,
    unreachable: list[Contact],
    alerted: Alerted,
) -> Reply:
    """What the reporter is told: who was reached, who must be phoned, what happens next."""
    _ = ctx.t._
    lines = [_("已上报。"), _("已通知家长 {count} 位。").format(count=notified)]
    if unreachable:
        lines.append(_("以下家长未绑定本机器人，无法通知，请立即电话联系："))
        lines.extend(contact_lines(ctx.t, unreachable))
    if alerted.count:
        lines.append(_("已通知班主任和德育处 {count} 人。").format(count=alerted.count))
    if head is not None and not alerted.head_knows:
        lines.append(
            _("班主任{name}老师还没有绑定本机器人，请立即电话告知。").format(name=head.name)
        )
    if not alerted.office_knows:
        lines.append(_("德育处还没有人绑定本机器人，请立即电话报告德育处。"))
    if head is not None:
        lines.append(_("已为班主任{name}老师创建立即家访任务。").format(name=head.name))
    else:
        lines.append(_("该班没有班主任，未能创建立即家访任务，请告知德育处。"))
    lines.append(
        _("家长 {minutes} 分钟内未确认知悉的话，会提醒您和班主任电话联系。").format(
            minutes=ctx.rules.ack_timeout_minutes
        )
    )
    return Reply.with_buttons("\n".join(lines), [[log_button(ctx.t, incident.id or 0)]])
