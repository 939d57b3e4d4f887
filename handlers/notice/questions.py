"""Each state's question (text and buttons), who may send to whom, and `proceed`.

Questions are rebuilt from the draft every time, so asking again after bad input, after a
restart or after 修改 shows the same buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from handlers.context import Context
from handlers.i18n import N_
from handlers.notice.draft import NoticeDraft
from handlers.notice.labels import FIELD_NAMES, KIND_NAMES, TIME_PROBLEMS
from handlers.notice.render import (
    audience_line,
    describe_audience,
    files_line,
    format_day,
    format_full_moment,
    format_moment,
    grade_name,
    kind_name,
    publish_line,
    receipt_line,
)
from handlers.notice.states import State, next_state
from handlers.notice.timing import TimeProblem
from handlers.student_picker import SCHOOL_PICKER, StudentPicker
from handlers.summary import Summary
from handlers.types import Button, Reply, Transition
from models.notices.queries import BODY_LIMIT, MAX_ATTACHMENTS, TITLE_LIMIT
from models.notices.tables import COMPOSE_KINDS, AttachmentKind, AudienceKind, NoticeKind
from models.roster.scope import Scope, has_whole_school_scope
from models.roster.tables import Staff, Student
from models.school.tables import SchoolClass

# Callback data. Values after the colon are checked again by the steps (never trusted). The
# student picker owns "cls:", "stu:", "page:" and "grade:" in the students question.
KIND = "kind:"
FILES_SKIP, FILES_DONE = "files:skip", "files:done"
AUDIENCE = "aud:"
AUD_SCHOOL, AUD_GRADES, AUD_CLASSES = "aud:school", "aud:grades", "aud:classes"
AUD_STUDENTS, AUD_OWN, AUD_BACK = "aud:students", "aud:own", "aud:back"
TOGGLE, DONE = "pick:", "done"
#: Typed, these end a multi-select as 完成 does (its button reads `完成（3 人）`, so typing the
#: label alone would be searched as a student's name).
DONE_WORDS = frozenset(("完成", "选好了", "好了", "选完了", "就这些", "done"))
RECEIPT_YES, RECEIPT_NO = "rc:yes", "rc:no"
DEADLINE_IN = "dl:"
PUBLISH_NOW, PUBLISH_LATER = "pub:now", "pub:later"
PUBLISH_IN = "pa:"
DISPLAY_FOR = "dsp:"
SUBMIT = "submit"
FIELD, BACK = "field:", "back"

#: Deadline buttons: days from today, at `DEADLINE_TIME`.
DEADLINE_CHOICES: tuple[int, ...] = (1, 2, 7)
#: Display-window buttons: days from the publication day.
DISPLAY_CHOICES: tuple[tuple[int, str], ...] = (
    (7, N_("一周")),
    (14, N_("两周")),
    (30, N_("一个月")),
)
#: The fields 修改 offers, in the card's order.
EDITABLE: tuple[State, ...] = tuple(FIELD_NAMES)
#: The summary's 提交 / 修改 / 取消.
SUMMARY = Summary(N_("提交"), SUBMIT, cancelled=N_("已取消，这条通知没有保存。"))


# -- who may send what ------------------------------------------------------------------------


def staff_of(ctx: Context) -> Staff:
    if ctx.staff is None:
        raise PermissionError("the notice flow needs a staff member")
    return ctx.staff


def is_admin(ctx: Context) -> bool:
    """德育处 and the principal: any audience, and their own notices need no other approval."""
    return ctx.staff is not None and has_whole_school_scope(ctx.staff)


def _own_class_ids(staff: Staff) -> SelectOfScalar[int | None]:
    return select(col(SchoolClass.id)).where(
        col(SchoolClass.head_teacher_id) == staff.id,
        col(SchoolClass.school_id) == staff.school_id,
    )


async def sendable_classes(ctx: Context) -> list[SchoolClass]:
    """Classes this person may address: every class for admins, else the classes they head."""
    staff = staff_of(ctx)
    query = select(SchoolClass).where(SchoolClass.school_id == staff.school_id)
    if not is_admin(ctx):
        query = query.where(SchoolClass.head_teacher_id == staff.id)
    query = query.order_by(col(SchoolClass.grade), col(SchoolClass.number))
    return list((await ctx.session.exec(query)).all())


def own_students(ctx: Context) -> Scope:
    """The active students of the classes the head teacher heads."""
    staff = staff_of(ctx)
    return Scope(
        select(Student).where(
            col(Student.school_id) == staff.school_id,
            col(Student.active).is_(True),
            col(Student.class_id).in_(_own_class_ids(staff)),
        )
    )


HEAD_TEACHER_PICKER = StudentPicker(
    pool=own_students,
    not_found=N_("您班上没有姓名包含“{text}”的学生。"),
    refused=N_("只能选择您担任班主任的班级的学生。请重新选择。"),
    empty=N_("您担任班主任的班级还没有学生。请联系德育处核对名册。"),
)


def picker_for(ctx: Context) -> StudentPicker:
    return SCHOOL_PICKER if is_admin(ctx) else HEAD_TEACHER_PICKER


# -- helpers -----------------------------------------------------------------------------------


def rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def publish_day(draft: NoticeDraft, ctx: Context) -> date:
    if draft.publish_at is not None:
        return draft.publish_at.astimezone(ctx.zone).date()
    return ctx.today


def file_names(ctx: Context, draft: NoticeDraft) -> list[str]:
    return [
        f.name or (ctx.t._("照片") if f.kind is AttachmentKind.PHOTO else ctx.t._("文件"))
        for f in draft.files
    ]


async def ask(state: State, draft: NoticeDraft, ctx: Context, *notes: str) -> Transition:
    """Ask `state`'s question, with `notes` (already translated) above it."""
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: NoticeDraft, ctx: Context, *notes: str) -> Transition:
    """Ask the next question the draft needs."""
    return await ask(next_state(draft), draft, ctx, *notes)


async def question(state: State, draft: NoticeDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


Question = tuple[str, list[list[Button]]]
QuestionBuilder = Callable[[NoticeDraft, Context], Awaitable[Question]]


# -- the questions -------------------------------------------------------------------------------


async def _kind(draft: NoticeDraft, ctx: Context) -> Question:
    buttons = [Button(ctx.t._(KIND_NAMES[kind]), f"{KIND}{kind.value}") for kind in COMPOSE_KINDS]
    return ctx.t._("请选择通知类型："), rows(buttons, 3)


async def _title(draft: NoticeDraft, ctx: Context) -> Question:
    text = ctx.t._("请输入通知标题（不超过 {limit} 个字），例如：秋季研学活动通知").format(
        limit=TITLE_LIMIT
    )
    return text, []


async def _body(draft: NoticeDraft, ctx: Context) -> Question:
    text = ctx.t._(
        "请输入通知正文（不超过 {limit} 个字）。更长的内容请作为文件在下一步附上，正文写要点。"
    ).format(limit=BODY_LIMIT)
    return text, []


async def _files(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    if draft.files:
        text = _("已添加附件：{names}。可以继续发送（最多 {limit} 个），发完请点“完成”。").format(
            names="、".join(file_names(ctx, draft)), limit=MAX_ATTACHMENTS
        )
        return text, [[Button(_("完成"), FILES_DONE)]]
    text = _(
        "如有附件，请直接发送照片或文件（每个不超过 20 MB，最多 {limit} 个）。没有附件请点“跳过”。"
    ).format(limit=MAX_ATTACHMENTS)
    return text, [[Button(_("跳过"), FILES_SKIP)]]


async def _audience(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    if is_admin(ctx):
        buttons = [
            Button(_("全校"), AUD_SCHOOL),
            Button(_("按年级"), AUD_GRADES),
            Button(_("按班级"), AUD_CLASSES),
            Button(_("选择学生"), AUD_STUDENTS),
        ]
        return _("这条通知发给哪些学生的家长？"), rows(buttons, 2)
    classes = await sendable_classes(ctx)
    if len(classes) == 1:
        own = Button(_("{klass}全体家长").format(klass=classes[0].name), AUD_OWN)
    else:
        own = Button(_("选择班级"), AUD_CLASSES)
    return _("这条通知发给哪些学生的家长？"), [[own, Button(_("选择学生"), AUD_STUDENTS)]]


def _back(ctx: Context) -> Button:
    return Button(ctx.t._("重选发送范围"), AUD_BACK)


async def _grades(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    grades = sorted({k.grade for k in await sendable_classes(ctx)})
    buttons = [
        Button(("✓ " if g in draft.audience_ids else "") + grade_name(ctx.t, g), f"{TOGGLE}{g}")
        for g in grades
    ]
    text = _("请选择年级（可多选，再点一次取消），选好后点“完成”：")
    return text, [*rows(buttons, 3), [Button(_("完成"), DONE), _back(ctx)]]


async def _classes(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    classes = await sendable_classes(ctx)
    buttons = [
        Button(("✓ " if k.id in draft.audience_ids else "") + k.name, f"{TOGGLE}{k.id}")
        for k in classes
    ]
    text = _("请选择班级（可多选，再点一次取消），选好后点“完成”：")
    return text, [*rows(buttons, 3), [Button(_("完成"), DONE), _back(ctx)]]


async def _students(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text, buttons = await picker_for(ctx).question(draft.picker, ctx)
    lines = []
    if draft.audience_ids:
        chosen, count = await describe_audience(
            session=ctx.session,
            t=ctx.t,
            school_id=ctx.school.id or 0,
            kind=AudienceKind.STUDENTS,
            ids=draft.audience_ids,
        )
        lines.append(_("已选 {count} 名学生：{names}").format(count=count, names=chosen))
    lines.append(text)
    lines.append(_("可以继续选择（再选一次即取消）；选好后点“完成”。"))
    done = Button(_("完成（{count} 人）").format(count=len(draft.audience_ids)), DONE)
    return "\n".join(lines), [*buttons, [done, _back(ctx)]]


async def _receipt(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_("需要回执"), RECEIPT_YES), Button(_("不需要回执"), RECEIPT_NO)]
    return _("需要家长回执（点“确认收到”）吗？"), [buttons]


def relative_day(ctx: Context, days: int) -> str:
    _ = ctx.t._
    names = {0: _("今天"), 1: _("明天"), 2: _("后天")}
    return names.get(days) or format_day(ctx.t, ctx.today + timedelta(days=days))


async def _deadline(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [
        Button(_("{day} 18:00").format(day=relative_day(ctx, d)), f"{DEADLINE_IN}{d}")
        for d in DEADLINE_CHOICES
    ]
    text = _("回执截止时间？请点选，或直接输入，例如 11月20日 18:00（只写日期按当天 18:00）。")
    return text, [buttons]


async def _publish(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    now_label = _("提交后立即发布") if is_admin(ctx) else _("批准后立即发布")
    buttons = [Button(now_label, PUBLISH_NOW), Button(_("定时发布"), PUBLISH_LATER)]
    return _("什么时候发给家长？"), [buttons]


async def _publish_at(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = _("请输入发布时间，例如 明天 7:30 或 11月20日 8:00（只写日期按当天 8:00）。")
    return text, [[Button(_("明天 8:00"), f"{PUBLISH_IN}1")]]


async def _display(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    start = publish_day(draft, ctx)
    buttons = [
        Button(
            _("{span}（至 {day}）").format(
                span=_(label), day=format_day(ctx.t, start + timedelta(days=days))
            ),
            f"{DISPLAY_FOR}{days}",
        )
        for days, label in DISPLAY_CHOICES
    ]
    text = _(
        "通知展示到哪一天？到期后自动归档，家长不再收到提醒。请点选，或直接输入日期，例如 12月1日。"
    )
    return text, [[b] for b in buttons]


async def summary_text(draft: NoticeDraft, ctx: Context) -> str:
    """Every answer of the draft, as the author checks it before submitting."""
    _ = ctx.t._
    t, zone = ctx.t, ctx.zone
    audience, count = "", 0
    if draft.audience_kind is not None:
        audience, count = await describe_audience(
            session=ctx.session,
            t=t,
            school_id=ctx.school.id or 0,
            kind=draft.audience_kind,
            ids=draft.audience_ids,
        )

    def line(state: State, value: str) -> str:
        return _("{field}：{value}").format(field=_(FIELD_NAMES[state]), value=value)

    lines = [
        _("请核对这条通知："),
        line(State.KIND, kind_name(t, draft.kind) if draft.kind else ""),
        line(State.TITLE, draft.title or ""),
        line(State.AUDIENCE, audience_line(t, audience, count)),
        line(State.RECEIPT, receipt_line(t, bool(draft.receipt_required), draft.deadline, zone)),
        line(
            State.PUBLISH,
            publish_line(
                t,
                None if draft.publish_now else draft.publish_at,
                zone,
                self_approved=is_admin(ctx),
            ),
        ),
        line(State.DISPLAY, format_day(t, draft.display_until) if draft.display_until else ""),
        line(State.FILES, files_line(t, file_names(ctx, draft))),
        line(State.BODY, ""),
        draft.body or "",
    ]
    if draft.kind is NoticeKind.EMERGENCY and not is_admin(ctx):
        lines += ["", _("紧急通知也需德育处批准后才会发出；提交后会立即送审。")]
    elif not is_admin(ctx):
        lines += ["", _("提交后将送德育处审批，批准后发给家长。")]
    return "\n".join(lines)


async def _summary(draft: NoticeDraft, ctx: Context) -> Question:
    return await summary_text(draft, ctx), [SUMMARY.buttons(ctx)]


async def _edit(draft: NoticeDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(FIELD_NAMES[s]), f"{FIELD}{s.value}") for s in EDITABLE]
    return _("要修改哪一项？"), [*rows(buttons, 4), [Button(_("返回核对"), BACK)]]


_QUESTIONS: dict[State, QuestionBuilder] = {
    State.KIND: _kind,
    State.TITLE: _title,
    State.BODY: _body,
    State.FILES: _files,
    State.AUDIENCE: _audience,
    State.GRADES: _grades,
    State.CLASSES: _classes,
    State.STUDENTS: _students,
    State.RECEIPT: _receipt,
    State.DEADLINE: _deadline,
    State.PUBLISH: _publish,
    State.PUBLISH_AT: _publish_at,
    State.DISPLAY: _display,
    State.SUMMARY: _summary,
    State.EDIT: _edit,
}


def describe_moment(ctx: Context, draft: NoticeDraft) -> str:
    """The publication moment for messages: the time, or "now"."""
    if draft.publish_at is not None and not draft.publish_now:
        return format_moment(ctx.t, draft.publish_at, ctx.zone)
    return ctx.t._("立即")


def time_note(ctx: Context, problem: TimeProblem, draft: NoticeDraft) -> str:
    """Why a time was refused, with the moment it has to respect."""
    t, zone = ctx.t, ctx.zone
    publish = draft.publish_at if draft.publish_at is not None else ctx.now
    deadline_day = draft.deadline.astimezone(zone).date() if draft.deadline else ctx.today
    deadline = draft.deadline if draft.deadline is not None else ctx.now
    return t._(TIME_PROBLEMS[problem.code]).format(
        now=format_moment(t, ctx.now, zone),
        publish=format_moment(t, publish, zone),
        publish_full=format_full_moment(t, publish, zone),
        deadline_full=format_full_moment(t, deadline, zone),
        publish_day=format_day(t, publish.astimezone(zone).date()),
        deadline_day=format_day(t, deadline_day),
    )
