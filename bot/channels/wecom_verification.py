"""Whether WeCom's URL verification is still accepted: only while the app is being configured.

WeCom verifies the callback URL (a GET whose `echostr` the bot answers decrypted) when an admin
saves it, and sends callbacks only afterwards. So the verification is accepted until the first
callback under the app's keys is accepted; that callback records the app (`wecom_callback_app`,
same transaction as its nonce) and every verification after it is refused. The GET never
decrypts a callback's ciphertext on request: before the first callback there is none, after it
the GET is closed. New keys (Token or EncodingAESKey) make a new fingerprint: their URL can be
verified again, until their first callback.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from wechatpy.enterprise.crypto import WeChatCrypto

from models.wecom.tables import WecomCallbackApp


def fingerprint_of(crypto: WeChatCrypto) -> str:
    """A SHA-256 over the corp id, the Token and the EncodingAESKey (the key's 256 random bits
    make it impossible to reverse)."""
    digest = hashlib.sha256()
    for part in (str(crypto.corp_id).encode(), str(crypto.token).encode(), bytes(crypto.key)):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.hexdigest()


def _record_statement(dialect: str) -> Any:
    insert_for = pg_insert if dialect == "postgresql" else sqlite_insert
    table = WecomCallbackApp.__table__  # type: ignore[attr-defined]
    return (
        insert_for(table)
        .values(fingerprint=bindparam("fingerprint"), first_callback_at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["fingerprint"])
    )


_RECORD = {dialect: _record_statement(dialect) for dialect in ("sqlite", "postgresql")}


async def in_use(*, session: AsyncSession, fingerprint: str) -> bool:
    """True once WeCom has sent the app a callback: its URL verification is over."""
    found = await session.exec(
        select(WecomCallbackApp.id).where(WecomCallbackApp.fingerprint == fingerprint)
    )
    return found.first() is not None


async def record_in_use(*, session: AsyncSession, fingerprint: str, now: datetime) -> None:
    """Record the app's first callback (a later one changes nothing)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    connection = await session.connection()
    await connection.execute(_RECORD[dialect], {"fingerprint": fingerprint, "at": now})
