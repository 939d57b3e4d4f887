"""The monthly summary of parents' feedback (`feedback_summary`, at
`rules.feedback_summary_time` on each of the 1st to the 5th of the month).

The first run of a month sends the previous month's summary to 德育处 (admin role) and the
principal; the runs of the 2nd to the 5th send it only if it was missed (the bot was down on the
1st): the key `feedback-summary:{yyyy-mm}` (then `:staff:{id}:{channel}`) is the month's, so a
second run queues nothing. With `rules.feedback_summary_publish`, every guardian with a bound
account gets it too (`:guardian:{id}:{channel}`), as a message from the school.

The summary holds counts only (`models.feedback.summary`): no names, no students, no text, no
class with fewer than five items named. Messages wait for the end of quiet hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from sqlmodel import col, select

from handlers.i18n import Translator
from handlers.types import Reply
from models.accounts.tables import ChannelAccount, PersonKind
from models.feedback.summary import (
    ABOUT_SCHOOL,
    ABOUT_TEACHERS,
    OTHER,
    FeedbackSummary,
    month_rows,
    previous_month,
    summarise,
)
from models.feedback.tables import FEEDBACK_KIND_LABELS
from models.ledger.rules import SMALL_GROUP
from models.ledger.tables import OUTCOME_LABELS, STATUS_LABELS
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole
from models.school.rules import SchoolRules
from scheduler.base import Job, JobContext

KIND = "feedback_summary"
K = TypeVar("K", bound=StrEnum)
#: The last day of the month on which a missed summary is still sent.
LAST_CATCH_UP_DAY = 5
#: The follow-up target for complaints, in percent.
FOLLOW_UP_TARGET = 100


# -- the words -----------------------------------------------------------------------------------


def duration_text(t: Translator, hours: float | None) -> str:
    if hours is None:
        return t._("暂无")
    if hours < 1:
        return t._("不到 1 小时")
    if hours < 48:
        return t._("{hours} 小时").format(hours=round(hours))
    return t._("{days} 天").format(days=f"{hours / 24:.1f}")


def _counts(t: Translator, counts: Mapping[K, int], labels: Mapping[K, str]) -> str:
    return " · ".join(
        f"{t._(label)} {counts[key]}" for key, label in labels.items() if counts.get(key)
    )


def _group(t: Translator, name: str) -> str:
    return t._(name) if name in (ABOUT_SCHOOL, ABOUT_TEACHERS, OTHER) else name


def summary_text(t: Translator, s: FeedbackSummary) -> str:
    _ = t._
    lines = [_("【家长意见月报】{year}年{month}月").format(year=s.month.year, month=s.month.month)]
    if not s.total:
        lines.append(_("本月没有收到家长的意见和建议。"))
        return "\n".join(lines)
    lines.append(
        _("共收到家长意见 {count} 条：{kinds}").format(
            count=s.total, kinds=_counts(t, s.by_kind, FEEDBACK_KIND_LABELS)
        )
    )
    if s.items:
        lines.append(
            _("转入问题台账跟进 {count} 条：{statuses}").format(
                count=s.items, statuses=_counts(t, s.by_status, STATUS_LABELS)
            )
        )
    if s.by_outcome:
        lines.append(
            _("已办结的处理结果：{outcomes}").format(
                outcomes=_counts(t, s.by_outcome, OUTCOME_LABELS)
            )
        )
    if s.complaints:
        lines.append(
            _("投诉已跟进 {done}/{count} 条（{percent}%，目标 {target}%）").format(
                done=s.complaints_followed_up,
                count=s.complaints,
                percent=s.followed_up_percent,
                target=FOLLOW_UP_TARGET,
            )
        )
    else:
        lines.append(_("本月没有投诉。"))
    if s.items:
        lines.append(
            _("用时中位数：首次回应 {response}，办结 {close}").format(
                response=duration_text(t, s.hours_to_first_response),
                close=duration_text(t, s.hours_to_close),
            )
        )
    lines.append(
        _("按反馈对象：{groups}").format(
            groups=" · ".join(f"{_group(t, name)} {count}" for name, count in s.by_about.items())
        )
    )
    if OTHER in s.by_about:
        lines.append(_("（不足 {minimum} 条的对象合并计入“其他”。）").format(minimum=SMALL_GROUP))
    return "\n".join(lines)


# -- the job -------------------------------------------------------------------------------------


async def send_feedback_summary(jc: JobContext) -> int:
    """On the 1st to the 5th: the previous month's summary, once; returns the rows queued."""
    today = jc.slot_day
    if today.day > LAST_CATCH_UP_DAY:
        return 0
    school_id = jc.school.id or 0
    month = previous_month(today)
    summary = summarise(
        month, await month_rows(jc.session, school_id=school_id, month=month, zone=jc.zone)
    )
    people: list[tuple[PersonKind, int]] = []
    for role in (StaffRole.ADMIN, StaffRole.PRINCIPAL):
        for staff in await staff_with_role(session=jc.session, school_id=school_id, role=role):
            person = (PersonKind.STAFF, staff.id or 0)
            if person not in people:
                people.append(person)
    if jc.rules.feedback_summary_publish:
        guardians = await jc.session.exec(
            select(ChannelAccount.person_id)
            .where(
                col(ChannelAccount.school_id) == school_id,
                col(ChannelAccount.person_kind) == PersonKind.GUARDIAN.value,
            )
            .distinct()
            .order_by(col(ChannelAccount.person_id))
        )
        people += [(PersonKind.GUARDIAN, person_id) for person_id in guardians.all()]
    notified = await jc.notify(
        people,
        key=f"feedback-summary:{month:%Y-%m}",
        kind=KIND,
        render=lambda t: Reply(summary_text(t, summary)),
    )
    return notified.queued


def _first_days(rules: SchoolRules) -> dict[str, Any]:
    at = rules.feedback_summary_time
    return {"day": f"1-{LAST_CATCH_UP_DAY}", "hour": at.hour, "minute": at.minute}


FEEDBACK_SUMMARY = Job(
    name="feedback_summary",
    func=send_feedback_summary,
    schedule=_first_days,
    describe="每月1日（最迟5日补发）：上月家长意见汇总，发给德育处和校长",
)
