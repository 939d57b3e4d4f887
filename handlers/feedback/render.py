"""The words of 意见反馈, shared by the chat and the WeCom page: labels, the summary lines, the
message to 德育处 (and to a praised teacher), the answer after 提交, and a feedback's standing
as its author looks it up.

What staff read of a feedback is its kind, what it is about and its text; for named feedback
also the author's name and children (`models.feedback.queries.author_of`), never a phone or an
account. What a parent reads of its handling names no member of staff.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.duty_notices import format_day
from handlers.i18n import N_, Translator
from models.feedback.queries import Author, Targets, TeacherChoice
from models.feedback.tables import (
    FEEDBACK_ABOUT_LABELS,
    FEEDBACK_KIND_LABELS,
    Feedback,
    FeedbackAbout,
    FeedbackKind,
)
from models.ledger.handling import split_outcome
from models.ledger.tables import OUTCOME_LABELS, LedgerEvent, LedgerItem, LedgerStatus

#: The line under the 实名 / 匿名 question (and on the page).
ANONYMOUS_EXPLAINED = N_(
    "匿名时学校看不到您的姓名、电话和孩子，您将收到一个反馈编号用来查询处理结果。"
)

#: What a parent reads of an item's status (not the ledger's own words, which are for staff).
PARENT_STATUS: dict[LedgerStatus, str] = {
    LedgerStatus.OPEN: N_("待受理"),
    LedgerStatus.ACTIVE: N_("处理中"),
    LedgerStatus.CLOSED: N_("已办结"),
}


def kind_label(t: Translator, kind: FeedbackKind) -> str:
    return t._(FEEDBACK_KIND_LABELS[kind])


def teacher_label(t: Translator, teacher: TeacherChoice) -> str:
    """`王芳老师（三(2)班班主任、三(1)班数学）`."""
    jobs = [t._("{klass}班主任").format(klass=name) for name in teacher.head_of]
    jobs += [
        t._("{klass}{subject}").format(klass=name, subject=subject or t._("任课老师"))
        for name, subject in teacher.teaches
    ]
    name = t._("{name}老师").format(name=teacher.name)
    return f"{name}（{'、'.join(jobs)}）" if jobs else name


def about_text(
    t: Translator,
    about: FeedbackAbout,
    *,
    class_name: str | None = None,
    teacher_name: str | None = None,
) -> str:
    """`三(2)班`, `王芳老师`, `学校` (or the bare label when the class or teacher is unknown)."""
    if about is FeedbackAbout.CLASS and class_name:
        return class_name
    if about is FeedbackAbout.TEACHER and teacher_name:
        return t._("{name}老师").format(name=teacher_name)
    return t._(FEEDBACK_ABOUT_LABELS[about])


def about_of(
    t: Translator,
    about: FeedbackAbout,
    targets: Targets,
    class_id: int | None,
    staff_id: int | None,
) -> str:
    """What a draft or a form is about, named from the guardian's choices."""
    klass = targets.class_named(class_id) if about is FeedbackAbout.CLASS else None
    teacher = targets.teacher_named(staff_id) if about is FeedbackAbout.TEACHER else None
    return about_text(
        t,
        about,
        class_name=klass.name if klass else None,
        teacher_name=teacher.name if teacher else None,
    )


def signed_as(t: Translator, anonymous: bool) -> str:
    if anonymous:
        return t._("匿名（学校看不到您的姓名、电话和孩子）")
    return t._("实名（学校可以看到您的姓名和孩子，处理后会通知您）")


# -- to staff ---------------------------------------------------------------------------------


def author_line(t: Translator, author: Author | None) -> str:
    """`来自：刘梅（三(2)班张小明、四(1)班张小红的家长）`, or `匿名` for anonymous feedback."""
    if author is None:
        return t._("匿名意见")
    if not author.children:
        return t._("来自：{name}").format(name=author.name)
    return t._("来自：{name}（{children}的家长）").format(
        name=author.name, children="、".join(author.children)
    )


def office_message(
    t: Translator, feedback: Feedback, item: LedgerItem | None, about: str, author: Author | None
) -> str:
    """The message to 德育处: for a suggestion, complaint or other note, with its ledger item."""
    kind = kind_label(t, feedback.kind)
    if item is None:
        head = t._("家长表扬（关于{about}）：{text}").format(about=about, text=feedback.text)
        return "\n".join([head, author_line(t, author)])
    head = t._(
        "新的家长意见（{kind}）：{text}，台账 #{id}，请在台账中指定负责人 (/ledger {id})"
    ).format(kind=kind, text=feedback.text, id=item.id)
    return "\n".join([head, t._("关于：{about}").format(about=about), author_line(t, author)])


def teacher_praise(t: Translator, feedback: Feedback, author: Author | None) -> str:
    """What a praised teacher reads."""
    head = t._("家长表扬了您：{text}").format(text=feedback.text)
    return "\n".join([head, author_line(t, author)])


# -- to the parent ----------------------------------------------------------------------------


def received(t: Translator, feedback: Feedback) -> str:
    """The answer after 提交."""
    if feedback.kind is FeedbackKind.PRAISE:
        lines = [t._("已收到您的表扬，我们会转达。谢谢您！")]
    else:
        lines = [
            t._("已收到您的意见（{kind}），学校会认真处理。").format(
                kind=kind_label(t, feedback.kind)
            )
        ]
    if feedback.anonymous:
        lines.append(
            t._("请记下反馈编号 {code}，发送 /feedback {code} 可查询处理进展。").format(
                code=feedback.code
            )
        )
    elif feedback.kind is not FeedbackKind.PRAISE:
        lines.append(t._("处理后会通知您。"))
    return "\n".join(lines)


def standing(
    t: Translator,
    feedback: Feedback,
    item: LedgerItem | None,
    closing: LedgerEvent | None,
    zone: ZoneInfo,
) -> str:
    """A feedback as its author looks it up: code, kind, date, status (and how it was settled)."""
    day = format_day(t, feedback.created_at.astimezone(zone).date())
    lines = [
        t._("反馈编号：{code}").format(code=feedback.code),
        t._("类别：{kind}").format(kind=kind_label(t, feedback.kind)),
        t._("提交日期：{day}").format(day=day),
    ]
    lines.append(t._("状态：{status}").format(status=status_text(t, item, closing)))
    return "\n".join(lines)


def status_text(t: Translator, item: LedgerItem | None, closing: LedgerEvent | None) -> str:
    """待受理 / 处理中 / 已办结（已解决）：<the resolution note>; praise needs no handling."""
    if item is None:
        return t._("已收到（表扬无需处理，已转达）")
    status = t._(PARENT_STATUS[item.status])
    if item.status is not LedgerStatus.CLOSED:
        return status
    outcome, note = split_outcome(closing.note) if closing is not None else (None, "")
    outcome = item.outcome or outcome
    if outcome is not None:
        status = t._("{status}（{outcome}）").format(
            status=status, outcome=t._(OUTCOME_LABELS[outcome])
        )
    return f"{status}：{note}" if note else status
