"""The ledger's action buttons (`!lg…:<item id>`), usable from any message: a reminder, an
alert, a list. Each press is checked again against who may see and act on the item."""

from __future__ import annotations

from handlers.actions import action_button
from handlers.types import Button

OPEN = "lgo"  # show the item
LOG = "lgh"  # 查看记录: its whole history
CLASSIFY = "lgc"  # 分类 / 指派 (starts the classification conversation)
NOTE = "lgn"  # 记录进展
REPLY = "lgr"  # 记录上级答复
CLOSE = "lgx"  # 办结
REOPEN = "lgu"  # 重新打开
ADD = "lga"  # 登记新问题 (argument 0)


def open_button(label: str, item_id: int) -> Button:
    """A button that shows item `item_id` (to whoever may see it)."""
    return action_button(label, OPEN, item_id)
