"""Finding the item a button or a command names, for the person pressing it; and what they may
do with it. Forged or foreign ids, and items the person may not see, all come back as None."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from handlers.actions import record_id
from handlers.context import Context
from models.feedback.queries import Author, author_of, feedback_of_item
from models.feedback.tables import Feedback
from models.ledger.access import may_classify, may_reopen, may_work_on
from models.ledger.tables import LedgerItem, LedgerKind, LedgerStatus
from models.ledger.views import ItemRow, item_for
from models.roster.tables import Staff
from models.school.tables import SchoolClass


@dataclass(frozen=True)
class Found:
    staff: Staff
    row: ItemRow
    feedback: Feedback | None
    author: Author | None

    @property
    def item(self) -> LedgerItem:
        return self.row.item


async def find_item(ctx: Context, argument: str | int) -> Found | None:
    staff = ctx.staff
    item_id = record_id(str(argument).strip().lstrip("#"))
    if staff is None or item_id is None:
        return None
    row = await item_for(ctx.session, staff, item_id)
    if row is None:
        return None
    feedback = await feedback_of_item(ctx.session, row.item)
    author = await author_of(ctx.session, feedback) if feedback is not None else None
    return Found(staff, row, feedback, author)


async def heads_class(ctx: Context, staff: Staff, class_id: int | None) -> bool:
    if class_id is None:
        return False
    query = select(col(SchoolClass.id)).where(
        col(SchoolClass.id) == class_id, col(SchoolClass.head_teacher_id) == staff.id
    )
    return (await ctx.session.exec(query)).first() is not None


@dataclass(frozen=True)
class Allowed:
    classify: bool
    note: bool
    reply: bool
    close: bool
    reopen: bool


async def allowed(ctx: Context, found: Found) -> Allowed:
    """What the person may do with the item now (its state and their role)."""
    item, staff = found.item, found.staff
    head = await heads_class(ctx, staff, item.class_id)
    classify = item.status is not LedgerStatus.CLOSED and may_classify(
        staff,
        item,
        head_class_ids={item.class_id} if head and item.class_id is not None else set(),
        allowed=ctx.rules.ledger_head_teacher_classifies,
    )
    works = may_work_on(staff, item)
    active = item.status is LedgerStatus.ACTIVE
    return Allowed(
        classify=classify,
        note=works and active,
        reply=works and active and item.kind is LedgerKind.ESCALATE,
        close=works and item.status is not LedgerStatus.CLOSED,
        reopen=may_reopen(staff, item) and item.status is LedgerStatus.CLOSED,
    )


def visit_student(found: Found) -> int | None:
    """The family a 当面解释 visit goes to: the item's student, or the named author's child."""
    if found.item.student_id is not None:
        return found.item.student_id
    return found.author.first_child_id if found.author is not None else None
