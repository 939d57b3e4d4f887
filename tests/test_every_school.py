"""`python -m bot run --all-schools`: every school's bot in one process (`bot.every_school`).

Three schools on one database, each with its own stored Telegram token on one fake Telegram
(`ManyBotsApiServer`: one `FakeBotApi` per token), one of them refused by Telegram; the process
serves them by webhook on one web server, with WeCom for one school under its prefix. Each
school's teacher is answered by their own school's bot only, each school's scheduled jobs fire in
its own scheduler, and a school that cannot start does not keep the others down."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.channels.telegram_webhook import SECRET_HEADER, webhook_secrets
from bot.every_school import (
    NO_SCHOOLS,
    EverySchool,
    SchoolBot,
    school_prefix,
    serve_every_school,
)
from bot.school_cli import Change
from bot.school_commands import RUNNING_BOTS, set_school
from bot.settings import Settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError
from models.school.config import SchoolConfig
from models.school.secrets import encrypt, new_key
from scheduler import service
from tests.fakes.bot_api_server import ManyBotsApiServer
from tests.fakes.telegram_request import FakeBotApi, TgUser, UpdateFactory
from tests.fakes.wecom_callbacks import TEST_APP, url_verification
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, seed_school
from tests.helpers.scheduler import RecordingJob
from tests.test_schools_side_by_side import invite
from tests.test_wecom_run import _free_port

ONE, TWO, THREE, FOUR = "第一小学", "第二小学", "第三小学", "第四小学"
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
    every: EverySchool
    port: int
    tick: RecordingJob
    #: Set to have the schools read again (what SIGHUP does).
    refresh: asyncio.Event

    @property
    def bots(self) -> list[SchoolBot]:
        return list(self.every.bots.values())

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
    refresh_every: float = 3600,  # by default read again only when the test says so
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
        stop, refresh = asyncio.Event(), asyncio.Event()
        started: asyncio.Future[EverySchool] = asyncio.get_running_loop().create_future()
        with caplog.at_level(logging.INFO, logger="bot.every_school"):
            task = asyncio.create_task(
                serve_every_school(
                    settings,
                    webhook=webhook,
                    stop=stop,
                    refresh=refresh,
                    refresh_every=refresh_every,
                    started=started.set_result,
                )
            )
            either: set[asyncio.Future[Any]] = {task, started}
            done, _ = await asyncio.wait(either, timeout=60, return_when="FIRST_COMPLETED")
            assert started in done, f"the schools did not start: {task}"
            try:
                yield Running(settings, telegram, schools, started.result(), port, tick, refresh)
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


# -- schools added, changed and cleared while the process serves --------------------------------


async def _until(condition: Any, what: str, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


async def _set(r: Running, name: str, change: Change) -> None:
    """`python -m bot school set` as an admin runs it beside the serving process."""
    out = io.StringIO()
    assert await set_school(r.settings, name, change, out=out) == 0
    assert out.getvalue().rstrip().endswith(RUNNING_BOTS)


async def _start_answered(r: Running, db: Database, name: str, token: str, staff: str) -> None:
    """A teacher's /start through school `name`'s webhook is answered by the bot of `token`."""
    school = r.schools[name]
    secrets = webhook_secrets(r.settings, school.school.id or 0)
    code = await invite(db, FakeClock(utcnow()), school, staff)
    payload = UpdateFactory(start=700).text(TEACHER, f"/start {code}")
    assert await _post(r.url(secrets.path), payload, secrets.token) == 200
    api = r.telegram.apis[token]
    await _until(lambda: len(api.sent_texts(TEACHER.id)) >= 1, f"{name} answered")
    assert name in api.sent_texts(TEACHER.id)[-1]


async def test_a_school_given_a_token_while_serving_starts_without_stopping_the_others(
    running: Running, db: Database
) -> None:
    r = running
    first = {bot.name: bot for bot in r.bots}
    fourth = await seed_school(db, name=FOUR)
    r.schools[FOUR] = fourth
    token = "1004:fourth-school-bot"
    r.telegram.apis[token] = FakeBotApi()
    await _set(r, FOUR, Change(secrets={"telegram_token": token}))
    r.refresh.set()
    await _until(lambda: FOUR in {bot.name for bot in r.bots}, "the fourth school started")
    secrets = webhook_secrets(r.settings, fourth.school.id or 0)
    [registered] = r.telegram.apis[token].calls_of("setWebhook")
    assert registered.params["url"] == r.url(secrets.path)
    assert f"{FOUR}/" in service._active  # its scheduled jobs run too
    await _start_answered(r, db, FOUR, token, "赵敏")
    # The schools already running were not touched: the same bots, registered once.
    assert {bot.name: bot for bot in r.bots if bot.name != FOUR} == first
    assert [len(r.telegram.apis[TOKENS[n]].calls_of("setWebhook")) for n in (ONE, TWO)] == [1, 1]


async def test_a_changed_token_restarts_that_school_alone_with_it(
    running: Running, db: Database
) -> None:
    r = running
    before = {bot.name: bot for bot in r.bots}
    token = "1011:first-school-new-bot"
    r.telegram.apis[token] = FakeBotApi()
    await _set(r, ONE, Change(secrets={"telegram_token": token}))
    r.refresh.set()
    await _until(lambda: r.every.bots.get(before[ONE].school_id) not in (None, before[ONE]), "")
    assert len(r.telegram.apis[token].calls_of("setWebhook")) == 1
    await _start_answered(r, db, ONE, token, "王芳")
    assert r.telegram.apis[TOKENS[ONE]].sent_texts(TEACHER.id) == []  # the old bot says nothing
    assert r.every.bots[before[TWO].school_id] is before[TWO]  # 二小 runs on, untouched


async def test_a_school_whose_channels_are_cleared_stops_and_its_paths_close(
    running: Running,
) -> None:
    r = running
    two = r.schools[TWO].school.id or 0
    await _set(r, TWO, Change(clear_telegram=True, clear_wecom=True))
    r.refresh.set()
    await _until(lambda: two not in r.every.bots, "二小 stopped")
    assert set(service._active) == {f"{ONE}/"}  # its scheduler stopped with it
    secrets = webhook_secrets(r.settings, two)
    update = UpdateFactory(start=900).text(TEACHER, "/whoami")
    assert await _post(r.url(secrets.path), update, secrets.token) == 404
    verification = url_verification(TEST_APP, echo="echo-2026", timestamp=int(time.time()))
    async with (
        aiohttp.ClientSession() as http,
        http.get(r.url(school_prefix(two) + "/wecom/callback"), params=verification.query) as got,
    ):
        assert got.status == 404
    one = webhook_secrets(r.settings, r.schools[ONE].school.id or 0)
    assert await _post(r.url(one.path), update, one.token) == 200  # 一小 still served


async def test_a_school_left_out_is_tried_again_only_once_its_settings_change(
    running: Running, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    r = running
    three = r.schools[THREE].school.id or 0

    def refusals() -> int:
        return sum(
            "did not start" in record.getMessage() and THREE in record.getMessage()
            for record in caplog.get_records("setup") + caplog.records
        )

    assert three in r.every.left_out and refusals() == 1
    await r.every.refresh()  # nothing changed: the revoked token is not tried again
    assert three in r.every.left_out and refusals() == 1
    token = "1013:third-school-new-bot"
    r.telegram.apis[token] = FakeBotApi()
    await _set(r, THREE, Change(secrets={"telegram_token": token}))
    r.refresh.set()
    await _until(lambda: three in r.every.bots, "三小 started with its new token")
    assert three not in r.every.left_out and refusals() == 1
    await _start_answered(r, db, THREE, token, "孙丽")


async def test_without_a_signal_the_schools_are_read_again_on_their_own(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with _serving(db, monkeypatch, caplog, webhook=False, refresh_every=0.2) as r:
        two = r.schools[TWO].school.id or 0
        await _set(r, TWO, Change(clear_telegram=True, clear_wecom=True))
        await _until(lambda: two not in r.every.bots, "二小 stopped without being told")
        assert [bot.name for bot in r.bots] == [ONE]
