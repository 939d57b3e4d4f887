"""Texts built from a notice: dates, the audience, the summary card, the approval card, and the
message a guardian receives (also used by the reminders of `handlers.notice.staff_view`'s owner).

Everything takes a `Translator`, so each recipient reads it in their own language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import action_button
from handlers.i18n import Translator
from handlers.notice.labels import GRADE_NAMES, KIND_NAMES, WEEKDAYS
from handlers.types import Button, FileRef
from models.notices.publishing import Child
from models.notices.queries import audience_students
from models.notices.tables import (
    NOTICE_STATUS_LABELS,
    QUESTION_KINDS,
    AttachmentKind,
    AudienceKind,
    Notice,
    NoticeAttachment,
    NoticeKind,
    ReceiptAnswer,
)
from models.roster.tables import Staff, Student
from models.school.tables import SchoolClass

#: Action names of the buttons on notice messages (`handlers.actions`).
CONFIRM, QUESTION, SHOW, ANSWER = "nok", "nq", "nshow", "nqa"
#: A meeting's notice: 确认参加 / 不能参加 (`models.notices.tables.ReceiptAnswer`).
ATTEND, DECLINE = "nma", "nmd"
APPROVE, RETURN, REDO = "napp", "nret", "nredo"
#: Students named in an audience before "等 N 名学生".
NAMES_SHOWN = 8


def format_day(t: Translator, day: date) -> str:
    """`11月20日（周五）`."""
    return t._("{month}月{day}日（{weekday}）").format(
        month=day.month, day=day.day, weekday=t._(WEEKDAYS[day.weekday()])
    )


def format_moment(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    """`11月20日（周五）18:00` in the school's zone."""
    local = moment.astimezone(zone)
    return f"{format_day(t, local.date())} {local:%H:%M}"


def format_full_moment(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    """`2062年12月10日 18:00`: with its year, for a moment that may have been mistyped."""
    local = moment.astimezone(zone)
    return t._("{year}年{month}月{day}日 {time}").format(
        year=local.year, month=local.month, day=local.day, time=f"{local:%H:%M}"
    )


def format_clock(moment: datetime, zone: ZoneInfo) -> str:
    """`11月16日 10:05`: when something was confirmed."""
    local = moment.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def grade_name(t: Translator, grade: int) -> str:
    name = GRADE_NAMES.get(grade)
    return t._(name) if name else str(grade)


def kind_name(t: Translator, notice_kind: object) -> str:
    label = KIND_NAMES.get(notice_kind)  # type: ignore[call-overload]
    return t._(label) if label else str(notice_kind)


def status_name(t: Translator, notice: Notice) -> str:
    return t._(NOTICE_STATUS_LABELS[notice.status])


def title_line(t: Translator, notice: Notice) -> str:
    """`〔2026〕第012号《秋游通知》`, or `《秋游通知》` before it has a number."""
    return t._("{number}《{title}》").format(number=notice.number, title=notice.title)


async def describe_audience(
    *,
    session: AsyncSession,
    t: Translator,
    school_id: int,
    kind: AudienceKind,
    ids: Sequence[int],
) -> tuple[str, int]:
    """The audience as a reader sees it (`三(1)班、三(2)班`) and its number of students."""
    pupils = await audience_students(session=session, school_id=school_id, kind=kind, ids=ids)
    count = len(pupils)
    if kind is AudienceKind.SCHOOL:
        return t._("全校"), count
    if kind is AudienceKind.GRADES:
        return "、".join(grade_name(t, g) for g in sorted(ids)), count
    if kind is AudienceKind.CLASSES:
        query = (
            select(SchoolClass)
            .where(col(SchoolClass.id).in_(list(ids)), SchoolClass.school_id == school_id)
            .order_by(col(SchoolClass.grade), col(SchoolClass.number))
        )
        return "、".join(k.name for k in (await session.exec(query)).all()), count
    labels = [f"{k.name} {s.name}" for s, k in pupils[:NAMES_SHOWN]]
    text = "、".join(labels)
    if count > NAMES_SHOWN:
        text = t._("{names} 等 {count} 名学生").format(names=text, count=count)
    return text, count


def audience_line(t: Translator, text: str, count: int) -> str:
    return t._("{audience}（{count} 名学生的家长）").format(audience=text, count=count)


def receipt_line(t: Translator, required: bool, deadline: datetime | None, zone: ZoneInfo) -> str:
    if not required:
        return t._("不需要回执")
    if deadline is None:
        return t._("需要回执")
    return t._("需要回执，截止 {deadline}").format(deadline=format_moment(t, deadline, zone))


def publish_line(
    t: Translator, publish_at: datetime | None, zone: ZoneInfo, *, self_approved: bool
) -> str:
    if publish_at is not None:
        return format_moment(t, publish_at, zone)
    return t._("提交后立即发布") if self_approved else t._("批准后立即发布")


def files_line(t: Translator, names: Sequence[str]) -> str:
    if not names:
        return t._("无")
    return "、".join(names)


def attachment_names(t: Translator, attachments: Sequence[NoticeAttachment]) -> list[str]:
    return [
        a.filename or (t._("照片") if a.kind is AttachmentKind.PHOTO else t._("文件"))
        for a in attachments
    ]


def format_size(size: int) -> str:
    """`860 B`, `120 KB`, `2.4 MB`."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_name_and_size(t: Translator, attachment: NoticeAttachment) -> str:
    """`通知.pdf（120 KB）`; the name alone when the size is not known."""
    [name] = attachment_names(t, [attachment])
    if attachment.size is None:
        return name
    return t._("{name}（{size}）").format(name=name, size=format_size(attachment.size))


# -- what a guardian receives ----------------------------------------------------------------------


def children_names(children: Sequence[Child]) -> str:
    """`张小明（三(2)班）、张小红（四(1)班）`."""
    return "、".join(f"{c.student.name}（{c.klass.name}）" for c in children)


def guardian_text(
    t: Translator,
    notice: Notice,
    children: Sequence[Child],
    *,
    zone: ZoneInfo,
    school_name: str = "",
    attachments: Sequence[NoticeAttachment] = (),
) -> str:
    """The notice as one guardian reads it, naming their children in its audience."""
    _ = t._
    if notice.kind is NoticeKind.OTHER:
        head = _("【通知】{number}").format(number=notice.number)
    else:
        head = _("【{kind}通知】{number}").format(
            kind=kind_name(t, notice.kind), number=notice.number
        )
    lines = [
        head,
        _("《{title}》").format(title=notice.title),
        _("{children}的家长：").format(children=children_names(children)),
        "",
        notice.body,
    ]
    if attachments:
        lines += ["", _("附件：{names}").format(names="、".join(attachment_names(t, attachments)))]
    if notice.receipt_required and notice.kind is NoticeKind.MEETING:
        lines.append("")
        if notice.receipt_deadline is not None:
            lines.append(
                _("请于 {deadline} 前点“确认参加”或“不能参加”回复。").format(
                    deadline=format_moment(t, notice.receipt_deadline, zone)
                )
            )
        else:
            lines.append(_("请点“确认参加”或“不能参加”回复。"))
    elif notice.receipt_required:
        lines.append("")
        if notice.receipt_deadline is not None:
            lines.append(
                _("请于 {deadline} 前点“确认收到”。").format(
                    deadline=format_moment(t, notice.receipt_deadline, zone)
                )
            )
        else:
            lines.append(_("请点“确认收到”。"))
    if notice.kind in QUESTION_KINDS:
        lines.append(_("如有疑问，请点“有疑问”，您的问题会转给班主任。"))
    if school_name:
        lines += ["", school_name]
    return "\n".join(lines)


def guardian_buttons(
    t: Translator, notice: Notice, *, confirmed: bool = False, answer: str = ""
) -> list[list[Button]]:
    """确认收到 (unless confirmed or no receipt is asked) and 有疑问 (fee and outing notices).

    A meeting's notice asks 确认参加 / 不能参加; once answered (`answer`), it offers the other
    answer (改为不能参加 / 改为参加), for a family whose plans changed."""
    row: list[Button] = []
    if notice.kind is NoticeKind.MEETING and notice.receipt_required:
        notice_id = notice.id or 0
        if not confirmed or answer not in (ReceiptAnswer.ATTEND, ReceiptAnswer.DECLINE):
            row += [
                action_button(t._("确认参加"), ATTEND, notice_id),
                action_button(t._("不能参加"), DECLINE, notice_id),
            ]
        elif answer == ReceiptAnswer.ATTEND:
            row.append(action_button(t._("改为不能参加"), DECLINE, notice_id))
        else:
            row.append(action_button(t._("改为参加"), ATTEND, notice_id))
        return [row]
    if notice.receipt_required and not confirmed:
        row.append(action_button(t._("确认收到"), CONFIRM, notice.id or 0))
    if notice.kind in QUESTION_KINDS:
        row.append(action_button(t._("有疑问"), QUESTION, notice.id or 0))
    return [row] if row else []


def confirmed_line(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    return t._("✓ 已确认收到（{time}）").format(time=format_clock(moment, zone))


def answered_line(t: Translator, answer: str, moment: datetime, zone: ZoneInfo) -> str:
    """A meeting's notice once answered: `✓ 已回复：确认参加（11月16日 10:05）`."""
    if answer == ReceiptAnswer.DECLINE:
        return t._("✓ 已回复：不能参加（{time}）").format(time=format_clock(moment, zone))
    return t._("✓ 已回复：确认参加（{time}）").format(time=format_clock(moment, zone))


def receipt_done_line(
    t: Translator, notice: Notice, answers: Sequence[str], moment: datetime, zone: ZoneInfo
) -> str:
    """The line under a confirmed notice: 已确认收到, or a meeting's answer (the family's
    children share one answer; the first one's is shown)."""
    if notice.kind is NoticeKind.MEETING:
        return answered_line(t, answers[0] if answers else "", moment, zone)
    return confirmed_line(t, moment, zone)


def guardian_files(attachments: Sequence[NoticeAttachment]) -> tuple[FileRef, ...]:
    return tuple(
        FileRef(a.channel, a.file_ref, a.kind.value, a.filename, a.size) for a in attachments
    )


# -- what staff see ---------------------------------------------------------------------------------


def notice_card(
    t: Translator,
    notice: Notice,
    *,
    zone: ZoneInfo,
    audience: str,
    count: int,
    author: Staff | None,
    attachments: Sequence[NoticeAttachment] = (),
) -> str:
    """Every field of a saved notice (the approval request, the author's copy)."""
    _ = t._
    lines = [
        _("文号：{number}").format(number=notice.number or _("（批准后编号）")),
        _("类型：{kind}").format(kind=kind_name(t, notice.kind)),
        _("标题：{title}").format(title=notice.title),
    ]
    if author is not None:
        lines.append(_("拟稿：{name}").format(name=author.name))
    lines += [
        _("发送对象：{audience}").format(audience=audience_line(t, audience, count)),
        _("回执：{receipt}").format(
            receipt=receipt_line(t, notice.receipt_required, notice.receipt_deadline, zone)
        ),
        _("发布时间：{publish}").format(
            publish=publish_line(t, notice.publish_at, zone, self_approved=False)
        ),
        _("展示截止：{day}").format(day=format_day(t, notice.display_until)),
        _("附件：{files}").format(
            files=files_line(t, [attachment_name_and_size(t, a) for a in attachments])
        ),
        _("状态：{status}").format(status=status_name(t, notice)),
        "",
        notice.body,
    ]
    return "\n".join(lines)


def approval_buttons(t: Translator, notice: Notice) -> list[list[Button]]:
    return [
        [
            action_button(t._("批准"), APPROVE, notice.id or 0),
            action_button(t._("退回"), RETURN, notice.id or 0),
        ]
    ]


async def student_of(session: AsyncSession, student_id: int) -> tuple[Student, SchoolClass] | None:
    query = (
        select(Student, SchoolClass)
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(Student.id == student_id)
    )
    row = (await session.exec(query)).first()
    return (row[0], row[1]) if row else None
