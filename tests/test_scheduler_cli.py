"""`python -m bot jobs list` and `jobs run NAME [--now ISO]` for operators."""

from __future__ import annotations

import pytest

from bot.settings import get_settings
from models.db.engine import Database
from scheduler.base import Job
from scheduler.run import RunStatus, run_job
from tests.helpers.cli import run_main
from tests.helpers.factories import seed_school
from tests.helpers.scheduler import RecordingJob, config, job_runs, local, outbox_count

DIGEST = RecordingJob("test_digest", {"hour": 7, "minute": 30}, chats=("42", "43"))
BROKEN = RecordingJob("broken", {"day_of_week": "mon", "hour": 8, "minute": 0}, fail=True)


@pytest.fixture(autouse=True)
def _two_test_jobs(cli_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` reads the environment (`cli_environment`, the default zone) and runs two test jobs."""
    monkeypatch.delenv("TIMEZONE", raising=False)
    jobs: list[Job] = [DIGEST.job, BROKEN.job]
    monkeypatch.setattr("scheduler.registry.all_jobs", lambda: jobs)
    DIGEST.runs.clear()
    get_settings.cache_clear()


async def test_jobs_run_queues_the_slot_and_prints_what_it_queued(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    assert await run_main("jobs", "run", "test_digest", "--now", "2026-11-16T07:30") == 0
    out = capsys.readouterr().out
    assert "任务 test_digest，时段 2026-11-16 07:30（Asia/Shanghai）：已完成，排入 2 条消息" in out
    assert "2026-11-16 07:30  fake      test_digest:2026-11-16T07:30:42" in out
    assert "test_digest:2026-11-16T07:30:43" in out


async def test_jobs_run_twice_for_the_same_moment_sends_once(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    await run_main("jobs", "run", "test_digest", "--now", "2026-11-16T07:30")
    capsys.readouterr()
    assert await run_main("jobs", "run", "test_digest", "--now", "2026-11-16T07:30") == 0
    assert "这个时段已经运行过（queued 2），没有重复发送" in capsys.readouterr().out
    assert await outbox_count(db) == 2


async def test_a_naive_now_is_the_schools_local_time(db: Database) -> None:
    await seed_school(db)
    await run_main("jobs", "run", "test_digest", "--now", "2026-11-16T07:30")
    await run_main("jobs", "run", "test_digest", "--now", "2026-11-15T23:30:00+00:00")
    # 23:30 UTC is 07:30 in Shanghai the next morning: the same slot, run once.
    [run] = await job_runs(db, "test_digest")
    assert run.slot == local("2026-11-16 07:30")


async def test_jobs_run_in_quiet_hours_shows_the_morning_as_the_send_time(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    await run_main("jobs", "run", "test_digest", "--now", "2026-11-16T22:15")
    out = capsys.readouterr().out
    assert "时段 2026-11-16 22:15" in out
    assert "2026-11-17 07:00  fake      test_digest:2026-11-16T22:15:42" in out


async def test_jobs_run_of_an_unknown_job_exits_2_and_names_the_known_ones(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("jobs", "run", "no_such_job") == 2
    err = capsys.readouterr().err
    assert "错误：没有名为“no_such_job”的定时任务。可用的任务：test_digest、broken" in err
    assert "Traceback" not in err


async def test_jobs_run_with_a_malformed_now_is_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        await run_main("jobs", "run", "test_digest", "--now", "tomorrow 7am")
    assert exit_info.value.code == 2
    assert "“tomorrow 7am”不是有效时间，请写成 ISO 格式" in capsys.readouterr().err


async def test_jobs_run_of_a_failing_job_exits_1_and_queues_nothing(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    assert await run_main("jobs", "run", "broken", "--now", "2026-11-16T08:00") == 1
    out = capsys.readouterr().out
    assert (
        "运行失败（RuntimeError: the job broke halfway）。没有排入任何消息，可以再运行一次" in out
    )
    assert await outbox_count(db) == 0


async def test_jobs_list_shows_each_schedule_next_and_last_run(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    await run_main("jobs", "run", "test_digest", "--now", "2026-11-16T07:30")
    await run_main("jobs", "run", "broken", "--now", "2026-11-16T08:00")
    capsys.readouterr()
    assert await run_main("jobs", "list", "--now", "2026-11-16T09:00") == 0
    out = capsys.readouterr().out
    assert "定时任务（时区 Asia/Shanghai，宽限 6 小时）" in out
    assert (
        "test_digest — 测试任务\n"
        "  时间：每天 07:30\n"
        "  下次：2026-11-17 07:30\n"
        "  上次：2026-11-16 07:30，完成：queued 2\n"
    ) in out
    assert (
        "broken — 测试任务\n"
        "  时间：每周一 08:00\n"
        "  下次：2026-11-23 08:00\n"
        "  上次：2026-11-16 08:00，失败：RuntimeError: the job broke halfway"
    ) in out


async def test_jobs_list_says_when_a_job_never_ran(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_main("jobs", "list", "--now", "2026-11-16T09:00") == 0
    assert "  上次：还没有运行过" in capsys.readouterr().out


async def test_a_future_slot_is_refused_without_force(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    assert await run_main("jobs", "run", "test_digest", "--now", "2099-01-05T07:30") == 2
    assert "在将来" in capsys.readouterr().err
    assert await outbox_count(db) == 0
    assert await job_runs(db, "test_digest") == []


async def test_a_rehearsed_future_slot_leaves_the_real_slot_to_run(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_school(db)
    assert await run_main("jobs", "run", "test_digest", "--now", "2099-01-05T07:30", "--force") == 0
    assert "排入 2 条消息" in capsys.readouterr().out
    # The scheduler's own run of that slot, when its time comes, is not "already run".
    assert await job_runs(db, "test_digest") == []
    slot = local("2099-01-05 07:30")
    outcome = await run_job(db, config(), DIGEST.job, slot=slot, now=slot)
    assert outcome.status is RunStatus.DONE
