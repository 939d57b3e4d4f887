"""Looking feedback up: `/feedback <反馈编号>` shows what became of one, and `/feedback` alone
lists the guardian's own named feedback above its first question.

A code opens a feedback of the guardian's own school only; a named feedback only for its author
(an anonymous one for whoever holds its code: that is what the code is for). What is shown is
the kind, the date and the status — 待受理, 处理中, or 已办结 with its outcome and the closing
note — and never the name of a member of staff.

**Guessing codes.** A code is 8 letters of 31 (about 2^40), so guessing one is hopeless anyway;
to keep it so, a guardian may try at most `UNKNOWN_CODES_PER_DAY` unknown codes a day, after
which no code is looked up until the next day. The count is a simple query on the audit log,
where each unknown code leaves a line (`feedback.unknown_code`, the guardian, the moment; never
the code tried). The limits machinery (`models.limits`) was not used: it counts messages that
reached staff, read back from the rows those messages left, and a failed lookup leaves no such
row; the audit log is where refusals are already recorded, survives restarts and is shared by
every worker. A code that is found leaves no line at all: a line "this guardian opened this
anonymous feedback" would name its author.
"""

from __future__ import annotations

import re
from datetime import datetime, time

from handlers.context import Context
from handlers.feedback.render import kind_label, standing, status_text
from handlers.types import Reply
from models.feedback.queries import (
    feedback_by_code,
    feedback_of_guardian,
    item_of,
    last_event,
    record_unknown_code,
    unknown_codes_since,
)
from models.ledger.tables import LedgerEventKind, LedgerStatus

#: Unknown codes a guardian may try in a day (the school's local day).
UNKNOWN_CODES_PER_DAY = 10
#: Own feedback listed by `/feedback`.
LISTED = 5

#: What is read as a code: Latin letters and digits, perhaps spaced or dashed (`ab3k-7mqp`).
_CODE_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{2,18}[A-Za-z0-9]")


def looks_like_code(text: str) -> bool:
    return _CODE_LIKE.fullmatch(text.strip()) is not None


async def look_up(ctx: Context, typed: str) -> Reply:
    """The feedback with the code `typed`, as its holder may see it."""
    guardian = ctx.guardian
    assert guardian is not None and guardian.id is not None
    day_began = datetime.combine(ctx.today, time(0), ctx.zone)
    misses = await unknown_codes_since(ctx.session, guardian_id=guardian.id, since=day_began)
    if misses >= UNKNOWN_CODES_PER_DAY:
        return Reply(
            ctx.t._(
                "今天输入错误的反馈编号已达 {count} 次，请明天再查询。如需帮助，请联系班主任。"
            ).format(count=UNKNOWN_CODES_PER_DAY)
        )
    feedback = await feedback_by_code(ctx.session, school_id=ctx.school.id or 0, code=typed)
    if feedback is not None and not feedback.anonymous and feedback.guardian_id != guardian.id:
        feedback = None
    if feedback is None:
        await record_unknown_code(ctx.session, guardian_id=guardian.id, now=ctx.now)
        return Reply(ctx.t._("没有找到这个反馈编号，请核对后再试。"))
    item = await item_of(ctx.session, feedback)
    closing = None
    if item is not None and item.status is LedgerStatus.CLOSED:
        closing = await last_event(ctx.session, item_id=item.id or 0, kind=LedgerEventKind.CLOSED)
    return Reply(standing(ctx.t, feedback, item, closing, ctx.zone))


async def own_feedback(ctx: Context) -> str:
    """`您提交过的意见：` and a line for each of the guardian's latest named feedback ("" for
    none). Anonymous feedback is not theirs to list: nothing links it to them."""
    guardian = ctx.guardian
    assert guardian is not None and guardian.id is not None
    mine = await feedback_of_guardian(ctx.session, guardian_id=guardian.id, limit=LISTED)
    if not mine:
        return ""
    _ = ctx.t._
    lines = [_("您提交过的意见：")]
    for feedback in mine:
        item = await item_of(ctx.session, feedback)
        local = feedback.created_at.astimezone(ctx.zone)
        lines.append(
            _("{month}月{day}日 {kind}（编号 {code}）：{status}").format(
                month=local.month,
                day=local.day,
                kind=kind_label(ctx.t, feedback.kind),
                code=feedback.code,
                status=status_text(ctx.t, item, None),
            )
        )
    lines.append(_("发送 /feedback 编号 可查看处理结果。"))
    return "\n".join(lines)
