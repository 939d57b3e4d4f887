"""SQLModel tables, queries and the pure domain rules."""

from models.absences.tables import Absence, AbsenceKind, Flag
from models.accounts.tables import ChannelAccount, Invite, PersonKind
from models.audit.tables import AuditEntry
from models.campaigns.tables import Campaign, CampaignAssignment
from models.care.tables import CareCase, CareEntry
from models.conversations.store import Conversation, InboundSeen
from models.drafts.tables import Draft
from models.duties.tables import Duty, DutyTrigger
from models.families.tables import FamilyProfile, TagProposal
from models.feedback.tables import Feedback, FeedbackAbout, FeedbackKind
from models.incidents.tables import Incident, IncidentEvent, IncidentKind
from models.jobs.tables import JobRun
from models.ledger.tables import (
    LedgerEvent,
    LedgerEventKind,
    LedgerItem,
    LedgerKind,
    LedgerOutcome,
    LedgerSource,
    LedgerStatus,
)
from models.meetings.tables import CommitteeMember, Meeting, MeetingAttendance
from models.notices.tables import (
    Notice,
    NoticeAttachment,
    NoticeCounter,
    NoticeDelivery,
    NoticeQuestion,
    NoticeReceipt,
)
from models.notices.tracking import NoticeChase, NoticeProgress
from models.outbox.media import Media
from models.outbox.tables import OutboxMessage, OutboxStatus
from models.parents.tables import ParentMessage
from models.privacy.tables import GuardianConsent, RetentionRun
from models.roster.tables import (
    Guardian,
    Staff,
    StaffRole,
    Student,
    StudentGuardian,
    StudentHead,
    Teaching,
)
from models.school.config import SchoolConfig
from models.school.tables import (
    CalendarDay,
    CalendarDayKind,
    Group,
    GroupCoach,
    GroupMember,
    School,
    SchoolClass,
    Term,
    TermKind,
)
from models.surveys.tables import (
    Survey,
    SurveyAnswer,
    SurveyFinding,
    SurveyForm,
    SurveyQuestion,
    SurveyRecipient,
)
from models.visits.tables import Visit, VisitCategory, VisitForm
from models.wecom.tables import WecomCallbackApp, WecomInbox, WecomNonce, WecomToken

__all__ = [
    "Absence",
    "AbsenceKind",
    "AuditEntry",
    "CalendarDay",
    "CalendarDayKind",
    "Campaign",
    "CampaignAssignment",
    "CareCase",
    "CareEntry",
    "ChannelAccount",
    "CommitteeMember",
    "Conversation",
    "Draft",
    "Duty",
    "DutyTrigger",
    "FamilyProfile",
    "Feedback",
    "FeedbackAbout",
    "FeedbackKind",
    "Flag",
    "Group",
    "GroupCoach",
    "GroupMember",
    "Guardian",
    "GuardianConsent",
    "InboundSeen",
    "Incident",
    "IncidentEvent",
    "IncidentKind",
    "Invite",
    "JobRun",
    "LedgerEvent",
    "LedgerEventKind",
    "LedgerItem",
    "LedgerKind",
    "LedgerOutcome",
    "LedgerSource",
    "LedgerStatus",
    "Media",
    "Meeting",
    "MeetingAttendance",
    "Notice",
    "NoticeAttachment",
    "NoticeChase",
    "NoticeCounter",
    "NoticeDelivery",
    "NoticeProgress",
    "NoticeQuestion",
    "NoticeReceipt",
    "OutboxMessage",
    "OutboxStatus",
    "ParentMessage",
    "PersonKind",
    "RetentionRun",
    "School",
    "SchoolClass",
    "SchoolConfig",
    "Staff",
    "StaffRole",
    "Student",
    "StudentGuardian",
    "StudentHead",
    "Survey",
    "SurveyAnswer",
    "SurveyFinding",
    "SurveyForm",
    "SurveyQuestion",
    "SurveyRecipient",
    "TagProposal",
    "Teaching",
    "Term",
    "TermKind",
    "Visit",
    "VisitCategory",
    "VisitForm",
    "WecomCallbackApp",
    "WecomInbox",
    "WecomNonce",
    "WecomToken",
]
