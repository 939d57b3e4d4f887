"""One place for configuration: the environment and `.env`, validated by pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.errors import ConfigError
from models.school.rules import SchoolRules

#: Values shipped in `.env.example`; a real deployment must replace them.
PLACEHOLDERS = frozenset(
    {"", "changeme", "your-bot-token", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"}
)


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = Field(default="sqlite:///jiafang.db")
    school_name: str = "示范小学"
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh"

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_bot_username: str | None = None
    #: `bot run --webhook`: the bot's public https address, e.g. https://bot.example.cn (no
    #: trailing /); Telegram posts each update to it + `/tg/<school id>/<path secret>`.
    telegram_webhook_url: str | None = None
    #: What the webhook's path and secret token are derived from (any long random string; keep
    #: it stable). Not set: SECRETS_KEY, else the bot token (`bot.channels.telegram_webhook`).
    telegram_webhook_secret: SecretStr | None = None

    #: WeChat Work (企业微信): the corp id, the self-built app's id, and its callback's Token and
    #: EncodingAESKey (43 characters), as the app's "接收消息" page shows them.
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_token: SecretStr | None = None
    wecom_encoding_aes_key: SecretStr | None = None
    #: The app's Secret (应用管理 → the app → Secret), for the API's access token.
    wecom_secret: SecretStr | None = None
    #: Where the WeCom API lives; tests and proxies point it elsewhere.
    wecom_api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"

    #: The bot's own web server (WeCom callbacks, the parents' receipt page).
    web_host: str = "0.0.0.0"
    web_port: int = 8080
    #: Listen with SO_REUSEPORT, so that several processes share WEB_PORT and the kernel spreads
    #: the connections among them: set by `bot run --workers N` for its workers (`bot.workers`).
    web_reuse_port: bool = False
    #: The largest request body it accepts (bigger: 413, nothing read further); WeCom's callbacks
    #: and the receipt page's forms are a few KiB (see `bot.web.security.MAX_BODY_BYTES`).
    web_max_body_bytes: int = Field(default=64 * 1024, ge=4096)
    #: How parents' phones reach that server, e.g. https://jiafang.school.cn (no trailing /).
    public_base_url: str | None = None
    #: Signs the receipt page's links (any long random string; keep it secret and stable).
    link_secret: SecretStr | None = None
    #: Encrypts the channel credentials stored for each school (`python -m bot school set …`):
    #: a Fernet key, as `python -m bot school key` prints one. Not needed by a single school
    #: configured in the environment; never change it while credentials are stored under it.
    secrets_key: SecretStr | None = None

    invite_ttl_days: int = 30
    conversation_timeout_minutes: int = 30
    log_level: str = "INFO"
    #: Log lines as text (the default) or one JSON object per line (LOG_FORMAT=json); the same
    #: privacy rules either way (`bot.private_logging`).
    log_format: Literal["text", "json"] = "text"
    #: Redis shared by every worker process (e.g. redis://127.0.0.1:6379/0), so that together
    #: they keep each bot's messenger limits (`bot.delivery.shared_pacing`). Unset: each process
    #: paces its own sends, right for one worker.
    rate_limit_url: str | None = None
    #: `/healthz` says `degraded` once the oldest due outbox message has waited this long.
    health_outbox_lag_seconds: float = Field(default=300.0, gt=0)
    #: The school's rules (quotas, quiet hours, deadlines); e.g. RULES__QUIET_START=21:30.
    rules: SchoolRules = SchoolRules()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as exc:  # ZoneInfoNotFoundError or a bad key
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def web_server_requested(self) -> bool:
        """WEB_PORT given (in the environment or `.env`): the web server, with `/healthz` and
        `/metrics`, runs whatever the channels; otherwise only with WeCom, as before."""
        return "web_port" in self.model_fields_set

    @property
    def wecom_configured(self) -> bool:
        """Whether every WeCom setting the bot needs is given (a partial set is an error)."""
        values = {
            "WECOM_CORP_ID": self.wecom_corp_id,
            "WECOM_AGENT_ID": self.wecom_agent_id,
            "WECOM_SECRET": self.wecom_secret,
            "WECOM_TOKEN": self.wecom_token,
            "WECOM_ENCODING_AES_KEY": self.wecom_encoding_aes_key,
        }
        given = {k for k, v in values.items() if _given(v)}
        if not given:
            return False
        missing = sorted(set(values) - given)
        if missing:
            raise ConfigError(
                "企业微信设置不完整，还缺少："
                + "、".join(missing)
                + "。请在 .env 中补齐，或全部删除。"
            )
        return True

    @property
    def secrets_key_value(self) -> str | None:
        """SECRETS_KEY in clear, or None when it is not set."""
        if self.secrets_key is None:
            return None
        return self.secrets_key.get_secret_value().strip() or None

    @property
    def telegram_token(self) -> str | None:
        """The Telegram token, or None when Telegram is not configured.

        A token copied unchanged from `.env.example` is refused with a clear message.
        """
        if self.telegram_bot_token is None:
            return None
        token = self.telegram_bot_token.get_secret_value().strip()
        if not token:
            return None
        if token in PLACEHOLDERS:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN 仍是 .env.example 中的示例值，请换成 @BotFather 给出的真实令牌，"
                "或删除这一行以使用控制台通道。"
            )
        return token


def _given(value: object) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is not None and str(value).strip() != ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
