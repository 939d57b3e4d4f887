"""A visit finds a child left behind (or no longer so): 德育处 approves or refuses the change of
the student's 留守 tag, instead of waiting for the next roster import.

The visit's save proposes it (`propose`) and every bound account of every 德育处 admin gets the
proposal with 同意 / 不同意; the first decision wins, and a later or forged press changes
nothing. Approving writes the roster inside the update: the one sanctioned place
(`UpdateTx.writing_kept_tables`).
"""

from __future__ import annotations

from handlers.actions import Action, action_button
from handlers.context import Context
from handlers.i18n import translator
from handlers.types import Inbound, Reply
from models.audit.tables import TAGS_READ, Entry, audit_all, tags_read
from models.families.queries import apply_tag, decide, propose_tag
from models.families.rules import tag_change
from models.quota.rules import LEFT_BEHIND_TAG
from models.roster.tables import Staff, StaffRole, Student
from models.visits.queries import problem_recipients
from models.visits.tables import Visit

APPROVE, REFUSE = "tag_ok", "tag_no"


async def propose(
    ctx: Context,
    *,
    visit: Visit,
    student: Student,
    class_name: str,
    teacher: Staff,
    parents_away: bool | None,
) -> str | None:
    """After a save whose household form answered 父母外出务工: propose the tag change to
    德育处 when the answer differs from the roster; the line to tell the teacher, or None."""
    add = tag_change(student.tag_list(), parents_away)
    if add is None:
        return None
    proposal = await propose_tag(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        student_id=student.id or 0,
        tag=LEFT_BEHIND_TAG,
        add=add,
        visit_id=visit.id or 0,
        proposed_by=teacher.id or 0,
    )
    _ = ctx.t._
    student_id = student.id or 0
    if proposal is None:
        await tags_read(ctx.session, actor=f"staff:{teacher.id}", student_ids=[student_id])
        return _("德育处尚未处理此前对该生留守标记的调整建议。")
    recipients = await problem_recipients(session=ctx.session, school_id=ctx.school.id or 0)
    # What the teacher is told and what 德育处 are asked both say whether the child is 留守.
    readers = {teacher.id or 0, *(a.person_id for a in recipients)}
    detail = f"proposal:{proposal.id}"
    entries = [
        Entry(f"staff:{r}", TAGS_READ, f"student:{student_id}", detail, student_id)
        for r in sorted(readers)
    ]
    await audit_all(ctx.session, entries)
    for account in recipients:
        t = translator(account.language)
        text = (
            t._(
                "【留守儿童标记】{teacher}家访{klass}{student}时了解到：父母都在外地务工。"
                "是否将该生标记为留守儿童？"
            )
            if add
            else t._(
                "【留守儿童标记】{teacher}家访{klass}{student}时了解到：父母已不在外地务工。"
                "是否取消该生的留守儿童标记？"
            )
        ).format(teacher=teacher.name, klass=class_name, student=student.name)
        reply = Reply.with_buttons(
            text,
            [
                [
                    action_button(t._("同意"), APPROVE, proposal.id or 0),
                    action_button(t._("不同意"), REFUSE, proposal.id or 0),
                ]
            ],
        )
        await ctx.notify(
            key=f"tag-proposal:{proposal.id}:{account.id}",
            kind="tag_proposal",
            account=account,
            reply=reply,
        )
    if add:
        return _("已请德育处确认是否将该生标记为留守儿童。")
    return _("已请德育处确认是否取消该生的留守儿童标记。")


async def _decide(inbound: Inbound, argument: str, ctx: Context, *, approve: bool) -> list[Reply]:
    _ = ctx.t._
    staff = ctx.staff
    if staff is None or StaffRole.ADMIN not in staff.role_set():
        return [Reply(_("这个按钮不适用于您。"))]
    if not (argument.isascii() and argument.isdigit() and len(argument) < 12):
        return [Reply(_("这个按钮已失效。"))]
    proposal = await decide(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        proposal_id=int(argument),
        approve=approve,
        staff_id=staff.id or 0,
        now=ctx.now,
    )
    if proposal is None:
        return [Reply(_("这项调整已经处理过了。"))]
    student = await ctx.session.get(Student, proposal.student_id)
    name = student.name if student is not None else ""
    if not approve:
        return [Reply(_("已保留{student}原来的标记。").format(student=name))]
    async with ctx.tx.writing_kept_tables():
        await apply_tag(session=ctx.session, proposal=proposal)
    if proposal.add:
        return [Reply(_("已将{student}标记为留守儿童。").format(student=name))]
    return [Reply(_("已取消{student}的留守儿童标记。").format(student=name))]


async def approve(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _decide(inbound, argument, ctx, approve=True)


async def refuse(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await _decide(inbound, argument, ctx, approve=False)


TAG_ACTIONS = [Action(APPROVE, approve), Action(REFUSE, refuse)]
