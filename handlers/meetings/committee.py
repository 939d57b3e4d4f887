"""The parent committee 家长委员会, kept by 德育处 (and the principal): `/meeting` → 家委会成员
lists the members with 移除 buttons and 添加成员, which asks for a student's 学号 and, when the
student has more than one guardian, which of them joins. The command line does the same
(`python -m bot committee add|remove|list`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from handlers.actions import action_button, record_id
from handlers.context import Context
from handlers.meetings import buttons as b
from handlers.meetings.plan import whole_school
from handlers.notice.converse import begin
from handlers.types import Button, Inbound, Reply, Transition, callback_rest
from models.meetings.queries import (
    add_member,
    committee_members,
    guardians_of,
    remove_member,
    student_by_number,
)

FLOW = "committee"
GUARDIAN = "g:"


class State(StrEnum):
    NUMBER = "number"
    GUARDIAN = "guardian"


class CommitteeDraft(BaseModel):
    student_id: int | None = None


def gone(ctx: Context) -> Reply:
    return Reply(ctx.t._("这个按钮已失效。"))


async def members_reply(ctx: Context, *notes: str) -> Reply:
    _ = ctx.t._
    entries = await committee_members(session=ctx.session, school_id=ctx.school.id or 0)
    lines = [*notes, _("家长委员会成员（{count} 人）：").format(count=len(entries))]
    rows: list[list[Button]] = []
    for number, entry in enumerate(entries, start=1):
        relation = entry.relation or _("家长")
        lines.append(
            f"{number}. {entry.guardian.name}（{entry.klass.name} {entry.student.name}的{relation}）"
        )
        rows.append(
            [
                action_button(
                    _("移除 {name}").format(name=entry.guardian.name),
                    b.COMMITTEE_REMOVE,
                    entry.member.id or 0,
                )
            ]
        )
    if not entries:
        lines.append(_("（还没有成员）"))
    rows.append([action_button(_("添加成员"), b.COMMITTEE_ADD, 0)])
    return Reply.with_buttons("\n".join(lines), rows)


async def show_members(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    if not whole_school(ctx):
        return [gone(ctx)]
    return [await members_reply(ctx)]


def _number_question(ctx: Context, *notes: str) -> Reply:
    text = ctx.t._("添加家委会成员：请输入学生的学号（成员是这个学生的家长）。发送 /cancel 放弃。")
    return Reply("\n".join([*notes, text]))


async def open_add(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    if not whole_school(ctx):
        return [gone(ctx)]
    return await begin(
        inbound,
        ctx,
        flow=FLOW,
        state=State.NUMBER,
        draft=CommitteeDraft(),
        reply=_number_question(ctx),
    )


async def remove(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    member_id = record_id(argument)
    if not whole_school(ctx) or member_id is None or ctx.staff is None:
        return [gone(ctx)]
    removed = await remove_member(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        member_id=member_id,
        by=ctx.staff.id or 0,
    )
    note = ctx.t._("已移除。") if removed else ctx.t._("这位成员已经不在家委会中。")
    return [await members_reply(ctx, note)]


async def _add(ctx: Context, student_id: int, guardian_id: int) -> Transition:
    staff = ctx.staff
    assert staff is not None
    member = await add_member(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        guardian_id=guardian_id,
        student_id=student_id,
        by=staff.id or 0,
        now=ctx.now,
    )
    note = ctx.t._("已添加。") if member else ctx.t._("这位家长已经是家委会成员。")
    return Transition.end(await members_reply(ctx, note))


async def type_number(inbound: Inbound, draft: CommitteeDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = (inbound.text or "").strip() if inbound.callback is None else ""
    if not text:
        return Transition.to(State.NUMBER, _number_question(ctx, _("请用文字输入学号。")))
    found = await student_by_number(
        session=ctx.session, school_id=ctx.school.id or 0, student_no=text
    )
    if found is None:
        note = _("没有找到学号为 {number} 的在读学生，请核对后重新输入。").format(number=text[:32])
        return Transition.to(State.NUMBER, _number_question(ctx, note))
    student, _klass = found
    guardians = await guardians_of(session=ctx.session, student_id=student.id or 0)
    if not guardians:
        note = _("{name}在名册中没有家长信息，无法添加。").format(name=student.name)
        return Transition.to(State.NUMBER, _number_question(ctx, note))
    draft.student_id = student.id
    if len(guardians) == 1:
        return await _add(ctx, student.id or 0, guardians[0][0].id or 0)
    return Transition.to(State.GUARDIAN, await _guardian_question(ctx, draft))


async def _guardian_question(ctx: Context, draft: CommitteeDraft, *notes: str) -> Reply:
    guardians = await guardians_of(session=ctx.session, student_id=draft.student_id or 0)
    buttons = [
        [Button(f"{g.name}（{link.relation or ctx.t._('家长')}）", f"{GUARDIAN}{g.id}")]
        for g, link in guardians
    ]
    return Reply.with_buttons("\n".join([*notes, ctx.t._("请选择加入家委会的家长：")]), buttons)


async def choose_guardian(inbound: Inbound, draft: CommitteeDraft, ctx: Context) -> Transition:
    guardians = await guardians_of(session=ctx.session, student_id=draft.student_id or 0)
    wanted = record_id(callback_rest(inbound.callback, GUARDIAN) or "")
    chosen = [g for g, _link in guardians if g.id == wanted]
    if not chosen:
        note = ctx.t._("请点下面的按钮选择家长。")
        return Transition.to(State.GUARDIAN, await _guardian_question(ctx, draft, note))
    return await _add(ctx, draft.student_id or 0, chosen[0].id or 0)
