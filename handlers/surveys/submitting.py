"""Submitting a family's answers, from the chat (`handlers.surveys.answer`) and from the WeCom
page (`bot.web.survey_page`): the answers are marked submitted and acted on
(`models.surveys.queries.submit_answers`), and the head teacher given a key visit is told at once,
or when quiet hours end, as for any new duty (`handlers.duty_notices.announce_new_duties`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.duty_notices import announce_new_duties
from models.duties.queries import duty_rows_by_id
from models.school.rules import SchoolRules
from models.surveys.queries import submit_answers
from models.surveys.tables import SurveyRecipient


async def submit_sheet(
    session: AsyncSession,
    recipient: SurveyRecipient,
    *,
    school_id: int,
    now: datetime,
    zone: ZoneInfo,
    rules: SchoolRules,
) -> int:
    """Submit in the caller's transaction; returns how many outbox rows were queued."""
    duty = await submit_answers(session, recipient, now, rules=rules)
    if duty is None or duty.id is None:
        return 0
    rows = await duty_rows_by_id(session=session, ids=[duty.id])
    sent = await announce_new_duties(
        session=session, school_id=school_id, rows=rows, now=now, zone=zone, rules=rules
    )
    return sent.queued
