"""The incident page parents on WeCom open from an urgent incident message: the school's short
message, 已知悉 recorded once (the head teacher and the reporter told once, as on Telegram), and
polite refusals for another family's, expired, forged or notice links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web.links import INCIDENT_LINK_DAYS, LinkSigner, incident_link_expiry
from bot.web.routes import add_parent_pages
from models.db.engine import Database
from models.incidents.tables import Incident
from models.roster.tables import Guardian, Student, StudentGuardian
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.incidents import REPORT, ZONE, events, incident_outbox, the_incident
from tests.helpers.visits import full_dispatcher, person

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

SECRET = "incident-page-test-secret-0123456789"


@dataclass
class Page:
    client: TestClient[web.Request, web.Application]
    ts: TestSchool
    incident: Incident
    signer: LinkSigner
    woken: list[int] = field(default_factory=list)

    def token(self, guardian: str | Guardian) -> str:
        who = self.ts.guardians[guardian] if isinstance(guardian, str) else guardian
        return self.signer.sign_incident(
            incident_id=self.incident.id or 0,
            guardian_id=who.id or 0,
            expires_at=incident_link_expiry(self.incident.reported_at),
        )

    async def open(self, token: str, query: str = "") -> tuple[int, str]:
        response = await self.client.get(f"/i/{token}{query}")
        return response.status, await response.text()

    async def acknowledge(self, token: str) -> str:
        """POST 已知悉 and follow the redirect back to the page; returns the page's text."""
        response = await self.client.post(f"/i/{token}/ack")
        assert response.status == 200, await response.text()
        assert response.history and response.history[0].status == 303
        assert str(response.url.path) == f"/i/{token}"
        return await response.text()


async def reported_incident(db: Database, clock: FakeClock) -> TestSchool:
    """钱进 reports that 张小明 (三(2)班, head teacher 王芳) fell; 刘梅 is on WeCom."""
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, ts.staff["王芳"])
    coach = await person(db, clock, dispatcher, ts.staff["钱进"])
    await bind(db, clock, ts.guardians["刘梅"], channel="wecom-parent", external_id="parent-liumei")
    await coach.steps("/incident 张小明", *REPORT[3:], "确认上报")
    assert coach.text.startswith("已上报。")
    return ts


@pytest.fixture
async def page(db: Database, clock: FakeClock) -> AsyncIterator[Page]:
    ts = await reported_incident(db, clock)
    incident = await the_incident(db)
    signer = LinkSigner(SECRET)
    woken: list[int] = []
    app = web.Application()
    add_parent_pages(
        app, db=db, signer=signer, zone=ZONE, now=clock, on_outbox=lambda: woken.append(1)
    )
    async with TestClient(TestServer(app)) as client:
        yield Page(client, ts, incident, signer, woken)


async def _staff_told(db: Database) -> list[str]:
    return sorted(r.chat_id for r in await incident_outbox(db, "incident_acknowledged"))


# -- the page -----------------------------------------------------------------------------------


async def test_the_page_shows_the_familys_message_and_a_big_acknowledge_button(
    page: Page,
) -> None:
    response = await page.client.get(f"/i/{page.token('刘梅')}")
    text = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    for expected in (
        "测试小学",
        "【紧急】张小明在校突发情况",
        "张小明（三(2)班）于 11月16日 10:00 在校发生突发情况：意外伤害。",
        "请尽快与班主任王芳老师联系。",
        'id="ack">已知悉</button>',
        'name="viewport" content="width=device-width, initial-scale=1"',
    ):
        assert expected in text, expected
    # What happened is for staff: the family's page says no more than the Telegram message.
    assert "右膝擦伤流血" not in text and "已送医院" not in text
    for header, value in (
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Robots-Tag", "noindex"),
    ):
        assert response.headers[header] == value


async def test_acknowledging_records_it_once_and_tells_the_staff_once(
    db: Database, clock: FakeClock, page: Page
) -> None:
    token = page.token("刘梅")
    text = await page.acknowledge(token)
    assert "学校老师已收到您的确认。" in text
    assert "✓ 您已于 10:00 确认知悉，谢谢。" in text
    assert 'id="ack"' not in text
    incident = await the_incident(db)
    assert incident.acknowledged_at == clock()
    assert incident.acknowledged_by == page.ts.guardians["刘梅"].id
    told = await _staff_told(db)
    assert told == sorted(f"staff-{page.ts.staff[n].id}" for n in ("王芳", "钱进"))
    [note, _other] = await incident_outbox(db, "incident_acknowledged")
    assert "【家长已知悉】三(2)班 张小明：家长刘梅已于 10:00" in note.payload["text"]
    assert page.woken == [1]

    clock.advance(minutes=5)
    again = await page.acknowledge(token)
    assert "您已经确认过了，无需再次确认。" in again
    assert "✓ 您已于 10:00 确认知悉，谢谢。" in again
    assert (await the_incident(db)).acknowledged_at == incident.acknowledged_at
    assert await _staff_told(db) == told
    assert [e for e in await events(db) if e[0] == "acknowledged"] == [
        ("acknowledged", f"guardian:{page.ts.guardians['刘梅'].id}", "")
    ]
    assert page.woken == [1]


async def test_a_second_guardian_of_the_child_sees_it_was_already_acknowledged(
    db: Database, clock: FakeClock, page: Page
) -> None:
    async with db.session() as session:
        father = Guardian(school_id=page.ts.school.id or 0, name="张伟", phone="13900000001")
        session.add(father)
        await session.flush()
        student = page.ts.students["张小明"].id or 0
        session.add(StudentGuardian(student_id=student, guardian_id=father.id or 0))
    await page.acknowledge(page.token("刘梅"))
    clock.advance(minutes=3)
    text = await page.acknowledge(page.token(father))
    assert "✓ 已有家长于 10:00 确认知悉。" in text
    assert "您已经确认过了" not in text
    assert (await the_incident(db)).acknowledged_by == page.ts.guardians["刘梅"].id
    assert len(await _staff_told(db)) == 2


async def test_another_familys_link_cannot_acknowledge_this_familys_incident(
    db: Database, page: Page
) -> None:
    # 李娜's father has a genuine link to this incident id, but 张小明 is not his child.
    token = page.token("李娜家长")
    status, text = await page.open(token)
    assert status == 404 and "链接无法打开" in text
    assert "张小明" not in text
    response = await page.client.post(f"/i/{token}/ack")
    assert response.status == 404
    # A genuine link with the guardian changed is a forgery.
    incident, _guardian, rest = page.token("李娜家长").split(".", 2)
    mother = format(page.ts.guardians["刘梅"].id or 0, "x")
    response = await page.client.post(f"/i/{incident}.{mother}.{rest}/ack")
    assert response.status == 404
    assert (await the_incident(db)).acknowledged_at is None
    assert await _staff_told(db) == []


async def test_an_expired_link_gets_a_polite_page_and_acknowledges_nothing(
    db: Database, clock: FakeClock, page: Page
) -> None:
    token = page.token("刘梅")
    clock.now = page.incident.reported_at + timedelta(days=INCIDENT_LINK_DAYS)
    status, text = await page.open(token)
    assert status == 410
    assert "链接已过期" in text and "请联系班主任" in text
    response = await page.client.post(f"/i/{token}/ack")
    assert response.status == 410
    assert response.headers["Cache-Control"] == "no-store"
    assert (await the_incident(db)).acknowledged_at is None
    assert await _staff_told(db) == []


async def test_a_link_works_until_seven_days_after_the_report(clock: FakeClock, page: Page) -> None:
    clock.now = page.incident.reported_at + timedelta(days=7, seconds=-1)
    status, _text = await page.open(page.token("刘梅"))
    assert status == 200


@pytest.mark.parametrize(
    "token",
    ["forged", "1.2.3.AAAAAAAAAAAAAAAAAAAAAA", "%E4%BD%A0%E5%A5%BD", "x" * 300],
)
async def test_a_forged_or_unknown_link_gets_a_polite_page(page: Page, token: str) -> None:
    status, text = await page.open(token)
    assert status == 404
    assert "链接无法打开" in text and "Traceback" not in text


async def test_a_notice_link_with_the_same_numbers_opens_no_incident(
    db: Database, page: Page
) -> None:
    as_notice = page.signer.sign(
        notice_id=page.incident.id or 0,
        guardian_id=page.ts.guardians["刘梅"].id or 0,
        expires_at=incident_link_expiry(page.incident.reported_at),
    )
    assert (await page.client.get(f"/i/{as_notice}")).status == 404
    assert (await page.client.post(f"/i/{as_notice}/ack")).status == 404
    # And the incident link opens no notice.
    assert (await page.client.get(f"/n/{page.token('刘梅')}")).status == 404
    assert (await the_incident(db)).acknowledged_at is None


async def test_a_link_signed_with_another_secret_acknowledges_nothing(
    db: Database, page: Page
) -> None:
    other = LinkSigner("some-other-secret-abcdefghijkl").sign_incident(
        incident_id=page.incident.id or 0,
        guardian_id=page.ts.guardians["刘梅"].id or 0,
        expires_at=incident_link_expiry(page.incident.reported_at),
    )
    assert (await page.client.post(f"/i/{other}/ack")).status == 404
    assert (await the_incident(db)).acknowledged_at is None


async def test_the_message_is_escaped(db: Database, page: Page) -> None:
    async with db.session() as session:
        student = await session.get(Student, page.ts.students["张小明"].id)
        assert student is not None
        student.name = "<b>小明</b>"
    _status, text = await page.open(page.token("刘梅"))
    assert "<b>小明</b>" not in text
    assert "&lt;b&gt;小明&lt;/b&gt;" in text
