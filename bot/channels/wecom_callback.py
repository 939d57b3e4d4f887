"""WeChat Work's callback URL: URL verification (GET) and encrypted messages and events (POST).

WeCom signs every request (`msg_signature` over token, timestamp, nonce and the ciphertext) and
encrypts its body with the app's EncodingAESKey; wechatpy's `WeChatCrypto` checks and decrypts.
A request is refused (403) when its signature is wrong, its timestamp is more than five minutes
off our clock, or its nonce was seen before by the school's app (nonces are kept per school in
`wecom_nonce`, so every process of the bot and a restart agree, and two schools' apps may send
the same nonce). The URL verification passes the same checks (`_check_window`,
`_claim_nonce`) and is accepted only while the app is being configured: until WeCom's first
callback under the app's keys (`bot.channels.wecom_verification`). Otherwise the GET would
answer any signed ciphertext decrypted — a captured callback's `Encrypt` as `echostr` included.
A refused verification gets 403 and an empty body.

WeCom waits at most five seconds for an answer and then sends the same callback again. So a
message is answered at once (body `success`) and handed to `on_message` afterwards, in a
background task; a message WeCom re-sends (same MsgId, or for events the same sender, time and
event) is claimed once in `inbound_seen` (under `CALLBACK_CHANNEL`, so the dispatcher's own claim
on the `wecom` channel with the same `update_key` still works) and handed on only the first time.

Nothing answered is lost: before the answer, the message is kept in `wecom_inbox` (same
transaction as its nonce and its claim), and marked handled once `on_message` returns. When the
bot starts, messages of the last day still open (it stopped in between) are handed on then.

`on_message` receives the message's fields as WeCom names them (`FromUserName`, `MsgType`,
`Content`, `Event`, …) plus `update_key`, to be used as `Inbound.update_key`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from aiohttp import web
from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.channels.wecom_verification import fingerprint_of, in_use, record_in_use
from bot.settings import Settings
from bot.web.security import MAX_BODY_BYTES, web_application
from models.conversations.store import claim_update
from models.db.columns import utcnow
from models.db.engine import Database
from models.db.update_tx import AlreadyHandled, UpdateTx
from models.roster.queries import current_school
from models.wecom.tables import WecomInbox, WecomNonce

log = logging.getLogger(__name__)

#: The `inbound_seen` channel under which the endpoint claims a callback (not "wecom": the
#: dispatcher claims the same `update_key` there when the message reaches a flow).
CALLBACK_CHANNEL = "wecom-callback"
#: How far a callback's timestamp may be from our clock, either way.
MAX_SKEW = timedelta(minutes=5)
#: How long callbacks are kept in `wecom_inbox` (and how old an unhandled one may be replayed).
INBOX_KEEP = timedelta(days=1)
_MAX_NONCE = 64

CallbackMessage = dict[str, Any]
OnMessage = Callable[[CallbackMessage], Awaitable[None]]
Clock = Callable[[], datetime]

TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("wecom_callback_tasks")


def crypto_for(*, token: str, encoding_aes_key: str, corp_id: str) -> WeChatCrypto:
    """wechatpy's crypto for one app (raises ValueError for a malformed EncodingAESKey)."""
    try:
        return WeChatCrypto(token, encoding_aes_key, corp_id)
    except (AssertionError, ValueError) as exc:  # wechatpy asserts a 32-byte key
        raise ValueError("WECOM_ENCODING_AES_KEY must be the 43 characters WeCom shows") from exc


def crypto_from_settings(settings: Settings) -> WeChatCrypto | None:
    """The callback crypto from WECOM_CORP_ID, WECOM_TOKEN and WECOM_ENCODING_AES_KEY, if set."""
    if not (settings.wecom_corp_id and settings.wecom_token and settings.wecom_encoding_aes_key):
        return None
    return crypto_for(
        token=settings.wecom_token.get_secret_value().strip(),
        encoding_aes_key=settings.wecom_encoding_aes_key.get_secret_value().strip(),
        corp_id=settings.wecom_corp_id.strip(),
    )


def update_key_of(message: CallbackMessage) -> str:
    """The key that is the same when WeCom re-sends a callback, and differs otherwise.

    Messages carry a MsgId. Events have none: the sender, the time and the event identify them
    (with the card's task id and the button's key, so two card clicks in one second differ);
    hashed, as a WeCom user id alone may take the column's 64 characters.
    """
    msg_id = str(message.get("MsgId") or "").strip()
    if msg_id and msg_id != "0":
        return msg_id
    parts = [
        str(message.get(name) or "")
        for name in ("FromUserName", "CreateTime", "Event", "EventKey", "TaskId")
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return f"event:{digest}"


def _nonce_statement(dialect: str) -> Any:
    insert_for = pg_insert if dialect == "postgresql" else sqlite_insert
    table = WecomNonce.__table__  # type: ignore[attr-defined]
    return (
        insert_for(table)
        .values(
            school_id=bindparam("school_id"), nonce=bindparam("nonce"), seen_at=bindparam("seen_at")
        )
        .on_conflict_do_nothing(index_elements=["school_id", "nonce"])
    )


_NONCE = {dialect: _nonce_statement(dialect) for dialect in ("sqlite", "postgresql")}


async def claim_nonce(*, session: AsyncSession, school_id: int, nonce: str, now: datetime) -> bool:
    """Record a nonce sent to `school_id`'s app; False if that app saw it before (a replay).

    Nonces older than three times the allowed skew are forgotten: a callback that old is refused
    for its timestamp anyway.
    """
    await session.exec(delete(WecomNonce).where(col(WecomNonce.seen_at) < now - 3 * MAX_SKEW))
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    connection = await session.connection()
    values = {"school_id": school_id, "nonce": nonce, "seen_at": now}
    result = await connection.execute(_NONCE[dialect], values)
    return bool(result.rowcount)


async def keep(
    *, session: AsyncSession, school_id: int, message: CallbackMessage, now: datetime
) -> None:
    """Keep an accepted callback to `school_id`'s app until it is handled; handled ones older
    than a day go."""
    await session.exec(
        delete(WecomInbox).where(
            col(WecomInbox.handled_at).is_not(None),
            col(WecomInbox.received_at) < now - INBOX_KEEP,
        )
    )
    session.add(
        WecomInbox(
            school_id=school_id,
            update_key=str(message["update_key"]),
            payload=json.dumps(message, ensure_ascii=False),
            received_at=now,
        )
    )


async def mark_handled(
    *, session: AsyncSession, school_id: int, update_key: str, now: datetime
) -> None:
    query = select(WecomInbox).where(
        WecomInbox.school_id == school_id, WecomInbox.update_key == update_key
    )
    row = (await session.exec(query)).first()
    if row is not None and row.handled_at is None:
        row.handled_at = now
        session.add(row)


async def unhandled(
    *, session: AsyncSession, school_id: int, now: datetime
) -> list[CallbackMessage]:
    """Callbacks to `school_id`'s app of the last day answered but never handled, oldest first
    (another school's bot on the same database handles its own)."""
    rows = await session.exec(
        select(WecomInbox)
        .where(
            WecomInbox.school_id == school_id,
            col(WecomInbox.handled_at).is_(None),
            col(WecomInbox.received_at) >= now - INBOX_KEEP,
        )
        .order_by(col(WecomInbox.received_at), col(WecomInbox.id))
    )
    return [json.loads(row.payload) for row in rows.all()]


def _fresh(timestamp: str, now: datetime) -> bool:
    try:
        sent = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return False
    return abs(now - sent) <= MAX_SKEW


def _signed_query(request: web.Request, *extra: str) -> tuple[str, ...]:
    names = ("msg_signature", "timestamp", "nonce", *extra)
    values = tuple(request.query.get(name, "") for name in names)
    if not all(values):
        raise web.HTTPBadRequest(text="missing " + ", ".join(names))
    return values


def _refuse(what: str, why: str) -> NoReturn:
    """403 with an empty body: the reason goes to the log only."""
    log.warning("wecom %s refused: %s", what, why)
    raise web.HTTPForbidden(text="")


def _check_window(what: str, *, timestamp: str, nonce: str, now: datetime) -> None:
    """What every signed request passes before its signature is checked: a nonce of sane length
    and a timestamp within `MAX_SKEW` of our clock."""
    if len(nonce) > _MAX_NONCE:
        _refuse(what, "nonce too long")
    if not _fresh(timestamp, now):
        _refuse(what, "timestamp out of range")


async def _claim_nonce(
    what: str, *, session: AsyncSession, school_id: int, nonce: str, now: datetime
) -> None:
    """What every signed request passes after its signature is checked: a nonce used once with
    the school's app (by a callback or a verification alike)."""
    if not await claim_nonce(session=session, school_id=school_id, nonce=nonce, now=now):
        _refuse(what, "nonce replayed")


class _Endpoint:
    def __init__(
        self,
        *,
        db: Database,
        crypto: WeChatCrypto,
        on_message: OnMessage,
        now: Clock,
        school_name: str | None,
    ) -> None:
        self.db, self.crypto, self.on_message, self.now = db, crypto, on_message, now
        self.school_name = school_name
        #: The school whose app this is, once found (`_school_id`).
        self.school_id: int | None = None
        self.fingerprint = fingerprint_of(crypto)
        #: Known to be in use (a callback was accepted): verification is refused without asking
        #: the database. Not known is asked each time (another process may have recorded it).
        self.in_use = False

    async def verify(self, request: web.Request) -> web.Response:
        """URL verification: WeCom sends an encrypted `echostr`; we answer it decrypted, only
        while the app is being configured, and checked like a callback."""
        what = "URL verification"
        if self.in_use:
            _refuse(what, "the app is configured (a callback was received)")
        names = ("msg_signature", "timestamp", "nonce", "echostr")
        signature, timestamp, nonce, echostr = (request.query.get(name, "") for name in names)
        if not (signature and timestamp and nonce and echostr):
            _refuse(what, "missing parameters")
        now = self.now()
        _check_window(what, timestamp=timestamp, nonce=nonce, now=now)
        try:
            plain = self.crypto.check_signature(signature, timestamp, nonce, echostr)
        except Exception:  # a bad signature, another corp, or not a ciphertext at all
            _refuse(what, "bad signature or echostr")
        async with self.db.session() as session:
            if await in_use(session=session, fingerprint=self.fingerprint):
                self.in_use = True
                _refuse(what, "the app is configured (a callback was received)")
            school_id = await self._school_id(session)
            await _claim_nonce(what, session=session, school_id=school_id, nonce=nonce, now=now)
        log.info("wecom URL verification answered")
        return web.Response(text=str(plain))

    async def _school_id(self, session: AsyncSession) -> int:
        """The school whose WeCom app this is (SCHOOL_NAME's, as the dispatcher finds it): its
        nonces are kept, and its callbacks claimed and kept, under it. 503 while the database
        has no school (WeCom sends the callback again later)."""
        if self.school_id is None:
            school = await current_school(session=session, name=self.school_name)
            if school is None or school.id is None:
                log.warning("wecom callback refused: the database has no school yet")
                raise web.HTTPServiceUnavailable(text="")
            self.school_id = school.id
        return self.school_id

    async def receive(self, request: web.Request) -> web.StreamResponse:
        signature, timestamp, nonce = _signed_query(request)
        now = self.now()
        _check_window("callback", timestamp=timestamp, nonce=nonce, now=now)
        body = await request.read()
        message = self._open(body, signature, timestamp, nonce)
        update_key = update_key_of(message)
        message = {**message, "update_key": update_key}
        async with self.db.session() as session:
            school_id = await self._school_id(session)
            await _claim_nonce(
                "callback", session=session, school_id=school_id, nonce=nonce, now=now
            )
            if not self.in_use:
                await record_in_use(session=session, fingerprint=self.fingerprint, now=now)
            try:
                await claim_update(
                    tx=UpdateTx(session),
                    school_id=school_id,
                    channel=CALLBACK_CHANNEL,
                    update_key=update_key,
                )
                first = True
            except AlreadyHandled:
                first = False
            if first:
                await keep(session=session, school_id=school_id, message=message, now=now)
        self.in_use = True
        # Answer first (WeCom allows five seconds), then do the work.
        response = web.Response(text="success")
        await response.prepare(request)
        await response.write_eof()
        if first:
            self._spawn(request.app, message)
        else:
            log.info("wecom callback %s re-sent: already handled", update_key)
        return response

    def _open(self, body: bytes, signature: str, timestamp: str, nonce: str) -> CallbackMessage:
        try:
            xml = self.crypto.decrypt_message(body, signature, timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException):
            _refuse("callback", "bad signature")
        except Exception:
            raise web.HTTPBadRequest(text="bad body") from None
        try:
            parsed = parse_message(xml)
            fields = dict(parsed._data) if parsed is not None else {}
        except Exception:
            fields = {}
        if not fields.get("MsgType") or not fields.get("FromUserName"):
            raise web.HTTPBadRequest(text="bad message")
        return fields

    def _spawn(self, app: web.Application, message: CallbackMessage) -> None:
        task = asyncio.create_task(self._deliver(message))
        tasks = app[TASKS]
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _deliver(self, message: CallbackMessage) -> None:
        try:
            await self.on_message(message)
        except Exception:
            # No personal data in the log: the key says which callback it was. It counts as
            # handled: a message that fails every time must not be retried at every start.
            log.exception("wecom callback %s failed", message.get("update_key"))
        try:
            async with self.db.session() as session:
                await mark_handled(
                    session=session,
                    school_id=await self._school_id(session),
                    update_key=str(message["update_key"]),
                    now=self.now(),
                )
        except Exception:
            log.exception("wecom callback %s: could not mark it handled", message["update_key"])

    async def replay(self, app: web.Application) -> None:
        """Hand on what was answered but not handled before the bot stopped."""
        async with self.db.session() as session:
            school = await current_school(session=session, name=self.school_name)
            if school is None or school.id is None:
                return
            pending = await unhandled(session=session, school_id=school.id, now=self.now())
        if pending:
            log.info("wecom: handling %d callback(s) left from before the restart", len(pending))
        for message in pending:
            self._spawn(app, message)


async def drain(app: web.Application) -> None:
    """Wait for the callbacks handed on so far (on shutdown, and in tests)."""
    tasks = app[TASKS]
    while tasks:
        await asyncio.gather(*list(tasks), return_exceptions=True)


async def _drain_on_shutdown(app: web.Application) -> None:
    await drain(app)


def create_app(
    *,
    db: Database,
    crypto: WeChatCrypto,
    on_message: OnMessage,
    path: str = "/wecom/callback",
    now: Clock = utcnow,
    max_body_bytes: int = MAX_BODY_BYTES,
    school_name: str | None = None,
) -> web.Application:
    """The web server's application (`bot.web.security`) with the callback: GET and POST on
    `path`, for the app of the school named (None: the first school), as the dispatcher finds
    it."""
    endpoint = _Endpoint(
        db=db, crypto=crypto, on_message=on_message, now=now, school_name=school_name
    )
    app = web_application(max_body_bytes=max_body_bytes)
    app[TASKS] = set()
    app.router.add_get(path, endpoint.verify)
    app.router.add_post(path, endpoint.receive)
    app.on_shutdown.append(_drain_on_shutdown)
    app.on_startup.append(endpoint.replay)
    return app
