"""Every flow the bot offers, in the order /help lists them."""

from __future__ import annotations

from handlers.flow import Flow


def all_flows() -> list[Flow]:
    return []
