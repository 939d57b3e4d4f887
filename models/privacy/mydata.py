"""What a guardian may see of what the school holds about their children (`/mydata`).

Least privilege applies to the guardian's own view too: the roster row (name, class, student
number), the guardians listed for the child with their relation and a masked phone, the visits'
dates and forms (never what was discussed, the teacher's notes, problems, the family profile),
the notices the child was sent with their receipts, and the guardian's own feedback. Never the
special-type tags, staff notes, incidents' reports or care cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import audit
from models.feedback.tables import Feedback, FeedbackKind
from models.notices.tables import Notice, NoticeReceipt, NoticeStatus
from models.roster.queries import children_of
from models.roster.tables import Guardian, StudentGuardian
from models.visits.tables import Visit, VisitForm

#: Notices that reached families (a draft or one waiting for approval never did).
_SENT = (NoticeStatus.PUBLISHED, NoticeStatus.ARCHIVED)


def masked_phone(phone: str) -> str:
    """137****0000: the first three and the last four digits."""
    if len(phone) < 8:
        return "****"
    return f"{phone[:3]}****{phone[-4:]}"


@dataclass(frozen=True)
class ListedGuardian:
    name: str
    relation: str
    phone: str  # masked


@dataclass(frozen=True)
class SeenVisit:
    day: date
    form: VisitForm


@dataclass(frozen=True)
class SeenNotice:
    title: str
    number: str
    published_at: datetime | None
    receipt_required: bool
    confirmed_at: datetime | None


@dataclass(frozen=True)
class ChildData:
    student_id: int
    name: str
    class_name: str
    student_no: str
    guardians: list[ListedGuardian] = field(default_factory=list)
    visits: list[SeenVisit] = field(default_factory=list)
    notices: list[SeenNotice] = field(default_factory=list)


@dataclass(frozen=True)
class SeenFeedback:
    code: str
    kind: FeedbackKind
    text: str
    created_at: datetime


@dataclass(frozen=True)
class GuardianData:
    children: list[ChildData]
    feedback: list[SeenFeedback]


async def guardian_data(*, session: AsyncSession, guardian: Guardian) -> GuardianData:
    """Everything `/mydata` shows the guardian (their active children's records)."""
    children: list[ChildData] = []
    for student, klass in await children_of(session=session, guardian=guardian):
        sid = student.id or 0
        listed = (
            await session.exec(
                select(Guardian, StudentGuardian)
                .join(StudentGuardian, col(StudentGuardian.guardian_id) == col(Guardian.id))
                .where(col(StudentGuardian.student_id) == sid)
                .order_by(col(StudentGuardian.position), col(Guardian.id))
            )
        ).all()
        visits = (
            await session.exec(
                select(col(Visit.visit_date), col(Visit.form))
                .where(col(Visit.student_id) == sid)
                .order_by(col(Visit.visit_date).desc(), col(Visit.id).desc())
            )
        ).all()
        notices = (
            await session.exec(
                select(Notice, NoticeReceipt)
                .join(NoticeReceipt, col(NoticeReceipt.notice_id) == col(Notice.id))
                .where(col(NoticeReceipt.student_id) == sid, col(Notice.status).in_(_SENT))
                .order_by(col(Notice.published_at).desc(), col(Notice.id).desc())
            )
        ).all()
        children.append(
            ChildData(
                student_id=sid,
                name=student.name,
                class_name=klass.name,
                student_no=student.student_no,
                guardians=[
                    ListedGuardian(g.name, link.relation, masked_phone(g.phone))
                    for g, link in listed
                ],
                visits=[SeenVisit(day, form) for day, form in visits],
                notices=[
                    SeenNotice(
                        n.title, n.number, n.published_at, n.receipt_required, r.confirmed_at
                    )
                    for n, r in notices
                ],
            )
        )
    own = (
        await session.exec(
            select(Feedback)
            .where(col(Feedback.guardian_id) == guardian.id)
            .order_by(col(Feedback.created_at).desc())
        )
    ).all()
    feedback = [SeenFeedback(f.code, f.kind, f.text, f.created_at) for f in own]
    return GuardianData(children, feedback)


async def audit_read(*, session: AsyncSession, guardian_id: int, data: GuardianData) -> None:
    """One audit entry per child whose data was shown."""
    for child in data.children:
        await audit(
            session=session,
            actor=f"guardian:{guardian_id}",
            action="mydata.read",
            subject=f"student:{child.student_id}",
            student_id=child.student_id,
        )
