"""已知悉, 已电话联系 and 查看记录: buttons that act on an incident outside any conversation.

Callback data can be forged, so each press is checked again: 已知悉 only by a guardian of that
student, the others only by staff who were alerted (`models.incidents.queries.may_follow`). A refused
press shows nothing about the incident. A second press (or a redelivered one) changes nothing:
the first writer wins a guarded UPDATE, later ones are shown the state as it is.

`acknowledge_for_guardian` is the core of 已知悉, shared with the WeCom incident page
(`bot.web.incident_page`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import Action
from handlers.context import Context
from handlers.incident.buttons import ACK, LOG, PHONED, log_button
from handlers.incident.render import (
    acknowledged_line,
    acknowledged_note,
    actor_ids,
    guardian_message,
    history_text,
    not_reached_message,
    phoned_line,
    phoned_note,
    photo_files,
)
from handlers.notify import notify_people
from handlers.types import Inbound, Reply
from models.accounts.tables import PersonKind
from models.incidents.queries import (
    IncidentView,
    acknowledge,
    contacts_of,
    history,
    incident_view,
    is_guardian_of,
    may_follow,
    names_of,
    record_phoned,
)
from models.roster.tables import Guardian, Staff


def _refusal(ctx: Context) -> list[Reply]:
    return [Reply(ctx.t._("这个按钮不适用于您。"))]


async def _view(ctx: Context, argument: str) -> IncidentView | None:
    if not (argument.isascii() and argument.isdigit() and len(argument) < 12):
        return None
    return await incident_view(
        session=ctx.session, school_id=ctx.school.id or 0, incident_id=int(argument)
    )


async def _followed(ctx: Context, argument: str) -> tuple[Staff, IncidentView] | None:
    """The incident, if the person pressing is staff who may follow it."""
    staff = ctx.staff
    if staff is None:
        return None
    view = await _view(ctx, argument)
    if view is None or not may_follow(staff, view):
        return None
    return staff, view


async def _staff_name(ctx: Context, staff_id: int | None) -> str:
    staff = await ctx.session.get(Staff, staff_id) if staff_id is not None else None
    return staff.name if staff is not None else ""


def _people(view: IncidentView, *, exclude: int | None) -> list[tuple[PersonKind, int]]:
    """The reporter and the head teacher (once each), without `exclude`."""
    ids = [view.incident.reporter_id, view.head_teacher_id]
    return [(PersonKind.STAFF, i) for i in dict.fromkeys(ids) if i is not None and i != exclude]


@dataclass(frozen=True)
class Acknowledgement:
    """A guardian's 已知悉 on an incident about their child."""

    view: IncidentView
    #: This 已知悉 was the first (it was recorded and the staff were told).
    recorded: bool
    #: Outbox rows queued for the staff.
    queued: int


async def acknowledge_for_guardian(
    *,
    session: AsyncSession,
    school_id: int,
    incident_id: int,
    guardian: Guardian,
    now: datetime,
    zone: ZoneInfo,
) -> Acknowledgement | None:
    """Record a guardian's 已知悉 and tell the head teacher and the reporter, once per incident
    (the Telegram button, a typed 已知悉 and the WeCom incident page all come here); None if
    the incident is not this school's or not about a child of this guardian."""
    view = await incident_view(session=session, school_id=school_id, incident_id=incident_id)
    if view is None or not await is_guardian_of(
        session=session, guardian_id=guardian.id or 0, student_id=view.incident.student_id
    ):
        return None
    first = await acknowledge(
        session=session, incident=view.incident, guardian_id=guardian.id or 0, now=now
    )
    queued = 0
    if first:
        queued = await _tell_staff_acknowledged(session, school_id, view, guardian, now, zone)
    return Acknowledgement(view, first, queued)


async def acknowledge_pressed(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        return _refusal(ctx)
    if not (argument.isascii() and argument.isdigit() and len(argument) < 12):
        return _refusal(ctx)
    done = await acknowledge_for_guardian(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        incident_id=int(argument),
        guardian=guardian,
        now=ctx.now,
        zone=ctx.zone,
    )
    if done is None:
        return _refusal(ctx)
    ctx.queued += done.queued
    view = done.view
    incident = view.incident
    head = await _staff_name(ctx, view.head_teacher_id)
    text = guardian_message(ctx.t, view, ctx.zone, head or None)
    at = incident.acknowledged_at or ctx.now
    line = acknowledged_line(ctx.t, at, ctx.zone, by_you=incident.acknowledged_by == guardian.id)
    return [Reply(f"{text}\n\n{line}", edit=True)]


async def _tell_staff_acknowledged(
    session: AsyncSession,
    school_id: int,
    view: IncidentView,
    guardian: Guardian,
    now: datetime,
    zone: ZoneInfo,
) -> int:
    result = await notify_people(
        session=session,
        school_id=school_id,
        people=_people(view, exclude=None),
        key=f"incident:{view.incident.id}:acknowledged",
        kind="incident_acknowledged",
        render=lambda t: Reply(acknowledged_note(t, view, guardian.name, zone)),
        due_at=now,
    )
    return result.queued


async def phoned_pressed(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    followed = await _followed(ctx, argument)
    if followed is None:
        return _refusal(ctx)
    staff, view = followed
    incident = view.incident
    if await record_phoned(
        session=ctx.session, incident=incident, staff_id=staff.id or 0, now=ctx.now
    ):
        result = await notify_people(
            session=ctx.session,
            school_id=ctx.school.id or 0,
            people=_people(view, exclude=staff.id),
            key=f"incident:{incident.id}:phoned",
            kind="incident_phoned",
            render=lambda t: Reply(phoned_note(t, view, staff.name, ctx.zone)),
            due_at=ctx.now,
        )
        ctx.queued += result.queued
    contacts = await contacts_of(session=ctx.session, student_id=incident.student_id)
    text = not_reached_message(ctx.t, view, ctx.zone, contacts, ctx.rules.ack_timeout_minutes)
    name = await _staff_name(ctx, incident.phoned_by)
    line = phoned_line(ctx.t, name, incident.phoned_at or ctx.now, ctx.zone)
    buttons = [[log_button(ctx.t, incident.id or 0)]]
    return [Reply.with_buttons(f"{text}\n\n{line}", buttons, edit=True)]


async def history_pressed(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    followed = await _followed(ctx, argument)
    if followed is None:
        return _refusal(ctx)
    _, view = followed
    events = await history(session=ctx.session, incident_id=view.incident.id or 0)
    staff_ids, guardian_ids = actor_ids(events)
    staff, guardians = await names_of(
        session=ctx.session, staff_ids=staff_ids, guardian_ids=guardian_ids
    )
    text = history_text(ctx.t, view, events, ctx.zone, staff, guardians)
    return [Reply(text, files=photo_files(view.incident))]


INCIDENT_ACTIONS: tuple[Action, ...] = (
    Action(ACK, acknowledge_pressed),
    Action(PHONED, phoned_pressed),
    Action(LOG, history_pressed),
)
