"""`/survey new` as 德育处 uses it: start from a built-in form or the school's own, name the copy,
choose anonymous or named and the purpose, add, change, delete and move questions, and save —
the form written whole, its questions in the order edited; refusals (an empty form, a name the
school has, bad options, a teacher) leaving nothing saved; retiring one of the school's forms;
and the new form offered when a survey is sent."""

from __future__ import annotations

from sqlmodel import col, select

from models.db.engine import Database
from models.surveys.forms import ACTIVE_FORMS_LIMIT
from models.surveys.tables import FormPurpose, QuestionKind, SurveyForm, SurveyQuestion
from models.surveys.templates import OPINION_WEEK_FORM, PARENT_FORM
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind
from tests.helpers.visits import ChatUser, chat_as, conversation_of, full_dispatcher

NEW = "期中家长问卷"


async def _admin(db: Database, clock: FakeClock, school: TestSchool) -> ChatUser:
    return await chat_as(db, clock, school.staff["赵敏"], full_dispatcher(db, clock))


async def _forms(db: Database) -> list[SurveyForm]:
    async with db.session() as session:
        return list((await session.exec(select(SurveyForm).order_by(col(SurveyForm.id)))).all())


async def _questions(db: Database, form_id: int | None) -> list[SurveyQuestion]:
    async with db.session() as session:
        query = select(SurveyQuestion).where(SurveyQuestion.form_id == form_id)
        return list((await session.exec(query.order_by(col(SurveyQuestion.position)))).all())


async def _named(db: Database, name: str) -> SurveyForm:
    [form] = [f for f in await _forms(db) if f.name == name]
    return form


async def _to_edit(admin: ChatUser, base: str = OPINION_WEEK_FORM.name, name: str = NEW) -> None:
    await admin.send("/survey new")
    await admin.steps(base, f">{name}", "实名", "学期问卷")


async def test_a_copy_of_a_template_edited_and_saved_has_exactly_the_questions_in_order(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await admin.send("/survey new")
    assert "请选择以哪份问卷为底稿" in admin.text
    assert admin.labels[:2] == [PARENT_FORM.name, OPINION_WEEK_FORM.name]
    await admin.press(OPINION_WEEK_FORM.name)
    assert "请输入新问卷的名称" in admin.text
    await admin.steps(f">{NEW}", "实名", "学期问卷")
    assert f"问卷“{NEW}”（学期问卷，实名），共 5 题：" in admin.text
    assert "1. [满意度] 您对学校的整体工作是否满意?（必答）" in admin.text
    # Delete 2 and 3, move the free text up, add a choice question, change one's wording.
    await admin.steps("删除题目", "2")
    assert "已删除第 2 题。" in admin.text and "共 4 题" in admin.text
    await admin.send("删除第2题")
    assert "共 3 题" in admin.text
    await admin.steps("上移题目", "3")
    assert "第 3 题已上移，现在是第 2 题。" in admin.text
    await admin.steps("添加题目", "选择题", ">孩子每天完成作业大约要多久？")
    assert "请输入选项" in admin.text
    await admin.steps(">半小时以内／半小时到一小时、一小时以上", "否")
    assert "已添加第 4 题。" in admin.text
    assert "4. [选择题] 孩子每天完成作业大约要多久？（选答）选项：半小时以内／" in admin.text
    await admin.steps("修改题目", "1", "修改题目文字", ">您对学校本学期的整体工作是否满意？")
    assert "已修改题目文字。" in admin.text
    await admin.steps("改为选答", "改好了")
    assert "1. [满意度] 您对学校本学期的整体工作是否满意？（选答）" in admin.text
    assert await _named_count(db, NEW) == 0  # nothing written before 保存问卷
    await admin.press("保存问卷")
    assert f"已保存问卷“{NEW}”，共 4 题。" in admin.text
    assert await conversation_of(db, admin) is None
    form = await _named(db, NEW)
    assert (form.purpose, form.anonymous) == (FormPurpose.SEMESTER, False)
    assert form.created_by == school.staff["赵敏"].id and form.template_key is None
    template = await _named(db, OPINION_WEEK_FORM.name)
    assert form.copied_from == template.id
    saved = await _questions(db, form.id)
    assert [(q.position, q.kind, q.prompt, q.required) for q in saved] == [
        (1, QuestionKind.SATISFACTION, "您对学校本学期的整体工作是否满意？", False),
        (2, QuestionKind.TEXT, "您对学校还有什么意见和建议?", False),
        (3, QuestionKind.SATISFACTION, "您对任课教师的教学工作是否满意?", True),
        (4, QuestionKind.CHOICE, "孩子每天完成作业大约要多久？", False),
    ]
    assert saved[3].option_list() == ["半小时以内", "半小时到一小时", "一小时以上"]
    assert saved[0].counts_satisfaction and not saved[1].counts_satisfaction
    # The template the copy came from is as it was.
    assert len(await _questions(db, template.id)) == len(OPINION_WEEK_FORM.questions)


async def _named_count(db: Database, name: str) -> int:
    return len([f for f in await _forms(db) if f.name == name])


async def test_the_new_form_is_offered_when_a_survey_is_sent_and_a_retired_one_is_not(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await _to_edit(admin)
    await admin.press("保存问卷")
    await admin.send("/survey")
    assert NEW in admin.labels
    await admin.send("/cancel")
    await admin.send("/survey new")
    assert NEW in admin.labels  # the school's own forms are bases too
    await admin.press("停用问卷…")
    assert admin.labels == [f"停用“{NEW}”"]  # the built-in forms cannot be retired
    await admin.press(f"停用“{NEW}”")
    assert f"已停用问卷“{NEW}”" in admin.text
    assert (await _named(db, NEW)).archived
    await admin.send("/survey")
    assert NEW not in admin.labels and PARENT_FORM.name in admin.labels
    await admin.send("/cancel")
    await admin.send("/survey new")
    assert NEW not in admin.labels


async def test_an_empty_form_is_refused_and_nothing_is_saved(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await _to_edit(admin)
    for _number in range(5):
        await admin.steps("删除题目", "1")
    assert "（还没有题目）" in admin.text
    await admin.press("保存问卷")
    assert "问卷没有保存：" in admin.text and "问卷至少需要一道题。" in admin.text
    assert await _named_count(db, NEW) == 0
    await admin.press("删除题目")
    assert "问卷还没有题目，请先添加题目。" in admin.text
    await admin.steps("添加题目", "填空", ">还有什么建议？", "是", "保存问卷")
    assert f"已保存问卷“{NEW}”，共 1 题。" in admin.text  # a free-text-only form may be saved
    assert len(await _questions(db, (await _named(db, NEW)).id)) == 1


async def test_a_name_the_school_already_has_is_refused_and_another_asked(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await admin.send("/survey 新建")
    await admin.steps(PARENT_FORM.name, f">{PARENT_FORM.name}")
    assert f"本校已有名为“{PARENT_FORM.name}”的问卷" in admin.text
    assert "请输入新问卷的名称" in admin.text
    await admin.send(">" + "问" * 41)
    assert "最多 40 个字" in admin.text
    await admin.send(NEW)
    assert "这份问卷是匿名还是实名？" in admin.text


async def test_a_name_taken_while_editing_is_refused_at_saving_with_nothing_written(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    # 赵敏 again, on a second account: the same name chosen in two chats at once.
    other = ChatUser(admin.dispatcher, await bind(db, clock, school.staff["赵敏"], external_id="2"))
    await _to_edit(admin)
    await _to_edit(other)
    await other.press("保存问卷")
    await admin.press("保存问卷")
    assert f"本校已有名为“{NEW}”的问卷" in admin.text
    assert await _named_count(db, NEW) == 1
    assert "请选择要做的修改" in admin.text  # still editing, the draft kept


async def test_bad_options_and_prompts_are_refused_with_the_question_asked_again(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await _to_edit(admin)
    await admin.steps("添加题目", "选择题", ">" + "长" * 501)
    assert "最多 500 个字" in admin.text and "请输入题目的文字" in admin.text
    await admin.send("孩子在哪个校区上学？")
    await admin.send("东校区")
    assert "选择题至少需要 2 个选项" in admin.text
    await admin.send("东校区／东校区")
    assert "选项“东校区”重复了" in admin.text
    await admin.send("/".join(f"选项{n}" for n in range(11)))
    assert "选择题最多 10 个选项（现在 11 个）" in admin.text
    await admin.send("东校区\n" + "西" * 31)
    assert "每个选项不超过 30 个字" in admin.text
    await admin.send("东校区\n西校区")
    assert "这道题是否必答？" in admin.text


async def test_a_question_number_that_is_not_there_is_refused(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await _to_edit(admin)
    await admin.send("删除第9题")
    assert "没有第 9 题，问卷共 5 题。" in admin.text
    await admin.steps("上移题目", "1")
    assert "第 1 题已在最前面。" in admin.text
    await admin.press("修改题目")
    await admin.send("9")
    assert "这个选项无效" in admin.text and "要修改第几题？" in admin.text


async def test_a_teacher_is_refused_new_forms_and_their_buttons(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await teacher.send("/survey new")
    assert "问卷调查由德育处和校长发起。" in teacher.text
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await admin.send("/survey new")  # the templates written
    template = await _named(db, PARENT_FORM.name)
    await teacher.callback(f"!sfb:{template.id}")
    assert await conversation_of(db, teacher) is None
    await teacher.callback(f"!sfx:{template.id}")
    assert not (await _named(db, PARENT_FORM.name)).archived
    assert len(await _forms(db)) == 2


async def test_a_forged_button_cannot_retire_a_built_in_form(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await admin.send("/survey new")
    template = await _named(db, PARENT_FORM.name)
    await admin.callback(f"!sfx:{template.id}")
    assert "学校内置的问卷不能停用。" in admin.text
    assert not (await _named(db, PARENT_FORM.name)).archived


async def test_a_school_at_its_limit_of_forms_is_told_to_retire_one(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    for number in range(ACTIVE_FORMS_LIMIT - 2):
        await _to_edit(admin, name=f"问卷{number}")
        await admin.press("保存问卷")
    await _to_edit(admin)
    await admin.press("保存问卷")
    assert f"本校在用的问卷已有 {ACTIVE_FORMS_LIMIT} 份，请先停用不再使用的问卷。" in admin.text
    assert await _named_count(db, NEW) == 0
    await admin.send("/cancel")
    await admin.send("/survey")  # every form in use is offered
    assert [f"问卷{n}" for n in range(ACTIVE_FORMS_LIMIT - 2)] == admin.labels[2:]


async def test_an_idle_edit_is_kept_as_a_draft_and_resumed_with_its_questions(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    admin = await _admin(db, clock, school)
    await _to_edit(admin)
    await admin.steps("删除题目", "1")
    clock.advance(minutes=45)
    await admin.send("/drafts")
    assert "新建问卷" in admin.text
    await admin.press(next(label for label in admin.labels if "继续" in label))
    await admin.press("保存问卷")
    assert f"已保存问卷“{NEW}”，共 4 题。" in admin.text
