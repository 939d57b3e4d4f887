"""The meeting buttons (`!m…:<id>`), usable from any message: each press is checked again
against who may act on that meeting (callback data can be forged)."""

from __future__ import annotations

NEW = "mnew"  # 安排新会议 (argument 0)
ATTENDANCE = "mat"  # 记录出席
MINUTES = "mmin"  # 上传纪要
CLOSE = "mend"  # 结束会议
CANCEL = "mcx"  # 取消会议 (asks first)
CANCEL_SURE = "mcy"  # 确认取消
COMMITTEE = "mcm"  # 家委会成员 (argument 0)
COMMITTEE_ADD = "mca"  # 添加成员 (argument 0)
COMMITTEE_REMOVE = "mcr"  # 移除 (argument: the member's id)
