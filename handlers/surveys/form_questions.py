"""Each `/survey new` state's question (text and buttons), rebuilt from the draft every time, so
asking again after bad input, 上一步 or a restart shows the same buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import Context
from handlers.i18n import Translator
from handlers.surveys.form_states import FormDraft, QuestionDraft, State
from handlers.types import Button, Reply, Transition
from models.surveys.forms import NAME_LIMIT, OPTION_LIMIT, OPTIONS_MAX, OPTIONS_MIN
from models.surveys.tables import KIND_LABELS, PROMPT_LIMIT, PURPOSE_LABELS, QuestionKind

# Callback data; what follows a colon is checked again by the steps (never trusted).
ANONYMOUS, NAMED = "anon", "named"
PURPOSE = "p:"
ADD, CHANGE, DELETE, UP, SAVE = "add", "change", "delete", "up", "save"
KIND = "k:"
YES, NO = "yes", "no"
NUMBER = "n:"
BACK = "back"
WORDING, TOGGLE, OPTIONS = "wording", "toggle", "options"
#: A prompt is cut to this many characters in the list of questions.
SHOWN = 40

Question = tuple[str, list[list[Button]]]


def rows(buttons: list[Button], width: int) -> list[list[Button]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _short(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def question_line(t: Translator, number: int, question: QuestionDraft, *, full: bool) -> str:
    """`3. [选择题] 孩子每天几点睡？（必答）选项：9点前／9点后`."""
    mark = t._("必答") if question.required else t._("选答")
    prompt = question.prompt if full else _short(question.prompt)
    line = f"{number}. [{t._(KIND_LABELS[question.kind])}] {prompt}（{mark}）"
    if question.kind is QuestionKind.CHOICE:
        line += t._("选项：{options}").format(options="／".join(question.options))
    return line


def form_text(t: Translator, draft: FormDraft) -> str:
    """The form as it stands: its name, kind and questions."""
    lines = [
        t._("问卷“{name}”（{purpose}，{anonymous}），共 {count} 题：").format(
            name=draft.name or "",
            purpose=t._(PURPOSE_LABELS[draft.purpose]) if draft.purpose else "",
            anonymous=t._("匿名") if draft.anonymous else t._("实名"),
            count=len(draft.questions),
        )
    ]
    lines += [
        question_line(t, number, question, full=False)
        for number, question in enumerate(draft.questions, start=1)
    ]
    if not draft.questions:
        lines.append(t._("（还没有题目）"))
    return "\n".join(lines)


async def _name(draft: FormDraft, ctx: Context) -> Question:
    text = ctx.t._("以“{base}”为底稿新建问卷。请输入新问卷的名称（不超过 {limit} 个字）：")
    return text.format(base=draft.base_name, limit=NAME_LIMIT), []


async def _anonymous(draft: FormDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = _("匿名问卷：学校看不到哪个家庭填写了什么；实名问卷：满意度低的家庭会安排重点家访。")
    text += "\n" + _("这份问卷是匿名还是实名？")
    return text, [[Button(_("匿名"), ANONYMOUS), Button(_("实名"), NAMED)]]


async def _purpose(draft: FormDraft, ctx: Context) -> Question:
    buttons = [Button(ctx.t._(label), f"{PURPOSE}{p.value}") for p, label in PURPOSE_LABELS.items()]
    return ctx.t._("这份问卷用于："), [buttons]


async def _edit(draft: FormDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = form_text(ctx.t, draft)
    text += "\n" + _("请选择要做的修改，改好后点“保存问卷”（保存之前不会写入任何内容）：")
    buttons = [
        [Button(_("添加题目"), ADD), Button(_("修改题目"), CHANGE)],
        [Button(_("删除题目"), DELETE), Button(_("上移题目"), UP)],
        [Button(_("保存问卷"), SAVE)],
    ]
    return text, buttons


async def _kind(draft: FormDraft, ctx: Context) -> Question:
    _ = ctx.t._
    buttons = [Button(_(label), f"{KIND}{kind.value}") for kind, label in KIND_LABELS.items()]
    text = _("新题目是什么题型？是否题答“是／否”，满意度题答“满意／基本满意／不满意”。")
    return text, [buttons, [Button(_("返回"), BACK)]]


async def _prompt(draft: FormDraft, ctx: Context) -> Question:
    question = draft.edited()
    text = ctx.t._("请输入题目的文字（不超过 {limit} 个字）：").format(limit=PROMPT_LIMIT)
    if draft.adding is None and question is not None:
        text = ctx.t._("现在的题目：{prompt}").format(prompt=question.prompt) + "\n" + text
    return text, []


async def _options(draft: FormDraft, ctx: Context) -> Question:
    text = ctx.t._(
        "请输入选项，每行一个，或用／、分开（{minimum} 到 {maximum} 个，每个不超过 {limit} 个字）："
    ).format(minimum=OPTIONS_MIN, maximum=OPTIONS_MAX, limit=OPTION_LIMIT)
    question = draft.edited()
    if draft.adding is None and question is not None:
        now = ctx.t._("现在的选项：{options}").format(options="／".join(question.options))
        text = now + "\n" + text
    return text, []


async def _required(draft: FormDraft, ctx: Context) -> Question:
    _ = ctx.t._
    return _("这道题是否必答？"), [[Button(_("是"), YES), Button(_("否"), NO)]]


async def _pick(draft: FormDraft, ctx: Context) -> Question:
    _ = ctx.t._
    text = {
        "change": _("要修改第几题？"),
        "delete": _("要删除第几题？"),
        "up": _("要把第几题上移一位？"),
    }.get(draft.picking or "", _("第几题？"))
    lines = [text] + [
        question_line(ctx.t, number, question, full=False)
        for number, question in enumerate(draft.questions, start=1)
    ]
    numbers = [Button(str(n), f"{NUMBER}{n}") for n in range(1, len(draft.questions) + 1)]
    return "\n".join(lines), [*rows(numbers, 6), [Button(_("返回"), BACK)]]


async def _change(draft: FormDraft, ctx: Context) -> Question:
    _ = ctx.t._
    question = draft.edited()
    if question is None or draft.target is None:
        return _("这道题已不在问卷里。"), [[Button(_("返回"), BACK)]]
    text = _("第 {number} 题：").format(number=draft.target + 1)
    text += "\n" + question_line(ctx.t, draft.target + 1, question, full=True)
    text += "\n" + _("要改什么？")
    toggle = _("改为选答") if question.required else _("改为必答")
    buttons = [Button(_("修改题目文字"), WORDING), Button(toggle, TOGGLE)]
    if question.kind is QuestionKind.CHOICE:
        buttons.append(Button(_("修改选项"), OPTIONS))
    return text, [buttons, [Button(_("改好了"), BACK)]]


_QUESTIONS: dict[State, Callable[[FormDraft, Context], Awaitable[Question]]] = {
    State.NAME: _name,
    State.ANONYMOUS: _anonymous,
    State.PURPOSE: _purpose,
    State.EDIT: _edit,
    State.KIND: _kind,
    State.PROMPT: _prompt,
    State.OPTIONS: _options,
    State.REQUIRED: _required,
    State.PICK: _pick,
    State.CHANGE: _change,
}


async def question(state: State, draft: FormDraft, ctx: Context, *notes: str) -> Reply:
    text, buttons = await _QUESTIONS[state](draft, ctx)
    return Reply.with_buttons("\n".join([*notes, text]), buttons)


async def ask(state: State, draft: FormDraft, ctx: Context, *notes: str) -> Transition:
    return Transition.to(state, await question(state, draft, ctx, *notes))
