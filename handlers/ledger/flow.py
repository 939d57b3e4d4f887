"""`/ledger` (台账): the problem ledger for staff. The list, one item's card, and recording a
problem by hand (`/ledger add`: a student in the person's scope, or none for a school-wide one)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from handlers.context import Context
from handlers.flow import Flow, is_staff
from handlers.hints import too_long
from handlers.i18n import N_
from handlers.ledger.lookup import find_item
from handlers.ledger.show import card_reply, listing, show_item
from handlers.notice.converse import begin
from handlers.student_picker import TEACHER_PICKER, Empty, Picked, PickerState
from handlers.types import Button, Inbound, Reply, Transition
from models.ledger.queries import record_item
from models.ledger.rules import DESCRIPTION_LIMIT
from models.ledger.tables import LedgerSource

PICKER = TEACHER_PICKER
SCHOOL_WIDE = "none"
ADD_WORDS = ("add", "登记", "新增")


class State(StrEnum):
    STUDENT = "student"
    TEXT = "text"


class AddDraft(BaseModel):
    picker: PickerState = Field(default_factory=PickerState)
    student_id: int | None = None
    school_wide: bool = False


async def _student_question(draft: AddDraft, ctx: Context, *notes: str) -> Reply:
    _ = ctx.t._
    text, rows = await PICKER.question(draft.picker, ctx)
    head = _("登记台账：问题涉及哪位学生？也可以登记不涉及具体学生的全校性问题。")
    rows = [*rows, [Button(_("全校性问题（不涉及具体学生）"), SCHOOL_WIDE)]]
    return Reply.with_buttons("\n".join([*notes, head, text]), rows)


def _text_question(ctx: Context, *notes: str) -> Reply:
    text = ctx.t._("请描述发现的问题（不超过 {limit} 字）：").format(limit=DESCRIPTION_LIMIT)
    return Reply("\n".join([*notes, text]))


async def question(state: str, draft: AddDraft, ctx: Context) -> Reply:
    if state == State.STUDENT:
        return await _student_question(draft, ctx)
    return _text_question(ctx)


async def _begin_add(draft: AddDraft, ctx: Context, search: str) -> Transition:
    outcome = await PICKER.begin(draft.picker, ctx, search)
    if isinstance(outcome, Picked):
        draft.student_id = outcome.pupil.id
        note = ctx.t._("学生：{value}").format(value=outcome.pupil.label)
        return Transition.to(State.TEXT, _text_question(ctx, note))
    if isinstance(outcome, Empty):
        draft.school_wide = True
        note = ctx.t._("您名下没有学生，将登记为全校性问题。")
        return Transition.to(State.TEXT, _text_question(ctx, note))
    return Transition.to(State.STUDENT, await _student_question(draft, ctx, *outcome.notes))


async def start(inbound: Inbound, draft: AddDraft, ctx: Context, args: str) -> Transition:
    """`/ledger`, `/ledger 12` (or `#12`), `/ledger add [名字]`."""
    staff = ctx.staff
    words = args.split(maxsplit=1)
    if staff is None:
        return Transition.end(Reply(ctx.t._("这项功能只对本校教师开放。")))
    if not words:
        return Transition.end(*await listing(ctx, staff))
    if words[0].lower() in ADD_WORDS:
        return await _begin_add(draft, ctx, words[1] if len(words) > 1 else "")
    if words[0].lstrip("#").isdigit() and len(words) == 1:
        return Transition.end(*await show_item(ctx, words[0]))
    return Transition.end(
        Reply(ctx.t._("请发送 /ledger 查看台账，/ledger 编号 查看一条，/ledger add 登记新问题。"))
    )


async def choose_student(inbound: Inbound, draft: AddDraft, ctx: Context) -> Transition:
    if inbound.callback == SCHOOL_WIDE:
        draft.school_wide, draft.student_id = True, None
        return Transition.to(State.TEXT, _text_question(ctx))
    outcome = await PICKER.answer(inbound, draft.picker, ctx)
    if isinstance(outcome, Picked):
        draft.student_id = outcome.pupil.id
        note = ctx.t._("学生：{value}").format(value=outcome.pupil.label)
        return Transition.to(State.TEXT, _text_question(ctx, note))
    if isinstance(outcome, Empty):
        return Transition.end(Reply(outcome.text))
    return Transition.to(State.STUDENT, await _student_question(draft, ctx, *outcome.notes))


async def describe(inbound: Inbound, draft: AddDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = " ".join((inbound.text or "").split())
    if inbound.callback is not None or not text:
        return Transition.to(State.TEXT, _text_question(ctx, _("请用文字描述问题。")))
    if len(text) > DESCRIPTION_LIMIT:
        return Transition.to(
            State.TEXT, _text_question(ctx, too_long(ctx, DESCRIPTION_LIMIT, len(text)))
        )
    staff = ctx.staff
    if staff is None or (draft.student_id is None and not draft.school_wide):
        return Transition.end(Reply(_("这项操作已不可用，请重新开始。")))
    if draft.student_id is not None:
        pupil = await PICKER.pupil(ctx, draft.student_id)
        if pupil is None:
            return Transition.end(Reply(_(PICKER.refused)))
    item = await record_item(
        ctx.session,
        school_id=ctx.school.id or 0,
        source=LedgerSource.MANUAL,
        source_id=None,
        student_id=draft.student_id,
        description=text,
        recorded_by=staff.id,
        now=ctx.now,
    )
    found = await find_item(ctx, item.id or 0)
    note = _("已登记为台账 #{id}，德育处会分类并指定负责人。").format(id=item.id)
    return Transition.end(await card_reply(ctx, found, note) if found else Reply(note))


async def open_add(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """登记新问题 under a list: the same as `/ledger add`."""
    draft = AddDraft()
    started = await _begin_add(draft, ctx, "")
    state = started.next_state or State.TEXT
    return await begin(
        inbound, ctx, flow="ledger", state=state, draft=draft, reply=started.replies[-1]
    )


LEDGER_FLOW = Flow(
    name="ledger",
    draft_type=AddDraft,
    steps={State.STUDENT: choose_student, State.TEXT: describe},
    start=start,
    commands=("ledger", "台账"),
    allowed=is_staff,
    describe=N_(
        "问题台账：查看、分类、跟进和办结家访等发现的问题（/ledger 编号 查看一条，/ledger add 登记）"
    ),
    draft_noun=N_("台账登记"),
)
