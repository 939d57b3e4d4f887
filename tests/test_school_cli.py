"""`school add|list|show|set|key` through the command line: schools added and listed, a school's
rules set (validated: a bad one saves nothing), its credentials read from a file or standard
input, stored encrypted (the raw column is not the token) and only ever shown masked, and
refused without SECRETS_KEY."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from bot.settings import get_settings
from models.db.engine import Database
from models.school.config import SchoolConfig
from models.school.tables import School
from tests.helpers.cli import cli_environment, run_main
from tests.helpers.factories import TestSchool

__all__ = ["cli_environment"]

pytestmark = pytest.mark.usefixtures("cli_environment")

TOKEN = "7000123456:AAHk-3fG9sD0mQ2pLzXy8wVvUu1abcd"
AES_KEY = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG"


@pytest.fixture
def secrets_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SECRETS_KEY", key)
    get_settings.cache_clear()
    return key


async def _config(db: Database, name: str) -> SchoolConfig | None:
    async with db.session() as session:
        school = (await session.exec(select(School).where(School.name == name))).one()
        return await session.get(SchoolConfig, school.id)


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


async def test_schools_are_added_and_listed_with_their_people_and_channels(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("school", "add", "二小", "--timezone", "Asia/Urumqi") == 0
    said = capsys.readouterr().out
    assert "已添加学校 #2“二小”（时区 Asia/Urumqi，学年从 9 月 1 日开始）" in said
    assert "roster import 名册.xlsx --school 二小" in said
    assert await run_main("school", "add", "三小", "--year-start", "8-25") == 0
    capsys.readouterr()
    async with db.session() as session:
        third = (await session.exec(select(School).where(School.name == "三小"))).one()
    assert (third.timezone, third.year_start_month, third.year_start_day) == (
        "Asia/Shanghai",
        8,
        25,
    )
    assert await run_main("school", "list") == 0
    assert capsys.readouterr().out.splitlines() == [
        "共 3 所学校：",
        "#1 测试小学（默认学校）  时区 Asia/Shanghai  学生 18 名  教职工 5 名  渠道：未配置",
        "#2 二小  时区 Asia/Urumqi  学生 0 名  教职工 0 名  渠道：未配置",
        "#3 三小  时区 Asia/Shanghai  学生 0 名  教职工 0 名  渠道：未配置",
    ]


async def test_a_second_school_of_the_same_name_is_refused(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("school", "add", "测试小学") == 2
    assert capsys.readouterr().err == "错误：已有名为“测试小学”的学校（#1），没有重复添加。\n"
    async with db.session() as session:
        assert len((await session.exec(select(School))).all()) == 1


async def test_an_unknown_school_is_named_with_the_schools_there_are(
    school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("school", "show", "四小") == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：没有名为“四小”的学校。已有的学校：测试小学。")
    assert len(err.splitlines()) == 1


async def test_rules_are_set_shown_and_reset(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("school", "show", "测试小学") == 0
    assert "规则：全部为默认值。" in capsys.readouterr().out
    status = await run_main(
        *("school", "set", "测试小学", "--rule", "monthly_visits_head_teacher=12"),
        *("--rule", "quiet_start=21:30", "--rule", "routine_forms=home,parent_came"),
    )
    assert status == 0
    assert capsys.readouterr().out.startswith(
        "已保存学校“测试小学”的设置：规则 monthly_visits_head_teacher = 12；"
        "规则 quiet_start = 21:30:00；规则 routine_forms = home,parent_came。"
    )
    config = await _config(db, "测试小学")
    assert config is not None and config.rules == {
        "monthly_visits_head_teacher": 12,
        "quiet_start": "21:30:00",
        "routine_forms": ["home", "parent_came"],
    }
    assert await run_main("school", "show", "测试小学") == 0
    shown = capsys.readouterr().out
    assert "与默认值不同的规则：\n  monthly_visits_head_teacher = 12（本校）\n" in shown
    assert "  quiet_start = 21:30:00（本校）\n" in shown
    assert "Telegram：未配置\n企业微信：未配置\n" in shown
    assert await run_main("school", "set", "测试小学", "--reset-rule", "quiet_start") == 0
    capsys.readouterr()
    config = await _config(db, "测试小学")
    assert config is not None and "quiet_start" not in config.rules


async def test_a_rule_from_the_environment_is_shown_as_such(
    school: TestSchool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RULES__DUTY_DUE_HOURS", "12")
    get_settings.cache_clear()
    assert await run_main("school", "show", "测试小学") == 0
    assert "  duty_due_hours = 12（环境变量 RULES__DUTY_DUE_HOURS）" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("quiet_begin=21:00", "错误：没有名为“quiet_begin”的规则"),
        ("survey_min_share=120", "错误：规则 survey_min_share 不能设为“120”（不能大于 100）"),
        ("duty_due_hours=一天", "错误：规则 duty_due_hours 不能设为“一天”（应是整数）"),
    ],
)
async def test_a_bad_rule_is_one_line_and_saves_nothing(
    db: Database, school: TestSchool, capsys: pytest.CaptureFixture[str], rule: str, said: str
) -> None:
    status = await run_main(
        "school", "set", "测试小学", "--rule", "monthly_visits_head_teacher=12", "--rule", rule
    )
    err = capsys.readouterr().err
    assert (status, len(err.splitlines())) == (2, 1), err
    assert err.startswith(said)
    assert await _config(db, "测试小学") is None


async def test_a_credential_without_secrets_key_is_refused_and_nothing_saved(
    db: Database, school: TestSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = _file(tmp_path, "token.txt", TOKEN)
    status = await run_main(
        "school", "set", "测试小学", "--rule", "duty_due_hours=8", "--telegram-token-file", token
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("错误：没有设置 SECRETS_KEY") and "python -m bot school key" in err
    assert await _config(db, "测试小学") is None


async def test_credentials_are_stored_encrypted_and_shown_masked(
    db: Database,
    school: TestSchool,
    tmp_path: Path,
    secrets_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = await run_main(
        *("school", "set", "测试小学", "--telegram-token-file", _file(tmp_path, "t", TOKEN)),
        *("--wecom-corp-id", "ww0123", "--wecom-agent-id", "1000002"),
        *("--wecom-secret-file", _file(tmp_path, "s", "AppSecret-0123456789abcdef")),
        *("--wecom-token-file", _file(tmp_path, "k", "CallbackToken123")),
        *("--wecom-aes-key-file", _file(tmp_path, "a", AES_KEY)),
    )
    assert status == 0
    said = capsys.readouterr().out
    assert "Telegram 令牌 7000…abcd（已加密保存）" in said
    assert "企业微信应用 Secret AppS…cdef（已加密保存）" in said
    config = await _config(db, "测试小学")
    assert config is not None
    stored = (config.telegram_token, config.wecom_secret, config.wecom_token, config.wecom_aes_key)
    assert all(value and value.startswith("gAAAAA") for value in stored)
    clear = (TOKEN, "AppSecret-0123456789abcdef", "CallbackToken123", AES_KEY)
    assert [Fernet(secrets_key).decrypt(value or "").decode() for value in stored] == list(clear)
    assert not any(secret in value for value in stored if value for secret in clear)
    assert (config.wecom_corp_id, config.wecom_agent_id) == ("ww0123", 1000002)
    for command in (("show", "测试小学"), ("list",)):
        assert await run_main("school", *command) == 0
        out = capsys.readouterr().out
        assert not any(secret in out for secret in clear)
        assert not any(secret[4:-4] in out for secret in clear)
    assert await run_main("school", "show", "测试小学") == 0
    shown = capsys.readouterr().out
    assert "Telegram：7000…abcd（本校）" in shown
    assert "企业微信（本校）：企业ID ww0123，AgentId 1000002，Secret AppS…cdef，" in shown
    assert "EncodingAESKey AbCd…dEFG" in shown
    assert await run_main("school", "list") == 0
    assert "渠道：Telegram（本校）、企业微信（本校）" in capsys.readouterr().out


async def test_a_secret_is_read_from_standard_input(
    db: Database,
    school: TestSchool,
    secrets_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    assert await run_main("school", "set", "测试小学", "--telegram-token-file", "-") == 0
    assert TOKEN not in capsys.readouterr().out
    config = await _config(db, "测试小学")
    assert config is not None and config.telegram_token
    assert Fernet(secrets_key).decrypt(config.telegram_token).decode() == TOKEN


@pytest.mark.parametrize(
    ("option", "text", "said"),
    [
        ("--telegram-token-file", "your-bot-token", "仍是 .env.example 中的示例值"),
        ("--telegram-token-file", "not a token", "格式不对"),
        ("--wecom-aes-key-file", "tooshort", "应是 43 个字母和数字"),
        ("--wecom-secret-file", "", "文件是空的"),
    ],
)
async def test_a_secret_that_cannot_be_right_is_refused(
    db: Database,
    school: TestSchool,
    tmp_path: Path,
    secrets_key: str,
    capsys: pytest.CaptureFixture[str],
    option: str,
    text: str,
    said: str,
) -> None:
    status = await run_main("school", "set", "测试小学", option, _file(tmp_path, "f", text))
    err = capsys.readouterr().err
    assert (status, len(err.splitlines())) == (2, 1), err
    assert said in err and "没有保存任何改动" in err
    assert await _config(db, "测试小学") is None


async def test_a_partial_wecom_app_is_saved_and_said_to_be_incomplete(
    school: TestSchool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("school", "set", "测试小学", "--wecom-corp-id", "ww1") == 0
    assert "企业微信凭据还不完整（还缺少 wecom_agent_id、" in capsys.readouterr().out
    assert await run_main("school", "list") == 0
    assert "渠道：企业微信（本校，不完整）" in capsys.readouterr().out


async def test_a_credential_under_another_key_than_those_stored_is_refused(
    db: Database,
    school: TestSchool,
    tmp_path: Path,
    secrets_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = _file(tmp_path, "t", TOKEN)
    assert await run_main("school", "set", "测试小学", "--telegram-token-file", token) == 0
    assert await run_main("school", "add", "二小") == 0
    monkeypatch.setenv("SECRETS_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    capsys.readouterr()
    assert await run_main("school", "set", "二小", "--telegram-token-file", token) == 2
    assert "SECRETS_KEY 与保存时所用的不一致" in capsys.readouterr().err
    assert await _config(db, "二小") is None


async def test_key_prints_a_new_fernet_key_alone_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_main("school", "key") == 0
    captured = capsys.readouterr()
    [key] = captured.out.splitlines()
    Fernet(key.encode())  # a usable key
    assert "SECRETS_KEY" in captured.err


async def test_jobs_list_uses_the_schools_own_rules_and_needs_no_key(
    db: Database,
    school: TestSchool,
    tmp_path: Path,
    secrets_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = _file(tmp_path, "t", TOKEN)
    set_rule = ("--rule", "digest_time=06:45")
    assert (
        await run_main("school", "set", "测试小学", *set_rule, "--telegram-token-file", token) == 0
    )
    monkeypatch.delenv("SECRETS_KEY")  # the jobs need the rules, not the credentials
    get_settings.cache_clear()
    capsys.readouterr()
    assert await run_main("jobs", "list", "--now", "2026-11-16T05:00") == 0
    listed = capsys.readouterr().out
    assert "daily_digest — " in listed
    assert "  时间：每天 06:45\n  下次：2026-11-16 06:45\n" in listed
