"""What a school runs with on a deployment that may serve several: its effective rules, its time
zone and its channels' credentials (`school_settings`), for one school or for all of them
(`configured_schools`).

Rules: the deployment's (RULES__* in the environment) with the school's own overrides on top
(`school_config.rules`). Zone: the school's own (`School.timezone`). Credentials: the school's
own when stored (`python -m bot school set …`, decrypted with SECRETS_KEY), otherwise — only for
the school the environment names (SCHOOL_NAME; as today, the first school when none has that
name) — TELEGRAM_BOT_TOKEN and WECOM_* from the environment. A single-school install therefore
runs exactly as before: no row in `school_config`, no new setting, the environment's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from models.db.engine import Database
from models.roster.queries import current_school
from models.school.config import SchoolConfig, effective_rules
from models.school.rules import SchoolRules
from models.school.secrets import decrypt
from models.school.tables import School

#: Where a channel's credentials come from: the school's own row, or the environment.
Source = Literal["school", "environment"]


@dataclass(frozen=True)
class WecomCredentials:
    corp_id: str
    agent_id: int
    secret: SecretStr
    token: SecretStr
    aes_key: SecretStr


@dataclass(frozen=True)
class SchoolRuntime:
    """One school as it runs: what its dispatcher and its scheduled jobs are configured with.

    Satisfies `scheduler.run.SchoolSettings` (zone, rules, school_name), so
    `RunConfig.from_settings(runtime)` configures the school's jobs."""

    school_id: int
    name: str
    zone: ZoneInfo
    rules: SchoolRules
    telegram_token: SecretStr | None = None
    wecom: WecomCredentials | None = None
    telegram_source: Source | None = None
    wecom_source: Source | None = None
    #: Whether this is the school the environment names (SCHOOL_NAME), the single-school one.
    environment_school: bool = False
    #: What keeps a channel from running (a WeCom app stored only in part), in Chinese.
    problems: tuple[str, ...] = ()

    @property
    def school_name(self) -> str:
        return self.name

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this school can run ("telegram", "wecom")."""
        return (("telegram",) if self.telegram_token else ()) + (("wecom",) if self.wecom else ())

    def channel_settings(self, settings: Settings) -> Settings:
        """`settings` as this school runs with them: its name, zone, rules and credentials in
        place of the environment's (equal to `settings` for the single-school install)."""
        wecom = self.wecom
        return settings.model_copy(
            update={
                "school_name": self.name,
                "timezone": self.zone.key,
                "rules": self.rules,
                "telegram_bot_token": self.telegram_token,
                "wecom_corp_id": wecom.corp_id if wecom else None,
                "wecom_agent_id": wecom.agent_id if wecom else None,
                "wecom_secret": wecom.secret if wecom else None,
                "wecom_token": wecom.token if wecom else None,
                "wecom_encoding_aes_key": wecom.aes_key if wecom else None,
            }
        )


def _environment_wecom(settings: Settings) -> WecomCredentials | None:
    if not settings.wecom_configured:  # raises on a partial set, as `bot run` always has
        return None
    assert settings.wecom_corp_id and settings.wecom_agent_id is not None
    assert settings.wecom_secret and settings.wecom_token and settings.wecom_encoding_aes_key
    return WecomCredentials(
        corp_id=settings.wecom_corp_id,
        agent_id=settings.wecom_agent_id,
        secret=settings.wecom_secret,
        token=settings.wecom_token,
        aes_key=settings.wecom_encoding_aes_key,
    )


def _stored_wecom(
    settings: Settings, school: School, config: SchoolConfig
) -> tuple[WecomCredentials | None, str | None]:
    missing = config.wecom_missing()
    if missing:
        return None, (
            f"学校“{school.name}”的企业微信凭据不完整（还缺少 {'、'.join(missing)}），"
            "企业微信没有启用。请用 python -m bot school set 补齐。"
        )
    key = settings.secrets_key_value
    assert config.wecom_corp_id and config.wecom_agent_id is not None
    assert config.wecom_secret and config.wecom_token and config.wecom_aes_key
    return WecomCredentials(
        corp_id=config.wecom_corp_id,
        agent_id=config.wecom_agent_id,
        secret=SecretStr(decrypt(key, config.wecom_secret, school=school.name)),
        token=SecretStr(decrypt(key, config.wecom_token, school=school.name)),
        aes_key=SecretStr(decrypt(key, config.wecom_aes_key, school=school.name)),
    ), None


def school_settings(
    settings: Settings,
    school: School,
    config: SchoolConfig | None,
    *,
    environment_school: bool | None = None,
    credentials: bool = True,
) -> SchoolRuntime:
    """What `school` runs with (see the module doc). `environment_school`: whether the
    environment's credentials are its own (default: the school is named SCHOOL_NAME).
    ConfigError when stored credentials cannot be decrypted (no SECRETS_KEY, or another one)
    or the stored rules no longer validate. `credentials=False` leaves the channels out (for
    what needs only the rules and the zone, such as `jobs run`): nothing is decrypted."""
    assert school.id is not None
    if environment_school is None:
        environment_school = school.name == settings.school_name
    rules = effective_rules(settings.rules, config.rules if config else {})
    if environment_school and "timezone" in settings.model_fields_set:
        zone = settings.zone  # TIMEZONE set for the single school, as it always was
    else:
        zone = ZoneInfo(school.timezone)
    telegram: SecretStr | None = None
    telegram_source: Source | None = None
    if credentials and config is not None and config.telegram_token:
        telegram = SecretStr(
            decrypt(settings.secrets_key_value, config.telegram_token, school=school.name)
        )
        telegram_source = "school"
    elif credentials and environment_school and settings.telegram_token:
        telegram, telegram_source = SecretStr(settings.telegram_token), "environment"
    wecom: WecomCredentials | None = None
    wecom_source: Source | None = None
    problems: tuple[str, ...] = ()
    if credentials and config is not None and "wecom" in config.channels():
        wecom, problem = _stored_wecom(settings, school, config)
        wecom_source = "school" if wecom else None
        problems += (problem,) if problem else ()
    elif credentials and environment_school:
        wecom = _environment_wecom(settings)
        wecom_source = "environment" if wecom else None
    return SchoolRuntime(
        school_id=school.id,
        name=school.name,
        zone=zone,
        rules=rules,
        telegram_token=telegram,
        wecom=wecom,
        telegram_source=telegram_source,
        wecom_source=wecom_source,
        environment_school=environment_school,
        problems=problems,
    )


async def _environment_school_id(session: AsyncSession, settings: Settings) -> int | None:
    school = await current_school(session=session, name=settings.school_name)
    return school.id if school is not None else None


async def school_runtime(
    db: Database, settings: Settings, name: str | None = None, *, credentials: bool = True
) -> SchoolRuntime | None:
    """The school named (default: the environment's, SCHOOL_NAME, as `bot run` finds it) as it
    runs; None when the database has no school."""
    async with db.session() as session:
        school = await current_school(session=session, name=name or settings.school_name)
        if school is None or school.id is None:
            return None
        config = await session.get(SchoolConfig, school.id)
        environment_id = await _environment_school_id(session, settings)
    return school_settings(
        settings,
        school,
        config,
        environment_school=school.id == environment_id,
        credentials=credentials,
    )


async def configured_schools(db: Database, settings: Settings) -> list[SchoolRuntime]:
    """Every school on the deployment as it runs, in the order they were created."""
    async with db.session() as session:
        schools = list((await session.exec(select(School).order_by(col(School.id)))).all())
        configs = {row.school_id: row for row in (await session.exec(select(SchoolConfig))).all()}
        environment_id = await _environment_school_id(session, settings)
    return [
        school_settings(
            settings,
            school,
            configs.get(school.id or 0),
            environment_school=school.id == environment_id,
        )
        for school in schools
    ]


async def settings_for_school(
    db: Database, settings: Settings, name: str | None = None, *, credentials: bool = True
) -> Settings:
    """`settings` as the school named (default: SCHOOL_NAME's) runs with them: its effective
    rules, zone and credentials (`SchoolRuntime.channel_settings`); `settings` itself when the
    database has no school yet."""
    runtime = await school_runtime(db, settings, name, credentials=credentials)
    return runtime.channel_settings(settings) if runtime is not None else settings


async def rules_for(db: Database, settings: Settings, name: str | None = None) -> SchoolRules:
    """The effective rules of the school named (default: SCHOOL_NAME's), for a command that acts
    on one school (an export); the environment's when the database has no school."""
    runtime = await school_runtime(db, settings, name, credentials=False)
    return runtime.rules if runtime is not None else settings.rules
