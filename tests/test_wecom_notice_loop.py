"""A notice's whole loop on WeCom, wired as `python -m bot run` wires it: the parent gets a school
notice with a link, confirms on the receipt page served by the bot's own web server, asks a
question that reaches the head teacher in the staff app, and gets the teacher's answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from models.db.engine import Database
from tests.fakes.wecom_harness import WecomHarness, shown_text
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind
from tests.helpers.notices import receipts
from tests.helpers.receipts import published_notice

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

MOTHER = "parent-liumei"  # 刘梅: 张小明 in 三(2)班 (王芳), 张小红 in 四(1)班 (孙丽)
HEAD = "wangfang"
PUBLIC = "https://jiafang.example.edu.cn"


@pytest.fixture
async def school_bound_on_wecom(db: Database, clock: FakeClock, school: TestSchool) -> TestSchool:
    """The test school with 刘梅 bound in the parents' app and 王芳 in the staff app."""
    await bind(db, clock, school.guardians["刘梅"], channel="wecom-parent", external_id=MOTHER)
    await bind(db, clock, school.staff["王芳"], channel="wecom", external_id=HEAD)
    return school


@pytest.fixture
async def wecom(
    db: Database, clock: FakeClock, school_bound_on_wecom: TestSchool
) -> AsyncIterator[WecomHarness]:
    harness = WecomHarness(
        db,
        clock,
        extra_settings={"public_base_url": PUBLIC, "link_secret": "loop-test-secret-0123456789"},
    )
    harness.server.students = [
        {
            "student_userid": "stu-1",
            "name": "张小明",
            "department": [2],
            "parents": [{"parent_userid": MOTHER, "relation": "妈妈", "is_subscribe": 1}],
        }
    ]
    await harness.start()
    yield harness
    await harness.stop()


async def test_a_parent_confirms_and_asks_and_the_head_teacher_answers_in_the_app(
    wecom: WecomHarness, db: Database, clock: FakeClock, school_bound_on_wecom: TestSchool
) -> None:
    assert wecom.client is not None
    await published_notice(db, school_bound_on_wecom, clock(), classes=("三(2)班",))
    await wecom.deliver()
    [notice] = [c.body for c in wecom.server.calls_to("externalcontact/message/send")]
    assert notice["to_parent_userid"] == [MOTHER]
    [article] = notice["news"]["articles"]
    path = urlsplit(article["url"]).path
    assert article["url"].startswith(f"{PUBLIC}/n/")

    page = await wecom.client.get(path)
    assert page.status == 200 and "确认收到" in await page.text()
    confirmed = await wecom.client.post(f"{path}/confirm")
    assert "✓ 已确认收到" in await confirmed.text()
    again = await wecom.client.post(f"{path}/confirm")
    assert again.status == 200
    by_student = {r.student_id: r for r in await receipts(db)}
    receipt = by_student[school_bound_on_wecom.students["张小明"].id or 0]
    assert (receipt.confirmed_by, receipt.channel) == (
        school_bound_on_wecom.guardians["刘梅"].id,
        "wecom-parent",
    )

    await wecom.client.post(f"{path}/question", data={"text": "需要自带午餐吗？"})
    await wecom.deliver()
    question, card = wecom.messages_to(HEAD)[-2:]
    text = shown_text(question)
    assert "家长疑问" in text and "需要自带午餐吗？" in text
    assert "139" not in text and MOTHER not in text  # neither the phone nor the account
    # 回复家长 acts on this message, not on a conversation: only a click can press it.
    assert card.body["template_card"]["main_title"]["title"].startswith("【家长疑问】")
    assert [b["text"] for b in card.body["template_card"]["button_list"]] == ["回复家长"]

    await wecom.steps(HEAD, "回复家长", ">请自带午餐和水。")
    await wecom.deliver()
    texts = [
        c.body["text"]["content"]
        for c in wecom.server.calls_to("externalcontact/message/send")
        if c.body["msgtype"] == "text"
    ]
    assert len(texts) == 1 and "请自带午餐和水。" in texts[0]
