"""What `school add|list|show|set|key` do (the parser is `bot.school_cli`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.school_cli import SECRET_OPTIONS, Change
from bot.settings import Settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import ConfigError
from models.roster.queries import current_school
from models.roster.tables import Staff, Student
from models.school.config import (
    SECRET_FIELDS,
    SchoolConfig,
    differing_rules,
    effective_rules,
    with_overrides,
    without_overrides,
)
from models.school.secrets import decrypt, encrypt, mask, new_key
from models.school.tables import School

CHANNEL_LABELS = {"telegram": "Telegram", "wecom": "企业微信"}
#: The school `bot run` runs (SCHOOL_NAME's, else the first), said in `school show`.
DEFAULT_SCHOOL = (
    "（默认学校：SCHOOL_NAME 所指的学校，没有同名学校时为第一所；"
    "本校没有保存的渠道凭据用环境变量里的）"
)


#: What `school set` says about the bots already running.
RUNNING_BOTS = (
    "用 bot run --all-schools 运行的机器人会在一分钟内用上新的设置（向它发送 SIGHUP 可立即生效）；"
    "只运行一所学校的 bot run 要重新启动后才会用上。"
)


def print_key(out: TextIO | None = None, err: TextIO | None = None) -> int:
    """A new SECRETS_KEY on stdout (alone, to be redirected), what to do with it on stderr."""
    print(new_key(), file=out or sys.stdout)
    print(
        "这是新的 SECRETS_KEY：写入 .env（SECRETS_KEY=…）并另行妥善备份。"
        "丢失或更换后，已保存的学校凭据将无法解密。",
        file=err or sys.stderr,
    )
    return 0


async def _open(settings: Settings) -> Database:
    await asyncio.to_thread(upgrade, settings.database_url)
    return Database(settings.database_url)


async def _school(session: AsyncSession, name: str) -> School:
    school = (await session.exec(select(School).where(School.name == name))).first()
    if school is None or school.id is None:
        names = (await session.exec(select(School.name).order_by(col(School.id)))).all()
        known = "、".join(names) if names else "（还没有任何学校）"
        raise ConfigError(
            f"没有名为“{name}”的学校。已有的学校：{known}。添加学校：python -m bot school add 名称"
        )
    return school


# -- add -----------------------------------------------------------------------------------------


async def add_school(
    settings: Settings,
    name: str,
    *,
    timezone: str,
    year_start: tuple[int, int],
    out: TextIO | None = None,
) -> int:
    name = name.strip()
    if not name or len(name) > 100:
        raise ConfigError("学校名称不能为空，也不能超过 100 个字。")
    db = await _open(settings)
    try:
        async with db.session() as session:
            same = (await session.exec(select(School).where(School.name == name))).first()
            if same is not None:
                raise ConfigError(f"已有名为“{name}”的学校（#{same.id}），没有重复添加。")
            school = School(
                name=name,
                timezone=timezone,
                year_start_month=year_start[0],
                year_start_day=year_start[1],
            )
            session.add(school)
            await session.commit()
            school_id = school.id
    finally:
        await db.dispose()
    print(
        f"已添加学校 #{school_id}“{name}”（时区 {timezone}，学年从 {year_start[0]} 月"
        f" {year_start[1]} 日开始）。\n下一步：python -m bot roster import 名册.xlsx --school {name}",
        file=out or sys.stdout,
    )
    return 0


# -- list ----------------------------------------------------------------------------------------


async def _counts(session: AsyncSession, table: type[Student] | type[Staff]) -> dict[int, int]:
    query = (
        select(table.school_id, func.count())
        .where(col(table.active))
        .group_by(col(table.school_id))
    )
    return {school_id: count for school_id, count in (await session.exec(query)).all()}


def _environment_channels(settings: Settings) -> tuple[str, ...]:
    """The channels the environment configures (a misconfigured one is left out here; `bot run`
    names the mistake)."""
    found: tuple[str, ...] = ()
    try:
        if settings.telegram_token:
            found += ("telegram",)
    except ConfigError:
        pass
    try:
        if settings.wecom_configured:
            found += ("wecom",)
    except ConfigError:
        pass
    return found


def _channel_line(config: SchoolConfig | None, environment: tuple[str, ...]) -> str:
    own = config.channels() if config else ()
    parts = []
    for channel in ("telegram", "wecom"):
        if channel in own:
            incomplete = channel == "wecom" and config is not None and config.wecom_missing()
            parts.append(
                CHANNEL_LABELS[channel] + ("（本校，不完整）" if incomplete else "（本校）")
            )
        elif channel in environment:
            parts.append(CHANNEL_LABELS[channel] + "（环境变量）")
    return "、".join(parts) or "未配置"


async def list_schools(settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    db = await _open(settings)
    try:
        async with db.session() as session:
            schools = list((await session.exec(select(School).order_by(col(School.id)))).all())
            configs = {c.school_id: c for c in (await session.exec(select(SchoolConfig))).all()}
            students, staff = await _counts(session, Student), await _counts(session, Staff)
            named = await current_school(session=session, name=settings.school_name)
    finally:
        await db.dispose()
    if not schools:
        print("还没有任何学校。添加学校：python -m bot school add 名称", file=out)
        return 0
    environment = _environment_channels(settings)
    print(f"共 {len(schools)} 所学校：", file=out)
    for school in schools:
        school_id = school.id or 0
        mine = named is not None and named.id == school_id
        print(
            f"#{school_id} {school.name}{'（默认学校）' if mine else ''}"
            f"{'（示范）' if school.demo else ''}  时区 {school.timezone}  "
            f"学生 {students.get(school_id, 0)} 名  教职工 {staff.get(school_id, 0)} 名  "
            f"渠道：{_channel_line(configs.get(school_id), environment if mine else ())}",
            file=out,
        )
    return 0


# -- show ----------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "（无）"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flat_keys(values: Mapping[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in values.items():
        if isinstance(value, Mapping):
            keys |= _flat_keys(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def _masked(settings: Settings, stored: str | None, school: str) -> str:
    if not stored:
        return "未设置"
    try:
        return mask(decrypt(settings.secrets_key_value, stored, school=school))
    except ConfigError:
        return "已加密保存（设置正确的 SECRETS_KEY 后可显示首尾几位）"


def _credential_lines(
    settings: Settings, school: School, config: SchoolConfig | None, environment_school: bool
) -> list[str]:
    lines = []
    if config is not None and config.telegram_token:
        lines.append(f"Telegram：{_masked(settings, config.telegram_token, school.name)}（本校）")
    elif environment_school and "telegram" in _environment_channels(settings):
        token = settings.telegram_token or ""
        lines.append(f"Telegram：{mask(token)}（环境变量 TELEGRAM_BOT_TOKEN）")
    else:
        lines.append("Telegram：未配置")
    if config is not None and "wecom" in config.channels():
        missing = config.wecom_missing()
        lines.append(
            "企业微信（本校"
            + (f"，不完整：还缺少 {'、'.join(missing)}，未启用" if missing else "")
            + "）："
            + f"企业ID {config.wecom_corp_id or '未设置'}，AgentId "
            + f"{config.wecom_agent_id if config.wecom_agent_id is not None else '未设置'}，"
            + f"Secret {_masked(settings, config.wecom_secret, school.name)}，"
            + f"Token {_masked(settings, config.wecom_token, school.name)}，"
            + f"EncodingAESKey {_masked(settings, config.wecom_aes_key, school.name)}"
        )
    elif environment_school and "wecom" in _environment_channels(settings):
        lines.append(
            f"企业微信（环境变量 WECOM_*）：企业ID {settings.wecom_corp_id}，AgentId "
            f"{settings.wecom_agent_id}"
        )
    else:
        lines.append("企业微信：未配置")
    return lines


async def show_school(settings: Settings, name: str, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    db = await _open(settings)
    try:
        async with db.session() as session:
            school = await _school(session, name)
            config = await session.get(SchoolConfig, school.id)
            students = (await _counts(session, Student)).get(school.id or 0, 0)
            staff = (await _counts(session, Staff)).get(school.id or 0, 0)
            named = await current_school(session=session, name=settings.school_name)
    finally:
        await db.dispose()
    environment_school = named is not None and named.id == school.id
    overrides = config.rules if config else {}
    rules = effective_rules(settings.rules, overrides)
    own = _flat_keys(overrides)
    lines = [
        f"学校 #{school.id}“{school.name}”" + (DEFAULT_SCHOOL if environment_school else ""),
        f"时区：{school.timezone}；学年从 {school.year_start_month} 月 {school.year_start_day} 日开始",
        f"学生 {students} 名，教职工 {staff} 名",
    ]
    differing = differing_rules(rules)
    if differing:
        lines.append("与默认值不同的规则：")
        for key, value in sorted(differing.items()):
            source = "本校" if key in own else "环境变量 RULES__" + key.upper().replace(".", "__")
            lines.append(f"  {key} = {_shown(value)}（{source}）")
    else:
        lines.append("规则：全部为默认值。")
    lines += _credential_lines(settings, school, config, environment_school)
    if config is not None:
        updated = config.updated_at.astimezone(ZoneInfo(school.timezone))
        lines.append(f"本校设置更新于 {updated:%Y-%m-%d %H:%M}")
    print("\n".join(lines), file=out)
    return 0


# -- set -----------------------------------------------------------------------------------------


async def _check_stored_key(session: AsyncSession, key: str | None) -> None:
    """ConfigError when secrets are stored under another key than `key` (they would be mixed)."""
    row = (
        await session.exec(
            select(SchoolConfig).where(col(SchoolConfig.telegram_token).is_not(None)).limit(1)
        )
    ).first() or (
        await session.exec(
            select(SchoolConfig).where(col(SchoolConfig.wecom_secret).is_not(None)).limit(1)
        )
    ).first()
    if row is None:
        return
    stored = next(getattr(row, name) for name in SECRET_FIELDS if getattr(row, name))
    school = await session.get(School, row.school_id)
    decrypt(key, stored, school=school.name if school else str(row.school_id))


def _apply(
    config: SchoolConfig, change: Change, settings: Settings, encrypted: Mapping[str, str]
) -> list[str]:
    """Set `change` on `config`; what was done, in words (secrets masked)."""
    done: list[str] = []
    if change.rules or change.reset:
        rules = without_overrides(config.rules, change.reset)
        rules = with_overrides(rules, change.rules, base=settings.rules)
        config.rules = rules
        for key in change.rules:
            value: Any = rules
            for part in key.split("."):
                value = value[part]
            done.append(f"规则 {key} = {_shown(value)}")
        done += [f"规则 {key} 恢复为部署的默认值" for key in change.reset]
    if change.clear_telegram:
        config.telegram_token = None
        done.append("删除了 Telegram 令牌")
    if change.clear_wecom:
        config.wecom_corp_id = config.wecom_agent_id = None
        config.wecom_secret = config.wecom_token = config.wecom_aes_key = None
        done.append("删除了企业微信凭据")
    if change.corp_id:
        config.wecom_corp_id = change.corp_id
        done.append(f"企业微信企业ID {change.corp_id}")
    if change.agent_id is not None:
        config.wecom_agent_id = change.agent_id
        done.append(f"企业微信 AgentId {change.agent_id}")
    for name, value in change.secrets.items():
        setattr(config, name, encrypted[name])
        done.append(f"{SECRET_OPTIONS[name][1]} {mask(value)}（已加密保存）")
    return done


async def set_school(
    settings: Settings, name: str, change: Change, out: TextIO | None = None
) -> int:
    key = settings.secrets_key_value
    encrypted = {name: encrypt(key, value) for name, value in change.secrets.items()}
    db = await _open(settings)
    try:
        async with db.session() as session:
            school = await _school(session, name)
            if encrypted:
                await _check_stored_key(session, key)
            config = await session.get(SchoolConfig, school.id) or SchoolConfig(
                school_id=school.id or 0
            )
            done = _apply(config, change, settings, encrypted)
            if change.timezone:
                school.timezone = change.timezone
                done.append(f"时区 {change.timezone}")
            if change.year_start:
                school.year_start_month, school.year_start_day = change.year_start
                done.append(f"学年从 {change.year_start[0]} 月 {change.year_start[1]} 日开始")
            config.updated_at = utcnow()
            session.add(config)
            session.add(school)
            await session.commit()
    finally:
        await db.dispose()
    print(f"已保存学校“{name}”的设置：" + "；".join(done) + "。", file=out or sys.stdout)
    if "wecom" in config.channels() and config.wecom_missing():
        print(
            "企业微信凭据还不完整（还缺少 "
            + "、".join(config.wecom_missing())
            + "），补齐后才会启用。",
            file=out or sys.stdout,
        )
    print(RUNNING_BOTS, file=out or sys.stdout)
    return 0
