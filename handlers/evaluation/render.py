"""The evaluation's words in the chat: the ranked list, one teacher's figures month by month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from fractions import Fraction

from handlers.i18n import N_, Translator
from handlers.quota import BREAK_NAMES, visits_name
from models.campaigns.evaluation import PART_LABELS, Evaluation, MonthCount, Part
from models.evaluation.queries import EvaluationReport, TeacherReport
from models.quota.rules import QuotaRole, Tally
from models.school.rules import SchoolRules

ROLE_NAMES: dict[QuotaRole, str] = {
    QuotaRole.HEAD_TEACHER: N_("班主任"),
    QuotaRole.SUBJECT_TEACHER: N_("任课教师"),
    QuotaRole.COACH: N_("教练"),
}


def score_text(t: Translator, score: float | None) -> str:
    return t._("暂无可计分项") if score is None else t._("{score} 分").format(score=f"{score:.1f}")


def role_text(t: Translator, teacher: TeacherReport) -> str:
    if teacher.role is QuotaRole.HEAD_TEACHER and teacher.headed:
        return t._("{classes}班主任").format(classes=t._("、").join(teacher.headed))
    return t._(ROLE_NAMES[teacher.role])


def delay_text(t: Translator, delay: timedelta) -> str:
    """`15 小时`, `2 天 3 小时`, `40 分钟`."""
    minutes = round(delay.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return t._("{days} 天 {hours} 小时").format(days=days, hours=hours)
    if hours:
        return t._("{hours} 小时").format(hours=hours)
    return t._("{minutes} 分钟").format(minutes=minutes)


def period_text(t: Translator, report: EvaluationReport, today_running: bool) -> str:
    period = report.period
    span = t._("{first}至{last}").format(
        first=t._("{year}年{month}月{day}日").format(
            year=period.first.year, month=period.first.month, day=period.first.day
        ),
        last=t._("{year}年{month}月{day}日").format(
            year=period.last.year, month=period.last.month, day=period.last.day
        ),
    )
    line = t._("{period}（{span}）").format(period=period.label, span=span)
    if today_running:
        day = report.as_of_day
        line += t._("，截至{month}月{day}日").format(month=day.month, day=day.day)
    return line


def weights_text(t: Translator, rules: SchoolRules) -> str:
    weights = rules.evaluation_weights
    listed = " · ".join(
        f"{t._(PART_LABELS[part])} {getattr(weights, part.value):g}" for part in Part
    )
    return t._("权重：{weights}（无指标的项目不计，其余按比例折算）").format(weights=listed)


def list_text(t: Translator, report: EvaluationReport, rules: SchoolRules, *, running: bool) -> str:
    lines = [
        t._("家访工作考核 · {period}").format(period=period_text(t, report, running)),
        t._("共 {count} 位教师，按得分从高到低：").format(count=len(report.teachers)),
    ]
    rank = 0
    for teacher in report.teachers:
        if teacher.score is not None:
            rank += 1
            prefix = f"{rank}. "
        else:
            prefix = "　"
        lines.append(
            f"{prefix}"
            + t._("{name}（{role}）{score}").format(
                name=teacher.name, role=role_text(t, teacher), score=score_text(t, teacher.score)
            )
        )
    lines.append(weights_text(t, rules))
    return "\n".join(lines)


def _months(t: Translator, counts: Sequence[MonthCount]) -> str:
    return " · ".join(
        t._("{month}月 {done}/{target}").format(month=m.month.month, done=m.done, target=m.target)
        for m in counts
        if m.target > 0
    )


def _tally(t: Translator, tally: Tally, unit: str) -> str:
    return t._("{done}/{target} {unit}").format(done=tally.done, target=tally.target, unit=unit)


def _percent(value: Fraction) -> str:
    return f"{round(float(value) * 100)}%"


def teacher_lines(t: Translator, teacher: TeacherReport, rules: SchoolRules) -> list[str]:
    """One teacher's figures, a line a part (parts without a target left out)."""
    found: Evaluation = teacher.evaluation
    inputs = found.inputs
    lines: list[str] = []
    if any(m.target > 0 for m in inputs.routine):
        met = found.months_met(Part.ROUTINE_VISITS)
        lines.append(
            t._("常规{visits}（达标 {met}/{months} 个月）：{figures}").format(
                visits=visits_name(t, rules.counted_forms()),
                met=met.done,
                months=met.target,
                figures=_months(t, inputs.routine),
            )
        )
    if any(m.target > 0 for m in inputs.contacts):
        met = found.months_met(Part.PARENT_CONTACTS)
        lines.append(
            t._("联系家长（人次，达标 {met}/{months} 个月）：{figures}").format(
                met=met.done, months=met.target, figures=_months(t, inputs.contacts)
            )
        )
    if inputs.key_visits is not None:
        lines.append(
            t._("重点家访：特殊类型学生 {done}/{target} 人已完成").format(
                done=inputs.key_visits.done, target=inputs.key_visits.target
            )
        )
    for held in teacher.breaks:
        season = t._(BREAK_NAMES[held.kind])
        if held.visits is not None and held.visits.target > 0:
            lines.append(
                t._("{season}家访 {done}/{target} 次").format(
                    season=season, done=held.visits.done, target=held.visits.target
                )
            )
        if held.must_visit is not None:
            lines.append(
                t._("{season}必访学生 {done}/{target} 人").format(
                    season=season, done=held.must_visit.done, target=held.must_visit.target
                )
            )
    duties = found.duties
    if duties.counted or duties.pending:
        line = t._("立即家访：按时 {on_time} · 逾期完成 {late} · 未完成 {missed}").format(
            on_time=duties.on_time, late=duties.late, missed=duties.missed
        )
        if duties.median_delay is not None:
            line += t._("（逾期时间中位数 {delay}）").format(
                delay=delay_text(t, duties.median_delay)
            )
        if duties.pending:
            line += t._(" · 尚未到期 {pending}").format(pending=duties.pending)
        lines.append(line)
    if found.records:
        lines.append(
            t._("记录及时：{records} 条记录中 {late} 条晚于家访 {days} 天以上才记录").format(
                records=found.records, late=found.late_records, days=rules.late_filing_days
            )
        )
    if inputs.class_coverage is not None:
        lines.append(
            t._("班级遍访（本学年）：{figures}").format(
                figures=_tally(t, inputs.class_coverage, t._("人"))
            )
        )
    if inputs.campaign is not None and inputs.campaign.target:
        lines.append(
            t._("大走访包保：亲自走访 {figures}").format(
                figures=_tally(t, inputs.campaign, t._("户"))
            )
        )
    if inputs.ledger is not None and inputs.ledger.target:
        lines.append(
            t._("问题台账：负责 {owned} 条，已办结 {closed} 条").format(
                owned=inputs.ledger.target, closed=inputs.ledger.done
            )
        )
    if found.parts:
        weights = rules.evaluation_weights
        lines.append(
            t._("各项得分（权重）：{parts}").format(
                parts=" · ".join(
                    f"{t._(PART_LABELS[part])} {_percent(value)}（{getattr(weights, part.value):g}）"
                    for part, value in found.parts.items()
                )
            )
        )
    return lines


def teacher_text(
    t: Translator,
    report: EvaluationReport,
    teacher: TeacherReport,
    rules: SchoolRules,
    *,
    running: bool,
) -> str:
    lines = [
        t._("{name}（{no} · {role}）的家访工作考核").format(
            name=teacher.name, no=teacher.staff_no, role=role_text(t, teacher)
        ),
        period_text(t, report, running),
        t._("得分：{score}").format(score=score_text(t, teacher.score)),
        *teacher_lines(t, teacher, rules),
    ]
    return "\n".join(lines)
