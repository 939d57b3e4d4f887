"""Finding the case a button or a command names, for the person asking, and what they may do
with it. Only care staff and the principal read cases (`Action.CASE_READ`); for anyone else,
and for a forged, foreign or missing id, there is no case (the same answer every time)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.actions import record_id
from handlers.context import Context
from handlers.permissions import permits
from models.care.tables import CareCase, CaseStatus
from models.care.views import CaseRow, case_row
from models.permissions.matrix import Action
from models.roster.tables import Staff


@dataclass(frozen=True)
class Found:
    staff: Staff
    row: CaseRow

    @property
    def case(self) -> CareCase:
        return self.row.case


async def find_case(ctx: Context, argument: str | int) -> Found | None:
    staff = ctx.staff
    case_id = record_id(str(argument).strip().lstrip("#"))
    if staff is None or case_id is None or not permits(ctx, Action.CASE_READ):
        return None
    row = await case_row(ctx.session, school_id=ctx.school.id or 0, case_id=case_id)
    return Found(staff, row) if row is not None else None


@dataclass(frozen=True)
class Allowed:
    take: bool
    assess: bool
    plan: bool
    contact: bool
    summary: bool
    close: bool


def allowed(ctx: Context, found: Found) -> Allowed:
    """What the person may do with the case now: care staff take it; its worker writes on it.
    The principal reads and writes nothing."""
    case = found.case
    works = permits(ctx, Action.CASE_WORK)
    open_ = case.status is not CaseStatus.CLOSED
    mine = works and open_ and case.worker_id == found.staff.id
    following = case.status is CaseStatus.FOLLOWING
    return Allowed(
        take=works and open_ and case.worker_id != found.staff.id,
        assess=mine,
        plan=mine and following,
        contact=mine,
        summary=mine,
        close=mine and following,
    )
