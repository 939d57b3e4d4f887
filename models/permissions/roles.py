"""A person's roles in the matrix, from what the roster says of them."""

from __future__ import annotations

from collections.abc import Iterable

from models.permissions.matrix import Role
from models.roster.duties import Duty
from models.roster.tables import Guardian, Staff, StaffRole

_BY_DUTY = {
    Duty.HEAD: Role.HEAD_TEACHER,
    Duty.TEACHES: Role.SUBJECT_TEACHER,
    Duty.COACHES: Role.COACH,
}
_BY_ROLE = {
    StaffRole.ADMIN: Role.ADMIN,
    StaffRole.PRINCIPAL: Role.PRINCIPAL,
    StaffRole.CARE: Role.CARE,
}


def roles_of(
    staff: Staff | None, duties: Iterable[Duty], guardian: Guardian | None
) -> frozenset[Role]:
    """The roles of a bound account: a staff member's (always `STAFF`, then by duty and by
    role), else a guardian's, else `UNBOUND`. A staff account is a staff member's only, even
    when the same phone is also a guardian's. A 区域管理员 is `DISTRICT` alone: not `STAFF`,
    whatever else the roster says, so that every action but the district view is refused."""
    if staff is not None and staff.active:
        if StaffRole.DISTRICT in staff.role_set():
            return frozenset({Role.DISTRICT})
        found = {Role.STAFF}
        found |= {_BY_DUTY[d] for d in duties}
        found |= {_BY_ROLE[r] for r in staff.role_set()}
        return frozenset(found)
    if guardian is not None:
        return frozenset({Role.GUARDIAN})
    return frozenset({Role.UNBOUND})
