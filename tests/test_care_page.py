"""The care page 关爱室求助 parents on WeCom open from their receipt page: the chat's `/care` in
one form — which child, what they want help with — the same case and the same message to the care
room, the chat's received words, and polite refusals for links that are missing, forged, of
another kind or expired, for families that have not agreed yet, and for children not theirs.

The test school (tests/helpers/factories.py): 刘梅 is the mother of 张小明 (三(2)班, head teacher
王芳) and 张小红 (四(1)班, head teacher 孙丽); 李娜家长 has one child, 李娜 (三(2)班). The care room
(tests/helpers/care.py): 周心 and 吴悦, and the principal 高远. The clock: Monday 16 November 2026,
10:00 in Shanghai.
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
from sqlmodel import col, delete

from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from models.care.tables import CaseIntake, CaseStatus, CaseUrgency
from models.db.engine import Database
from models.privacy.tables import GuardianConsent
from tests.helpers.care import CareStaff, add_care_staff, audit_rows, cases
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.receipts import ZONE, published_notice

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

SECRET = "care-page-test-secret-0123456789"
HELP = "孩子爸爸住院了，家里经济很困难，孩子很焦虑"
RECEIVED = (
    "已收到您的求助，状态：已受理。关爱室老师会尽快与您联系。"
    "如遇紧急情况，请直接打电话给班主任或学校。"
)


@dataclass
class Page:
    client: TestClient[web.Request, web.Application]
    ts: TestSchool
    signer: LinkSigner
    clock: FakeClock
    care: CareStaff
    chats: list[str]
    woken: list[int] = field(default_factory=list)

    def token(self, guardian: str = "刘梅", *, days: int = 1) -> str:
        who = self.ts.guardians[guardian]
        return self.signer.sign_care(
            school_id=self.ts.school.id or 0,
            guardian_id=who.id or 0,
            expires_at=self.clock() + timedelta(days=days),
        )

    def child(self, name: str = "张小红") -> str:
        return str(self.ts.students[name].id)


@pytest.fixture
async def page(db: Database, clock: FakeClock) -> AsyncIterator[Page]:
    ts = await seed_school(db)
    care = await add_care_staff(db, ts)
    chats = [await bind(db, clock, person) for person in (care.worker, care.colleague)]
    app = web.Application()
    signer = LinkSigner(SECRET)
    woken: list[int] = []
    add_parent_pages(
        app, db=db, signer=signer, zone=ZONE, now=clock, on_outbox=lambda: woken.append(1)
    )
    async with TestClient(TestServer(app)) as client:
        yield Page(client, ts, signer, clock, care, chats, woken)


async def _send(page: Page, token: str, form: dict[str, str]) -> tuple[int, str]:
    response = await page.client.post(f"/c/{token}", data=form)
    assert not response.history  # answered at once, never redirected
    return response.status, await response.text()


async def _nothing_saved(db: Database) -> None:
    assert await cases(db) == []
    assert await outbox(db, kind="care_new") == []


# -- the link -----------------------------------------------------------------------------------


async def test_the_receipt_page_links_to_the_familys_own_care_page(
    db: Database, page: Page
) -> None:
    notice = await published_notice(db, page.ts, page.clock())
    token = page.signer.sign(
        notice_id=notice.id or 0,
        guardian_id=page.ts.guardians["李娜家长"].id or 0,
        expires_at=link_expiry(notice.display_until, ZONE),
    )
    receipt = await (await page.client.get(f"/n/{token}")).text()
    assert 'id="feedback">意见反馈</a>' in receipt  # the care link stands beside it
    found = re.search(r'<a href="\.\./c/([^"]+)" id="care">关爱室求助</a>', receipt)
    assert found is not None, receipt
    claim = page.signer.read_care(found.group(1))
    assert claim is not None
    assert (claim.guardian_id, claim.school_id) == (
        page.ts.guardians["李娜家长"].id,
        page.ts.school.id,
    )
    assert claim.expires_at == page.clock() + timedelta(days=1)
    # Neither link opens the other page.
    assert page.signer.read_feedback(found.group(1)) is None
    response = await page.client.get(f"/c/{found.group(1)}")
    assert response.status == 200
    text = await response.text()
    # One child: shown, no choice.
    assert '<p class="children" id="child">孩子：李娜（三(2)班）</p>' in text
    assert 'name="child"' not in text


async def test_the_form_lists_the_familys_children_and_says_who_can_read_it(
    page: Page,
) -> None:
    response = await page.client.get(f"/c/{page.token()}")
    text = await response.text()
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]
    assert "您想为哪个孩子向关爱室求助？" in text
    for name, label in [("张小明", "张小明（三(2)班）"), ("张小红", "张小红（四(1)班）")]:
        assert f'value="{page.child(name)}" required> {label}</label>' in text, label
    assert text.count('name="child"') == 2 and "李娜" not in text
    assert "内容保密，只有关爱室老师和校长能看到。" in text
    assert 'maxlength="1000"' in text and ">提交</button>" in text


# -- sending it ---------------------------------------------------------------------------------


async def test_a_request_opens_one_case_and_the_care_room_is_told_as_from_the_chat(
    db: Database, page: Page
) -> None:
    status, text = await _send(page, page.token(), {"child": page.child(), "text": f" {HELP}\r\n"})
    assert status == 200
    assert RECEIVED in text
    [case] = await cases(db)
    assert (case.intake, case.urgency, case.status, case.noticed) == (
        CaseIntake.GUARDIAN,
        CaseUrgency.NORMAL,
        CaseStatus.RECEIVED,
        HELP,
    )
    assert (case.student_id, case.referred_by_guardian_id, case.referred_by_staff_id) == (
        page.ts.students["张小红"].id,
        page.ts.guardians["刘梅"].id,
        None,
    )
    [opened] = await audit_rows(db)
    assert (opened.action, opened.actor, opened.student_id) == (
        "case.change",
        f"guardian:{page.ts.guardians['刘梅'].id}",
        page.ts.students["张小红"].id,
    )
    told = await outbox(db, kind="care_new")
    assert sorted(row.chat_id for row in told) == sorted(page.chats)
    message = reply_of(told[0])
    assert (
        f"【关爱室】新个案 #{case.id}：四(1)班 张小红（家长反映）。请查看并接手。" in message.text
    )
    assert HELP not in message.text
    assert told[0].due_at == page.clock()
    assert page.woken == [1]


async def test_the_answer_names_no_staff_and_shows_nothing_of_the_case(
    db: Database, page: Page
) -> None:
    status, text = await _send(page, page.token("李娜家长"), {"text": HELP})
    assert status == 200 and RECEIVED in text
    [case] = await cases(db)
    assert case.student_id == page.ts.students["李娜"].id
    for staff in ("周心", "吴悦", "高远", "王芳", "孙丽", "赵敏"):
        assert staff not in text
    assert HELP not in text


# -- what is refused ----------------------------------------------------------------------------


async def test_a_5000_character_text_is_refused_with_the_chats_words_and_nothing_saved(
    db: Database, page: Page
) -> None:
    status, text = await _send(page, page.token(), {"child": page.child(), "text": "难" * 5000})
    assert status == 400
    assert "内容太长了：最多 1000 个字，您发来的有 5000 个字。请精简后重新发送。" in text
    assert f'value="{page.child()}" required checked>' in text  # the form comes back as sent
    await _nothing_saved(db)


async def test_an_empty_text_or_no_child_is_answered_and_saves_nothing(
    db: Database, page: Page
) -> None:
    status, text = await _send(page, page.token(), {"child": page.child(), "text": "  "})
    assert status == 400 and "请用文字写下您希望得到的帮助。" in text
    status, text = await _send(page, page.token(), {"text": HELP})
    assert status == 400 and "请选择您想为哪个孩子向关爱室求助。" in text
    assert HELP in text
    await _nothing_saved(db)


@pytest.mark.parametrize("child", ["李娜", "not-a-number"])
async def test_a_child_of_another_family_is_refused_and_nothing_saved(
    db: Database, page: Page, child: str
) -> None:
    wanted = page.child(child) if child in page.ts.students else child
    status, text = await _send(page, page.token(), {"child": wanted, "text": HELP})
    assert status == 400 and "请选择您想为哪个孩子向关爱室求助。" in text
    # The one-child family too: naming another family's child is no default to their own.
    status, _text = await _send(
        page, page.token("李娜家长"), {"child": page.child("张小明"), "text": HELP}
    )
    assert status == 400
    await _nothing_saved(db)


# -- the link is required -----------------------------------------------------------------------


async def test_the_page_needs_a_signed_link(db: Database, page: Page) -> None:
    assert (await page.client.get("/c/")).status == 404
    for token in ("1.2.3", "not-a-token", page.token() + "x"):
        response = await page.client.get(f"/c/{token}")
        assert response.status == 404
        assert "链接无法打开" in await response.text()
        assert (await page.client.post(f"/c/{token}", data={"text": HELP})).status == 404
    await _nothing_saved(db)


async def test_a_forged_token_or_a_link_of_another_kind_is_refused(
    db: Database, page: Page
) -> None:
    genuine = page.token()
    school, guardian, rest = genuine.split(".", 2)
    other = page.ts.guardians["李娜家长"].id or 0
    forged = f"{school}.{other:x}.{rest}"
    assert (await page.client.get(f"/c/{forged}")).status == 404
    assert (await page.client.post(f"/c/{forged}", data={"text": HELP})).status == 404
    expires_at = page.clock() + timedelta(days=1)
    # A receipt page's token (signed for a notice) and a feedback page's open no care page.
    for token in (
        page.signer.sign(
            notice_id=page.ts.school.id or 0, guardian_id=int(guardian, 16), expires_at=expires_at
        ),
        page.signer.sign_feedback(
            school_id=page.ts.school.id or 0, guardian_id=int(guardian, 16), expires_at=expires_at
        ),
    ):
        assert (await page.client.get(f"/c/{token}")).status == 404
        data = {"child": page.child(), "text": HELP}
        assert (await page.client.post(f"/c/{token}", data=data)).status == 404
    await _nothing_saved(db)


async def test_an_expired_link_is_refused(db: Database, page: Page) -> None:
    token = page.token()
    page.clock.advance(days=1)
    response = await page.client.get(f"/c/{token}")
    assert response.status == 410
    assert "这个关爱室求助链接已经失效" in await response.text()
    data = {"child": page.child(), "text": HELP}
    assert (await page.client.post(f"/c/{token}", data=data)).status == 410
    await _nothing_saved(db)


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
    shown = await page.client.get(f"/c/{token}")
    assert shown.status == 403
    assert "阅读学校保存孩子信息的说明并点“同意”" in await shown.text()
    data = {"child": page.child(), "text": HELP}
    assert (await page.client.post(f"/c/{token}", data=data)).status == 403
    await _nothing_saved(db)
