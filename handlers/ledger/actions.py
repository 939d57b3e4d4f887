"""The buttons of ledger messages (`handlers.ledger.buttons`), registered as actions: each works
from any message, whatever conversation the person is in, and checks the person again."""

from __future__ import annotations

from handlers.actions import Action
from handlers.context import Context
from handlers.ledger import buttons as b
from handlers.ledger.classify import open_classification
from handlers.ledger.flow import open_add
from handlers.ledger.show import show_history, show_item
from handlers.ledger.write import open_close, open_note, open_reopen, open_reply
from handlers.types import Inbound, Reply


async def _open(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await show_item(ctx, argument)


async def _log(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return await show_history(ctx, argument)


LEDGER_ACTIONS: list[Action] = [
    Action(b.OPEN, _open),
    Action(b.LOG, _log),
    Action(b.CLASSIFY, open_classification),
    Action(b.NOTE, open_note),
    Action(b.REPLY, open_reply),
    Action(b.CLOSE, open_close),
    Action(b.REOPEN, open_reopen),
    Action(b.ADD, open_add),
]
