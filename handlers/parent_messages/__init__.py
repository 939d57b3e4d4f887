"""A parent's own messages: 收到 confirms the awaiting notice, a leave goes to the head teacher to
confirm as 病假, anything else is forwarded for an answer (see `parent_message.mmd`)."""

from handlers.actions import Action
from handlers.parent_messages.common import ANSWER, NOT_SICK, SICK
from handlers.parent_messages.flow import PARENT_MESSAGE_FLOW
from handlers.parent_messages.leave import confirm_sick, not_sick
from handlers.parent_messages.reply import PARENT_REPLY_FLOW, ask_reply

#: The head teacher's buttons on a forwarded parent's message.
PARENT_MESSAGE_ACTIONS: tuple[Action, ...] = (
    Action(SICK, confirm_sick),
    Action(NOT_SICK, not_sick),
    Action(ANSWER, ask_reply),
)

__all__ = ["PARENT_MESSAGE_ACTIONS", "PARENT_MESSAGE_FLOW", "PARENT_REPLY_FLOW"]
