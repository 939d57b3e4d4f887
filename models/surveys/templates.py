"""The built-in survey forms, as data, and copying a form for a school to edit.

Two templates: the parent form of seed 003 (附2, 大走访活动情况调查和征求意见表), its eight
questions worded as the seed words them, anonymous; and a short opinion-week 民意访问周
satisfaction form. The opinion-week form is named, not anonymous: the seed has the responsible
teacher visit the families whose satisfaction is low (对满意度低的学生家庭……要重点走访), which
needs to know who they are. A school changes either by copying it (`copy_form`) and editing the
copy; the templates themselves stay as written.

The seed's yes/no questions are asked as 有/没有; they are stored with the yes/no values 是/否
(`models.surveys.tables.YES_NO_VALUES`), a 是 being the problem. The seed's satisfaction
questions offer 满意/不满意; the template adds 基本满意 between them, as the school's other
satisfaction questions do. Prompts are the school's content (like a notice's text) and are shown
as written, not translated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db.columns import utcnow
from models.surveys.errors import SurveyRefused
from models.surveys.tables import FormPurpose, QuestionKind, SurveyForm, SurveyQuestion
from models.text import N_


@dataclass(frozen=True)
class TemplateQuestion:
    kind: QuestionKind
    prompt: str
    required: bool = True
    misconduct: bool = False
    counts_satisfaction: bool = False
    options: str = ""


@dataclass(frozen=True)
class Template:
    #: Stored as `SurveyForm.template_key`: a school has each template once.
    key: str
    name: str
    purpose: FormPurpose
    anonymous: bool
    questions: tuple[TemplateQuestion, ...]


def _misconduct(prompt: str) -> TemplateQuestion:
    return TemplateQuestion(QuestionKind.YES_NO, prompt, misconduct=True)


def _satisfaction(prompt: str) -> TemplateQuestion:
    return TemplateQuestion(QuestionKind.SATISFACTION, prompt, counts_satisfaction=True)


def _free_text(prompt: str) -> TemplateQuestion:
    return TemplateQuestion(QuestionKind.TEXT, prompt, required=False)


#: Seed 003 附2: 大走访活动情况调查和征求意见表, questions 1–8 as the seed words them.
PARENT_FORM = Template(
    key="seed003_parent",
    name="家长问卷（情况调查和征求意见表）",
    purpose=FormPurpose.SEMESTER,
    anonymous=True,
    questions=(
        _misconduct("教师有没有体罚或变相体罚、辱骂学生、歧视差生、令学生身心受损的现象。"),
        _satisfaction("你对教师给学生布置的家庭作业份量是否满意。"),
        _satisfaction("你对教师给学生作业的批改是否满意。"),
        _misconduct("教师是否有举办有偿家教或违规补课现象。"),
        _misconduct("教师有无不按时上课、拖堂或随意调课、旷课现象。"),
        _misconduct("教师是否有乱买资料、乱收费现象?"),
        _satisfaction("你对学校保护学生安全方面的工作满意还是不满意?"),
        _free_text("您对学校整体工作、班主任管理工作、任课教师教学工作的意见建议。"),
    ),
)

#: 民意访问周 (seed 003 §二.2): the last week of every month, a short satisfaction survey.
OPINION_WEEK_FORM = Template(
    key="opinion_week",
    name="民意访问周满意度调查",
    purpose=FormPurpose.OPINION_WEEK,
    anonymous=False,
    questions=(
        _satisfaction("您对学校的整体工作是否满意?"),
        _satisfaction("您对班主任与家长的沟通是否满意?"),
        _satisfaction("您对学校保护学生安全方面的工作是否满意?"),
        _satisfaction("您对任课教师的教学工作是否满意?"),
        _free_text("您对学校还有什么意见和建议?"),
    ),
)

TEMPLATES: tuple[Template, ...] = (PARENT_FORM, OPINION_WEEK_FORM)


def _questions(
    form: SurveyForm, questions: Sequence[TemplateQuestion | SurveyQuestion]
) -> list[SurveyQuestion]:
    assert form.id is not None
    return [
        SurveyQuestion(
            school_id=form.school_id,
            form_id=form.id,
            position=position,
            kind=question.kind,
            prompt=question.prompt,
            options=question.options,
            required=question.required,
            misconduct=question.misconduct,
            counts_satisfaction=question.counts_satisfaction,
        )
        for position, question in enumerate(questions, start=1)
    ]


async def ensure_templates(
    session: AsyncSession, school_id: int, *, now: datetime | None = None
) -> list[SurveyForm]:
    """The school's built-in forms, in `TEMPLATES` order, writing those it does not have yet (a
    second call adds nothing)."""
    found = await session.exec(
        select(SurveyForm).where(
            SurveyForm.school_id == school_id, col(SurveyForm.template_key).is_not(None)
        )
    )
    have = {form.template_key: form for form in found.all()}
    forms: list[SurveyForm] = []
    for template in TEMPLATES:
        form = have.get(template.key)
        if form is None:
            form = SurveyForm(
                school_id=school_id,
                name=template.name,
                purpose=template.purpose,
                anonymous=template.anonymous,
                created_at=now or utcnow(),
                template_key=template.key,
            )
            session.add(form)
            await session.flush()
            session.add_all(_questions(form, template.questions))
            await session.flush()
        forms.append(form)
    return forms


async def questions_of(session: AsyncSession, form_id: int) -> list[SurveyQuestion]:
    """A form's questions in the order asked."""
    query = (
        select(SurveyQuestion)
        .where(SurveyQuestion.form_id == form_id)
        .order_by(col(SurveyQuestion.position))
    )
    return list((await session.exec(query)).all())


async def copy_form(
    session: AsyncSession, form_id: int, *, by: int, name: str, now: datetime | None = None
) -> SurveyForm:
    """A copy of the form and its questions, made by staff member `by`, for the school to edit;
    the original is left as it is."""
    original = await session.get(SurveyForm, form_id)
    if original is None:
        raise SurveyRefused(N_("找不到这份问卷。"))
    name = name.strip()
    if not name:
        raise SurveyRefused(N_("请给问卷起个名字。"))
    copy = SurveyForm(
        school_id=original.school_id,
        name=name[:100],
        purpose=original.purpose,
        anonymous=original.anonymous,
        copied_from=form_id,
        created_by=by,
        created_at=now or utcnow(),
    )
    session.add(copy)
    await session.flush()
    session.add_all(_questions(copy, await questions_of(session, form_id)))
    await session.flush()
    return copy
