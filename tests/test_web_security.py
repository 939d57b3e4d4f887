"""The bot's web server as `bot.wecom_service` assembles it (WeCom's callback URL and the parents'
pages on one application): every answer carries the security headers, and a body over the limit
is refused with 413 before anything is written."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.channels.wecom_callback import create_app, drain
from bot.settings import Settings
from bot.web.links import LinkSigner, incident_link_expiry, link_expiry
from bot.web.routes import add_parent_pages
from bot.web.security import MAX_BODY_BYTES
from models.db.engine import Database
from models.incidents.tables import Incident
from models.notices.tables import Notice
from models.wecom.tables import WecomInbox, WecomNonce
from tests.fakes.wecom_callbacks import TEST_APP, encrypt_callback, text_xml, url_verification
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.incidents import REPORT, the_incident
from tests.helpers.notices import receipts
from tests.helpers.receipts import ZONE, published_notice
from tests.helpers.visits import full_dispatcher, person

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

SECRET = "web-security-test-secret-0123456789"
CALLBACK = "/wecom/callback"
SMALL_LIMIT = 8 * 1024


@dataclass
class Server:
    client: TestClient[web.Request, web.Application]
    app: web.Application
    clock: FakeClock
    ts: TestSchool
    notice: Notice
    incident: Incident
    received: list[dict[str, Any]]

    def receipt_path(self) -> str:
        token = LinkSigner(SECRET).sign(
            notice_id=self.notice.id or 0,
            guardian_id=self.ts.guardians["刘梅"].id or 0,
            expires_at=link_expiry(self.notice.display_until, ZONE),
        )
        return f"/n/{token}"

    def incident_path(self) -> str:
        token = LinkSigner(SECRET).sign_incident(
            incident_id=self.incident.id or 0,
            guardian_id=self.ts.guardians["刘梅"].id or 0,
            expires_at=incident_link_expiry(self.incident.reported_at),
        )
        return f"/i/{token}"

    def callback(self, msg_id: int = 501) -> tuple[dict[str, str], str]:
        now = int(self.clock.now.timestamp())
        xml = text_xml(TEST_APP, user="wangfang", content="帮助", msg_id=msg_id, create_time=now)
        signed = encrypt_callback(TEST_APP, xml, timestamp=now)
        return signed.query, signed.body


async def _reported_incident(db: Database, clock: FakeClock, ts: TestSchool) -> Incident:
    """钱进 reports that 张小明 (三(2)班) fell; 刘梅 is on WeCom."""
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, ts.staff["王芳"])
    coach = await person(db, clock, dispatcher, ts.staff["钱进"])
    await bind(db, clock, ts.guardians["刘梅"], channel="wecom-parent", external_id="parent-liumei")
    await coach.steps("/incident 张小明", *REPORT[3:], "确认上报")
    return await the_incident(db)


@pytest.fixture
async def server(db: Database, clock: FakeClock) -> AsyncIterator[Server]:
    """The callback and both pages on one application with an 8 KiB body limit, as
    `build_wecom` builds it."""
    ts = await seed_school(db)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班",))
    incident = await _reported_incident(db, clock, ts)
    received: list[dict[str, Any]] = []

    async def on_message(message: dict[str, Any]) -> None:
        received.append(message)

    app = create_app(
        db=db,
        crypto=TEST_APP.crypto(),
        on_message=on_message,
        path=CALLBACK,
        now=clock,
        max_body_bytes=SMALL_LIMIT,
    )
    add_parent_pages(app, db=db, signer=LinkSigner(SECRET), zone=ZONE, now=clock)
    async with TestClient(TestServer(app)) as client:
        yield Server(client, app, clock, ts, notice, incident, received)


def _assert_secured(response: Any) -> None:
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in policy, directive
    assert "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Pragma"] == "no-cache"


# -- headers ------------------------------------------------------------------------------------


async def test_the_receipt_page_carries_the_security_headers(server: Server) -> None:
    response = await server.client.get(server.receipt_path())
    assert response.status == 200
    _assert_secured(response)


async def test_the_incident_page_carries_the_security_headers(server: Server) -> None:
    response = await server.client.get(server.incident_path())
    assert response.status == 200
    _assert_secured(response)


async def test_the_redirect_after_confirming_carries_the_security_headers(server: Server) -> None:
    response = await server.client.post(f"{server.receipt_path()}/confirm", allow_redirects=False)
    assert response.status == 303
    _assert_secured(response)


async def test_a_forged_link_page_carries_the_security_headers(server: Server) -> None:
    response = await server.client.get("/n/1.1.0.forged")
    assert response.status == 404
    _assert_secured(response)


async def test_an_unknown_address_carries_the_security_headers(server: Server) -> None:
    response = await server.client.get("/nowhere")
    assert response.status == 404
    _assert_secured(response)


async def test_a_refused_wecom_request_carries_the_security_headers(server: Server) -> None:
    query, body = server.callback()
    response = await server.client.post(
        CALLBACK, params={**query, "msg_signature": "0" * 40}, data=body
    )
    assert response.status == 403
    _assert_secured(response)


async def test_the_wecom_callbacks_answer_carries_the_security_headers(server: Server) -> None:
    query, body = server.callback()
    response = await server.client.post(CALLBACK, params=query, data=body)
    assert (response.status, await response.text()) == (200, "success")
    _assert_secured(response)
    await drain(server.app)


async def test_the_wecom_url_verification_carries_the_security_headers(server: Server) -> None:
    check = url_verification(TEST_APP, echo="42", timestamp=int(server.clock.now.timestamp()))
    response = await server.client.get(CALLBACK, params=check.query)
    assert (response.status, await response.text()) == (200, "42")
    _assert_secured(response)


async def test_the_policy_allows_exactly_the_pages_own_style_sheet(server: Server) -> None:
    response = await server.client.get(server.receipt_path())
    page = await response.text()
    [style] = re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in policy
    assert "<script" not in page and " style=" not in page


async def test_the_style_sheet_is_sent_as_written_not_escaped(server: Server) -> None:
    page = await (await server.client.get(server.receipt_path())).text()
    assert '"PingFang SC"' in page and "&#34;" not in page


# -- body limit ---------------------------------------------------------------------------------


async def _nonces_and_inbox(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        nonces = len((await session.exec(select(WecomNonce))).all())
        inbox = len((await session.exec(select(WecomInbox))).all())
    return nonces, inbox


async def test_an_oversized_wecom_callback_is_refused_with_413_and_nothing_kept(
    server: Server, db: Database
) -> None:
    query, body = server.callback()
    padded = body.replace("</xml>", "<Pad>" + "x" * SMALL_LIMIT + "</Pad></xml>")
    response = await server.client.post(CALLBACK, params=query, data=padded)
    assert response.status == 413
    _assert_secured(response)
    await drain(server.app)
    assert server.received == []
    assert await _nonces_and_inbox(db) == (0, 0)


async def test_an_oversized_confirmation_is_refused_with_413_and_not_recorded(
    server: Server, db: Database
) -> None:
    response = await server.client.post(
        f"{server.receipt_path()}/confirm", data={"pad": "x" * SMALL_LIMIT}, allow_redirects=False
    )
    assert response.status == 413
    assert "内容太长" in await response.text()
    assert all(r.confirmed_at is None for r in await receipts(db))


async def test_an_oversized_acknowledgement_sent_in_chunks_is_refused_with_413(
    server: Server, db: Database
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * (SMALL_LIMIT // 2)

    # No Content-Length: the limit holds while the body is read, though 已知悉 never reads it.
    response = await server.client.post(
        f"{server.incident_path()}/ack", data=chunks(), allow_redirects=False
    )
    assert response.status == 413
    assert (await the_incident(db)).acknowledged_at is None


async def test_a_body_within_the_limit_is_handled(server: Server, db: Database) -> None:
    response = await server.client.post(
        f"{server.incident_path()}/ack", data={"pad": "x" * 1000}, allow_redirects=False
    )
    assert response.status == 303
    assert (await the_incident(db)).acknowledged_at is not None


def test_the_body_limit_is_a_setting_of_64_kib_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).web_max_body_bytes == MAX_BODY_BYTES == 64 * 1024
    monkeypatch.setenv("WEB_MAX_BODY_BYTES", "16384")
    assert Settings(_env_file=None).web_max_body_bytes == 16384
