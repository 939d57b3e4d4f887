"""The meeting flows and buttons: `/meeting` (家长会) lists and plans, `meeting_attendance` and
`meeting_minutes` record what happened, `committee` adds a committee member (see
`meeting.mmd`)."""

from __future__ import annotations

from handlers.actions import Action
from handlers.context import Context
from handlers.flow import Flow, is_staff, with_typed_labels
from handlers.i18n import N_
from handlers.meetings import buttons as b
from handlers.meetings import committee, record
from handlers.meetings.listing import listing
from handlers.meetings.plan import STEPS, begin_planning, question, whole_school
from handlers.meetings.states import PlanDraft
from handlers.notice.converse import begin
from handlers.types import Inbound, Reply, Transition

NEW_WORDS = ("new", "安排", "新建")
COMMITTEE_WORDS = ("committee", "家委会")


async def start(inbound: Inbound, draft: PlanDraft, ctx: Context, args: str) -> Transition:
    """`/meeting` (the open meetings; planning at once when there are none), `/meeting new`,
    `/meeting 家委会` (德育处: the committee's members)."""
    words = args.split()
    if words and words[0].lower() in NEW_WORDS:
        return await begin_planning(draft, ctx)
    if words and words[0] in COMMITTEE_WORDS and whole_school(ctx):
        return Transition.end(await committee.members_reply(ctx))
    if words:
        return Transition.end(Reply(ctx.t._("请发送 /meeting 查看会议，/meeting new 安排新会议。")))
    [shown] = await listing(ctx)
    if len(shown.buttons) > 1:  # at least one meeting above 安排新会议
        return Transition.end(shown)
    note = ctx.t._("您目前没有待召开或待记录的会议。现在安排一次会议：")
    return await begin_planning(draft, ctx, note)


async def open_new(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """安排新会议 under the list: the same as `/meeting new`."""
    draft = PlanDraft()
    started = await begin_planning(draft, ctx)
    if started.next_state is None:
        return list(started.replies)
    return await begin(
        inbound,
        ctx,
        flow="meeting",
        state=started.next_state,
        draft=draft,
        reply=started.replies[-1],
    )


async def _no_start(inbound: Inbound, draft: object, ctx: Context, args: str) -> Transition:
    return Transition.end(Reply(ctx.t._("请发送 /meeting，在会议下面点按钮。")))


MEETING_FLOW = Flow(
    name="meeting",
    draft_type=PlanDraft,
    steps=with_typed_labels(STEPS, question),
    start=start,
    commands=("meeting", "家长会"),
    allowed=is_staff,
    refusal=N_("只有班主任和德育处可以安排家长会。"),
    describe=N_("家长会：安排会议并通知家长，会后记录出席和纪要（班主任、德育处）"),
    draft_noun=N_("会议安排"),
)

MEETING_ATTENDANCE_FLOW = Flow(
    name=record.ATTENDANCE_FLOW,
    draft_type=record.AttendanceDraft,
    steps={record.AttendanceState.MARK: record.mark},
    start=_no_start,
    commands=(),
    allowed=is_staff,
    draft_noun=N_("出席记录"),
)

MEETING_MINUTES_FLOW = Flow(
    name=record.MINUTES_FLOW,
    draft_type=record.MinutesDraft,
    steps={record.MinutesState.MINUTES: record.take_minutes},
    start=_no_start,
    commands=(),
    allowed=is_staff,
    draft_noun=N_("会议纪要"),
)

COMMITTEE_FLOW = Flow(
    name=committee.FLOW,
    draft_type=committee.CommitteeDraft,
    steps={
        committee.State.NUMBER: committee.type_number,
        committee.State.GUARDIAN: committee.choose_guardian,
    },
    start=_no_start,
    commands=(),
    allowed=is_staff,
    draft_noun=N_("家委会成员"),
)

MEETING_FLOWS = (MEETING_FLOW, MEETING_ATTENDANCE_FLOW, MEETING_MINUTES_FLOW, COMMITTEE_FLOW)

MEETING_ACTIONS: tuple[Action, ...] = (
    Action(b.NEW, open_new),
    Action(b.ATTENDANCE, record.open_attendance),
    Action(b.MINUTES, record.open_minutes),
    Action(b.CLOSE, record.close),
    Action(b.CANCEL, record.ask_cancel),
    Action(b.CANCEL_SURE, record.cancel),
    Action(b.COMMITTEE, committee.show_members),
    Action(b.COMMITTEE_ADD, committee.open_add),
    Action(b.COMMITTEE_REMOVE, committee.remove),
)
