"""Every flow the bot offers, in the order /help lists them."""

from __future__ import annotations

from handlers.absence import ABSENCE_FLOW
from handlers.actions import Action
from handlers.calendar import CALENDAR_FLOW
from handlers.campaigns.flow import CAMPAIGN_ACTIONS, CAMPAIGN_FLOW
from handlers.campaigns.views import VIEW_ACTIONS as CAMPAIGN_VIEW_ACTIONS
from handlers.care import CARE_ACTIONS, CARE_FLOW, CASE_WORK_FLOW, CASES_FLOW, REFER_FLOW
from handlers.digest import DIGEST_FLOW
from handlers.district import DISTRICT_FLOW
from handlers.evaluation.flow import EVALUATION_ACTIONS, EVALUATION_FLOW
from handlers.family_tags import TAG_ACTIONS
from handlers.feedback.flow import FEEDBACK_FLOW
from handlers.flag import FLAG_FLOW
from handlers.flow import Flow
from handlers.incident.actions import INCIDENT_ACTIONS
from handlers.incident.flow import INCIDENT_FLOW
from handlers.incident.typed import ACK_TYPED_FLOW, PHONED_TYPED_FLOW
from handlers.ledger import (
    LEDGER_ACTIONS,
    LEDGER_CLASSIFY_FLOW,
    LEDGER_FLOW,
    LEDGER_WRITE_FLOW,
)
from handlers.meetings.flow import MEETING_ACTIONS, MEETING_FLOWS
from handlers.notice.answer import NOTICE_ANSWER_FLOW
from handlers.notice.approval import NOTICE_RETURN_FLOW
from handlers.notice.flow import NOTICE_ACTIONS, NOTICE_FLOW
from handlers.notice.listing import NOTICES_FLOW
from handlers.notice.receipt import NOTICE_QUESTION_FLOW
from handlers.notice.staff_view import ACTIONS as NOTICE_TRACKING_ACTIONS
from handlers.parent_messages import (
    PARENT_MESSAGE_ACTIONS,
    PARENT_MESSAGE_FLOW,
    PARENT_REPLY_FLOW,
)
from handlers.pending import PENDING_FLOW
from handlers.permissions import gated_actions, gated_flows
from handlers.privacy.consent import CONSENT_ACTIONS, CONSENT_FLOW_DEF
from handlers.privacy.mydata import CORRECT_FLOW_DEF, MYDATA_ACTIONS, MYDATA_FLOW_DEF
from handlers.quota import QUOTA_FLOW
from handlers.surveys.actions import SURVEY_ACTIONS
from handlers.surveys.answer import ANSWER_ACTIONS, ANSWER_FLOW
from handlers.surveys.flow import SURVEY_FLOW
from handlers.surveys.form_flow import SURVEY_FORM_FLOW
from handlers.surveys.form_menu import FORM_ACTIONS
from handlers.visit import VISIT_FLOW


def all_flows() -> list[Flow]:
    return gated_flows(
        [
            VISIT_FLOW,
            INCIDENT_FLOW,
            ACK_TYPED_FLOW,
            PHONED_TYPED_FLOW,
            ABSENCE_FLOW,
            FLAG_FLOW,
            PENDING_FLOW,
            QUOTA_FLOW,
            EVALUATION_FLOW,
            CALENDAR_FLOW,
            DIGEST_FLOW,
            DISTRICT_FLOW,
            NOTICE_FLOW,
            NOTICES_FLOW,
            NOTICE_RETURN_FLOW,
            NOTICE_QUESTION_FLOW,
            NOTICE_ANSWER_FLOW,
            LEDGER_FLOW,
            LEDGER_CLASSIFY_FLOW,
            LEDGER_WRITE_FLOW,
            REFER_FLOW,
            CASES_FLOW,
            CASE_WORK_FLOW,
            CARE_FLOW,
            SURVEY_FLOW,
            SURVEY_FORM_FLOW,
            *MEETING_FLOWS,
            CAMPAIGN_FLOW,
            MYDATA_FLOW_DEF,
            CORRECT_FLOW_DEF,
            CONSENT_FLOW_DEF,
            # Before the parent's free text: `意见 …` starts it (`我对…有意见` does not).
            FEEDBACK_FLOW,
            ANSWER_FLOW,
            # Last: it answers a guardian's free text the flows above did not take.
            PARENT_MESSAGE_FLOW,
            PARENT_REPLY_FLOW,
        ]
    )


def all_actions() -> list[Action]:
    """Buttons that work outside a conversation (incident acknowledgements, receipts …)."""
    return gated_actions(
        [
            *INCIDENT_ACTIONS,
            *NOTICE_ACTIONS,
            *NOTICE_TRACKING_ACTIONS,
            *TAG_ACTIONS,
            *PARENT_MESSAGE_ACTIONS,
            *LEDGER_ACTIONS,
            *CONSENT_ACTIONS,
            *MYDATA_ACTIONS,
            *CARE_ACTIONS,
            *SURVEY_ACTIONS,
            *EVALUATION_ACTIONS,
            *FORM_ACTIONS,
            *ANSWER_ACTIONS,
            *MEETING_ACTIONS,
            *CAMPAIGN_ACTIONS,
            *CAMPAIGN_VIEW_ACTIONS,
        ]
    )
