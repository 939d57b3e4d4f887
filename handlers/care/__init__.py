"""The care room 关爱室 in the chat: `/refer` (any staff member), `/care` (a guardian), `/cases`
and a case's card and buttons (care staff; the principal reads), the stage alone for whoever
referred or asked (models/care/ holds the rules and the tables)."""

from handlers.care.actions import CARE_ACTIONS
from handlers.care.refer import REFER_FLOW
from handlers.care.request import CARE_FLOW
from handlers.care.show import CASES_FLOW
from handlers.care.work import CASE_WORK_FLOW

__all__ = ["CARE_ACTIONS", "CARE_FLOW", "CASES_FLOW", "CASE_WORK_FLOW", "REFER_FLOW"]
