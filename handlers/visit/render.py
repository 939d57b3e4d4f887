"""Texts built from a visit: dates, the summary card and the alert to 德育处."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from handlers.i18n import Translator
from handlers.student_picker import Pupil
from handlers.visit.draft import VisitDraft
from handlers.visit.labels import CATEGORY_NAMES, FIELD_NAMES, FORM_NAMES
from handlers.visit.states import SECTIONS, State
from models.families.rules import EXTENDED_FIELDS, label_of
from models.roster.tables import Staff
from models.visits.message_rules import MET_SEPARATOR
from models.visits.tables import Visit


def format_date(t: Translator, day: date) -> str:
    return t._("{year}年{month}月{day}日").format(year=day.year, month=day.month, day=day.day)


def day_words(t: Translator, day: date, today: date) -> str:
    """今天, 昨天, 前天, or the date."""
    names = {0: t._("今天"), 1: t._("昨天"), 2: t._("前天")}
    return names.get((today - day).days) or format_date(t, day)


def met_text(t: Translator, met: str) -> str:
    """Who was met, each person translated: `父亲、奶奶`."""
    return t._("、").join(t._(who) for who in met.split(MET_SEPARATOR))


def field_line(t: Translator, state: State, value: str) -> str:
    """`家访形式：电访`: a field's name and its value."""
    return t._("{field}：{value}").format(field=t._(FIELD_NAMES[state]), value=value)


def family_line(t: Translator, answers: Mapping[str, int | str | bool]) -> str:
    """`家庭情况表：家庭人口 4 · 在家照顾 祖辈`: the form's answers, in the form's order."""
    parts = [
        t._("{name} {value}").format(
            name=t._(spec.name), value=t._(label_of(spec, answers[spec.field.value]))
        )
        for spec in EXTENDED_FIELDS
        if spec.field.value in answers
    ]
    return t._("{field}：{value}").format(
        field=t._(FIELD_NAMES[State.FAMILY_FORM]), value=" · ".join(parts)
    )


def summary_card(t: Translator, draft: VisitDraft, pupil: Pupil | None) -> str:
    """Every field of the draft with its Chinese label, as the teacher checks it before saving."""
    _ = t._
    blank = _("（未填写）")

    def text(value: str | None) -> str:
        return value if value else blank

    lines = [_("请核对这次家访记录：")]
    lines.append(field_line(t, State.STUDENT, pupil.label if pupil else blank))
    lines.append(field_line(t, State.FORM, _(FORM_NAMES[draft.form]) if draft.form else blank))
    lines.append(
        field_line(
            t, State.CATEGORY, _(CATEGORY_NAMES[draft.category]) if draft.category else blank
        )
    )
    lines.append(
        field_line(t, State.DATE, format_date(t, draft.visit_date) if draft.visit_date else blank)
    )
    if draft.late_reason:
        lines.append(field_line(t, State.LATE_REASON, draft.late_reason))
    lines.append(field_line(t, State.MET, met_text(t, draft.met) if draft.met else blank))
    lines += [field_line(t, state, text(getattr(draft, state.value))) for state in SECTIONS]
    if draft.family_form:
        lines.append(family_line(t, draft.family_form))
    lines.append(field_line(t, State.PROBLEMS, draft.problems or _("无")))
    if draft.problems:
        lines.append(field_line(t, State.NEEDS_SCHOOL, _("是") if draft.needs_school else _("否")))
    if draft.notes:
        lines.append(field_line(t, State.NOTES, draft.notes))
    return "\n".join(lines)


def problem_alert(t: Translator, visit: Visit, pupil: Pupil, teacher: Staff) -> str:
    """What 德育处 receives when a visit found a problem that needs the school."""
    return t._(
        "【家访发现问题，需要学校处理】\n"
        "班级：{klass}\n学生：{student}\n家访老师：{teacher}\n家访日期：{date}\n问题：{problem}\n"
        "请及时跟进处理。"
    ).format(
        klass=pupil.klass.name,
        student=pupil.student.name,
        teacher=teacher.name,
        date=format_date(t, visit.visit_date),
        problem=visit.problems,
    )
