"""What care staff and the principal see: `/cases` (the open cases, the next contact due first),
one case's card with the buttons of what the person may do, and its chronology. Every card and
chronology shown is an audit line (`case.read`, with the student)."""

from __future__ import annotations

from pydantic import BaseModel

from handlers.actions import action_button
from handlers.care import buttons as b
from handlers.care.lookup import Found, allowed, find_case
from handlers.care.render import card, chronology_text, entry, who
from handlers.context import Context
from handlers.flow import Flow
from handlers.i18n import N_
from handlers.permissions import gate, permits
from handlers.types import Button, Inbound, Reply, Transition
from models.audit.tables import audit
from models.care.handling import READ, subject
from models.care.views import entries_of, open_cases
from models.permissions.matrix import Action

#: Cases listed (each with its button) in one message.
LISTED = 10


def not_found(ctx: Context) -> Reply:
    """The one answer for a case that does not exist and a case the person may not read."""
    return Reply(ctx.t._("没有找到这个个案，或您没有查看它的权限。"))


async def _audit_read(ctx: Context, found: Found, what: str) -> None:
    await audit(
        session=ctx.session,
        actor=ctx.actor,
        action=READ,
        subject=subject(found.case.id),
        detail=what,
        student_id=found.case.student_id,
    )


async def card_reply(ctx: Context, found: Found, *notes: str) -> Reply:
    """The case's card, `notes` above it, and the buttons of what the person may do now."""
    _ = ctx.t._
    await _audit_read(ctx, found, "card")
    may = allowed(ctx, found)
    case_id = found.case.id or 0
    row: list[Button] = []
    if may.take:
        label = _("接手") if found.case.worker_id is None else _("改由我跟进")
        row.append(action_button(label, b.TAKE, case_id))
    for ok, label, name in (
        (may.assess, _("评估"), b.ASSESS),
        (may.plan, _("帮扶计划"), b.PLAN),
        (may.contact, _("记录辅导"), b.CONTACT),
        (may.summary, _("阶段小结"), b.SUMMARY),
        (may.close, _("结案"), b.CLOSE),
    ):
        if ok:
            row.append(action_button(label, name, case_id))
    rows = [row[i : i + 3] for i in range(0, len(row), 3)]
    rows.append([action_button(_("查看记录"), b.LOG, case_id)])
    text = card(ctx.t, found.row, today=ctx.today, zone=ctx.zone)
    return Reply.with_buttons("\n".join([*notes, text]), rows)


async def show_case(ctx: Context, argument: str | int) -> list[Reply]:
    found = await find_case(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    return [await card_reply(ctx, found)]


async def show_chronology(ctx: Context, argument: str | int) -> list[Reply]:
    found = await find_case(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    await _audit_read(ctx, found, "chronology")
    case_id = found.case.id or 0
    lines = await entries_of(ctx.session, case_id)
    text = chronology_text(ctx.t, found.row, lines, ctx.zone)
    back = [[action_button(ctx.t._("返回个案 #{id}").format(id=case_id), b.OPEN, case_id)]]
    return [Reply.with_buttons(text, back)]


async def listing(ctx: Context) -> list[Reply]:
    """A care worker's open cases and the unassigned ones; the principal's: every open case."""
    _ = ctx.t._
    staff = ctx.staff
    if staff is None:
        return [not_found(ctx)]
    works = permits(ctx, Action.CASE_WORK)
    rows = await open_cases(
        ctx.session,
        school_id=ctx.school.id or 0,
        zone=ctx.zone,
        worker_id=staff.id if works else None,
    )
    if not rows:
        return [Reply(_("目前没有未结案的个案。"))]
    head = (
        _("您跟进的和待接手的个案（共 {n} 个，应联系早的在前）：")
        if works
        else _("全校未结案的个案（共 {n} 个，应联系早的在前）：")
    ).format(n=len(rows))
    shown = rows[:LISTED]
    lines = [head, *(entry(ctx.t, row, ctx.today, ctx.zone) for row in shown)]
    if len(rows) > len(shown):
        lines.append(
            _("……另有 {n} 个未列出，发送 /cases 编号 查看任意一个。").format(
                n=len(rows) - len(shown)
            )
        )
    buttons = [b.open_button(f"#{row.case.id} {who(row)}", row.case.id or 0) for row in shown]
    return [
        Reply.with_buttons(
            "\n".join(lines), [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        )
    ]


class CasesDraft(BaseModel):
    """`/cases` answers at once: nothing to keep."""


async def start(inbound: Inbound, draft: CasesDraft, ctx: Context, args: str) -> Transition:
    """`/cases` lists; `/cases 12` (or `#12`) opens case #12."""
    words = args.split()
    if not words:
        return Transition.end(*await listing(ctx))
    if len(words) == 1 and words[0].lstrip("#").isdigit():
        return Transition.end(*await show_case(ctx, words[0]))
    return Transition.end(Reply(ctx.t._("请发送 /cases 查看个案，/cases 编号 查看一个。")))


async def open_card(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await show_case(ctx, argument)


async def open_chronology(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await show_chronology(ctx, argument)


CASES_FLOW = Flow(
    name="cases",
    draft_type=CasesDraft,
    steps={},
    start=start,
    commands=("cases", "个案"),
    allowed=gate(Action.CASE_READ),
    refusal=N_("关爱室个案只有关爱室老师和校长可以查看。"),
    describe=N_("关爱室个案：查看、接手、评估、帮扶计划、辅导记录、结案（/cases 编号 查看一个）"),
    read_only=True,
)
