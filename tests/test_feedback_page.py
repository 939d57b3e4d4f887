"""The feedback page 意见反馈 parents on WeCom open from their receipt page: one form, the chat's
checks, limits and words, the code shown for anonymous feedback, and polite refusals for links
that are missing, forged or expired.

The test school (tests/helpers/factories.py): 刘梅 is the mother of 张小明 (三(2)班, head teacher
王芳) and 张小红 (四(1)班, head teacher 孙丽); 赵敏 is 德育处. The clock: Monday 16 November
2026, 10:00 in Shanghai.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, delete, select

from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from models.db.engine import Database
from models.feedback.tables import Feedback, FeedbackAbout, FeedbackKind
from models.ledger.tables import LedgerItem
from models.permissions.matrix import MATRIX, Action, Role
from models.privacy.tables import GuardianConsent
from models.school.rules import DEFAULT_RULES, SchoolRules
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.receipts import ZONE, published_notice

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

SECRET = "feedback-page-test-secret-0123456789"


@dataclass
class Page:
    client: TestClient[web.Request, web.Application]
    ts: TestSchool
    signer: LinkSigner
    clock: FakeClock
    office: str
    woken: list[int] = field(default_factory=list)

    def token(self, guardian: str = "刘梅", *, days: int = 1) -> str:
        who = self.ts.guardians[guardian]
        return self.signer.sign_feedback(
            school_id=self.ts.school.id or 0,
            guardian_id=who.id or 0,
            expires_at=self.clock() + timedelta(days=days),
        )

    def form(self, **values: str) -> dict[str, str]:
        """A complete form: a named complaint about the school, unless `values` say otherwise."""
        return {
            "kind": "complaint",
            "about": "school",
            "text": "校门口车辆太多",
            "anonymous": "0",
        } | (values)


async def _serve(
    db: Database, clock: FakeClock, rules: SchoolRules = DEFAULT_RULES
) -> AsyncIterator[Page]:
    ts = await seed_school(db)
    office = await bind(db, clock, ts.staff["赵敏"])
    app = web.Application()
    signer = LinkSigner(SECRET)
    woken: list[int] = []
    add_parent_pages(
        app,
        db=db,
        signer=signer,
        zone=ZONE,
        now=clock,
        on_outbox=lambda: woken.append(1),
        rules=rules,
    )
    async with TestClient(TestServer(app)) as client:
        yield Page(client, ts, signer, clock, office, woken)


@pytest.fixture
async def page(db: Database, clock: FakeClock) -> AsyncIterator[Page]:
    async for served in _serve(db, clock):
        yield served


async def _feedback(db: Database) -> list[Feedback]:
    async with db.session() as session:
        return list((await session.exec(select(Feedback).order_by(col(Feedback.id)))).all())


async def _items(db: Database) -> list[LedgerItem]:
    async with db.session() as session:
        return list((await session.exec(select(LedgerItem))).all())


async def _send(page: Page, token: str, form: dict[str, str]) -> tuple[int, str]:
    response = await page.client.post(f"/f/{token}", data=form)
    assert not response.history  # answered at once, never redirected (see the page's docstring)
    return response.status, await response.text()


# -- the link -----------------------------------------------------------------------------------


async def test_the_receipt_page_links_to_the_familys_own_feedback_page(
    db: Database, page: Page
) -> None:
    notice = await published_notice(db, page.ts, page.clock())
    token = page.signer.sign(
        notice_id=notice.id or 0,
        guardian_id=page.ts.guardians["李娜家长"].id or 0,
        expires_at=link_expiry(notice.display_until, ZONE),
    )
    receipt = await (await page.client.get(f"/n/{token}")).text()
    found = re.search(r'<a href="\.\./f/([^"]+)" id="feedback">意见反馈</a>', receipt)
    assert found is not None, receipt
    claim = page.signer.read_feedback(found.group(1))
    assert claim is not None
    assert (claim.guardian_id, claim.school_id) == (
        page.ts.guardians["李娜家长"].id,
        page.ts.school.id,
    )
    assert claim.expires_at == page.clock() + timedelta(days=1)
    response = await page.client.get(f"/f/{found.group(1)}")
    assert response.status == 200
    assert "意见反馈" in await response.text()


async def test_the_form_offers_the_kinds_the_childrens_classes_and_teachers_and_the_school(
    page: Page,
) -> None:
    response = await page.client.get(f"/f/{page.token()}")
    text = await response.text()
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    ts = page.ts
    for value, label in [
        ("suggestion", "建议"),
        ("complaint", "投诉"),
        ("praise", "表扬"),
        ("other", "其他"),
        (f"class:{ts.classes['三(2)班'].id}", "三(2)班"),
        (f"class:{ts.classes['四(1)班'].id}", "四(1)班"),
        (f"teacher:{ts.staff['王芳'].id}", "王芳老师（三(2)班班主任）"),
        (f"teacher:{ts.staff['孙丽'].id}", "孙丽老师（四(1)班班主任）"),
        ("school", "学校"),
        ("0", "实名"),
        ("1", "匿名"),
    ]:
        assert f'value="{value}" required> {label}</label>' in text, label
    assert f'class:{ts.classes["三(1)班"].id}"' not in text
    assert "匿名时学校看不到您的姓名、电话和孩子，您将收到一个反馈编号用来查询处理结果。" in text
    assert 'maxlength="1000"' in text


# -- sending it ---------------------------------------------------------------------------------


async def test_a_named_complaint_is_stored_with_its_ledger_item_and_the_office_told(
    db: Database, page: Page
) -> None:
    klass = page.ts.classes["四(1)班"]
    status, text = await _send(
        page, page.token(), page.form(about=f"class:{klass.id}", text="班里太吵")
    )
    assert status == 200
    assert "已收到您的意见（投诉），学校会认真处理。" in text and "处理后会通知您。" in text
    assert 'id="code"' not in text
    [feedback] = await _feedback(db)
    assert (feedback.kind, feedback.about, feedback.about_class_id, feedback.text) == (
        FeedbackKind.COMPLAINT,
        FeedbackAbout.CLASS,
        klass.id,
        "班里太吵",
    )
    assert (feedback.anonymous, feedback.guardian_id) == (False, page.ts.guardians["刘梅"].id)
    [item] = await _items(db)
    assert feedback.ledger_item_id == item.id
    [told] = await outbox(db, prefix="feedback:")
    assert told.chat_id == page.office
    assert reply_of(told).text.startswith(f"新的家长意见（投诉）：班里太吵，台账 #{item.id}")
    assert page.woken == [1]


async def test_an_anonymous_submission_shows_its_code_and_keeps_no_author(
    db: Database, page: Page
) -> None:
    status, text = await _send(page, page.token(), page.form(anonymous="1"))
    assert status == 200
    [feedback] = await _feedback(db)
    assert (feedback.anonymous, feedback.guardian_id) == (True, None)
    assert f'<p class="done" id="code">{feedback.code}</p>' in text
    assert (
        f"请记下反馈编号 {feedback.code}，发送 /feedback {feedback.code} 可查询处理进展。" in text
    )
    [told] = await outbox(db, prefix="feedback:")
    for trace in ("刘梅", "13700000000", "张小明", "张小红"):
        assert trace not in reply_of(told).text


async def test_praise_of_a_teacher_from_the_page_is_no_ledger_item(
    db: Database, page: Page
) -> None:
    teacher = page.ts.staff["孙丽"]
    status, text = await _send(
        page, page.token(), page.form(kind="praise", about=f"teacher:{teacher.id}")
    )
    assert status == 200 and "已收到您的表扬" in text
    [feedback] = await _feedback(db)
    assert (feedback.about_staff_id, feedback.ledger_item_id) == (teacher.id, None)
    assert await _items(db) == []


# -- what is refused ----------------------------------------------------------------------------


async def test_a_5000_character_text_is_refused_with_the_chats_words_and_nothing_saved(
    db: Database, page: Page
) -> None:
    status, text = await _send(page, page.token(), page.form(text="太" * 5000))
    assert status == 400
    assert "内容太长了：最多 1000 个字，您发来的有 5000 个字。请精简后重新发送。" in text
    assert 'value="complaint" required checked>' in text  # the form comes back as sent
    assert await _feedback(db) == [] and await _items(db) == []


@pytest.mark.parametrize(
    ("values", "answer"),
    [
        ({"kind": "anger"}, "请选择意见的类别。"),
        ({"about": "class:abc"}, "请选择意见是关于什么的。"),
        ({"anonymous": ""}, "请选择实名还是匿名提交。"),
        ({"text": "  "}, "请写下您的意见内容。"),
        ({"about": "teacher:99999"}, "请从您孩子的老师中选择。"),
    ],
)
async def test_an_incomplete_or_forged_form_is_answered_and_saves_nothing(
    db: Database, page: Page, values: dict[str, str], answer: str
) -> None:
    status, text = await _send(page, page.token(), page.form(**values))
    assert status == 400
    assert answer in text
    assert await _feedback(db) == []


async def test_a_class_that_is_not_the_familys_is_refused(db: Database, page: Page) -> None:
    other = page.ts.classes["三(1)班"]
    status, text = await _send(page, page.token(), page.form(about=f"class:{other.id}"))
    assert status == 400 and "请从您孩子所在的班级中选择。" in text
    assert await _feedback(db) == []


async def test_the_hourly_limit_holds_page_feedback_back_as_in_the_chat(
    db: Database, clock: FakeClock
) -> None:
    async for page in _serve(db, clock, SchoolRules(messages_to_staff_per_hour=1)):
        assert (await _send(page, page.token(), page.form()))[0] == 200
        clock.advance(minutes=5)
        status, text = await _send(page, page.token(), page.form(text="第二条"))
        assert status == 400
        assert "这条意见暂未提交：为免打扰老师，每人每小时最多给学校发 1 条消息。" in text
        assert [f.text for f in await _feedback(db)] == ["校门口车辆太多"]


# -- the link is required -----------------------------------------------------------------------


async def test_the_page_needs_a_signed_link(db: Database, page: Page) -> None:
    assert (await page.client.get("/f/")).status == 404
    for token in ("1.2.3", "not-a-token", page.token() + "x"):
        response = await page.client.get(f"/f/{token}")
        assert response.status == 404
        assert "链接无法打开" in await response.text()
        assert (await page.client.post(f"/f/{token}", data=page.form())).status == 404
    assert await _feedback(db) == []


async def test_a_forged_token_is_refused(db: Database, page: Page) -> None:
    genuine = page.token()
    school, guardian, rest = genuine.split(".", 2)
    other = page.ts.guardians["李娜家长"].id or 0
    forged = f"{school}.{other:x}.{rest}"
    assert (await page.client.get(f"/f/{forged}")).status == 404
    assert (await page.client.post(f"/f/{forged}", data=page.form())).status == 404
    # A receipt page's token (signed for a notice) opens no feedback page.
    notice_token = page.signer.sign(
        notice_id=page.ts.school.id or 0,
        guardian_id=int(guardian, 16),
        expires_at=page.clock() + timedelta(days=1),
    )
    assert (await page.client.get(f"/f/{notice_token}")).status == 404
    assert await _feedback(db) == []


async def test_an_expired_link_is_refused(db: Database, page: Page) -> None:
    token = page.token()
    page.clock.advance(days=1)
    response = await page.client.get(f"/f/{token}")
    assert response.status == 410
    assert "这个意见反馈链接已经失效" in await response.text()
    assert (await page.client.post(f"/f/{token}", data=page.form())).status == 410
    assert await _feedback(db) == []


async def test_a_family_that_has_not_agreed_is_asked_to_agree_first_and_nothing_is_saved(
    db: Database, page: Page
) -> None:
    async with db.session() as session:
        await session.exec(
            delete(GuardianConsent).where(
                col(GuardianConsent.guardian_id) == page.ts.guardians["刘梅"].id
            )
        )
    token = page.token()
    shown = await page.client.get(f"/f/{token}")
    assert shown.status == 403
    assert "阅读学校保存孩子信息的说明并点“同意”" in await shown.text()
    assert (await page.client.post(f"/f/{token}", data=page.form())).status == 403
    assert await _feedback(db) == []


async def test_the_page_asks_the_permission_matrix_and_opens_nothing_it_refuses(
    db: Database, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(MATRIX[Action.FEEDBACK_SEND], Role.GUARDIAN)
    token = page.token()
    assert (await page.client.get(f"/f/{token}")).status == 404
    assert (await page.client.post(f"/f/{token}", data=page.form())).status == 404
    assert await _feedback(db) == []
