"""A 大走访 campaign's own rules (seed 003), pure: what a valid campaign is, which visits count
for it, and the extra questions of the visit form (附2) asked while it runs.

- *Name*: not blank, at most `MAX_NAME` characters (spaces around it dropped).
- *Dates*: the campaign runs from its first to its last day, both included; the last day may be
  the first (a one-day campaign) but not before it.
- *Scope*: the whole school, or some grades (一 to 六); grades given with a whole-school scope
  are ignored, a grade scope with no grade is refused.
- *What counts as visiting a household*: `VisitRule.IN_PERSON` (the default, 逐户进行交流: the
  forms the school counts as 入户, `SchoolRules.home_forms()`), or `VisitRule.ANY_FORM`.
- *Left-behind households* 留守儿童家庭 are contacted once a month in any form (采取发送短信、拨打
  电话的方式对留守儿童的父母进行走访), whatever the visit rule, when `left_behind_monthly` is on.

Refusals are `CampaignRefused`, whose message is a msgid with its params, like `SurveyRefused`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from models.families.tables import CARER_LABELS, HOUSING_LABELS, PARENTS_WORK_LABELS
from models.roster.classnames import MAX_GRADE, MIN_GRADE
from models.text import N_

MAX_NAME = 40


class CampaignRefused(Exception):
    """A campaign the rules refuse. `message` is a msgid; show it translated and filled in with
    `params`: `t._(refused.message).format(**refused.params)`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


class CampaignScope(StrEnum):
    SCHOOL = "school"  # 全校
    GRADES = "grades"  # 部分年级


class VisitRule(StrEnum):
    """Which visits tick a household in the campaign."""

    IN_PERSON = "in_person"  # 仅上门（入户）
    ANY_FORM = "any_form"  # 任何形式


SCOPE_LABELS: dict[CampaignScope, str] = {
    CampaignScope.SCHOOL: N_("全校"),
    CampaignScope.GRADES: N_("部分年级"),
}
VISIT_RULE_LABELS: dict[VisitRule, str] = {
    VisitRule.IN_PERSON: N_("仅上门家访"),
    VisitRule.ANY_FORM: N_("任何形式"),
}


@dataclass(frozen=True)
class CampaignSpec:
    """A checked campaign."""

    name: str
    start: date
    end: date
    scope: CampaignScope
    #: Sorted, without repeats; empty for the whole school.
    grades: tuple[int, ...]
    visit_rule: VisitRule = VisitRule.IN_PERSON
    left_behind_monthly: bool = True

    def runs_on(self, day: date) -> bool:
        return self.start <= day <= self.end

    def covers_grade(self, grade: int) -> bool:
        return self.scope is CampaignScope.SCHOOL or grade in self.grades


def check_campaign(
    name: str,
    start: date,
    end: date,
    *,
    scope: CampaignScope = CampaignScope.SCHOOL,
    grades: Iterable[int] = (),
    visit_rule: VisitRule = VisitRule.IN_PERSON,
    left_behind_monthly: bool = True,
) -> CampaignSpec:
    """The campaign, checked; `CampaignRefused` says the first thing wrong."""
    name = name.strip()
    if not name:
        raise CampaignRefused(N_("请给这次大走访起个名称。"))
    if len(name) > MAX_NAME:
        raise CampaignRefused(
            N_("名称最多 {limit} 个字，现在是 {length} 个字。"), limit=MAX_NAME, length=len(name)
        )
    if end < start:
        raise CampaignRefused(
            N_("结束日期 {end} 早于开始日期 {start}，请重新填写。"),
            end=end.isoformat(),
            start=start.isoformat(),
        )
    chosen: tuple[int, ...] = ()
    if scope is CampaignScope.GRADES:
        chosen = tuple(sorted(set(grades)))
        if not chosen:
            raise CampaignRefused(N_("按年级走访时，请至少选择一个年级。"))
        wrong = [g for g in chosen if not MIN_GRADE <= g <= MAX_GRADE]
        if wrong:
            raise CampaignRefused(
                N_("没有 {grade} 年级：年级应在 {low} 到 {high} 之间。"),
                grade=wrong[0],
                low=MIN_GRADE,
                high=MAX_GRADE,
            )
    return CampaignSpec(name, start, end, scope, chosen, visit_rule, left_behind_monthly)


def counts_for_campaign(form: str, rule: VisitRule, home_forms: Iterable[str]) -> bool:
    """Whether a visit of this form ticks its household (`home_forms`: the school's 入户 forms,
    `SchoolRules.home_forms()`)."""
    return rule is VisitRule.ANY_FORM or form in set(home_forms)


# -- the visit form's extra questions (附2) -----------------------------------------------------


class ExtraField(StrEnum):
    STRUCTURE = "family_structure"
    ECONOMY = "economy"
    HOUSING = "housing"
    CARER = "carer"
    FATHER_WORK = "father_work"
    MOTHER_WORK = "mother_work"


@dataclass(frozen=True)
class ExtraFieldSpec:
    field: ExtraField
    #: The field's name on the record (a msgid).
    name: str
    #: The question asked (a msgid).
    question: str
    #: (stored value, label msgid), offered as buttons in this order; one is chosen.
    options: tuple[tuple[str, str], ...]

    def parse(self, text: str) -> str | None:
        """A button's value, or its Chinese label typed out, as stored; None if neither."""
        text = text.strip()
        for value, label in self.options:
            if text in (value, label):
                return value
        return None

    def label(self, value: str) -> str:
        """The label msgid of a stored value (the value itself if unknown)."""
        return dict(self.options).get(value, value)


_OTHER = ("other", N_("其他"))
_WORK = (*((k.value, v) for k, v in PARENTS_WORK_LABELS.items()), _OTHER)

EXTRA_FIELDS: tuple[ExtraFieldSpec, ...] = (
    ExtraFieldSpec(
        ExtraField.STRUCTURE,
        N_("家庭结构"),
        N_("家庭结构？"),
        (
            ("nuclear", N_("核心家庭")),
            ("three_generations", N_("三代同堂")),
            ("single_parent", N_("单亲家庭")),
            ("blended", N_("重组家庭")),
            ("left_behind", N_("留守")),
            _OTHER,
        ),
    ),
    ExtraFieldSpec(
        ExtraField.ECONOMY,
        N_("经济状况"),
        N_("家庭经济状况？"),
        (("good", N_("好")), ("fair", N_("一般")), ("hard", N_("困难"))),
    ),
    ExtraFieldSpec(
        ExtraField.HOUSING,
        N_("住房条件"),
        N_("住房条件？"),
        tuple((k.value, v) for k, v in HOUSING_LABELS.items()),
    ),
    ExtraFieldSpec(
        ExtraField.CARER,
        N_("在家照看人"),
        N_("在家照看孩子的是谁？"),
        tuple((k.value, v) for k, v in CARER_LABELS.items()),
    ),
    ExtraFieldSpec(ExtraField.FATHER_WORK, N_("父亲职业"), N_("父亲的职业？"), _WORK),
    ExtraFieldSpec(ExtraField.MOTHER_WORK, N_("母亲职业"), N_("母亲的职业？"), _WORK),
)
EXTRA_SPECS: dict[ExtraField, ExtraFieldSpec] = {spec.field: spec for spec in EXTRA_FIELDS}
