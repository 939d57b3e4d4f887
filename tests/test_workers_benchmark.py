"""The parts of `benchmarks/workers.py` that decide its figures: which runs it makes, where the
load balancer sends an update, when an update counts as answered, and what counts as answered
twice. (The whole benchmark starts worker processes on PostgreSQL; it is run by hand.)"""

from __future__ import annotations

from collections import Counter
from typing import cast

import aiohttp
import pytest

from benchmarks.workers import (
    BALANCES,
    AnsweringBotApi,
    Balancer,
    Config,
    answer_problems,
    bot_environment,
    configurations,
)
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import TgUser, UpdateFactory

#: Choosing a worker sends nothing.
NO_SESSION = cast(aiohttp.ClientSession, None)
TEACHER = TgUser(900_000_001, "老师1")
OTHER = TgUser(900_000_002, "老师2")


def test_one_worker_runs_once_and_several_workers_run_with_each_balance() -> None:
    assert configurations((1, 2), BALANCES) == (
        Config(1),
        Config(2, "round-robin"),
        Config(2, "by-chat"),
    )
    assert [c.label for c in configurations((2,), ("by-chat",))] == ["2 workers, by-chat"]


def test_round_robin_sends_each_update_to_the_next_worker() -> None:
    balancer = Balancer(NO_SESSION, ["a", "b"], "t")
    updates = UpdateFactory()

    chosen = [balancer.target(updates.text(TEACHER, "/visit")) for _ in range(4)]

    assert chosen == ["a", "b", "a", "b"]


def test_by_chat_sends_every_update_of_a_chat_to_the_same_worker() -> None:
    balancer = Balancer(NO_SESSION, ["a", "b"], "t", balance="by-chat")
    updates = UpdateFactory()
    first = updates.text(TEACHER, "/visit")
    press = updates.callback(TEACHER, "cls:1", message_id=1001)

    assert balancer.target(first) == balancer.target(press) == balancer.target(first)
    assert balancer.target(updates.text(OTHER, "/visit")) != balancer.target(first)


async def test_a_press_is_answered_once_both_its_query_and_the_next_question_arrived() -> None:
    api = AnsweringBotApi()
    api.query_chats["cq1"] = TEACHER.id
    done = api.expect(TEACHER.id, "cq1")

    await api.call("answerCallbackQuery", {"callback_query_id": "cq1"})
    assert not done.done()
    await api.call("sendMessage", {"chat_id": TEACHER.id, "text": "请选择家访形式："})

    assert done.done()


async def test_a_text_is_answered_by_a_message_to_its_chat_not_by_a_buttons_removal() -> None:
    api = AnsweringBotApi()
    done = api.expect(TEACHER.id, None)

    await api.call("editMessageReplyMarkup", {"chat_id": TEACHER.id, "message_id": 1001})
    assert not done.done()
    await api.call("sendMessage", {"chat_id": OTHER.id, "text": "别的聊天"})
    assert not done.done()
    await api.call("sendMessage", {"chat_id": TEACHER.id, "text": "(2/5) 家庭表现"})

    assert done.done()


async def test_an_update_answered_twice_or_a_press_never_answered_is_a_problem() -> None:
    api = AnsweringBotApi()
    api.query_chats["cq1"] = TEACHER.id
    for _ in range(2):
        await api.call("sendMessage", {"chat_id": TEACHER.id, "text": "请选择学生所在的班级"})

    problems = answer_problems(api, Counter({TEACHER.id: 1}))

    assert problems == [
        f"updates not answered exactly once (chat {TEACHER.id}: 1 updates, 2 answers)",
        "button presses answered more than once: 0; never: 1",
    ]
    assert answer_problems(api, Counter({TEACHER.id: 2})) == problems[1:]


async def test_a_worker_gets_the_runs_settings_and_none_of_the_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WECOM_CORP_ID", "ww-real-corp")
    monkeypatch.setenv("DATABASE_URL", "postgresql://real/production")
    monkeypatch.setenv("RULES__QUIET_START", "21:30")
    async with BotApiServer() as server:
        env = bot_environment(
            server=server,
            database_url="postgresql://127.0.0.1/scratch",
            port=8123,
            webhook_secret="s",
            rate_limit_url="redis://127.0.0.1:6379/3",
        )

    assert "WECOM_CORP_ID" not in env
    assert env["DATABASE_URL"] == "postgresql://127.0.0.1/scratch"
    assert (env["RULES__QUIET_START"], env["RULES__QUIET_END"]) == ("00:00", "00:00")
    assert env["TELEGRAM_WEBHOOK_URL"] == "http://127.0.0.1:8123"
    assert env["WEB_PORT"] == "8123"
    assert env["TELEGRAM_BASE_URL"] == server.base_url


async def test_a_press_delivered_twice_may_have_its_spinner_stopped_twice_but_no_second_answer() -> (
    None
):
    api = AnsweringBotApi()
    api.query_chats["cq1"] = TEACHER.id
    for _ in range(2):
        await api.call("answerCallbackQuery", {"callback_query_id": "cq1"})
    await api.call("editMessageText", {"chat_id": TEACHER.id, "message_id": 1, "text": "✓ 跳过"})

    assert answer_problems(api, Counter({TEACHER.id: 1}), pressed_twice={"cq1"}) == []
    assert answer_problems(api, Counter({TEACHER.id: 1})) == [
        "button presses answered more than once: 1; never: 0"
    ]
