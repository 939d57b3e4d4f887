"""Choosing one student inside a conversation: classes → a class's pages, or a typed name.

A reusable component any flow can embed (the visit, incident and absence flows do):

- the flow keeps a `PickerState` in its draft (a pydantic sub-model, persisted with it; the visit
  draft extends `PickerState` instead, so drafts saved before it used the picker still load);
- `StudentPicker` says which students may be chosen (`pool`, checked again on every answer, so a
  forged button ends in `refused`) and the few sentences that depend on that pool;
- `picker.begin(state, ctx, text)` starts (or restarts) the choice, optionally with a typed name;
  `picker.question(state, ctx)` gives the current question as `(text, button rows)`;
  `picker.answer(inbound, state, ctx)` reads a press or a typed text.
  `begin` and `answer` return `Picked(pupil)` (a student of the pool, rechecked), `Ask(notes)`
  (show `question` again with these already-translated notes above it) or `Empty(text)` (the pool
  has no student at all: end the flow with that text).

What the person sees: the teams and groups the person coaches (篮球队), then the classes (the
teacher's own first; with more than `MAX_CLASS_BUTTONS` classes the grades come first), then the
chosen team or class in pages of `PAGE_SIZE` names with 上一页 / 下一页 / 换个班级. Typing part of a name searches the pool (one match is chosen at once,
several are offered); typing a class name (`三(2)班`, `3-2`) opens that class; typing a button's
label counts as pressing it. The callback data below belongs to the picker: a flow embedding it
must not use these prefixes for its own buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from handlers.context import Context
from handlers.hints import choose_hint, invalid
from handlers.i18n import N_
from handlers.types import Button, Inbound, Reply, callback_rest
from models.roster.classnames import parse_class_name
from models.roster.scope import ROSTER_READS, Scope, scope_of, whole_school_scope
from models.roster.tables import Staff, Student
from models.school.tables import Group, GroupCoach, GroupMember, SchoolClass

#: Names on one page of a class.
PAGE_SIZE = 8
#: More classes than this are grouped by grade first.
MAX_CLASS_BUTTONS = 18
#: Longest text taken as a name search.
NAME_LIMIT = 50

# Callback data (always checked again against the pool, never trusted).
CLASS, STUDENT, PAGE, GRADE, TEAM = "cls:", "stu:", "page:", "grade:", "team:"
BY_CLASS, ALL_GRADES = "cls:back", "grade:all"
#: Every prefix the picker owns.
PREFIXES = (CLASS, STUDENT, PAGE, GRADE, TEAM)

#: Numerals for grade buttons.
GRADE_NAMES: dict[int, str] = {
    1: N_("一年级"),
    2: N_("二年级"),
    3: N_("三年级"),
    4: N_("四年级"),
    5: N_("五年级"),
    6: N_("六年级"),
}

Pool = Callable[[Context], Scope]


class PickerState(BaseModel):
    """Where the person is in the choice; empty means "show the classes"."""

    #: The grade whose classes are listed (only when classes are grouped by grade).
    grade: int | None = None
    #: The class whose students are listed.
    class_id: int | None = None
    #: The team or group (coached by the person) whose members are listed.
    group_id: int | None = None
    #: Students to choose between after a name search.
    candidates: list[int] = Field(default_factory=list)
    #: The page of the class list being shown (0-based).
    page: int = 0

    def reset(self) -> None:
        self.grade, self.class_id, self.candidates, self.page = None, None, [], 0
        self.group_id = None

    @property
    def listing_classes(self) -> bool:
        """Whether the question is the class (or grade) list rather than a list of students."""
        return self.class_id is None and self.group_id is None and not self.candidates


@dataclass(frozen=True)
class Pupil:
    """A student of the pool with their class."""

    student: Student
    klass: SchoolClass

    @property
    def id(self) -> int:
        return self.student.id or 0

    @property
    def label(self) -> str:
        return f"{self.klass.name} {self.student.name}"


@dataclass(frozen=True)
class Picked:
    pupil: Pupil


@dataclass(frozen=True)
class Ask:
    #: Already translated, shown above the question.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Empty:
    #: Already translated: why nothing can be chosen.
    text: str


Outcome = Picked | Ask | Empty


# -- pools ---------------------------------------------------------------------------------


def teacher_scope(ctx: Context) -> Scope:
    """The students the staff member may log visits for (`models.roster.scope`)."""
    return scope_of(_staff(ctx))


def whole_school(ctx: Context) -> Scope:
    """Every active student of the school."""
    return whole_school_scope(ctx.school.id or 0)


def _staff(ctx: Context) -> Staff:
    if ctx.staff is None:
        raise PermissionError("the student picker needs a staff member")
    return ctx.staff


# -- queries -------------------------------------------------------------------------------

T = TypeVar("T")
#: Statements made from a fixed scope's SELECT, by what they are for and that SELECT: building
#: one costs more than running it, and a conversation runs them at nearly every step.
_MADE: dict[tuple[str, int], Any] = {}


def _made(purpose: str, pool: Scope, make: Callable[[SelectOfScalar[Student]], T]) -> T:
    if not pool.fixed:
        return make(pool.students)
    key = (purpose, id(pool.students))
    if key not in _MADE:
        _MADE[key] = make(pool.students)
    made: T = _MADE[key]
    return made


def _with_class(pool: SelectOfScalar[Student]) -> Select[Student, SchoolClass]:
    ids = pool.with_only_columns(col(Student.id))
    return (
        select(Student, SchoolClass)
        .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
        .where(col(Student.id).in_(ids))
    )


def _classes_of(pool: SelectOfScalar[Student]) -> SelectOfScalar[SchoolClass]:
    class_ids = pool.with_only_columns(col(Student.class_id)).distinct()
    return select(SchoolClass).where(col(SchoolClass.id).in_(class_ids))


def _pupils_of(pool: SelectOfScalar[Student]) -> Select[Student, SchoolClass]:
    return _with_class(pool).where(col(Student.id).in_(bindparam("pupil_ids", expanding=True)))


def _teams_of(pool: SelectOfScalar[Student]) -> SelectOfScalar[Group]:
    members = select(col(GroupMember.group_id)).where(
        col(GroupMember.student_id).in_(pool.with_only_columns(col(Student.id)))
    )
    return (
        select(Group)
        .join(GroupCoach, col(GroupCoach.group_id) == col(Group.id))
        .where(col(GroupCoach.staff_id) == bindparam("team_coach_id"))
        .where(col(Group.id).in_(members))
        .order_by(col(Group.name))
    )


def _team_of(pool: SelectOfScalar[Student]) -> Select[Student, SchoolClass]:
    members = select(col(GroupMember.student_id)).where(
        col(GroupMember.group_id) == bindparam("page_group_id")
    )
    return (
        _with_class(pool)
        .where(col(Student.id).in_(members))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no))
    )


def _roster_of(pool: SelectOfScalar[Student]) -> Select[Student, SchoolClass]:
    return _with_class(pool).order_by(
        col(SchoolClass.grade), col(SchoolClass.number), col(Student.student_no)
    )


def _class_of(pool: SelectOfScalar[Student]) -> Select[Student, SchoolClass]:
    return (
        _with_class(pool)
        .where(col(Student.class_id) == bindparam("page_class_id"))
        .order_by(col(Student.student_no))
    )


async def pool_classes(
    *, session: AsyncSession, pool: Scope, first: int | None = None
) -> list[SchoolClass]:
    """Classes with at least one student in the pool; the class headed by `first` comes first."""
    query = _made("classes", pool, _classes_of)
    classes = list((await session.exec(query, params=pool.params)).all())
    classes.sort(key=lambda k: (first is None or k.head_teacher_id != first, k.grade, k.number))
    return classes


async def pool_teams(*, session: AsyncSession, pool: Scope, coach: int | None) -> list[Group]:
    """The teams and groups `coach` leads that have at least one student in the pool."""
    if coach is None:
        return []
    query = _made("teams", pool, _teams_of)
    params = {**pool.params, "team_coach_id": coach}
    return list((await session.exec(query, params=params)).all())


async def pool_pupils(*, session: AsyncSession, pool: Scope, ids: Sequence[int]) -> list[Pupil]:
    """These students, if in the pool, in the order given."""
    if not ids:
        return []
    query = _made("pupils", pool, _pupils_of)
    params = {**pool.params, "pupil_ids": list(ids)}
    found = {s.id: Pupil(s, k) for s, k in (await session.exec(query, params=params)).all()}
    return [found[i] for i in ids if i in found]


async def pool_search(*, session: AsyncSession, pool: Scope, text: str, limit: int) -> list[Pupil]:
    """Students of the pool whose name contains `text`, up to `limit`."""
    query = (
        _with_class(pool.students)
        .where(col(Student.name).contains(text, autoescape=True))
        .order_by(col(SchoolClass.grade), col(SchoolClass.number), col(Student.name))
        .limit(limit)
    )
    return [Pupil(s, k) for s, k in (await session.exec(query, params=pool.params)).all()]


async def pool_roster(*, session: AsyncSession, pool: Scope) -> list[Pupil]:
    """Every student of the pool (one query), in class order."""
    query = _made("roster", pool, _roster_of)
    return [Pupil(s, k) for s, k in (await session.exec(query, params=pool.params)).all()]


@dataclass(frozen=True)
class Page:
    pupils: list[Pupil]
    #: 0-based, clamped to the pages that exist.
    number: int
    count: int


async def pool_class_page(*, session: AsyncSession, pool: Scope, class_id: int, page: int) -> Page:
    """One page of a class's students in the pool (a page past the end shows the last one)."""
    query = _made("class", pool, _class_of)
    params = {**pool.params, "page_class_id": class_id}
    everyone = [Pupil(s, k) for s, k in (await session.exec(query, params=params)).all()]
    return _paged(everyone, page)


async def pool_team_page(*, session: AsyncSession, pool: Scope, group_id: int, page: int) -> Page:
    """One page of a team's members in the pool, in class order."""
    query = _made("team", pool, _team_of)
    params = {**pool.params, "page_group_id": group_id}
    everyone = [Pupil(s, k) for s, k in (await session.exec(query, params=params)).all()]
    return _paged(everyone, page)


def _paged(everyone: list[Pupil], page: int) -> Page:
    pages = max(1, -(-len(everyone) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return Page(everyone[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], page, pages)


# -- the component -------------------------------------------------------------------------


def _number(text: str | None) -> int | None:
    ok = text is not None and text.isascii() and text.isdigit() and len(text) < 12
    return int(text) if ok and text is not None else None


def _rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def _grade_label(ctx: Context, grade: int) -> str:
    name = GRADE_NAMES.get(grade)
    return ctx.t._(name) if name else str(grade)


Question = tuple[str, list[list[Button]]]


@dataclass(frozen=True)
class StudentPicker:
    """Which students a flow may choose from, and the sentences that depend on it (msgids)."""

    pool: Pool
    #: A name search found nobody; `{text}` is what was typed.
    not_found: str = N_("在您的学生中没有找到姓名包含“{text}”的学生。")
    #: A pressed student is not in the pool (forged, left the school, out of scope).
    refused: str = N_("不能选择这位学生：该生不在您任教或负责的班级、小组中。请重新选择。")
    #: The pool is empty.
    empty: str = N_("名册中还没有您任教或负责的学生。请联系德育处核对名册。")

    # -- starting --------------------------------------------------------------------------

    async def begin(self, state: PickerState, ctx: Context, text: str = "") -> Outcome:
        """Start the choice afresh; `text` (e.g. `/incident 张`) is searched as a name."""
        state.reset()
        if text.strip():
            return await self._search(text, state, ctx)
        return await self._open(state, ctx)

    async def _open(self, state: PickerState, ctx: Context, *notes: str) -> Outcome:
        """Show the class list, or the only class's students at once."""
        classes = await self._classes(ctx)
        if not classes:
            return Empty("\n".join([*notes, ctx.t._(self.empty)]))
        if len(classes) == 1 and not await self._teams(ctx):
            state.class_id, state.page = classes[0].id, 0
        return Ask(notes)

    # -- asking ----------------------------------------------------------------------------

    async def question(self, state: PickerState, ctx: Context) -> Question:
        """The current question: grades, classes, a class's page, or the search's matches."""
        if state.candidates:
            return await self._candidates_question(state, ctx)
        if state.group_id is not None:
            return await self._team_question(state, ctx)
        if state.class_id is not None:
            return await self._page_question(state, ctx)
        return await self._class_question(state, ctx)

    async def reply(self, state: PickerState, ctx: Context, *notes: str) -> Reply:
        text, buttons = await self.question(state, ctx)
        return Reply.with_buttons("\n".join([*notes, text]), buttons)

    async def _class_question(self, state: PickerState, ctx: Context) -> Question:
        _ = ctx.t._
        classes = await self._classes(ctx)
        teams = [] if state.grade is not None else await self._teams(ctx)
        team_rows = _rows([Button(g.name, f"{TEAM}{g.id}") for g in teams], 3)
        if self._by_grade(classes) and state.grade is None:
            grades = sorted({k.grade for k in classes})
            buttons = [Button(_grade_label(ctx, g), f"{GRADE}{g}") for g in grades]
            text = _("请选择学生所在的年级（也可以直接输入学生姓名查找）：")
            return text, [*team_rows, *_rows(buttons, 3)]
        shown = [k for k in classes if state.grade is None or k.grade == state.grade]
        buttons = [Button(k.name, f"{CLASS}{k.id}") for k in shown]
        rows = [*team_rows, *_rows(buttons, 3)]
        if state.grade is not None:
            rows.append([Button(_("其他年级"), ALL_GRADES)])
        if teams:
            return _(
                "请选择您的运动队、兴趣小组或学生所在的班级（也可以直接输入学生姓名查找）："
            ), rows
        return _("请选择学生所在的班级（也可以直接输入学生姓名查找）："), rows

    async def _candidates_question(self, state: PickerState, ctx: Context) -> Question:
        _ = ctx.t._
        found = await pool_pupils(session=ctx.session, pool=self.pool(ctx), ids=state.candidates)
        buttons = [[Button(p.label, f"{STUDENT}{p.id}")] for p in found]
        return _("请选择是哪一位学生："), [*buttons, [Button(_("按班级选择"), BY_CLASS)]]

    async def _page_question(self, state: PickerState, ctx: Context) -> Question:
        _ = ctx.t._
        pool, class_id, number = self.pool(ctx), state.class_id or 0, state.page

        async def read() -> Page:
            return await pool_class_page(
                session=ctx.session, pool=pool, class_id=class_id, page=number
            )

        page = await self._roster_read(ctx, pool, ("class-page", class_id, number), read)
        names = [Button(p.student.name, f"{STUDENT}{p.id}") for p in page.pupils]
        klass = page.pupils[0].klass.name if page.pupils else ""
        nav = []
        if page.number > 0:
            nav.append(Button(_("上一页"), f"{PAGE}{page.number - 1}"))
        if page.number + 1 < page.count:
            nav.append(Button(_("下一页"), f"{PAGE}{page.number + 1}"))
        several = len(await self._classes(ctx)) > 1
        extra = [Button(_("换个班级"), BY_CLASS)] if several else []
        text = _("{klass}（第 {page}/{pages} 页）：请选择学生，也可以直接输入姓名查找。").format(
            klass=klass, page=page.number + 1, pages=page.count
        )
        return text, [*_rows(names, 4), nav, extra]

    async def _team_question(self, state: PickerState, ctx: Context) -> Question:
        _ = ctx.t._
        pool, group_id, number = self.pool(ctx), state.group_id or 0, state.page

        async def read() -> Page:
            return await pool_team_page(
                session=ctx.session, pool=pool, group_id=group_id, page=number
            )

        page = await self._roster_read(ctx, pool, ("team-page", group_id, number), read)
        names = [Button(p.label, f"{STUDENT}{p.id}") for p in page.pupils]
        team = next((g.name for g in await self._teams(ctx) if g.id == group_id), "")
        nav = []
        if page.number > 0:
            nav.append(Button(_("上一页"), f"{PAGE}{page.number - 1}"))
        if page.number + 1 < page.count:
            nav.append(Button(_("下一页"), f"{PAGE}{page.number + 1}"))
        text = _("{klass}（第 {page}/{pages} 页）：请选择学生，也可以直接输入姓名查找。").format(
            klass=team, page=page.number + 1, pages=page.count
        )
        return text, [*_rows(names, 2), nav, [Button(_("换个班级"), BY_CLASS)]]

    # -- answering -------------------------------------------------------------------------

    async def answer(self, inbound: Inbound, state: PickerState, ctx: Context) -> Outcome:
        """Read a press or a typed text; every id is checked against the pool again."""
        data = inbound.callback
        if data is None:
            text = (inbound.text or "").strip()
            if not text:
                return Ask((choose_hint(ctx),))
            data = await self._typed_label(text, state, ctx)
            if data is None:
                return await self._typed(text, state, ctx)
        return await self._pressed(data, state, ctx)

    async def _typed_label(self, text: str, state: PickerState, ctx: Context) -> str | None:
        """Typing a button's label (三(2)班, 下一页, a name on the page) presses that button."""
        _, rows = await self.question(state, ctx)
        for row in rows:
            for button in row:
                if button.label == text:
                    return button.data
        return None

    async def _typed(self, text: str, state: PickerState, ctx: Context) -> Outcome:
        klass = await self._class_named(text, ctx)
        if klass is not None:
            state.reset()
            state.class_id = klass.id
            return Ask()
        return await self._search(text, state, ctx)

    async def _class_named(self, text: str, ctx: Context) -> SchoolClass | None:
        try:
            grade, number = parse_class_name(text)
        except ValueError:
            return None
        for klass in await self._classes(ctx):
            if (klass.grade, klass.number) == (grade, number):
                return klass
        return None

    async def _search(self, text: str, state: PickerState, ctx: Context) -> Outcome:
        """Typing part of a name: one match is chosen at once, several are offered as buttons."""
        _ = ctx.t._
        wanted = text.strip()
        if len(wanted) > NAME_LIMIT:
            note = _("内容太长了：最多 {limit} 个字，您发来的有 {length} 个字。请精简后重新发送。")
            return await self._again(state, ctx, note.format(limit=NAME_LIMIT, length=len(wanted)))
        found = await pool_search(
            session=ctx.session, pool=self.pool(ctx), text=wanted, limit=PAGE_SIZE + 1
        )
        if not found:
            return await self._again(state, ctx, _(self.not_found).format(text=wanted))
        if len(found) == 1:
            state.reset()
            return Picked(found[0])
        state.candidates = [p.id for p in found[:PAGE_SIZE]]
        if len(found) > PAGE_SIZE:
            note = _("匹配的学生较多，只列出前 {count} 位；可以输入更完整的姓名。")
            return Ask((note.format(count=PAGE_SIZE),))
        return Ask((_("找到 {count} 位姓名相近的学生。").format(count=len(state.candidates)),))

    async def _again(self, state: PickerState, ctx: Context, note: str) -> Outcome:
        """The same question again; from a fresh start, the only class opens at once."""
        if state.listing_classes and state.grade is None:
            return await self._open(state, ctx, note)
        return Ask((note,))

    async def _pressed(self, data: str, state: PickerState, ctx: Context) -> Outcome:
        _ = ctx.t._
        if data == BY_CLASS:
            grade = state.grade
            state.reset()
            state.grade = grade
            return await self._open(state, ctx)
        if data == ALL_GRADES:
            state.reset()
            return Ask()
        grade = _number(callback_rest(data, GRADE))
        if grade is not None:
            if grade not in {k.grade for k in await self._classes(ctx)}:
                return Ask((invalid(ctx),))
            state.reset()
            state.grade = grade
            return Ask()
        group_id = _number(callback_rest(data, TEAM))
        if group_id is not None:
            if group_id not in {g.id for g in await self._teams(ctx)}:
                return Ask((invalid(ctx),))
            state.reset()
            state.group_id = group_id
            return Ask()
        class_id = _number(callback_rest(data, CLASS))
        if class_id is not None:
            if class_id not in {k.id for k in await self._classes(ctx)}:
                return Ask((invalid(ctx),))
            state.reset()
            state.class_id = class_id
            return Ask()
        page = _number(callback_rest(data, PAGE))
        if page is not None and (state.class_id is not None or state.group_id is not None):
            state.page = page
            return Ask()
        student_id = _number(callback_rest(data, STUDENT))
        if student_id is None:
            return Ask((invalid(ctx),))
        found = await self.pupil(ctx, student_id)
        if found is None:
            return Ask((_(self.refused),))
        state.reset()
        return Picked(found)

    # -- helpers ---------------------------------------------------------------------------

    async def _roster_read(
        self,
        ctx: Context,
        pool: Scope,
        what: tuple[Hashable, ...],
        read: Callable[[], Awaitable[T]],
    ) -> T:
        """A read of the roster through `pool` (`what` says which): once per update, and kept
        across updates (`ROSTER_READS`) when the pool is a fixed statement, so that its
        parameters say whose it is."""
        if not pool.fixed:
            return await ctx.cached(("picker", self.pool, *what), read)
        key = ("picker", id(pool.students), tuple(sorted(pool.params.items())), *what)
        return await ctx.cached(key, read, kept=ROSTER_READS)

    async def _classes(self, ctx: Context) -> list[SchoolClass]:
        pool, first = self.pool(ctx), ctx.staff.id if ctx.staff is not None else None

        async def read() -> list[SchoolClass]:
            return await pool_classes(session=ctx.session, pool=pool, first=first)

        return await self._roster_read(ctx, pool, ("classes", first), read)

    async def _teams(self, ctx: Context) -> list[Group]:
        """The teams the person coaches with members in the pool (shown before the classes)."""
        pool, coach = self.pool(ctx), ctx.staff.id if ctx.staff is not None else None

        async def read() -> list[Group]:
            return await pool_teams(session=ctx.session, pool=pool, coach=coach)

        return await self._roster_read(ctx, pool, ("teams", coach), read)

    @staticmethod
    def _by_grade(classes: Sequence[SchoolClass]) -> bool:
        return len(classes) > MAX_CLASS_BUTTONS and len({k.grade for k in classes}) > 1

    async def pupil(self, ctx: Context, student_id: int | None) -> Pupil | None:
        """The student, if in the pool (a pressed button, or the chosen one again for a
        summary card or before saving)."""
        if student_id is None:
            return None
        pool = self.pool(ctx)

        async def read() -> Pupil | None:
            found = await pool_pupils(session=ctx.session, pool=pool, ids=[student_id])
            return found[0] if found else None

        return await self._roster_read(ctx, pool, ("pupil", student_id), read)

    async def roster(self, ctx: Context) -> list[Pupil]:
        """Every student of the pool in class order (e.g. to read names out of a message)."""
        return await pool_roster(session=ctx.session, pool=self.pool(ctx))


#: The teacher's own students (visits, absences).
TEACHER_PICKER = StudentPicker(pool=teacher_scope)
#: Any student of the school (an incident can happen to any child in front of any teacher).
SCHOOL_PICKER = StudentPicker(
    pool=whole_school,
    not_found=N_("本校学生中没有找到姓名包含“{text}”的学生。"),
    refused=N_("找不到这位学生（可能已不在本校名册中）。请重新选择。"),
    empty=N_("名册中还没有学生。请联系德育处先导入名册。"),
)
