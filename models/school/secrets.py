"""Channel credentials at rest: encrypted with Fernet (AES-128-CBC with an HMAC) under the
deployment's SECRETS_KEY, and masked whenever they are shown."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from models.errors import ConfigError

NO_KEY = (
    "没有设置 SECRETS_KEY：学校的渠道凭据要加密保存，必须先有密钥。请运行 python -m bot school key "
    "生成一个，写入 .env（SECRETS_KEY=…）并妥善备份，然后再试。"
)
BAD_KEY = (
    "SECRETS_KEY 不是有效的密钥（应是 python -m bot school key 生成的 44 个字符）。"
    "请检查 .env 中的 SECRETS_KEY。"
)
WRONG_KEY = (
    "无法解密学校“{school}”保存的渠道凭据：SECRETS_KEY 与保存时所用的不一致。"
    "请换回原来的密钥，或用 python -m bot school set 重新保存凭据。"
)


def new_key() -> str:
    """A new key for SECRETS_KEY (urlsafe base64, 44 characters)."""
    return Fernet.generate_key().decode("ascii")


def _fernet(key: str | None) -> Fernet:
    if not key:
        raise ConfigError(NO_KEY)
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ConfigError(BAD_KEY) from None


def check_key(key: str | None) -> None:
    """ConfigError unless `key` is a usable SECRETS_KEY."""
    _fernet(key)


def encrypt(key: str | None, secret: str) -> str:
    """`secret` encrypted under `key` (ConfigError without a usable key)."""
    return _fernet(key).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(key: str | None, stored: str, *, school: str) -> str:
    """What `encrypt` stored, in clear (ConfigError without the key it was stored under)."""
    try:
        return _fernet(key).decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise ConfigError(WRONG_KEY.format(school=school)) from None


def mask(secret: str) -> str:
    """A secret as it may be shown: its first and last four characters (`7000…abcd`), or only
    `…` for one too short to show any of it."""
    if len(secret) < 16:
        return "…"
    return f"{secret[:4]}…{secret[-4:]}"
