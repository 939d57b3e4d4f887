"""What the visit flow shows for each value and field (msgids; translated where shown)."""

from __future__ import annotations

from handlers.i18n import N_
from handlers.visit.states import State
from models.visits.tables import CATEGORY_LABELS, FORM_LABELS, VisitCategory, VisitForm

FORM_NAMES: dict[VisitForm, str] = FORM_LABELS
CATEGORY_NAMES: dict[VisitCategory, str] = CATEGORY_LABELS

#: Who was met, offered as buttons; anything else is typed after 其他.
MET_CHOICES: tuple[str, ...] = (
    N_("父亲"),
    N_("母亲"),
    N_("爷爷"),
    N_("奶奶"),
    N_("外公"),
    N_("外婆"),
)

#: Field names on the summary card and the 修改 buttons, in the card's order.
FIELD_NAMES: dict[State, str] = {
    State.STUDENT: N_("学生"),
    State.FORM: N_("家访形式"),
    State.CATEGORY: N_("家访分类"),
    State.DATE: N_("家访日期"),
    State.LATE_REASON: N_("晚记录原因"),
    State.MET: N_("见到的家长"),
    State.SCHOOL_REPORT: N_("在校情况反馈"),
    State.HOME_LEARNED: N_("家庭表现"),
    State.FAMILY: N_("家庭情况"),
    State.FAMILY_FORM: N_("家庭情况表"),
    State.GUIDANCE: N_("指导意见"),
    State.MEASURES: N_("商定措施"),
    State.PROBLEMS: N_("发现的问题"),
    State.NEEDS_SCHOOL: N_("需要学校处理"),
    State.NOTES: N_("备注"),
}

#: What each free-text question asks, under the field name.
TEXT_PROMPTS: dict[State, str] = {
    State.SCHOOL_REPORT: N_("向家长反馈了孩子在校的哪些情况（学习、生活、品行）？"),
    State.HOME_LEARNED: N_("了解到孩子在家的哪些表现（自学、家务、孝敬长辈等）？"),
    State.FAMILY: N_("家庭情况如何（家庭结构、经济状况、住房、看护人、父母职业）？"),
    State.GUIDANCE: N_("给了家长哪些指导意见？"),
    State.MEASURES: N_("与家长商定了哪些措施？"),
    State.PROBLEMS: N_("这次家访发现了什么问题？没有请点“无”。"),
    State.NOTES: N_("请输入备注。"),
}
