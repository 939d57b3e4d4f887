"""A school's own configuration on a deployment that serves several (a district): its rules that
differ from the deployment's, and its channels' credentials, the secret ones encrypted.

`SchoolConfig.rules` holds only the overrides, as JSON (`{"monthly_visits_head_teacher": 12,
"quiet_start": "21:30:00"}`; nested models such as `evaluation_weights` as nested objects). They
are applied on top of the deployment's rules (RULES__* in the environment) by `effective_rules`,
which validates them through `SchoolRules`: a bad value is refused when it is set, never found
later in a job.

The secret credentials (the Telegram token; WeCom's Secret, Token and EncodingAESKey) are stored
as Fernet tokens (`models.school.secrets`), never in clear; the corp id and the agent id are not
secrets and are stored as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, utcnow
from models.errors import ConfigError
from models.school.rules import SchoolRules

#: The stored credentials that are secrets (encrypted at rest, masked when shown).
SECRET_FIELDS = ("telegram_token", "wecom_secret", "wecom_token", "wecom_aes_key")
#: Every WeCom field a school's app needs (a partial set is not used).
WECOM_FIELDS = ("wecom_corp_id", "wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key")


class SchoolConfig(SQLModel, table=True):
    """One school's rules overrides and channel credentials (one row per school, or none)."""

    __tablename__ = "school_config"

    school_id: int = Field(foreign_key="school.id", primary_key=True)
    #: Overrides of `SchoolRules` fields (JSON values, as `model_dump(mode="json")` gives them).
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: Encrypted (Fernet): the Telegram bot's token from @BotFather.
    telegram_token: str | None = Field(default=None, max_length=500)
    wecom_corp_id: str | None = Field(default=None, max_length=64)
    wecom_agent_id: int | None = None
    #: Encrypted (Fernet): the app's Secret, the callback's Token and EncodingAESKey.
    wecom_secret: str | None = Field(default=None, max_length=500)
    wecom_token: str | None = Field(default=None, max_length=500)
    wecom_aes_key: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)

    def channels(self) -> tuple[str, ...]:
        """The channels this row gives credentials for ("telegram", "wecom"), even partly."""
        found: tuple[str, ...] = ()
        if self.telegram_token:
            found += ("telegram",)
        if any(getattr(self, name) not in (None, "") for name in WECOM_FIELDS):
            found += ("wecom",)
        return found

    def wecom_missing(self) -> tuple[str, ...]:
        """The WeCom fields not stored (all of them when none is)."""
        return tuple(name for name in WECOM_FIELDS if getattr(self, name) in (None, ""))


# -- rules overrides ---------------------------------------------------------------------------


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def effective_rules(base: SchoolRules, overrides: Mapping[str, Any]) -> SchoolRules:
    """`base` with the school's `overrides` on top, validated (ConfigError when one is bad)."""
    if not overrides:
        return base
    try:
        return SchoolRules.model_validate(_deep_merge(base.model_dump(mode="json"), overrides))
    except ValidationError as exc:
        raise ConfigError(_validation_line(exc)) from None


def _validation_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    return f"保存的规则 {key} 已不再有效（{_reason(exc)}）：请用 python -m bot school set 改正。"


#: Pydantic's error types, said in Chinese (others fall back to pydantic's own words).
_REASONS = {
    "int_parsing": "应是整数",
    "int_from_float": "应是整数",
    "float_parsing": "应是数字",
    "bool_parsing": "应是 true 或 false",
    "time_parsing": "应是时间，例如 21:30",
    "time_type": "应是时间，例如 21:30",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "literal_error": "应是以下之一：{expected}",
    "tuple_type": "应是用逗号分隔的几项",
}


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    template = _REASONS.get(first["type"])
    if template is None:
        return str(first["msg"])
    context = {k: str(v).replace(" or ", ", ") for k, v in (first.get("ctx") or {}).items()}
    return template.format(**context) if context or "{" not in template else template


def _field_model(key: str) -> tuple[type[BaseModel], str, list[str]]:
    """The model holding dotted `key`'s last part, that part, and the path to it."""
    parts = key.split(".")
    model: type[BaseModel] = SchoolRules
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            raise ConfigError(
                f"没有名为“{key}”的规则（规则名即 .env.example 中 RULES__ 后面的部分，小写，"
                "例如 quiet_start、monthly_visits_head_teacher），没有保存任何改动。"
            )
        annotation = field.annotation
        last = depth == len(parts) - 1
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if last:
                raise ConfigError(
                    f"规则“{key}”由几项组成，请逐项设置，例如 {key}."
                    f"{next(iter(annotation.model_fields))}=…"
                )
            model = annotation
        elif not last:
            raise ConfigError(f"没有名为“{key}”的规则，没有保存任何改动。")
    return model, parts[-1], parts[:-1]


def _value(model: type[BaseModel], name: str, text: str) -> Any:
    """What `text` (as typed after `KEY=`) means for the field: a tuple field takes a
    comma-separated list, a JSON value is read as JSON, anything else is the string itself."""
    annotation = model.model_fields[name].annotation
    if get_origin(annotation) is tuple or (
        annotation is not None and any(get_origin(arg) is tuple for arg in get_args(annotation))
    ):
        return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_rule(assignment: str) -> tuple[str, Any]:
    """`KEY=VALUE` as typed on the command line: the key (checked) and the raw value."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"“{assignment}”应写成 规则名=值，例如 quiet_start=21:30。")
    model, name, _ = _field_model(key)
    return key, _value(model, name, text.strip())


def with_overrides(
    current: Mapping[str, Any], assignments: Mapping[str, Any], *, base: SchoolRules
) -> dict[str, Any]:
    """The overrides `current` with `assignments` (dotted key → raw value) set, each value
    validated through `SchoolRules` on top of `base` and stored as its JSON form (ConfigError
    naming the first bad one)."""
    updated: dict[str, Any] = json.loads(json.dumps(dict(current)))
    for key, raw in assignments.items():
        parts = key.split(".")
        node = updated
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = raw
        try:
            rules = SchoolRules.model_validate(_deep_merge(base.model_dump(mode="json"), updated))
        except ValidationError as exc:
            raise ConfigError(
                f"规则 {key} 不能设为“{raw if not isinstance(raw, list) else ','.join(map(str, raw))}”"
                f"（{_reason(exc)}），没有保存任何改动。"
            ) from None
        value: Any = rules.model_dump(mode="json")
        for part in parts:
            value = value[part]
        node[parts[-1]] = value
    return updated


def without_overrides(current: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """The overrides `current` with `keys` (dotted) removed: back to the deployment's value."""
    updated: dict[str, Any] = json.loads(json.dumps(dict(current)))
    for key in keys:
        _field_model(key)
        parts = key.split(".")
        node = updated
        for part in parts[:-1]:
            node = node.get(part, {})
        node.pop(parts[-1], None)
        if len(parts) > 1 and not updated.get(parts[0]):
            updated.pop(parts[0], None)
    return updated


def differing_rules(rules: SchoolRules, base: SchoolRules | None = None) -> dict[str, Any]:
    """The (dotted) rules of `rules` that differ from `base` (the defaults), as JSON values."""
    mine = _flat(rules.model_dump(mode="json"))
    theirs = _flat((base or SchoolRules()).model_dump(mode="json"))
    return {key: value for key, value in mine.items() if theirs.get(key) != value}


def _flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
