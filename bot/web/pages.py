"""What every parents' page opened by a signed link shares: the polite answers (a message page,
a redirect back, 404 / 410 / 500 without a stack trace), the guardian's language, and the
`SignedPage` base the receipt page (`bot.web.receipt_page`) and the incident page
(`bot.web.incident_page`) build on. Their headers (no caching, no referrer, the
Content-Security-Policy) and the body limit are the web server's, added in `bot.web.security`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, Template
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.web.links import LinkSigner
from bot.web.templates.common import MESSAGE, STYLE
from handlers.i18n import Translator, translator
from models.accounts.tables import ChannelAccount, PersonKind
from models.db.engine import Database

log = logging.getLogger(__name__)

#: The channel recorded for confirmations and questions made on this page.
PARENT_CHANNEL = "wecom-parent"

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def page_template(source: str) -> Template:
    """A page's template, every value escaped."""
    return _ENV.from_string(source)


_MESSAGE: Template = page_template(MESSAGE)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- answers ----------------------------------------------------------------------------------


def html_answer(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def back_to_page(token: str, status: str) -> web.Response:
    """303 to the page (relative, so it works under any path prefix) with a status line."""
    location = f"../{token}" + (f"?s={status}" if status else "")
    return web.Response(status=303, headers={"Location": location})


def message_answer(t: Translator, status: int, heading: str, text: str) -> web.Response:
    body = _MESSAGE.render(
        lang=page_lang(t), page_title=heading, style=STYLE, heading=heading, text=text
    )
    return html_answer(body, status)


def page_lang(t: Translator) -> str:
    return "zh-CN" if t.language == "zh" else t.language


class Refused(Exception):
    """The link opens nothing: answered with a polite page (subclasses word it for their page)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status

    def page(self) -> web.Response:
        t = translator("zh")
        _ = t._
        if self.status == 410:
            return message_answer(
                t,
                410,
                _("通知已过期"),
                _("这份通知的展示期已经结束，链接已失效。如有疑问，请联系班主任。"),
            )
        return message_answer(
            t,
            404,
            _("链接无法打开"),
            _("这个链接无效或已停用。请从学校发来的通知消息中重新打开；如有疑问，请联系班主任。"),
        )


class Answered(Refused):
    """A refusal with its page's own words (already translated): a link past its time, a
    family that has not agreed to the consent wording, a survey closed."""

    def __init__(self, status: int, t: Translator, heading: str, text: str) -> None:
        super().__init__(status)
        self.t, self.heading, self.text = t, heading, text

    def page(self) -> web.Response:
        return message_answer(self.t, self.status, self.heading, self.text)


def guarded(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refused as refused:
            return refused.page()
        except web.HTTPException:
            raise
        except Exception:
            log.exception("receipt page: %s %s failed", request.method, request.path[:12])
            t = translator("zh")
            return message_answer(
                t,
                500,
                t._("暂时无法打开"),
                t._("页面暂时出了点问题，请稍后再试。如果一直打不开，请联系班主任。"),
            )

    return run


async def guardian_translator(session: AsyncSession, guardian_id: int) -> Translator:
    """The language the guardian chose for their WeCom account (Chinese by default)."""
    account = (
        await session.exec(
            select(ChannelAccount).where(
                ChannelAccount.channel == PARENT_CHANNEL,
                ChannelAccount.person_kind == PersonKind.GUARDIAN,
                ChannelAccount.person_id == guardian_id,
            )
        )
    ).first()
    return translator(account.language if account is not None else "zh")


class SignedPage:
    """What every page opened by a signed link needs: the database, the signer, the school's
    zone, the clock, and the outbox worker's wake-up (called after a commit that queued)."""

    def __init__(
        self,
        *,
        db: Database,
        signer: LinkSigner,
        zone: ZoneInfo,
        now: Callable[[], datetime],
        on_outbox: Callable[[], None] | None,
    ) -> None:
        self.db = db
        self.signer = signer
        self.zone = zone
        self.now = now
        self.on_outbox = on_outbox

    def mount(self, app: web.Application) -> None:
        """Add the page's routes to `app`, each handler wrapped in `guarded`."""
        raise NotImplementedError
