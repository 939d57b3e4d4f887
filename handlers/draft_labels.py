"""What an unfinished conversation is called (`Flow.describe_draft`): `记录张小明的家访`, read from
its draft, for the question asked before it is left and for the draft it may become."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.flow import DraftDescriber, DraftLabel
from handlers.i18n import Translator
from models.roster.tables import Student


def about_student(named: str, unnamed: str) -> DraftDescriber:
    """A describer for a flow about one student (its draft's `student_id`): `named` (a msgid
    with `{name}`) once the student is chosen, else `unnamed`."""

    async def describe(draft: Any, session: AsyncSession, t: Translator) -> DraftLabel:
        student_id = getattr(draft, "student_id", None)
        student = await session.get(Student, student_id) if student_id else None
        if student is None:
            return DraftLabel(t._(unnamed))
        return DraftLabel(t._(named).format(name=student.name), student.name)

    return describe


def titled(named: str, unnamed: str) -> DraftDescriber:
    """A describer for a flow whose draft has a `title` once given (a notice)."""

    async def describe(draft: Any, session: AsyncSession, t: Translator) -> DraftLabel:
        title = getattr(draft, "title", None)
        if not title:
            return DraftLabel(t._(unnamed))
        return DraftLabel(t._(named).format(title=title), str(title))

    return describe
