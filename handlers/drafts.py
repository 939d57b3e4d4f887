"""Drafts: an unfinished conversation parked to be resumed later, and `/drafts` (草稿).

A conversation is parked when its owner chooses 保存草稿 before a command, when it has been idle
past the timeout, or when another draft is resumed over it. `/drafts` lists the person's drafts
with a button to resume each (flow, state and draft restored, that question asked again) and one
to delete it. The dispatcher registers the flow and its buttons itself (`actions`): every channel
and every set of flows has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import Action, action_button, record_id
from handlers.context import Context
from handlers.duty_notices import format_moment
from handlers.flow import DraftLabel, Flow
from handlers.going_back import choices_of, join, split
from handlers.i18n import N_, Translator
from handlers.types import Button, Inbound, Reply, Transition
from models.conversations.store import ConversationState
from models.drafts.queries import draft_of, drafts_of, park, remove
from models.drafts.tables import Draft

#: Button data of the question asked when a command comes mid-flow.
GO_ON, SAVE, DROP = "park:go_on", "park:save", "park:drop"
#: Action names of the buttons under /drafts.
RESUME, DISCARD = "dres", "ddel"


def park_question(t: Translator, label: DraftLabel | None, flow: Flow) -> Reply:
    """`您正在记录张小明的家访，要先保存草稿吗？` with 继续记录 / 保存草稿 / 放弃."""
    if label is not None and label.doing:
        text = t._("您正在{doing}，要先保存草稿吗？").format(doing=label.doing)
    else:
        text = t._("您有一项未完成的操作（{what}），要先保存草稿吗？").format(
            what=t._(flow.describe) if flow.describe else flow.name
        )
    buttons = [
        Button(t._("继续记录"), GO_ON),
        Button(t._("保存草稿"), SAVE),
        Button(t._("放弃"), DROP),
    ]
    return Reply.with_buttons(text, [buttons])


def park_choice(inbound: Inbound, t: Translator) -> str | None:
    """GO_ON, SAVE or DROP when `inbound` presses (or types the label of) one of those buttons."""
    if inbound.callback in (GO_ON, SAVE, DROP):
        return inbound.callback
    typed = (inbound.text or "").strip()
    labels = {t._("继续记录"): GO_ON, t._("保存草稿"): SAVE, t._("放弃"): DROP}
    return labels.get(typed) if inbound.callback is None else None


async def describe(
    flow: Flow | None, draft: dict[str, object], session: AsyncSession, t: Translator
) -> DraftLabel:
    """What the conversation is: the flow's own describer, else `记录一次家访` from /help."""
    if flow is not None and flow.describe_draft is not None:
        try:
            model: BaseModel = flow.load_draft(draft)
        except ValidationError:
            model = flow.new_draft()
        label = await flow.describe_draft(model, session, t)
        if label is not None:
            return label
    return DraftLabel(doing="")


def label_text(t: Translator, label: DraftLabel, flow: Flow | None, flow_name: str) -> str:
    """The label a person reads in lists and notes: `记录张小明的家访`, else the flow's words."""
    if label.doing:
        return label.doing
    if flow is not None and flow.describe:
        return t._(flow.describe)
    return flow_name


async def park_conversation(
    *,
    session: AsyncSession,
    school_id: int,
    channel: str,
    external_id: str,
    chat_id: str,
    conversation: ConversationState,
    flow: Flow | None,
    t: Translator,
    now: datetime,
) -> Draft:
    """Keep `conversation` as a draft (the caller ends the conversation itself)."""
    draft, notes = split(conversation.draft)
    notes.pending = None
    label = await describe(flow, draft, session, t)
    return await park(
        session=session,
        draft=Draft(
            school_id=school_id,
            channel=channel,
            external_id=external_id,
            chat_id=chat_id,
            flow=conversation.flow,
            state=conversation.state,
            draft=join(draft, notes),
            label=label_text(t, label, flow, conversation.flow)[:200],
            about=label.about[:100],
            created_at=now,
            updated_at=conversation.updated_at,
        ),
    )


def saved_text(t: Translator, draft: Draft) -> str:
    return t._("已保存为草稿（{label}）。发送 /drafts 可以继续。").format(label=draft.label)


async def park_current(inbound: Inbound, ctx: Context, flows: Mapping[str, Flow]) -> Reply | None:
    """Park the person's conversation in progress, if any, and say so."""
    turn = ctx.turn
    if turn is None or turn.conversation is None or ctx.account is None:
        return None
    parked = await park_conversation(
        session=ctx.session,
        school_id=ctx.account.school_id,
        channel=inbound.channel,
        external_id=inbound.user_id,
        chat_id=inbound.chat_id,
        conversation=turn.conversation,
        flow=flows.get(turn.conversation.flow),
        t=ctx.t,
        now=ctx.now,
    )
    await turn.drop()
    return Reply(saved_text(ctx.t, parked))


# -- /drafts ----------------------------------------------------------------------------------


class DraftsDraft(BaseModel):
    """A one-shot command keeps nothing."""


def touched(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    return t._("最后编辑于 {moment}").format(moment=format_moment(t, moment, zone))


async def list_drafts(inbound: Inbound, draft: DraftsDraft, ctx: Context, args: str) -> Transition:
    _ = ctx.t._
    drafts = await drafts_of(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        channel=inbound.channel,
        external_id=inbound.user_id,
    )
    if not drafts:
        return Transition.end(Reply(_("您没有保存的草稿。")))
    lines = [_("您的草稿（{count} 份，最近编辑的在前）：").format(count=len(drafts))]
    rows: list[list[Button]] = []
    for number, kept in enumerate(drafts, start=1):
        lines.append(f"{number}. {kept.label}（{touched(ctx.t, kept.updated_at, ctx.zone)}）")
        rows.append(
            [
                action_button(_("继续第 {number} 份").format(number=number), RESUME, kept.id or 0),
                action_button(_("删除第 {number} 份").format(number=number), DISCARD, kept.id or 0),
            ]
        )
    lines.append(_("草稿超过 {days} 天未继续会被清除。").format(days=ctx.rules.draft_keep_days))
    return Transition.end(Reply.with_buttons("\n".join(lines), rows))


def anyone_bound(ctx: Context) -> bool:
    return ctx.staff is not None or ctx.guardian is not None


DRAFTS_FLOW = Flow(
    name="drafts",
    draft_type=DraftsDraft,
    steps={},
    start=list_drafts,
    commands=("drafts", "草稿"),
    allowed=anyone_bound,
    describe=N_("查看和继续未完成的草稿"),
    read_only=True,
)


def actions(flows: Mapping[str, Flow]) -> list[Action]:
    """The buttons under /drafts: 继续 (resume) and 删除 (discard), over the dispatcher's flows."""

    async def find(inbound: Inbound, argument: str, ctx: Context) -> Draft | None:
        return await draft_of(
            session=ctx.session,
            draft_id=record_id(argument) or 0,
            school_id=ctx.school.id or 0,
            channel=inbound.channel,
            external_id=inbound.user_id,
        )

    async def resume(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
        _ = ctx.t._
        kept = await find(inbound, argument, ctx)
        if kept is None:
            return [Reply(_("这份草稿已经不在了（已继续、已删除或已过期）。发送 /drafts 查看。"))]
        flow = flows.get(kept.flow)
        if flow is None or kept.state not in flow.steps or not flow.allowed(ctx):
            await remove(session=ctx.session, draft=kept)
            return [Reply(_("这份草稿已无法继续，已删除。"))]
        turn = ctx.turn
        if turn is None:
            raise RuntimeError("a draft can only be resumed inside an update")
        notes: list[Reply] = []
        if turn.conversation is not None:
            parked = await park_current(inbound, ctx, flows)
            if parked is not None:
                notes.append(parked)
        await remove(session=ctx.session, draft=kept)
        _draft, engine = split(kept.draft)
        asked = engine.asked_replies()
        await turn.save(
            chat_id=inbound.chat_id,
            flow=kept.flow,
            state=kept.state,
            draft=kept.draft,
            choices=choices_of(asked),
            now=ctx.now,
        )
        intro = Reply(_("继续草稿：{label}").format(label=kept.label))
        if not asked:
            asked = [Reply(_("请接着回答上一个问题。"))]
        return [*notes, intro, *asked]

    async def discard(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
        _ = ctx.t._
        kept = await find(inbound, argument, ctx)
        if kept is None:
            return [Reply(_("这份草稿已经不在了（已继续、已删除或已过期）。发送 /drafts 查看。"))]
        await remove(session=ctx.session, draft=kept)
        return [Reply(_("已删除草稿：{label}").format(label=kept.label))]

    return [Action(RESUME, resume), Action(DISCARD, discard)]
