"""LOG_FORMAT=json: one JSON object per line (time, level, logger, message, the record's extra
fields), made private exactly as the text lines are (`bot.private_logging`)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from bot.private_logging import configure_logging
from bot.settings import Settings
from tests.helpers.cli import run_main

GUARDIAN, PHONE = "刘梅", "13812345678"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The process's logging in JSON lines, into a buffer; the runner's handlers put back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer, force=True, json_lines=True)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_time_level_logger_and_message(
    json_log: io.StringIO,
) -> None:
    logging.getLogger("bot.delivery.worker").warning("outbox row %d: %s", 17, "unknown")

    (line,) = _lines(json_log)
    assert line["level"] == "WARNING"
    assert line["logger"] == "bot.delivery.worker"
    assert line["message"] == "outbox row 17: unknown"
    assert line["time"].endswith("+00:00") and "T" in line["time"]


def test_a_guardians_name_and_phone_in_a_librarys_arguments_are_not_written(
    json_log: io.StringIO,
) -> None:
    logging.getLogger("telegram.ext").warning("update from %s (%s) not handled", GUARDIAN, PHONE)

    (line,) = _lines(json_log)
    assert line["message"] == "update from ‹…› (‹…›) not handled"
    assert GUARDIAN not in json_log.getvalue() and PHONE not in json_log.getvalue()


def test_extra_fields_are_written_only_when_plainly_not_personal(json_log: io.StringIO) -> None:
    logging.getLogger("bot.example").info(
        "sent",
        extra={"guardian": GUARDIAN, "phone": PHONE, "rows": 3, "channel": "telegram"},
    )
    logging.getLogger("handlers.dispatcher").error("update failed", extra={"error_ref": "3fa2c1d0"})

    first, second = _lines(json_log)
    assert first["guardian"] == "‹…›" and first["phone"] == "‹…›"
    assert (first["rows"], first["channel"]) == (3, "telegram")
    assert second["error_ref"] == "3fa2c1d0"
    assert GUARDIAN not in json_log.getvalue() and PHONE not in json_log.getvalue()


def test_an_error_is_its_type_and_where_it_happened_never_its_message(
    json_log: io.StringIO,
) -> None:
    try:
        raise ValueError(f"duplicate guardian {GUARDIAN} {PHONE}")
    except ValueError:
        logging.getLogger("bot.example").exception("saving failed")

    (line,) = _lines(json_log)
    assert line["level"] == "ERROR"
    assert "ValueError (message withheld)" in line["exc"]
    assert line["exc"].startswith("error ref ")
    assert GUARDIAN not in json_log.getvalue() and PHONE not in json_log.getvalue()


def test_log_format_is_text_or_json() -> None:
    assert Settings(_env_file=None).log_format == "text"
    assert Settings(_env_file=None, log_format="json").log_format == "json"
    with pytest.raises(ValidationError):
        Settings(_env_file=None, log_format="xml")


async def test_the_command_line_logs_json_lines_when_log_format_says_so(
    cli_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("bot.cli.configure_logging", lambda level, **options: calls.append(options))
    monkeypatch.setenv("LOG_FORMAT", "json")

    assert await run_main("db", "upgrade") == 0

    assert calls == [{"json_lines": True}]
