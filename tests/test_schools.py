"""What each school runs with (`bot.schools`): the environment's rules with the school's own on
top, its own zone, its own credentials — and for a single-school install, exactly the
environment's settings, as before. Then two schools' dispatchers side by side: the school that
raised its monthly target sees it in /quota, the other keeps the default."""

from __future__ import annotations

import io
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot.runner import build_dispatcher, run_console
from bot.schools import configured_schools, rules_for, school_runtime, school_settings
from bot.settings import Settings
from models.db.engine import Database
from models.errors import ConfigError
from models.roster.tables import Staff, Student
from models.school.config import SchoolConfig
from models.school.rules import SchoolRules
from models.school.secrets import encrypt, new_key
from models.school.tables import School, SchoolClass
from scheduler.run import RunConfig
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool
from tests.helpers.quota import YEAR_2026, add_terms
from tests.helpers.visits import chat_as

TOKEN = "7000123456:AAHk-3fG9sD0mQ2pLzXy8wVvUu1abcd"
OTHER_TOKEN = "8000654321:BBHk-3fG9sD0mQ2pLzXy8wVvUu1wxyz"
AES_KEY = "a" * 43


def _settings(**values: Any) -> Settings:
    return Settings.model_validate({"database_url": "sqlite://", **values})


async def _second_school(db: Database, *, timezone: str = "Asia/Urumqi") -> TestSchool:
    """二小: one class 一(1)班 headed by 周老师 (T01), with one student."""
    async with db.session() as session:
        school = School(name="二小", timezone=timezone)
        session.add(school)
        await session.flush()
        assert school.id is not None
        teacher = Staff(
            school_id=school.id, staff_no="T01", name="周老师", phone="13800000001", roles=""
        )
        session.add(teacher)
        await session.flush()
        klass = SchoolClass(
            school_id=school.id, grade=1, number=1, name="一(1)班", head_teacher_id=teacher.id
        )
        session.add(klass)
        await session.flush()
        student = Student(
            school_id=school.id, student_no="E001", name="吴小天", class_id=klass.id or 0
        )
        session.add(student)
        await session.commit()
        return TestSchool(
            school=school,
            classes={"一(1)班": klass},
            staff={"周老师": teacher},
            students={"吴小天": student},
        )


async def _store(db: Database, row: SchoolConfig) -> None:
    async with db.session() as session:
        session.add(row)
        await session.commit()


async def test_a_single_school_install_runs_with_the_environment_as_before(
    db: Database, school: TestSchool
) -> None:
    rules = SchoolRules(duty_due_hours=12, quiet_start=time(21, 30))
    settings = _settings(
        school_name="测试小学",
        telegram_bot_token=TOKEN,
        wecom_corp_id="ww1",
        wecom_agent_id=1000002,
        wecom_secret="s3cret",
        wecom_token="tok",
        wecom_encoding_aes_key=AES_KEY,
        rules=rules,
    )
    runtime = await school_runtime(db, settings)
    assert runtime is not None
    assert (runtime.name, runtime.rules, runtime.zone) == ("测试小学", rules, settings.zone)
    assert (runtime.telegram_source, runtime.wecom_source) == ("environment", "environment")
    assert runtime.channels == ("telegram", "wecom")
    same = runtime.channel_settings(settings)
    assert (same.telegram_token, same.wecom_configured, same.wecom_corp_id) == (TOKEN, True, "ww1")
    assert (same.rules, same.zone, same.school_name) == (rules, settings.zone, "测试小学")
    assert same.wecom_secret is not None and same.wecom_secret.get_secret_value() == "s3cret"
    assert RunConfig.from_settings(same).rules == RunConfig.from_settings(settings).rules


async def test_the_first_school_is_the_environments_when_none_has_its_name_as_before(
    db: Database, school: TestSchool
) -> None:
    settings = _settings(school_name="示范小学", timezone="Asia/Tokyo", telegram_bot_token=TOKEN)
    runtime = await school_runtime(db, settings)
    assert runtime is not None and runtime.environment_school
    assert runtime.name == "测试小学"
    assert runtime.zone == ZoneInfo("Asia/Tokyo")  # TIMEZONE given: the single school's zone
    assert runtime.telegram_token is not None
    assert runtime.telegram_token.get_secret_value() == TOKEN


async def test_no_school_yet_is_none(db: Database) -> None:
    assert await school_runtime(db, _settings()) is None
    assert await configured_schools(db, _settings()) == []


async def test_each_school_has_its_own_rules_zone_and_credentials(
    db: Database, school: TestSchool
) -> None:
    other = await _second_school(db)
    key = new_key()
    await _store(
        db,
        SchoolConfig(
            school_id=other.school.id or 0,
            rules={"monthly_visits_head_teacher": 12, "quiet_start": "22:00:00"},
            telegram_token=encrypt(key, OTHER_TOKEN),
        ),
    )
    base = SchoolRules(duty_due_hours=12)
    settings = _settings(
        telegram_bot_token=TOKEN, wecom_corp_id="ww1", wecom_agent_id=1, wecom_secret="s",
        wecom_token="t", wecom_encoding_aes_key=AES_KEY, rules=base, secrets_key=key,
    )  # fmt: skip
    first, second = await configured_schools(db, settings)
    assert (first.name, first.rules, first.channels) == ("测试小学", base, ("telegram", "wecom"))
    assert first.environment_school and not second.environment_school
    assert second.name == "二小" and second.zone == ZoneInfo("Asia/Urumqi")
    assert second.rules.monthly_visits_head_teacher == 12
    assert second.rules.quiet_start == time(22, 0)
    assert second.rules.duty_due_hours == 12  # the environment's rules are its base
    # Its own token; none of the environment's WeCom app, which is the first school's.
    assert second.telegram_token is not None
    assert second.telegram_token.get_secret_value() == OTHER_TOKEN
    assert (second.channels, second.telegram_source) == (("telegram",), "school")
    its = second.channel_settings(settings)
    assert (its.telegram_token, its.wecom_configured) == (OTHER_TOKEN, False)
    assert (its.school_name, its.timezone, its.rules) == ("二小", "Asia/Urumqi", second.rules)
    config = RunConfig.from_settings(second)
    assert (config.school_name, config.zone, config.rules) == ("二小", second.zone, second.rules)


async def test_a_school_without_credentials_of_its_own_gets_none_of_the_environments(
    db: Database, school: TestSchool
) -> None:
    await _second_school(db)
    settings = _settings(school_name="测试小学", telegram_bot_token=TOKEN)
    _, second = await configured_schools(db, settings)
    assert (second.telegram_token, second.wecom, second.channels) == (None, None, ())


async def test_the_environment_schools_own_stored_token_comes_before_the_environments(
    db: Database, school: TestSchool
) -> None:
    key = new_key()
    await _store(
        db, SchoolConfig(school_id=school.school.id or 0, telegram_token=encrypt(key, OTHER_TOKEN))
    )
    settings = _settings(school_name="测试小学", telegram_bot_token=TOKEN, secrets_key=key)
    runtime = await school_runtime(db, settings)
    assert runtime is not None and runtime.telegram_source == "school"
    assert runtime.channel_settings(settings).telegram_token == OTHER_TOKEN


async def test_stored_credentials_need_the_key_they_were_stored_under(
    db: Database, school: TestSchool
) -> None:
    await _store(
        db,
        SchoolConfig(school_id=school.school.id or 0, telegram_token=encrypt(new_key(), TOKEN)),
    )
    with pytest.raises(ConfigError, match="没有设置 SECRETS_KEY"):
        await school_runtime(db, _settings())
    with pytest.raises(ConfigError, match="无法解密学校“测试小学”"):
        await school_runtime(db, _settings(secrets_key=new_key()))


async def test_a_partly_stored_wecom_app_is_not_used_and_the_school_is_told(
    db: Database, school: TestSchool
) -> None:
    row = SchoolConfig(school_id=school.school.id or 0, wecom_corp_id="ww9", wecom_agent_id=3)
    runtime = school_settings(_settings(school_name="测试小学"), school.school, row)
    assert runtime.wecom is None and runtime.channels == ()
    [problem] = runtime.problems
    assert "企业微信凭据不完整" in problem and "wecom_secret" in problem


async def test_a_stored_rule_that_no_longer_validates_names_the_rule(
    db: Database, school: TestSchool
) -> None:
    row = SchoolConfig(school_id=school.school.id or 0, rules={"survey_min_share": 0})
    with pytest.raises(ConfigError, match="survey_min_share"):
        school_settings(_settings(), school.school, row)


async def test_each_schools_dispatcher_uses_its_own_quota_target(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    other = await _second_school(db, timezone="Asia/Shanghai")
    await add_terms(db, school, *YEAR_2026)
    await add_terms(db, other, *YEAR_2026)
    await _store(
        db, SchoolConfig(school_id=other.school.id or 0, rules={"monthly_visits_head_teacher": 12})
    )
    settings = _settings()
    users = []
    for runtime, teacher in zip(
        await configured_schools(db, settings),
        (school.staff["王芳"], other.staff["周老师"]),
        strict=True,
    ):
        dispatcher = build_dispatcher(runtime.channel_settings(settings), db, clock)
        users.append(await chat_as(db, clock, teacher, dispatcher))
    for user in users:
        await user.send("/quota")
    assert "本月上门家访 0/10" in users[0].text
    assert "本月上门家访 0/12" in users[1].text


def test_a_secret_setting_is_never_shown_in_the_settings_repr() -> None:
    settings = _settings(secrets_key=SecretStr(new_key()), telegram_bot_token=TOKEN)
    assert TOKEN not in repr(settings) and (settings.secrets_key_value or "x") not in repr(settings)


async def test_without_credentials_nothing_is_decrypted_and_no_channel_is_given(
    db: Database, school: TestSchool
) -> None:
    await _store(
        db,
        SchoolConfig(
            school_id=school.school.id or 0,
            rules={"duty_due_hours": 6},
            telegram_token=encrypt(new_key(), TOKEN),
        ),
    )
    settings = _settings(telegram_bot_token=TOKEN)  # and no SECRETS_KEY
    runtime = await school_runtime(db, settings, credentials=False)
    assert runtime is not None and runtime.rules.duty_due_hours == 6
    assert (runtime.telegram_token, runtime.wecom, runtime.channels) == (None, None, ())


def _quota_line(output: str) -> str:
    """The visit line of the /quota reply (the first after its heading)."""
    lines = output.splitlines()
    return lines[lines.index("您的家访指标：") + 1]


async def test_the_console_runs_its_school_with_the_schools_own_rules(
    db: Database, clock: FakeClock
) -> None:
    settings = Settings(database_url=db.url, school_name="示范小学", _env_file=None)
    out = io.StringIO()
    assert await run_console(settings, stdin=io.StringIO("/quota\n"), stdout=out, clock=clock) == 0
    before = _quota_line(out.getvalue())
    assert "/10" in before
    async with db.session() as session:
        demo = (await session.exec(select(School))).one()
    await _store(
        db, SchoolConfig(school_id=demo.id or 0, rules={"monthly_visits_head_teacher": 12})
    )
    out = io.StringIO()
    assert await run_console(settings, stdin=io.StringIO("/quota\n"), stdout=out, clock=clock) == 0
    after = _quota_line(out.getvalue())
    assert "/12" in after


async def test_a_command_acting_on_one_school_gets_that_schools_rules(
    db: Database, school: TestSchool
) -> None:
    settings = _settings(rules=SchoolRules(late_filing_days=5))
    assert (await rules_for(db, settings)).late_filing_days == 5  # none of its own: RULES__*
    other = await _second_school(db)
    await _store(db, SchoolConfig(school_id=other.school.id or 0, rules={"late_filing_days": 3}))
    assert (await rules_for(db, settings, "二小")).late_filing_days == 3
    assert (await rules_for(db, settings, "测试小学")).late_filing_days == 5
