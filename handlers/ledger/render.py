"""How ledger items read in a chat: a one-line entry for lists, the full card of one item, its
history. Staff only: guardians never see ledger items. An anonymous feedback item shows 匿名
and nothing else about its author; a named one shows the guardian's name and children."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.i18n import Translator
from models.feedback.queries import Author
from models.feedback.tables import FEEDBACK_ABOUT_LABELS, FEEDBACK_KIND_LABELS, Feedback
from models.ledger.handling import decode_classified, split_outcome
from models.ledger.rules import is_overdue
from models.ledger.tables import (
    EVENT_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    LedgerEventKind,
    LedgerItem,
    LedgerKind,
    LedgerStatus,
)
from models.ledger.views import ClassCounts, HistoryLine, ItemRow

#: How much of a description a list entry shows.
SHORT = 30


def short(text: str, limit: int = SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def day_label(t: Translator, day: date) -> str:
    return t._("{month}月{day}日").format(month=day.month, day=day.day)


def moment_label(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{day_label(t, local.date())} {local:%H:%M}"


def who(row: ItemRow) -> str:
    """`三(2)班张小明`, a class alone, or "" for a school-wide item."""
    return f"{row.class_name}{row.student_name}"


def due_text(t: Translator, item: LedgerItem, today: date) -> str:
    if item.due_on is None:
        return ""
    text = t._("{day}到期").format(day=day_label(t, item.due_on))
    if item.status is not LedgerStatus.CLOSED and is_overdue(item.due_on, today):
        text += t._("（已逾期）")
    return text


def entry(t: Translator, row: ItemRow, today: date) -> str:
    """`#12 三(2)班张小明 · 处理中 · 11月20日到期` and the description's start on a second line."""
    item = row.item
    head = f"#{item.id} {who(row) or t._('全校')}" + " · " + t._(STATUS_LABELS[item.status])
    due = due_text(t, item, today)
    if due:
        head += " · " + due
    return f"{head}\n   {short(item.description)}"


def entry_button_label(row: ItemRow) -> str:
    return f"#{row.item.id} {row.student_name or row.class_name or short(row.item.description, 8)}"


def classification_text(t: Translator, item: LedgerItem) -> str:
    if item.kind is None:
        return t._("未分类")
    text = t._(KIND_LABELS[item.kind])
    if item.kind is LedgerKind.TRACK and item.follow_every_days:
        text += t._("，每{days}天记录一次进展").format(days=item.follow_every_days)
    if item.kind is LedgerKind.ESCALATE and item.escalated_to:
        text += t._("，上报至{body}").format(body=item.escalated_to)
    return text


def card(
    t: Translator,
    row: ItemRow,
    *,
    today: date,
    zone: ZoneInfo,
    feedback: Feedback | None = None,
    author: Author | None = None,
) -> str:
    """The whole item as staff who may see it read it."""
    item = row.item
    lines = [
        t._("台账 #{id} · {status}").format(id=item.id, status=t._(STATUS_LABELS[item.status]))
    ]
    source = t._(SOURCE_LABELS[item.source])
    if feedback is not None:
        source += t._("（{kind}，关于{about}）").format(
            kind=t._(FEEDBACK_KIND_LABELS[feedback.kind]),
            about=t._(FEEDBACK_ABOUT_LABELS[feedback.about]),
        )
    lines.append(
        t._("来源：{source}，{when}登记").format(
            source=source, when=moment_label(t, item.created_at, zone)
        )
    )
    if feedback is not None:
        if author is None:
            lines.append(t._("反映人：匿名"))
        else:
            children = "、".join(author.children)
            lines.append(
                t._("反映人：{name}（{children}）").format(name=author.name, children=children)
                if children
                else t._("反映人：{name}").format(name=author.name)
            )
    if who(row):
        lines.append(t._("涉及：{who}").format(who=who(row)))
    lines.append(t._("问题：{text}").format(text=item.description))
    lines.append(t._("分类：{text}").format(text=classification_text(t, item)))
    if row.owner_name:
        owner = t._("负责人：{name}").format(name=row.owner_name)
        due = due_text(t, item, today)
        lines.append(f"{owner} · {due}" if due else owner)
    if item.status is LedgerStatus.CLOSED and item.outcome is not None and item.closed_at:
        lines.append(
            t._("办结：{outcome}，{when}").format(
                outcome=t._(OUTCOME_LABELS[item.outcome]),
                when=moment_label(t, item.closed_at, zone),
            )
        )
    return "\n".join(lines)


def _classified(t: Translator, note: str, names: Mapping[int, str]) -> str:
    plan = decode_classified(note)
    if plan is None:
        return ""
    parts = [t._(KIND_LABELS[plan.kind])]
    if plan.follow_every_days:
        parts.append(t._("每{days}天记录一次进展").format(days=plan.follow_every_days))
    if plan.escalated_to:
        parts.append(t._("上报至{body}").format(body=plan.escalated_to))
    if plan.owner_id in names:
        parts.append(t._("负责人{name}").format(name=names[plan.owner_id]))
    parts.append(t._("{day}到期").format(day=day_label(t, plan.due_on)))
    return "，".join(parts)


def history_text(
    t: Translator,
    item_id: int,
    lines: list[HistoryLine],
    zone: ZoneInfo,
    names: Mapping[int, str],
) -> str:
    """Every event of the item, oldest first, each time-stamped; `names`: the staff named."""
    out = [t._("台账 #{id} 的处理记录：").format(id=item_id)]
    for line in lines:
        event = line.event
        label = t._(EVENT_LABELS[event.kind])
        text = f"{moment_label(t, event.at, zone)} {label}"
        if line.staff_name:
            text += f" · {line.staff_name}"
        note = event.note
        if event.kind is LedgerEventKind.CLOSED:
            outcome, note = split_outcome(note)
            if outcome is not None:
                text += f" · {t._(OUTCOME_LABELS[outcome])}"
        elif event.kind is LedgerEventKind.CLASSIFIED:
            note = _classified(t, note, names)
        if note:
            text += f"：{note}"
        out.append(text)
    return "\n".join(out)


def counts_text(t: Translator, counts: list[ClassCounts]) -> list[str]:
    lines = []
    for c in counts:
        name = c.class_name or t._("全校")
        parts = [
            t._("待分类 {n}").format(n=c.unclassified),
            t._("处理中 {n}").format(n=c.active),
        ]
        if c.overdue:
            parts.append(t._("逾期 {n}").format(n=c.overdue))
        parts.append(t._("已办结 {n}").format(n=c.closed))
        lines.append(f"{name}：" + " · ".join(parts))
    return lines
