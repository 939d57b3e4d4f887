"""A parent meeting's notice reaches a WeCom parent as a link to their receipt page, which offers
确认参加 and 不能参加 instead of 确认收到: either answer is the family's receipt for both children,
an answer can be changed (the receipt keeps its first time), and a repeat changes nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.delivery.worker import DeliveryWorker
from bot.web.links import LinkSigner
from bot.web.routes import add_parent_pages
from models.db.engine import Database
from models.outbox.tables import OutboxStatus
from tests.fakes.wecom_server import WecomServer
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.notices import receipts
from tests.helpers.outbox import outbox
from tests.helpers.receipts import ZONE
from tests.helpers.visits import full_dispatcher, person
from tests.test_meeting_chat import meetings
from tests.test_wecom_parents import MOTHER, SECRET, channel_for, wecom_server_with_a_family

__all__ = ["wecom_server_with_a_family"]


async def test_a_wecom_parent_answers_a_meeting_on_her_receipt_page(
    db: Database, clock: FakeClock, wecom_server_with_a_family: WecomServer
) -> None:
    wecom_server = wecom_server_with_a_family
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"], channel="wecom-parent", external_id=MOTHER)
    admin = await person(db, clock, full_dispatcher(db, clock), ts.staff["赵敏"])
    await admin.send("/meeting new")
    await admin.steps("班级家长会", "三(2)班", ">12月18日 15:30", ">三楼会议室", ">期中成绩分析")
    await admin.press("提交")
    assert "已安排：三(2)班家长会" in admin.text  # 德育处's own meeting: published at once
    [meeting] = await meetings(db)

    channel = channel_for(db, wecom_server, clock)
    worker = DeliveryWorker(
        db, {channel.name: channel}, clock, monotonic=lambda: clock().timestamp()
    )
    assert await worker.run_once() >= 1
    [row] = [r for r in await outbox(db, prefix="notice:") if r.chat_id == MOTHER]
    assert row.status is OutboxStatus.SENT
    [body] = [c.body for c in wecom_server.calls_to("externalcontact/message/send")]
    [article] = body["news"]["articles"]
    assert article["title"].endswith("《三(2)班家长会：12月18日 15:30 · 三楼会议室》")
    path = urlsplit(article["url"]).path
    token = path.removeprefix("/n/")

    app = web.Application()
    add_parent_pages(app, db=db, signer=LinkSigner(SECRET), zone=ZONE, now=clock)
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get(path)).text()
        assert "请于 12月17日（周四） 18:00 前回复是否参加。" in page
        assert f'action="{token}/attend"' in page and f'action="{token}/decline"' in page
        assert ">确认参加<" in page and ">不能参加<" in page
        assert 'id="confirm"' not in page  # no 确认收到 on a meeting's page
        assert (await client.post(f"/n/{token}/confirm")).status == 404
        assert not [r for r in await receipts(db) if r.confirmed_at]  # 确认收到 is not an answer

        answered = await (await client.post(f"/n/{token}/attend")).text()
        assert "已回复：确认参加。谢谢您！" in answered
        assert "✓ 已回复：确认参加（11月16日 10:00）" in answered
        assert ">改为不能参加<" in answered and ">确认参加<" not in answered
        again = await (await client.post(f"/n/{token}/attend")).text()
        assert "您已经回复过了，无需再次回复。" in again

        clock.advance(hours=2)
        changed = await (await client.post(f"/n/{token}/decline")).text()
        assert "已回复：不能参加。谢谢您告知！" in changed and ">改为参加<" in changed

    # Both children's receipts (张小明 invited; 张小红 is in 四(1)班, not invited), first time kept.
    mine = [r for r in await receipts(db) if r.confirmed_at]
    assert [(r.student_id, r.answer, r.channel) for r in mine] == [
        (ts.students["张小明"].id, "decline", "wecom-parent")
    ]
    assert mine[0].confirmed_at == clock() - timedelta(hours=2)
    assert mine[0].notice_id == meeting.notice_id
