"""A 大走访 campaign's rules (models/campaigns/rules.py): what is refused and in which words, what
counts as visiting a household, and the visit form's extra questions (seed 003 附2)."""

from __future__ import annotations

from datetime import date

import pytest

from models.campaigns.rules import (
    EXTRA_FIELDS,
    EXTRA_SPECS,
    CampaignRefused,
    CampaignScope,
    CampaignSpec,
    ExtraField,
    VisitRule,
    check_campaign,
    counts_for_campaign,
)

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


@pytest.mark.parametrize(
    ("name", "start", "end", "scope", "grades", "message", "params"),
    [
        ("  ", NOV_1, NOV_30, CampaignScope.SCHOOL, (), "请给这次大走访起个名称。", {}),
        (
            "大" * 41,
            NOV_1,
            NOV_30,
            CampaignScope.SCHOOL,
            (),
            "名称最多 {limit} 个字，现在是 {length} 个字。",
            {"limit": 40, "length": 41},
        ),
        (
            "秋季大走访",
            NOV_30,
            NOV_1,
            CampaignScope.SCHOOL,
            (),
            "结束日期 {end} 早于开始日期 {start}，请重新填写。",
            {"end": "2026-11-01", "start": "2026-11-30"},
        ),
        (
            "秋季大走访",
            NOV_1,
            NOV_30,
            CampaignScope.GRADES,
            (),
            "按年级走访时，请至少选择一个年级。",
            {},
        ),
        (
            "秋季大走访",
            NOV_1,
            NOV_30,
            CampaignScope.GRADES,
            (3, 7),
            "没有 {grade} 年级：年级应在 {low} 到 {high} 之间。",
            {"grade": 7, "low": 1, "high": 6},
        ),
    ],
    ids=["blank name", "name too long", "ends before it starts", "no grade", "grade 7"],
)
def test_a_bad_campaign_is_refused_with_a_clear_chinese_answer(
    name: str,
    start: date,
    end: date,
    scope: CampaignScope,
    grades: tuple[int, ...],
    message: str,
    params: dict[str, object],
) -> None:
    with pytest.raises(CampaignRefused) as refused:
        check_campaign(name, start, end, scope=scope, grades=grades)
    assert refused.value.message == message
    assert refused.value.params == params
    assert str(refused.value) == message.format(**params)


@pytest.mark.parametrize(
    ("name", "start", "end", "scope", "grades", "expected_name", "expected_grades"),
    [
        ("  秋季大走访 ", NOV_1, NOV_30, CampaignScope.SCHOOL, (), "秋季大走访", ()),
        ("一日走访", NOV_1, NOV_1, CampaignScope.SCHOOL, (), "一日走访", ()),
        ("大" * 40, NOV_1, NOV_30, CampaignScope.SCHOOL, (), "大" * 40, ()),
        ("高年级", NOV_1, NOV_30, CampaignScope.GRADES, (6, 4, 6), "高年级", (4, 6)),
        ("全校", NOV_1, NOV_30, CampaignScope.SCHOOL, (3,), "全校", ()),
    ],
    ids=["trimmed", "one day", "forty characters", "grades sorted once", "school ignores grades"],
)
def test_a_good_campaign_is_kept_tidy(
    name: str,
    start: date,
    end: date,
    scope: CampaignScope,
    grades: tuple[int, ...],
    expected_name: str,
    expected_grades: tuple[int, ...],
) -> None:
    spec = check_campaign(name, start, end, scope=scope, grades=grades)
    assert (spec.name, spec.grades, spec.scope) == (expected_name, expected_grades, scope)
    assert spec.visit_rule is VisitRule.IN_PERSON
    assert spec.left_behind_monthly


@pytest.mark.parametrize(
    ("day", "runs"),
    [(date(2026, 10, 31), False), (NOV_1, True), (NOV_30, True), (date(2026, 12, 1), False)],
)
def test_a_campaign_runs_from_its_first_to_its_last_day(day: date, runs: bool) -> None:
    assert check_campaign("秋季", NOV_1, NOV_30).runs_on(day) is runs


@pytest.mark.parametrize(
    ("scope", "grades", "grade", "covered"),
    [
        (CampaignScope.SCHOOL, (), 1, True),
        (CampaignScope.GRADES, (4, 5), 4, True),
        (CampaignScope.GRADES, (4, 5), 3, False),
    ],
)
def test_the_scope_says_which_grades_take_part(
    scope: CampaignScope, grades: tuple[int, ...], grade: int, covered: bool
) -> None:
    spec = CampaignSpec("秋季", NOV_1, NOV_30, scope, grades)
    assert spec.covers_grade(grade) is covered


@pytest.mark.parametrize(
    ("form", "rule", "home_forms", "counts"),
    [
        ("home", VisitRule.IN_PERSON, ("home",), True),
        ("phone", VisitRule.IN_PERSON, ("home",), False),
        ("video", VisitRule.IN_PERSON, ("home",), False),
        ("video", VisitRule.IN_PERSON, ("home", "video"), True),
        ("phone", VisitRule.ANY_FORM, ("home",), True),
        ("letter", VisitRule.ANY_FORM, ("home",), True),
    ],
)
def test_which_visits_tick_a_household(
    form: str, rule: VisitRule, home_forms: tuple[str, ...], counts: bool
) -> None:
    assert counts_for_campaign(form, rule, home_forms) is counts


def test_the_extra_questions_are_the_forms_six_fields_in_order() -> None:
    assert [spec.field for spec in EXTRA_FIELDS] == [
        ExtraField.STRUCTURE,
        ExtraField.ECONOMY,
        ExtraField.HOUSING,
        ExtraField.CARER,
        ExtraField.FATHER_WORK,
        ExtraField.MOTHER_WORK,
    ]


@pytest.mark.parametrize(
    ("field", "labels"),
    [
        (ExtraField.STRUCTURE, ["核心家庭", "三代同堂", "单亲家庭", "重组家庭", "留守", "其他"]),
        (ExtraField.ECONOMY, ["好", "一般", "困难"]),
        (ExtraField.HOUSING, ["好", "一般", "差"]),
        (ExtraField.CARER, ["父母", "祖辈", "亲戚", "其他"]),
        (ExtraField.FATHER_WORK, ["机关事业单位", "工人", "农民", "个体", "无业", "其他"]),
        (ExtraField.MOTHER_WORK, ["机关事业单位", "工人", "农民", "个体", "无业", "其他"]),
    ],
)
def test_each_extra_question_offers_the_forms_choices(field: ExtraField, labels: list[str]) -> None:
    assert [label for _value, label in EXTRA_SPECS[field].options] == labels


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        (ExtraField.HOUSING, "差", "poor"),
        (ExtraField.HOUSING, "poor", "poor"),
        (ExtraField.FATHER_WORK, " 农民 ", "farmer"),
        (ExtraField.MOTHER_WORK, "其他", "other"),
        (ExtraField.ECONOMY, "困难", "hard"),
        (ExtraField.ECONOMY, "很差", None),
        (ExtraField.STRUCTURE, "", None),
    ],
)
def test_an_answer_is_read_from_its_button_or_its_label(
    field: ExtraField, typed: str, stored: str | None
) -> None:
    assert EXTRA_SPECS[field].parse(typed) == stored


def test_a_stored_value_shows_its_label() -> None:
    spec = EXTRA_SPECS[ExtraField.STRUCTURE]
    assert spec.label("three_generations") == "三代同堂"
    assert spec.label("unknown") == "unknown"
