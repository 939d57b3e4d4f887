"""Every flow the bot offers, in the order /help lists them."""

from __future__ import annotations

from handlers.flow import Flow
from handlers.visit import VISIT_FLOW


def all_flows() -> list[Flow]:
    return [VISIT_FLOW]
