"""A family answering a survey in the chat (Telegram, the console): one question a message.

Begun by the invitation's 填写问卷 button (`!svs:<survey id>`, `open_survey`) or by `/answer`,
which opens the guardian's one open survey at once or offers a button for each. 是 / 否, the
satisfaction words and a choice's options are buttons (callback data carries the question's id
and the option's place, never the text); a free-text question takes the message typed; an
optional question offers 跳过. Every answer is saved as it comes (`save_answer`: one row per
family and question, so a redelivered or double-pressed answer is stored once), so the family
may stop at any time and continue later from the first unanswered question. After the last one,
a summary with 提交 (sets `submitted_at`) and 修改某题; until the deadline, opening the survey
again shows the summary with the saved answers, and any answer may be changed. The conversation
queues nothing for staff: answering names the family to nobody.
"""

from __future__ import annotations

from handlers.actions import Action, action_button
from handlers.context import Context
from handlers.flow import DraftLabel, Flow, is_guardian, with_typed_labels
from handlers.hints import button_note, too_long
from handlers.i18n import N_, Translator
from handlers.notice.converse import begin
from handlers.surveys.answer_sheet import (
    Sheet,
    SheetClosed,
    SheetNotFound,
    answer_label,
    checked_value,
    closed_text,
    intro_lines,
    open_sheet,
    option_label,
    reopen_sheet,
)
from handlers.surveys.answer_states import AnswerDraft, State
from handlers.surveys.submitting import submit_sheet
from handlers.types import Button, Inbound, Reply, Transition
from models.surveys.queries import (
    SKIPPED,
    missing_required,
    open_surveys_of,
    save_answer,
)
from models.surveys.tables import ANSWER_LIMIT, QuestionKind, SurveyQuestion

FLOW = "answer"
#: The invitation's button: `!svs:<survey id>`.
ACTION = "svs"
# Callback data.
OPTION, SKIP, PICK = "opt:", "skip:", "q:"
SUBMIT, CHANGE, BACK = "submit", "change", "back"


def _not_found(ctx: Context) -> Reply:
    return Reply(ctx.t._("没有找到发给您家的这份问卷。请使用学校发来的问卷消息里的按钮。"))


async def _reread(draft: AnswerDraft, ctx: Context) -> Sheet | Reply:
    """The sheet again, or why it cannot be answered any more."""
    try:
        return await reopen_sheet(ctx.session, recipient_id=draft.recipient_id, now=ctx.now)
    except SheetNotFound:
        return _not_found(ctx)
    except SheetClosed as closed:
        return Reply(closed_text(ctx.t, closed.survey, ctx.zone))


# -- the questions ----------------------------------------------------------------------------


def _question_reply(sheet: Sheet, question: SurveyQuestion, t: Translator, *notes: str) -> Reply:
    _ = t._
    head = _("第 {n}/{total} 题").format(n=sheet.number(question), total=len(sheet.questions))
    if not question.required:
        head += _("（选填）")
    lines = [*notes, f"{head}：{question.prompt}"]
    saved = sheet.value(question)
    if saved is not None:
        lines.append(_("已保存的回答：{answer}").format(answer=answer_label(t, question, saved)))
    qid = question.id or 0
    buttons = [
        Button(option_label(t, question, value), f"{OPTION}{qid}:{i}")
        for i, value in enumerate(question.option_list())
    ]
    if question.kind is QuestionKind.TEXT:
        lines.append(_("请直接输入文字回答（最多 {limit} 字）。").format(limit=ANSWER_LIMIT))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    if not question.required:
        rows.append([Button(_("跳过"), f"{SKIP}{qid}")])
    return Reply.with_buttons("\n".join(lines), rows)


def _summary_reply(sheet: Sheet, t: Translator, *notes: str) -> Reply:
    _ = t._
    lines = [*notes, _("您的回答（{name}）：").format(name=sheet.form.name)]
    for question in sheet.questions:
        lines.append(f"{sheet.number(question)}. {question.prompt}")
        lines.append("   " + answer_label(t, question, sheet.value(question)))
    if sheet.recipient.submitted_at is not None:
        lines.append(_("您已提交。截止前仍可修改，修改会立即保存。"))
        done = Button(_("完成"), SUBMIT)
    else:
        lines.append(_("请核对后点“提交”。"))
        done = Button(_("提交"), SUBMIT)
    return Reply.with_buttons("\n".join(lines), [[done, Button(_("修改某题"), CHANGE)]])


def _pick_reply(sheet: Sheet, t: Translator, *notes: str) -> Reply:
    _ = t._
    buttons = [
        Button(_("第 {n} 题").format(n=sheet.number(q)), f"{PICK}{q.id}") for q in sheet.questions
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    rows.append([Button(_("返回"), BACK)])
    return Reply.with_buttons("\n".join([*notes, _("要修改第几题？")]), rows)


def _ask(sheet: Sheet, draft: AnswerDraft, ctx: Context, *notes: str) -> Transition:
    """The question of `draft.question_id`."""
    question = sheet.question(draft.question_id)
    if question is None:
        return _summary(sheet, draft, ctx, *notes)
    return Transition.to(State.QUESTION, _question_reply(sheet, question, ctx.t, *notes))


def _summary(sheet: Sheet, draft: AnswerDraft, ctx: Context, *notes: str) -> Transition:
    draft.changing, draft.question_id = False, 0
    return Transition.to(State.SUMMARY, _summary_reply(sheet, ctx.t, *notes))


def _proceed(sheet: Sheet, draft: AnswerDraft, ctx: Context, *notes: str) -> Transition:
    """The first unanswered question, or the summary when none is left."""
    following = sheet.first_unanswered()
    if following is None:
        return _summary(sheet, draft, ctx, *notes)
    draft.question_id = following.id or 0
    return _ask(sheet, draft, ctx, *notes)


async def question(state: str, draft: AnswerDraft, ctx: Context) -> Reply:
    """Any state's question, rebuilt from the database (for typed button labels)."""
    sheet = await _reread(draft, ctx)
    if isinstance(sheet, Reply):
        return sheet
    if state == State.PICK:
        return _pick_reply(sheet, ctx.t)
    found = sheet.question(draft.question_id)
    if state == State.QUESTION and found is not None:
        return _question_reply(sheet, found, ctx.t)
    return _summary_reply(sheet, ctx.t)


# -- opening ----------------------------------------------------------------------------------


async def _opening(draft: AnswerDraft, ctx: Context) -> Transition:
    """Open the family's sheet of `draft.survey_id`: its first unanswered question, or the
    summary; one reply (the begin of an action asks one)."""
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        return Transition.end(_not_found(ctx))
    try:
        sheet = await open_sheet(
            ctx.session,
            school_id=ctx.school.id or 0,
            survey_id=draft.survey_id,
            guardian_id=guardian.id,
            now=ctx.now,
        )
    except SheetNotFound:
        return Transition.end(_not_found(ctx))
    except SheetClosed as closed:
        return Transition.end(Reply(closed_text(ctx.t, closed.survey, ctx.zone)))
    _ = ctx.t._
    draft.recipient_id = sheet.recipient.id or 0
    notes = intro_lines(ctx.t, sheet, ctx.zone)
    following = sheet.first_unanswered()
    if sheet.recipient.submitted_at is None and following is not None:
        if sheet.answers:
            notes.append(
                _("您之前的回答已保存，从第 {n} 题继续。").format(n=sheet.number(following))
            )
        else:
            notes.append(_("每答一题都会自动保存；可以随时停下，之后发送 /answer 继续。"))
    return _proceed(sheet, draft, ctx, *notes)


async def open_survey(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """`!svs:<survey id>`: the invitation's 填写问卷."""
    draft = AnswerDraft(survey_id=int(argument))
    opened = await _opening(draft, ctx)
    if opened.next_state is None:
        return list(opened.replies)
    [reply] = opened.replies
    return await begin(inbound, ctx, flow=FLOW, state=opened.next_state, draft=draft, reply=reply)


async def start(inbound: Inbound, draft: AnswerDraft, ctx: Context, args: str) -> Transition:
    """`/answer`: the guardian's one open survey at once, or a button for each."""
    guardian = ctx.guardian
    assert guardian is not None and guardian.id is not None
    found = await open_surveys_of(ctx.session, ctx.school.id or 0, guardian.id, ctx.now)
    _ = ctx.t._
    if not found:
        return Transition.end(Reply(_("目前没有需要您填写的问卷。")))
    if len(found) == 1:
        draft.survey_id = found[0].id or 0
        return await _opening(draft, ctx)
    buttons = [
        [action_button(_("第 {n} 份问卷").format(n=n), ACTION, survey.id or 0)]
        for n, survey in enumerate(found, start=1)
    ]
    return Transition.end(Reply.with_buttons(_("有几份问卷等您填写，请选择："), buttons))


# -- the steps --------------------------------------------------------------------------------


def _callback_question(data: str | None, prefix: str) -> tuple[int, str] | None:
    """`opt:12:3` → (12, "3"); `skip:12` → (12, "")."""
    if data is None or not data.startswith(prefix):
        return None
    head, _sep, rest = data[len(prefix) :].partition(":")
    return (int(head), rest) if head.isascii() and head.isdigit() else None


def _read_answer(inbound: Inbound, question: SurveyQuestion) -> str | None:
    """The value to store, or None when the message answers nothing."""
    qid = question.id or 0
    options = question.option_list()
    picked = _callback_question(inbound.callback, OPTION)
    if picked is not None and picked[0] == qid and picked[1].isdigit():
        index = int(picked[1])
        return options[index] if index < len(options) else None
    skipped = _callback_question(inbound.callback, SKIP)
    if skipped is not None and skipped[0] == qid and not question.required:
        return SKIPPED
    if inbound.callback is None and question.kind is QuestionKind.TEXT and inbound.text:
        return checked_value(question, inbound.text)
    return None


async def answer(inbound: Inbound, draft: AnswerDraft, ctx: Context) -> Transition:
    sheet = await _reread(draft, ctx)
    if isinstance(sheet, Reply):
        return Transition.end(sheet)
    found = sheet.question(draft.question_id)
    if found is None:
        return _proceed(sheet, draft, ctx)
    value = _read_answer(inbound, found)
    if value is None:
        text = (inbound.text or "").strip()
        if found.kind is not QuestionKind.TEXT:
            note = button_note(inbound, ctx)
        elif len(text) > ANSWER_LIMIT:
            note = too_long(ctx, ANSWER_LIMIT, len(text))
        else:
            note = ctx.t._("请用文字回答这一题。")
        return _ask(sheet, draft, ctx, note)
    saved = await save_answer(
        ctx.session, sheet.recipient, found, value, anonymous=sheet.form.anonymous, now=ctx.now
    )
    sheet.answers[found.id or 0] = saved
    if draft.changing:
        return _summary(sheet, draft, ctx, ctx.t._("已保存修改。"))
    return _proceed(sheet, draft, ctx)


async def summary(inbound: Inbound, draft: AnswerDraft, ctx: Context) -> Transition:
    sheet = await _reread(draft, ctx)
    if isinstance(sheet, Reply):
        return Transition.end(sheet)
    _ = ctx.t._
    if inbound.callback == CHANGE:
        return Transition.to(State.PICK, _pick_reply(sheet, ctx.t))
    if inbound.callback != SUBMIT:
        return _summary(sheet, draft, ctx, button_note(inbound, ctx))
    missing = missing_required(sheet.questions, sheet.answers)
    if missing:
        draft.question_id, draft.changing = missing[0].id or 0, False
        return _ask(sheet, draft, ctx, _("这一题必须回答，请先回答。"))
    again = sheet.recipient.submitted_at is not None
    ctx.queued += await submit_sheet(
        ctx.session,
        sheet.recipient,
        school_id=ctx.school.id or 0,
        now=ctx.now,
        zone=ctx.zone,
        rules=ctx.rules,
    )
    if again:
        return Transition.end(Reply(_("好的，您的回答已保存。谢谢！")))
    return Transition.end(Reply(_("问卷已提交，谢谢您的参与！截止前如需修改，发送 /answer 即可。")))


async def pick(inbound: Inbound, draft: AnswerDraft, ctx: Context) -> Transition:
    sheet = await _reread(draft, ctx)
    if isinstance(sheet, Reply):
        return Transition.end(sheet)
    if inbound.callback == BACK:
        return _summary(sheet, draft, ctx)
    chosen = _callback_question(inbound.callback, PICK)
    found = sheet.question(chosen[0]) if chosen is not None else None
    if found is None:
        return Transition.to(State.PICK, _pick_reply(sheet, ctx.t, button_note(inbound, ctx)))
    draft.question_id, draft.changing = found.id or 0, True
    return _ask(sheet, draft, ctx)


async def describe_draft(draft: object, session: object, t: Translator) -> DraftLabel:
    return DraftLabel(t._("填写问卷"))


STEPS = {State.QUESTION: answer, State.SUMMARY: summary, State.PICK: pick}

ANSWER_FLOW = Flow(
    name=FLOW,
    draft_type=AnswerDraft,
    steps=with_typed_labels(STEPS, question),
    start=start,
    commands=("answer", "填写问卷"),
    allowed=is_guardian,
    refusal=N_("填写问卷只对家长开放。"),
    describe=N_("填写学校发来的问卷（每题回答都会自动保存）"),
    describe_draft=describe_draft,
    draft_noun=N_("问卷"),
    cancelled=N_("已暂停填写。已回答的题目都已保存，发送 /answer 可以接着填写。"),
)

ANSWER_ACTIONS = [Action(ACTION, open_survey)]
