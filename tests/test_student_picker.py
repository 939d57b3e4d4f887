"""The reusable student picker (`handlers.student_picker`), driven as a flow step would drive it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

from sqlmodel import select

from handlers.context import Context
from handlers.i18n import translator
from handlers.student_picker import (
    MAX_CLASS_BUTTONS,
    PAGE_SIZE,
    SCHOOL_PICKER,
    TEACHER_PICKER,
    Ask,
    Empty,
    Picked,
    PickerState,
    StudentPicker,
)
from handlers.types import Button, Inbound
from models.db.engine import Database
from models.roster.scope import Scope
from models.roster.tables import Staff, Student
from models.school.tables import Group, SchoolClass
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school

ZONE = ZoneInfo("Asia/Shanghai")


@asynccontextmanager
async def context(
    db: Database,
    clock: FakeClock,
    ts: factories.TestSchool,
    staff: Staff,
    channel: str = "telegram",
) -> AsyncIterator[Context]:
    async with db.update_session() as tx:
        yield Context(
            tx=tx,
            now=clock(),
            school=ts.school,
            zone=ZONE,
            t=translator("zh"),
            channel=channel,
            staff=staff,
        )


def press(data: str) -> Inbound:
    return Inbound(channel="telegram", user_id="1", chat_id="1", callback=data)


def typed(text: str) -> Inbound:
    return Inbound(channel="telegram", user_id="1", chat_id="1", text=text)


def buttons(rows: list[list[Button]]) -> list[Button]:
    return [b for row in rows for b in row]


def button(rows: list[list[Button]], label: str) -> str:
    [found] = [b.data for b in buttons(rows) if b.label == label]
    return found


async def test_a_teacher_sees_their_own_class_first_then_the_classes_they_teach(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        assert await TEACHER_PICKER.begin(state, ctx) == Ask()
        text, rows = await TEACHER_PICKER.question(state, ctx)
    assert "班级" in text
    assert [b.label for b in buttons(rows)] == ["三(2)班", "三(1)班"]


async def test_a_teacher_with_one_class_sees_its_students_at_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["李强"]) as ctx:
        await TEACHER_PICKER.begin(state, ctx)
        text, rows = await TEACHER_PICKER.question(state, ctx)
    assert state.class_id == ts.classes["三(1)班"].id
    assert "三(1)班（第 1/1 页）" in text
    labels = [b.label for b in buttons(rows)]
    assert "李华" in labels and "换个班级" not in labels


async def test_pressing_a_class_then_a_student_picks_that_student(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        await TEACHER_PICKER.begin(state, ctx)
        _, rows = await TEACHER_PICKER.question(state, ctx)
        assert await TEACHER_PICKER.answer(press(button(rows, "三(1)班")), state, ctx) == Ask()
        _, rows = await TEACHER_PICKER.question(state, ctx)
        outcome = await TEACHER_PICKER.answer(press(button(rows, "周杰")), state, ctx)
    assert isinstance(outcome, Picked)
    assert outcome.pupil.label == "三(1)班 周杰"
    assert state == PickerState()


async def test_a_typed_name_with_one_match_is_picked_at_once(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        outcome = await TEACHER_PICKER.begin(PickerState(), ctx, "小明")
    assert isinstance(outcome, Picked)
    assert outcome.pupil.id == ts.students["张小明"].id


async def test_a_typed_name_with_several_matches_offers_them(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["赵敏"]) as ctx:  # 德育处: the whole school
        outcome = await TEACHER_PICKER.answer(typed("张"), state, ctx)
        _, rows = await TEACHER_PICKER.question(state, ctx)
    assert outcome == Ask(("找到 2 位姓名相近的学生。",))
    assert [b.label for b in buttons(rows)] == ["三(2)班 张小明", "四(1)班 张小红", "按班级选择"]


async def test_a_name_not_in_the_pool_is_not_found_and_the_question_stays(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        outcome = await TEACHER_PICKER.answer(typed("张小红"), state, ctx)  # 四(1)班: not hers
    assert outcome == Ask(("在您的学生中没有找到姓名包含“张小红”的学生。",))


async def test_a_forged_student_button_outside_the_pool_is_refused(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState(class_id=ts.classes["三(2)班"].id)
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        outcome = await TEACHER_PICKER.answer(press(f"stu:{ts.students['张小红'].id}"), state, ctx)
    assert isinstance(outcome, Ask)
    assert "不能选择这位学生" in outcome.notes[0]


async def test_a_forged_class_button_outside_the_pool_is_refused(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        outcome = await TEACHER_PICKER.answer(press(f"cls:{ts.classes['四(1)班'].id}"), state, ctx)
    assert outcome == Ask(("这个选项无效，请从下面重新选择。",))
    assert state.class_id is None


async def test_the_whole_school_picker_lets_a_coach_pick_any_student(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["钱进"]) as ctx:
        _, rows = await SCHOOL_PICKER.question(state, ctx)
        outcome = await SCHOOL_PICKER.answer(press(f"stu:{ts.students['李华'].id}"), state, ctx)
    assert [b.label for b in buttons(rows)] == ["篮球队", "三(1)班", "三(2)班", "四(1)班"]
    assert isinstance(outcome, Picked)


async def test_a_coach_sees_their_team_before_the_classes(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["钱进"]) as ctx:
        assert await TEACHER_PICKER.begin(state, ctx) == Ask()
        text, rows = await TEACHER_PICKER.question(state, ctx)
    assert "运动队" in text
    assert [b.label for b in buttons(rows)] == ["篮球队", "四(1)班"]


async def test_pressing_the_team_lists_its_members_with_their_classes(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["钱进"]) as ctx:
        await TEACHER_PICKER.begin(state, ctx)
        _, rows = await TEACHER_PICKER.question(state, ctx)
        assert await TEACHER_PICKER.answer(press(button(rows, "篮球队")), state, ctx) == Ask()
        text, rows = await TEACHER_PICKER.question(state, ctx)
        assert "篮球队（第 1/1 页）" in text
        assert [b.label for b in buttons(rows)] == ["四(1)班 赵刚", "四(1)班 孙悦", "换个班级"]
        outcome = await TEACHER_PICKER.answer(press(button(rows, "四(1)班 孙悦")), state, ctx)
    assert isinstance(outcome, Picked) and outcome.pupil.id == ts.students["孙悦"].id
    assert state == PickerState()


async def test_a_forged_team_button_of_a_team_not_coached_is_refused(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        team = (await session.exec(select(Group))).one()
    state = PickerState()
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        outcome = await TEACHER_PICKER.answer(press(f"team:{team.id}"), state, ctx)
    assert outcome == Ask(("这个选项无效，请从下面重新选择。",))
    assert state.group_id is None


async def test_typing_a_class_name_opens_that_class(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    state = PickerState()
    async with context(db, clock, ts, ts.staff["赵敏"]) as ctx:
        assert await SCHOOL_PICKER.answer(typed("4-1"), state, ctx) == Ask()
    assert state.class_id == ts.classes["四(1)班"].id


async def test_typing_a_button_label_presses_it(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    state = PickerState(class_id=ts.classes["三(2)班"].id)
    async with context(db, clock, ts, ts.staff["赵敏"]) as ctx:
        assert await SCHOOL_PICKER.answer(typed("换个班级"), state, ctx) == Ask()
    assert state == PickerState()


async def test_text_where_a_choice_is_expected_gets_a_hint_for_the_channel(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    async with context(db, clock, ts, ts.staff["赵敏"], channel="console") as ctx:
        outcome = await SCHOOL_PICKER.answer(typed("  "), PickerState(), ctx)
    assert outcome == Ask(("请回复选项前面的数字来选择。",))


async def test_a_long_class_is_shown_in_pages(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    klass = ts.classes["三(2)班"]
    async with db.session() as session:
        for n in range(PAGE_SIZE):
            session.add(
                Student(
                    school_id=ts.school.id or 0,
                    student_no=f"X{n:02d}",
                    name=f"学生{n:02d}",
                    class_id=klass.id or 0,
                )
            )
    state = PickerState(class_id=klass.id)
    async with context(db, clock, ts, ts.staff["王芳"]) as ctx:
        text, rows = await TEACHER_PICKER.question(state, ctx)
        assert "（第 1/2 页）" in text
        await TEACHER_PICKER.answer(press(button(rows, "下一页")), state, ctx)
        text, rows = await TEACHER_PICKER.question(state, ctx)
    assert "（第 2/2 页）" in text
    assert "上一页" in [b.label for b in buttons(rows)]


async def test_many_classes_are_grouped_by_grade_first(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    async with db.session() as session:
        for n in range(MAX_CLASS_BUTTONS):
            klass = SchoolClass(
                school_id=ts.school.id or 0, grade=5, number=n + 1, name=f"五({n + 1})班"
            )
            session.add(klass)
            await session.flush()
            session.add(
                Student(
                    school_id=ts.school.id or 0,
                    student_no=f"F{n:02d}",
                    name=f"五年级{n:02d}",
                    class_id=klass.id or 0,
                )
            )
    state = PickerState()
    async with context(db, clock, ts, ts.staff["赵敏"]) as ctx:
        text, rows = await SCHOOL_PICKER.question(state, ctx)
        assert "年级" in text
        assert [b.label for b in buttons(rows)] == ["三年级", "四年级", "五年级"]
        await SCHOOL_PICKER.answer(press(button(rows, "四年级")), state, ctx)
        _, rows = await SCHOOL_PICKER.question(state, ctx)
    assert [b.label for b in buttons(rows)] == ["四(1)班", "其他年级"]


async def test_an_empty_pool_says_so(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    async with context(db, clock, ts, ts.staff["钱进"]) as ctx:
        nobody = StudentPicker(
            pool=lambda c: Scope(
                TEACHER_PICKER.pool(c).students.where(False), TEACHER_PICKER.pool(c).params
            )
        )
        outcome = await nobody.begin(PickerState(), ctx)
    assert isinstance(outcome, Empty)
    assert "名册中还没有" in outcome.text
