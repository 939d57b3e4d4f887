"""The school's configurable rules, with DOMAIN.md's defaults, and the quiet-hours rule.

Every number a school may change lives here; `Settings.rules` reads overrides from the
environment (`RULES__QUIET_START=21:30`, `RULES__DUTY_DUE_HOURS=12`, …).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field


class EvaluationWeights(BaseModel):
    """The weights of a teacher's evaluation score 考评 (`models.campaigns.evaluation`): each part
    is scored 0–1 and the score is their weighted mean ×100; a part with no target for the
    teacher (no duty due, no campaign household, a coach's visit quota) is left out and the
    other weights count in proportion. The defaults (summing to 100) follow seed 000's closing
    words — quota compliance (the first four, 55), records filed on time (10), immediate visits
    on time (15), the class's coverage (10) — and the campaign and the ledger (5 each)."""

    model_config = ConfigDict(frozen=True)

    #: Routine visits against the monthly quota, month by month.
    routine_visits: float = Field(default=20.0, ge=0)
    #: Parent contacts against the monthly 8, month by month.
    parent_contacts: float = Field(default=15.0, ge=0)
    #: Key visits to the special-type students.
    key_visits: float = Field(default=10.0, ge=0)
    #: The break's visit quota.
    break_visits: float = Field(default=10.0, ge=0)
    #: Immediate-visit duties: on time 1, late ½, missed 0.
    duties: float = Field(default=15.0, ge=0)
    #: Visits logged within `late_filing_days` of the visit.
    records_on_time: float = Field(default=10.0, ge=0)
    #: The class's yearly coverage 遍访 (head teachers).
    class_coverage: float = Field(default=10.0, ge=0)
    #: The campaign households assigned to the teacher and visited by them.
    campaign: float = Field(default=5.0, ge=0)
    #: Ledger items owned and closed.
    ledger: float = Field(default=5.0, ge=0)


class SchoolRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: Nothing but urgent incidents is sent from `quiet_start` until `quiet_end` (local time).
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    #: An immediate visit is due this many hours after its trigger.
    duty_due_hours: int = 24
    #: A teacher with an open duty is reminded this often (in waking hours).
    duty_reminder_hours: int = 4
    #: Staff are told who to phone when no guardian acknowledged an incident in this time.
    ack_timeout_minutes: int = 10
    #: A sick absence of this many school days or more triggers an immediate visit (两天以上:
    #: 以上 includes the number, so the visit is due on the second school day).
    sick_absence_school_days: int = 2
    #: Daily check for sick absences past that threshold (its messages wait for waking hours).
    sick_check_time: time = time(6, 30)
    #: Daily alert to 德育处 about immediate visits past due (once a day per duty).
    duty_overdue_alert_time: time = time(8, 0)
    #: 德育处's daily digest is sent at this local time.
    digest_time: time = time(7, 30)
    #: A scheduled job whose slot was missed while the bot was down runs once when it is back, if
    #: the slot is at most this many hours old (older slots are skipped).
    missed_job_grace_hours: float = 6.0
    #: An unfinished conversation parked as a draft (`/drafts`) is cleared, with a note to its
    #: owner, once it has not been touched for this many days.
    draft_keep_days: int = Field(default=7, ge=1)
    #: When the drafts past `draft_keep_days` are cleared each day (local time).
    draft_cleanup_time: time = time(7, 0)

    # -- Quotas 家访指标 (DOMAIN.md "Quotas"; models/quota/rules.py applies them) ----------------------
    #: The forms that count as routine visits 常规家访 (有计划地上门访问, seed 000 §二.1): the
    #: monthly and break visit quotas, the head teacher's 遍访 and the key visits count only
    #: these. Default 上门家访; a school may add "parent_came" (家长来访) and "invited" (约访).
    routine_forms: tuple[
        Literal["home", "parent_came", "invited", "phone", "letter", "video"], ...
    ] = ("home",)
    #: How a video visit 视频家访 (微信视频 …) counts: "contact" (a parent contact like a phone
    #: call — the seed's 家访 is 上门, in person; the default) or "home" (as a 上门家访 wherever
    #: 上门 counts: the routine visits when "home" is in `routine_forms`, 遍访 and 入户). An
    #: immediate visit 立即家访 is in person and is completed only by a 上门家访 either way.
    video_visit_counts_as: Literal["contact", "home"] = "contact"
    #: Routine visits a month by a head teacher / a subject teacher (人次, any category). Months
    #: are counted over their term days; a month partly in a break has a pro-rated target.
    monthly_visits_head_teacher: int = 10
    monthly_visits_subject_teacher: int = 3
    #: Every teacher (head, subject, coach): contacts with parents a month, in 人次, any form
    #: (家访、信访、电话访, seed 000 §二.4).
    monthly_parent_contacts: int = 8
    #: How contacts are counted: "contacts" (人次: two calls to one family are two, the seed's
    #: reading) or "families" (distinct families reached).
    contacts_counted_as: Literal["contacts", "families"] = "contacts"
    #: Whose routine visits tick a head teacher's 遍访: "head_teacher" (their own, the seed's
    #: 班主任……遍访) or "anyone" (any teacher's routine visit to the household).
    coverage_by: Literal["head_teacher", "anyone"] = "head_teacher"
    #: Key visits count beyond the year's first routine visit (在常规家访的基础上, the seed's
    #: reading); False counts every routine visit of the key category.
    key_visits_beyond_routine: bool = True
    #: Every student's parents are contacted at least once a semester, any form (seed 003).
    semester_contacts_per_student: int = 1
    #: The parents of every left-behind child 留守儿童 are contacted this often a month.
    left_behind_contacts_per_month: int = 1
    #: Visits during the winter break, as a whole.
    winter_visits_head_teacher: int = 6
    winter_visits_subject_teacher: int = 4
    #: Visits by a subject teacher during the summer break (a head teacher instead visits every
    #: newly taken-over student once).
    summer_visits_subject_teacher: int = 6
    #: Key visits 重点家访 each special-type student gets a school year: at least / at most.
    key_visits_min: int = 1
    key_visits_max: int = 2
    #: A visit logged more than this many days after it took place needs a reason, and counts
    #: as a late filing in 德育处's figures.
    late_filing_days: int = 7
    #: The weekly nudge to teachers behind pace for the month (mon … sun, local time).
    weekly_nudge_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly_nudge_time: time = time(8, 0)
    #: Those still short of the month's target are reminded this many days before its last day.
    month_end_days_before: int = 3
    month_end_time: time = time(8, 0)
    #: On the first day of a winter or summer break: the break quota and the must-visit list.
    break_start_time: time = time(8, 0)

    # -- Flood limits for people (models/limits/rules.py applies them) ---------------------------
    #: Questions 有疑问 one guardian may send about one notice, every channel together (the
    #: Telegram and WeCom chats and the WeCom receipt page).
    questions_per_notice: int = Field(default=5, ge=1)
    #: Messages one person may send to staff in any hour: a guardian's questions, a head
    #: teacher's notices submitted for approval. Urgent incident reports are never held back.
    messages_to_staff_per_hour: int = Field(default=20, ge=1)

    # -- The care room 关爱室 (models/care/; the `care_reminders` and `care_severe_alerts` jobs) --
    #: When care workers are reminded of the cases whose next contact is due (local time).
    care_reminder_time: time = time(8, 0)
    #: A severe (重) open case with no contact for this many school days is told to the principal.
    care_severe_school_days: int = Field(default=2, ge=1)

    # -- The problem ledger 问题台账 and parents' feedback (models/ledger/, models/feedback/) -----
    #: A head teacher may classify the ledger items of their own class (besides 德育处).
    ledger_head_teacher_classifies: bool = False
    #: An item still unclassified after this many school days is named in the digest.
    ledger_classify_school_days: int = Field(default=2, ge=1)
    #: A parent's complaint with no owner after this many school days is named in the digest.
    complaint_assign_school_days: int = Field(default=1, ge=1)
    #: An item's owner is reminded this many days before its due date, and on the day.
    ledger_remind_days_before: int = Field(default=1, ge=0)
    #: When the ledger's reminders (due dates, progress notes) go out each day (local time).
    ledger_reminder_time: time = time(8, 0)
    #: The monthly feedback summary (on the 1st; caught up until the 5th) also goes to every
    #: parent, as a message from the school.
    feedback_summary_publish: bool = False
    feedback_summary_time: time = time(8, 0)

    # -- Parent surveys 问卷 and opinion week 民意访问周 (models/surveys/) -------------------------
    #: A semester survey asks at least this share (percent) of every class's families (seed 000:
    #: 随机选择不少于30%的学生家长).
    survey_min_share: int = Field(default=30, ge=1, le=100)
    #: Each opinion week asks this share (percent) of the families not yet asked this semester;
    #: at 25 the four opinion weeks of a semester ask every family once.
    opinion_week_share: int = Field(default=25, ge=1, le=100)
    #: When the opinion week's survey goes out on the first school day of the month's last
    #: school week (local time, in waking hours; the job `opinion_week`).
    opinion_week_time: time = time(9, 0)
    #: When the semester rule is checked each day from the semester's midpoint (the job
    #: `survey_semester_check`: 德育处 is reminded once when the surveys reached too few families).
    survey_check_time: time = time(8, 0)
    #: A family with at least this many 不满意 answers (on the questions that count) has low
    #: satisfaction: a named form's family gets a key visit from the head teacher (DOMAIN.md).
    survey_low_satisfaction_threshold: int = Field(default=2, ge=1)

    # -- Parent meetings 家长会 (models/meetings/; the daily `meeting_midpoint_check`) -----------
    #: Parent meetings each class holds per semester (DOMAIN.md: two); a class with fewer planned
    #: by the semester's midpoint reminds its head teacher, once a semester.
    meetings_per_class_semester: int = Field(default=2, ge=1)
    #: Parent-committee meetings per semester (DOMAIN.md: one, with minutes); fewer planned by the
    #: midpoint reminds 德育处, once a semester.
    committee_meetings_semester: int = Field(default=1, ge=1)
    #: When the midpoint check runs each day (local time).
    meeting_check_time: time = time(8, 0)

    # -- Retention 保存期限 (models/privacy/retention.py; the monthly `retention` job) -------------
    #: Years after a student left (`Student.left_at`) their visits' free text is blanked (the
    #: dates, forms and categories stay for statistics).
    retention_visits_years: int = Field(default=3, ge=1)
    #: Years after a student left their incidents' free text is blanked.
    retention_incidents_years: int = Field(default=3, ge=1)
    #: Years after a student left their care cases' text is blanked.
    retention_cases_years: int = Field(default=3, ge=1)
    #: Years after a student left their notice receipts and delivery rows are deleted.
    retention_receipts_years: int = Field(default=3, ge=1)
    #: Years an audit entry is kept (from the entry's time), then deleted.
    retention_audit_years: int = Field(default=5, ge=1)
    #: When the monthly retention pass runs (on the 1st, local time).
    retention_time: time = time(3, 0)

    # -- The 大走访 campaign (models/campaigns/; the daily `campaign_left_behind_reminders`) -----
    #: When the left-behind households' reminder runs each day (local time): from the first of
    #: the month's last seven days, a responsible teacher whose 留守 households had no contact
    #: this month is reminded once.
    campaign_reminder_time: time = time(8, 0)

    # -- Teachers' evaluation 考评 (models/campaigns/evaluation.py) --------------------------------
    #: The weights of the score (see `EvaluationWeights`); a visit logged more than
    #: `late_filing_days` after it took place is a record filed late.
    evaluation_weights: EvaluationWeights = EvaluationWeights()

    def counted_forms(self) -> tuple[str, ...]:
        """The forms the routine-visit rules count: `routine_forms`, with 视频家访 beside
        上门家访 when the school counts a video visit as one."""
        forms = tuple(self.routine_forms)
        if self.video_visit_counts_as == "home" and "home" in forms and "video" not in forms:
            forms += ("video",)
        return forms

    def home_forms(self) -> tuple[str, ...]:
        """The forms that count as a visit to the home (入户): 上门家访, and 视频家访 when the
        school counts it as one."""
        return ("home", "video") if self.video_visit_counts_as == "home" else ("home",)


DEFAULT_RULES = SchoolRules()


def in_quiet_hours(moment: datetime, *, zone: ZoneInfo, rules: SchoolRules = DEFAULT_RULES) -> bool:
    """Whether `moment` (aware) falls in the school's quiet hours."""
    local = moment.astimezone(zone).time()
    start, end = rules.quiet_start, rules.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_waking_moment(
    moment: datetime, *, zone: ZoneInfo, rules: SchoolRules = DEFAULT_RULES
) -> datetime:
    """`moment` itself outside quiet hours, else the end of the quiet hours it falls in."""
    if not in_quiet_hours(moment, zone=zone, rules=rules):
        return moment
    local = moment.astimezone(zone)
    end = datetime.combine(local.date(), rules.quiet_end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), rules.quiet_end, tzinfo=zone)
    return end.astimezone(moment.tzinfo)
