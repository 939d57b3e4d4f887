"""The `incident` flow: `/incident` (or 突发), optionally with a name to search.

Who may report, and for whom: any active staff member, for any active student of the school.
An incident happens wherever a child is (the playground, the canteen, a corridor) and the adult
there must be able to report it at once, so the picker offers the whole school rather than the
teacher's visit scope. It shows only what is needed to choose: classes and names (no tags, no
guardians). What the reporter learns afterwards is limited to the receipt; the history and the
phone numbers go to the staff who were alerted (`models.incidents.queries.may_follow`).
"""

from __future__ import annotations

from handlers.context import Context
from handlers.draft_labels import about_student
from handlers.flow import Flow, Step, is_staff, with_typed_labels
from handlers.i18n import N_
from handlers.incident import steps
from handlers.incident.draft import IncidentDraft
from handlers.incident.questions import PICKER, ask, proceed, question
from handlers.incident.states import State
from handlers.student_picker import Empty, Picked
from handlers.types import Inbound, Reply, Transition


async def start(inbound: Inbound, draft: IncidentDraft, ctx: Context, args: str) -> Transition:
    """`/incident` asks for the student; `/incident 张小明` searches that name first."""
    if not args.strip():
        return await proceed(draft, ctx)
    outcome = await PICKER.begin(draft.picker, ctx, args)
    if isinstance(outcome, Picked):
        draft.student_id = outcome.pupil.id
        return await proceed(draft, ctx, ctx.t._("学生：{value}").format(value=outcome.pupil.label))
    if isinstance(outcome, Empty):
        return Transition.end(Reply(outcome.text))
    return await ask(State.STUDENT, draft, ctx, *outcome.notes)


STEPS: dict[State, Step] = {
    State.STUDENT: steps.choose_student,
    State.KIND: steps.choose_kind,
    State.WHAT: steps.tell_what,
    State.WHERE_NOW: steps.tell_where_now,
    State.CONFIRM: steps.confirm,
    State.EDIT: steps.edit,
}


INCIDENT_FLOW = Flow(
    name="incident",
    draft_type=IncidentDraft,
    # The picker reads typed labels itself; what happened is told in free text.
    steps=with_typed_labels(STEPS, question, except_in=(State.STUDENT, State.WHAT)),
    start=start,
    commands=("incident", "突发"),
    allowed=is_staff,
    describe=N_("报告学生突发事件（突发疾病、意外伤害），立即通知家长、班主任和德育处"),
    describe_draft=about_student(N_("报告{name}的突发事件"), N_("报告突发事件")),
    draft_noun=N_("突发事件报告"),
)
