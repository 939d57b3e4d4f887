"""SQLModel tables, queries and the pure domain rules."""

from models.absence import Absence, AbsenceKind, Flag
from models.accounts import ChannelAccount, Invite, PersonKind
from models.audit import AuditEntry
from models.conversation import Conversation, InboundSeen
from models.duty import Duty, DutyTrigger
from models.incident import Incident, IncidentEvent, IncidentKind
from models.jobs import JobRun
from models.media import Media
from models.notice import (
    Notice,
    NoticeAttachment,
    NoticeCounter,
    NoticeDelivery,
    NoticeQuestion,
    NoticeReceipt,
)
from models.notice_tracking import NoticeChase, NoticeProgress
from models.outbox import OutboxMessage, OutboxStatus
from models.people import Guardian, Staff, StaffRole, Student, StudentGuardian, Teaching
from models.school import Group, GroupCoach, GroupMember, School, SchoolClass, Term, TermKind
from models.visit import Visit, VisitCategory, VisitForm
from models.wecom import WecomInbox, WecomNonce, WecomToken

__all__ = [
    "Absence",
    "AbsenceKind",
    "AuditEntry",
    "ChannelAccount",
    "Conversation",
    "Duty",
    "DutyTrigger",
    "Flag",
    "Group",
    "GroupCoach",
    "GroupMember",
    "Guardian",
    "InboundSeen",
    "Incident",
    "IncidentEvent",
    "IncidentKind",
    "Invite",
    "JobRun",
    "Media",
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
    "PersonKind",
    "School",
    "SchoolClass",
    "Staff",
    "StaffRole",
    "Student",
    "StudentGuardian",
    "Teaching",
    "Term",
    "TermKind",
    "Visit",
    "VisitCategory",
    "VisitForm",
    "WecomInbox",
    "WecomNonce",
    "WecomToken",
]
