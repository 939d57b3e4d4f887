"""The care room's action buttons (`!cs…:<case id>`), usable from any message. Each is bound to
its action in the permission matrix (`handlers.permissions.BUTTON_ACTIONS`), and each press is
checked again: a case the person may not read answers like a case that does not exist."""

from __future__ import annotations

from handlers.actions import action_button
from handlers.types import Button

OPEN = "cso"  # the case's card (care staff, the principal)
LOG = "csh"  # 查看记录: its chronology (care staff, the principal)
TAKE = "csk"  # 接手 (care staff)
ASSESS = "csa"  # 评估 (the worker)
PLAN = "csp"  # 帮扶计划 (the worker)
CONTACT = "csc"  # 记录辅导 (the worker)
SUMMARY = "css"  # 阶段小结 (the worker)
CLOSE = "csx"  # 结案 (the worker)
REFERRER_STAGE = "crs"  # the stage of a case one referred (staff)
GUARDIAN_STAGE = "cgs"  # the stage of a case one asked for (a guardian)


def open_button(label: str, case_id: int) -> Button:
    """A button that shows case `case_id` (to whoever may read it)."""
    return action_button(label, OPEN, case_id)
