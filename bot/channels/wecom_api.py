"""An async facade over wechatpy's WeCom (企业微信) client: app messages, cards, school notices.

* The API base URL is configurable (tests point it at `tests.fakes.wecom_server`); wechatpy's
  `fetch_access_token()` has the real gettoken URL hard-coded, so it is overridden here.
* The access token lives in the database (`models.wecom.tables.WecomToken`, one row per corp and app),
  shared by every process of the bot; this process keeps a copy in memory while it is valid.
* Errcode 40014/42001 (invalid or expired token): the token is refreshed — taken from the
  database if another process refreshed it already — and the call retried. A token taken that
  way may be as old as the one refused (the same expiry hit it): refused too, it is followed by
  one fetched here; a token fetched here and refused is an error.
* Errcode -1 (system busy) and 45009 (frequency limit): retried after each of `retry_delays`.
* wechatpy is blocking (requests): every call runs in a thread under `asyncio.timeout`.
  A call that times out is never retried: WeCom may have delivered it.

Per-member sending limits (30 a minute, 1,000 an hour) are the sender's business, not this one's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot import metrics
from models.db.columns import utcnow
from models.db.engine import Database
from models.wecom.tables import WecomToken

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
T = TypeVar("T")

#: WeCom's own address; anything else (a local fake) is configured.
WECOM_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/"
#: The token was refused: invalid (40014) or expired (42001).
TOKEN_ERRORS = frozenset({40014, 42001})
#: Token refreshes for one call: a token taken from elsewhere may be refused too (see above).
MAX_REFRESHES = 3
#: Worth another try a little later: system busy (-1), frequency limit (45009).
BUSY_ERRORS = frozenset({-1, 45009})
#: WeCom's "too many calls" answer (its 429).
FREQUENCY_LIMIT = 45009
#: Template cards that return a `response_code` for later updates.
INTERACTIVE_CARDS = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})


@dataclass(frozen=True)
class WecomConfig:
    """How to reach the school's self-built app."""

    corp_id: str
    secret: str
    agent_id: int
    base_url: str = WECOM_BASE_URL
    #: Seconds for one HTTP call (in its thread and on the event loop).
    timeout: float = 10.0
    #: Pauses before each retry of a busy (-1) or rate-limited (45009) call.
    retry_delays: tuple[float, ...] = (1.0, 3.0, 10.0)
    #: A token this close to its expiry is refreshed before use.
    token_margin: timedelta = timedelta(minutes=5)

    @property
    def app_key(self) -> str:
        """The `WecomToken.app` of this app: "corp_id:agent_id"."""
        return f"{self.corp_id}:{self.agent_id}"


class WecomError(Exception):
    """WeCom refused a call (errcode), or it could not be reached (errcode None)."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WecomTimeout(WecomError):
    """No answer in time: the call may or may not have taken effect."""

    def __init__(self, what: str) -> None:
        super().__init__(None, f"no answer to {what} in time")


@dataclass(frozen=True)
class SentMessage:
    msgid: str
    #: For interactive template cards: the code `update_template_card` needs.
    response_code: str | None = None
    #: Recipients WeCom did not accept (lower-cased by WeCom).
    invalid_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchoolNoticeResult:
    invalid_parents: tuple[str, ...] = ()
    invalid_students: tuple[str, ...] = ()
    invalid_parties: tuple[int, ...] = ()


@dataclass(frozen=True)
class Member:
    """A member of the school's WeCom (staff)."""

    userid: str
    name: str
    mobile: str | None
    departments: tuple[int, ...]


@dataclass(frozen=True)
class Parent:
    """A parent in the 家校通讯录, as listed under a student."""

    parent_userid: str
    relation: str
    mobile: str | None
    subscribed: bool
    external_userid: str | None


@dataclass(frozen=True)
class SchoolStudent:
    """A student in the 家校通讯录 with their parents."""

    student_userid: str
    name: str
    departments: tuple[int, ...]
    parents: tuple[Parent, ...]


def news_article(title: str, description: str, url: str, picurl: str | None = None) -> JSONDict:
    """The content of a `news` school notice with one article (a link card)."""
    article: JSONDict = {"title": title, "description": description, "url": url}
    if picurl:
        article["picurl"] = picurl
    return {"articles": [article]}


class _Client(WeChatClient):  # type: ignore[misc]  # wechatpy has no types
    """wechatpy's WeCom client, pointed at a configurable base URL, gettoken included."""

    def __init__(self, config: WecomConfig) -> None:
        super().__init__(config.corp_id, config.secret, timeout=config.timeout, auto_retry=False)
        self.API_BASE_URL = config.base_url

    def fetch_access_token(self) -> JSONDict:
        """GET gettoken at our base URL (wechatpy's own has the real URL and no timeout)."""
        res = self._http.get(
            url=f"{self.API_BASE_URL}gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
            timeout=self.timeout,
        )
        res.raise_for_status()
        result: JSONDict = res.json()
        errcode = int(result.get("errcode", 0))
        if errcode != 0:
            raise WeChatClientException(errcode, result.get("errmsg", ""), client=self)
        return result


@dataclass
class _Token:
    value: str
    expires_at: datetime


class WecomApi:
    """`await api.send_text("zhangsan", "…")` — typed, retried, off the event loop."""

    def __init__(
        self,
        db: Database,
        config: WecomConfig,
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self._now = now
        self._client = _Client(config)
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return str(self._client.API_BASE_URL)

    # -- messages to members (staff) -------------------------------------------------------

    async def send_text(self, userid: str, text: str) -> SentMessage:
        return await self._send(userid, "text", {"content": text})

    async def send_image(self, userid: str, media_id: str) -> SentMessage:
        return await self._send(userid, "image", {"media_id": media_id})

    async def send_file(self, userid: str, media_id: str) -> SentMessage:
        return await self._send(userid, "file", {"media_id": media_id})

    async def upload_image(self, filename: str, data: bytes, content_type: str) -> str:
        """A temporary image (kept by WeCom for three days) for `send_image`; its media_id."""
        result = await self._call(
            "post",
            "media/upload",
            params={"type": "image"},
            files={"media": (filename, data, content_type)},
        )
        return str(result["media_id"])

    async def download_media(self, media_id: str, limit: int) -> bytes | None:
        """A file sent on WeCom (`media/get`; WeCom keeps it three days), at most `limit` bytes;
        None when WeCom no longer has it, answers with an error, or the file is larger."""
        token = await self._access_token()
        url = f"{self.base_url}media/get"
        params = {"access_token": token, "media_id": media_id}

        def get() -> bytes | None:
            http: requests.Session = self._client._http
            with http.get(url, params=params, timeout=self.config.timeout, stream=True) as res:
                kind = res.headers.get("Content-Type", "")
                if res.status_code != 200 or kind.startswith(("application/json", "text/")):
                    return None
                data = bytearray()
                for chunk in res.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > limit:
                        return None
                return bytes(data)

        try:
            return await self._blocking("media/get", get)
        except (WecomError, WecomTimeout):
            return None

    async def send_template_card(self, userid: str, card: Mapping[str, Any]) -> SentMessage:
        return await self._send(userid, "template_card", dict(card))

    async def update_template_card(
        self,
        userids: Sequence[str],
        response_code: str,
        *,
        replace_name: str | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> None:
        """Show what was chosen: replace the button by `replace_name`, or the whole `card`."""
        if (replace_name is None) == (card is None):
            raise ValueError("give either replace_name or card")
        body: JSONDict = {
            "userids": list(userids),
            "agentid": self.config.agent_id,
            "response_code": response_code,
        }
        if replace_name is not None:
            body["button"] = {"replace_name": replace_name}
        else:
            body["template_card"] = dict(card or {})
        await self._call("post", "message/update_template_card", data=body)

    async def _send(self, userid: str, msgtype: str, content: JSONDict) -> SentMessage:
        body: JSONDict = {
            "touser": userid,
            "msgtype": msgtype,
            "agentid": self.config.agent_id,
            msgtype: content,
        }
        result = await self._call("post", "message/send", data=body)
        return SentMessage(
            msgid=str(result.get("msgid", "")),
            response_code=result.get("response_code") or None,
            invalid_users=_split(result.get("invaliduser", "")),
        )

    # -- school notices to parents (家校消息) ------------------------------------------------

    async def send_school_notice(
        self,
        msgtype: str,
        content: Mapping[str, Any],
        *,
        parent_userids: Iterable[str] = (),
        student_userids: Iterable[str] = (),
        party_ids: Iterable[int] = (),
        to_all: bool = False,
        duplicate_check_seconds: int | None = None,
    ) -> SchoolNoticeResult:
        """POST externalcontact/message/send (e.g. msgtype "news" with `news_article(...)`)."""
        body: JSONDict = {
            "recv_scope": 0,
            "to_parent_userid": list(parent_userids),
            "to_student_userid": list(student_userids),
            "to_party": [str(p) for p in party_ids],
            "toall": 1 if to_all else 0,
            "msgtype": msgtype,
            "agentid": self.config.agent_id,
            msgtype: dict(content),
        }
        if duplicate_check_seconds is not None:
            body["enable_duplicate_check"] = 1
            body["duplicate_check_interval"] = duplicate_check_seconds
        result = await self._call("post", "externalcontact/message/send", data=body)
        return SchoolNoticeResult(
            invalid_parents=tuple(result.get("invalid_parent_userid") or ()),
            invalid_students=tuple(result.get("invalid_student_userid") or ()),
            invalid_parties=tuple(int(p) for p in result.get("invalid_party") or ()),
        )

    # -- directories -----------------------------------------------------------------------

    async def list_members(self, department_id: int = 1) -> list[Member]:
        """Every member under a department (1 = the whole school), with mobiles where visible."""
        result = await self._call(
            "get", "user/list", params={"department_id": department_id, "fetch_child": 1}
        )
        return [
            Member(
                userid=str(u["userid"]),
                name=str(u.get("name", "")),
                mobile=u.get("mobile") or None,
                departments=tuple(int(d) for d in u.get("department") or ()),
            )
            for u in result.get("userlist") or ()
        ]

    async def list_school_contacts(self, department_id: int = 1) -> list[SchoolStudent]:
        """The 家校通讯录: students under a department, each with their parents."""
        result = await self._call(
            "get", "school/user/list", params={"department_id": department_id, "fetch_child": 1}
        )
        return [
            SchoolStudent(
                student_userid=str(s["student_userid"]),
                name=str(s.get("name", "")),
                departments=tuple(int(d) for d in s.get("department") or ()),
                parents=tuple(
                    Parent(
                        parent_userid=str(p["parent_userid"]),
                        relation=str(p.get("relation", "")),
                        mobile=p.get("mobile") or None,
                        subscribed=bool(p.get("is_subscribe")),
                        external_userid=p.get("external_userid") or None,
                    )
                    for p in s.get("parents") or ()
                ),
            )
            for s in result.get("students") or ()
        ]

    # -- the call itself -------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: JSONDict | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> JSONDict:
        token = await self._access_token()
        fetched, refreshes = False, 0
        delays = iter(self.config.retry_delays)
        func = self._client.post if method == "post" else self._client.get
        while True:
            query = {**(params or {}), "access_token": token}
            kwargs: JSONDict = {"params": query}
            if data is not None:
                kwargs["data"] = data
            if files is not None:
                kwargs["files"] = dict(files)
            try:
                result: JSONDict = await self._blocking(endpoint, func, endpoint, **kwargs)
                return result
            except WecomTimeout:
                raise
            except WecomError as error:
                if error.errcode in TOKEN_ERRORS and not fetched and refreshes < MAX_REFRESHES:
                    log.info("wecom %s: token refused (%s), refreshing", endpoint, error.errcode)
                    token, fetched = await self._refresh(stale=token)
                    refreshes += 1
                    continue
                if error.errcode == FREQUENCY_LIMIT:
                    metrics.rate_limited("wecom")
                delay = next(delays, None) if error.errcode in BUSY_ERRORS else None
                if delay is None:
                    raise
                log.info("wecom %s: busy (%s), retrying in %ss", endpoint, error.errcode, delay)
                await asyncio.sleep(delay)

    async def _blocking(self, what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a wechatpy call in a thread, within the configured timeout."""
        try:
            async with asyncio.timeout(self.config.timeout):
                return await asyncio.to_thread(func, *args, **kwargs)
        except TimeoutError as exc:
            raise WecomTimeout(what) from exc
        except requests.Timeout as exc:
            raise WecomTimeout(what) from exc
        except WeChatClientException as exc:
            errcode = None if exc.errcode is None else int(exc.errcode)
            raise WecomError(errcode, str(exc.errmsg)) from exc
        except requests.RequestException as exc:
            raise WecomError(None, type(exc).__name__) from exc

    # -- the shared access token -----------------------------------------------------------

    def _fresh(self, token: _Token | None) -> bool:
        return token is not None and token.expires_at - self.config.token_margin > self._now()

    async def _access_token(self) -> str:
        if self._token is not None and self._fresh(self._token):
            return self._token.value
        async with self._token_lock:
            token = self._token
            if token is None or not self._fresh(token):
                stored = await self._load()
                token = (
                    stored if stored is not None and self._fresh(stored) else await self._fetch()
                )
                self._token = token
            return token.value

    async def _refresh(self, stale: str) -> tuple[str, bool]:
        """A new token after `stale` was refused, and whether it was fetched here: another
        call's or process's (False), or a freshly fetched one (True)."""
        async with self._token_lock:
            if self._token is not None and self._token.value != stale:
                return self._token.value, False  # refreshed meanwhile by another call of ours
            stored = await self._load()
            if stored is not None and stored.value != stale and self._fresh(stored):
                self._token = stored
                return stored.value, False
            self._token = await self._fetch()
            return self._token.value, True

    async def _load(self) -> _Token | None:
        async with self.db.session() as session:
            query = select(WecomToken).where(WecomToken.app == self.config.app_key)
            row = (await session.exec(query)).first()
            return None if row is None else _Token(row.token, row.expires_at)

    async def _fetch(self) -> _Token:
        result = await self._blocking("gettoken", self._client.fetch_access_token)
        now = self._now()
        token = _Token(
            str(result["access_token"]),
            now + timedelta(seconds=int(result.get("expires_in", 7200))),
        )
        log.info("wecom: fetched a new access token for app %s", self.config.agent_id)
        try:
            async with self.db.session() as session:
                query = select(WecomToken).where(WecomToken.app == self.config.app_key)
                row = (await session.exec(query)).first()
                if row is None:
                    row = WecomToken(app=self.config.app_key, token="", expires_at=now)
                row.token, row.expires_at, row.updated_at = token.value, token.expires_at, now
                session.add(row)
        except IntegrityError:
            # Another process stored its token first; WeCom keeps both valid until expiry.
            log.info("wecom: another process stored a token at the same time")
        return token


def _split(value: object) -> tuple[str, ...]:
    return tuple(v for v in str(value or "").split("|") if v)
