"""Parents on WeCom: a published notice goes out as a school notice linking to the guardian's
receipt page (following the link confirms the receipt); an urgent incident goes as a link to
the incident page (following it acknowledges); other messages go as text; WeCom's refusals
become the delivery worker's failure classes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.base import PermanentSendError, RetryableSendError
from bot.channels.wecom_api import WecomApi
from bot.channels.wecom_parents import (
    WecomParentChannel,
    description_of,
    incident_of,
    notice_of,
)
from bot.delivery.worker import DeliveryWorker
from bot.web.links import LinkSigner, link_expiry
from bot.web.routes import add_parent_pages
from handlers.actions import action_button
from handlers.incident.buttons import ACK
from handlers.notice.render import CONFIRM
from handlers.surveys.answer import ACTION as START_SURVEY
from handlers.types import Button, Reply
from models.db.engine import Database
from models.outbox.outcomes import FailureReason
from models.outbox.tables import OutboxStatus
from models.roster.queries import current_school
from tests.fakes.wecom_server import WecomServer
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.incidents import REPORT, incident_outbox, the_incident
from tests.helpers.notices import receipts
from tests.helpers.outbox import outbox
from tests.helpers.receipts import ZONE, published_notice
from tests.helpers.servers import wecom_config
from tests.helpers.visits import full_dispatcher, person
from tests.test_survey_answer_chat import DEADLINE, sent_survey

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

SECRET = "wecom-parents-test-secret-0123456789"
PUBLIC = "https://jiafang.example.edu.cn"
MOTHER = "parent-liumei"  # 刘梅: 张小明 in 三(2)班, 张小红 in 四(1)班


@pytest.fixture
def wecom_server_with_a_family(wecom_server: WecomServer) -> WecomServer:
    """The fake WeCom with one student, 张小明, whose mother 刘梅 follows the school."""
    wecom_server.students = [
        {
            "student_userid": "stu-zhangxiaoming",
            "name": "张小明",
            "department": [2],
            "parents": [{"parent_userid": MOTHER, "relation": "妈妈", "is_subscribe": 1}],
        }
    ]
    return wecom_server


def channel_for(db: Database, server: WecomServer, clock: FakeClock) -> WecomParentChannel:
    """The channel as `build_wecom` makes it: its parents looked up in the school's bot's school
    (found in a session of its own, as the dispatcher finds it)."""
    config = wecom_config(server, agent_id=1000003, retry_delays=(0.01,))

    async def school() -> int | None:
        async with db.session() as session:
            found = await current_school(session=session)
        return found.id if found is not None else None

    return WecomParentChannel(
        WecomApi(db, config, now=clock), db, LinkSigner(SECRET), PUBLIC + "/", school=school
    )


async def _family_on_wecom(db: Database, clock: FakeClock) -> TestSchool:
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"], channel="wecom-parent", external_id=MOTHER)
    return ts


def _sent(server: WecomServer) -> list[dict[str, Any]]:
    return [c.body for c in server.calls_to("externalcontact/message/send")]


async def test_a_published_notice_reaches_the_parent_as_a_link_to_their_receipt_page(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    ts = await _family_on_wecom(db, clock)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班", "四(1)班"))
    [row] = await outbox(db, prefix="notice:")
    assert (row.channel, row.chat_id) == ("wecom-parent", MOTHER)

    channel = channel_for(db, wecom_server_with_a_family, clock)
    worker = DeliveryWorker(
        db, {channel.name: channel}, clock, monotonic=lambda: clock().timestamp()
    )
    assert await worker.run_once() == 1
    [sent] = await outbox(db, prefix="notice:")
    assert sent.status is OutboxStatus.SENT

    [body] = _sent(wecom_server_with_a_family)
    assert body["msgtype"] == "news" and body["agentid"] == 1000003
    assert body["to_parent_userid"] == [MOTHER]
    [article] = body["news"]["articles"]
    assert article["title"] == "〔2026〕第001号《秋季研学活动通知》"
    assert article["description"].startswith("张小明（三(2)班）、张小红（四(1)班）的家长：")
    assert "11月20日（周五）全天赴科技馆研学" in article["description"]
    assert article["url"].startswith(f"{PUBLIC}/n/")
    token = urlsplit(article["url"]).path.removeprefix("/n/")
    claim = LinkSigner(SECRET).verify(token, now=clock())
    assert claim is not None
    assert (claim.notice_id, claim.guardian_id) == (notice.id, ts.guardians["刘梅"].id)
    assert claim.expires_at == link_expiry(notice.display_until, ZONE)

    # Following the link and pressing 确认收到 records both children's receipts.
    app = web.Application()
    add_parent_pages(app, db=db, signer=LinkSigner(SECRET), zone=ZONE, now=clock)
    async with TestClient(TestServer(app)) as client:
        page = await client.get(urlsplit(article["url"]).path)
        assert "张小明（三(2)班）、张小红（四(1)班）的家长：" in await page.text()
        confirmed = await client.post(f"/n/{token}/confirm")
        assert "✓ 已确认收到（11月16日 10:00）" in await confirmed.text()
    by_student = {r.student_id: r for r in await receipts(db)}
    for name in ("张小明", "张小红"):
        receipt = by_student[ts.students[name].id or 0]
        assert receipt.confirmed_by == ts.guardians["刘梅"].id
        assert receipt.channel == "wecom-parent"


async def test_a_message_without_notice_buttons_goes_as_text(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    await _family_on_wecom(db, clock)
    answer = "【老师答复】〔2026〕第001号《秋季研学活动通知》\n四(1)班班主任：\n需要自带午餐。"
    reply = Reply.with_buttons(answer, [[Button("好的", "ok")]])
    assert await channel_for(db, wecom_server_with_a_family, clock).send(MOTHER, reply) is None
    [body] = _sent(wecom_server_with_a_family)
    assert body["msgtype"] == "text"
    assert body["text"] == {"content": answer}
    assert body["to_parent_userid"] == [MOTHER]


async def test_a_parent_wecom_does_not_know_is_a_permanent_failure(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    await _family_on_wecom(db, clock)
    with pytest.raises(PermanentSendError) as refused:
        await channel_for(db, wecom_server_with_a_family, clock).send(
            "parent-gone", Reply("明天放假。")
        )
    assert refused.value.reason is FailureReason.CHAT_NOT_FOUND


async def test_a_notice_for_a_chat_nobody_is_bound_to_is_not_sent(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    ts = await _family_on_wecom(db, clock)
    notice = await published_notice(db, ts, clock())
    reply = Reply.with_buttons("通知", [[action_button("确认收到", CONFIRM, notice.id or 0)]])
    with pytest.raises(PermanentSendError) as refused:
        await channel_for(db, wecom_server_with_a_family, clock).send("parent-unbound", reply)
    assert refused.value.reason is FailureReason.CHAT_NOT_FOUND
    assert _sent(wecom_server_with_a_family) == []


@pytest.mark.parametrize(
    ("errcode", "expected", "reason"),
    [
        (60020, PermanentSendError, FailureReason.BLOCKED),
        (84003, PermanentSendError, FailureReason.CHAT_NOT_FOUND),
        (-1, RetryableSendError, None),
    ],
)
async def test_wecom_refusals_become_the_workers_failure_classes(
    db: Database,
    clock: FakeClock,
    wecom_server_with_a_family: WecomServer,
    errcode: int,
    expected: type[Exception],
    reason: FailureReason | None,
) -> None:
    await _family_on_wecom(db, clock)
    wecom_server_with_a_family.fail_next(errcode, times=3)
    with pytest.raises(expected) as failed:
        await channel_for(db, wecom_server_with_a_family, clock).send(MOTHER, Reply("明天放假。"))
    if reason is not None:
        assert isinstance(failed.value, PermanentSendError)
        assert failed.value.reason is reason


def test_the_notice_is_found_by_any_of_its_guardian_buttons() -> None:
    for name in ("nok", "nq", "nshow"):
        assert notice_of(Reply.with_buttons("x", [[action_button("按钮", name, 42)]])) == 42
    assert notice_of(Reply.with_buttons("x", [[action_button("已知悉", "ack", 42)]])) is None
    assert notice_of(Reply.with_buttons("x", [[Button("下一步", "next")]])) is None
    assert notice_of(Reply("没有按钮")) is None


def test_the_description_is_a_short_start_of_the_text() -> None:
    text = (
        "【外出活动通知】〔2026〕第001号\n《秋游》\n张小明（三(2)班）的家长：\n\n"
        + "请穿校服。" * 40
    )
    description = description_of(text)
    assert description.startswith("张小明（三(2)班）的家长： 请穿校服。")
    assert len(description) == 80 and description.endswith("…")


# -- urgent incidents --------------------------------------------------------------------------


async def test_an_incident_reaches_the_parent_as_a_link_and_following_it_acknowledges(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    ts = await _family_on_wecom(db, clock)
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, ts.staff["王芳"])
    coach = await person(db, clock, dispatcher, ts.staff["钱进"])
    await coach.steps("/incident 张小明", *REPORT[3:], "确认上报")
    [row] = await incident_outbox(db, "incident_family")
    assert (row.channel, row.chat_id) == ("wecom-parent", MOTHER)

    channel = channel_for(db, wecom_server_with_a_family, clock)
    worker = DeliveryWorker(
        db, {channel.name: channel}, clock, monotonic=lambda: clock().timestamp()
    )
    assert await worker.run_once() == 1
    [body] = _sent(wecom_server_with_a_family)
    assert body["msgtype"] == "news" and body["to_parent_userid"] == [MOTHER]
    [article] = body["news"]["articles"]
    assert article["title"] == "【紧急】张小明在校突发情况"
    assert article["description"].startswith("张小明家长您好：张小明（三(2)班）于 11月16日 10:00")
    assert len(article["description"]) <= 80
    assert article["url"].startswith(f"{PUBLIC}/i/")
    token = urlsplit(article["url"]).path.removeprefix("/i/")
    incident = await the_incident(db)
    claim = LinkSigner(SECRET).verify_incident(token, now=clock())
    assert claim is not None
    assert (claim.incident_id, claim.guardian_id) == (incident.id, ts.guardians["刘梅"].id)
    assert claim.expires_at == incident.reported_at + timedelta(days=7)

    app = web.Application()
    add_parent_pages(app, db=db, signer=LinkSigner(SECRET), zone=ZONE, now=clock)
    async with TestClient(TestServer(app)) as client:
        page = await client.get(urlsplit(article["url"]).path)
        assert "请尽快与班主任王芳老师联系。" in await page.text()
        acknowledged = await client.post(f"/i/{token}/ack")
        assert "✓ 您已于 10:00 确认知悉，谢谢。" in await acknowledged.text()
    assert (await the_incident(db)).acknowledged_by == ts.guardians["刘梅"].id
    told = await incident_outbox(db, "incident_acknowledged")
    assert sorted(r.chat_id for r in told) == sorted(
        f"staff-{ts.staff[n].id}" for n in ("王芳", "钱进")
    )


async def test_an_incident_about_another_familys_child_goes_as_text(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    ts = await _family_on_wecom(db, clock)
    dispatcher = full_dispatcher(db, clock)
    coach = await person(db, clock, dispatcher, ts.staff["钱进"])
    await coach.steps("/incident 李娜", *REPORT[3:], "确认上报")
    incident = await the_incident(db)
    # A row that somehow names 刘梅's chat: no link to a page she could not open.
    reply = Reply.with_buttons("李娜家长您好", [[action_button("已知悉", ACK, incident.id or 0)]])
    await channel_for(db, wecom_server_with_a_family, clock).send(MOTHER, reply)
    [body] = _sent(wecom_server_with_a_family)
    assert body["msgtype"] == "text"


def test_the_incident_is_found_by_its_acknowledge_button() -> None:
    reply = Reply.with_buttons("x", [[action_button("已知悉", ACK, 42)]])
    assert incident_of(reply) == 42 and notice_of(reply) is None
    assert incident_of(Reply.with_buttons("x", [[action_button("确认收到", CONFIRM, 42)]])) is None
    assert incident_of(Reply("没有按钮")) is None


async def test_a_survey_invitation_reaches_the_parent_as_a_link_to_the_whole_form(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    ts = await _family_on_wecom(db, clock)
    survey_id = await sent_survey(db, clock, ts)
    invite = Reply.with_buttons(
        "学校邀请您填写《家长问卷》，约 3 分钟。",
        [[action_button("开始填写", START_SURVEY, survey_id)]],
    )
    channel = channel_for(db, wecom_server_with_a_family, clock)
    await channel.send(MOTHER, invite)
    [body] = _sent(wecom_server_with_a_family)
    assert body["msgtype"] == "news"
    [article] = body["news"]["articles"]
    assert article["url"].startswith(f"{PUBLIC}/s/")
    token = urlsplit(article["url"]).path.removeprefix("/s/")
    claim = LinkSigner(SECRET).read_survey(token)
    assert claim is not None
    assert (claim.survey_id, claim.guardian_id) == (survey_id, ts.guardians["刘梅"].id)
    assert claim.expires_at == clock() + DEADLINE
    app = web.Application()
    add_parent_pages(app, db=db, signer=LinkSigner(SECRET), zone=ZONE, now=clock)
    async with TestClient(TestServer(app)) as client:
        page = await client.get(urlsplit(article["url"]).path)
        assert page.status == 200
        assert "作业" in await page.text()
