"""The household form's fields (seed 003 附2: 家庭总人口__人,共有__名学生; 家长就业情况; 在家照顾学生
人员; 住房条件), and when a visit's answer proposes a change of the 留守 tag (pure rules).

While a 大走访 campaign covers a student, the form gains the campaign's extra questions
(`models.campaigns.rules.EXTRA_FIELDS`: 家庭结构, 经济状况, 父亲职业, 母亲职业; 住房 and 在家照看人
are the form's own `HOUSING` and `CARER`): `CAMPAIGN_FIELDS` in the 附2 order, `EXTENDED_FIELDS`
for the whole form, each stored on `FamilyProfile` under the field's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from models.campaigns.rules import EXTRA_FIELDS
from models.families.tables import (
    CARER_LABELS,
    HOUSING_LABELS,
    PARENTS_WORK_LABELS,
    Carer,
    Housing,
    ParentsWork,
)
from models.quota.rules import is_left_behind
from models.text import N_

#: Household size and school-age children are taken from 1 (0) up to these.
MAX_HOUSEHOLD = 20
MAX_CHILDREN = 10


class FamilyField(StrEnum):
    HOUSEHOLD_SIZE = "household_size"
    SCHOOL_AGE_CHILDREN = "school_age_children"
    PARENTS_WORK = "parents_work"
    CARER = "carer"
    HOUSING = "housing"
    PARENTS_AWAY = "parents_away"
    # The 大走访 campaign's own questions (`models.campaigns.rules.ExtraField`).
    FAMILY_STRUCTURE = "family_structure"
    ECONOMY = "economy"
    FATHER_WORK = "father_work"
    MOTHER_WORK = "mother_work"


@dataclass(frozen=True)
class FieldSpec:
    field: FamilyField
    #: The question (a msgid).
    question: str
    #: The field's name on the summary (a msgid).
    name: str
    #: (stored value, label msgid) offered as buttons, in order.
    choices: tuple[tuple[str, str], ...]
    #: A typed whole number is accepted in this range (None: buttons only).
    number: range | None = None


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        FamilyField.HOUSEHOLD_SIZE,
        N_("家庭总人口几人？（可直接输入数字）"),
        N_("家庭人口"),
        # From 1, so that on numbered channels typing "5" (the fifth button) is also 5.
        tuple((str(n), str(n)) for n in range(1, 9)),
        range(1, MAX_HOUSEHOLD + 1),
    ),
    FieldSpec(
        FamilyField.SCHOOL_AGE_CHILDREN,
        N_("家里共有几名上学的孩子？（可直接输入数字）"),
        N_("学龄子女"),
        tuple((str(n), str(n)) for n in range(1, 6)),
        range(0, MAX_CHILDREN + 1),
    ),
    FieldSpec(
        FamilyField.PARENTS_WORK,
        N_("家长就业情况？"),
        N_("家长就业"),
        tuple((k.value, v) for k, v in PARENTS_WORK_LABELS.items()),
    ),
    FieldSpec(
        FamilyField.CARER,
        N_("在家照顾孩子的是谁？"),
        N_("在家照顾"),
        tuple((k.value, v) for k, v in CARER_LABELS.items()),
    ),
    FieldSpec(
        FamilyField.HOUSING,
        N_("住房条件？"),
        N_("住房条件"),
        tuple((k.value, v) for k, v in HOUSING_LABELS.items()),
    ),
    FieldSpec(
        FamilyField.PARENTS_AWAY,
        N_("父母是否都在外地务工（孩子留守）？"),
        N_("父母外出务工"),
        (("yes", N_("是")), ("no", N_("否"))),
    ),
)
_BASE: dict[FamilyField, FieldSpec] = {spec.field: spec for spec in FIELDS}
#: The campaign's extra questions as the form's fields, in the 附2 order: those the form already
#: has (住房条件, 在家照顾) are its own; the others carry the campaign's options.
CAMPAIGN_FIELDS: tuple[FieldSpec, ...] = tuple(
    _BASE.get(FamilyField(extra.field.value))
    or FieldSpec(FamilyField(extra.field.value), extra.question, extra.name, extra.options)
    for extra in EXTRA_FIELDS
)
#: The whole form while a campaign covers the student: its own fields, then the campaign's new
#: ones.
EXTENDED_FIELDS: tuple[FieldSpec, ...] = (
    *FIELDS,
    *(spec for spec in CAMPAIGN_FIELDS if spec.field not in _BASE),
)
SPECS: dict[FamilyField, FieldSpec] = {spec.field: spec for spec in EXTENDED_FIELDS}

Answers = dict[str, int | str | bool]


def parse_answer(spec: FieldSpec, value: str) -> int | str | bool | None:
    """A button's value or a typed answer as the field stores it; None if it is not one."""
    value = value.strip()
    if spec.field is FamilyField.PARENTS_AWAY:
        return {"yes": True, "no": False, "是": True, "否": False}.get(value)
    if spec.number is not None:
        if value.isdecimal() and int(value) in spec.number:
            return int(value)
        return None
    kinds: dict[FamilyField, type[StrEnum]] = {
        FamilyField.PARENTS_WORK: ParentsWork,
        FamilyField.CARER: Carer,
        FamilyField.HOUSING: Housing,
    }
    kind = kinds.get(spec.field)
    allowed = {m.value for m in kind} if kind is not None else {v for v, _label in spec.choices}
    return value if value in allowed else None


def label_of(spec: FieldSpec, value: int | str | bool) -> str:
    """The msgid (or number) shown for a stored value."""
    if isinstance(value, bool):
        return N_("是") if value else N_("否")
    if isinstance(value, int):
        return str(value)
    return dict(spec.choices).get(value, value)


def tag_change(tags: Iterable[str], parents_away: bool | None) -> bool | None:
    """True: propose adding 留守; False: propose removing it; None: nothing to propose."""
    if parents_away is None:
        return None
    tagged = is_left_behind(tags)
    if parents_away and not tagged:
        return True
    if not parents_away and tagged:
        return False
    return None
