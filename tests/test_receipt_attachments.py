"""A notice's attachments on the receipt page: listed with links, served behind the same signed
link (only that notice's files, only allowed types, as a download), never through a forged one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web.attachments import FileSource
from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from models.db.engine import Database
from models.notices.tables import AttachmentKind, Notice, NoticeAttachment
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.receipts import ZONE, published_notice

SECRET = "receipt-attachment-test-secret-0123456789"
PDF = b"%PDF-1.4 the school trip form"


@dataclass
class Served:
    client: TestClient[web.Request, web.Application]
    ts: TestSchool
    notice: Notice
    other: Notice
    files: dict[str, NoticeAttachment]
    fetched: list[str]

    def link(self, notice: Notice | None = None) -> str:
        notice = notice or self.notice
        return LinkSigner(SECRET).sign(
            notice_id=notice.id or 0,
            guardian_id=self.ts.guardians["刘梅"].id or 0,
            expires_at=link_expiry(notice.display_until, ZONE),
        )


async def _attach(
    db: Database, notice: Notice, *files: tuple[str, str, int], first: int = 1
) -> list[NoticeAttachment]:
    rows = [
        NoticeAttachment(
            notice_id=notice.id or 0,
            position=position,
            kind=AttachmentKind.DOCUMENT,
            channel="wecom",
            file_ref=ref,
            filename=name,
            size=size,
        )
        for position, (ref, name, size) in enumerate(files, start=first)
    ]
    async with db.session() as session:
        session.add_all(rows)
        await session.flush()
        for row in rows:
            await session.refresh(row)
    return rows


@pytest.fixture
async def served(db: Database, clock: FakeClock) -> AsyncIterator[Served]:
    ts = await seed_school(db)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班",))
    other = await published_notice(db, ts, clock(), classes=("三(2)班",), title="另一条通知")
    form, script = await _attach(
        db, notice, ("media-form", '回执单 "秋游".pdf', len(PDF)), ("media-js", "run.js", 10)
    )
    [elsewhere] = await _attach(db, other, ("media-other", "另一份.pdf", len(PDF)))
    fetched: list[str] = []

    async def fetch(attachment: NoticeAttachment, limit: int) -> bytes | None:
        fetched.append(attachment.file_ref)
        return PDF

    app = web.Application()
    add_parent_pages(
        app,
        db=db,
        signer=LinkSigner(SECRET),
        zone=ZONE,
        now=clock,
        files=FileSource(frozenset({"wecom"}), fetch),
    )
    files = {"form": form, "script": script, "elsewhere": elsewhere}
    async with TestClient(TestServer(app)) as client:
        yield Served(client, ts, notice, other, files, fetched)


async def test_the_page_links_the_allowed_files_with_their_sizes(served: Served) -> None:
    response = await served.client.get(f"/n/{served.link()}")
    text = await response.text()
    assert f'href="{served.link()}/a/{served.files["form"].id}"' in text
    assert "回执单 &#34;秋游&#34;.pdf（29 B）" in text
    assert "本通知另有附件：run.js。如需查看，请联系班主任。" in text


async def test_the_file_is_served_as_a_download_with_a_safe_name(served: Served) -> None:
    response = await served.client.get(f"/n/{served.link()}/a/{served.files['form'].id}")
    assert response.status == 200
    assert await response.read() == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E5%9B%9E%E6%89%A7%E5%8D%95%20_%E7%A7%8B%E6%B8%B8_.pdf" in disposition
    assert served.fetched == ["media-form"]


async def test_another_notices_attachment_through_this_link_is_not_found(served: Served) -> None:
    response = await served.client.get(f"/n/{served.link()}/a/{served.files['elsewhere'].id}")
    assert response.status == 404
    assert served.fetched == []


async def test_a_type_outside_the_allow_list_is_not_served(served: Served) -> None:
    response = await served.client.get(f"/n/{served.link()}/a/{served.files['script'].id}")
    assert response.status == 404
    assert served.fetched == []


async def test_a_forged_link_serves_no_file(served: Served) -> None:
    forged = LinkSigner("another-secret-0123456789abcdef").sign(
        notice_id=served.notice.id or 0,
        guardian_id=served.ts.guardians["刘梅"].id or 0,
        expires_at=link_expiry(served.notice.display_until, ZONE),
    )
    response = await served.client.get(f"/n/{forged}/a/{served.files['form'].id}")
    assert response.status == 404
    assert served.fetched == []


async def test_a_file_over_the_size_limit_is_not_served(db: Database, served: Served) -> None:
    [big] = await _attach(db, served.notice, ("media-big", "大文件.pdf", 30 * 1024 * 1024), first=3)
    response = await served.client.get(f"/n/{served.link()}/a/{big.id}")
    assert response.status == 404
    assert served.fetched == []
