"""A flow: a `State` enum, one step function per state, how it starts and who may use it; and
what every flow shares: the staff and guardian gates, typed button labels pressing buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.i18n import N_, Translator
from handlers.types import Inbound, Reply, Transition

Step = Callable[[Inbound, Any, Context], Awaitable[Transition]]
Starter = Callable[[Inbound, Any, Context, str], Awaitable[Transition]]
FreeTextStarter = Callable[[Inbound, Any, Context], Awaitable[Transition | None]]
Gate = Callable[[Context], bool]
S = TypeVar("S", bound=str)


@dataclass(frozen=True)
class DraftLabel:
    """What an unfinished conversation is, for the question before it is left and for its draft."""

    #: What is in progress, as a phrase: `记录张小明的家访`.
    doing: str
    #: Whom or what it is about (`张小明`); "" when nothing is chosen yet.
    about: str = ""


#: A flow's `describe_draft(draft, session, t)`: its label, read from the draft.
DraftDescriber = Callable[[Any, AsyncSession, Translator], Awaitable[DraftLabel | None]]


def is_staff(ctx: Context) -> bool:
    """The gate of the flows for the school's staff: the account is bound to a staff member."""
    return ctx.staff is not None


def is_guardian(ctx: Context) -> bool:
    """The gate of what only parents do: the account is bound to a guardian."""
    return ctx.guardian is not None


@dataclass(frozen=True)
class Flow:
    """How a conversation is driven; the dispatcher and every channel treat all flows alike.

    `start` is called with a fresh draft and the command's argument text; `free_text`, when
    given, may take a message sent outside any conversation (return None to decline).
    """

    name: str
    draft_type: type[BaseModel]
    steps: Mapping[str, Step]
    start: Starter
    commands: tuple[str, ...]
    allowed: Gate
    free_text: FreeTextStarter | None = None
    #: Whom /help lists the flow for, when narrower than `allowed` (None: everyone allowed).
    offered: Gate | None = None
    #: What the user is told when `allowed` refuses them (a msgid, translated when shown).
    refusal: str = N_("这项功能只对本校教师开放。")
    describe: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: It only answers (a list, a figure): sent mid-flow, it is answered and the question of the
    #: conversation in progress is asked again, with nothing lost.
    read_only: bool = False
    #: What its unfinished conversation is (`记录张小明的家访`); None: `describe` is used.
    describe_draft: DraftDescriber | None = None
    #: What its draft is called in the note when an old draft is cleared (a msgid: 家访).
    draft_noun: str = ""
    #: What /cancel says when it ends this flow's conversation (a msgid); "" for the usual
    #: 已取消，本次内容没有保存。 (a flow that saves as it goes says what was kept).
    cancelled: str = ""
    #: The states whose steps read 上一步 / 返回 themselves (the visit's questions); in every
    #: other state of every flow the engine goes back one step (`handlers.going_back`).
    reads_back: Collection[str] = ()

    def new_draft(self) -> BaseModel:
        return self.draft_type()

    def load_draft(self, data: dict[str, Any]) -> BaseModel:
        return self.draft_type.model_validate(data)


#: The question a state asks, rebuilt from the draft (to see which buttons it offers).
Asker = Callable[[Any, Context], Awaitable[Reply]]
#: A flow's `question(state, draft, ctx)`: any state's question, rebuilt from the draft.
StateAsker = Callable[[Any, Any, Context], Awaitable[Reply]]


def typed_labels_press_buttons(ask: Asker, step: Step) -> Step:
    """Typing a button's label (保存, 电访, 父亲 …) counts as pressing that button (a photo or a
    file whose caption happens to be a label does not)."""

    async def wrapped(inbound: Inbound, draft: Any, ctx: Context) -> Transition:
        text = (inbound.text or "").strip()
        sent_a_file = inbound.photo is not None or inbound.document is not None
        if inbound.callback is None and text and not sent_a_file:
            offered = await ask(draft, ctx)
            for row in offered.buttons:
                for button in row:
                    if button.label == text:
                        inbound = replace(inbound, text=None, callback=button.data)
        return await step(inbound, draft, ctx)

    return wrapped


def with_typed_labels(
    steps: Mapping[S, Step], question: StateAsker, *, except_in: Collection[S] = ()
) -> dict[str, Step]:
    """A flow's steps where typing a button's label presses it (`typed_labels_press_buttons`,
    with `question` rebuilding the state's buttons); the steps of `except_in` are kept as they
    are (the student picker reads typed labels itself; a free-text answer is never a label)."""
    return {
        state: step
        if state in except_in
        else typed_labels_press_buttons(partial(question, state), step)
        for state, step in steps.items()
    }
