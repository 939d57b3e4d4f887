"""The WeCom receipt page for a family without consent: the consent wording and a 同意 form come
first; 确认收到 and 有疑问 do nothing until then; 同意 records the consent (channel "page")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, select

from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.notices.tables import NoticeQuestion
from models.privacy.consent import CONSENT_VERSION
from models.privacy.tables import GuardianConsent
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.notices import receipts
from tests.helpers.receipts import ZONE, published_notice

SECRET = "consent-page-test-secret-0123456789"


@dataclass
class Page:
    client: TestClient[web.Request, web.Application]
    token: str


@pytest.fixture
async def page(db: Database, clock: FakeClock) -> AsyncIterator[Page]:
    """An outing notice to 三(2)班, opened by 刘梅, who has not agreed yet."""
    ts = await seed_school(db, consent=False)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班",))
    signer = LinkSigner(SECRET)
    token = signer.sign(
        notice_id=notice.id or 0,
        guardian_id=ts.guardians["刘梅"].id or 0,
        expires_at=link_expiry(notice.display_until, ZONE),
    )
    app = web.Application()
    add_parent_pages(app, db=db, signer=signer, zone=ZONE, now=clock)
    async with TestClient(TestServer(app)) as client:
        yield Page(client, token)


async def _consents(db: Database) -> list[GuardianConsent]:
    async with db.session() as session:
        return list((await session.exec(select(GuardianConsent))).all())


async def test_a_family_without_consent_sees_the_wording_and_a_form_instead_of_the_notice(
    page: Page,
) -> None:
    response = await page.client.get(f"/n/{page.token}")
    text = await response.text()
    assert response.status == 200
    assert "家长知情同意" in text
    assert "/mydata" in text
    assert f'action="{page.token}/consent"' in text
    assert "全天赴科技馆研学" not in text
    assert 'id="confirm"' not in text


async def test_confirming_or_asking_before_consent_does_nothing(db: Database, page: Page) -> None:
    response = await page.client.post(f"/n/{page.token}/confirm")
    assert "家长知情同意" in await response.text()
    response = await page.client.post(f"/n/{page.token}/question", data={"text": "要带水吗？"})
    assert "家长知情同意" in await response.text()
    assert all(r.confirmed_at is None for r in await receipts(db))
    async with db.session() as session:
        assert (await session.exec(select(NoticeQuestion))).all() == []


async def test_agreeing_on_the_page_records_the_consent_and_shows_the_notice(
    db: Database, clock: FakeClock, page: Page
) -> None:
    response = await page.client.post(f"/n/{page.token}/consent")
    assert response.status == 200
    assert response.history and response.history[0].status == 303
    text = await response.text()
    assert "谢谢您！已记录您的同意。" in text
    assert "全天赴科技馆研学" in text
    [consent] = await _consents(db)
    assert (consent.version, consent.channel, consent.agreed_at) == (
        CONSENT_VERSION,
        "page",
        clock(),
    )
    async with db.session() as session:
        audited = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "consent.agree"))
        ).all()
    assert len(audited) == 1
    response = await page.client.post(f"/n/{page.token}/confirm")
    assert "已确认收到" in await response.text()
    # Agreeing twice records it once.
    await page.client.post(f"/n/{page.token}/consent")
    assert len(await _consents(db)) == 1
