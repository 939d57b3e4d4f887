"""The audit log's actions and subjects as the school reads them (the `audit export` sheet).

An action not listed here is shown by its code: a new audited action never breaks the export.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.audit.tables import TAGS_CHANGE, TAGS_READ

#: Action code → its Chinese label.
ACTION_LABELS: Mapping[str, str] = {
    "visit.create": "记录家访",
    "visit.create_repeat": "记录家访（同日同形式的又一次）",
    "absence.create": "登记缺勤",
    "absence.back": "登记返校",
    "flag.create": "登记关注学生",
    "tag_proposal.approved": "同意调整特殊类型标记",
    "tag_proposal.refused": "不同意调整特殊类型标记",
    TAGS_READ: "查看特殊类型标记",
    TAGS_CHANGE: "更改特殊类型标记",
    "account.bind": "绑定账号",
    "limit.refused": "消息超出限制被拒",
    "calendar.import": "导入校历",
    "roster.import": "导入名册",
    "roster.replace_demo": "导入名册（替换示范数据）",
    "wecom.sync": "同步企业微信通讯录",
    "ledger.show": "查看台账（命令行）",
    "export.visits": "导出家访记录",
    "export.families": "导出家庭情况表",
    "export.receipts": "导出通知回执",
    "export.ledger": "导出问题台账",
    "export.invites": "导出邀请码",
    "export.cases": "导出关爱个案",
    "export.survey": "导出问卷结果",
    "export.evaluation": "导出家访工作考核",
    "export.meetings": "导出家长会记录",
    "export.audit": "导出审计日志",
    "case.read": "查看关爱个案",
    "case.change": "更改关爱个案",
    "privacy.export": "导出一名学生的全部数据",
    "privacy.erase": "删除（匿名化）一名学生的数据",
    "mydata.read": "家长查看孩子的信息",
    "mydata.correct": "家长申请更正孩子的信息",
    "consent.agree": "家长同意个人信息说明",
    "feedback.unknown_code": "查询不存在的反馈编号",
    "survey.send": "发出问卷",
    "survey.close": "问卷截止关闭",
    "campaign.create": "新建大走访",
    "campaign.assign": "写入大走访包保表",
    "campaign.move": "调整大走访责任教师",
    "campaign.stop": "停止大走访",
    "export.campaign": "导出大走访",
    "committee.add": "加入家长委员会",
    "committee.remove": "移出家长委员会",
}

#: A subject's kind (`visit` in `visit:42`) → how the sheet names it (`家访 #42`).
SUBJECT_LABELS: Mapping[str, str] = {
    "visit": "家访",
    "student": "学生",
    "absence": "缺勤",
    "flag": "关注",
    "ledger": "台账",
    "notice": "通知",
    "school": "学校",
    "case": "关爱个案",
    "staff": "教职工",
    "guardian": "家长",
    "proposal": "标记调整建议",
    "telegram": "Telegram 账号",
    "wecom": "企业微信账号",
    "console": "控制台账号",
    "feedback": "意见反馈",
    "parent_message": "家长留言",
    "campaign": "大走访",
}


def action_label(action: str) -> str:
    """`visit.create` → `记录家访`; an unknown action stays as its code."""
    return ACTION_LABELS.get(action, action)


def subject_label(subject: str) -> str:
    """`visit:42` → `家访 #42`, `feedback` → `意见反馈`; anything else stays as written."""
    kind, sep, ref = subject.partition(":")
    label = SUBJECT_LABELS.get(kind)
    if label is None:
        return subject
    return f"{label} #{ref}" if sep else label
