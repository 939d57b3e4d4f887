"""The one command line: `python -m bot …` or `jiafang …`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

from bot.command_line import UNREACHABLE_DATABASE, is_unreachable, unreachable_database
from bot.private_logging import configure_logging
from bot.settings import Settings, get_settings
from models.errors import ConfigError, JiafangError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{text}”不是有效日期，请写成 YYYY-MM-DD，例如 2026-11-01"
        ) from None


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{text}”不是有效时间，请写成 ISO 格式，例如 2026-11-16T07:30（学校当地时间）"
        ) from None


class _Parser(argparse.ArgumentParser):
    """Mistyped commands get one line in Chinese and status 2, not a usage block. Options are
    never abbreviated (`--replace` must not mean `--replace-demo`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(
            2, f"错误：命令写得不对（{self.prog}：{message}）。运行 {self.prog} --help 查看用法。\n"
        )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jiafang", description="家访 — home-visit and home–school contact bot")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply all migrations (safe to run again)")

    roster = sub.add_parser("roster", help="the school roster")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    roster_import = roster_sub.add_parser(
        "import", help="import teachers and students from a .xlsx workbook or two .csv files"
    )
    roster_import.add_argument(
        "files", nargs="+", type=Path, help="roster.xlsx, or teachers.csv and students.csv"
    )
    roster_import.add_argument("--school", help="school name (default: SCHOOL_NAME)")
    roster_import.add_argument(
        "--partial",
        action="store_true",
        help="the file holds only some classes: add and update, never deactivate anyone",
    )
    roster_import.add_argument(
        "--yes",
        action="store_true",
        help="apply a whole-school import (without it, a school with a roster gets a preview)",
    )
    roster_import.add_argument(
        "--replace-demo",
        action="store_true",
        help="the database holds only the demo school: replace it with this roster",
    )

    calendar = sub.add_parser("calendar", help="the school calendar (校历)")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    calendar_import = calendar_sub.add_parser(
        "import",
        help="import the school year's calendar from a .xlsx (sheet 校历) or .csv file",
    )
    calendar_import.add_argument("file", type=Path, help="校历.xlsx or 校历.csv")
    calendar_import.add_argument("--school", help="school name (default: SCHOOL_NAME)")
    calendar_show = calendar_sub.add_parser("show", help="print this school year's calendar")
    calendar_show.add_argument("--school", help="school name (default: SCHOOL_NAME)")
    calendar_show.add_argument(
        "--today", type=_date, help="show the school year of this day (default: today)"
    )

    invites = sub.add_parser("invites", help="print one-time invite codes and Telegram links")
    invites.add_argument("--format", choices=["table", "csv"], default="table")
    invites.add_argument("--role", choices=["all", "staff", "guardian"], default="all")
    invites.add_argument("--class", dest="class_name", help="only this class, e.g. 三(2)班")
    invites.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")

    demo = sub.add_parser("demo", help="seed a demo school (2 grades, 4 classes, ~120 students)")
    demo.add_argument("--force", action="store_true", help="seed even if a school exists")

    sub.add_parser("run", help="run the bot (Telegram if configured, else the console)")

    jobs = sub.add_parser("jobs", help="scheduled jobs: list them, or run one slot by hand")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jobs_list = jobs_sub.add_parser("list", help="each job's schedule, next run and last run")
    jobs_list.add_argument("--now", type=_moment, help="as of this moment (default: now)")
    jobs_run = jobs_sub.add_parser("run", help="run one slot of a job now (sends nothing twice)")
    jobs_run.add_argument("name", help="the job's name, as `jobs list` shows it")
    jobs_run.add_argument(
        "--now",
        type=_moment,
        help="the moment to run as, e.g. 2026-11-16T07:30 (school's local time unless an "
        "offset is given); default: now",
    )
    jobs_run.add_argument(
        "--force",
        action="store_true",
        help="rehearse a future --now: run it without marking the real slot as done",
    )

    wecom = sub.add_parser("wecom", help="WeChat Work (企业微信)")
    wecom_sub = wecom.add_subparsers(dest="wecom_command", required=True, metavar="ACTION")
    wecom_sub.add_parser(
        "sync",
        help="link WeCom members and 家校通讯录 parents to the roster by mobile (safe to rerun)",
    )

    export = sub.add_parser("export", help="export records")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    visits = export_sub.add_parser("visits", help="visit records as .xlsx")
    visits.add_argument("--from", dest="date_from", type=_date, required=True)
    visits.add_argument("--to", dest="date_to", type=_date, required=True)
    visits.add_argument("--class", dest="class_name", help="only this class, e.g. 三(2)班")
    visits.add_argument("-o", "--output", type=Path, required=True)
    families = export_sub.add_parser(
        "families", help="every student's household (家庭情况表) as .xlsx"
    )
    families.add_argument("-o", "--output", type=Path, required=True, help="FILE.xlsx")
    receipts = export_sub.add_parser("receipts", help="a notice's receipts (回执) as .xlsx")
    receipts.add_argument("notice", help="the notice's id or 文号, e.g. 12 or 〔2026〕第012号")
    receipts.add_argument("-o", "--output", type=Path, required=True)
    return parser


def _db_upgrade(settings: Settings) -> int:
    from models.db.migrate import upgrade

    upgrade(settings.database_url)
    print("数据库已是最新结构。")
    return 0


async def _wecom_sync(settings: Settings) -> int:
    """`wecom sync`: 0 when synced, 1 when WeCom refused or there is no school yet."""
    if not settings.wecom_configured:
        raise ConfigError(
            "企业微信未配置：请在 .env 中填写 WECOM_CORP_ID、WECOM_AGENT_ID、WECOM_SECRET、"
            "WECOM_TOKEN 和 WECOM_ENCODING_AES_KEY 后再同步。"
        )
    from bot.channels.wecom_api import WecomApi, WecomConfig, WecomError
    from bot.command_line import school_or_say
    from bot.roster.wecom_sync import sync_wecom
    from models.db.engine import Database
    from models.db.migrate import upgrade

    assert settings.wecom_corp_id and settings.wecom_secret and settings.wecom_agent_id
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, settings.school_name)
        if school is None or school.id is None:
            return 1
        config = WecomConfig(
            corp_id=settings.wecom_corp_id,
            secret=settings.wecom_secret.get_secret_value(),
            agent_id=settings.wecom_agent_id,
            base_url=settings.wecom_api_base_url,
        )
        try:
            report = await sync_wecom(
                db=db, api=WecomApi(db, config), school_id=school.id, now=datetime.now(UTC)
            )
        except WecomError as exc:
            print(
                f"企业微信没有返回通讯录（{exc.errcode}：{exc.errmsg}）。数据库没有任何改动。"
                "请检查企业ID、应用 Secret，以及应用的通讯录权限和可见范围。",
                file=sys.stderr,
            )
            return 1
    finally:
        await db.dispose()
    print(report.summary())
    return 0


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command: str = args.command
    if command == "db":
        return _db_upgrade(settings)
    if command == "roster":
        from bot.roster.importer import run_import

        return asyncio.run(
            run_import(
                settings,
                args.files,
                school_name=args.school,
                partial=args.partial,
                yes=args.yes,
                replace_demo=args.replace_demo,
            )
        )
    if command == "calendar":
        from bot.calendar_cli import run_calendar_import, run_calendar_show

        if args.calendar_command == "import":
            return asyncio.run(run_calendar_import(settings, args.file, school_name=args.school))
        return asyncio.run(run_calendar_show(settings, school_name=args.school, today=args.today))
    if command == "invites":
        from bot.roster.invites import print_invites

        return asyncio.run(
            print_invites(
                settings,
                fmt=args.format,
                role=args.role,
                class_name=args.class_name,
                output=args.output,
            )
        )
    if command == "demo":
        from bot.demo import run_demo_seed

        return asyncio.run(run_demo_seed(settings, force=args.force))
    if command == "run":
        from bot.runner import run

        return run(settings)
    if command == "jobs":
        from bot.jobs_cli import list_jobs, run_one

        if args.jobs_command == "list":
            return asyncio.run(list_jobs(settings, now=args.now))
        return asyncio.run(run_one(settings, args.name, now=args.now, force=args.force))
    if command == "wecom":
        return asyncio.run(_wecom_sync(settings))
    if command == "export" and args.export_command == "families":
        from bot.exports.families import run_export_families

        return asyncio.run(run_export_families(settings, output=args.output))
    if command == "export" and args.export_command == "receipts":
        from bot.exports.receipts import run_export_receipts

        return asyncio.run(
            run_export_receipts(settings, notice_ref=args.notice, output=args.output)
        )
    if command == "export":
        from bot.exports.visits import run_export_visits

        return asyncio.run(
            run_export_visits(
                settings,
                date_from=args.date_from,
                date_to=args.date_to,
                class_name=args.class_name,
                output=args.output,
            )
        )
    raise AssertionError(command)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        # No personal data in any line: see bot.private_logging.
        configure_logging(settings.log_level)
        return _dispatch(args, settings)
    except JiafangError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except UNREACHABLE_DATABASE as exc:
        if not is_unreachable(exc):
            raise
        print(f"错误：{unreachable_database(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
