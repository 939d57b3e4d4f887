"""`/care` (求助): a guardian asks the care room for help for one of their children — which
child (when there are several), what they want help with — and is told it was received. The
care room is told at once; the guardian later sees the stage alone (`/care 进展`, or the button
on the receipt). Guardians only."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from handlers.care.intake import record_case
from handlers.care.stage import my_stages, stage_button, stages_text
from handlers.context import Context
from handlers.flow import Flow, with_typed_labels
from handlers.hints import button_note, too_long
from handlers.i18n import N_
from handlers.parent_messages.common import CHILD_PREFIX, child_buttons, child_label
from handlers.permissions import gate
from handlers.types import Button, Inbound, Reply, Transition
from models.care.rules import NOTICED_LIMIT
from models.care.tables import CareCase, CaseIntake, CaseUrgency
from models.notices.publishing import Child
from models.parents.queries import children_with_relation
from models.permissions.matrix import Action

STATUS_WORDS = ("进展", "状态", "status")
SUBMIT, CANCEL = "submit", "cancel"


class State(StrEnum):
    CHILD = "child"
    TEXT = "text"
    CONFIRM = "confirm"


class CareDraft(BaseModel):
    student_id: int | None = None
    text: str = ""


async def _children(ctx: Context) -> list[Child]:
    if ctx.guardian is None:
        return []
    return await children_with_relation(session=ctx.session, guardian_id=ctx.guardian.id or 0)


async def _child(ctx: Context, student_id: int | None) -> Child | None:
    """The guardian's own child with this id (a forged id gives None)."""
    return next((c for c in await _children(ctx) if c.student.id == student_id), None)


#: The guardian's answer after 提交 (in the chat and on the WeCom care page).
RECEIVED = N_(
    "已收到您的求助，状态：已受理。关爱室老师会尽快与您联系。如遇紧急情况，请直接打电话给班主任或学校。"
)


def text_problem(ctx: Context, text: str) -> str | None:
    """Why `text` (already trimmed) cannot be sent as the request (empty, too long), or None."""
    if not text:
        return ctx.t._("请用文字写下您希望得到的帮助。")
    if len(text) > NOTICED_LIMIT:
        return too_long(ctx, NOTICED_LIMIT, len(text))
    return None


async def request_help(ctx: Context, child: Child, text: str) -> CareCase:
    """What 提交 does, in the chat and on the WeCom care page (`bot.web.care_page`): open the
    guardian's case for `child` (one of theirs, checked by the caller) with `text` (checked by
    `text_problem`) in this transaction, and tell the care room."""
    return await record_case(
        ctx,
        student_id=child.student.id or 0,
        student_label=f"{child.klass.name} {child.student.name}",
        intake=CaseIntake.GUARDIAN,
        urgency=CaseUrgency.NORMAL,
        noticed=text,
    )


async def question(state: str, draft: CareDraft, ctx: Context) -> Reply:
    _ = ctx.t._
    if state == State.CHILD:
        return Reply.with_buttons(
            _("您想为哪个孩子向关爱室求助？"), child_buttons(await _children(ctx))
        )
    if state == State.TEXT:
        return Reply(
            _(
                "请写下您希望关爱室帮助的事情（不超过 {limit} 字）。内容保密，只有关爱室老师和校长能看到。"
            ).format(limit=NOTICED_LIMIT)
        )
    child = await _child(ctx, draft.student_id)
    lines = [
        _("请核对："),
        _("孩子：{value}").format(value=child_label(child) if child else ""),
        _("求助内容：{value}").format(value=draft.text),
    ]
    return Reply.with_buttons(
        "\n".join(lines), [[Button(_("提交"), SUBMIT), Button(_("取消"), CANCEL)]]
    )


async def ask(state: State, draft: CareDraft, ctx: Context, *notes: str) -> Transition:
    reply = await question(state, draft, ctx)
    if notes:
        reply = Reply.with_buttons("\n".join([*notes, reply.text]), reply.buttons)
    return Transition.to(state, reply)


async def start(inbound: Inbound, draft: CareDraft, ctx: Context, args: str) -> Transition:
    """`/care` asks (listing earlier requests' stages first); `/care 进展` shows the stages."""
    _ = ctx.t._
    typed = args.strip()
    stages = await my_stages(ctx)
    if typed.lower() in STATUS_WORDS:
        if not stages:
            return Transition.end(Reply(_("您还没有向关爱室求助过。")))
        return Transition.end(Reply(stages_text(ctx, stages)))
    notes = [stages_text(ctx, stages)] if stages else []
    children = await _children(ctx)
    if not children:
        return Transition.end(Reply(_("名册中没有找到您的孩子，请联系班主任。")))
    if typed:
        if len(typed) > NOTICED_LIMIT:
            notes.append(too_long(ctx, NOTICED_LIMIT, len(typed)))
        else:
            draft.text = typed
    if len(children) == 1:
        draft.student_id = children[0].student.id
        return await ask(State.CONFIRM if draft.text else State.TEXT, draft, ctx, *notes)
    return await ask(State.CHILD, draft, ctx, *notes)


async def choose_child(inbound: Inbound, draft: CareDraft, ctx: Context) -> Transition:
    data = inbound.callback or ""
    value = data[len(CHILD_PREFIX) :] if data.startswith(CHILD_PREFIX) else ""
    child = await _child(ctx, int(value)) if value.isdigit() else None
    if child is None:
        return await ask(State.CHILD, draft, ctx, button_note(inbound, ctx))
    draft.student_id = child.student.id
    return await ask(State.CONFIRM if draft.text else State.TEXT, draft, ctx)


async def write_text(inbound: Inbound, draft: CareDraft, ctx: Context) -> Transition:
    text = "" if inbound.callback is not None else (inbound.text or "").strip()
    problem = text_problem(ctx, text)
    if problem is not None:
        return await ask(State.TEXT, draft, ctx, problem)
    draft.text = text
    return await ask(State.CONFIRM, draft, ctx)


async def confirm(inbound: Inbound, draft: CareDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    if inbound.callback == CANCEL:
        return Transition.end(Reply(_("已取消，没有提交。")))
    if inbound.callback != SUBMIT:
        return await ask(State.CONFIRM, draft, ctx, button_note(inbound, ctx))
    child = await _child(ctx, draft.student_id)
    if child is None or not draft.text:
        return Transition.end(Reply(_("这项操作已不可用，请重新开始。")))
    case = await request_help(ctx, child, draft.text)
    return Transition.end(Reply.with_buttons(_(RECEIVED), stage_button(ctx, case.id or 0)))


STEPS = {State.CHILD: choose_child, State.TEXT: write_text, State.CONFIRM: confirm}

CARE_FLOW = Flow(
    name="care",
    draft_type=CareDraft,
    steps=with_typed_labels(STEPS, question, except_in=(State.TEXT,)),
    start=start,
    commands=("care", "求助"),
    allowed=gate(Action.CASE_REQUEST),
    refusal=N_("向关爱室求助（/care）是给家长用的；老师请用 /refer 转介学生。"),
    describe=N_("为孩子向学校关爱室求助（保密）；/care 进展 查看处理阶段"),
    draft_noun=N_("关爱室求助"),
)
