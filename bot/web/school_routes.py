"""The schools' own routes on the shared web server of `bot run --all-schools`, added and
removed while it serves.

aiohttp freezes an application's routes when its server starts, and a school added (or changed)
with `python -m bot school set` must be served without restarting every other school. So the
shared application gets two routes once, and each looks up the school at request time:

- `POST /tg/<school id>/<path secret>`: the school's Telegram webhook
  (`bot.channels.telegram_webhook.TelegramWebhook`), found by its whole path;
- `/school/<school id>/…`: the school's WeCom application (its callback and the parents'
  pages), resolved by that application's own router, middlewares and signals as a sub-app
  mounted with `add_subapp` would be.

A path of a school not (or no longer) served answers 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_urldispatcher import PrefixResource

if TYPE_CHECKING:
    from bot.channels.telegram_webhook import TelegramWebhook

#: Where a school's WeCom callback and parents' pages live on the shared web server.
SCHOOLS_PREFIX = "/school"
#: Where the schools' Telegram webhooks live (`webhook_secrets`' paths start with it).
TELEGRAM_ROUTE = "/tg/{school_id}/{secret}"


def school_prefix(school_id: int) -> str:
    """The path under which school `school_id`'s WeCom callback and pages are served."""
    return f"{SCHOOLS_PREFIX}/{school_id}"


class _SchoolApps(PrefixResource):
    """`/school/<id>/…` resolved by the application of school `<id>` at request time."""

    def __init__(self) -> None:
        super().__init__(SCHOOLS_PREFIX)
        self.apps: dict[int, web.Application] = {}

    async def resolve(self, request: web.Request) -> Any:
        app = self.apps.get(_school_id(request.rel_url.path))
        if app is None:
            return None, set()
        match_info = await app.router.resolve(request)
        match_info.add_app(app)
        refused = match_info.http_exception
        allowed: set[str] = set(getattr(refused, "allowed_methods", ()))
        return match_info, allowed

    def url_for(self, *args: str, **kwargs: str) -> Any:
        raise RuntimeError("a school's application has no URL of its own")

    def get_info(self) -> Any:
        return {"prefix": self._prefix}

    def __len__(self) -> int:
        return sum(len(app.router.routes()) for app in self.apps.values())

    def __iter__(self) -> Iterator[Any]:
        for app in list(self.apps.values()):
            yield from app.router.routes()


def _school_id(path: str) -> int:
    """The school id in `/school/<id>/…` (0, no school, when it is not a number)."""
    part = path[len(SCHOOLS_PREFIX) + 1 :].partition("/")[0]
    return int(part) if part.isascii() and part.isdigit() else 0


class SchoolRoutes:
    """The schools' webhooks and WeCom applications on one web server, changed while it runs."""

    def __init__(self, app: web.Application) -> None:
        self._hooks: dict[str, TelegramWebhook] = {}
        self._apps = _SchoolApps()
        app.router.register_resource(self._apps)
        app.router.add_post(TELEGRAM_ROUTE, self._telegram)

    async def _telegram(self, request: web.Request) -> web.StreamResponse:
        hook = self._hooks.get(request.path)
        if hook is None:
            raise web.HTTPNotFound()
        return await hook.receive(request)

    def add_hook(self, hook: TelegramWebhook) -> None:
        """Serve `hook` at its path (in place of an earlier hook at the same path)."""
        self._hooks[hook.secrets.path] = hook

    def remove_hook(self, hook: TelegramWebhook) -> None:
        if self._hooks.get(hook.secrets.path) is hook:
            del self._hooks[hook.secrets.path]

    async def add_app(self, school_id: int, app: web.Application) -> None:
        """Serve `app` under `/school/<school_id>`: its routes prefixed, frozen and started (its
        `on_startup` run, as a sub-app's is when the server starts)."""
        prefix = school_prefix(school_id)
        for resource in app.router.resources():
            app.router.unindex_resource(resource)
            resource.add_prefix(prefix)
            app.router.index_resource(resource)
        app.freeze()
        await app.startup()
        self._apps.apps[school_id] = app

    async def remove_app(self, school_id: int) -> None:
        """No longer serve school `school_id`'s application; its `on_shutdown` and `on_cleanup`
        run (what it still had to finish, finished)."""
        app = self._apps.apps.pop(school_id, None)
        if app is not None:
            await app.shutdown()
            await app.cleanup()

    async def close(self) -> None:
        """Stop serving every school's application (the server is stopping)."""
        for school_id in list(self._apps.apps):
            await self.remove_app(school_id)
        self._hooks.clear()
