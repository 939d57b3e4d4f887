"""The permission matrix (DESIGN.md "Privacy", least privilege): role × action → reach.

Every flow, button, page, job that sends to people and CLI command is bound to one `Action`
(`handlers.permissions` keeps the bindings), and the dispatcher refuses a flow or a button whose
action the person's roles do not reach before any handler runs. `Reach` says how far an allowed
action goes; the handler then applies it to the record in hand (a student in scope, one's own
children, an item one owns) — a forged id past that reach finds nothing.

Roles come from the roster: a staff member has `STAFF` and, by what they do, `HEAD_TEACHER`,
`SUBJECT_TEACHER`, `COACH`, `ADMIN` (德育处), `PRINCIPAL`, `CARE` (关爱室); a 区域管理员 (区教育局)
has `DISTRICT` and nothing else (every school's counts, nothing of any school's children); a
parent is `GUARDIAN`; anyone else `UNBOUND`. A person's reach is the widest any of their roles gives. Pure: no
database, tested with tables of cases and walked whole through the dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from models.text import N_


class Role(StrEnum):
    STAFF = "staff"  # every bound member of staff
    HEAD_TEACHER = "head_teacher"  # 班主任
    SUBJECT_TEACHER = "subject_teacher"  # 任课教师
    COACH = "coach"  # 体育·艺术·科技教师
    ADMIN = "admin"  # 德育处
    PRINCIPAL = "principal"  # 校长
    CARE = "care"  # 关爱室
    DISTRICT = "district"  # 区域管理员（区教育局）
    GUARDIAN = "guardian"  # 家长
    UNBOUND = "unbound"  # not bound to the roster


ROLE_LABELS: dict[Role, str] = {
    Role.STAFF: N_("教职工"),
    Role.HEAD_TEACHER: N_("班主任"),
    Role.SUBJECT_TEACHER: N_("任课教师"),
    Role.COACH: N_("教练"),
    Role.ADMIN: N_("德育处"),
    Role.PRINCIPAL: N_("校长"),
    Role.CARE: N_("关爱室"),
    Role.DISTRICT: N_("区域管理员"),
    Role.GUARDIAN: N_("家长"),
    Role.UNBOUND: N_("未绑定"),
}


class Reach(IntEnum):
    """How far an allowed action goes (wider is larger)."""

    NONE = 0
    #: What is one's own: one's children, items one owns or recorded, one's notices, one's cases.
    OWN = 1
    #: The students of one's classes, teams and groups (`models.roster.scope`).
    SCOPE = 2
    #: The whole school.
    SCHOOL = 3
    #: Every school of the deployment, as counts only (the district view).
    DISTRICT = 4


REACH_LABELS: dict[Reach, str] = {
    Reach.NONE: "—",
    Reach.OWN: N_("本人"),
    Reach.SCOPE: N_("所教学生"),
    Reach.SCHOOL: N_("全校"),
    Reach.DISTRICT: N_("全区（仅统计数字）"),
}


class Action(StrEnum):
    # visits and duties
    VISIT_LOG = "visit.log"
    ABSENCE_RECORD = "absence.record"
    FLAG_RAISE = "flag.raise"
    DUTIES_READ = "duties.read"
    QUOTA_READ = "quota.read"
    #: Teachers' evaluation 家访工作考核 (`/evaluation`, `export evaluation`).
    EVALUATION_VIEW = "evaluation.view"
    CALENDAR_READ = "calendar.read"
    DRAFTS_USE = "drafts.use"
    TAGS_DECIDE = "tags.decide"
    # incidents
    INCIDENT_REPORT = "incident.report"
    INCIDENT_FOLLOW = "incident.follow"
    INCIDENT_ACKNOWLEDGE = "incident.acknowledge"
    # the digest
    DIGEST_READ = "digest.read"
    # notices and receipts
    NOTICE_COMPOSE = "notice.compose"
    NOTICE_APPROVE = "notice.approve"
    NOTICES_READ = "notices.read"
    NOTICE_TRACK = "notice.track"
    NOTICE_ANSWER = "notice.answer"
    RECEIPT_CONFIRM = "receipt.confirm"
    NOTICE_QUESTION = "notice.question"
    # parents' own messages
    PARENT_MESSAGE_SEND = "parent_message.send"
    PARENT_MESSAGE_ANSWER = "parent_message.answer"
    # the problem ledger and feedback
    LEDGER_READ = "ledger.read"
    LEDGER_ADD = "ledger.add"
    LEDGER_CLASSIFY = "ledger.classify"
    LEDGER_WORK = "ledger.work"
    FEEDBACK_SEND = "feedback.send"
    SURVEY_ANSWER = "survey.answer"
    # parent surveys
    SURVEY_MANAGE = "survey.manage"
    SURVEY_RESULTS = "survey.results"
    # parent meetings 家长会 and the parent committee
    MEETING_PLAN = "meeting.plan"
    MEETING_RECORD = "meeting.record"
    COMMITTEE_MANAGE = "committee.manage"
    # the 大走访 campaign
    CAMPAIGN_MANAGE = "campaign.manage"
    CAMPAIGN_VIEW = "campaign.view"
    # the care room
    CASE_REFER = "case.refer"
    CASE_REQUEST = "case.request"
    CASE_STATUS = "case.status"
    CASE_READ = "case.read"
    CASE_WORK = "case.work"
    # exports, audit and privacy (the command line)
    EXPORT_VISITS = "export.visits"
    EXPORT_FAMILIES = "export.families"
    EXPORT_RECEIPTS = "export.receipts"
    EXPORT_LEDGER = "export.ledger"
    EXPORT_CASES = "export.cases"
    EXPORT_MEETINGS = "export.meetings"
    #: Every school's compliance side by side (counts only): `/district` and its morning push
    #: for 区域管理员, and the operator's `district digest` and `export district`.
    DISTRICT_VIEW = "district.view"
    AUDIT_EXPORT = "audit.export"
    PRIVACY_EXPORT = "privacy.export"
    PRIVACY_ERASE = "privacy.erase"
    # a guardian's own data
    MYDATA_READ = "mydata.read"
    MYDATA_CORRECT = "mydata.correct"


ACTION_LABELS: dict[Action, str] = {
    Action.VISIT_LOG: N_("记录家访"),
    Action.ABSENCE_RECORD: N_("记录缺勤"),
    Action.FLAG_RAISE: N_("上报需立即家访的情况"),
    Action.DUTIES_READ: N_("查看立即家访任务"),
    Action.QUOTA_READ: N_("查看家访指标"),
    Action.EVALUATION_VIEW: N_("查看家访工作考核（教师：本人的）"),
    Action.CALENDAR_READ: N_("查看校历"),
    Action.DRAFTS_USE: N_("草稿"),
    Action.TAGS_DECIDE: N_("确认学生特殊类型标记"),
    Action.INCIDENT_REPORT: N_("报告突发事件"),
    Action.INCIDENT_FOLLOW: N_("跟进突发事件（记录、电话联系）"),
    Action.INCIDENT_ACKNOWLEDGE: N_("确认知悉突发事件"),
    Action.DIGEST_READ: N_("家访日报"),
    Action.NOTICE_COMPOSE: N_("撰写通知"),
    Action.NOTICE_APPROVE: N_("审批通知"),
    Action.NOTICES_READ: N_("查看通知"),
    Action.NOTICE_TRACK: N_("查看回执情况"),
    Action.NOTICE_ANSWER: N_("答复家长对通知的疑问"),
    Action.RECEIPT_CONFIRM: N_("确认收到通知（回执）"),
    Action.NOTICE_QUESTION: N_("对通知提出疑问"),
    Action.PARENT_MESSAGE_SEND: N_("给班主任留言、请假"),
    Action.PARENT_MESSAGE_ANSWER: N_("答复家长留言、确认病假"),
    Action.LEDGER_READ: N_("查看问题台账"),
    Action.LEDGER_ADD: N_("登记台账问题"),
    Action.LEDGER_CLASSIFY: N_("台账分类并指派"),
    Action.LEDGER_WORK: N_("台账记录进展、办结、重新打开"),
    Action.FEEDBACK_SEND: N_("提交意见、投诉、表扬"),
    Action.SURVEY_ANSWER: N_("填写问卷"),
    Action.SURVEY_MANAGE: N_("发起问卷调查"),
    Action.SURVEY_RESULTS: N_("查看问卷结果"),
    Action.MEETING_PLAN: N_("安排家长会"),
    Action.MEETING_RECORD: N_("记录家长会出席和纪要、结束或取消会议"),
    Action.COMMITTEE_MANAGE: N_("管理家长委员会成员"),
    Action.CAMPAIGN_MANAGE: N_("新建大走访、分配和调整包保表"),
    Action.CAMPAIGN_VIEW: N_("查看大走访（教师：自己包保的家庭）"),
    Action.CASE_REFER: N_("转介学生到关爱室"),
    Action.CASE_REQUEST: N_("向关爱室求助"),
    Action.CASE_STATUS: N_("查看转介进展（仅状态）"),
    Action.CASE_READ: N_("查看关爱室个案"),
    Action.CASE_WORK: N_("处理关爱室个案"),
    Action.EXPORT_VISITS: N_("导出家访记录"),
    Action.EXPORT_FAMILIES: N_("导出家庭情况表"),
    Action.EXPORT_RECEIPTS: N_("导出回执"),
    Action.EXPORT_LEDGER: N_("导出问题台账"),
    Action.EXPORT_CASES: N_("导出关爱室个案"),
    Action.EXPORT_MEETINGS: N_("导出家长会记录"),
    Action.DISTRICT_VIEW: N_("区域视图：各校家访合规统计"),
    Action.AUDIT_EXPORT: N_("导出审计日志"),
    Action.PRIVACY_EXPORT: N_("导出一名学生的全部数据"),
    Action.PRIVACY_ERASE: N_("删除（匿名化）一名学生的数据"),
    Action.MYDATA_READ: N_("查看学校保存的孩子信息"),
    Action.MYDATA_CORRECT: N_("申请更正孩子信息"),
}


@dataclass(frozen=True)
class Grant:
    """One allowed cell: the reach, and the school setting it depends on (a `SchoolRules` bool
    field that must be true), if any."""

    reach: Reach
    setting: str | None = None


R = Role
SCHOOL, SCOPE, OWN = Reach.SCHOOL, Reach.SCOPE, Reach.OWN
_TEACHING = (R.HEAD_TEACHER, R.SUBJECT_TEACHER, R.COACH)
_WHOLE_SCHOOL = (R.ADMIN, R.PRINCIPAL)


def _cells(*pairs: tuple[Iterable[Role] | Role, Reach | Grant]) -> dict[Role, Grant]:
    cells: dict[Role, Grant] = {}
    for roles, grant in pairs:
        for role in (roles,) if isinstance(roles, Role) else roles:
            cells[role] = grant if isinstance(grant, Grant) else Grant(grant)
    return cells


#: The matrix. A role missing from an action's row may not do it.
MATRIX: Mapping[Action, Mapping[Role, Grant]] = {
    Action.VISIT_LOG: _cells((_TEACHING, SCOPE), (_WHOLE_SCHOOL, SCHOOL)),
    Action.ABSENCE_RECORD: _cells((_TEACHING, SCOPE), (_WHOLE_SCHOOL, SCHOOL)),
    Action.FLAG_RAISE: _cells((_TEACHING, SCOPE), (_WHOLE_SCHOOL, SCHOOL)),
    Action.DUTIES_READ: _cells((R.STAFF, OWN)),
    Action.QUOTA_READ: _cells((R.STAFF, OWN), (_WHOLE_SCHOOL, SCHOOL)),
    Action.EVALUATION_VIEW: _cells((_TEACHING, OWN), (_WHOLE_SCHOOL, SCHOOL)),
    Action.CALENDAR_READ: _cells((R.STAFF, SCHOOL)),
    Action.DRAFTS_USE: _cells((R.STAFF, OWN), (R.GUARDIAN, OWN)),
    Action.TAGS_DECIDE: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.INCIDENT_REPORT: _cells((R.STAFF, SCHOOL)),
    Action.INCIDENT_FOLLOW: _cells(
        (R.STAFF, OWN), (R.HEAD_TEACHER, SCOPE), (_WHOLE_SCHOOL, SCHOOL)
    ),
    Action.INCIDENT_ACKNOWLEDGE: _cells((R.GUARDIAN, OWN)),
    Action.DIGEST_READ: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.NOTICE_COMPOSE: _cells((R.HEAD_TEACHER, SCOPE), (_WHOLE_SCHOOL, SCHOOL)),
    Action.NOTICE_APPROVE: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.NOTICES_READ: _cells((R.STAFF, OWN), (_WHOLE_SCHOOL, SCHOOL), (R.GUARDIAN, OWN)),
    Action.NOTICE_TRACK: _cells((R.HEAD_TEACHER, OWN), (_WHOLE_SCHOOL, SCHOOL)),
    Action.NOTICE_ANSWER: _cells((R.STAFF, OWN)),
    Action.RECEIPT_CONFIRM: _cells((R.GUARDIAN, OWN)),
    Action.NOTICE_QUESTION: _cells((R.GUARDIAN, OWN)),
    Action.PARENT_MESSAGE_SEND: _cells((R.GUARDIAN, OWN)),
    Action.PARENT_MESSAGE_ANSWER: _cells((R.HEAD_TEACHER, OWN), (_WHOLE_SCHOOL, SCHOOL)),
    Action.LEDGER_READ: _cells((R.STAFF, OWN), (_TEACHING, SCOPE), (_WHOLE_SCHOOL, SCHOOL)),
    Action.LEDGER_ADD: _cells((R.STAFF, OWN), (_TEACHING, SCOPE), (_WHOLE_SCHOOL, SCHOOL)),
    Action.LEDGER_CLASSIFY: _cells(
        (R.HEAD_TEACHER, Grant(SCOPE, "ledger_head_teacher_classifies")), (_WHOLE_SCHOOL, SCHOOL)
    ),
    Action.LEDGER_WORK: _cells((R.STAFF, OWN), (_WHOLE_SCHOOL, SCHOOL)),
    Action.FEEDBACK_SEND: _cells((R.GUARDIAN, OWN)),
    Action.SURVEY_ANSWER: _cells((R.GUARDIAN, OWN)),
    Action.SURVEY_MANAGE: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.SURVEY_RESULTS: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.MEETING_PLAN: _cells((R.HEAD_TEACHER, SCOPE), (_WHOLE_SCHOOL, SCHOOL)),
    Action.MEETING_RECORD: _cells((R.HEAD_TEACHER, OWN), (_WHOLE_SCHOOL, SCHOOL)),
    Action.COMMITTEE_MANAGE: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.CAMPAIGN_MANAGE: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.CAMPAIGN_VIEW: _cells((R.STAFF, OWN), (_WHOLE_SCHOOL, SCHOOL)),
    Action.CASE_REFER: _cells((R.STAFF, SCHOOL)),
    Action.CASE_REQUEST: _cells((R.GUARDIAN, OWN)),
    Action.CASE_STATUS: _cells((R.STAFF, OWN)),
    Action.CASE_READ: _cells((R.CARE, SCHOOL), (R.PRINCIPAL, SCHOOL)),
    Action.CASE_WORK: _cells((R.CARE, SCHOOL)),
    Action.EXPORT_VISITS: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.EXPORT_FAMILIES: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.EXPORT_RECEIPTS: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.EXPORT_LEDGER: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.EXPORT_CASES: _cells((R.CARE, SCHOOL), (R.PRINCIPAL, SCHOOL)),
    Action.EXPORT_MEETINGS: _cells((_WHOLE_SCHOOL, SCHOOL)),
    Action.DISTRICT_VIEW: _cells((R.DISTRICT, Reach.DISTRICT)),
    Action.AUDIT_EXPORT: _cells((R.PRINCIPAL, SCHOOL)),
    Action.PRIVACY_EXPORT: _cells((R.PRINCIPAL, SCHOOL)),
    Action.PRIVACY_ERASE: _cells((R.PRINCIPAL, SCHOOL)),
    Action.MYDATA_READ: _cells((R.GUARDIAN, OWN)),
    Action.MYDATA_CORRECT: _cells((R.GUARDIAN, OWN)),
}


def reach(
    roles: Iterable[Role], action: Action, settings: Mapping[str, bool] | None = None
) -> Reach:
    """The widest reach `roles` have for `action` (`NONE` when none may); a cell that depends on
    a school setting counts only when `settings` has it true."""
    row = MATRIX.get(action, {})
    best = Reach.NONE
    for role in roles:
        grant = row.get(role)
        if grant is None:
            continue
        if grant.setting is not None and not (settings or {}).get(grant.setting, False):
            continue
        best = max(best, grant.reach)
    return best


def permits(
    roles: Iterable[Role], action: Action, settings: Mapping[str, bool] | None = None
) -> bool:
    return reach(roles, action, settings) > Reach.NONE
