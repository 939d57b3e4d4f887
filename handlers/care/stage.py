"""What whoever referred a case (a member of staff) or asked for help (a guardian) may know of
it: the student, the day, and the stage 已受理 / 跟进中 / 已结案 — never its content, its worker or
the worker's notes. A forged button naming another person's case finds nothing."""

from __future__ import annotations

from handlers.actions import action_button, record_id
from handlers.care import buttons as b
from handlers.care.intake import RECEIVED_NOTE
from handlers.care.render import stage_line
from handlers.context import Context
from handlers.types import Button, Inbound, Reply
from models.care.views import Stage, referred_by_staff, requested_by_guardian


async def my_stages(ctx: Context, case_id: int | None = None) -> list[Stage]:
    """The cases this person referred or asked for (or the one named, if it is theirs)."""
    if ctx.staff is not None:
        return await referred_by_staff(ctx.session, staff_id=ctx.staff.id or 0, case_id=case_id)
    if ctx.guardian is not None:
        return await requested_by_guardian(
            ctx.session, guardian_id=ctx.guardian.id or 0, case_id=case_id
        )
    return []


def stages_text(ctx: Context, stages: list[Stage]) -> str:
    _ = ctx.t._
    head = _("您转介的学生的处理进展：") if ctx.staff is not None else _("您的求助的处理进展：")
    lines = [head, *(stage_line(ctx.t, s, ctx.zone) for s in stages), _(RECEIVED_NOTE)]
    return "\n".join(lines)


def stage_button(ctx: Context, case_id: int) -> list[list[Button]]:
    name = b.REFERRER_STAGE if ctx.staff is not None else b.GUARDIAN_STAGE
    return [[action_button(ctx.t._("查看进展"), name, case_id)]]


async def show_stages(ctx: Context) -> Reply:
    stages = await my_stages(ctx)
    if not stages:
        return Reply(
            ctx.t._("您还没有转介过学生。")
            if ctx.staff is not None
            else ctx.t._("您还没有向关爱室求助过。")
        )
    return Reply(stages_text(ctx, stages))


async def _one(ctx: Context, argument: str) -> list[Reply]:
    case_id = record_id(argument)
    stages = await my_stages(ctx, case_id) if case_id is not None else []
    if not stages:
        return [Reply(ctx.t._("没有找到这条记录。"))]
    return [Reply(stages_text(ctx, stages))]


async def referrer_stage(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    if ctx.staff is None:
        return [Reply(ctx.t._("没有找到这条记录。"))]
    return await _one(ctx, argument)


async def guardian_stage(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    if ctx.guardian is None or ctx.staff is not None:
        return [Reply(ctx.t._("没有找到这条记录。"))]
    return await _one(ctx, argument)
