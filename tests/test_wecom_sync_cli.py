"""`python -m bot wecom sync` against the fake WeCom: the printed report, the database, refusals."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.settings import get_settings
from models.accounts.tables import ChannelAccount
from models.db.engine import Database
from models.roster.tables import Staff
from tests.fakes.wecom_server import WecomServer
from tests.helpers.cli import run_main
from tests.helpers.factories import seed_school

WECOM_VARIABLES = (
    "WECOM_CORP_ID",
    "WECOM_AGENT_ID",
    "WECOM_SECRET",
    "WECOM_TOKEN",
    "WECOM_ENCODING_AES_KEY",
    "WECOM_API_BASE_URL",
)


@pytest.fixture(autouse=True)
def _no_wecom_unless_a_test_sets_it(cli_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` reads the environment (`cli_environment`): no WeCom unless a test sets it."""
    for name in WECOM_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


@pytest.fixture
def wecom_server_for_the_cli(
    wecom_server: WecomServer, monkeypatch: pytest.MonkeyPatch
) -> WecomServer:
    """The fake WeCom, and the environment pointing the CLI at it."""
    monkeypatch.setenv("WECOM_CORP_ID", wecom_server.corp_id)
    monkeypatch.setenv("WECOM_AGENT_ID", "1000002")
    monkeypatch.setenv("WECOM_SECRET", wecom_server.secret)
    monkeypatch.setenv("WECOM_TOKEN", "callback-token")
    monkeypatch.setenv("WECOM_ENCODING_AES_KEY", "a" * 43)
    monkeypatch.setenv("WECOM_API_BASE_URL", wecom_server.base_url)
    get_settings.cache_clear()
    return wecom_server


async def _accounts(db: Database) -> list[tuple[str, str, int]]:
    async with db.session() as session:
        rows = (await session.exec(select(ChannelAccount))).all()
    return sorted((a.channel, a.external_id, a.person_id) for a in rows)


async def test_sync_links_staff_and_parents_and_prints_a_masked_report(
    db: Database, wecom_server_for_the_cli: WecomServer, capsys: pytest.CaptureFixture[str]
) -> None:
    school = await seed_school(db)
    wecom_server_for_the_cli.add_member("WangFang", "王芳", "13900000001")
    wecom_server_for_the_cli.add_member("visitor", "来访者", "13812340001")
    wecom_server_for_the_cli.add_student("s1", "张小明", ("p-liumei", "妈妈", "13700000000"))
    assert await run_main("wecom", "sync") == 0
    out = capsys.readouterr().out
    assert "企业微信同步完成：教师新关联 1、已关联 0；家长新关联 1、已关联 0。" in out
    assert "企业微信成员在名册中找不到（1 人）：来访者（138****0001）" in out
    assert "李强（139****0002）" in out
    assert "13812340001" not in out and "13900000002" not in out
    assert await _accounts(db) == sorted(
        [
            ("wecom", "wangfang", school.staff["王芳"].id or 0),
            ("wecom-parent", "p-liumei", school.guardians["刘梅"].id or 0),
        ]
    )
    async with db.session() as session:
        staff = await session.get(Staff, school.staff["王芳"].id)
    assert staff is not None and staff.wecom_userid == "WangFang"


async def test_a_second_sync_says_nothing_changed(
    db: Database, wecom_server_for_the_cli: WecomServer, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    wecom_server_for_the_cli.add_member("wangfang", "王芳", "13900000001")
    assert await run_main("wecom", "sync") == 0
    capsys.readouterr()
    assert await run_main("wecom", "sync") == 0
    assert "没有变化（教师新关联 0、已关联 1" in capsys.readouterr().out


async def test_without_wecom_settings_the_sync_is_refused_with_exit_2(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    assert await run_main("wecom", "sync") == 2
    err = capsys.readouterr().err
    assert "错误：企业微信未配置" in err
    assert "Traceback" not in err


async def test_a_partial_wecom_configuration_is_refused_with_what_is_missing(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WECOM_CORP_ID", "ww-test-corp")
    get_settings.cache_clear()
    assert await run_main("wecom", "sync") == 2
    err = capsys.readouterr().err
    assert "企业微信设置不完整" in err and "WECOM_SECRET" in err


async def test_wecom_refusing_the_directory_exits_1_and_changes_nothing(
    db: Database, wecom_server_for_the_cli: WecomServer, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    wecom_server_for_the_cli.add_member("wangfang", "王芳", "13900000001")
    wecom_server_for_the_cli.fail_path("school/user/list", 60011)
    assert await run_main("wecom", "sync") == 1
    err = capsys.readouterr().err
    assert "60011" in err and "数据库没有任何改动" in err
    assert await _accounts(db) == []


async def test_sync_before_any_roster_exits_1_and_says_to_import_first(
    db: Database, wecom_server_for_the_cli: WecomServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("wecom", "sync") == 1
    assert "请先导入名单" in capsys.readouterr().err
    assert wecom_server_for_the_cli.calls == []
