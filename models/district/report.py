"""The district report as the bot gives it: every school counted by its own rules (the
deployment's, with the school's `school set --rule …` overrides on top), for the chat's
`/district`, its morning push and the operator's `district digest` / `export district`."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.district.compliance import DistrictReport, district_compliance
from models.school.config import SchoolConfig, effective_rules
from models.school.rules import SchoolRules


async def district_report(
    session: AsyncSession, *, today: date, now: datetime, rules: SchoolRules
) -> DistrictReport:
    """`district_compliance` with each school's own rules on top of `rules` (ConfigError when
    a school's stored rules no longer validate)."""
    configs = (await session.exec(select(SchoolConfig))).all()
    own = {c.school_id: effective_rules(rules, c.rules) for c in configs if c.rules}
    return await district_compliance(session, today=today, now=now, rules=rules, rules_for=own)
