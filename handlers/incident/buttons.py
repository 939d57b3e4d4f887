"""The buttons that follow an incident outside any conversation (`handlers.actions`).

Their callback data is `!inc-ack:42` and so on; each handler checks again who may press it.
"""

from __future__ import annotations

from handlers.actions import action_button
from handlers.i18n import Translator
from handlers.types import Button

#: 已知悉, on the family's message: a guardian of that student only.
ACK = "inc-ack"
#: 已电话联系, on the "guardian not reached" call list: the staff who were alerted.
PHONED = "inc-call"
#: 查看记录, on every staff message about the incident: the staff who were alerted.
LOG = "inc-log"


def ack_button(t: Translator, incident_id: int) -> Button:
    return action_button(t._("已知悉"), ACK, incident_id)


def phoned_button(t: Translator, incident_id: int) -> Button:
    return action_button(t._("已电话联系"), PHONED, incident_id)


def log_button(t: Translator, incident_id: int) -> Button:
    return action_button(t._("查看记录"), LOG, incident_id)
