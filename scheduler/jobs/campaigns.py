"""The 大走访's left-behind households 留守 (`campaign_left_behind_reminders`, daily at
`rules.campaign_reminder_time`; seed 003: 对留守儿童的父母每月进行走访).

From the first of the month's last seven days (`models.campaigns.coverage.left_behind_reminder_day`)
to the month's end, each run looks at every running campaign with `left_behind_monthly`: its
households with a child tagged 留守 (`models.quota.rules.is_left_behind`) that had no contact of
any form this month (`models.campaigns.queries.left_behind_month`: a visit by any teacher dated
in the month) are listed to their responsible teacher in the 包保表, one message per teacher. The
key carries the campaign, the month and the teacher (`campaign-left-behind:{campaign}:{yyyy-mm}:
teacher:{id}`, then `:staff:{id}:{channel}`), so a teacher is reminded once a month: the run on
the reminder day sends, later runs of the month — or a catch-up after downtime — queue nothing
for them, and a teacher whose households are all contacted gets nothing. Households with no
responsible teacher are not reminded (the campaign's views list them). Messages wait for the end
of the quiet hours (`next_waking_moment`).
"""

from __future__ import annotations

from datetime import date

from handlers.i18n import Translator
from handlers.notify import notify_keyed
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.campaigns.coverage import left_behind_reminder_day
from models.campaigns.queries import (
    LeftBehindHousehold,
    assignment_of,
    campaign_households,
    left_behind_month,
    running_campaigns,
)
from models.campaigns.tables import Campaign
from scheduler.base import Job, JobContext, daily_at

KIND = "campaign_left_behind"
#: Households named in one message; the rest are counted.
MAX_LISTED = 20


def reminder_key(campaign_id: int, month: date, teacher_id: int) -> str:
    return f"campaign-left-behind:{campaign_id}:{month:%Y-%m}:teacher:{teacher_id}"


def reminder_text(
    t: Translator, campaign: Campaign, today: date, due: list[LeftBehindHousehold]
) -> str:
    """`【大走访·留守家庭】…` with the students of each household not contacted this month."""
    _ = t._
    names = [
        _("、").join(f"{child.class_name}{child.name}" for child in household.children)
        for household in due
    ]
    lines = [
        _(
            "【大走访·留守家庭】「{name}」：您包保的 {count} 户留守儿童家庭本月（{month}月）"
            "还没有联系："
        ).format(name=campaign.name, count=len(due), month=today.month)
    ]
    lines += [f"· {students}" for students in names[:MAX_LISTED]]
    if len(names) > MAX_LISTED:
        lines.append(_("另有 {count} 户。").format(count=len(names) - MAX_LISTED))
    lines.append(
        _("请在月底前以电话、短信或上门任一方式联系家长，并发送 /visit 记录（电访也算联系）。")
    )
    return "\n".join(lines)


async def campaign_left_behind_reminders(jc: JobContext) -> int:
    """Remind each responsible teacher of their left-behind households not contacted this
    month, once a month, in the month's last week; returns the rows queued."""
    if jc.today < left_behind_reminder_day(jc.today):
        return 0
    school_id = jc.school.id or 0
    due_at = jc.waking
    queued = 0
    for campaign in await running_campaigns(jc.session, school_id, jc.today):
        if not campaign.left_behind_monthly or campaign.id is None:
            continue
        households = await campaign_households(jc.session, campaign)
        found = await left_behind_month(jc.session, campaign, jc.today, households=households)
        waiting = [h for h in found if not h.contacted]
        if not waiting:
            continue
        assignment = await assignment_of(jc.session, campaign, households=households)
        by_teacher: dict[int, list[LeftBehindHousehold]] = {}
        for household in waiting:
            teacher = assignment.teacher_of(household.key)
            if teacher is not None:
                by_teacher.setdefault(teacher, []).append(household)
        items = []
        for teacher, due in sorted(by_teacher.items()):

            def render(
                t: Translator, campaign: Campaign = campaign, due: list[LeftBehindHousehold] = due
            ) -> Reply:
                return Reply(reminder_text(t, campaign, jc.today, due))

            key = reminder_key(campaign.id, jc.today, teacher)
            items.append(((PersonKind.STAFF, teacher), key, render))
        notified = await notify_keyed(
            session=jc.session, school_id=school_id, items=items, kind=KIND, due_at=due_at
        )
        queued += notified.queued
    return queued


CAMPAIGN_LEFT_BEHIND_REMINDERS = Job(
    name="campaign_left_behind_reminders",
    func=campaign_left_behind_reminders,
    schedule=daily_at(lambda rules: rules.campaign_reminder_time),
    describe="大走访：每月最后一周，提醒包保教师联系本月尚未联系的留守儿童家庭（每人每月一次）",
)
