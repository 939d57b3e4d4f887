"""`python -m bot jobs list` and `python -m bot jobs run NAME [--now ISO]`, for operators."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.schools import school_runtime, settings_for_school
from bot.settings import Settings
from models.db.columns import utcnow
from models.db.engine import Database
from models.errors import ConfigError
from models.jobs.tables import JobRun
from scheduler import registry
from scheduler.run import Outcome, RunConfig, RunStatus, find_job, run_job
from scheduler.slots import last_runs
from scheduler.timing import build_trigger, describe_schedule, next_slot


def moment(value: datetime | None, zone: ZoneInfo) -> datetime:
    """`--now`: naive means the school's local time; absent means now."""
    if value is None:
        return utcnow()
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _stamp(value: datetime, zone: ZoneInfo) -> str:
    """Minutes, or seconds when the moment has them (a `--now` like 07:30:15)."""
    local = value.astimezone(zone)
    return local.strftime(
        "%Y-%m-%d %H:%M:%S" if local.second or local.microsecond else "%Y-%m-%d %H:%M"
    )


def _last_run(run: JobRun | None, zone: ZoneInfo) -> str:
    if run is None:
        return "还没有运行过"
    when = _stamp(run.slot, zone)
    if run.finished_at is None:
        return f"{when}，正在运行（{_local(run.claimed_at, zone)} 开始）"
    if run.failed:
        return f"{when}，失败：{run.outcome}（下次启动时在宽限期内会重试）"
    return f"{when}，完成：{run.outcome}"


async def list_jobs(
    settings: Settings, *, now: datetime | None = None, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    jobs = registry.all_jobs()
    if not jobs:
        print("还没有登记任何定时任务。", file=out)
        return 0
    db = Database(settings.database_url)
    try:
        runtime = await school_runtime(db, settings, credentials=False)  # rules, zone
        settings = runtime.channel_settings(settings) if runtime is not None else settings
        runs: dict[str, JobRun] = {}
        if runtime is not None:  # the school's own runs (each school runs its own slots)
            async with db.session() as session:
                runs = await last_runs(session, runtime.school_id, [job.name for job in jobs])
    finally:
        await db.dispose()
    zone = settings.zone
    at = moment(now, zone)
    print(
        f"定时任务（时区 {settings.timezone}，宽限 {settings.rules.missed_job_grace_hours:g} 小时）：",
        file=out,
    )
    for job in jobs:
        upcoming = next_slot(build_trigger(job, settings.rules, zone), at)
        print(f"\n{job.name}" + (f" — {job.describe}" if job.describe else ""), file=out)
        print(f"  时间：{describe_schedule(job.schedule(settings.rules))}", file=out)
        print(f"  下次：{_local(upcoming, zone) if upcoming else '不再运行'}", file=out)
        print(f"  上次：{_last_run(runs.get(job.name), zone)}", file=out)
    return 0


def _report(outcome: Outcome, zone: ZoneInfo, out: TextIO) -> int:
    head = f"任务 {outcome.job}，时段 {_stamp(outcome.slot, zone)}（{zone.key}）"
    if outcome.status is RunStatus.SKIPPED:
        if outcome.detail == "running":
            print(f"{head}：另一个进程正在运行这个时段，这次没有运行。", file=out)
        else:
            print(f"{head}：这个时段已经运行过（{outcome.detail}），没有重复发送。", file=out)
        return 0
    if outcome.status is RunStatus.FAILED:
        print(f"{head}：运行失败（{outcome.detail}）。没有排入任何消息，可以再运行一次。", file=out)
        return 1
    if not outcome.messages:
        print(f"{head}：已完成，没有需要发送的消息。", file=out)
        return 0
    print(f"{head}：已完成，排入 {len(outcome.messages)} 条消息：", file=out)
    for message in outcome.messages:
        print(f"  {_local(message.due_at, zone)}  {message.channel:<8}  {message.key}", file=out)
    print("运行中的机器人会按上面的发送时间送出（安静时段的消息推迟到早上）。", file=out)
    return 0


#: A `--now` this far ahead of the clock is the future (a little slack for a typed "now").
FUTURE_SLACK = timedelta(minutes=1)

#: What a rehearsal of a future slot is recorded as (`--force`), beside the job's own runs.
REHEARSAL_SUFFIX = ":rehearsal"


async def run_one(
    settings: Settings,
    name: str,
    *,
    now: datetime | None = None,
    force: bool = False,
    out: TextIO | None = None,
) -> int:
    """Run one slot of job `name` at `now` (the slot is `now` itself); the exit status.

    A slot in the future is refused: running it would mark it done and its real run would be
    skipped. With `force` it runs as a rehearsal, recorded under its own name, so the real slot
    still runs on time."""
    out = out or sys.stdout
    job = find_job(registry.all_jobs(), name)
    db = Database(settings.database_url)
    try:
        settings = await settings_for_school(db, settings, credentials=False)  # rules, zone
        at = moment(now, settings.zone)
        future = at > utcnow() + FUTURE_SLACK
        if future and not force:
            raise ConfigError(
                f"--now {_local(at, settings.zone)} 在将来：现在运行会把那个时段记为已完成，"
                "到时真正的运行就会被跳过。如只是预演，请加 --force（预演单独记录，"
                "不影响真正的运行）。"
            )
        claim_as = job.name + REHEARSAL_SUFFIX if future else None
        outcome = await run_job(
            db, RunConfig.from_settings(settings), job, slot=at, now=at, claim_as=claim_as
        )
    finally:
        await db.dispose()
    return _report(outcome, settings.zone, out)
