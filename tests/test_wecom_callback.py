"""WeCom's callback URL: verification, encrypted messages, and what is refused."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.channels.wecom_callback import create_app, drain, keep, update_key_of
from models.db.engine import Database
from models.roster.queries import current_school
from models.school.tables import School
from models.wecom.tables import WecomInbox
from tests.fakes.wecom_callbacks import (
    TEST_APP,
    SignedCallback,
    WecomApp,
    encrypt_callback,
    event_xml,
    signature,
    text_xml,
    url_verification,
)
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school

PATH = "/wecom/callback"
OTHER_SCHOOL = "第二实验小学"
#: The second school's own WeCom app (another corp, Token and EncodingAESKey).
OTHER_APP = WecomApp(
    corp_id="ww9876543210fedcba",
    token="otherSchoolToken",
    encoding_aes_key=base64.b64encode(bytes(range(32, 64))).decode().rstrip("="),
)


@dataclass
class Endpoint:
    client: TestClient[web.Request, web.Application]
    app: web.Application
    clock: FakeClock
    received: list[dict[str, Any]] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def timestamp(self) -> int:
        return int(self.clock.now.timestamp())

    async def post(self, callback: SignedCallback) -> tuple[int, str]:
        response = await self.client.post(PATH, params=callback.query, data=callback.body)
        return response.status, await response.text()

    async def handled(self) -> list[dict[str, Any]]:
        await drain(self.app)
        return self.received


@pytest.fixture(autouse=True)
async def _school(db: Database) -> None:
    """The school whose app the callbacks are for."""
    await seed_school(db)


async def _school_id(db: Database) -> int:
    async with db.session() as session:
        school = await current_school(session=session)
    assert school is not None and school.id is not None
    return school.id


@asynccontextmanager
async def serving(
    db: Database, clock: FakeClock, *, app: WecomApp = TEST_APP, school_name: str | None = None
) -> AsyncIterator[Endpoint]:
    """The callback URL of `app`, the app of the school named (None: the first school)."""
    received: list[dict[str, Any]] = []
    gate = asyncio.Event()
    gate.set()

    async def on_message(message: dict[str, Any]) -> None:
        await gate.wait()
        received.append(message)

    web_app = create_app(
        db=db,
        crypto=app.crypto(),
        on_message=on_message,
        path=PATH,
        now=clock,
        school_name=school_name,
    )
    async with TestClient(TestServer(web_app)) as client:
        yield Endpoint(client, web_app, clock, received, gate)


@pytest.fixture
async def endpoint(db: Database, clock: FakeClock) -> AsyncIterator[Endpoint]:
    async with serving(db, clock) as served:
        yield served


def _text(endpoint: Endpoint, *, msg_id: int = 7001, content: str = "家访") -> str:
    return text_xml(
        TEST_APP, user="zhangli", content=content, msg_id=msg_id, create_time=endpoint.timestamp
    )


async def test_url_verification_answers_with_the_decrypted_echostr(endpoint: Endpoint) -> None:
    check = url_verification(TEST_APP, echo="1616140317555161061", timestamp=endpoint.timestamp)
    response = await endpoint.client.get(PATH, params=check.query)
    assert response.status == 200
    assert await response.text() == "1616140317555161061"


async def test_url_verification_with_a_forged_signature_is_refused(endpoint: Endpoint) -> None:
    check = url_verification(TEST_APP, echo="42", timestamp=endpoint.timestamp)
    response = await endpoint.client.get(PATH, params={**check.query, "msg_signature": "0" * 40})
    assert response.status == 403


async def test_a_refused_url_verification_says_nothing_in_its_body(endpoint: Endpoint) -> None:
    check = url_verification(TEST_APP, echo="42", timestamp=endpoint.timestamp)
    response = await endpoint.client.get(PATH, params={**check.query, "msg_signature": "0" * 40})
    assert (response.status, await response.text()) == (403, "")


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
async def test_url_verification_with_a_timestamp_out_of_the_window_is_refused(
    endpoint: Endpoint, offset: timedelta
) -> None:
    sent = int((endpoint.clock.now + offset).timestamp())
    check = url_verification(TEST_APP, echo="42", timestamp=sent)
    assert (await endpoint.client.get(PATH, params=check.query)).status == 403


async def test_url_verification_with_a_nonce_already_used_is_refused(endpoint: Endpoint) -> None:
    first = url_verification(TEST_APP, echo="1", timestamp=endpoint.timestamp, nonce="v1")
    assert (await endpoint.client.get(PATH, params=first.query)).status == 200
    again = url_verification(TEST_APP, echo="2", timestamp=endpoint.timestamp, nonce="v1")
    assert (await endpoint.client.get(PATH, params=again.query)).status == 403


async def _captured_callback(endpoint: Endpoint) -> tuple[dict[str, str], str]:
    """A callback WeCom sent and the bot handled: its query and its `Encrypt`."""
    callback = encrypt_callback(TEST_APP, _text(endpoint), timestamp=endpoint.timestamp)
    assert (await endpoint.post(callback))[0] == 200
    await endpoint.handled()
    encrypted = ElementTree.fromstring(callback.body).findtext("Encrypt") or ""
    return callback.query, encrypted


async def test_a_captured_callback_replayed_as_url_verification_is_refused(
    endpoint: Endpoint,
) -> None:
    query, encrypted = await _captured_callback(endpoint)
    response = await endpoint.client.get(PATH, params={**query, "echostr": encrypted})
    assert (response.status, await response.text()) == (403, "")


async def test_a_captured_callback_freshly_signed_as_url_verification_is_refused(
    endpoint: Endpoint,
) -> None:
    _query, encrypted = await _captured_callback(endpoint)
    endpoint.clock.advance(minutes=1)
    timestamp, nonce = str(endpoint.timestamp), "fresh-nonce"
    query = {
        "msg_signature": signature(TEST_APP.token, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": encrypted,
    }
    response = await endpoint.client.get(PATH, params=query)
    assert (response.status, await response.text()) == (403, "")


async def test_after_the_first_callback_url_verification_is_refused(endpoint: Endpoint) -> None:
    await _captured_callback(endpoint)
    check = url_verification(TEST_APP, echo="42", timestamp=endpoint.timestamp)
    assert (await endpoint.client.get(PATH, params=check.query)).status == 403


async def _verification_status(db: Database, clock: FakeClock, app: WecomApp) -> int:
    """A genuine URL verification for `app`, answered by a freshly started endpoint."""

    async def on_message(message: dict[str, Any]) -> None:
        pass

    server = create_app(db=db, crypto=app.crypto(), on_message=on_message, path=PATH, now=clock)
    async with TestClient(TestServer(server)) as client:
        check = url_verification(app, echo="42", timestamp=int(clock.now.timestamp()))
        return (await client.get(PATH, params=check.query)).status


async def test_url_verification_stays_refused_after_a_restart(
    endpoint: Endpoint, db: Database, clock: FakeClock
) -> None:
    await _captured_callback(endpoint)
    assert await _verification_status(db, clock, TEST_APP) == 403


async def test_url_verification_under_new_keys_is_answered_until_their_first_callback(
    endpoint: Endpoint, db: Database, clock: FakeClock
) -> None:
    await _captured_callback(endpoint)
    rotated = WecomApp(TEST_APP.corp_id, "newTokenFromTheAdminPage", TEST_APP.encoding_aes_key)
    assert await _verification_status(db, clock, rotated) == 200


async def test_a_text_message_reaches_on_message_with_its_text_and_user(
    endpoint: Endpoint,
) -> None:
    status, body = await endpoint.post(
        encrypt_callback(TEST_APP, _text(endpoint), timestamp=endpoint.timestamp)
    )
    assert (status, body) == (200, "success")
    [message] = await endpoint.handled()
    assert message["FromUserName"] == "zhangli"
    assert message["Content"] == "家访"
    assert message["MsgType"] == "text"
    assert message["update_key"] == "7001"


async def test_the_answer_is_sent_before_the_message_is_handled(endpoint: Endpoint) -> None:
    endpoint.gate.clear()
    status, _ = await endpoint.post(
        encrypt_callback(TEST_APP, _text(endpoint), timestamp=endpoint.timestamp)
    )
    assert status == 200
    assert endpoint.received == []
    endpoint.gate.set()
    assert len(await endpoint.handled()) == 1


async def test_a_forged_signature_is_refused(endpoint: Endpoint) -> None:
    callback = encrypt_callback(TEST_APP, _text(endpoint), timestamp=endpoint.timestamp)
    forged = SignedCallback({**callback.query, "msg_signature": "f" * 40}, callback.body)
    assert (await endpoint.post(forged))[0] == 403
    assert await endpoint.handled() == []


async def test_a_message_signed_with_another_token_is_refused(endpoint: Endpoint) -> None:
    stranger = WecomApp(TEST_APP.corp_id, "anotherToken", TEST_APP.encoding_aes_key)
    callback = encrypt_callback(stranger, _text(endpoint), timestamp=endpoint.timestamp)
    assert (await endpoint.post(callback))[0] == 403
    assert await endpoint.handled() == []


async def test_a_message_encrypted_for_another_corp_is_refused(endpoint: Endpoint) -> None:
    stranger = WecomApp("wwsomeoneelse", TEST_APP.token, TEST_APP.encoding_aes_key)
    callback = encrypt_callback(stranger, _text(endpoint), timestamp=endpoint.timestamp)
    assert (await endpoint.post(callback))[0] == 403
    assert await endpoint.handled() == []


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (timedelta(minutes=-6), 403),
        (timedelta(minutes=6), 403),
        (timedelta(minutes=-4), 200),
        (timedelta(minutes=4), 200),
    ],
)
async def test_a_timestamp_more_than_five_minutes_off_is_refused(
    endpoint: Endpoint, offset: timedelta, status: int
) -> None:
    sent = int((endpoint.clock.now + offset).timestamp())
    assert (await endpoint.post(encrypt_callback(TEST_APP, _text(endpoint), timestamp=sent)))[
        0
    ] == status


async def test_a_replayed_nonce_is_refused(endpoint: Endpoint) -> None:
    first = encrypt_callback(TEST_APP, _text(endpoint), timestamp=endpoint.timestamp, nonce="n1")
    assert (await endpoint.post(first))[0] == 200
    again = encrypt_callback(
        TEST_APP, _text(endpoint, msg_id=7002), timestamp=endpoint.timestamp, nonce="n1"
    )
    assert (await endpoint.post(again))[0] == 403
    assert [m["update_key"] for m in await endpoint.handled()] == ["7001"]


async def test_two_schools_apps_may_send_the_same_nonce_and_each_refuses_its_own_replay(
    db: Database, clock: FakeClock, endpoint: Endpoint
) -> None:
    """Nonces are kept per school: another school's app on the same database may use one too."""
    async with db.session() as session:
        session.add(School(name=OTHER_SCHOOL))
    async with serving(db, clock, app=OTHER_APP, school_name=OTHER_SCHOOL) as other:
        for served, app in ((endpoint, TEST_APP), (other, OTHER_APP)):
            check = url_verification(app, echo="7", timestamp=served.timestamp, nonce="v1")
            assert (await served.client.get(PATH, params=check.query)).status == 200
        other_text = text_xml(
            OTHER_APP, user="chenqi", content="家访", msg_id=9001, create_time=other.timestamp
        )
        first = encrypt_callback(
            TEST_APP, _text(endpoint), timestamp=endpoint.timestamp, nonce="n1"
        )
        same = encrypt_callback(OTHER_APP, other_text, timestamp=other.timestamp, nonce="n1")
        assert (await endpoint.post(first))[0] == 200
        assert (await other.post(same))[0] == 200
        assert (await other.post(same))[0] == 403
        assert [m["update_key"] for m in await other.handled()] == ["9001"]
    assert [m["update_key"] for m in await endpoint.handled()] == ["7001"]


async def test_the_same_msg_id_sent_twice_is_handled_once(endpoint: Endpoint) -> None:
    for _ in range(2):
        callback = encrypt_callback(TEST_APP, _text(endpoint), timestamp=endpoint.timestamp)
        assert await endpoint.post(callback) == (200, "success")
    assert len(await endpoint.handled()) == 1


async def test_the_same_event_sent_twice_is_handled_once(endpoint: Endpoint) -> None:
    xml = event_xml(TEST_APP, user="zhangli", event="enter_agent", create_time=endpoint.timestamp)
    for _ in range(2):
        callback = encrypt_callback(TEST_APP, xml, timestamp=endpoint.timestamp)
        assert await endpoint.post(callback) == (200, "success")
    [message] = await endpoint.handled()
    assert message["Event"] == "enter_agent"
    assert message["update_key"].startswith("event:")


async def test_two_card_clicks_in_the_same_second_are_both_handled(endpoint: Endpoint) -> None:
    for key in ("!visit:1", "!visit:2"):
        xml = event_xml(
            TEST_APP,
            user="zhangli",
            event="template_card_event",
            create_time=endpoint.timestamp,
            EventKey=key,
            TaskId="task-1",
        )
        callback = encrypt_callback(TEST_APP, xml, timestamp=endpoint.timestamp)
        assert (await endpoint.post(callback))[0] == 200
    assert [m["EventKey"] for m in await endpoint.handled()] == ["!visit:1", "!visit:2"]


async def test_a_request_without_a_signature_is_a_bad_request(endpoint: Endpoint) -> None:
    response = await endpoint.client.post(PATH, data="<xml></xml>")
    assert response.status == 400


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"MsgId": "123", "FromUserName": "a", "CreateTime": "1"}, "123"),
        ({"MsgId": 0, "FromUserName": "a", "CreateTime": "1", "Event": "x"}, None),
        ({"FromUserName": "a" * 64, "CreateTime": "1", "Event": "x"}, None),
    ],
)
def test_an_update_key_fits_the_inbound_seen_column(
    message: dict[str, Any], expected: str | None
) -> None:
    key = update_key_of(message)
    assert len(key) <= 64
    if expected is not None:
        assert key == expected
    else:
        assert key.startswith("event:")


# -- nothing answered is lost -------------------------------------------------------------------


async def _inbox(db: Database) -> list[WecomInbox]:
    async with db.session() as session:
        return list((await session.exec(select(WecomInbox))).all())


async def test_a_handled_callback_is_marked_handled_in_the_inbox(
    endpoint: Endpoint, db: Database
) -> None:
    await endpoint.post(encrypt_callback(TEST_APP, _text(endpoint), timestamp=endpoint.timestamp))
    assert len(await endpoint.handled()) == 1
    [kept] = await _inbox(db)
    assert kept.update_key == "7001" and kept.handled_at is not None


async def test_a_callback_answered_before_a_restart_is_handled_when_the_bot_starts(
    db: Database, clock: FakeClock
) -> None:
    # The previous process answered WeCom, kept the message, and stopped before handling it.
    school_id = await _school_id(db)
    message = {"FromUserName": "zhangli", "MsgType": "text", "Content": "家访", "update_key": "81"}
    stale = {**message, "update_key": "80"}
    async with db.session() as session:
        await keep(session=session, school_id=school_id, message=message, now=clock())
        await keep(
            session=session, school_id=school_id, message=stale, now=clock() - timedelta(days=2)
        )
    received: list[dict[str, Any]] = []

    async def on_message(message: dict[str, Any]) -> None:
        received.append(message)

    app = create_app(db=db, crypto=TEST_APP.crypto(), on_message=on_message, path=PATH, now=clock)
    async with TestClient(TestServer(app)):
        await drain(app)
    assert received == [message]  # once; the one older than a day is not answered now
    handled = {row.update_key: row.handled_at for row in await _inbox(db)}
    assert handled["81"] is not None


async def test_a_callback_whose_handling_fails_is_not_retried_at_every_start(
    db: Database, clock: FakeClock
) -> None:
    calls = 0

    async def on_message(message: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug in a flow")

    app = create_app(db=db, crypto=TEST_APP.crypto(), on_message=on_message, path=PATH, now=clock)
    async with TestClient(TestServer(app)) as client:
        callback = encrypt_callback(
            TEST_APP,
            text_xml(
                TEST_APP,
                user="zhangli",
                content="家访",
                msg_id=91,
                create_time=int(clock.now.timestamp()),
            ),
            timestamp=int(clock.now.timestamp()),
        )
        await client.post(PATH, params=callback.query, data=callback.body)
        await drain(app)
    again = create_app(db=db, crypto=TEST_APP.crypto(), on_message=on_message, path=PATH, now=clock)
    async with TestClient(TestServer(again)):
        await drain(again)
    assert calls == 1
