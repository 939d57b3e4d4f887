"""Chasing notice receipts 回执 and archiving notices (DOMAIN.md "Notices").

`notice_reminders` (every five minutes), for each published notice that asks for a receipt by a
deadline:

* halfway between publication and the deadline, guardians whose children are not confirmed yet
  (a student is reached when either guardian confirmed) get one reminder with the notice and its
  确认收到 button; at the deadline, one more;
* at the deadline, the head teacher of each class with unconfirmed students gets the list of
  those students with their guardians' roster phone numbers, to call (德育处 when a class has no
  head teacher).

A stage that falls in quiet hours waits for their end and then looks again at who is still
missing, so nobody who confirmed overnight is reminded. Each stage runs once per notice (a
`NoticeChase` row, written in the job's transaction with what it queued) and its rows have
deterministic keys (`notice-reminder:{notice}:{half|deadline}:guardian:{gid}:{channel}`,
`notice-calls:{notice}:class:{cid}:staff:{sid}:{channel}`). A halfway reminder whose time came
only once the deadline had passed (the bot was down) is skipped: the deadline one goes instead.

`archive_notices` (hourly) archives notices whose display window ended: still searchable with
`/notices`, never chased again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from handlers.i18n import Translator, translator
from handlers.notice.render import (
    format_moment,
    guardian_buttons,
    guardian_text,
    title_line,
)
from handlers.notice.staff_view import follow_button
from handlers.notify import notify_people
from handlers.types import Reply
from models.accounts.tables import PersonKind
from models.db.columns import insert_ignoring_duplicates
from models.notices.publishing import families_of
from models.notices.tables import Notice, NoticeKind
from models.notices.tracking import (
    REACH_LABELS,
    ChaseStage,
    MissingStudent,
    NoticeChase,
    Reach,
    archive_ended,
    missing_students,
    notices_to_chase,
    stages_done,
    unconfirmed_pupils,
)
from models.outbox.tables import enqueue
from models.roster.queries import staff_with_role
from models.roster.tables import StaffRole
from models.school.rules import SchoolRules, in_quiet_hours, next_waking_moment
from models.school.tables import SchoolClass
from scheduler.base import Job, JobContext

REMINDER_KIND = "notice_reminder"
CALLS_KIND = "notice_calls"


@dataclass(frozen=True)
class Stages:
    """When each chasing stage of a notice is due (already moved out of quiet hours)."""

    half: datetime
    deadline: datetime


def stage_times(notice: Notice, jc: JobContext) -> Stages:
    published, deadline = notice.published_at, notice.receipt_deadline
    assert published is not None and deadline is not None
    halfway = published + (deadline - published) / 2
    return Stages(
        half=next_waking_moment(halfway, zone=jc.zone, rules=jc.rules),
        deadline=next_waking_moment(deadline, zone=jc.zone, rules=jc.rules),
    )


def due_stages(
    times: Stages, now: datetime, done: set[ChaseStage]
) -> list[tuple[ChaseStage, bool]]:
    """The stages to run now, each with whether it sends (False: skipped, recorded as done)."""
    due: list[tuple[ChaseStage, bool]] = []
    if ChaseStage.HALF not in done and now >= times.half:
        # A halfway reminder that could only go at or after the deadline is not sent.
        due.append((ChaseStage.HALF, now < times.deadline and times.half < times.deadline))
    if now >= times.deadline:
        due += [
            (stage, True) for stage in (ChaseStage.DEADLINE, ChaseStage.CALLS) if stage not in done
        ]
    return due


async def chase_receipts(jc: JobContext) -> int:
    """Run the chasing stages that are due; returns the outbox rows queued. Nothing in quiet
    hours: a stage due then runs at their end, with whoever is still missing by then."""
    if in_quiet_hours(jc.now, zone=jc.zone, rules=jc.rules):
        return 0
    notices = await notices_to_chase(
        session=jc.session, school_id=jc.school.id or 0, today=jc.today
    )
    done = await stages_done(session=jc.session, notice_ids=[n.id or 0 for n in notices])
    queued = 0
    for notice in notices:
        for stage, send in due_stages(
            stage_times(notice, jc), jc.now, done.get(notice.id or 0, set())
        ):
            queued += await _run_stage(jc, notice, stage, send)
    return queued


async def _run_stage(jc: JobContext, notice: Notice, stage: ChaseStage, send: bool) -> int:
    """Claim the stage (once per notice), then queue its messages in the same transaction."""
    claim = {
        "notice_id": notice.id,
        "stage": stage.value,
        "done_at": jc.now,
        "queued": 0,
        "note": "" if send else "skipped: the deadline came first",
    }
    table = NoticeChase.__table__  # type: ignore[attr-defined]
    if not await insert_ignoring_duplicates(
        jc.session, table, claim, unique=["notice_id", "stage"]
    ):
        return 0
    if not send:
        return 0
    if stage is ChaseStage.CALLS:
        queued = await _call_lists(jc, notice)
    else:
        queued = await _remind(jc, notice, stage)
    await jc.session.exec(
        update(NoticeChase)
        .where(col(NoticeChase.notice_id) == notice.id, col(NoticeChase.stage) == stage)
        .values(queued=queued)
    )
    return queued


# -- reminders to guardians ------------------------------------------------------------------------


def reminder_lead(t: Translator, stage: ChaseStage, notice: Notice | None = None) -> str:
    if notice is not None and notice.kind is NoticeKind.MEETING:
        if stage is ChaseStage.HALF:
            return t._("【提醒】您还没有回复是否参加下面这次会议，请点“确认参加”或“不能参加”。")
        return t._(
            "【提醒】下面这次会议的回复已到截止时间，您还没有回复。请尽快点“确认参加”或“不能参加”；"
            "如有困难，请联系班主任。"
        )
    if stage is ChaseStage.HALF:
        return t._("【提醒】您还没有确认收到下面这份通知，请阅读后点“确认收到”。")
    return t._(
        "【提醒】下面这份通知的回执已到截止时间，您还没有确认收到。请阅读后尽快点“确认收到”；"
        "如有困难，请联系班主任。"
    )


async def _remind(jc: JobContext, notice: Notice, stage: ChaseStage) -> int:
    notice_id = notice.id or 0
    pupils = await unconfirmed_pupils(session=jc.session, notice_id=notice_id)
    families = await families_of(session=jc.session, pupils=pupils)
    queued = 0
    for family in families:
        for account in family.accounts:
            t = translator(account.language)
            text = "\n\n".join(
                [
                    reminder_lead(t, stage, notice),
                    guardian_text(
                        t, notice, family.children, zone=jc.zone, school_name=jc.school.name
                    ),
                ]
            )
            queued += await enqueue(
                session=jc.session,
                school_id=jc.school_id,
                key=(
                    f"notice-reminder:{notice_id}:{stage.value}:guardian:"
                    f"{family.guardian.id}:{account.channel}"
                ),
                kind=REMINDER_KIND,
                channel=account.channel,
                chat_id=account.chat_id,
                payload=Reply.with_buttons(text, guardian_buttons(t, notice)).to_dict(),
                due_at=jc.now,
            )
    return queued


# -- the head teachers' call lists -----------------------------------------------------------------


def call_list_text(
    t: Translator, notice: Notice, klass: SchoolClass, missing: list[MissingStudent], jc: JobContext
) -> str:
    _ = t._
    deadline = notice.receipt_deadline
    assert deadline is not None
    lines = [
        _("{title} 的回执已于 {deadline} 截止。").format(
            title=title_line(t, notice), deadline=format_moment(t, deadline, jc.zone)
        ),
        _("{klass} 还有 {count} 名学生的家长没有确认收到，请电话联系：").format(
            klass=klass.name, count=len(missing)
        ),
    ]
    for number, entry in enumerate(missing, start=1):
        lines.append(f"{number}. {entry.student.name}")
        if not entry.guardians:
            lines.append("   " + _("（名册中没有家长信息）"))
        for contact in entry.guardians:
            relation = contact.relation or _("家长")
            note = ""
            if contact.reach is not Reach.SENT:
                note = _("（{reach}）").format(reach=t._(REACH_LABELS[contact.reach]))
            lines.append(
                "   "
                + _("{relation} {name} {phone}{note}").format(
                    relation=relation,
                    name=contact.guardian.name,
                    phone=contact.guardian.phone,
                    note=note,
                )
            )
    return "\n".join(lines)


async def _call_lists(jc: JobContext, notice: Notice) -> int:
    notice_id = notice.id or 0
    missing = await missing_students(session=jc.session, notice_id=notice_id)
    by_class: dict[int, list[MissingStudent]] = {}
    classes: dict[int, SchoolClass] = {}
    for entry in missing:
        class_id = entry.klass.id or 0
        by_class.setdefault(class_id, []).append(entry)
        classes[class_id] = entry.klass
    admins: list[int] | None = None
    queued = 0
    for class_id, entries in by_class.items():
        klass = classes[class_id]
        if klass.head_teacher_id is not None:
            staff = [klass.head_teacher_id]
        else:
            if admins is None:
                found = await staff_with_role(
                    session=jc.session, school_id=jc.school.id or 0, role=StaffRole.ADMIN
                )
                admins = [s.id or 0 for s in found]
            staff = admins

        def render(
            t: Translator, klass: SchoolClass = klass, entries: list[MissingStudent] = entries
        ) -> Reply:
            text = call_list_text(t, notice, klass, entries, jc)
            return Reply.with_buttons(text, [[follow_button(t, notice_id, class_id=klass.id)]])

        result = await notify_people(
            session=jc.session,
            school_id=jc.school.id or 0,
            people=[(PersonKind.STAFF, i) for i in staff],
            key=f"notice-calls:{notice_id}:class:{class_id}",
            kind=CALLS_KIND,
            render=render,
            due_at=jc.now,
        )
        queued += result.queued
    return queued


# -- archiving ----------------------------------------------------------------------------------------


async def archive_notices(jc: JobContext) -> int:
    """Archive the notices whose display window ended; sends nothing."""
    await archive_ended(session=jc.session, school_id=jc.school.id or 0, today=jc.today, now=jc.now)
    return 0


def _every_five_minutes(rules: SchoolRules) -> dict[str, Any]:
    return {"minute": "*/5"}


def _hourly(rules: SchoolRules) -> dict[str, Any]:
    return {"minute": 5}


NOTICE_REMINDERS = Job(
    name="notice_reminders",
    func=chase_receipts,
    schedule=_every_five_minutes,
    describe="通知回执：过半和截止时提醒未确认的家长，截止后给班主任电话名单",
)
NOTICE_ARCHIVE = Job(
    name="archive_notices",
    func=archive_notices,
    schedule=_hourly,
    describe="展示期已过的通知归档（不再提醒，仍可查找）",
)
