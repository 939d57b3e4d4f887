"""The WeCom API client against a local fake: shared token, refresh, retries, timeouts."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.channels.wecom_api import (
    WECOM_BASE_URL,
    Member,
    WecomApi,
    WecomError,
    WecomTimeout,
    news_article,
)
from models.db.engine import Database
from models.wecom.tables import WecomToken
from tests.fakes.wecom_server import WecomServer
from tests.helpers.clock import FakeClock
from tests.helpers.servers import wecom_config


def api_for(db: Database, server: WecomServer, clock: FakeClock, **overrides: object) -> WecomApi:
    return WecomApi(db, wecom_config(server, **overrides), now=clock)


async def test_calls_go_to_the_configured_base_url_and_never_to_wecom_itself(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    api = api_for(db, wecom_server, clock)
    await api.send_text("zhangsan", "您好")
    assert api.base_url == wecom_server.base_url
    assert api.base_url.startswith("http://127.0.0.1:")
    assert WECOM_BASE_URL not in api.base_url
    assert [c.path for c in wecom_server.calls] == ["gettoken", "message/send"]


async def test_a_text_message_reaches_the_member_with_the_app_agent_id(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    sent = await api_for(db, wecom_server, clock).send_text("zhangsan", "明天下午家访")
    (call,) = wecom_server.delivered
    assert call.body == {
        "touser": "zhangsan",
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": "明天下午家访"},
    }
    assert sent.msgid.startswith("msg-")


async def test_the_token_is_fetched_once_and_shared_by_two_clients_over_the_database(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    first, second = api_for(db, wecom_server, clock), api_for(db, wecom_server, clock)
    await first.send_text("zhangsan", "一")
    await second.send_text("lisi", "二")
    await first.send_text("wangwu", "三")
    assert len(wecom_server.calls_to("gettoken")) == 1
    async with db.session() as session:
        (row,) = (await session.exec(select(WecomToken))).all()
    assert row.app == f"{wecom_server.corp_id}:1000002"
    assert {c.query["access_token"] for c in wecom_server.calls_to("message/send")} == {row.token}


async def test_a_token_near_its_expiry_is_fetched_again(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    api = api_for(db, wecom_server, clock)
    await api.send_text("zhangsan", "一")
    clock.advance(seconds=wecom_server.expires_in - 60)
    await api.send_text("zhangsan", "二")
    assert len(wecom_server.calls_to("gettoken")) == 2


async def test_an_expired_token_mid_sequence_is_refreshed_once_and_each_message_sent_once(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    api = api_for(db, wecom_server, clock)
    await api.send_text("a", "一")
    wecom_server.expire_tokens()
    await api.send_text("b", "二")
    await api.send_text("c", "三")
    assert len(wecom_server.calls_to("gettoken")) == 2
    assert [c.body["touser"] for c in wecom_server.delivered] == ["a", "b", "c"]
    assert [c.body["touser"] for c in wecom_server.calls_to("message/send")] == ["a", "b", "b", "c"]


async def test_a_token_another_process_refreshed_is_taken_from_the_database(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    first, second = api_for(db, wecom_server, clock), api_for(db, wecom_server, clock)
    await first.send_text("a", "一")
    await second.send_text("b", "二")
    wecom_server.expire_tokens()
    await first.send_text("c", "三")
    await second.send_text("d", "四")
    assert len(wecom_server.calls_to("gettoken")) == 2
    assert [c.body["touser"] for c in wecom_server.delivered] == ["a", "b", "c", "d"]


async def test_a_token_taken_from_the_database_and_refused_too_is_followed_by_a_fetched_one(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    # Two processes: the second stores a newer token, then one expiry hits both tokens.
    first, second = api_for(db, wecom_server, clock), api_for(db, wecom_server, clock)
    await first.send_text("a", "一")
    wecom_server.expire_tokens()
    await second.send_text("b", "二")
    wecom_server.expire_tokens()
    await first.send_text("c", "三")  # its token refused, then the stored one too
    assert len(wecom_server.calls_to("gettoken")) == 3
    assert [c.body["touser"] for c in wecom_server.delivered] == ["a", "b", "c"]
    assert [c.body["touser"] for c in wecom_server.calls_to("message/send")][-3:] == ["c"] * 3


async def test_a_token_refused_twice_is_refreshed_only_once_then_the_error_is_raised(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    api = api_for(db, wecom_server, clock)
    await api.send_text("a", "一")
    wecom_server.expire_tokens()
    wecom_server.fail_next(42001)
    with pytest.raises(WecomError) as raised:
        await api.send_text("b", "二")
    assert raised.value.errcode == 42001
    assert len(wecom_server.calls_to("gettoken")) == 2
    assert wecom_server.delivered[-1].body["touser"] == "a"


@pytest.mark.parametrize("errcode", [-1, 45009])
async def test_a_busy_or_rate_limited_answer_is_retried_and_the_message_sent_once(
    db: Database, wecom_server: WecomServer, clock: FakeClock, errcode: int
) -> None:
    wecom_server.fail_next(errcode, times=2)
    await api_for(db, wecom_server, clock).send_text("zhangsan", "您好")
    assert len(wecom_server.calls_to("message/send")) == 3
    assert len(wecom_server.delivered) == 1


async def test_retries_stop_when_the_back_off_is_used_up(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    wecom_server.fail_next(-1, times=3)
    with pytest.raises(WecomError) as raised:
        await api_for(db, wecom_server, clock).send_text("zhangsan", "您好")
    assert raised.value.errcode == -1
    assert wecom_server.delivered == []


async def test_another_error_is_raised_at_once(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    wecom_server.fail_next(60020)
    with pytest.raises(WecomError) as raised:
        await api_for(db, wecom_server, clock).send_text("zhangsan", "您好")
    assert raised.value.errcode == 60020
    assert len(wecom_server.calls_to("message/send")) == 1


async def test_a_call_that_hangs_hits_the_timeout_and_is_not_retried(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    api = api_for(db, wecom_server, clock, timeout=0.3)
    await api.send_text("a", "一")
    wecom_server.hang_next()
    with pytest.raises(WecomTimeout):
        await api.send_text("b", "二")
    wecom_server.release()
    assert len(wecom_server.calls_to("message/send")) == 2


async def test_a_wrong_secret_is_reported_as_an_error(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    with pytest.raises(WecomError) as raised:
        await api_for(db, wecom_server, clock, secret="wrong").send_text("a", "一")
    assert raised.value.errcode == 40001


async def test_a_button_card_returns_a_response_code_used_to_update_it(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    api = api_for(db, wecom_server, clock)
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "家访方式"},
        "task_id": "visit-1",
        "button_list": [{"text": "上门", "key": "home"}, {"text": "电话", "key": "phone"}],
    }
    sent = await api.send_template_card("zhangsan", card)
    assert sent.response_code is not None
    await api.update_template_card(["zhangsan"], sent.response_code, replace_name="已选：上门")
    update = wecom_server.calls_to("message/update_template_card")[0].body
    assert update == {
        "userids": ["zhangsan"],
        "agentid": 1000002,
        "response_code": sent.response_code,
        "button": {"replace_name": "已选：上门"},
    }


async def test_a_school_notice_goes_to_parents_and_reports_unknown_ones(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    wecom_server.students = [
        {
            "student_userid": "s1",
            "name": "小明",
            "department": [5],
            "parents": [{"parent_userid": "p1", "relation": "爸爸", "mobile": "13800000001"}],
        }
    ]
    content = news_article("秋游通知", "请确认收到", "https://school.example/r/abc")
    result = await api_for(db, wecom_server, clock).send_school_notice(
        "news", content, parent_userids=["p1", "p9"]
    )
    assert result.invalid_parents == ("p9",)
    (call,) = wecom_server.calls_to("externalcontact/message/send")
    assert call.body["msgtype"] == "news"
    assert call.body["news"]["articles"][0]["url"] == "https://school.example/r/abc"
    assert call.body["to_parent_userid"] == ["p1", "p9"]


async def test_members_are_listed_with_their_mobiles(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    wecom_server.members = [
        {"userid": "zhangsan", "name": "张三", "mobile": "13900000001", "department": [1, 3]},
        {"userid": "lisi", "name": "李四", "department": [3]},
    ]
    members = await api_for(db, wecom_server, clock).list_members()
    assert members == [
        Member("zhangsan", "张三", "13900000001", (1, 3)),
        Member("lisi", "李四", None, (3,)),
    ]
    assert wecom_server.calls_to("user/list")[0].query["fetch_child"] == "1"


async def test_school_contacts_list_students_with_their_parents(
    db: Database, wecom_server: WecomServer, clock: FakeClock
) -> None:
    wecom_server.students = [
        {
            "student_userid": "s1",
            "name": "小明",
            "department": [5],
            "parents": [
                {
                    "parent_userid": "p1",
                    "relation": "妈妈",
                    "mobile": "13800000002",
                    "is_subscribe": 1,
                    "external_userid": "wm-1",
                }
            ],
        }
    ]
    (student,) = await api_for(db, wecom_server, clock).list_school_contacts()
    assert (student.student_userid, student.name, student.departments) == ("s1", "小明", (5,))
    (parent,) = student.parents
    assert (parent.parent_userid, parent.mobile, parent.subscribed) == ("p1", "13800000002", True)
