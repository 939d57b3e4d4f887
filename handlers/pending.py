"""/pending (待办): the teacher's open immediate-visit duties, soonest due first."""

from __future__ import annotations

from pydantic import BaseModel

from handlers.context import Context
from handlers.duty_notices import format_moment, reason_text
from handlers.flow import Flow, is_staff
from handlers.i18n import N_
from handlers.types import Inbound, Reply, Transition
from models.duties.queries import open_duty_rows


class PendingDraft(BaseModel):
    """A one-shot command keeps nothing."""


async def start(inbound: Inbound, draft: PendingDraft, ctx: Context, args: str) -> Transition:
    _ = ctx.t._
    if ctx.staff is None:
        return Transition.end(Reply(_("这项功能只对本校教师开放。")))
    rows = await open_duty_rows(session=ctx.session, teacher_id=ctx.staff.id or 0)
    if not rows:
        return Transition.end(Reply(_("没有待完成的立即家访。")))
    lines = [_("待完成的立即家访（{count} 项，按到期时间排列）：").format(count=len(rows))]
    for number, row in enumerate(rows, start=1):
        line = _("{number}. {student}：{reason}，{due} 前").format(
            number=number,
            student=row.student_label,
            reason=reason_text(ctx.t, row.duty),
            due=format_moment(ctx.t, row.duty.due_at, ctx.zone),
        )
        if row.duty.due_at <= ctx.now:
            line += _("（已逾期）")
        lines.append(line)
    lines.append(_("上门家访后用 /visit 记录（选择“上门家访”），任务即完成。"))
    return Transition.end(Reply("\n".join(lines)))


PENDING_FLOW = Flow(
    name="pending",
    draft_type=PendingDraft,
    steps={},
    start=start,
    commands=("pending", "待办"),
    allowed=is_staff,
    describe=N_("查看待完成的立即家访"),
    read_only=True,
)
