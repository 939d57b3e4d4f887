"""Records about 张小明 for the privacy tests (/mydata, export, erase, retention): a visit with
every free-text field filled, an incident, a care case with an entry, a family profile, a ledger
item, a flag and a parent's message — each text marked with `SECRET` so a test can tell it was
shown, exported or blanked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models.absences.tables import Flag
from models.care.tables import CareCase, CareEntry, CareEntryKind, CaseIntake
from models.db.engine import Database
from models.duties.tables import DutyTrigger
from models.families.tables import FamilyProfile
from models.feedback.queries import NewFeedback, submit_feedback
from models.feedback.tables import FeedbackAbout, FeedbackKind
from models.incidents.tables import Incident, IncidentEvent, IncidentKind
from models.ledger.queries import record_item
from models.ledger.tables import LedgerSource
from models.parents.tables import ParentMessage, ParentMessageKind
from models.roster.tables import Staff
from models.visits.tables import Visit, VisitCategory, VisitForm
from tests.helpers.factories import TestSchool

#: In every free text written here.
SECRET = "机密"


@dataclass(frozen=True)
class Written:
    visit_id: int
    incident_id: int
    case_id: int
    ledger_id: int


def visit_for(
    ts: TestSchool,
    student: str,
    day: date,
    *,
    teacher: str = "王芳",
    form: VisitForm = VisitForm.HOME,
) -> Visit:
    return Visit(
        school_id=ts.school.id or 0,
        teacher_id=ts.staff[teacher].id or 0,
        student_id=ts.students[student].id or 0,
        visit_date=day,
        form=form,
        category=VisitCategory.KEY,
        met="母亲",
        school_report=f"{SECRET}在校表现：上课走神",
        home_learned=f"{SECRET}在家情况：作业拖延",
        family=f"{SECRET}家庭：父母离异",
        guidance=f"{SECRET}指导：每天陪读",
        measures=f"{SECRET}措施：结对帮扶",
        problems=f"{SECRET}问题：经济困难",
        notes=f"{SECRET}老师备注",
        needs_school=True,
    )


async def write_records(
    db: Database, ts: TestSchool, now: datetime, student: str = "张小明"
) -> Written:
    """The records about `student` (see the module doc)."""
    sid = ts.students[student].id or 0
    teacher: Staff = ts.staff["王芳"]
    async with db.session() as session:
        visit = visit_for(ts, student, (now - timedelta(days=3)).date())
        incident = Incident(
            school_id=ts.school.id or 0,
            student_id=sid,
            reporter_id=teacher.id or 0,
            kind=IncidentKind.INJURY,
            what=f"{SECRET}操场摔倒",
            where_now=f"{SECRET}已送医院",
            reported_at=now,
        )
        case = CareCase(
            school_id=ts.school.id or 0,
            student_id=sid,
            intake=CaseIntake.REFERRAL,
            referred_by_staff_id=teacher.id,
            noticed=f"{SECRET}情绪低落",
            problem=f"{SECRET}关爱问题",
            background=f"{SECRET}家庭背景",
            opened_at=now,
        )
        session.add_all([visit, incident, case])
        await session.flush()
        session.add(
            IncidentEvent(
                incident_id=incident.id or 0, at=now, event="reported", detail=f"{SECRET}经过"
            )
        )
        session.add(
            CareEntry(
                school_id=ts.school.id or 0,
                case_id=case.id or 0,
                kind=CareEntryKind.CONTACT,
                at=now,
                place=f"{SECRET}关爱室",
                problem=f"{SECRET}谈话问题",
                measures=f"{SECRET}谈话措施",
                effect=f"{SECRET}效果",
                recorded_by=teacher.id or 0,
                recorded_at=now,
            )
        )
        session.add(FamilyProfile(school_id=ts.school.id or 0, student_id=sid, household_size=3))
        session.add(
            Flag(
                school_id=ts.school.id or 0,
                student_id=sid,
                trigger=DutyTrigger.FAMILY_CHANGE,
                note=f"{SECRET}家庭变故",
                flagged_by=teacher.id or 0,
            )
        )
        session.add(
            ParentMessage(
                school_id=ts.school.id or 0,
                guardian_id=ts.guardians["刘梅"].id or 0,
                student_id=sid,
                kind=ParentMessageKind.MESSAGE,
                text=f"{SECRET}家长留言",
                sent_at=now,
            )
        )
        item = await record_item(
            session,
            school_id=ts.school.id or 0,
            source=LedgerSource.VISIT,
            source_id=visit.id,
            student_id=sid,
            description=f"{SECRET}台账问题",
            recorded_by=teacher.id,
            now=now,
        )
        await submit_feedback(
            session,
            NewFeedback(
                school_id=ts.school.id or 0,
                kind=FeedbackKind.SUGGESTION,
                about=FeedbackAbout.SCHOOL,
                text="希望增加课后服务",
                guardian_id=ts.guardians["刘梅"].id or 0,
                anonymous=False,
            ),
            now=now,
        )
    return Written(visit.id or 0, incident.id or 0, case.id or 0, item.id or 0)
