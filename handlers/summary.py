"""The step that ends a form-like flow: a summary card with 保存 (提交, 确认上报 …) / 修改 / 取消."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from handlers.context import Context
from handlers.flow import Step
from handlers.hints import button_note
from handlers.types import Button, Inbound, Reply, Transition

#: Callback data of 修改 and 取消 (the first button's is the flow's own).
EDIT, CANCEL = "edit", "cancel"

#: What the first button does with the draft: save it and end the flow (or ask again).
Save = Callable[[Any, Context], Awaitable[Transition]]


class Ask(Protocol):
    """A flow's `ask(state, draft, ctx, *notes)`: that state's question, notes above it."""

    def __call__(
        self, state: Any, draft: Any, ctx: Context, /, *notes: str
    ) -> Awaitable[Transition]:
        """Ask `state`'s question with `notes` (already translated) above it."""
        ...


@dataclass(frozen=True)
class Summary:
    """What one flow's summary offers: the first button (its label, a msgid, and its callback
    data) and what 取消 tells (a msgid)."""

    label: str
    save: str
    cancelled: str

    def buttons(self, ctx: Context) -> list[Button]:
        """The row under the summary card: the first button, 修改, 取消."""
        _ = ctx.t._
        return [
            Button(_(self.label), self.save),
            Button(_("修改"), EDIT),
            Button(_("取消"), CANCEL),
        ]

    def step(self, *, state: str, edit: str, save: Save, ask: Ask) -> Step:
        """The summary's step (`state`): the first button calls `save`, 修改 asks `edit`'s
        question, 取消 ends the flow; anything else asks the summary again with a note."""

        async def summary(inbound: Inbound, draft: Any, ctx: Context) -> Transition:
            if inbound.callback == self.save:
                return await save(draft, ctx)
            if inbound.callback == EDIT:
                return await ask(edit, draft, ctx)
            if inbound.callback == CANCEL:
                return Transition.end(Reply(ctx.t._(self.cancelled)))
            return await ask(state, draft, ctx, button_note(inbound, ctx))

        return summary
