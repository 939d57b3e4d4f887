"""保存: check the draft once more, store the visit, alert 德育处, and show the month's progress.

Everything happens in the dispatcher's transaction: the visit, its audit entry and the alerts
are committed together with the end of the conversation, or not at all.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.family_tags import propose
from handlers.i18n import translator
from handlers.ledger.buttons import open_button
from handlers.quota import visits_name
from handlers.student_picker import TEACHER_PICKER, Pupil
from handlers.types import Button, Reply, Transition
from handlers.visit.campaign import double_text
from handlers.visit.draft import VisitDraft
from handlers.visit.questions import ask, date_note, duplicate_text, proceed, staff_of
from handlers.visit.render import problem_alert
from handlers.visit.states import State
from models.duties.queries import fulfil_duties, open_duties_for_student
from models.families.queries import remember
from models.families.rules import FamilyField
from models.ledger.queries import item_of
from models.ledger.tables import LedgerSource
from models.quota.standing import teacher_month
from models.roster.tables import Staff
from models.visits.queries import (
    problem_recipients,
    save_visit,
    visit_date_problem,
)
from models.visits.tables import Visit, VisitCreate


async def save(draft: VisitDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    staff = staff_of(ctx)
    # Scope is checked again here: the roster may have changed since the student was picked.
    pupil = await TEACHER_PICKER.pupil(ctx, draft.student_id)
    if pupil is None:
        draft.forget_student()
        note = _("这位学生已不在您任教或负责的范围内，不能保存。请重新选择学生。")
        return await proceed(draft, ctx, note)
    if draft.visit_date is not None:
        problem = visit_date_problem(draft.visit_date, today=ctx.today, school=ctx.school)
        if problem is not None:
            draft.visit_date = None
            return await proceed(draft, ctx, date_note(ctx, problem))
    if draft.visit_date is None or draft.form is None or draft.category is None:
        return await proceed(draft, ctx, _("还有必填的内容没有完成，请先补上。"))
    # Days may have passed since the date was given (a draft kept overnight): late is as of now.
    draft.set_date(draft.visit_date, today=ctx.today, limit=ctx.rules.late_filing_days)
    if draft.late_days and not draft.late_reason:
        return await proceed(draft, ctx)
    if not draft.repeat_confirmed and await duplicate_text(draft, ctx) is not None:
        # Counted once unless the teacher says it was another visit (DUPLICATE's step).
        return await ask(State.DUPLICATE, draft, ctx)
    if (
        not draft.double_confirmed
        and not draft.repeat_confirmed
        and await double_text(draft, ctx) is not None
    ):
        # Another teacher visited the household first in the 大走访 (DOUBLE_VISIT's step); a
        # visit confirmed as another one the same day was asked already.
        return await ask(State.DOUBLE_VISIT, draft, ctx)
    visit = await save_visit(
        session=ctx.session,
        visit=VisitCreate(
            visit_date=draft.visit_date,
            form=draft.form,
            category=draft.category,
            student_id=pupil.id,
            met=draft.met or "",
            school_report=draft.school_report or "",
            home_learned=draft.home_learned or "",
            family=draft.family or "",
            guidance=draft.guidance or "",
            measures=draft.measures or "",
            problems=draft.problems or "",
            needs_school=bool(draft.problems and draft.needs_school),
            notes=draft.notes,
            filed_days_late=(ctx.today - draft.visit_date).days,
            late_reason=(draft.late_reason or "") if draft.late_days else "",
        ),
        school_id=ctx.school.id or 0,
        teacher_id=staff.id or 0,
        channel=ctx.channel,
        now=ctx.now,
        repeat=draft.repeat_confirmed,
    )
    lines = [_("已保存。")]
    if draft.family_form:
        await remember(
            session=ctx.session,
            school_id=ctx.school.id or 0,
            student_id=pupil.id,
            answers=draft.family_form,
            visit_id=visit.id or 0,
            now=ctx.now,
        )
        away = draft.family_form.get(FamilyField.PARENTS_AWAY.value)
        proposed = await propose(
            ctx,
            visit=visit,
            student=pupil.student,
            class_name=pupil.klass.name,
            teacher=staff,
            parents_away=away if isinstance(away, bool) else None,
        )
        if proposed:
            lines.append(proposed)
    open_duties = await open_duties_for_student(
        session=ctx.session, teacher_id=staff.id or 0, student_id=visit.student_id
    )
    if await fulfil_duties(
        session=ctx.session, visit=visit, zone=ctx.zone, now=ctx.now, open_duties=open_duties
    ):
        lines.append(_("已完成立即家访任务。"))
    elif open_duties:
        lines.append(_("该生的立即家访任务还未完成：需要记录一次上门家访。"))
    if visit.needs_school:
        if await alert_school(ctx, visit, pupil, staff):
            lines.append(_("发现的问题已转告德育处。"))
        else:
            lines.append(
                _("德育处还没有人绑定本机器人，发现的问题已随记录保存，请另行告知德育处。")
            )
    lines += await progress_line(ctx, staff)
    return Transition.end(Reply("".join(lines)))


async def progress_line(ctx: Context, staff: Staff) -> list[str]:
    """The month's figure as `/quota` shows it (the same standing): routine visits for head
    and subject teachers, contacts for coaches; nothing for staff without a quota or outside
    term time."""
    month = await teacher_month(session=ctx.session, staff=staff, day=ctx.today, rules=ctx.rules)
    if month is None:
        return []
    t = ctx.t
    if month.visits is not None:
        return [
            t._("本月{visits} {done}/{target}。").format(
                visits=visits_name(t, month.routine_forms),
                done=month.visits.done,
                target=month.visits.target,
            )
        ]
    return [
        t._("本月联系家长 {done}/{target} 人次。").format(
            done=month.contacts.done, target=month.contacts.target
        )
    ]


async def alert_school(ctx: Context, visit: Visit, pupil: Pupil, teacher: Staff) -> int:
    """One message per bound account of every 德育处 admin, each in that account's language.

    Returns how many were queued, so the teacher is never told "转告" when nobody could be told.
    """
    accounts = await problem_recipients(session=ctx.session, school_id=ctx.school.id or 0)
    item_id = await item_of(ctx.session, LedgerSource.VISIT, visit.id or 0)
    for account in accounts:
        t = translator(account.language)
        text = problem_alert(t, visit, pupil, teacher)
        buttons: list[list[Button]] = []
        if item_id is not None:
            text += "\n" + t._("已登记为台账 #{id}，请分类并指派负责人。").format(id=item_id)
            buttons = [[open_button(t._("打开台账 #{id}").format(id=item_id), item_id)]]
        await ctx.notify(
            key=f"visit-problem:{visit.id}:{account.id}",
            kind="visit_problem",
            account=account,
            reply=Reply.with_buttons(text, buttons),
        )
    return len(accounts)
