"""Planning a meeting: kind, class, date and time, place, agenda, the summary, 提交.

A head teacher plans their own class's 家长会 (a head teacher of one class is not asked which);
德育处 and the principal plan a class's meeting for any class, a parent-committee meeting
(家长委员会, for the committee members' families; refused while the committee is empty) or a
school-wide meeting (every family). Times are read like a notice's (`handlers.notice.when`): a
time of day is required, not in the past, not more than half a year ahead.

提交 checks everything again and then, in one transaction, writes the announcing notice through
the notice machinery (`models.notices.queries.submit_notice`: a head teacher's notice waits for
德育处's approval as any notice does, 德育处's own is approved at once and published) and the
`Meeting` pointing at it. Nothing is saved before 提交, and nothing half-way: a refusal saves
nothing.
"""

from __future__ import annotations

from sqlmodel import col, select

from handlers.context import Context
from handlers.hints import too_long
from handlers.meetings.states import PlanDraft, State, next_state
from handlers.notice.approval import request_approval
from handlers.notice.limits import check_message_to_staff, record_refusal, submission_refusal
from handlers.notice.publish import publication_text, publish_now
from handlers.notice.render import (
    audience_line,
    describe_audience,
    format_full_moment,
    format_moment,
)
from handlers.notice.when import local_moment, parse_typed
from handlers.types import Button, Inbound, Reply, Transition, callback_rest
from models.accounts.tables import PersonKind
from models.meetings.queries import committee_student_ids, create_meeting
from models.meetings.rules import (
    TimeProblem,
    audience_label,
    meeting_title,
    receipt_deadline,
    time_problem,
)
from models.meetings.tables import AGENDA_LIMIT, MEETING_KIND_LABELS, PLACE_LIMIT, MeetingKind
from models.notices.queries import NoticeSpec, submit_notice
from models.notices.tables import AudienceKind, NoticeKind
from models.roster.scope import has_whole_school_scope
from models.school.tables import SchoolClass

KIND, CLASS, EDIT = "kind:", "class:", "edit:"
SUBMIT = "submit"


def whole_school(ctx: Context) -> bool:
    """德育处 and the principal: any class, the committee, the whole school."""
    return ctx.staff is not None and has_whole_school_scope(ctx.staff)


async def plannable_classes(ctx: Context) -> list[SchoolClass]:
    """Every class for 德育处 and the principal, else the classes the person heads."""
    staff = ctx.staff
    if staff is None:
        return []
    query = select(SchoolClass).where(SchoolClass.school_id == staff.school_id)
    if not whole_school(ctx):
        query = query.where(SchoolClass.head_teacher_id == staff.id)
    query = query.order_by(col(SchoolClass.grade), col(SchoolClass.number))
    return list((await ctx.session.exec(query)).all())


def _rows(buttons: list[Button], width: int) -> list[list[Button]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


# -- the questions -----------------------------------------------------------------------------


async def question(state: str, draft: PlanDraft, ctx: Context, *notes: str) -> Reply:
    _ = ctx.t._
    if state == State.KIND:
        kinds = [MeetingKind.CLASS, MeetingKind.COMMITTEE, MeetingKind.OTHER]
        buttons = [Button(_(MEETING_KIND_LABELS[k]), f"{KIND}{k.value}") for k in kinds]
        return Reply.with_buttons("\n".join([*notes, _("要安排哪种会议？")]), [buttons])
    if state == State.CLASS:
        classes = await plannable_classes(ctx)
        buttons = [Button(k.name, f"{CLASS}{k.id}") for k in classes]
        return Reply.with_buttons("\n".join([*notes, _("哪个班的家长会？")]), _rows(buttons, 3))
    if state == State.WHEN:
        text = _("会议的日期和时间？例如：12月18日 15:30、下周五下午3点半写作“11月20日 15:30”。")
        return Reply("\n".join([*notes, text]))
    if state == State.PLACE:
        text = _("会议地点？（不超过 {limit} 个字，例如：三楼会议室）").format(limit=PLACE_LIMIT)
        return Reply("\n".join([*notes, text]))
    if state == State.AGENDA:
        text = _("会议议程？（不超过 {limit} 个字，会写进给家长的通知）").format(limit=AGENDA_LIMIT)
        return Reply("\n".join([*notes, text]))
    return await summary(draft, ctx, *notes)


async def proceed(draft: PlanDraft, ctx: Context, *notes: str) -> Transition:
    state = next_state(draft)
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def _audience(draft: PlanDraft, ctx: Context) -> tuple[AudienceKind, list[int]]:
    if draft.kind is MeetingKind.CLASS:
        return AudienceKind.CLASSES, [draft.class_id or 0]
    if draft.kind is MeetingKind.COMMITTEE:
        ids = await committee_student_ids(session=ctx.session, school_id=ctx.school.id or 0)
        return AudienceKind.STUDENTS, ids
    return AudienceKind.SCHOOL, []


async def _klass(draft: PlanDraft, ctx: Context) -> SchoolClass | None:
    if draft.class_id is None:
        return None
    klass = await ctx.session.get(SchoolClass, draft.class_id)
    return klass if klass is not None and klass.school_id == ctx.school.id else None


async def _title(draft: PlanDraft, ctx: Context) -> str:
    assert draft.kind is not None and draft.starts_at is not None and draft.place is not None
    klass = await _klass(draft, ctx)
    label = audience_label(draft.kind, klass.name if klass else None)
    return meeting_title(label, draft.starts_at, draft.place, zone=ctx.zone)


async def summary(draft: PlanDraft, ctx: Context, *notes: str) -> Reply:
    _ = ctx.t._
    assert draft.kind is not None and draft.starts_at is not None
    klass = await _klass(draft, ctx)
    kind = _(MEETING_KIND_LABELS[draft.kind])
    if klass is not None:
        kind = f"{kind}（{klass.name}）"
    audience_kind, ids = await _audience(draft, ctx)
    audience, count = await describe_audience(
        session=ctx.session, t=ctx.t, school_id=ctx.school.id or 0, kind=audience_kind, ids=ids
    )
    deadline = receipt_deadline(draft.starts_at, now=ctx.now, zone=ctx.zone)
    after = (
        _("提交后立即发给家长。")
        if whole_school(ctx)
        else _("提交后送德育处审批，批准后发给家长。")
    )
    lines = [
        *notes,
        _("请核对会议安排："),
        _("类型：{kind}").format(kind=kind),
        _("时间：{time}").format(time=format_moment(ctx.t, draft.starts_at, ctx.zone)),
        _("地点：{place}").format(place=draft.place),
        _("议程：{agenda}").format(agenda=draft.agenda),
        _("通知标题：{title}").format(title=await _title(draft, ctx)),
        _("发送对象：{audience}").format(audience=audience_line(ctx.t, audience, count)),
        _("家长回复截止：{deadline}（确认参加 / 不能参加）").format(
            deadline=format_moment(ctx.t, deadline, ctx.zone)
        ),
        after,
    ]
    buttons = [
        [Button(_("提交"), SUBMIT)],
        [
            Button(_("修改时间"), f"{EDIT}{State.WHEN.value}"),
            Button(_("修改地点"), f"{EDIT}{State.PLACE.value}"),
            Button(_("修改议程"), f"{EDIT}{State.AGENDA.value}"),
        ],
    ]
    return Reply.with_buttons("\n".join(lines), buttons)


# -- starting ------------------------------------------------------------------------------------


async def begin_planning(draft: PlanDraft, ctx: Context, *notes: str) -> Transition:
    """A head teacher of one class starts at the time; otherwise at the kind (德育处) or the
    class (a head teacher of several)."""
    if whole_school(ctx):
        return await proceed(draft, ctx, *notes)
    classes = await plannable_classes(ctx)
    if not classes:
        return Transition.end(Reply(ctx.t._("只有班主任和德育处可以安排家长会。")))
    draft.kind = MeetingKind.CLASS
    if len(classes) == 1:
        draft.class_id = classes[0].id
        note = ctx.t._("安排{klass}家长会。").format(klass=classes[0].name)
        return await proceed(draft, ctx, *notes, note)
    return await proceed(draft, ctx, *notes)


# -- the steps -----------------------------------------------------------------------------------


async def _again(state: State, draft: PlanDraft, ctx: Context, note: str) -> Transition:
    return Transition.to(state, await question(state, draft, ctx, note))


async def _committee_refusal(ctx: Context) -> str | None:
    ids = await committee_student_ids(session=ctx.session, school_id=ctx.school.id or 0)
    if ids:
        return None
    return ctx.t._("家长委员会还没有成员，无法通知。请先在 /meeting 的“家委会成员”里添加成员。")


async def choose_kind(inbound: Inbound, draft: PlanDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, KIND)
    if value not in {k.value for k in MeetingKind} or not whole_school(ctx):
        return await _again(State.KIND, draft, ctx, ctx.t._("请点下面的按钮选择会议类型。"))
    kind = MeetingKind(value)
    if kind is MeetingKind.COMMITTEE:
        refusal = await _committee_refusal(ctx)
        if refusal is not None:
            return await _again(State.KIND, draft, ctx, refusal)
    draft.kind = kind
    return await proceed(draft, ctx)


async def choose_class(inbound: Inbound, draft: PlanDraft, ctx: Context) -> Transition:
    value = callback_rest(inbound.callback, CLASS) or ""
    classes = await plannable_classes(ctx)
    chosen = [k for k in classes if str(k.id) == value]
    if not chosen and inbound.callback is None:
        typed = (inbound.text or "").strip().replace("（", "(").replace("）", ")")
        chosen = [k for k in classes if k.name == typed]
    if not chosen:
        note = ctx.t._("请点下面的按钮选择班级（班主任只能安排自己班的家长会）。")
        return await _again(State.CLASS, draft, ctx, note)
    draft.class_id = chosen[0].id
    return await proceed(draft, ctx)


def _time_note(ctx: Context, problem: TimeProblem, typed: str) -> str:
    _ = ctx.t._
    if problem is TimeProblem.PAST:
        return _("会议时间不能早于现在（{now}），请重新输入。").format(
            now=format_moment(ctx.t, ctx.now, ctx.zone)
        )
    return _("会议时间 {time} 离现在超过半年，是不是年份写错了？请重新输入。").format(time=typed)


async def choose_when(inbound: Inbound, draft: PlanDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = (inbound.text or "").strip()
    typed = parse_typed(text, today=ctx.today) if inbound.callback is None else None
    if typed is None:
        note = _("没有看懂这个时间，请写成“12月18日 15:30”这样的日期和时间。")
        return await _again(State.WHEN, draft, ctx, note)
    if typed.at is None:
        note = _("请写上会议开始的具体时间，例如：{day} 15:30。").format(
            day=f"{typed.day.month}月{typed.day.day}日"
        )
        return await _again(State.WHEN, draft, ctx, note)
    starts_at = local_moment(typed, zone=ctx.zone, default=typed.at)
    problem = time_problem(starts_at, now=ctx.now)
    if problem is not None:
        typed_text = format_full_moment(ctx.t, starts_at, ctx.zone)
        return await _again(State.WHEN, draft, ctx, _time_note(ctx, problem, typed_text))
    draft.starts_at = starts_at
    return await proceed(draft, ctx)


def _text(inbound: Inbound) -> str:
    return " ".join((inbound.text or "").split()) if inbound.callback is None else ""


async def write_place(inbound: Inbound, draft: PlanDraft, ctx: Context) -> Transition:
    text = _text(inbound)
    if not text:
        return await _again(State.PLACE, draft, ctx, ctx.t._("地点不能为空，请用文字输入。"))
    if len(text) > PLACE_LIMIT:
        return await _again(State.PLACE, draft, ctx, too_long(ctx, PLACE_LIMIT, len(text)))
    draft.place = text
    return await proceed(draft, ctx)


async def write_agenda(inbound: Inbound, draft: PlanDraft, ctx: Context) -> Transition:
    text = (inbound.text or "").strip() if inbound.callback is None else ""
    if not text:
        return await _again(State.AGENDA, draft, ctx, ctx.t._("议程不能为空，请用文字输入。"))
    if len(text) > AGENDA_LIMIT:
        return await _again(State.AGENDA, draft, ctx, too_long(ctx, AGENDA_LIMIT, len(text)))
    draft.agenda = text
    return await proceed(draft, ctx)


async def confirm(inbound: Inbound, draft: PlanDraft, ctx: Context) -> Transition:
    edit = callback_rest(inbound.callback, EDIT)
    if edit == State.WHEN:
        draft.starts_at = None
    elif edit == State.PLACE:
        draft.place = None
    elif edit == State.AGENDA:
        draft.agenda = None
    elif inbound.callback == SUBMIT:
        return await submit(draft, ctx)
    else:
        return await _again(State.CONFIRM, draft, ctx, ctx.t._("请点“提交”，或选择要修改的内容。"))
    return await proceed(draft, ctx)


# -- 提交 ----------------------------------------------------------------------------------------


def notice_body(ctx: Context, draft: PlanDraft, deadline_text: str) -> str:
    """The announcing notice's body (in Chinese, as every notice's text is written once)."""
    assert draft.starts_at is not None
    local = draft.starts_at.astimezone(ctx.zone)
    lines = [
        f"时间：{local.year}年{local.month}月{local.day}日 {local:%H:%M}",
        f"地点：{draft.place}",
        "议程：",
        draft.agenda or "",
    ]
    if draft.kind is MeetingKind.CLASS:
        lines += ["", "班主任和各科任课老师都会参加，与家长面对面交流。"]
    lines += ["", f"请于 {deadline_text} 前回复是否参加。"]
    return "\n".join(lines)


async def submit(draft: PlanDraft, ctx: Context) -> Transition:
    """Check again, then save the notice and the meeting in this update's transaction."""
    _ = ctx.t._
    staff = ctx.staff
    if staff is None:
        return Transition.end(Reply(_("只有班主任和德育处可以安排家长会。")))
    if next_state(draft) is not State.CONFIRM:
        return await proceed(draft, ctx)
    assert draft.kind is not None and draft.starts_at is not None
    admin = whole_school(ctx)
    if draft.kind is not MeetingKind.CLASS and not admin:
        draft.kind, draft.class_id = None, None
        return Transition.end(Reply(_("家长委员会和全校家长会由德育处安排。这次安排没有保存。")))
    klass = await _klass(draft, ctx)
    if draft.kind is MeetingKind.CLASS:
        allowed = {k.id for k in await plannable_classes(ctx)}
        if klass is None or klass.id not in allowed:
            draft.class_id = None
            note = _("您不是这个班的班主任，只能安排自己班的家长会。请重新选择。")
            if not allowed:
                return Transition.end(Reply(_("只有班主任和德育处可以安排家长会。")))
            return await _again(State.CLASS, draft, ctx, note)
    problem = time_problem(draft.starts_at, now=ctx.now)
    if problem is not None:
        typed = format_full_moment(ctx.t, draft.starts_at, ctx.zone)
        draft.starts_at = None
        return await _again(State.WHEN, draft, ctx, _time_note(ctx, problem, typed))
    if draft.kind is MeetingKind.COMMITTEE:
        refusal = await _committee_refusal(ctx)
        if refusal is not None:
            return Transition.end(Reply(refusal))
    audience_kind, ids = await _audience(draft, ctx)
    _audience_text, count = await describe_audience(
        session=ctx.session, t=ctx.t, school_id=ctx.school.id or 0, kind=audience_kind, ids=ids
    )
    if count == 0:
        return Transition.end(
            Reply(_("会议的范围内没有在读学生，无法通知家长。这次安排没有保存。"))
        )
    if not admin:
        sender = (PersonKind.STAFF, staff.id or 0)
        verdict = await check_message_to_staff(
            ctx.session, sender=sender, now=ctx.now, rules=ctx.rules
        )
        if not verdict.allowed:
            await record_refusal(ctx.session, sender=sender, subject="meeting", verdict=verdict)
            note = submission_refusal(ctx.t, verdict, zone=ctx.zone, rules=ctx.rules)
            return await _again(State.CONFIRM, draft, ctx, note)
    deadline = receipt_deadline(draft.starts_at, now=ctx.now, zone=ctx.zone)
    local_deadline = deadline.astimezone(ctx.zone)
    deadline_text = f"{local_deadline.month}月{local_deadline.day}日 {local_deadline:%H:%M}"
    title = await _title(draft, ctx)
    spec = NoticeSpec(
        kind=NoticeKind.MEETING,
        title=title,
        body=notice_body(ctx, draft, deadline_text),
        audience_kind=audience_kind,
        audience_ids=tuple(ids),
        receipt_required=True,
        receipt_deadline=deadline,
        publish_at=None,
        display_until=draft.starts_at.astimezone(ctx.zone).date(),
    )
    notice = await submit_notice(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        author_id=staff.id or 0,
        spec=spec,
        now=ctx.now,
        zone=ctx.zone,
        self_approved=admin,
    )
    await create_meeting(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        kind=draft.kind,
        class_id=klass.id if klass is not None else None,
        organiser_id=staff.id or 0,
        title=title,
        starts_at=draft.starts_at,
        place=draft.place or "",
        agenda=draft.agenda or "",
        notice_id=notice.id or 0,
        now=ctx.now,
    )
    after = _("会后请发送 /meeting 记录出席情况、上传会议纪要。")
    if admin:
        publication = await publish_now(ctx, notice.id or 0)
        assert publication is not None
        head = _("已安排：{title}。").format(title=title)
        return Transition.end(Reply("\n".join([head, publication_text(ctx.t, publication), after])))
    notified = await request_approval(ctx, notice)
    text = _("已安排：{title}。会议通知已提交德育处审批，批准后发给家长，我会通知您。").format(
        title=title
    )
    if notified == 0:
        text += "\n" + _("德育处目前没有人绑定账号，收不到审批请求，请当面联系德育处。")
    return Transition.end(Reply(f"{text}\n{after}"))


STEPS = {
    State.KIND: choose_kind,
    State.CLASS: choose_class,
    State.WHEN: choose_when,
    State.PLACE: write_place,
    State.AGENDA: write_agenda,
    State.CONFIRM: confirm,
}
