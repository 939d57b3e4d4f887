"""Reading and remembering households, and 德育处's decisions on proposed tag changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import TAGS_CHANGE, audit
from models.families.rules import Answers
from models.families.tables import FamilyProfile, ProposalStatus, TagProposal
from models.roster.tables import STUDENT_TAGS, Student, StudentGuardian


async def profile_of(*, session: AsyncSession, student_id: int) -> FamilyProfile | None:
    query = select(FamilyProfile).where(FamilyProfile.student_id == student_id)
    return (await session.exec(query)).first()


async def household_of(*, session: AsyncSession, student_id: int) -> list[int]:
    """The student and every active student sharing a guardian with them (siblings)."""
    guardians = select(StudentGuardian.guardian_id).where(StudentGuardian.student_id == student_id)
    query = (
        select(StudentGuardian.student_id)
        .join(Student, col(Student.id) == col(StudentGuardian.student_id))
        .where(col(StudentGuardian.guardian_id).in_(guardians), col(Student.active))
        .distinct()
    )
    found = set((await session.exec(query)).all())
    return sorted(found | {student_id})


async def remember(
    *,
    session: AsyncSession,
    school_id: int,
    student_id: int,
    answers: Answers,
    visit_id: int,
    now: datetime,
) -> None:
    """Record `answers` for the student's household (siblings share it); fields not answered
    keep what was recorded before."""
    if not answers:
        return
    for member in await household_of(session=session, student_id=student_id):
        profile = await profile_of(session=session, student_id=member) or FamilyProfile(
            school_id=school_id, student_id=member
        )
        for field, value in answers.items():
            setattr(profile, field, value)
        profile.updated_at = now
        profile.visit_id = visit_id
        session.add(profile)


async def propose_tag(
    *,
    session: AsyncSession,
    school_id: int,
    student_id: int,
    tag: str,
    add: bool,
    visit_id: int,
    proposed_by: int,
) -> TagProposal | None:
    """A new proposal, or None when the same change is already waiting for 德育处."""
    waiting = select(TagProposal).where(
        TagProposal.student_id == student_id,
        TagProposal.tag == tag,
        TagProposal.add == add,
        TagProposal.status == ProposalStatus.PENDING,
    )
    if (await session.exec(waiting)).first() is not None:
        return None
    proposal = TagProposal(
        school_id=school_id,
        student_id=student_id,
        tag=tag,
        add=add,
        visit_id=visit_id,
        proposed_by=proposed_by,
    )
    session.add(proposal)
    await session.flush()
    return proposal


async def decide(
    *,
    session: AsyncSession,
    school_id: int,
    proposal_id: int,
    approve: bool,
    staff_id: int,
    now: datetime,
) -> TagProposal | None:
    """Mark a pending proposal approved or refused (the first decision wins); None when it is
    not this school's, or was decided already. Approving does not change the tag itself:
    `apply_tag` does, where the update may write the roster."""
    status = ProposalStatus.APPROVED if approve else ProposalStatus.REFUSED
    changed = await session.exec(
        update(TagProposal)
        .where(
            col(TagProposal.id) == proposal_id,
            col(TagProposal.school_id) == school_id,
            col(TagProposal.status) == ProposalStatus.PENDING,
        )
        .values(status=status, decided_by=staff_id, decided_at=now)
    )
    if changed.rowcount != 1:
        return None
    proposal = await session.get(TagProposal, proposal_id, populate_existing=True)
    if proposal is not None:
        await audit(
            session=session,
            actor=f"staff:{staff_id}",
            action=f"tag_proposal.{status.value}",
            subject=f"student:{proposal.student_id}",
            detail=f"{'+' if proposal.add else '-'}{proposal.tag}",
            student_id=proposal.student_id,
        )
    return proposal


def with_tag(tags: str, tag: str, *, add: bool) -> str:
    """The comma-separated tags with `tag` added or removed, in STUDENT_TAGS order."""
    present = {t for t in tags.split(",") if t}
    present = present | {tag} if add else present - {tag}
    return ",".join(t for t in STUDENT_TAGS if t in present)


async def apply_tag(*, session: AsyncSession, proposal: TagProposal) -> None:
    """Change the student's tag as approved (a roster write: see `UpdateTx.writing_kept_tables`)."""
    student = await session.get(Student, proposal.student_id)
    if student is None:
        return
    changed = with_tag(student.tags, proposal.tag, add=proposal.add)
    if changed == student.tags:
        return
    student.tags = changed
    session.add(student)
    await session.flush()
    await audit(
        session=session,
        actor=f"staff:{proposal.decided_by}",
        action=TAGS_CHANGE,
        subject=f"student:{proposal.student_id}",
        detail=f"{'+' if proposal.add else '-'}{proposal.tag} (proposal:{proposal.id})",
        student_id=proposal.student_id,
    )
