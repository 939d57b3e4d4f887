"""The notes every flow shows above a question asked again: choose a button, a forged or stale
button, a text over its length limit. One wording for all flows."""

from __future__ import annotations

from handlers.context import Context
from handlers.dispatcher import NUMBERED_CHANNELS
from handlers.types import Inbound


def choose_hint(ctx: Context) -> str:
    """Text came where a button is expected: how to choose on this channel."""
    if ctx.channel in NUMBERED_CHANNELS:
        return ctx.t._("请回复选项前面的数字来选择。")
    return ctx.t._("请点下面的按钮来选择。")


def invalid(ctx: Context) -> str:
    """A button that is not (or no longer) among those offered."""
    return ctx.t._("这个选项无效，请从下面重新选择。")


def button_note(inbound: Inbound, ctx: Context) -> str:
    """The note for an answer that is not one of the offered buttons."""
    return choose_hint(ctx) if inbound.callback is None else invalid(ctx)


def too_long(ctx: Context, limit: int, length: int) -> str:
    return ctx.t._(
        "内容太长了：最多 {limit} 个字，您发来的有 {length} 个字。请精简后重新发送。"
    ).format(limit=limit, length=length)
