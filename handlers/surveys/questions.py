"""Each `/survey` state's question (text and buttons), rebuilt from the draft every time, so
asking again after bad input, 上一步 or a restart shows the same buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import col, select

from handlers.context import Context
from handlers.i18n import N_
from handlers.notice.render import format_moment, grade_name
from handlers.surveys.states import State, SurveyDraft, next_state
from handlers.types import Button, Reply, Transition
from models.school.tables import SchoolClass
from models.surveys.queries import audience_classes, households
from models.surveys.tables import Survey, SurveyForm, SurveyRecipient

# Callback data; the values after a colon are checked again by the steps (never trusted).
FORM = "f:"
AUD_SCHOOL, AUD_GRADES, AUD_CLASSES, AUD_BACK = (
    "aud:school",
    "aud:grades",
    "aud:classes",
    "aud:back",
)
TOGGLE, DONE = "pick:", "done"
SHARE = "s:"
DEADLINE = "d:"
SEND, REDRAW, CANCEL = "send", "redraw", "cancel"

#: The shares offered as buttons (those below the school's minimum are left out).
SHARE_CHOICES = (30, 50, 100)
#: The deadlines offered as buttons, in days from today.
DEADLINE_CHOICES: tuple[tuple[int, str], ...] = ((3, N_("3天")), (7, N_("1周")), (14, N_("2周")))
#: A deadline typed or chosen as a day ends then.
DEADLINE_TIME = time(23, 59)
#: The furthest a deadline may be.
DEADLINE_LIMIT = timedelta(days=183)
#: Forms offered at most.
FORMS_SHOWN = 10

Question = tuple[str, list[list[Button]]]


def rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


async def forms_of(ctx: Context) -> list[SurveyForm]:
    """The school's forms that may be sent (not archived), in the order made."""

    async def read() -> list[SurveyForm]:
        query = (
            select(SurveyForm)
            .where(SurveyForm.school_id == ctx.school.id, col(SurveyForm.archived).is_(False))
            .order_by(col(SurveyForm.id))
            .limit(FORMS_SHOWN)
        )
        return list((await ctx.session.exec(query)).all())

    return await ctx.cached(("survey_forms", ctx.school.id), read)


async def classes_of(ctx: Context) -> list[SchoolClass]:
    async def read() -> list[SchoolClass]:
        query = (
            select(SchoolClass)
            .where(SchoolClass.school_id == ctx.school.id)
            .order_by(col(SchoolClass.grade), col(SchoolClass.number))
        )
        return list((await ctx.session.exec(query)).all())

    return await ctx.cached(("survey_classes", ctx.school.id), read)


async def form_of(ctx: Context, form_id: int | None) -> SurveyForm | None:
    """One of the forms offered (a forged id gives None)."""
    return next((f for f in await forms_of(ctx) if f.id == form_id), None)


def share_choices(ctx: Context) -> list[int]:
    minimum = ctx.rules.survey_min_share
    offered = [share for share in SHARE_CHOICES if share >= minimum]
    return offered if minimum in offered else [minimum, *offered]


def deadline_of(ctx: Context, days: int) -> datetime:
    return datetime.combine(ctx.today + timedelta(days=days), DEADLINE_TIME, tzinfo=ctx.zone)


@dataclass(frozen=True)
class ClassLine:
    name: str
    drawn: int
    households: int


async def drawn_lines(ctx: Context, survey: Survey) -> list[ClassLine]:
    """Per class of the audience: the families drawn (through any of their children) / the
    families, as saved."""
    class_ids = await audience_classes(
        ctx.session, survey.school_id, survey.audience, survey.audience_id_list()
    )
    query = select(SurveyRecipient.household).where(SurveyRecipient.survey_id == survey.id)
    drawn = set((await ctx.session.exec(query)).all())
    found = await households(ctx.session, survey.school_id)
    names = {k.id: k.name for k in await classes_of(ctx)}
    lines = []
    for class_id in class_ids:
        members = [h for h in found if class_id in h.class_ids()]
        picked = sum(1 for h in members if h.key in drawn)
        lines.append(ClassLine(names.get(class_id, str(class_id)), picked, len(members)))
    return lines


async def draw_text(ctx: Context, survey: Survey, form: SurveyForm) -> str:
    _ = ctx.t._
    lines = [
        _("抽样结果：{form}（每班至少 {share}%，{deadline} 截止）").format(
            form=form.name,
            share=survey.share,
            deadline=format_moment(ctx.t, survey.deadline, ctx.zone),
        )
    ]
    lines += [
        f"{line.name} {line.drawn}/{line.households}" for line in await drawn_lines(ctx, survey)
    ]
    query = select(SurveyRecipient.id).where(SurveyRecipient.survey_id == survey.id)
    total = len((await ctx.session.exec(query)).all())
    lines.append(_("共抽到 {count} 户家庭（有多个孩子在读的家庭只问一次）。").format(count=total))
    return "\n".join(lines)


# -- the questions ------------------------------------------------------------------------------


async def _form(draft: SurveyDraft, ctx: Context) -> Question:
    buttons = [Button(f.name, f"{FORM}{f.id}") for f in await forms_of(ctx)]
    return ctx.t._("请选择要发出的问卷："), rows(buttons, 1)


async def _audience(draft: SurveyDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [
        Button(_("全校"), AUD_SCHOOL),
        Button(_("按年级"), AUD_GRADES),
        Button(_("按班级"), AUD_CLASSES),
    ]
    return _("向哪些班级的家庭抽样？"), [buttons]


def _back(ctx: Context) -> Button:
    return Button(ctx.t._("重选范围"), AUD_BACK)


async def _grades(draft: SurveyDraft, ctx: Context) -> Question:
    _ = ctx.t._
    grades = sorted({k.grade for k in await classes_of(ctx)})
    buttons = [
        Button(("✓ " if g in draft.audience_ids else "") + grade_name(ctx.t, g), f"{TOGGLE}{g}")
        for g in grades
    ]
    text = _("请选择年级（可多选，再点一次取消），选好后点“完成”：")
    return text, [*rows(buttons, 3), [Button(_("完成"), DONE), _back(ctx)]]


async def _classes(draft: SurveyDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [
        Button(("✓ " if k.id in draft.audience_ids else "") + k.name, f"{TOGGLE}{k.id}")
        for k in await classes_of(ctx)
    ]
    text = _("请选择班级（可多选，再点一次取消），选好后点“完成”：")
    return text, [*rows(buttons, 3), [Button(_("完成"), DONE), _back(ctx)]]


async def _share(draft: SurveyDraft, ctx: Context) -> Question:
    buttons = [Button(f"{share}%", f"{SHARE}{share}") for share in share_choices(ctx)]
    text = ctx.t._("每个班抽取多少比例的家庭？请点选，或输入 {minimum} 到 100 之间的数字：").format(
        minimum=ctx.rules.survey_min_share
    )
    return text, [buttons]


async def _deadline(draft: SurveyDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(label), f"{DEADLINE}{days}") for days, label in DEADLINE_CHOICES]
    return _("家长在什么时候之前填写？请点选，或输入日期（例如 11月30日）："), [buttons]


async def _draw(draft: SurveyDraft, ctx: Context) -> Question:
    _ = ctx.t._
    survey = await ctx.session.get(Survey, draft.survey_id) if draft.survey_id else None
    form = await form_of(ctx, draft.form_id)
    if survey is None or form is None or survey.school_id != ctx.school.id:
        return _("这次抽样已不存在，请重新发送 /survey。"), []
    buttons = [Button(_("发送"), SEND), Button(_("重新抽样"), REDRAW), Button(_("取消"), CANCEL)]
    return await draw_text(ctx, survey, form), [buttons]


_QUESTIONS: dict[State, Callable[[SurveyDraft, Context], Awaitable[Question]]] = {
    State.FORM: _form,
    State.AUDIENCE: _audience,
    State.GRADES: _grades,
    State.CLASSES: _classes,
    State.SHARE: _share,
    State.DEADLINE: _deadline,
    State.DRAW: _draw,
}


async def question(state: State, draft: SurveyDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


async def ask(state: State, draft: SurveyDraft, ctx: Context, *notes: str) -> Transition:
    return Transition.to(state, await question(state, draft, ctx, *notes))


async def proceed(draft: SurveyDraft, ctx: Context, *notes: str) -> Transition:
    return await ask(next_state(draft), draft, ctx, *notes)
