"""Database URLs mapped to the drivers we use: async for the engine, sync for the job store."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from models.errors import ConfigError


def _with_driver(url: str, *, sqlite: str, postgresql: str) -> str:
    """`url` with its driver replaced: `sqlite` for SQLite, `postgresql` for PostgreSQL."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"DATABASE_URL 无法解析：{url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername=sqlite))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername=postgresql).render_as_string(hide_password=False)
    raise ConfigError(f"不支持的数据库：{backend}（请使用 sqlite 或 postgresql）")


def async_url(url: str) -> str:
    """Map a plain database URL to the async driver we use (aiosqlite or asyncpg)."""
    return _with_driver(url, sqlite="sqlite+aiosqlite", postgresql="postgresql+asyncpg")


def sync_url(url: str) -> str:
    """The database URL with a synchronous driver (APScheduler 3's job store is synchronous)."""
    return _with_driver(url, sqlite="sqlite", postgresql="postgresql+psycopg")
