"""The care room's buttons, registered as actions: each works from any message (a list, the
care room's message, a reminder, a receipt), whatever conversation the person is in, and checks
the person and the case again."""

from __future__ import annotations

from handlers.actions import Action
from handlers.care import buttons as b
from handlers.care.show import open_card, open_chronology
from handlers.care.stage import guardian_stage, referrer_stage
from handlers.care.work import (
    open_assess,
    open_close,
    open_contact,
    open_plan,
    open_summary,
    take_case,
)

CARE_ACTIONS: list[Action] = [
    Action(b.OPEN, open_card),
    Action(b.LOG, open_chronology),
    Action(b.TAKE, take_case),
    Action(b.ASSESS, open_assess),
    Action(b.PLAN, open_plan),
    Action(b.CONTACT, open_contact),
    Action(b.SUMMARY, open_summary),
    Action(b.CLOSE, open_close),
    Action(b.REFERRER_STAGE, referrer_stage),
    Action(b.GUARDIAN_STAGE, guardian_stage),
]
