"""Which database the suite runs on: SQLite by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import os


def postgres_url() -> str | None:
    """DATABASE_URL when it points at a PostgreSQL server, else None (the suite uses SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgresql", "postgres")) else None


def benchmark_database_args() -> list[str]:
    """A benchmark's options to run on the suite's database (a scratch one on PostgreSQL)."""
    url = postgres_url()
    if url is not None:
        return ["--database", "postgresql", "--database-url", url]
    return ["--database", "sqlite"]
