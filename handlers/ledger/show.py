"""What `/ledger` shows: one item's card with what the person may do, its history, a person's
open items, and 德育处's view of the school."""

from __future__ import annotations

from handlers.actions import action_button
from handlers.context import Context
from handlers.ledger import buttons as b
from handlers.ledger.lookup import Found, allowed, find_item
from handlers.ledger.render import (
    card,
    counts_text,
    entry,
    entry_button_label,
    history_text,
)
from handlers.ledger.source import source_details
from handlers.types import Button, Reply
from models.ledger.access import may_manage
from models.ledger.views import (
    ItemRow,
    counts_by_class,
    history_of,
    needing_attention,
    open_items_of,
    owner_names,
)
from models.roster.tables import Staff

#: Items listed (each with its button) in one message.
LISTED = 10


def not_found(ctx: Context) -> Reply:
    return Reply(ctx.t._("没有找到这条台账，或您没有查看它的权限。"))


async def card_reply(ctx: Context, found: Found, *notes: str) -> Reply:
    """The item's card, `notes` above it, and the buttons of what the person may do now."""
    _ = ctx.t._
    may = await allowed(ctx, found)
    item_id = found.item.id or 0
    row: list[Button] = []
    if may.classify:
        label = _("分类并指派") if found.item.owner_id is None else _("改分类或负责人")
        row.append(action_button(label, b.CLASSIFY, item_id))
    if may.note:
        row.append(action_button(_("记录进展"), b.NOTE, item_id))
    if may.reply:
        row.append(action_button(_("记录上级答复"), b.REPLY, item_id))
    if may.close:
        row.append(action_button(_("办结"), b.CLOSE, item_id))
    if may.reopen:
        row.append(action_button(_("重新打开"), b.REOPEN, item_id))
    text = card(
        ctx.t,
        found.row,
        today=ctx.today,
        zone=ctx.zone,
        feedback=found.feedback,
        author=found.author,
    )
    source, opens = await source_details(ctx.session, found.item, ctx.t, ctx.zone)
    if source:
        text += "\n" + source
    rows = [row[i : i + 3] for i in range(0, len(row), 3)]
    rows.append([action_button(_("查看记录"), b.LOG, item_id), *opens])
    return Reply.with_buttons("\n".join([*notes, text]), rows)


async def show_item(ctx: Context, argument: str | int) -> list[Reply]:
    found = await find_item(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    return [await card_reply(ctx, found)]


async def show_history(ctx: Context, argument: str | int) -> list[Reply]:
    found = await find_item(ctx, argument)
    if found is None:
        return [not_found(ctx)]
    item_id = found.item.id or 0
    lines = await history_of(ctx.session, item_id)
    names = await owner_names(ctx.session, lines)
    text = history_text(ctx.t, item_id, lines, ctx.zone, names)
    back = [[action_button(ctx.t._("返回台账 #{id}").format(id=item_id), b.OPEN, item_id)]]
    return [Reply.with_buttons(text, back)]


def _listed(ctx: Context, rows: list[ItemRow]) -> tuple[list[str], list[list[Button]]]:
    lines = [entry(ctx.t, row, ctx.today) for row in rows]
    buttons = [b.open_button(entry_button_label(row), row.item.id or 0) for row in rows]
    return lines, [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def _more(ctx: Context, total: int, shown: int) -> list[str]:
    if total <= shown:
        return []
    return [
        ctx.t._("……另有 {n} 条未列出，发送 /ledger 编号 查看任意一条。").format(n=total - shown)
    ]


async def overview(ctx: Context, staff: Staff) -> list[Reply]:
    """For 德育处 and the principal: counts by class and status, then what needs attention."""
    _ = ctx.t._
    counts = await counts_by_class(ctx.session, staff, today=ctx.today)
    if not counts:
        return [
            Reply(
                _(
                    "问题台账中还没有任何记录。家访中发现需要学校处理的问题、突发事件和家长意见会自动登记；也可以发送 /ledger add 手动登记。"
                )
            )
        ]
    rows, total = await needing_attention(ctx.session, staff, today=ctx.today, limit=LISTED)
    lines = [_("问题台账（全校，按班级）："), *counts_text(ctx.t, counts)]
    if rows:
        lines.append("")
        lines.append(_("需要关注（共 {n} 条，逾期的在前，其次是待分类的）：").format(n=total))
        listed, buttons = _listed(ctx, rows)
        lines.extend([*listed, *_more(ctx, total, len(rows))])
    else:
        buttons = []
        lines.append(_("没有逾期或待分类的台账。"))
    buttons.append([action_button(_("登记新问题"), b.ADD, 0)])
    return [Reply.with_buttons("\n".join(lines), buttons)]


async def my_items(ctx: Context, staff: Staff) -> list[Reply]:
    """For a teacher: the open items they own or may see, due first."""
    _ = ctx.t._
    rows, total = await open_items_of(ctx.session, staff, limit=LISTED)
    add = [[action_button(_("登记新问题"), b.ADD, 0)]]
    if not rows:
        return [Reply.with_buttons(_("目前没有需要您跟进的台账。"), add)]
    lines = [_("您的未办结台账（共 {n} 条，到期早的在前）：").format(n=total)]
    listed, buttons = _listed(ctx, rows)
    lines.extend([*listed, *_more(ctx, total, len(rows))])
    return [Reply.with_buttons("\n".join(lines), [*buttons, *add])]


async def listing(ctx: Context, staff: Staff) -> list[Reply]:
    return await (overview(ctx, staff) if may_manage(staff) else my_items(ctx, staff))
