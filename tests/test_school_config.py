"""A school's own rules and credentials (`models.school.config`, `models.school.secrets`):
overrides validated through `SchoolRules` and applied on top of the deployment's rules,
credentials encrypted under SECRETS_KEY and masked when shown."""

from __future__ import annotations

from datetime import time

import pytest

from models.errors import ConfigError
from models.school.config import (
    SchoolConfig,
    differing_rules,
    effective_rules,
    parse_rule,
    with_overrides,
    without_overrides,
)
from models.school.rules import SchoolRules
from models.school.secrets import decrypt, encrypt, mask, new_key


def _set(*assignments: str, base: SchoolRules | None = None) -> dict[str, object]:
    parsed = dict(parse_rule(a) for a in assignments)
    return with_overrides({}, parsed, base=base or SchoolRules())


def test_overrides_are_stored_in_their_json_form_and_applied_on_top_of_the_base() -> None:
    overrides = _set(
        "monthly_visits_head_teacher=12",
        "quiet_start=21:30",
        "routine_forms=home,parent_came",
        "evaluation_weights.duties=20",
        "feedback_summary_publish=true",
    )
    assert overrides == {
        "monthly_visits_head_teacher": 12,
        "quiet_start": "21:30:00",
        "routine_forms": ["home", "parent_came"],
        "evaluation_weights": {"duties": 20.0},
        "feedback_summary_publish": True,
    }
    base = SchoolRules(quiet_end=time(6, 30), duty_due_hours=12)
    rules = effective_rules(base, overrides)
    assert rules.monthly_visits_head_teacher == 12
    assert rules.quiet_start == time(21, 30)
    assert rules.quiet_end == time(6, 30) and rules.duty_due_hours == 12  # the base stays
    assert rules.routine_forms == ("home", "parent_came")
    assert rules.evaluation_weights.duties == 20.0
    assert rules.evaluation_weights.routine_visits == 20.0


def test_no_overrides_give_the_base_itself() -> None:
    base = SchoolRules(duty_due_hours=12)
    assert effective_rules(base, {}) is base


@pytest.mark.parametrize(
    ("assignment", "said"),
    [
        ("quiet_begin=21:00", "没有名为“quiet_begin”的规则"),
        ("monthly_visits_head_teacher=十", "不能设为“十”"),
        ("survey_min_share=120", "不能设为“120”"),
        ("routine_forms=home,visit", "不能设为“home,visit”"),
        ("weekly_nudge_day=monday", "不能设为“monday”"),
        ("evaluation_weights=20", "请逐项设置"),
        ("evaluation_weights.speed=1", "没有名为“evaluation_weights.speed”的规则"),
        ("quiet_start", "应写成 规则名=值"),
    ],
)
def test_an_unknown_rule_or_a_bad_value_is_refused_in_chinese(assignment: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        _set(assignment)


def test_a_rule_reset_goes_back_to_the_base() -> None:
    overrides = _set("duty_due_hours=8", "evaluation_weights.duties=20")
    assert without_overrides(overrides, ["duty_due_hours", "evaluation_weights.duties"]) == {}
    with pytest.raises(ConfigError, match="没有名为"):
        without_overrides(overrides, ["duty_hours"])


def test_the_rules_differing_from_the_defaults_are_named_by_their_dotted_keys() -> None:
    rules = effective_rules(SchoolRules(), _set("duty_due_hours=8", "evaluation_weights.duties=20"))
    assert differing_rules(rules) == {"duty_due_hours": 8, "evaluation_weights.duties": 20.0}


def test_a_secret_is_encrypted_readable_only_with_its_key_and_masked() -> None:
    key = new_key()
    token = "7000123456:AAHk-3fG9sD0mQ2pLzXy8wVvUu1abcd"
    stored = encrypt(key, token)
    assert token not in stored and "7000123456" not in stored
    assert decrypt(key, stored, school="一小") == token
    with pytest.raises(ConfigError, match="SECRETS_KEY 与保存时所用的不一致"):
        decrypt(new_key(), stored, school="一小")
    with pytest.raises(ConfigError, match="没有设置 SECRETS_KEY"):
        encrypt(None, token)
    with pytest.raises(ConfigError, match="不是有效的密钥"):
        encrypt("not-a-key", token)
    assert mask(token) == "7000…abcd"
    assert mask("short") == "…"


def test_a_config_row_says_which_channels_it_has_and_what_wecom_lacks() -> None:
    row = SchoolConfig(school_id=1, telegram_token="x", wecom_corp_id="ww1", wecom_agent_id=7)
    assert row.channels() == ("telegram", "wecom")
    assert row.wecom_missing() == ("wecom_secret", "wecom_token", "wecom_aes_key")
    assert SchoolConfig(school_id=1).channels() == ()
