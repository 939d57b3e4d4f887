"""python-telegram-bot's Bot API calls over aiohttp (`AiohttpRequest`, a `BaseRequest`).

python-telegram-bot makes its HTTP calls through a `BaseRequest`, "implementable via different
asyncio HTTP libraries" (its own is `HTTPXRequest`, on httpx). The bot already serves its web
pages and webhooks with aiohttp; over aiohttp a Bot API call costs about half the CPU it costs
over httpx (1.1–1.5 ms against 2.6–4.0 ms for a `sendMessage` with its keyboard, the same bot and
fake Bot API in another process, `benchmarks/README.md`), and a step of a conversation makes two
or three calls. Everything above the transport is python-telegram-bot's: the parameters, the
answers read, 429s and errors raised from Telegram's status and body, the rate limiter.

What the transport itself decides:

- **Timeouts** as `HTTPXRequest`'s defaults: 5 s to connect, to write and to read, 1 s to wait
  for a free connection of the pool, 20 s to write a file; python-telegram-bot passes the
  long poll's own read timeout.
- **Failures** raised as python-telegram-bot's `TimedOut` / `NetworkError`, with aiohttp's error
  as the cause and named in the text (`aiohttp.ClientConnectorError: …`), so that the outbox can
  tell a call that cannot have reached Telegram (no connection: sending again is safe) from one
  that may have (`bot.channels.telegram_errors`).
- **TLS and proxies**: one TLS context for every bot of the process (`telegram._tls`);
  HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY from the environment, as httpx reads them,
  looked up once per host (`env_proxy`). aiohttp's own `trust_env` would look up the proxy and
  a `.netrc` in a worker thread at every call: 0.6 ms of CPU of each call's 1.4 ms.
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: `HTTPXRequest`'s defaults, in seconds.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


def _given(value: Any, default: float | None) -> float | None:
    """A timeout python-telegram-bot passed, or `default` when it passed none."""
    return default if value is BaseRequest.DEFAULT_NONE else value


def _sum(*parts: float | None) -> float | None:
    """The whole call's limit: the parts added, none when one of them is unlimited."""
    return None if any(part is None for part in parts) else sum(p for p in parts if p is not None)


def _body(request_data: RequestData | None) -> Any:
    """The call's parameters as a form (with its files, multipart) or None."""
    if request_data is None:
        return None
    files = request_data.multipart_data
    if not files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY, unless
    NO_PROXY covers its host), as httpx reads them; None for none."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    host = parts.hostname or ""
    if not host or urllib.request.proxy_bypass(host):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session of up to `pool_size` connections."""

    def __init__(self, *, pool_size: int = 256, tls: ssl.SSLContext | None = None) -> None:
        self._pool_size = pool_size
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        #: `env_proxy` by scheme and host, looked up at the first call to each.
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, ssl=self._tls if self._tls is not None else True
            )
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        media = request_data is not None and bool(request_data.multipart_data)
        connect = _given(connect_timeout, CONNECT_TIMEOUT)
        read = _given(read_timeout, READ_TIMEOUT)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if media else WRITE_TIMEOUT)
        # aiohttp's `connect` covers the wait for a pooled connection and making it; the
        # writing of the body has no limit of its own there, so the whole call is bounded.
        timeout = aiohttp.ClientTimeout(
            total=_sum(_given(pool_timeout, POOL_TIMEOUT), connect, write, read),
            connect=_sum(_given(pool_timeout, POOL_TIMEOUT), connect),
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(
                method, url, data=_body(request_data), timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut(f"aiohttp.{type(error).__name__}: timed out") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {_said(error)}") from error

    def _proxy(self, url: str) -> str | None:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxies:
            self._proxies[key] = env_proxy(url)
        return self._proxies[key]


def _said(error: aiohttp.ClientError) -> str:
    """What to say of `error`: its OS error, never its text (which may carry the URL, and the
    URL carries the bot's token)."""
    return getattr(error, "strerror", None) or "the request failed"
