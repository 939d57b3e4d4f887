"""What the notice flow shows (msgids; translated where shown)."""

from __future__ import annotations

from handlers.i18n import N_
from handlers.notice.states import State
from models.notices.tables import NOTICE_KIND_LABELS, NoticeKind

KIND_NAMES: dict[NoticeKind, str] = NOTICE_KIND_LABELS

#: Field names on the summary card and the 修改 buttons, in the card's order.
FIELD_NAMES: dict[State, str] = {
    State.KIND: N_("类型"),
    State.TITLE: N_("标题"),
    State.BODY: N_("正文"),
    State.FILES: N_("附件"),
    State.AUDIENCE: N_("发送对象"),
    State.RECEIPT: N_("回执"),
    State.PUBLISH: N_("发布时间"),
    State.DISPLAY: N_("展示截止"),
}

#: Why a time was refused (by `timing.TimeProblem.code`).
TIME_PROBLEMS: dict[str, str] = {
    "deadline_past": N_("回执截止时间不能早于现在（{now}）。"),
    "publish_past": N_("发布时间不能早于现在（{now}）。"),
    "deadline_too_far": N_(
        "回执截止时间 {deadline_full} 离现在超过半年，是不是年份写错了？请重新输入。"
    ),
    "publish_too_far": N_("发布时间 {publish_full} 离现在超过半年，是不是年份写错了？请重新输入。"),
    "deadline_before_publish": N_("回执截止时间必须晚于发布时间（{publish}）。"),
    "display_before_publish": N_("展示截止日期不能早于发布日期（{publish_day}）。"),
    "display_before_deadline": N_(
        "展示截止日期不能早于回执截止日期（{deadline_day}）：归档后家长就不再收到提醒了。"
    ),
}

WEEKDAYS: tuple[str, ...] = (
    N_("周一"),
    N_("周二"),
    N_("周三"),
    N_("周四"),
    N_("周五"),
    N_("周六"),
    N_("周日"),
)

GRADE_NAMES: dict[int, str] = {
    1: N_("一年级"),
    2: N_("二年级"),
    3: N_("三年级"),
    4: N_("四年级"),
    5: N_("五年级"),
    6: N_("六年级"),
}
