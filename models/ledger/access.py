"""Who may see and act on which ledger item (least privilege).

- 德育处 and the principal: every item of the school; they classify, note, close and reopen.
- Any other staff member: items about a student in their scope, items they own, and items they
  recorded; they note and close the items they own. A head teacher classifies the items of their
  own class when the school allows it (`SchoolRules.ledger_head_teacher_classifies`).
- Guardians never see ledger items; they see their own feedback (`models.feedback`).

The same predicate filters every list, count and lookup, so a forged item id on a button ends
in "not found" like an id that does not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import col

from models.ledger.tables import LedgerItem
from models.roster.scope import has_whole_school_scope, scoped_students
from models.roster.tables import Staff, Student


def visible_to(staff: Staff) -> ColumnElement[bool]:
    """The WHERE clause of the items `staff` may see."""
    in_school = col(LedgerItem.school_id) == staff.school_id
    if has_whole_school_scope(staff):
        return in_school
    scope = scoped_students(staff).with_only_columns(col(Student.id))
    return in_school & or_(
        col(LedgerItem.owner_id) == staff.id,
        col(LedgerItem.recorded_by) == staff.id,
        col(LedgerItem.student_id).in_(scope),
    )


def may_manage(staff: Staff) -> bool:
    """德育处 and the principal: classify, reassign, close and reopen any item."""
    return has_whole_school_scope(staff)


def may_classify(
    staff: Staff, item: LedgerItem, *, head_class_ids: set[int], allowed: bool
) -> bool:
    """`head_class_ids`: the classes `staff` heads; `allowed`: the school's setting."""
    if may_manage(staff):
        return True
    return allowed and item.class_id is not None and item.class_id in head_class_ids


def may_work_on(staff: Staff, item: LedgerItem) -> bool:
    """Write progress notes and replies, and close: the owner, or 德育处 and the principal."""
    return may_manage(staff) or (item.owner_id is not None and item.owner_id == staff.id)


def may_reopen(staff: Staff, item: LedgerItem) -> bool:
    return may_work_on(staff, item)
