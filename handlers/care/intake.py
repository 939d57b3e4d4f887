"""Opening a case (a referral, a student's own request, a guardian's request) and telling the
care room at once: every care-room teacher gets a message naming the student (they may read
cases) with a button to open it. An urgent case is sent even in quiet hours; any other waits for
the end of them. Whoever referred or asked learns the stage alone (`handlers.care.stage`)."""

from __future__ import annotations

from handlers.care import buttons as b
from handlers.context import Context
from handlers.i18n import Translator
from handlers.notice.converse import tell
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.care.handling import open_case
from models.care.tables import INTAKE_LABELS, CareCase, CaseIntake, CaseUrgency
from models.care.views import care_staff_ids
from models.school.rules import next_waking_moment
from models.text import N_

KIND = "care_new"


async def record_case(
    ctx: Context,
    *,
    student_id: int,
    student_label: str,
    intake: CaseIntake,
    urgency: CaseUrgency,
    noticed: str,
) -> CareCase:
    """Open the case in this update's transaction and queue the care room's messages."""
    staff, guardian = ctx.staff, ctx.guardian
    case = await open_case(
        ctx.session,
        school_id=ctx.school.id or 0,
        student_id=student_id,
        intake=intake,
        urgency=urgency,
        noticed=noticed,
        now=ctx.now,
        actor=ctx.actor,
        staff_id=staff.id if staff is not None else None,
        guardian_id=guardian.id if guardian is not None and staff is None else None,
    )
    await tell_care_room(ctx, case, student_label)
    return case


async def tell_care_room(ctx: Context, case: CareCase, student_label: str) -> int:
    me = ctx.staff.id if ctx.staff is not None else None
    people = [
        (PersonKind.STAFF, staff_id)
        for staff_id in await care_staff_ids(ctx.session, school_id=ctx.school.id or 0)
        if staff_id != me
    ]
    if not people:
        return 0
    urgent = case.urgency is CaseUrgency.URGENT
    case_id = case.id or 0
    intake = case.intake

    def render(t: Translator) -> Reply:
        text = (
            t._("【关爱室·紧急】新个案 #{id}：{student}（{intake}）。请立即查看并接手。")
            if urgent
            else t._("【关爱室】新个案 #{id}：{student}（{intake}）。请查看并接手。")
        ).format(id=case_id, student=student_label, intake=t._(INTAKE_LABELS[intake]))
        return Reply.with_buttons(text, [[b.open_button(t._("查看个案"), case_id)]])

    due = ctx.now if urgent else next_waking_moment(ctx.now, zone=ctx.zone, rules=ctx.rules)
    return await tell(
        ctx, people=people, key=f"care:{case_id}:new", kind=KIND, render=render, due_at=due
    )


#: The receipt's words: the stage, nothing else (seed 002: confidentiality).
RECEIVED_NOTE = N_(
    "为保护学生隐私，您只能看到处理阶段（已受理 / 跟进中 / 已结案），看不到个案内容。"
)
