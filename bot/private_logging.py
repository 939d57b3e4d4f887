"""Logging without personal data: every record is made safe before any handler writes it.

What people send the bot — names, phone numbers, what a teacher wrote about a family — travels in
exception messages (a database error quotes what it refused), in python-telegram-bot's and
httpx's records (whole updates and request bodies, the bot token in URLs) and in the web
server's access log (signed links). So, for every record:

* an exception is written as its type and where it happened, frame by frame, never its message,
  under a short reference (`ref`) that the person who met the error is also shown;
* a record from a library logger keeps its wording, but every argument that is not a plain
  number or identifier becomes `‹…›`, and tokens, signed paths and query strings are cut out.

`configure_logging` installs it on the root handler; `PrivacyFilter` can be added to any other.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

from models.errors import error_ref


class _Redacted:
    """What stands for a withheld argument, whether the record says `%s` or `%r`."""

    def __str__(self) -> str:
        return "‹…›"

    __repr__ = __str__


REDACTED = _Redacted()

#: Loggers of libraries that log what passes through them (updates, requests, page paths).
LIBRARY_LOGGERS = ("telegram", "httpx", "httpcore", "aiohttp", "wechatpy", "urllib3", "requests")

#: Loggers that log whole requests or updates below WARNING.
NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "apscheduler", "alembic")

_SAFE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]{0,63}")
_BOT_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_\-]+")
_SIGNED_PATH = re.compile(r"(/[ni]/)[^\s\"?]+")
_QUERY = re.compile(r"\?[^\s\"]*")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and its causes, oldest first (as Python prints them)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return reversed(seen)


def _type_name(error: BaseException) -> str:
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    sqlstate = getattr(error, "sqlstate", None)  # a database driver's error code carries no data
    return f"{name} (sqlstate {sqlstate})" if isinstance(sqlstate, str) else name


def private_trace(exc_info: ExcInfo, ref: str) -> str:
    """Where the error happened and what kind it was, without a word of its message."""
    lines = [f"error ref {ref}"]
    for error in _chain(exc_info[1]):
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(error.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(f"{_type_name(error)} (message withheld)")
    return "\n".join(lines)


def _safe_argument(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and _SAFE_WORD.fullmatch(value):
        return value
    return REDACTED


def _scrub(text: str) -> str:
    text = _BOT_TOKEN.sub("bot‹token›", text)
    text = _SIGNED_PATH.sub(r"\1‹…›", text)
    return _QUERY.sub("?‹…›", text)


def _from_library(name: str) -> bool:
    return any(name == lib or name.startswith(lib + ".") for lib in LIBRARY_LOGGERS)


class PrivacyFilter(logging.Filter):
    """Rewrites each record in place (so every later handler sees the safe version)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            ref = getattr(record, "error_ref", None) or error_ref()
            record.exc_text = private_trace(record.exc_info, str(ref))
            record.exc_info = None
        elif record.exc_text and not record.exc_text.startswith("error ref "):
            record.exc_text = "(traceback withheld)"
        if _from_library(record.name):
            message = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
            record.msg = _scrub(message)
            if isinstance(record.args, dict):
                record.args = {key: _safe_argument(value) for key, value in record.args.items()}
            elif record.args:
                record.args = tuple(_safe_argument(value) for value in record.args)
        return True


#: What every `LogRecord` carries; anything else on a record came as `extra=`.
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


#: `extra=` fields the bot attaches that are safe by construction (written as they are).
_SAFE_EXTRAS = frozenset({"error_ref"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the record's
    `extra=` fields, and `exc` (the private trace). Runs after `PrivacyFilter`, so the message
    and trace are already safe; an extra field is written only when it is a number or a plain
    identifier (`‹…›` otherwise; `error_ref` as it is), for every logger: a new field is never a
    way round the filter."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _RECORD_FIELDS or key in line or key.startswith("_"):
                continue
            safe = str(value) if key in _SAFE_EXTRAS else _safe_argument(value)
            line[key] = str(REDACTED) if safe is REDACTED else safe
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = "(stack withheld)"
        return json.dumps(line, ensure_ascii=False)


def configure_logging(
    level: str | int = logging.INFO,
    stream: TextIO | None = None,
    *,
    force: bool = False,
    json_lines: bool = False,
) -> None:
    """The process's logging, every record made private first; the libraries that log whole
    updates and requests below WARNING are held at WARNING; errors counted for `/metrics`.

    Like `logging.basicConfig`: when the root logger already has handlers (a host application,
    a test runner), they are kept and given the filter, unless `force` replaces them with one
    handler writing to `stream` (JSON lines with `json_lines`, LOG_FORMAT=json)."""
    from bot.metrics import ErrorCounter

    root = logging.getLogger()
    if force:
        for old in list(root.handlers):
            root.removeHandler(old)
    if not any(not isinstance(h, ErrorCounter) for h in root.handlers):
        writer = logging.StreamHandler(stream or sys.stderr)
        writer.setFormatter(
            JsonFormatter()
            if json_lines
            else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(writer)
    if not any(isinstance(h, ErrorCounter) for h in root.handlers):
        root.addHandler(ErrorCounter())
    for handler in root.handlers:
        if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
            handler.addFilter(PrivacyFilter())
    root.setLevel(level if isinstance(level, int) else level.upper())
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
