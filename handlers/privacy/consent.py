"""A guardian's consent, asked before anything else a guardian can do (PIPL: their child is under
14; see `models.privacy.consent` for the wording and its version).

The dispatcher calls `hold` for every update of a bound guardian (after `/start`, `/lang` and a
shared contact, which come first). Without a consent row for `CONSENT_VERSION`, the update goes
no further: a press of 同意 (the button, or the word typed) records the consent; anything else
— a command, free text, a notice's 确认收到, a conversation's answer — gets the consent question
instead. What it would have done is not lost: the conversation in progress, if any, is left as it
was, and goes on once the guardian has agreed.

The question is no stored conversation: a guardian without consent is in its one state (`asked`)
by definition, so it never times out, is never parked as a draft, and a changed version puts
everyone back in it at once. Its 同意 button is an action button carrying the version's digits,
so a button of an older wording asks again instead of agreeing to words not shown.

**Urgent incidents.** The school must reach a family about an urgent incident whether or not they
have agreed yet, so the incident message is delivered regardless (it is the school's duty, not a
feature of the guardian's). Its 已知悉 (button `inc-ack`, or the word typed) also works without
consent: it only confirms that the urgent message was received — it shows the guardian nothing
new about their child and records only the time of the acknowledgement — and holding it back
would make the school phone a family that has already read the message. Everything else waits.

`/consent` shows the wording again, with when the guardian agreed.
"""

from __future__ import annotations

from pydantic import BaseModel

from handlers.actions import Action, action_button
from handlers.context import Context
from handlers.flow import Flow, is_guardian
from handlers.i18n import N_, Translator
from handlers.types import Inbound, Reply, Transition
from models.privacy.consent import (
    AGREE_WORD,
    CONSENT_PARAGRAPHS,
    CONSENT_TITLE,
    CONSENT_VERSION,
    consent_of,
    has_consented,
    record_consent,
    version_number,
    wording_values,
)
from models.school.rules import SchoolRules

CONSENT_FLOW = "consent"
#: The one state: a guardian without consent for the current version is in it.
ASKED = "asked"
#: The 同意 button's action.
AGREE = "consent"

#: Buttons that work without consent (see the module doc: 已知悉 on an urgent incident).
WITHOUT_CONSENT_BUTTONS = frozenset({"inc-ack"})
#: Commands that work without consent: 已知悉 typed (`handlers.incident.typed`).
WITHOUT_CONSENT_COMMANDS = frozenset({"incident_ack"})


class ConsentDraft(BaseModel):
    """The question keeps nothing between messages."""


def wording_lines(t: Translator, school_name: str, rules: SchoolRules) -> list[str]:
    """The consent text's title and paragraphs, translated, with the school's name and
    retention (the receipt page shows them too)."""
    values = wording_values(school_name, rules)
    lines = [t._(CONSENT_TITLE).format(**values)]
    lines += [t._(paragraph).format(**values) for paragraph in CONSENT_PARAGRAPHS]
    return lines


def wording(t: Translator, school_name: str, rules: SchoolRules) -> str:
    """The consent text as one message."""
    return "\n".join(wording_lines(t, school_name, rules))


def question(ctx: Context) -> Reply:
    button = action_button(ctx.t._(AGREE_WORD), AGREE, version_number())
    return Reply.with_buttons(wording(ctx.t, ctx.school.name, ctx.rules), [[button]])


async def given(ctx: Context) -> bool:
    """Whether the guardian has agreed to the current wording (read once per update)."""
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        return True
    guardian_id = guardian.id

    async def read() -> bool:
        return await has_consented(session=ctx.session, guardian_id=guardian_id)

    return await ctx.cached(("consent", guardian_id, CONSENT_VERSION), read)


def _is_agreement(inbound: Inbound) -> bool:
    if inbound.callback is not None:
        return inbound.callback == action_button("", AGREE, version_number()).data
    return (inbound.text or "").strip() == AGREE_WORD


async def agree(inbound: Inbound, ctx: Context) -> list[Reply]:
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        return [Reply(ctx.t._("这个按钮不适用于您。"))]
    await record_consent(
        session=ctx.session,
        school_id=ctx.school.id or 0,
        guardian_id=guardian.id,
        channel=inbound.channel,
        now=ctx.now,
    )
    return [
        Reply(
            ctx.t._(
                "谢谢您！已记录您的同意。现在可以正常使用了：确认通知、给班主任留言、提交意见，"
                "发送 /mydata 可以查看学校保存的孩子信息。发送 /help 查看全部功能。"
            )
        )
    ]


async def asked(inbound: Inbound, draft: ConsentDraft, ctx: Context) -> Transition:
    """The one state: 同意 agrees; anything else is answered with the question."""
    if _is_agreement(inbound):
        return Transition.end(*await agree(inbound, ctx))
    note = ctx.t._("在您同意之前，暂时不能使用这项功能。")
    return Transition.end(Reply(note), question(ctx))


async def hold(inbound: Inbound, ctx: Context, command: str | None) -> list[Reply] | None:
    """For a guardian without consent: the answer to this update (the question, or the thanks
    for agreeing); None to let the update through (consent given, or an urgent 已知悉)."""
    if ctx.guardian is None or await given(ctx):
        return None
    callback = inbound.callback or ""
    pressed = callback[1:].partition(":")[0] if callback.startswith("!") else None
    if pressed in WITHOUT_CONSENT_BUTTONS or command in WITHOUT_CONSENT_COMMANDS:
        return None
    return list((await asked(inbound, ConsentDraft(), ctx)).replies)


async def after_binding(ctx: Context) -> list[Reply]:
    """The question after a guardian's account was bound (or greeted again) without consent."""
    if ctx.guardian is None or await given(ctx):
        return []
    return [question(ctx)]


async def _pressed(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    """同意 pressed by a guardian who has consented already (`hold` takes every other press)."""
    return [Reply(ctx.t._("您已经同意过了，无需再次确认。"))]


async def show(inbound: Inbound, draft: ConsentDraft, ctx: Context, args: str) -> Transition:
    """`/consent`: the wording, and when the guardian agreed to it."""
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        return Transition.end(Reply(ctx.t._("这项功能只对家长开放。")))
    given_at = await consent_of(session=ctx.session, guardian_id=guardian.id)
    if given_at is None:
        return Transition.end(question(ctx))
    local = given_at.agreed_at.astimezone(ctx.zone)
    agreed = ctx.t._("您已于 {moment} 同意以上内容。").format(moment=f"{local:%Y-%m-%d %H:%M}")
    return Transition.end(Reply(wording(ctx.t, ctx.school.name, ctx.rules) + "\n\n" + agreed))


CONSENT_FLOW_DEF = Flow(
    name=CONSENT_FLOW,
    draft_type=ConsentDraft,
    steps={ASKED: asked},
    start=show,
    commands=("consent", "隐私说明"),
    allowed=is_guardian,
    refusal=N_("这项功能只对家长开放。"),
    describe=N_("知情同意书：学校保存哪些孩子信息、为什么、保存多久"),
    read_only=True,
)

CONSENT_ACTIONS = [Action(AGREE, _pressed)]
