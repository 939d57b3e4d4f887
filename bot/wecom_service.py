"""WeCom, assembled: the API client, the staff and parent channels, and the bot's web server.

`python -m bot run` builds this when every WeCom setting is given (`Settings.wecom_configured`)
and runs the web server next to Telegram (or alone). The web server carries WeCom's callback URL
(`/wecom/callback`) and the parents' receipt page (`/n/<signed link>`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from bot.channels.base import Channel
from bot.channels.wecom import CHANNEL, Binder, WecomAdapter, WecomChannel, wecom_limiter
from bot.channels.wecom_api import WecomApi, WecomConfig
from bot.channels.wecom_callback import create_app, crypto_from_settings
from bot.settings import Settings
from handlers.dispatcher import Dispatcher
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError
from models.roster.queries import current_school

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom/callback"


@dataclass
class WecomService:
    api: WecomApi
    adapter: WecomAdapter
    web_app: web.Application
    #: Outbox channels by name: "wecom" (staff) and, with a public address, "wecom-parent".
    channels: dict[str, Channel] = field(default_factory=dict)


def wecom_config(settings: Settings) -> WecomConfig:
    if (
        settings.wecom_corp_id is None
        or settings.wecom_secret is None
        or settings.wecom_agent_id is None
    ):
        raise ConfigError(
            "企业微信设置不完整：需要 WECOM_CORP_ID、WECOM_AGENT_ID 和 WECOM_SECRET。"
        )
    return WecomConfig(
        corp_id=settings.wecom_corp_id.strip(),
        secret=settings.wecom_secret.get_secret_value().strip(),
        agent_id=settings.wecom_agent_id,
        base_url=settings.wecom_api_base_url,
    )


def member_binder(db: Database, school_name: str | None = None) -> Binder:
    """Recognise a member who writes by the roster's 企业微信账号 (see `bot.roster.wecom_sync`)."""
    from bot.roster.wecom_sync import bind_wecom_member

    async def bind(userid: str, now: datetime) -> None:
        async with db.session() as session:
            school = await current_school(session=session, name=school_name)
            if school is None:
                return
            await bind_wecom_member(
                session=session, school_id=school.id or 0, userid=userid, now=now
            )

    return bind


def build_wecom(
    settings: Settings,
    db: Database,
    dispatcher: Dispatcher,
    *,
    clock: Callable[[], datetime] = utcnow,
    monotonic: Callable[[], float] = time.monotonic,
) -> WecomService:
    """Everything WeCom needs, from `settings`; the web app is not started here."""
    crypto = crypto_from_settings(settings)
    if crypto is None:
        raise ConfigError("企业微信设置不完整：需要 WECOM_TOKEN 和 WECOM_ENCODING_AES_KEY。")
    api = WecomApi(db, wecom_config(settings), now=clock)
    limiter = wecom_limiter(
        monotonic,
        shared_url=settings.rate_limit_url,
        app=f"{settings.wecom_corp_id}:{settings.wecom_agent_id}",
    )
    staff = WecomChannel(api, language=settings.default_language, limiter=limiter)
    adapter = WecomAdapter(
        dispatcher, staff, bind=member_binder(db, settings.school_name), clock=clock
    )
    app = create_app(
        db=db,
        crypto=crypto,
        on_message=adapter.on_message,
        path=CALLBACK_PATH,
        now=clock,
        max_body_bytes=settings.web_max_body_bytes,
        school_name=settings.school_name,
    )
    channels: dict[str, Channel] = {CHANNEL: staff}
    parents = _parent_channel(settings, db, api, dispatcher, app, clock)
    if parents is not None:
        channels[parents.name] = parents
    return WecomService(api=api, adapter=adapter, web_app=app, channels=channels)


def _parent_channel(
    settings: Settings,
    db: Database,
    api: WecomApi,
    dispatcher: Dispatcher,
    app: web.Application,
    clock: Callable[[], datetime],
) -> Channel | None:
    """Parents through the 家校通讯录, with the receipt page their links open; needs the
    public address of the web server and a key to sign the links."""
    if not settings.public_base_url or settings.link_secret is None:
        log.warning(
            "PUBLIC_BASE_URL or LINK_SECRET is not set: notices are not sent to parents on WeCom"
        )
        return None
    from bot.channels.wecom_parents import WecomParentChannel
    from bot.web.attachments import FileSource
    from bot.web.links import LinkSigner
    from bot.web.routes import add_parent_pages
    from models.notices.tables import NoticeAttachment

    signer = LinkSigner(settings.link_secret.get_secret_value())

    async def fetch_wecom_file(attachment: NoticeAttachment, limit: int) -> bytes | None:
        return await api.download_media(attachment.file_ref, limit)

    def wake() -> None:
        if dispatcher.on_outbox is not None:
            dispatcher.on_outbox()

    add_parent_pages(
        app,
        db=db,
        signer=signer,
        zone=settings.zone,
        now=clock,
        on_outbox=wake,
        rules=settings.rules,
        files=FileSource(frozenset({CHANNEL}), fetch_wecom_file),
    )
    return WecomParentChannel(
        api, db, signer, settings.public_base_url.rstrip("/"), school=dispatcher.school_id
    )


async def start_web(app: web.Application, settings: Settings) -> web.AppRunner:
    """Serve `app` on WEB_HOST:WEB_PORT (with SO_REUSEPORT when `web_reuse_port`: other worker
    processes of `bot run --workers N` listen on the same port); `await runner.cleanup()` stops
    it."""
    host, port = settings.web_host, settings.web_port
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=settings.web_reuse_port or None)
    await site.start()
    log.info("web server (WeCom callback, receipt page) on %s:%d", host, port)
    return runner
