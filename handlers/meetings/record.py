"""After the meeting: 记录出席 (a list of the families with toggle buttons, defaulting to their
replies: 确认参加 is present), 上传纪要 (text, a photo or a document, kept as the channel's own
file reference), 结束会议 (a committee meeting refuses without minutes) and 取消会议 (asked
once more; the families and teachers told once).

Each button names its meeting by id and is checked again: the meeting must be the school's and
the person its organiser, the head teacher of its class, 德育处 or the principal
(`listing.may_manage`); anything else is answered as a stale button.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from handlers.actions import action_button, record_id
from handlers.context import Context
from handlers.hints import too_long
from handlers.meetings import buttons as b
from handlers.meetings.announce import tell_cancelled
from handlers.meetings.listing import may_manage
from handlers.notice.converse import begin
from handlers.types import Button, Inbound, Reply, Transition, callback_rest
from models.meetings.queries import (
    FamilyReply,
    MinutesRequired,
    cancel_meeting,
    close_meeting,
    get_meeting,
    meeting_families,
    save_attendance,
    save_minutes,
)
from models.meetings.tables import MINUTES_LIMIT, Meeting, MeetingKind, MeetingStatus, MinutesKind
from models.notices.tables import ReceiptAnswer

ATTENDANCE_FLOW = "meeting_attendance"
MINUTES_FLOW = "meeting_minutes"
#: Families shown per page of the attendance list.
PAGE_SIZE = 30
TOGGLE, PAGE, SAVE = "t:", "p:", "save"


class AttendanceState(StrEnum):
    MARK = "mark"


class MinutesState(StrEnum):
    MINUTES = "minutes"


def gone(ctx: Context) -> Reply:
    return Reply(ctx.t._("这个按钮已失效。"))


async def managed_meeting(ctx: Context, argument: str | int) -> Meeting | None:
    """The meeting a button names, if it is planned and this person may act on it."""
    meeting_id = record_id(str(argument))
    if meeting_id is None:
        return None
    meeting = await get_meeting(
        session=ctx.session, school_id=ctx.school.id or 0, meeting_id=meeting_id
    )
    if meeting is None or not await may_manage(ctx, meeting):
        return None
    return meeting


def _not_open(ctx: Context, meeting: Meeting) -> Reply:
    _ = ctx.t._
    if meeting.status is MeetingStatus.HELD:
        return Reply(_("会议《{title}》已经结束。").format(title=meeting.title))
    return Reply(_("会议《{title}》已取消。").format(title=meeting.title))


# -- 记录出席 --------------------------------------------------------------------------------------


class AttendanceDraft(BaseModel):
    meeting_id: int = 0
    present: list[int] = Field(default_factory=list)
    page: int = 0


def default_present(families: list[FamilyReply]) -> list[int]:
    """Who is marked present at first: what was recorded before, else the families that
    answered 确认参加."""
    if any(f.attended is not None for f in families):
        return [f.student.id or 0 for f in families if f.attended]
    return [f.student.id or 0 for f in families if f.answer == ReceiptAnswer.ATTEND]


async def _attendance_question(
    ctx: Context, meeting: Meeting, draft: AttendanceDraft, *notes: str
) -> Reply:
    _ = ctx.t._
    families = await meeting_families(session=ctx.session, meeting=meeting)
    present = set(draft.present)
    pages = max(1, -(-len(families) // PAGE_SIZE))
    page = min(max(draft.page, 0), pages - 1)
    shown = families[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons = [
        Button(
            ("✅ " if f.student.id in present else "⬜ ") + f.student.name,
            f"{TOGGLE}{f.student.id}",
        )
        for f in shown
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    nav: list[Button] = []
    if page > 0:
        nav.append(Button(_("上一页"), f"{PAGE}{page - 1}"))
    if page < pages - 1:
        nav.append(Button(_("下一页"), f"{PAGE}{page + 1}"))
    if nav:
        rows.append(nav)
    rows.append([Button(_("保存出席情况"), SAVE)])
    came = sum(1 for f in families if f.student.id in present)
    lines = [
        *notes,
        _("记录出席：{title}").format(title=meeting.title),
        _("点学生姓名切换该家庭出席（✅）或缺席（⬜）；开始时按家长的回复，确认参加的记为出席。"),
        _("现在出席 {came}/{total} 家。改好后点“保存出席情况”。").format(
            came=came, total=len(families)
        ),
    ]
    if pages > 1:
        lines.append(_("第 {page}/{pages} 页").format(page=page + 1, pages=pages))
    return Reply.with_buttons("\n".join(lines), rows)


async def open_attendance(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    meeting = await managed_meeting(ctx, argument)
    if meeting is None:
        return [gone(ctx)]
    if meeting.status is not MeetingStatus.PLANNED:
        return [_not_open(ctx, meeting)]
    families = await meeting_families(session=ctx.session, meeting=meeting)
    if not families:
        return [Reply(ctx.t._("会议通知还没有发给家长，没有可以记录的家庭。"))]
    draft = AttendanceDraft(meeting_id=meeting.id or 0, present=default_present(families))
    reply = await _attendance_question(ctx, meeting, draft)
    return await begin(
        inbound, ctx, flow=ATTENDANCE_FLOW, state=AttendanceState.MARK, draft=draft, reply=reply
    )


async def mark(inbound: Inbound, draft: AttendanceDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    meeting = await managed_meeting(ctx, draft.meeting_id)
    if meeting is None:
        return Transition.end(gone(ctx))
    if meeting.status is not MeetingStatus.PLANNED:
        return Transition.end(_not_open(ctx, meeting))
    families = await meeting_families(session=ctx.session, meeting=meeting)
    invited = {f.student.id for f in families}
    toggled = record_id(callback_rest(inbound.callback, TOGGLE) or "")
    page = record_id(callback_rest(inbound.callback, PAGE) or "")
    state = AttendanceState.MARK
    if toggled is not None and toggled in invited:
        present = set(draft.present)
        present ^= {toggled}
        draft.present = sorted(present)
        return Transition.to(state, await _attendance_question(ctx, meeting, draft))
    if page is not None:
        draft.page = page
        return Transition.to(state, await _attendance_question(ctx, meeting, draft))
    if inbound.callback == SAVE:
        staff = ctx.staff
        assert staff is not None
        came = await save_attendance(
            session=ctx.session,
            meeting=meeting,
            present=draft.present,
            by=staff.id or 0,
            now=ctx.now,
        )
        text = _("已保存出席情况：{title}，出席 {came}/{total} 家。").format(
            title=meeting.title, came=came, total=len(families)
        )
        return Transition.end(Reply.with_buttons(text, after_buttons(ctx, meeting)))
    note = _("请点学生姓名切换出席情况，改好后点“保存出席情况”。")
    return Transition.to(state, await _attendance_question(ctx, meeting, draft, note))


def after_buttons(ctx: Context, meeting: Meeting) -> list[list[Button]]:
    _ = ctx.t._
    mid = meeting.id or 0
    row = [action_button(_("上传纪要"), b.MINUTES, mid), action_button(_("结束会议"), b.CLOSE, mid)]
    if meeting.attendance_at is None:
        row.insert(0, action_button(_("记录出席"), b.ATTENDANCE, mid))
    return [row]


# -- 上传纪要 --------------------------------------------------------------------------------------


class MinutesDraft(BaseModel):
    meeting_id: int = 0


def _minutes_prompt(ctx: Context, meeting: Meeting, *notes: str) -> Reply:
    text = ctx.t._(
        "上传会议纪要：{title}\n请直接发送纪要的文字（不超过 {limit} 字），或一张照片、一个文件。"
        "发送 /cancel 放弃。"
    ).format(title=meeting.title, limit=MINUTES_LIMIT)
    return Reply("\n".join([*notes, text]))


async def open_minutes(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    meeting = await managed_meeting(ctx, argument)
    if meeting is None:
        return [gone(ctx)]
    if meeting.status is not MeetingStatus.PLANNED:
        return [_not_open(ctx, meeting)]
    note = ctx.t._("已有纪要，新上传的会替换它。") if meeting.has_minutes else ""
    reply = _minutes_prompt(ctx, meeting, *([note] if note else []))
    draft = MinutesDraft(meeting_id=meeting.id or 0)
    return await begin(
        inbound, ctx, flow=MINUTES_FLOW, state=MinutesState.MINUTES, draft=draft, reply=reply
    )


async def take_minutes(inbound: Inbound, draft: MinutesDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    meeting = await managed_meeting(ctx, draft.meeting_id)
    if meeting is None:
        return Transition.end(gone(ctx))
    if meeting.status is not MeetingStatus.PLANNED:
        return Transition.end(_not_open(ctx, meeting))
    state = MinutesState.MINUTES
    caption = (inbound.text or "").strip()
    if len(caption) > MINUTES_LIMIT:
        return Transition.to(
            state, _minutes_prompt(ctx, meeting, too_long(ctx, MINUTES_LIMIT, len(caption)))
        )
    if inbound.photo is not None:
        await save_minutes(
            session=ctx.session,
            meeting=meeting,
            kind=MinutesKind.PHOTO,
            now=ctx.now,
            text=caption,
            channel=inbound.channel,
            file_ref=inbound.photo,
        )
    elif inbound.document is not None:
        await save_minutes(
            session=ctx.session,
            meeting=meeting,
            kind=MinutesKind.DOCUMENT,
            now=ctx.now,
            text=caption,
            channel=inbound.channel,
            file_ref=inbound.document.ref,
            filename=inbound.document.name,
        )
    elif inbound.callback is None and caption:
        await save_minutes(
            session=ctx.session, meeting=meeting, kind=MinutesKind.TEXT, now=ctx.now, text=caption
        )
    else:
        note = _("请发送纪要的文字、照片或文件。")
        return Transition.to(state, _minutes_prompt(ctx, meeting, note))
    text = _("已保存会议纪要：{title}。").format(title=meeting.title)
    return Transition.end(Reply.with_buttons(text, after_buttons(ctx, meeting)))


# -- 结束会议 --------------------------------------------------------------------------------------


async def close(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    meeting = await managed_meeting(ctx, argument)
    if meeting is None:
        return [gone(ctx)]
    if meeting.status is not MeetingStatus.PLANNED:
        return [_not_open(ctx, meeting)]
    if meeting.starts_at > ctx.now:
        return [Reply(_("会议还没有开始，开始后才能结束。"))]
    try:
        closed = await close_meeting(session=ctx.session, meeting=meeting, now=ctx.now)
    except MinutesRequired:
        text = _("家长委员会会议须上传会议纪要后才能结束。")
        button = action_button(_("上传纪要"), b.MINUTES, meeting.id or 0)
        return [Reply.with_buttons(text, [[button]])]
    if not closed:
        fresh = await get_meeting(
            session=ctx.session, school_id=ctx.school.id or 0, meeting_id=meeting.id or 0
        )
        return [_not_open(ctx, fresh or meeting)]
    families = await meeting_families(session=ctx.session, meeting=meeting)
    lines = [_("会议已结束：{title}。").format(title=meeting.title)]
    if meeting.attendance_at is None:
        lines.append(_("出席情况没有记录。"))
    else:
        came = sum(1 for f in families if f.attended)
        lines.append(_("出席 {came}/{total} 家。").format(came=came, total=len(families)))
    if not meeting.has_minutes and meeting.kind is not MeetingKind.COMMITTEE:
        lines.append(_("没有上传会议纪要。"))
    return [Reply("\n".join(lines))]


# -- 取消会议 --------------------------------------------------------------------------------------


async def ask_cancel(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    meeting = await managed_meeting(ctx, argument)
    if meeting is None:
        return [gone(ctx)]
    if meeting.status is not MeetingStatus.PLANNED:
        return [_not_open(ctx, meeting)]
    text = _("确定取消会议《{title}》吗？已收到通知的家长会收到取消的消息。").format(
        title=meeting.title
    )
    button = action_button(_("确认取消会议"), b.CANCEL_SURE, meeting.id or 0)
    return [Reply.with_buttons(text, [[button]])]


async def cancel(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    meeting = await managed_meeting(ctx, argument)
    if meeting is None:
        return [gone(ctx)]
    if not await cancel_meeting(session=ctx.session, meeting=meeting, now=ctx.now):
        return [_not_open(ctx, meeting)]
    queued = await tell_cancelled(
        session=ctx.session, meeting=meeting, now=ctx.now, zone=ctx.zone, rules=ctx.rules
    )
    ctx.queued += queued
    text = _("已取消会议《{title}》。").format(title=meeting.title)
    if queued:
        text += "\n" + _("已通知收到会议通知的家长和任课教师。")
    return [Reply(text, edit=True)]
