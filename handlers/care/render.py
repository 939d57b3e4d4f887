"""How care cases read in a chat: a list entry, the whole card, the chronology (for care staff
and the principal), and the stage alone (for whoever referred or asked)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.i18n import Translator
from models.care.tables import (
    ENTRY_LABELS,
    INTAKE_LABELS,
    NATURE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    CareEntryKind,
    CaseNature,
    CaseSeverity,
    CaseStatus,
    CaseUrgency,
)
from models.care.views import CaseRow, EntryLine, Stage

SHORT = 30


def short(text: str, limit: int = SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def day_label(t: Translator, day: date) -> str:
    return t._("{month}月{day}日").format(month=day.month, day=day.day)


def moment_label(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{day_label(t, local.date())} {local:%H:%M}"


def who(row: CaseRow) -> str:
    return f"{row.class_name} {row.student_name}".strip()


def urgency_label(t: Translator, urgency: CaseUrgency) -> str:
    return t._("紧急") if urgency is CaseUrgency.URGENT else t._("一般")


def assessment_text(t: Translator, nature: CaseNature | None, severity: CaseSeverity | None) -> str:
    if nature is None or severity is None:
        return t._("未评估")
    return t._("{nature}，程度{severity}").format(
        nature=t._(NATURE_LABELS[nature]), severity=t._(SEVERITY_LABELS[severity])
    )


def due_text(t: Translator, row: CaseRow, today: date, zone: ZoneInfo) -> str:
    due = row.next_contact_on(zone)
    if due is None or row.case.status is CaseStatus.CLOSED:
        return ""
    text = t._("{day}应联系").format(day=day_label(t, due))
    if due < today:
        text += t._("（已超期）")
    return text


def entry(t: Translator, row: CaseRow, today: date, zone: ZoneInfo) -> str:
    """`#3 三(2)班 张小明 · 跟进中 · 11月23日应联系`, then who follows it."""
    case = row.case
    head = f"#{case.id} {who(row)} · {t._(STATUS_LABELS[case.status])}"
    if case.urgency is CaseUrgency.URGENT:
        head += " · " + t._("紧急")
    due = due_text(t, row, today, zone)
    if due:
        head += " · " + due
    worker = row.worker_name or t._("（待接手）")
    return f"{head}\n   " + t._("跟进人：{name}").format(name=worker)


def card(t: Translator, row: CaseRow, *, today: date, zone: ZoneInfo) -> str:
    """The whole case, as care staff and the principal read it."""
    case = row.case
    _ = t._
    lines = [
        _("【关爱室个案 #{id}】{status}").format(id=case.id, status=_(STATUS_LABELS[case.status])),
        _("学生：{who}").format(who=who(row)),
        _("来源：{intake}（{name}），{when}，{urgency}").format(
            intake=_(INTAKE_LABELS[case.intake]),
            name=row.referrer_name,
            when=moment_label(t, case.opened_at, zone),
            urgency=urgency_label(t, case.urgency),
        ),
        _("反映情况：{text}").format(text=case.noticed),
        _("跟进人：{name}").format(name=row.worker_name or _("（待接手）")),
        _("评估：{text}").format(text=assessment_text(t, case.nature, case.severity)),
    ]
    if case.plan_every_days:
        lines.append(
            _("帮扶计划（{who}，每{days}天联系一次）：").format(
                who=case.plan_who, days=case.plan_every_days
            )
        )
        for label, text in (
            (_("心理支持"), case.plan_support),
            (_("学业帮扶"), case.plan_study),
            (_("生活帮扶"), case.plan_daily),
        ):
            if text:
                lines.append(f"  · {label}：{text}")
    if case.last_contact_at is not None:
        lines.append(_("上次辅导：{when}").format(when=moment_label(t, case.last_contact_at, zone)))
    due = due_text(t, row, today, zone)
    if due:
        lines.append(_("下次联系：{due}").format(due=due))
    if case.status is CaseStatus.CLOSED and case.closed_at is not None:
        lines.append(_("结案：{when}").format(when=moment_label(t, case.closed_at, zone)))
        lines.append(_("学生反馈：{text}").format(text=case.eval_student))
        lines.append(_("教师反馈：{text}").format(text=case.eval_teacher))
        lines.append(_("家长反馈：{text}").format(text=case.eval_parents))
    return "\n".join(lines)


def _assessed(t: Translator, text: str) -> str:
    nature, _sep, severity = text.partition("/")
    try:
        return assessment_text(t, CaseNature(nature), CaseSeverity(severity))
    except ValueError:
        return text


def entry_text(t: Translator, line: EntryLine, zone: ZoneInfo) -> str:
    e = line.entry
    _ = t._
    head = f"{moment_label(t, e.at, zone)} {_(ENTRY_LABELS[e.kind])}"
    if line.staff_name:
        head += f" · {line.staff_name}"
    if e.kind is CareEntryKind.CONTACT:
        return "\n".join(
            [
                f"{head} · {e.place}",
                "  " + _("问题：{text}").format(text=e.problem),
                "  " + _("措施：{text}").format(text=e.measures),
                "  " + _("效果：{text}").format(text=e.effect),
            ]
        )
    if e.kind is CareEntryKind.SUMMARY:
        return f"{head}：{e.text}"
    if e.kind is CareEntryKind.ASSESSED:
        return f"{head}：{_assessed(t, e.text)}"
    if e.kind is CareEntryKind.PLANNED:
        parts = [p for p in (e.problem, e.measures, e.effect) if p]
        plan = _("{who}，每{days}天联系一次").format(who=e.place, days=e.text)
        return f"{head}：{plan}；" + "；".join(parts)
    return head


def chronology_text(t: Translator, row: CaseRow, lines: list[EntryLine], zone: ZoneInfo) -> str:
    out = [_title(t, row)]
    out += [entry_text(t, line, zone) for line in lines]
    if len(out) == 1:
        out.append(t._("还没有记录。"))
    return "\n".join(out)


def _title(t: Translator, row: CaseRow) -> str:
    return t._("个案 #{id}（{who}）的记录：").format(id=row.case.id, who=who(row))


def stage_line(t: Translator, stage: Stage, zone: ZoneInfo) -> str:
    """`11月16日 三(2)班 张小明：跟进中` — the stage, and nothing else of the case."""
    return t._("{when} {klass} {student}：{status}").format(
        when=day_label(t, stage.opened_at.astimezone(zone).date()),
        klass=stage.class_name,
        student=stage.student_name,
        status=t._(STATUS_LABELS[stage.status]),
    )
