"""`/meeting` without an argument: the person's open meetings (planned, upcoming or held but
not closed), each with its notice's state, the families' answers, the attendance and minutes
recorded, and the buttons 记录出席 / 上传纪要 / 结束会议 / 取消会议; 安排新会议 and, for 德育处, 家委会成员
under them."""

from __future__ import annotations

from handlers.actions import action_button
from handlers.context import Context
from handlers.meetings import buttons as b
from handlers.meetings.plan import whole_school
from handlers.notice.render import format_moment, status_name
from handlers.types import Button, Reply
from models.meetings.queries import FamilyReply, meeting_families, open_meetings
from models.meetings.tables import Meeting
from models.notices.tables import Notice, NoticeStatus, ReceiptAnswer
from models.school.tables import SchoolClass


async def may_manage(ctx: Context, meeting: Meeting) -> bool:
    """The organiser, the head teacher of the meeting's class, 德育处 and the principal."""
    staff = ctx.staff
    if staff is None or meeting.school_id != ctx.school.id:
        return False
    if whole_school(ctx) or meeting.organiser_id == staff.id:
        return True
    if meeting.class_id is None:
        return False
    klass = await ctx.session.get(SchoolClass, meeting.class_id)
    return klass is not None and klass.head_teacher_id == staff.id


def answer_counts(families: list[FamilyReply]) -> tuple[int, int, int]:
    """(确认参加, 不能参加, 未回复)."""
    attend = sum(1 for f in families if f.answered and f.answer == ReceiptAnswer.ATTEND)
    decline = sum(1 for f in families if f.answered and f.answer == ReceiptAnswer.DECLINE)
    return attend, decline, len(families) - attend - decline


def meeting_lines(
    ctx: Context, meeting: Meeting, notice: Notice | None, families: list[FamilyReply]
) -> list[str]:
    _ = ctx.t._
    lines = [meeting.title]
    if notice is not None:
        state = status_name(ctx.t, notice)
        if notice.number:
            state = f"{notice.number} {state}"
        lines.append("   " + _("通知：{state}").format(state=state))
    if families:
        attend, decline, silent = answer_counts(families)
        lines.append(
            "   "
            + _("回复：确认参加 {attend} · 不能参加 {decline} · 未回复 {silent}").format(
                attend=attend, decline=decline, silent=silent
            )
        )
    if meeting.attendance_at is not None:
        came = sum(1 for f in families if f.attended)
        lines.append("   " + _("出席：{came}/{total} 家").format(came=came, total=len(families)))
    else:
        lines.append("   " + _("出席：未记录"))
    lines.append("   " + (_("纪要：已上传") if meeting.has_minutes else _("纪要：未上传")))
    return lines


def meeting_buttons(ctx: Context, meeting: Meeting, number: int | None) -> list[list[Button]]:
    _ = ctx.t._
    suffix = f"（{number}）" if number is not None else ""
    mid = meeting.id or 0
    started = meeting.starts_at <= ctx.now
    row = [action_button(_("取消会议") + suffix, b.CANCEL, mid)]
    if started:
        row = [
            action_button(_("记录出席") + suffix, b.ATTENDANCE, mid),
            action_button(_("上传纪要") + suffix, b.MINUTES, mid),
            action_button(_("结束会议") + suffix, b.CLOSE, mid),
            *row,
        ]
    return [row]


async def listing(ctx: Context) -> list[Reply]:
    """The open meetings (empty list: none), then 安排新会议 / 家委会成员."""
    _ = ctx.t._
    staff = ctx.staff
    assert staff is not None
    found = await open_meetings(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        staff_id=staff.id or 0,
        whole_school=whole_school(ctx),
    )
    lines = [_("待召开和待记录的会议：")]
    rows: list[list[Button]] = []
    several = len(found) > 1
    for number, (meeting, notice) in enumerate(found, start=1):
        families = await meeting_families(session=ctx.session, meeting=meeting)
        first, *rest = meeting_lines(ctx, meeting, notice, families)
        lines.append(f"{number}. {first}")
        lines += rest
        if notice is not None and notice.status is NoticeStatus.RETURNED:
            lines.append("   " + _("（通知已被退回：请取消后重新安排）"))
            rows.append(
                [
                    action_button(
                        _("取消会议") + (f"（{number}）" if several else ""),
                        b.CANCEL,
                        meeting.id or 0,
                    )
                ]
            )
            continue
        rows += meeting_buttons(ctx, meeting, number if several else None)
    lines.append(_("会议开始后可以记录出席、上传纪要；会议开始前可以取消（会通知家长）。"))
    tail = [action_button(_("安排新会议"), b.NEW, 0)]
    if whole_school(ctx):
        tail.append(action_button(_("家委会成员"), b.COMMITTEE, 0))
    rows.append(tail)
    return [Reply.with_buttons("\n".join(lines), rows)]


def when_text(ctx: Context, meeting: Meeting) -> str:
    return format_moment(ctx.t, meeting.starts_at, ctx.zone)
