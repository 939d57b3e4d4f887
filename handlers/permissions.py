"""The permission matrix (`models.permissions.matrix`) applied to the chat: each flow and each
button is bound to one `Action`, and the dispatcher refuses a person whose roles do not reach it
before any step or handler runs. Handlers then apply the reach to the record in hand.

`FLOW_ACTIONS` and `BUTTON_ACTIONS` must name every flow and every button the registry has
(tests/test_permission_matrix.py fails on one that is missing).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from handlers.actions import Action as Button
from handlers.actions import ActionHandler
from handlers.context import Context
from handlers.flow import Flow, Gate
from handlers.types import Inbound, Reply
from models.permissions.matrix import Action, Reach, Role
from models.permissions.matrix import reach as matrix_reach
from models.permissions.roles import roles_of
from models.school.rules import SchoolRules

#: Flow name → the action it performs.
FLOW_ACTIONS: dict[str, Action] = {
    "drafts": Action.DRAFTS_USE,
    "visit": Action.VISIT_LOG,
    "incident": Action.INCIDENT_REPORT,
    "incident_ack": Action.INCIDENT_ACKNOWLEDGE,
    "incident_phoned": Action.INCIDENT_FOLLOW,
    "absence": Action.ABSENCE_RECORD,
    "flag": Action.FLAG_RAISE,
    "pending": Action.DUTIES_READ,
    "quota": Action.QUOTA_READ,
    "evaluation": Action.EVALUATION_VIEW,
    "calendar": Action.CALENDAR_READ,
    "digest": Action.DIGEST_READ,
    # /district (区域合规): every school's counts, for 区域管理员 only.
    "district": Action.DISTRICT_VIEW,
    "notice": Action.NOTICE_COMPOSE,
    "notices": Action.NOTICES_READ,
    "notice_return": Action.NOTICE_APPROVE,
    "notice_question": Action.NOTICE_QUESTION,
    "notice_answer": Action.NOTICE_ANSWER,
    "ledger": Action.LEDGER_READ,
    "ledger_classify": Action.LEDGER_CLASSIFY,
    "ledger_write": Action.LEDGER_WORK,
    "feedback": Action.FEEDBACK_SEND,
    "answer": Action.SURVEY_ANSWER,
    "parent_message": Action.PARENT_MESSAGE_SEND,
    "parent_reply": Action.PARENT_MESSAGE_ANSWER,
    "mydata": Action.MYDATA_READ,
    "mydata_correct": Action.MYDATA_CORRECT,
    # Reading the consent wording is reading what is kept about one's child.
    "consent": Action.MYDATA_READ,
    "refer": Action.CASE_REFER,
    "care": Action.CASE_REQUEST,
    "cases": Action.CASE_READ,
    "case_work": Action.CASE_WORK,
    "survey": Action.SURVEY_MANAGE,
    "survey_form": Action.SURVEY_MANAGE,
    "meeting": Action.MEETING_PLAN,
    "meeting_attendance": Action.MEETING_RECORD,
    "meeting_minutes": Action.MEETING_RECORD,
    "committee": Action.COMMITTEE_MANAGE,
    # /campaign: 德育处 and the principal set campaigns up; a teacher sees their own households.
    "campaign": Action.CAMPAIGN_VIEW,
}

#: Button (action) name → the action it performs.
BUTTON_ACTIONS: dict[str, Action] = {
    "dres": Action.DRAFTS_USE,
    "ddel": Action.DRAFTS_USE,
    # /evaluation: a teacher's figures (a semester, a school year), a class's chart.
    "evt": Action.EVALUATION_VIEW,
    "evy": Action.EVALUATION_VIEW,
    "evc": Action.EVALUATION_VIEW,
    "evk": Action.EVALUATION_VIEW,
    "inc-ack": Action.INCIDENT_ACKNOWLEDGE,
    "inc-call": Action.INCIDENT_FOLLOW,
    "inc-log": Action.INCIDENT_FOLLOW,
    "nok": Action.RECEIPT_CONFIRM,
    # 确认参加 / 不能参加 on a meeting's notice: its receipt, with the family's answer.
    "nma": Action.RECEIPT_CONFIRM,
    "nmd": Action.RECEIPT_CONFIRM,
    "nq": Action.NOTICE_QUESTION,
    "nshow": Action.NOTICES_READ,
    "nqa": Action.NOTICE_ANSWER,
    "napp": Action.NOTICE_APPROVE,
    "nret": Action.NOTICE_APPROVE,
    "nredo": Action.NOTICE_COMPOSE,
    "nst": Action.NOTICE_TRACK,
    "nsl": Action.NOTICE_TRACK,
    "tag_ok": Action.TAGS_DECIDE,
    "tag_no": Action.TAGS_DECIDE,
    "pm-sick": Action.PARENT_MESSAGE_ANSWER,
    "pm-not-sick": Action.PARENT_MESSAGE_ANSWER,
    "pm-answer": Action.PARENT_MESSAGE_ANSWER,
    "lgo": Action.LEDGER_READ,
    "lgh": Action.LEDGER_READ,
    "lgc": Action.LEDGER_CLASSIFY,
    "lgn": Action.LEDGER_WORK,
    "lgr": Action.LEDGER_WORK,
    "lgx": Action.LEDGER_WORK,
    "lgu": Action.LEDGER_WORK,
    "lga": Action.LEDGER_ADD,
    # 同意 (a guardian's consent) and 申请更正 under /mydata.
    "consent": Action.MYDATA_READ,
    "mycorr": Action.MYDATA_CORRECT,
    "cso": Action.CASE_READ,
    "csh": Action.CASE_READ,
    "csk": Action.CASE_WORK,
    "csa": Action.CASE_WORK,
    "csp": Action.CASE_WORK,
    "csc": Action.CASE_WORK,
    "css": Action.CASE_WORK,
    "csx": Action.CASE_WORK,
    "crs": Action.CASE_STATUS,
    "cgs": Action.CASE_REQUEST,
    "svr": Action.SURVEY_RESULTS,
    "svs": Action.SURVEY_ANSWER,
    # /meeting: 安排新会议, the buttons under a meeting, the committee's members.
    "mnew": Action.MEETING_PLAN,
    "mat": Action.MEETING_RECORD,
    "mmin": Action.MEETING_RECORD,
    "mend": Action.MEETING_RECORD,
    "mcx": Action.MEETING_RECORD,
    "mcy": Action.MEETING_RECORD,
    "mcm": Action.COMMITTEE_MANAGE,
    "mca": Action.COMMITTEE_MANAGE,
    "mcr": Action.COMMITTEE_MANAGE,
    # /survey new: start a form from another, list the school's forms to retire, retire one.
    "sfb": Action.SURVEY_MANAGE,
    "sfh": Action.SURVEY_MANAGE,
    "sfx": Action.SURVEY_MANAGE,
    # /campaign: a campaign's overview, 新建大走访, 自动分配包保表 while it has no table.
    "cpv": Action.CAMPAIGN_MANAGE,
    "cpn": Action.CAMPAIGN_MANAGE,
    "cpg": Action.CAMPAIGN_MANAGE,
    # 停止大走访 and its 确认停止.
    "cpx": Action.CAMPAIGN_MANAGE,
    "cpy": Action.CAMPAIGN_MANAGE,
    # /campaign for a teacher: 更多 (their own households' next page), a class's households not
    # yet visited (德育处, the principal, the campaign's leaders: checked when pressed), and
    # 家访 (starts /visit for a household of theirs).
    "cpm": Action.CAMPAIGN_VIEW,
    "cpu": Action.CAMPAIGN_VIEW,
    "cpw": Action.VISIT_LOG,
}


#: The signed pages a WeCom family opens → the action each performs for the guardian its link
#: names (`page_allows`).
PAGE_ACTIONS: dict[str, Action] = {
    "receipt": Action.RECEIPT_CONFIRM,
    "incident": Action.INCIDENT_ACKNOWLEDGE,
    "feedback": Action.FEEDBACK_SEND,
    "care": Action.CASE_REQUEST,
    "survey": Action.SURVEY_ANSWER,
}

#: Command-line commands → their action. Those with `--by 工号` check the named member of staff
#: against the matrix; the exports without it are run by whoever administers the server, on
#: behalf of 德育处 (the matrix's row says whom they are for).
COMMAND_ACTIONS: dict[str, Action] = {
    "export visits": Action.EXPORT_VISITS,
    "export families": Action.EXPORT_FAMILIES,
    "export receipts": Action.EXPORT_RECEIPTS,
    "export ledger": Action.EXPORT_LEDGER,
    "export cases": Action.EXPORT_CASES,
    "export evaluation": Action.EVALUATION_VIEW,
    "export survey": Action.SURVEY_RESULTS,
    "export meetings": Action.EXPORT_MEETINGS,
    "committee add": Action.COMMITTEE_MANAGE,
    "committee remove": Action.COMMITTEE_MANAGE,
    "committee list": Action.COMMITTEE_MANAGE,
    "audit export": Action.AUDIT_EXPORT,
    "privacy export": Action.PRIVACY_EXPORT,
    "privacy erase": Action.PRIVACY_ERASE,
    "ledger close": Action.LEDGER_WORK,
    "ledger reopen": Action.LEDGER_WORK,
    "survey import": Action.SURVEY_MANAGE,
    "survey forms": Action.SURVEY_MANAGE,
    "campaign new": Action.CAMPAIGN_MANAGE,
    "campaign list": Action.CAMPAIGN_MANAGE,
    "campaign generate": Action.CAMPAIGN_MANAGE,
    "campaign assign": Action.CAMPAIGN_MANAGE,
    "campaign move": Action.CAMPAIGN_MANAGE,
    "export campaign": Action.CAMPAIGN_MANAGE,
    "district digest": Action.DISTRICT_VIEW,
    "export district": Action.DISTRICT_VIEW,
}


#: What each kind of message the bot queues for a person shows (`OutboxMessage.kind`) → the
#: action whose reach its recipient must have (tests/test_permission_matrix_sending.py runs a
#: school day and checks every message queued against it).
OUTBOX_ACTIONS: dict[str, Action] = {
    "visit_problem": Action.LEDGER_CLASSIFY,
    "tag_proposal": Action.TAGS_DECIDE,
    "quota_nudge": Action.QUOTA_READ,
    "quota_month_end": Action.QUOTA_READ,
    "quota_break_start": Action.QUOTA_READ,
    "parent_leave": Action.PARENT_MESSAGE_SEND,
    "parent_message": Action.PARENT_MESSAGE_ANSWER,
    "parent_answer": Action.PARENT_MESSAGE_SEND,
    "notice": Action.NOTICES_READ,
    "notice_reminder": Action.RECEIPT_CONFIRM,
    "notice_approval": Action.NOTICE_APPROVE,
    "notice_approved": Action.NOTICE_COMPOSE,
    "notice_returned": Action.NOTICE_COMPOSE,
    "notice_published": Action.NOTICE_COMPOSE,
    "notice_progress": Action.NOTICE_TRACK,
    "notice_calls": Action.NOTICE_TRACK,
    "notice_question": Action.NOTICE_ANSWER,
    "notice_answer": Action.NOTICE_QUESTION,
    "incident_family": Action.INCIDENT_ACKNOWLEDGE,
    "incident_alert": Action.INCIDENT_FOLLOW,
    "incident_acknowledged": Action.INCIDENT_FOLLOW,
    "incident_not_reached": Action.INCIDENT_FOLLOW,
    "incident_phoned": Action.INCIDENT_FOLLOW,
    "duty_new": Action.DUTIES_READ,
    "duty_reminder": Action.DUTIES_READ,
    "duty_overdue": Action.DIGEST_READ,
    "daily_digest": Action.DIGEST_READ,
    # The district digest every school-day morning, to 区域管理员 (counts only).
    "district_digest": Action.DISTRICT_VIEW,
    "ledger_owner": Action.LEDGER_WORK,
    "ledger_reminder": Action.LEDGER_WORK,
    "feedback_new": Action.LEDGER_READ,
    "feedback_update": Action.FEEDBACK_SEND,
    "feedback_summary": Action.NOTICES_READ,
    "care_new": Action.CASE_READ,
    "care_reminder": Action.CASE_WORK,
    "care_severe": Action.CASE_READ,
    # The invitation to a survey: until the answering flow binds its own action, what a guardian
    # reaches for reading what the school sends.
    "survey_invite": Action.SURVEY_ANSWER,
    # Halfway to a survey's deadline, a family that has not submitted (its 开始填写 button).
    "survey_reminder": Action.SURVEY_ANSWER,
    # The semester's surveys reached too few families by its midpoint: 德育处 is to send one.
    "survey_semester_check": Action.SURVEY_MANAGE,
    # A class meeting's subject teachers are told of it; a cancelled meeting's families and
    # teachers are told (each reads what the school sends them).
    "meeting_teachers": Action.NOTICES_READ,
    "meeting_cancelled": Action.NOTICES_READ,
    # From the semester's midpoint: a class short of parent meetings (its head teacher), too few
    # committee meetings (德育处).
    "meeting_midpoint": Action.MEETING_PLAN,
    # The 大走访's last week of the month: a responsible teacher's left-behind households not
    # contacted yet (what they see of the campaign: their own households).
    "campaign_left_behind": Action.CAMPAIGN_VIEW,
    "draft_cleared": Action.DRAFTS_USE,
    "deferred_reply": Action.DRAFTS_USE,
    "conversation_timeout": Action.DRAFTS_USE,
}


def page_allows(page: str) -> bool:
    """Whether the matrix lets a guardian do what `page` does (a family's signed link names a
    guardian; the page refuses the link, as a dead one, when it does not)."""
    return matrix_reach({Role.GUARDIAN}, PAGE_ACTIONS[page]) > Reach.NONE


def roles(ctx: Context) -> frozenset[Role]:
    """The person's roles (`read_duties` must have run for a member of staff)."""
    return roles_of(ctx.staff, ctx.duties, ctx.guardian)


@functools.lru_cache(maxsize=256)
def _settings(rules: SchoolRules) -> Mapping[str, bool]:
    """The school's yes/no settings a matrix cell may depend on: read once per rules object (a
    school's rules are frozen), not on every check; room for a district's schools in one
    process."""
    return MappingProxyType(
        {name: value for name, value in rules.model_dump().items() if isinstance(value, bool)}
    )


def reach(ctx: Context, action: Action) -> Reach:
    return matrix_reach(roles(ctx), action, _settings(ctx.rules))


def permits(ctx: Context, action: Action) -> bool:
    return reach(ctx, action) > Reach.NONE


def gate(action: Action) -> Gate:
    """A flow's `allowed`: the matrix's answer for `action`."""

    def allowed(ctx: Context) -> bool:
        return permits(ctx, action)

    allowed.__name__ = f"permits_{action.name.lower()}"
    return allowed


class Unbound(LookupError):
    """A flow or a button the matrix does not bind (a programming error, caught by the tests)."""


def gated_flows(flows: Sequence[Flow]) -> list[Flow]:
    """The flows with their `allowed` gate taken from the matrix (`FLOW_ACTIONS`)."""
    missing = [f.name for f in flows if f.name not in FLOW_ACTIONS]
    if missing:
        raise Unbound(f"flows without an action in the permission matrix: {missing}")
    return [replace(flow, allowed=gate(FLOW_ACTIONS[flow.name])) for flow in flows]


def _checked(action: Action, handle: ActionHandler) -> ActionHandler:
    async def checked(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
        if not permits(ctx, action):
            return [Reply(ctx.t._("这个按钮不适用于您。"))]
        return await handle(inbound, argument, ctx)

    checked.__wrapped__ = handle  # type: ignore[attr-defined]
    return checked


def gated_actions(buttons: Sequence[Button]) -> list[Button]:
    """The buttons, each refused before its handler runs to whoever the matrix does not let do
    its action (`BUTTON_ACTIONS`)."""
    missing = [b.name for b in buttons if b.name not in BUTTON_ACTIONS]
    if missing:
        raise Unbound(f"buttons without an action in the permission matrix: {missing}")
    return [replace(b, handle=_checked(BUTTON_ACTIONS[b.name], b.handle)) for b in buttons]
