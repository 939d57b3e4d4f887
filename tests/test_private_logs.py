"""No personal data in any log line: errors by type and reference, library records scrubbed,
database errors without their parameters — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import io
import logging
from enum import StrEnum
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.private_logging import REDACTED
from handlers.context import Context
from handlers.dispatcher import Dispatcher
from handlers.flow import Flow
from handlers.types import Inbound, Reply, Transition
from models.db.engine import Database
from models.visits.tables import Visit
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.visits import chat_as, full_dispatcher

NAME, PHONE = "李华", "13812345678"
SECRET = f"{NAME}的妈妈 {PHONE} 说孩子在家哭"


def assert_private(output: str) -> None:
    for word in (NAME, PHONE, "孩子在家哭"):
        assert word not in output, output


class State(StrEnum):
    ONLY = "only"


class Draft(BaseModel):
    pass


async def _start(inbound: Inbound, draft: Draft, ctx: Context, args: str) -> Transition:
    if args == "db":
        # A write the database refuses, with what a teacher wrote as its parameters.
        await ctx.session.connection()
        await (await ctx.session.connection()).execute(
            text(
                "INSERT INTO staff (school_id, staff_no, name, phone, roles) VALUES (:s, NULL, :n, :p, '')"
            ),
            {"s": 1, "n": SECRET, "p": PHONE},
        )
    raise RuntimeError(f"a bug that quotes its input: {SECRET}")


async def _step(inbound: Inbound, draft: Draft, ctx: Context) -> Transition:
    return Transition.end(Reply(""))


def _dispatcher(db: Database, clock: FakeClock) -> Dispatcher:
    flow = Flow(
        name="boom",
        draft_type=Draft,
        steps={State.ONLY: _step},
        start=_start,
        commands=("boom",),
        allowed=lambda ctx: True,
        describe="",
    )
    return Dispatcher(db, [flow], zone=ZoneInfo("Asia/Shanghai"), clock=clock)


async def test_an_error_in_a_step_is_logged_by_type_and_reference_never_by_its_message(
    db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    response = await _dispatcher(db, clock).handle(
        Inbound(channel="console", user_id=user, chat_id=user, text="/boom")
    )
    output = private_log.getvalue()
    assert_private(output)
    assert "RuntimeError (message withheld)" in output
    assert "line " in output and "in _start" in output  # where it happened is kept
    [reply] = response.replies
    ref = reply.text.split("编号 ")[1][:8]
    assert f"ref {ref}" in output and f"error ref {ref}" in output


async def test_a_database_error_with_a_familys_details_leaves_none_in_the_log(
    db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    ts = await seed_school(db)
    user = await bind(db, clock, ts.staff["王芳"])
    response = await _dispatcher(db, clock).handle(
        Inbound(channel="console", user_id=user, chat_id=user, text="/boom db")
    )
    assert "编号" in response.replies[0].text
    output = private_log.getvalue()
    assert_private(output)
    assert "IntegrityError (message withheld)" in output


async def test_database_errors_never_carry_their_parameters(db: Database) -> None:
    await seed_school(db)
    with pytest.raises(DBAPIError) as raised:
        async with db.session() as session:
            await (await session.connection()).execute(
                text(
                    "INSERT INTO staff (school_id, staff_no, name, phone, roles) VALUES (:s, NULL, :n, :p, '')"
                ),
                {"s": 1, "n": SECRET, "p": PHONE},
            )
    assert PHONE not in str(raised.value)
    assert "parameters hidden" in str(raised.value)


async def test_a_very_long_notices_search_is_answered_and_logs_nothing_of_it(
    db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    ts = await seed_school(db)
    admin = await chat_as(db, clock, ts.staff["赵敏"], full_dispatcher(db, clock))
    # Longer than SQLite's longest LIKE pattern (50,000 bytes) and full of wildcards.
    await admin.send("/notices " + f"{NAME}{PHONE}%_" * 4000)
    assert "没有找到" in admin.text
    assert "出了问题" not in admin.text
    assert len(admin.text) < 200  # the search is not echoed back whole
    assert_private(private_log.getvalue())


async def test_a_nul_in_a_one_message_visit_log_is_dropped_and_the_visit_saved(
    db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    ts = await seed_school(db)
    user = await chat_as(db, clock, ts.staff["王芳"], full_dispatcher(db, clock))
    await user.send("今天上门家访了三(2)班张小明，见了奶奶，孩子\x00情绪稳定")
    await user.steps("常规", "保存")
    assert user.text.startswith("已保存"), user.text
    async with db.session() as session:
        [visit] = (await session.exec(select(Visit))).all()
    assert "\x00" not in visit.model_dump_json()
    assert "情绪稳定" in visit.model_dump_json()
    assert "出了问题" not in private_log.getvalue()


def test_library_records_keep_their_wording_but_lose_updates_tokens_and_links(
    private_log: io.StringIO,
) -> None:
    update = {"update_id": 7, "message": {"text": SECRET, "contact": {"phone_number": PHONE}}}
    logging.getLogger("telegram.ext.Updater").critical(
        "Error while parsing updates! Received data was %r", [update]
    )
    logging.getLogger("telegram.Bot").debug(
        "Calling endpoint `%s` with `%s`", "sendMessage", update
    )
    logging.getLogger("httpx").warning(
        'HTTP Request: %s %s "%s %d %s"',
        "POST",
        "https://api.telegram.org/bot123456:ABC-secret_token/sendMessage",
        "HTTP/1.1",
        200,
        "OK",
    )
    logging.getLogger("aiohttp.access").warning(
        f'127.0.0.1 "GET /n/abcdef.signed-token?x={PHONE} HTTP/1.1" 200'
    )
    output = private_log.getvalue()
    assert_private(output)
    assert "ABC-secret_token" not in output and "signed-token" not in output
    assert f"Error while parsing updates! Received data was {REDACTED}" in output
    assert "HTTP/1.1" in output
    assert "HTTP Request: POST" in output and " 200 OK" in output


def test_an_exception_logged_by_a_library_keeps_its_type_not_its_message(
    private_log: io.StringIO,
) -> None:
    try:
        raise ValueError(f"cannot read {SECRET}")
    except ValueError:
        logging.getLogger("telegram.ext.Application").exception("No error handlers are registered")
    output = private_log.getvalue()
    assert_private(output)
    assert "ValueError (message withheld)" in output
    assert "No error handlers are registered" in output


async def test_sensitive_reply_text_is_not_in_the_log_when_a_step_fails_for_a_parent(
    db: Database, clock: FakeClock, private_log: io.StringIO
) -> None:
    ts = await seed_school(db)
    parent = await bind(db, clock, ts.guardians[next(iter(ts.guardians))])
    response = await _dispatcher(db, clock).handle(
        Inbound(channel="console", user_id=parent, chat_id=parent, text="/boom")
    )
    assert isinstance(response.replies[0], Reply)
    assert_private(private_log.getvalue())
