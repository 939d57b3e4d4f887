"""The receipt page parents open from WeCom: their notice, 确认收到 once, 有疑问 forwarded to the
head teacher without contact details, and polite refusals for other, expired or forged links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from sqlmodel import col, select

from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from models.db.engine import Database
from models.notices.tables import Notice, NoticeKind, NoticeQuestion, NoticeStatus
from models.roster.tables import Guardian
from models.school.tables import SchoolClass
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.notices import receipts
from tests.helpers.outbox import outbox
from tests.helpers.receipts import ZONE, published_notice, text_of

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

SECRET = "receipt-page-test-secret-0123456789"


@dataclass
class Page:
    client: TestClient[web.Request, web.Application]
    ts: TestSchool
    notice: Notice
    signer: LinkSigner
    woken: list[int] = field(default_factory=list)

    def token(self, guardian: str | Guardian, notice: Notice | None = None) -> str:
        who = self.ts.guardians[guardian] if isinstance(guardian, str) else guardian
        notice = notice or self.notice
        return self.signer.sign(
            notice_id=notice.id or 0,
            guardian_id=who.id or 0,
            expires_at=link_expiry(notice.display_until, ZONE),
        )


async def _serve(
    db: Database, clock: FakeClock, ts: TestSchool, notice: Notice
) -> AsyncIterator[Page]:
    app = web.Application()
    signer = LinkSigner(SECRET)
    woken: list[int] = []
    add_parent_pages(
        app, db=db, signer=signer, zone=ZONE, now=clock, on_outbox=lambda: woken.append(1)
    )
    async with TestClient(TestServer(app)) as client:
        yield Page(client, ts, notice, signer, woken)


@pytest.fixture
async def page(db: Database, clock: FakeClock) -> AsyncIterator[Page]:
    """An outing notice to 三(2)班 and 四(1)班 (刘梅 has a child in each), published now."""
    ts = await seed_school(db)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班", "四(1)班"))
    async for served in _serve(db, clock, ts, notice):
        yield served


async def _confirmed(db: Database) -> dict[int, tuple[object, int | None, str]]:
    return {
        r.student_id: (r.confirmed_at, r.confirmed_by, r.channel)
        for r in await receipts(db)
        if r.confirmed_at is not None
    }


async def _open(page: Page, token: str, query: str = "") -> tuple[int, str]:
    response = await page.client.get(f"/n/{token}{query}")
    return response.status, await response.text()


async def _post(page: Page, token: str, action: str, data: dict[str, str] | None = None) -> str:
    """POST and follow the redirect back to the page; returns the page's text."""
    response = await page.client.post(f"/n/{token}/{action}", data=data or {})
    assert response.status == 200, await response.text()
    assert response.history and response.history[0].status == 303
    assert str(response.url.path) == f"/n/{token}"
    return await response.text()


# -- the page -----------------------------------------------------------------------------------


async def test_the_page_shows_the_notice_as_the_family_received_it(page: Page) -> None:
    response = await page.client.get(f"/n/{page.token('刘梅')}")
    text = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    for expected in (
        "测试小学",
        "《秋季研学活动通知》",
        "外出活动通知 〔2026〕第001号",
        "11月20日（周五）全天赴科技馆研学，请穿校服。",
        "张小明（三(2)班）、张小红（四(1)班）的家长：",
        "请于 11月18日（周三） 10:00 前确认收到。",
        ">确认收到</button>",
        "有疑问",
        'name="viewport" content="width=device-width, initial-scale=1"',
    ):
        assert expected in text, expected
    # Two children in two classes: the question asks which child it is about.
    assert "您的疑问是关于哪个孩子的？" in text and 'name="child"' in text


async def test_the_page_is_never_cached_indexed_or_referred(page: Page) -> None:
    for token in (page.token("刘梅"), "forged"):
        response = await page.client.get(f"/n/{token}")
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Robots-Tag"] == "noindex"
    response = await page.client.post(f"/n/{page.token('刘梅')}/confirm", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_family_with_children_in_one_class_is_not_asked_which_child(page: Page) -> None:
    _status, text = await _open(page, page.token("李娜家长"))
    assert "李娜（三(2)班）的家长：" in text
    assert "我们会转给三(2)班班主任" in text
    assert 'name="child"' not in text


async def test_the_notice_text_is_escaped(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    notice = await published_notice(db, ts, clock(), title="<script>alert(1)</script>")
    async for served in _serve(db, clock, ts, notice):
        _status, text = await _open(served, served.token("李娜家长"))
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


async def test_a_notice_without_receipt_or_questions_shows_neither(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    notice = await published_notice(
        db, ts, clock(), receipt_required=False, kind=NoticeKind.HOLIDAY, title="元旦放假通知"
    )
    async for served in _serve(db, clock, ts, notice):
        token = served.token("李娜家长")
        _status, text = await _open(served, token)
        assert "《元旦放假通知》" in text
        assert "确认收到" not in text and "有疑问" not in text
        response = await served.client.post(f"/n/{token}/question", data={"text": "几号返校？"})
        assert response.status == 404
    async with db.session() as session:
        assert (await session.exec(select(NoticeQuestion))).all() == []


# -- 确认收到 -------------------------------------------------------------------------------------


async def test_confirming_records_both_children_once_on_the_parent_channel(
    db: Database, clock: FakeClock, page: Page
) -> None:
    token = page.token("刘梅")
    text = await _post(page, token, "confirm")
    assert "已确认收到，谢谢您！" in text
    assert "✓ 已确认收到（11月16日 10:00）" in text
    assert ">确认收到</button>" not in text
    mother = page.ts.guardians["刘梅"].id
    first = await _confirmed(db)
    assert first == {
        page.ts.students["张小明"].id: (clock(), mother, "wecom-parent"),
        page.ts.students["张小红"].id: (clock(), mother, "wecom-parent"),
    }
    clock.advance(hours=1)
    again = await _post(page, token, "confirm")
    assert "您已经确认过了，无需再次确认。" in again
    assert "✓ 已确认收到（11月16日 10:00）" in again
    assert await _confirmed(db) == first


async def test_another_familys_link_cannot_confirm_this_family(db: Database, page: Page) -> None:
    await _post(page, page.token("李娜家长"), "confirm")
    confirmed = await _confirmed(db)
    assert set(confirmed) == {page.ts.students["李娜"].id}
    # A guardian with no child in the notice (李华 is in 三(1)班) is refused outright.
    response = await page.client.post(f"/n/{page.token('李华家长')}/confirm")
    assert response.status == 404
    assert "链接无法打开" in await response.text()
    # And a genuine link with the guardian id changed is a forgery.
    notice, _guardian, rest = page.token("李娜家长").split(".", 2)
    mother = format(page.ts.guardians["刘梅"].id or 0, "x")
    response = await page.client.post(f"/n/{notice}.{mother}.{rest}/confirm")
    assert response.status == 404
    assert set(await _confirmed(db)) == {page.ts.students["李娜"].id}


async def test_an_expired_link_gets_a_polite_page_and_confirms_nothing(
    db: Database, clock: FakeClock, page: Page
) -> None:
    token = page.token("刘梅")
    clock.now = link_expiry(page.notice.display_until, ZONE) + timedelta(minutes=1)
    status, text = await _open(page, token)
    assert status == 410
    assert "通知已过期" in text and "请联系班主任" in text
    response = await page.client.post(f"/n/{token}/confirm")
    assert response.status == 410
    assert await _confirmed(db) == {}


async def test_an_archived_notice_closes_its_links(db: Database, page: Page) -> None:
    async with db.session() as session:
        await session.exec(
            update(Notice)
            .where(col(Notice.id) == page.notice.id)
            .values(status=NoticeStatus.ARCHIVED)
        )
    status, text = await _open(page, page.token("刘梅"))
    assert status == 410 and "通知已过期" in text


@pytest.mark.parametrize(
    "token",
    ["forged", "1.2.3.AAAAAAAAAAAAAAAAAAAAAA", "%E4%BD%A0%E5%A5%BD", "x" * 300],
)
async def test_a_forged_or_unknown_link_gets_a_polite_page(page: Page, token: str) -> None:
    status, text = await _open(page, token)
    assert status == 404
    assert "链接无法打开" in text and "Traceback" not in text


async def test_a_link_signed_with_another_secret_opens_nothing(db: Database, page: Page) -> None:
    other = LinkSigner("some-other-secret-abcdefghijkl").sign(
        notice_id=page.notice.id or 0,
        guardian_id=page.ts.guardians["刘梅"].id or 0,
        expires_at=link_expiry(page.notice.display_until, ZONE),
    )
    response = await page.client.post(f"/n/{other}/confirm")
    assert response.status == 404
    assert await _confirmed(db) == {}


# -- 有疑问 -------------------------------------------------------------------------------------


async def test_a_question_reaches_the_head_teacher_without_phone_or_account(
    db: Database, clock: FakeClock, page: Page
) -> None:
    head = await bind(db, clock, page.ts.staff["孙丽"])  # 四(1)班
    sister = str(page.ts.students["张小红"].id)
    text = await _post(
        page, page.token("刘梅"), "question", {"child": sister, "text": "需要自带午餐吗？\r\n谢谢"}
    )
    assert "您的疑问已转给班主任，老师会尽快答复您。" in text
    [row] = await outbox(db, prefix="notice-question:")
    assert row.chat_id == head and row.channel == "console"
    forwarded = text_of(row)
    assert "四(1)班张小红的母亲问：\n需要自带午餐吗？\n谢谢" in forwarded
    assert page.ts.guardians["刘梅"].phone not in forwarded and "刘梅" not in forwarded
    async with db.session() as session:
        [question] = (await session.exec(select(NoticeQuestion))).all()
    assert (
        question.channel == "wecom-parent" and question.head_teacher_id == page.ts.staff["孙丽"].id
    )
    assert page.woken == [1]


async def test_sending_the_same_question_twice_forwards_it_once(
    db: Database, clock: FakeClock, page: Page
) -> None:
    await bind(db, clock, page.ts.staff["王芳"])
    for _ in range(2):
        text = await _post(page, page.token("李娜家长"), "question", {"text": "几点集合？"})
        assert "您的疑问已转给班主任" in text
    assert len(await outbox(db, prefix="notice-question:")) == 1
    assert page.woken == [1]


async def test_a_question_without_a_chosen_child_or_text_is_asked_again(
    db: Database, page: Page
) -> None:
    token = page.token("刘梅")
    text = await _post(page, token, "question", {"text": "需要带水吗？"})
    assert "请选择您的疑问是关于哪个孩子的。" in text
    text = await _post(page, token, "question", {"child": "999999", "text": "需要带水吗？"})
    assert "请选择您的疑问是关于哪个孩子的。" in text
    text = await _post(page, page.token("李娜家长"), "question", {"text": "   "})
    assert "请先写下您的疑问" in text
    text = await _post(page, page.token("李娜家长"), "question", {"text": "长" * 501})
    assert "超过 500 字" in text
    async with db.session() as session:
        assert (await session.exec(select(NoticeQuestion))).all() == []
    assert page.woken == []


async def test_a_question_from_a_class_without_head_teacher_goes_to_the_admins(
    db: Database, clock: FakeClock, page: Page
) -> None:
    admin = await bind(db, clock, page.ts.staff["赵敏"])
    async with db.session() as session:
        await session.exec(
            update(SchoolClass)
            .where(col(SchoolClass.id) == page.ts.classes["三(2)班"].id)
            .values(head_teacher_id=None)
        )
    await _post(page, page.token("李娜家长"), "question", {"text": "雨天还去吗？"})
    [row] = await outbox(db, prefix="notice-question:")
    assert row.chat_id == admin
    assert "三(2)班李娜的父亲问：\n雨天还去吗？" in text_of(row)


async def test_a_guardian_can_send_only_a_few_questions_about_one_notice(
    db: Database, clock: FakeClock, page: Page
) -> None:
    await bind(db, clock, page.ts.staff["王芳"])
    token = page.token("李娜家长")
    for number in range(5):
        await _post(page, token, "question", {"text": f"第{number}个问题"})
    text = await _post(page, token, "question", {"text": "第六个问题"})
    assert "已提了 5 个疑问" in text
    assert len(await outbox(db, prefix="notice-question:")) == 5
