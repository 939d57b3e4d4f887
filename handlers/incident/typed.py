"""已知悉 and 已电话联系 typed as words do what the buttons do.

On channels that show buttons as numbered text (the console, WeCom) a delivered message's action
buttons cannot be pressed: "1" means a button of the person's own conversation. Typing the
button's label works everywhere instead: a guardian's 已知悉 acknowledges the latest incident
about their child (within a day) that nobody acknowledged; a teacher's 已电话联系 records the
call for the latest "guardian not reached" incident they were asked to phone about. Both go
through the same checks and writes as the buttons. They are hidden from /help.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from pydantic import BaseModel

from handlers.context import Context
from handlers.flow import Flow, is_guardian, is_staff
from handlers.i18n import N_
from handlers.incident.actions import acknowledge_pressed, phoned_pressed
from handlers.types import Inbound, Reply, Transition
from models.incidents.queries import latest_not_reached_for, latest_unacknowledged_of_guardian

#: How old an incident a typed 已知悉 may still acknowledge.
ACK_WINDOW = timedelta(days=1)


class NoDraft(BaseModel):
    """These commands answer at once: nothing to keep between messages."""


def _as_new_messages(replies: list[Reply]) -> Transition:
    """The buttons' answers edit the pressed message; typed, they are new messages."""
    return Transition.end(*(replace(r, edit=False) for r in replies))


async def acknowledge_typed(
    inbound: Inbound, draft: NoDraft, ctx: Context, args: str
) -> Transition:
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        return Transition.end(Reply(ctx.t._("这个按钮不适用于您。")))
    incident = await latest_unacknowledged_of_guardian(
        session=ctx.session, guardian_id=guardian.id, since=ctx.now - ACK_WINDOW
    )
    if incident is None:
        return Transition.end(Reply(ctx.t._("现在没有需要您确认的突发事件通知。")))
    return _as_new_messages(await acknowledge_pressed(inbound, str(incident.id), ctx))


async def phoned_typed(inbound: Inbound, draft: NoDraft, ctx: Context, args: str) -> Transition:
    staff = ctx.staff
    if staff is None:
        return Transition.end(Reply(ctx.t._("这个按钮不适用于您。")))
    view = await latest_not_reached_for(session=ctx.session, staff=staff)
    if view is None:
        return Transition.end(Reply(ctx.t._("现在没有需要您电话联系家长的突发事件。")))
    return _as_new_messages(await phoned_pressed(inbound, str(view.incident.id), ctx))


ACK_TYPED_FLOW = Flow(
    name="incident_ack",
    draft_type=NoDraft,
    steps={},
    start=acknowledge_typed,
    commands=("已知悉",),
    allowed=is_guardian,
    refusal=N_("“已知悉”用于家长确认学校发来的突发事件通知。"),
)
PHONED_TYPED_FLOW = Flow(
    name="incident_phoned",
    draft_type=NoDraft,
    steps={},
    start=phoned_typed,
    commands=("已电话联系",),
    allowed=is_staff,
)
