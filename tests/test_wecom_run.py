"""`python -m bot run` with WeCom configured: a real process, its web server, the fake WeCom API.

As a school would run it: the settings in the environment, the API base URL pointing at our
local fake, encrypted callbacks posted by our own client, and the process stopped by SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from bot.demo import seed_demo
from bot.settings import Settings
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import ConfigError
from models.roster.tables import Staff
from tests.fakes import TEST_TOKEN
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_request import TgUser, UpdateFactory
from tests.fakes.wecom_callbacks import TEST_APP, encrypt_callback, text_xml
from tests.fakes.wecom_harness import shown_text
from tests.fakes.wecom_server import WecomServer
from tests.helpers.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
SCHOOL = "示范小学"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _school_with_a_wecom_teacher(url: str, clock: FakeClock) -> None:
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        await seed_demo(db, school_name=SCHOOL, now=clock())
        async with db.session() as session:
            teacher = (await session.exec(select(Staff).where(Staff.staff_no == "T02"))).one()
            teacher.wecom_userid = "wangfang"
            session.add(teacher)
    finally:
        await db.dispose()


def _wecom_env(url: str, port: int, server: WecomServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECOM_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=url,
        SCHOOL_NAME=SCHOOL,
        WECOM_CORP_ID=TEST_APP.corp_id,
        WECOM_AGENT_ID=str(TEST_APP.agent_id),
        WECOM_SECRET=server.secret,
        WECOM_TOKEN=TEST_APP.token,
        WECOM_ENCODING_AES_KEY=TEST_APP.encoding_aes_key,
        WECOM_API_BASE_URL=server.base_url,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        LINK_SECRET="run-test-link-secret-0123456789",
    )
    return env


async def _start_bot(cwd: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _say_on_wecom(port: int, user: str, text: str, msg_id: int) -> None:
    now = int(time.time())
    xml = text_xml(TEST_APP, user=user, content=text, msg_id=msg_id, create_time=now)
    callback = encrypt_callback(TEST_APP, xml, timestamp=now)
    async with aiohttp.ClientSession() as http:
        endpoint = f"http://127.0.0.1:{port}/wecom/callback"
        async with http.post(endpoint, params=callback.query, data=callback.body) as response:
            assert (response.status, await response.text()) == (200, "success")


async def _stopped(process: asyncio.subprocess.Process) -> bytes:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    return err


async def _wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise AssertionError("the bot exited before serving")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise AssertionError("the bot's web server did not start")


async def _wait_for_message(server: WecomServer, user: str) -> str:
    for _ in range(200):
        sent = [c for c in server.calls_to("message/send") if c.body.get("touser") == user]
        if sent:
            # A reply too long for one card comes as its text, then its buttons' card.
            await asyncio.sleep(0.2)
            sent = [c for c in server.calls_to("message/send") if c.body.get("touser") == user]
            return "\n".join(shown_text(call) for call in sent)
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing was sent to {user}")


async def test_the_bot_runs_on_wecom_answers_a_member_and_refuses_forgeries(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'wecom.db'}"
    await _school_with_a_wecom_teacher(url, clock)
    port = _free_port()
    async with WecomServer(corp_id=TEST_APP.corp_id) as server:
        env = _wecom_env(url, port, server)
        process = await _start_bot(tmp_path, env)
        try:
            await _wait_for_port(port, process)
            endpoint = f"http://127.0.0.1:{port}/wecom/callback"
            now = int(time.time())
            xml = text_xml(TEST_APP, user="wangfang", content="帮助", msg_id=1, create_time=now)
            callback = encrypt_callback(TEST_APP, xml, timestamp=now)
            async with aiohttp.ClientSession() as http:
                async with http.post(endpoint, params=callback.query, data=callback.body) as r:
                    assert (r.status, await r.text()) == (200, "success")
                answer = await _wait_for_message(server, "wangfang")
                assert "您可以发送：" in answer
                # The same request again: its nonce was used, so it is refused.
                async with http.post(endpoint, params=callback.query, data=callback.body) as r:
                    assert r.status == 403
                forged = {**callback.query, "msg_signature": "0" * 40, "nonce": "fresh"}
                async with http.post(endpoint, params=forged, data=callback.body) as r:
                    assert r.status == 403
                # The receipt page is served too; a made-up link opens nothing, politely.
                async with http.get(f"http://127.0.0.1:{port}/n/1.1.0.forged") as r:
                    assert r.status == 404
                    assert "Traceback" not in await r.text()
            assert len(server.calls_to("message/send")) == 1
        finally:
            err = await _stopped(process)
        assert process.returncode == 0, err.decode()
        assert b"Traceback" not in err


def test_a_partial_wecom_configuration_is_refused_with_what_is_missing() -> None:
    settings = Settings(_env_file=None, wecom_corp_id="ww0123", wecom_agent_id=1000002)
    with pytest.raises(ConfigError) as refused:
        _ = settings.wecom_configured
    assert "WECOM_SECRET" in str(refused.value)
    assert "WECOM_TOKEN" in str(refused.value)
    assert Settings(_env_file=None).wecom_configured is False


async def test_telegram_and_wecom_run_together_in_one_process(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'both.db'}"
    await _school_with_a_wecom_teacher(url, clock)
    port = _free_port()
    async with (
        WecomServer(corp_id=TEST_APP.corp_id) as wecom,
        BotApiServer(token=TEST_TOKEN) as telegram,
    ):
        env = _wecom_env(url, port, wecom)
        env.update(
            TELEGRAM_BOT_TOKEN=TEST_TOKEN,
            TELEGRAM_BASE_URL=telegram.base_url,
            TELEGRAM_BASE_FILE_URL=telegram.base_file_url,
        )
        stranger = TgUser(6101, "路人")
        telegram.api.push_update(UpdateFactory().text(stranger, "/start"))
        process = await _start_bot(tmp_path, env)
        try:
            await _wait_for_port(port, process)
            await _say_on_wecom(port, "wangfang", "指标", msg_id=2)
            answer = await _wait_for_message(wecom, "wangfang")
            assert "本月" in answer
            for _ in range(200):
                if telegram.api.sent_texts(stranger.id):
                    break
                await asyncio.sleep(0.05)
            assert any("还没有与学校名册绑定" in t for t in telegram.api.sent_texts(stranger.id))
        finally:
            err = await _stopped(process)
        assert process.returncode == 0, err.decode()
        assert b"Traceback" not in err
