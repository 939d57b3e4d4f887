"""Texts about an incident, each for one reader's language: the family's short factual message,
the staff alert, the "guardian not reached" call list, and the time-stamped history.

The family's message carries no detail beyond the kind (the head teacher explains by phone);
staff see what happened, where the child is now and who reported it; only the call list shows
the roster's phone numbers, and only to the reporter and the head teacher.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.i18n import N_, Translator
from handlers.types import FileRef
from models.incidents.queries import Contact, Event, IncidentView
from models.incidents.tables import INCIDENT_KIND_LABELS, Incident, IncidentEvent, IncidentKind

#: Quick answers to "where is the child now" (stored as these msgids, shown translated).
WHERE_CHOICES: tuple[str, ...] = (
    N_("已送医院"),
    N_("在医务室观察"),
    N_("家长来接"),
    N_("已回教室"),
)


def moment(t: Translator, at: datetime, zone: ZoneInfo) -> str:
    """`11月16日 10:05` in the school's zone."""
    local = at.astimezone(zone)
    return t._("{month}月{day}日 {time}").format(
        month=local.month, day=local.day, time=local.strftime("%H:%M")
    )


def clock_time(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


def photo_files(incident: Incident) -> tuple[FileRef, ...]:
    """The reporter's photo, passed on by the reporting channel's reference: staff on that
    channel see it above the alert (other channels cannot send it and leave it out)."""
    if not incident.photo_ref:
        return ()
    return (FileRef(incident.photo_channel, incident.photo_ref, "photo"),)


def kind_label(t: Translator, kind: IncidentKind) -> str:
    return t._(INCIDENT_KIND_LABELS[kind])


def who(view: IncidentView) -> str:
    return f"{view.klass.name} {view.student.name}"


# -- the family ------------------------------------------------------------------------------


def guardian_message(
    t: Translator,
    view: IncidentView,
    zone: ZoneInfo,
    head_teacher: str | None,
    *,
    can_reply: bool = True,
) -> str:
    """The family's message; `can_reply` is False where they only have the page's button."""
    _ = t._
    text = _(
        "【学校通知】{student}家长您好：{student}（{klass}）于 {moment} 在校发生突发情况："
        "{kind}。学校正在处理。"
    ).format(
        student=view.student.name,
        klass=view.klass.name,
        moment=moment(t, view.incident.reported_at, zone),
        kind=kind_label(t, view.incident.kind),
    )
    if head_teacher:
        text += _("请尽快与班主任{teacher}老师联系。").format(teacher=head_teacher)
    else:
        text += _("请尽快与学校联系。")
    if not can_reply:
        return text + "\n" + _("收到后请点下方“已知悉”。")
    return text + "\n" + _("收到后请点下方“已知悉”，或直接回复“已知悉”。")


def acknowledged_line(t: Translator, at: datetime, zone: ZoneInfo, *, by_you: bool) -> str:
    if by_you:
        return t._("✓ 您已于 {time} 确认知悉，谢谢。").format(time=clock_time(at, zone))
    return t._("✓ 已有家长于 {time} 确认知悉。").format(time=clock_time(at, zone))


# -- staff -----------------------------------------------------------------------------------


def contact_lines(t: Translator, contacts: Sequence[Contact]) -> list[str]:
    """`刘梅（母亲）：13700000000`, one per guardian in the roster."""
    lines = []
    for contact in contacts:
        name = contact.guardian.name
        if contact.relation:
            name = t._("{name}（{relation}）").format(name=name, relation=contact.relation)
        lines.append(t._("{name}：{phone}").format(name=name, phone=contact.guardian.phone))
    return lines


def staff_alert(
    t: Translator,
    view: IncidentView,
    zone: ZoneInfo,
    *,
    reporter: str,
    notified: int,
    unreachable: Sequence[Contact],
    minutes: int,
) -> str:
    _ = t._
    incident = view.incident
    lines = [
        _("【突发事件】{who}").format(who=who(view)),
        _("类别：{kind}").format(kind=kind_label(t, incident.kind)),
        _("时间：{moment}").format(moment=moment(t, incident.reported_at, zone)),
        _("经过：{what}").format(what=incident.what),
        _("现在情况：{where}").format(where=_(incident.where_now) if incident.where_now else ""),
        _("报告人：{reporter}").format(reporter=reporter),
    ]
    if incident.photo_ref:
        lines.append(_("报告人附有一张照片。"))
    lines.append(_("已通知家长 {count} 位。").format(count=notified))
    if unreachable:
        lines.append(_("以下家长未绑定本机器人，无法通知，请电话联系："))
        lines.extend(contact_lines(t, unreachable))
    lines.append(
        _("家长 {minutes} 分钟内未确认知悉的话，会提醒报告人和班主任电话联系。").format(
            minutes=minutes
        )
    )
    return "\n".join(lines)


def not_reached_message(
    t: Translator, view: IncidentView, zone: ZoneInfo, contacts: Sequence[Contact], minutes: int
) -> str:
    _ = t._
    lines = [
        _("【家长未联系上】{who}（{kind}，{moment} 上报）").format(
            who=who(view),
            kind=kind_label(t, view.incident.kind),
            moment=moment(t, view.incident.reported_at, zone),
        ),
        _("家长 {minutes} 分钟内没有确认知悉。请立即电话联系：").format(minutes=minutes),
    ]
    if contacts:
        lines.extend(contact_lines(t, contacts))
    else:
        lines.append(_("名册中没有该生家长的电话，请查阅学籍档案联系。"))
    lines.append(_("联系上后请点“已电话联系”，或直接回复“已电话联系”。"))
    return "\n".join(lines)


def phoned_line(t: Translator, name: str, at: datetime, zone: ZoneInfo) -> str:
    return t._("✓ {name}已于 {time} 电话联系家长。").format(name=name, time=clock_time(at, zone))


def acknowledged_note(t: Translator, view: IncidentView, guardian: str, zone: ZoneInfo) -> str:
    at = view.incident.acknowledged_at or view.incident.reported_at
    return t._("【家长已知悉】{who}：家长{guardian}已于 {time} 确认知悉突发事件通知。").format(
        who=who(view), guardian=guardian, time=clock_time(at, zone)
    )


def phoned_note(t: Translator, view: IncidentView, name: str, zone: ZoneInfo) -> str:
    at = view.incident.phoned_at or view.incident.reported_at
    return t._("【已电话联系】{who}：{name}已于 {time} 电话联系家长。").format(
        who=who(view), name=name, time=clock_time(at, zone)
    )


# -- the history -----------------------------------------------------------------------------


def status_line(t: Translator, view: IncidentView) -> str:
    _ = t._
    incident = view.incident
    if incident.acknowledged_at is not None:
        return _("状态：家长已知悉")
    if incident.phoned_at is not None:
        return _("状态：已电话联系家长")
    if incident.not_reached_at is not None:
        return _("状态：家长未联系上")
    return _("状态：等待家长确认")


def event_line(
    t: Translator,
    event: IncidentEvent,
    view: IncidentView,
    staff: dict[int, str],
    guardians: dict[int, str],
) -> str:
    """One event as a sentence (events whose code is unknown are shown by their code)."""
    _ = t._
    kind, actor_id = _actor(event.actor)
    actor = (staff if kind == "staff" else guardians).get(actor_id, "") if actor_id else ""
    detail = event.detail
    number = int(detail) if detail.isdigit() else 0
    match event.event:
        case Event.REPORTED:
            return _("{name}上报（{kind}）").format(
                name=actor, kind=kind_label(t, view.incident.kind)
            )
        case Event.GUARDIANS_NOTIFIED:
            return _("已通知家长 {count} 位").format(count=number)
        case Event.GUARDIAN_NOT_NOTIFIED:
            return _("家长{name}未绑定，未能通知").format(name=guardians.get(number, ""))
        case Event.STAFF_ALERTED:
            return _("已通知班主任和德育处 {count} 人").format(count=number)
        case Event.DUTY_CREATED:
            return _("已为班主任{name}创建立即家访任务").format(name=staff.get(number, ""))
        case Event.NO_HEAD_TEACHER:
            return _("该班没有班主任，未创建立即家访任务")
        case Event.ACKNOWLEDGED:
            return _("家长{name}已知悉").format(name=actor)
        case Event.NOT_REACHED:
            return _("家长 {minutes} 分钟内未确认，已提醒报告人和班主任电话联系").format(
                minutes=number
            )
        case Event.PHONED:
            return _("{name}已电话联系家长").format(name=actor)
    return event.event


def history_text(
    t: Translator,
    view: IncidentView,
    events: Sequence[IncidentEvent],
    zone: ZoneInfo,
    staff: dict[int, str],
    guardians: dict[int, str],
) -> str:
    lines = [
        t._("突发事件记录：{who}（{kind}）").format(
            who=who(view), kind=kind_label(t, view.incident.kind)
        )
    ]
    for event in events:
        line = event_line(t, event, view, staff, guardians)
        lines.append(f"{moment(t, event.at, zone)}  {line}")
    lines.append(status_line(t, view))
    return "\n".join(lines)


def _actor(actor: str) -> tuple[str, int]:
    """`staff:7` → ("staff", 7); ("system", 0) for anything else."""
    kind, _, number = actor.partition(":")
    return (kind, int(number)) if number.isdigit() else ("system", 0)


def actor_ids(events: Sequence[IncidentEvent]) -> tuple[set[int], set[int]]:
    """Staff and guardian ids the events name (as actors or in their detail)."""
    staff: set[int] = set()
    guardians: set[int] = set()
    for event in events:
        kind, number = _actor(event.actor)
        if kind == "staff":
            staff.add(number)
        elif kind == "guardian":
            guardians.add(number)
        if event.detail.isdigit():
            if event.event == Event.DUTY_CREATED:
                staff.add(int(event.detail))
            elif event.event == Event.GUARDIAN_NOT_NOTIFIED:
                guardians.add(int(event.detail))
    return staff, guardians
