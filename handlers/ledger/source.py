"""Where an item came from, for its card: the visit (date, teacher, form), the incident (with its
own 查看记录, which checks who may follow it), the overdue duty (who, by when, why). Feedback is
shown by the card itself (`render.card`). One read of the cause, by its id."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import action_button
from handlers.i18n import Translator
from handlers.incident.buttons import LOG as INCIDENT_LOG
from handlers.incident.render import kind_label
from handlers.ledger.render import day_label, moment_label
from handlers.types import Button
from models.duties.tables import Duty
from models.incidents.tables import Incident
from models.ledger.tables import LedgerItem, LedgerSource
from models.roster.tables import Staff
from models.visits.tables import FORM_LABELS, Visit


async def _name(session: AsyncSession, staff_id: int | None) -> str:
    staff = await session.get(Staff, staff_id) if staff_id is not None else None
    return staff.name if staff is not None else ""


async def source_details(
    session: AsyncSession, item: LedgerItem, t: Translator, zone: ZoneInfo
) -> tuple[str, list[Button]]:
    """A line about the item's cause (or "") and the buttons that open it (or none)."""
    if item.source_id is None:
        return "", []
    if item.source is LedgerSource.VISIT:
        visit = await session.get(Visit, item.source_id)
        if visit is None or visit.school_id != item.school_id:
            return "", []
        return (
            t._("家访记录：{day} {teacher} {form}").format(
                day=day_label(t, visit.visit_date),
                teacher=await _name(session, visit.teacher_id),
                form=t._(FORM_LABELS[visit.form]),
            ),
            [],
        )
    if item.source is LedgerSource.INCIDENT:
        incident = await session.get(Incident, item.source_id)
        if incident is None or incident.school_id != item.school_id:
            return "", []
        line = t._("突发事件：{when} {kind}").format(
            when=moment_label(t, incident.reported_at, zone), kind=kind_label(t, incident.kind)
        )
        return line, [action_button(t._("事件记录"), INCIDENT_LOG, incident.id or 0)]
    if item.source is LedgerSource.DUTY_OVERDUE:
        duty = await session.get(Duty, item.source_id)
        if duty is None or duty.school_id != item.school_id:
            return "", []
        return (
            t._("立即家访：{teacher}，应于{due}前完成").format(
                teacher=await _name(session, duty.teacher_id),
                due=moment_label(t, duty.due_at, zone),
            ),
            [],
        )
    return "", []
