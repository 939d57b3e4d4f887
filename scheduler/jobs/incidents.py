"""Incidents no guardian acknowledged in time: the reporter and the head teacher get the family's
phone numbers from the roster and a 已电话联系 button (DOMAIN.md "Urgent incidents").

Runs every minute. Each incident is announced once: the guarded `not_reached_at` update claims it
and the outbox key (`incident:{id}:not-reached:…`) would keep a second row out anyway. Incident
messages are urgent, so they are due at once, even in quiet hours.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.i18n import Translator
from handlers.incident.buttons import log_button, phoned_button
from handlers.incident.render import not_reached_message
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.incidents.queries import (
    Contact,
    IncidentView,
    awaiting_acknowledgement,
    contacts_of_students,
    mark_not_reached,
)
from scheduler.base import Job, JobContext, every_minute


async def announce_not_reached(jc: JobContext) -> int:
    """Tell staff to phone the families of incidents unacknowledged for `ack_timeout_minutes`."""
    minutes = jc.rules.ack_timeout_minutes
    due = await awaiting_acknowledgement(
        session=jc.session,
        school_id=jc.school.id or 0,
        reported_before=jc.now - timedelta(minutes=minutes),
    )
    contacts = await contacts_of_students(
        session=jc.session, student_ids=sorted({v.student.id or 0 for v in due})
    )
    queued = 0
    for view in due:
        if not await mark_not_reached(
            session=jc.session, incident=view.incident, now=jc.now, minutes=minutes
        ):
            continue
        queued += await _call_list(jc, view, contacts.get(view.student.id or 0, []), minutes)
    return queued


async def _call_list(
    jc: JobContext, view: IncidentView, contacts: list[Contact], minutes: int
) -> int:
    incident_id = view.incident.id or 0
    staff = [view.incident.reporter_id, view.head_teacher_id]
    people = [(PersonKind.STAFF, i) for i in dict.fromkeys(staff) if i is not None]

    def render(t: Translator) -> Reply:
        text = not_reached_message(t, view, jc.zone, contacts, minutes)
        buttons = [[phoned_button(t, incident_id), log_button(t, incident_id)]]
        return Reply.with_buttons(text, buttons)

    result = await notify_people(
        session=jc.session,
        school_id=jc.school.id or 0,
        people=people,
        key=f"incident:{incident_id}:not-reached",
        kind="incident_not_reached",
        render=render,
        due_at=jc.now,
    )
    return result.queued


INCIDENT_NOT_REACHED = Job(
    name="incident_not_reached",
    func=announce_not_reached,
    schedule=every_minute,
    describe="突发事件家长未及时知悉：把家长电话发给上报人和班主任",
)
