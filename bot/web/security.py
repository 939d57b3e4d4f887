"""What every answer of the bot's web server carries, and how big a request body may be.

One place for both: `web_application` builds the server's application (WeCom's callback URL and
the parents' pages are mounted on it) and `secure` adds, to any application,
- the headers below on every response — pages, redirects, 404 / 403 / 413, WeCom's `success` —
  so a page opened by a signed link is never cached, never sends its address on, is never framed
  and runs nothing but its own style sheet;
- the body limit: every POST body is read in full before its handler runs, up to the
  application's `client_max_size`, so a handler that does not read its body (确认收到, 已知悉) is
  limited too, and an oversized request is answered 413 before anything is written.
"""

from __future__ import annotations

import base64
import hashlib
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.web.templates.common import STYLE
from handlers.i18n import translator

log = logging.getLogger(__name__)

#: The largest request body accepted, in bytes (setting WEB_MAX_BODY_BYTES). The largest
#: legitimate bodies are WeCom's callbacks (a text message of at most 2,048 bytes, AES-encrypted
#: and base64-encoded in a small XML envelope: under 4 KiB) and the 有疑问 form (500 characters,
#: percent-encoded at most 9 bytes each: under 5 KiB). 64 KiB leaves room for WeCom's larger events.
MAX_BODY_BYTES = 64 * 1024

#: The pages hold one inline style sheet (`STYLE`, the same on every page) and no script, image or
#: font: the policy allows that style sheet by its hash and nothing else; forms post back here.
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The links carry signed tokens: no address is sent on, nothing is kept in a cache.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}

_SECURED: web.AppKey[bool] = web.AppKey("web_security_added", bool)


def web_application(*, max_body_bytes: int = MAX_BODY_BYTES) -> web.Application:
    """The bot's web server application: bodies up to `max_body_bytes`, `secure`d."""
    app = web.Application(client_max_size=max_body_bytes)
    secure(app)
    return app


def secure(app: web.Application) -> None:
    """Add the headers and the body limit to `app` (once, however often it is called)."""
    if app.get(_SECURED):
        return
    app[_SECURED] = True
    app.middlewares.append(_limit_body)
    app.on_response_prepare.append(_add_headers)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(HEADERS)


@web.middleware
async def _limit_body(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in request.POST_METHODS:
        limit = request.client_max_size
        try:
            if (request.content_length or 0) > limit:
                raise web.HTTPRequestEntityTooLarge(limit, request.content_length or 0)
            await request.read()  # kept: the handler's read() and post() get these bytes
        except web.HTTPRequestEntityTooLarge:
            # The path's first characters only: the rest is a signed token.
            log.warning(
                "%s %s… refused: body over %d bytes", request.method, request.path[:12], limit
            )
            return _too_large()
    return await handler(request)


def _too_large() -> web.Response:
    _ = translator("zh")._
    return web.Response(
        status=413,
        text=_("提交的内容太长，学校没有收到。请精简后再试；如有疑问，请联系班主任。"),
        content_type="text/plain",
        charset="utf-8",
    )
