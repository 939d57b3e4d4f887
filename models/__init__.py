"""SQLModel tables, queries and the pure domain rules."""

from models.accounts import ChannelAccount, Invite, PersonKind
from models.audit import AuditEntry
from models.conversation import Conversation, InboundSeen
from models.outbox import OutboxMessage, OutboxStatus
from models.people import Guardian, Staff, StaffRole, Student, StudentGuardian, Teaching
from models.school import Group, GroupCoach, GroupMember, School, SchoolClass, Term, TermKind
from models.visit import Visit, VisitCategory, VisitForm

__all__ = [
    "AuditEntry",
    "ChannelAccount",
    "Conversation",
    "Group",
    "GroupCoach",
    "GroupMember",
    "Guardian",
    "InboundSeen",
    "Invite",
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
]
