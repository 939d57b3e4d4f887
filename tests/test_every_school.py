"""`python -m bot run --all-schools`: every school's bot in one process (`bot.every_school`).

Three schools on one database, each with its own stored Telegram token on one fake Telegram
(`ManyBotsApiServer`: one `FakeBotApi` per token), one of them refused by Telegram; the process
serves them by webhook on one web server, with WeCom for one school under its prefix. Each
school's teacher is answered by their own school's bot only, each school's scheduled jobs fire in
its own scheduler, and a school that cannot start does not keep the others down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.channels.telegram_webhook import SECRET_HEADER, webhook_secrets
from bot.every_school import NO_SCHOOLS, SchoolBot, school_prefix, serve_every_school
from bot.settings import Settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError
from models.school.config import SchoolConfig
from models.school.secrets import encrypt, new_key
from scheduler import service
from tests.fakes.bot_api_server import ManyBotsApiServer
from tests.fakes.telegram_request import TgUser, UpdateFactory
from tests.fakes.wecom_callbacks import TEST_APP, url_verification
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.scheduler import RecordingJob
from tests.test_schools_side_by_side import invite
from tests.test_wecom_run import _free_port

ONE, TWO, THREE = "第一小学", "第二小学", "第三小学"
TOKENS = {ONE: "1001:first-school-bot", TWO: "1002:second-school-bot"}
#: Stored for 第三小学, but Telegram does not know it (a revoked token): 401 at getMe.
REVOKED = "1003:revoked-bot"
#: One person who teaches at the first two schools: the same Telegram user in both bots.
TEACHER = TgUser(5301, "芳")


@dataclass
class Running:
    settings: Settings
    telegram: ManyBotsApiServer
    schools: dict[str, TestSchool]
    bots: list[SchoolBot]
    port: int
    tick: RecordingJob

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def _configure(db: Database, key: str, schools: dict[str, TestSchool]) -> None:
    tokens = {**TOKENS, THREE: REVOKED}
    async with db.session() as session:
        for name, school in schools.items():
            assert school.school.id is not None
            config = SchoolConfig(
                school_id=school.school.id, telegram_token=encrypt(key, tokens[name])
            )
            if name == TWO:  # 二小 has WeCom too, served under its own prefix
                config.wecom_corp_id = TEST_APP.corp_id
                config.wecom_agent_id = TEST_APP.agent_id
                config.wecom_secret = encrypt(key, "wecom-secret")
                config.wecom_token = encrypt(key, TEST_APP.token)
                config.wecom_aes_key = encrypt(key, TEST_APP.encoding_aes_key)
            session.add(config)
        await session.commit()


@pytest.fixture
async def running(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Running]:
    async with _serving(db, monkeypatch, caplog, webhook=True) as started:
        yield started


@contextlib.asynccontextmanager
async def _serving(
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    *,
    webhook: bool,
) -> AsyncIterator[Running]:
    """The three schools configured and `serve_every_school` running until the block ends."""
    tick = RecordingJob("tick", {"second": "*"}, chats=())
    monkeypatch.setattr("scheduler.registry.all_jobs", lambda: [tick.job])
    schools = {name: await seed_school(db, name=name) for name in (ONE, TWO, THREE)}
    key = new_key()
    await _configure(db, key, schools)
    port = _free_port()
    async with ManyBotsApiServer(TOKENS.values()) as telegram:
        settings = Settings(
            _env_file=None,
            database_url=db.url,
            school_name=ONE,
            secrets_key=SecretStr(key),
            telegram_base_url=telegram.base_url,
            telegram_base_file_url=telegram.base_file_url,
            telegram_webhook_url=f"http://127.0.0.1:{port}",
            wecom_api_base_url="http://127.0.0.1:9/cgi-bin/",  # never reached here
            web_host="127.0.0.1",
            web_port=port,
        )
        stop = asyncio.Event()
        started: asyncio.Future[list[SchoolBot]] = asyncio.get_running_loop().create_future()
        with caplog.at_level(logging.WARNING, logger="bot.every_school"):
            task = asyncio.create_task(
                serve_every_school(settings, webhook=webhook, stop=stop, started=started.set_result)
            )
            either: set[asyncio.Future[Any]] = {task, started}
            done, _ = await asyncio.wait(either, timeout=60, return_when="FIRST_COMPLETED")
            assert started in done, f"the schools did not start: {task}"
            try:
                yield Running(settings, telegram, schools, started.result(), port, tick)
            finally:
                stop.set()
                assert await asyncio.wait_for(task, timeout=60) == 0
                assert service._active == {}  # every school's scheduler stopped with it


async def _post(url: str, payload: dict[str, Any], secret: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=payload, headers={SECRET_HEADER: secret}) as answer,
    ):
        return answer.status


async def _texts(r: Running, school: str, count: int) -> list[str]:
    api = r.telegram.apis[TOKENS[school]]
    for _ in range(200):
        if len(api.sent_texts(TEACHER.id)) >= count:
            break
        await asyncio.sleep(0.05)
    return api.sent_texts(TEACHER.id)


async def test_every_school_runs_in_one_process_each_by_its_own_bot(
    running: Running, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    r = running
    assert sorted(bot.name for bot in r.bots) == [ONE, TWO]
    # 三小's token is refused by Telegram: left out, said in the log, the others run.
    assert any(
        "did not start" in record.getMessage() and THREE in record.getMessage()
        for record in caplog.get_records("setup")
    )
    updates = UpdateFactory(start=100)  # the same update numbers reach both bots
    for name, staff in ((ONE, "王芳"), (TWO, "李强")):
        school_id = r.schools[name].school.id or 0
        secrets = webhook_secrets(r.settings, school_id)
        [registered] = r.telegram.apis[TOKENS[name]].calls_of("setWebhook")
        assert registered.params["url"] == r.url(secrets.path)
        assert registered.params["secret_token"] == secrets.token
        code = await invite(db, FakeClock(utcnow()), r.schools[name], staff)
        payload = updates.text(TEACHER, f"/start {code}", update_id=100)
        assert await _post(r.url(secrets.path), payload, secrets.token) == 200
        texts = await _texts(r, name, 1)
        assert len(texts) == 1 and name in texts[0] and staff[0] in texts[0]
    # Each bot answered its own school's teacher, and only through its own token.
    assert [len(api.sent_texts(TEACHER.id)) for api in r.telegram.apis.values()] == [1, 1]
    # One school's secret does not open another school's path.
    one = webhook_secrets(r.settings, r.schools[ONE].school.id or 0)
    two = webhook_secrets(r.settings, r.schools[TWO].school.id or 0)
    assert await _post(r.url(two.path), updates.text(TEACHER, "/whoami"), one.token) == 403


async def test_by_polling_each_bot_takes_its_own_updates(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with _serving(db, monkeypatch, caplog, webhook=False) as r:
        for name, staff in ((ONE, "王芳"), (TWO, "李强")):
            api = r.telegram.apis[TOKENS[name]]
            assert api.calls_of("setWebhook") == []
            code = await invite(db, FakeClock(utcnow()), r.schools[name], staff)
            api.push_update(UpdateFactory(start=100).text(TEACHER, f"/start {code}"))
            texts = await _texts(r, name, 1)
            assert len(texts) == 1 and name in texts[0] and staff[0] in texts[0]


async def test_each_schools_jobs_fire_in_its_own_scheduler(running: Running) -> None:
    assert set(service._active) == {f"{ONE}/", f"{TWO}/"}
    for _ in range(80):
        if {jc.school.name for jc in running.tick.runs} == {ONE, TWO}:
            break
        await asyncio.sleep(0.1)
    assert {jc.school.name for jc in running.tick.runs} == {ONE, TWO}


async def test_health_covers_every_school_and_wecom_answers_under_the_schools_prefix(
    running: Running,
) -> None:
    r = running
    async with aiohttp.ClientSession() as http:
        async with http.get(r.url("/healthz")) as answer:
            assert answer.status == 200
        verification = url_verification(TEST_APP, echo="echo-2026", timestamp=int(time.time()))
        callback = school_prefix(r.schools[TWO].school.id or 0) + "/wecom/callback"
        async with http.get(r.url(callback), params=verification.query) as answer:
            assert (answer.status, await answer.text()) == (200, "echo-2026")
        async with http.get(r.url("/wecom/callback"), params=verification.query) as answer:
            assert answer.status == 404  # no WeCom app at the root: each is under its school


async def test_with_no_school_configured_it_refuses_in_one_line(db: Database) -> None:
    await seed_school(db)
    settings = Settings(_env_file=None, database_url=db.url, school_name="没有这所学校")
    with pytest.raises(ConfigError) as refused:
        await serve_every_school(settings, stop=asyncio.Event())
    assert str(refused.value) == NO_SCHOOLS
