"""`/notices` for staff (通知列表): recent notices with `已确认 182/196`, and, for one notice, the
counts per class and the students whose families have not confirmed, with every guardian's phone
and whether the message reached them.

德育处 and the principal follow every notice; a head teacher follows the notices of their own
class(es) (and those they wrote), and sees only their classes' students and counts. A one-shot
command: the list's buttons are actions (`nst` opens a notice, `nsl` goes back to the list), so
they keep working whatever conversation the person is in. Callback data can be forged: every
press checks again that the person may follow that notice and class.

`start`, `StaffNoticesDraft` and `STEPS` are what the `/notices` flow (`handlers.notice.listing`,
which also serves guardians) uses for staff.
"""

from __future__ import annotations

from pydantic import BaseModel

from handlers.actions import Action, action_button
from handlers.context import Context
from handlers.flow import Step
from handlers.i18n import Translator
from handlers.notice.render import format_moment, kind_name, status_name, title_line
from handlers.types import Button, Inbound, Reply, Transition
from models.notices.tables import TITLE_MAX, Notice, NoticeStatus
from models.notices.tracking import (
    REACH_LABELS,
    ClassTally,
    MissingStudent,
    Sending,
    StaffView,
    Tally,
    class_tallies,
    may_follow,
    missing_students,
    recent_notices,
    sending_of,
    staff_view,
    tallies,
)

#: Action names (`handlers.actions`): open a notice (argument `{id}` or `{id}.{class_id}`), and
#: back to the list (argument ignored).
FOLLOW, LIST = "nst", "nsl"
#: Notices listed at once.
LISTED = 10
#: Classes offered as buttons on a notice's page, three a row.
CLASS_BUTTONS, PER_ROW = 45, 3
#: On a whole-school page, missing students listed inline (more: open a class).
INLINE_MISSING = 15


class StaffNoticesDraft(BaseModel):
    """Nothing to keep: the staff side of `/notices` is one message with action buttons."""


STEPS: dict[str, Step] = {}


def follow_button(t: Translator, notice_id: int, *, class_id: int | None = None) -> Button:
    """查看回执: opens the notice's receipts (for one class when given)."""
    argument = f"{notice_id}.{class_id}" if class_id is not None else str(notice_id)
    return action_button(t._("查看回执"), FOLLOW, argument)


def tally_text(t: Translator, tally: Tally) -> str:
    return t._("已确认 {confirmed}/{total}").format(
        confirmed=f"{tally.confirmed:,}", total=f"{tally.total:,}"
    )


def _shown(notice: Notice) -> bool:
    return notice.status in (NoticeStatus.PUBLISHED, NoticeStatus.ARCHIVED)


def _summary_line(t: Translator, notice: Notice, tally: Tally | None, ctx: Context) -> str:
    parts = [kind_name(t, notice.kind)]
    if notice.published_at is not None and _shown(notice):
        local = notice.published_at.astimezone(ctx.zone)
        parts.append(t._("{month}月{day}日发布").format(month=local.month, day=local.day))
    if notice.status is NoticeStatus.ARCHIVED:
        parts.append(status_name(t, notice))
    if not _shown(notice):
        parts.append(status_name(t, notice))
    elif not notice.receipt_required:
        parts.append(t._("不需要回执"))
    elif tally is not None:
        parts.append(tally_text(t, tally))
    return " · ".join(parts)


def _quoted(search: str) -> str:
    """The search as it is repeated back: a title's length at most (no title is longer)."""
    search = search.strip()
    return search if len(search) <= TITLE_MAX else search[: TITLE_MAX - 1] + "…"


async def _list_reply(ctx: Context, search: str, *, edit: bool) -> Reply:
    t = ctx.t
    assert ctx.staff is not None
    view = await staff_view(session=ctx.session, staff=ctx.staff)
    notices = await recent_notices(session=ctx.session, view=view, search=search, limit=LISTED)
    if not notices:
        if search:
            text = t._("没有找到与“{search}”相符的通知。").format(search=_quoted(search))
        else:
            text = t._("目前没有您可以查看的通知。")
        return Reply(text, edit=edit)
    counts = await tallies(
        session=ctx.session, notice_ids=[n.id or 0 for n in notices], class_ids=view.class_ids
    )
    if search:
        lines = [t._("与“{search}”相符的通知：").format(search=_quoted(search))]
    else:
        lines = [t._("最近的通知（查找旧通知：/notices 文号或标题中的字）：")]
    buttons: list[list[Button]] = []
    for number, notice in enumerate(notices, start=1):
        lines.append(f"{number}. {title_line(t, notice)}")
        lines.append("   " + _summary_line(t, notice, counts.get(notice.id or 0), ctx))
        label = f"{number}. {notice.title}"
        buttons.append([action_button(label[:30], FOLLOW, notice.id or 0)])
    lines += ["", t._("点下面的按钮查看各班回执和未确认的学生。")]
    return Reply.with_buttons("\n".join(lines), buttons, edit=edit)


async def start(inbound: Inbound, draft: BaseModel, ctx: Context, args: str) -> Transition:
    """`/notices [文号或标题]` for staff: the notices they may follow."""
    return Transition.end(await _list_reply(ctx, args.strip(), edit=False))


# -- one notice -----------------------------------------------------------------------------------


def _contact_line(t: Translator, entry: MissingStudent) -> list[str]:
    lines = [entry.student.name]
    if not entry.guardians:
        lines.append("   " + t._("（名册中没有家长信息）"))
    for contact in entry.guardians:
        lines.append(
            "   "
            + t._("{relation} {name} {phone}（{reach}）").format(
                relation=contact.relation or t._("家长"),
                name=contact.guardian.name,
                phone=contact.guardian.phone,
                reach=t._(REACH_LABELS[contact.reach]),
            )
        )
    return lines


def _missing_lines(t: Translator, missing: list[MissingStudent], *, limit: int | None) -> list[str]:
    if not missing:
        return [t._("所有学生的家长都已确认收到。")]
    lines = [t._("未确认的学生（{count} 名），请电话联系家长：").format(count=len(missing))]
    shown = missing if limit is None else missing[:limit]
    for number, entry in enumerate(shown, start=1):
        first, *rest = _contact_line(t, entry)
        lines.append(f"{number}. {entry.klass.name} {first}")
        lines += rest
    if len(shown) < len(missing):
        lines.append(
            t._("……另有 {count} 名，请点班级查看，或导出完整名单。").format(
                count=len(missing) - len(shown)
            )
        )
    return lines


def _sending_line(t: Translator, sending: Sending) -> str:
    parts = [
        t._("消息已发送 {sent}/{total} 条").format(
            sent=f"{sending.sent:,}", total=f"{sending.messages:,}"
        )
    ]
    if sending.failed:
        parts.append(t._("失败 {count}").format(count=f"{sending.failed:,}"))
    if sending.unknown:
        parts.append(t._("情况不明 {count}").format(count=f"{sending.unknown:,}"))
    if sending.unbound:
        parts.append(t._("未绑定家长 {count} 位").format(count=f"{sending.unbound:,}"))
    return "，".join(parts)


def _head(t: Translator, notice: Notice, ctx: Context) -> list[str]:
    lines = [title_line(t, notice), t._("类型：{kind}").format(kind=kind_name(t, notice.kind))]
    if notice.published_at is not None and _shown(notice):
        lines.append(
            t._("发布：{time}").format(time=format_moment(t, notice.published_at, ctx.zone))
        )
    if notice.receipt_required and notice.receipt_deadline is not None:
        lines.append(
            t._("回执截止：{time}").format(time=format_moment(t, notice.receipt_deadline, ctx.zone))
        )
    elif not notice.receipt_required:
        lines.append(t._("回执：不需要"))
    lines.append(t._("状态：{status}").format(status=status_name(t, notice)))
    return lines


def _class_buttons(notice_id: int, classes: list[ClassTally]) -> list[list[Button]]:
    wanted = [c for c in classes if c.tally.missing][:CLASS_BUTTONS]
    buttons = [
        action_button(f"{c.klass.name} {c.tally.missing}", FOLLOW, f"{notice_id}.{c.klass.id or 0}")
        for c in wanted
    ]
    return [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]


async def _notice_reply(
    ctx: Context, view: StaffView, notice: Notice, class_id: int | None
) -> Reply:
    t = ctx.t
    notice_id = notice.id or 0
    lines = _head(t, notice, ctx)
    back = [[action_button(t._("« 返回列表"), LIST, 0)]]
    if not _shown(notice):
        lines += ["", t._("这份通知还没有发布，暂无回执。")]
        return Reply.with_buttons("\n".join(lines), back, edit=True)
    if class_id is not None:
        scope: list[int] | None = [class_id]
    else:
        scope = view.class_ids
    classes = await class_tallies(session=ctx.session, notice_id=notice_id, class_ids=scope)
    total = Tally(sum(c.tally.confirmed for c in classes), sum(c.tally.total for c in classes))
    if view.whole_school or notice.author_id == view.staff.id:
        lines.append(_sending_line(t, await sending_of(session=ctx.session, notice_id=notice_id)))
    lines += ["", tally_text(t, total) + t._("（按学生计，任一家长确认即算）")]
    if len(classes) > 1:
        lines += [f"· {c.klass.name}  {tally_text(t, c.tally)}" for c in classes]
    missing = await missing_students(session=ctx.session, notice_id=notice_id, class_ids=scope)
    one_class = len(classes) <= 1
    lines += ["", *_missing_lines(t, missing, limit=None if one_class else INLINE_MISSING)]
    buttons: list[list[Button]] = []
    if class_id is not None and (view.whole_school or len(view.class_ids or []) > 1):
        buttons.append([action_button(t._("« 全部班级"), FOLLOW, notice_id)])
    elif not one_class:
        buttons += _class_buttons(notice_id, classes)
    return Reply.with_buttons("\n".join(lines), buttons + back, edit=True)


def _parse(argument: str) -> tuple[int, int | None] | None:
    head, _, tail = argument.partition(".")
    if not head.isdigit() or (tail and not tail.isdigit()):
        return None
    return int(head), int(tail) if tail else None


def _refused(ctx: Context) -> list[Reply]:
    return [Reply(ctx.t._("没有找到这份通知，或您没有查看它的权限。"))]


async def follow(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """`nst`: one notice's receipts (one class of it when the argument names one)."""
    parsed = _parse(argument)
    if ctx.staff is None or parsed is None:
        return _refused(ctx)
    notice_id, class_id = parsed
    view = await staff_view(session=ctx.session, staff=ctx.staff)
    notice = await may_follow(session=ctx.session, view=view, notice_id=notice_id)
    if notice is None:
        return _refused(ctx)
    if class_id is not None and not view.whole_school and class_id not in (view.class_ids or []):
        return _refused(ctx)
    return [await _notice_reply(ctx, view, notice, class_id)]


async def back_to_list(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """`nsl`: the list of recent notices again (in place of the page it was pressed on)."""
    if ctx.staff is None:
        return _refused(ctx)
    return [await _list_reply(ctx, "", edit=True)]


ACTIONS = (Action(FOLLOW, follow), Action(LIST, back_to_list))
