"""The one command line: `python -m bot …` or `jiafang …`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

from bot.campaign_cli import add_campaign_parser, add_export_parser
from bot.command_line import DATABASE_ERRORS, database_problem
from bot.district_cli import add_district_export_parser, add_district_parser
from bot.private_logging import configure_logging
from bot.school_cli import add_school_parser
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
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示这段帮助")

    def error(self, message: str) -> NoReturn:
        self.exit(
            2, f"错误：命令写得不对（{self.prog}：{message}）。运行 {self.prog} --help 查看用法。\n"
        )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jiafang", description="家访 —— 家访与家校联系机器人")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="数据库结构")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="升级数据库到当前版本（可重复运行）")

    roster = sub.add_parser("roster", help="学校名册")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    roster_import = roster_sub.add_parser(
        "import", help="从 .xlsx 工作簿或两个 .csv 文件导入教师和学生"
    )
    roster_import.add_argument(
        "files", nargs="+", type=Path, help="roster.xlsx，或 teachers.csv 和 students.csv"
    )
    roster_import.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    roster_import.add_argument(
        "--partial",
        action="store_true",
        help="文件只含部分班级：只新增和更新，不停用任何人",
    )
    roster_import.add_argument(
        "--yes",
        action="store_true",
        help="确认执行全校导入（不加时，已有名册的学校只显示预览）",
    )
    roster_import.add_argument(
        "--replace-demo",
        action="store_true",
        help="数据库里只有示范学校：用这份名单替换它",
    )

    calendar = sub.add_parser("calendar", help="校历")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    calendar_import = calendar_sub.add_parser(
        "import",
        help="从 .xlsx（工作表“校历”）或 .csv 文件导入本学年校历",
    )
    calendar_import.add_argument("file", type=Path, help="校历.xlsx 或 校历.csv")
    calendar_import.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    calendar_show = calendar_sub.add_parser("show", help="显示本学年的校历")
    calendar_show.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    calendar_show.add_argument("--today", type=_date, help="显示这一天所在学年的校历（默认：今天）")

    survey = sub.add_parser("survey", help="问卷：从表格导入问卷，列出本校问卷")
    survey_sub = survey.add_subparsers(dest="survey_command", required=True, metavar="ACTION")
    survey_import = survey_sub.add_parser(
        "import", help="从 .xlsx（工作表“问卷”）或 .csv 文件导入一份问卷（德育处或校长）"
    )
    survey_import.add_argument("file", type=Path, help="问卷.xlsx 或 问卷.csv")
    survey_import.add_argument("--name", required=True, metavar="名称", help="问卷名称")
    survey_import.add_argument(
        "--anonymous", action="store_true", help="匿名问卷（不加时为实名问卷）"
    )
    survey_import.add_argument(
        "--purpose",
        choices=["semester", "opinion_week", "other"],
        default="other",
        help="semester 学期问卷 / opinion_week 民意访问周 / other 其他问卷（默认）",
    )
    survey_import.add_argument("--by", required=True, metavar="工号", help="导入人的工号")
    survey_import.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    survey_forms = survey_sub.add_parser("forms", help="列出本校的问卷（编号、名称、用途、题数）")
    survey_forms.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")

    committee = sub.add_parser("committee", help="家长委员会：添加、移除、列出成员")
    committee_sub = committee.add_subparsers(
        dest="committee_command", required=True, metavar="ACTION"
    )
    for action, helptext, verb in (
        ("add", "把一名学生的家长加入家委会（德育处或校长）", "加入"),
        ("remove", "把一名学生的家长移出家委会（德育处或校长）", "移除"),
    ):
        change = committee_sub.add_parser(action, help=helptext)
        change.add_argument("student", metavar="学号", help="学生的学号（成员是这个学生的家长）")
        change.add_argument(
            "--guardian",
            metavar="姓名或手机号后四位",
            help=f"学生有几位家长时，写明{verb}哪一位",
        )
        change.add_argument("--by", required=True, metavar="工号", help="经办人的工号")
        change.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    committee_list = committee_sub.add_parser("list", help="列出家委会成员")
    committee_list.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")

    add_campaign_parser(sub, _date)
    add_school_parser(sub)

    invites = sub.add_parser("invites", help="打印一次性邀请码和 Telegram 链接")
    invites.add_argument(
        "--format", choices=["table", "csv"], default="table", help="表格（默认）或 CSV"
    )
    invites.add_argument(
        "--role",
        choices=["all", "staff", "guardian"],
        default="all",
        help="全部（默认）、教师或家长",
    )
    invites.add_argument("--class", dest="class_name", help="只看这个班级，例如 三(2)班")
    invites.add_argument("-o", "--output", type=Path, help="写入这个文件，而不是打印出来")

    demo = sub.add_parser("demo", help="创建示范学校（2 个年级、4 个班、约 120 名学生）")
    demo.add_argument("--force", action="store_true", help="即使已有学校也补充示范数据")

    run_bot = sub.add_parser(
        "run", help="运行机器人（已配置 Telegram/企业微信则连接它们，否则在终端里运行）"
    )
    run_bot.add_argument(
        "--webhook",
        action="store_true",
        help="Telegram 用 webhook 推送消息（需要 TELEGRAM_WEBHOOK_URL），而不是轮询",
    )
    run_bot.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="运行 N 个工作进程，共用 WEB_PORT（需要 PostgreSQL 和 RATE_LIMIT_URL；Telegram 需加 --webhook）",
    )

    run_bot.add_argument(
        "--all-schools",
        action="store_true",
        help="在一个进程里运行数据库中每所已保存渠道的学校的机器人（区域部署）",
    )

    jobs = sub.add_parser("jobs", help="定时任务：查看，或手动运行一个时段")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jobs_list = jobs_sub.add_parser("list", help="每个任务的时间、下次运行和上次运行")
    jobs_list.add_argument("--now", type=_moment, help="按这个时刻计算（默认：现在）")
    jobs_run = jobs_sub.add_parser("run", help="现在运行某个任务的一个时段（不会重复发送）")
    jobs_run.add_argument("name", help="任务名称，见 jobs list")
    jobs_run.add_argument(
        "--now",
        type=_moment,
        help="按这个时刻运行，例如 2026-11-16T07:30（学校当地时间，除非写明时区偏移）；默认：现在",
    )
    jobs_run.add_argument(
        "--force",
        action="store_true",
        help="预演将来的 --now：运行但不把真正的时段记为已完成",
    )

    wecom = sub.add_parser("wecom", help="企业微信")
    wecom_sub = wecom.add_subparsers(dest="wecom_command", required=True, metavar="ACTION")
    wecom_sub.add_parser(
        "sync",
        help="按手机号把企业微信成员和家校通讯录家长关联到名册（可重复运行）",
    )

    ledger_cmd = sub.add_parser("ledger", help="问题台账：查看、办结、重新打开")
    ledger_sub = ledger_cmd.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    ledger_show = ledger_sub.add_parser("show", help="显示一条台账及其处理记录")
    ledger_show.add_argument("item", type=int, help="台账编号")
    ledger_show.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    ledger_close = ledger_sub.add_parser("close", help="办结一条台账（必须写明处理结果）")
    ledger_close.add_argument("item", type=int, help="台账编号")
    ledger_close.add_argument("--by", required=True, metavar="工号", help="办结人的工号")
    ledger_close.add_argument(
        "--outcome",
        required=True,
        metavar="结果",
        help="solved 已解决 / explained 已当面解释 / escalated 已上报处理 / unfounded 经核实不属实",
    )
    ledger_close.add_argument("--note", required=True, metavar="说明", help="办结说明（不能为空）")
    ledger_close.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    ledger_reopen = ledger_sub.add_parser("reopen", help="重新打开一条已办结的台账（写明原因）")
    ledger_reopen.add_argument("item", type=int, help="台账编号")
    ledger_reopen.add_argument("--by", required=True, metavar="工号", help="经办人的工号")
    ledger_reopen.add_argument("--reason", required=True, metavar="原因", help="重新打开的原因")
    ledger_reopen.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")

    privacy = sub.add_parser("privacy", help="个人信息：导出或删除一名学生的全部数据（校长）")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    privacy_export = privacy_sub.add_parser("export", help="把一名学生的全部记录导出为 .xlsx")
    privacy_export.add_argument("student", metavar="学号", help="学生的学号")
    privacy_export.add_argument("--by", required=True, metavar="工号", help="经办人（校长）的工号")
    privacy_export.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 学生数据.xlsx"
    )
    privacy_export.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    privacy_erase = privacy_sub.add_parser(
        "erase", help="匿名化一名学生的数据（保留统计所需的日期和类别）"
    )
    privacy_erase.add_argument("student", metavar="学号", help="学生的学号")
    privacy_erase.add_argument("--by", required=True, metavar="工号", help="经办人（校长）的工号")
    privacy_erase.add_argument(
        "--yes", action="store_true", help="不再询问，直接执行（没有终端时必须加）"
    )
    privacy_erase.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")

    add_district_parser(sub, _date)

    export = sub.add_parser("export", help="导出记录")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    visits = export_sub.add_parser("visits", help="家访记录（.xlsx）")
    visits.add_argument(
        "--from", dest="date_from", type=_date, required=True, metavar="日期", help="起始日期（含）"
    )
    visits.add_argument(
        "--to", dest="date_to", type=_date, required=True, metavar="日期", help="截止日期（含）"
    )
    visits.add_argument("--class", dest="class_name", help="只看这个班级，例如 三(2)班")
    visits.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 家访记录.xlsx"
    )
    ledger = export_sub.add_parser("ledger", help="问题台账及处理记录（.xlsx）")
    ledger.add_argument(
        "--from",
        dest="date_from",
        type=_date,
        required=True,
        metavar="日期",
        help="登记日期起（含）",
    )
    ledger.add_argument(
        "--to", dest="date_to", type=_date, required=True, metavar="日期", help="登记日期止（含）"
    )
    ledger.add_argument(
        "--status",
        choices=["open", "active", "closed"],
        help="只导出这种状态：open 待分类，active 处理中，closed 已办结（默认：全部）",
    )
    ledger.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 问题台账.xlsx"
    )
    families = export_sub.add_parser("families", help="每名学生的家庭情况表（.xlsx）")
    families.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 家庭情况表.xlsx"
    )
    receipts = export_sub.add_parser("receipts", help="一则通知的回执（.xlsx）")
    receipts.add_argument("notice", help="通知的编号或文号，例如 12 或 〔2026〕第012号")
    receipts.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 回执.xlsx"
    )
    cases = export_sub.add_parser("cases", help="关爱室个案及辅导记录（.xlsx；仅关爱室老师和校长）")
    cases.add_argument("--by", required=True, metavar="工号", help="导出人的工号（关爱室或校长）")
    cases.add_argument(
        "--from", dest="date_from", type=_date, metavar="日期", help="受理日期起（含；默认：不限）"
    )
    cases.add_argument(
        "--to", dest="date_to", type=_date, metavar="日期", help="受理日期止（含；默认：不限）"
    )
    cases.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 关爱室个案.xlsx"
    )
    evaluation = export_sub.add_parser(
        "evaluation",
        help="教师家访工作考核：总表、逐月和立即家访（.xlsx；德育处和校长，教师仅本人）",
    )
    evaluation.add_argument(
        "--semester",
        nargs="?",
        metavar="学期",
        help="学期名称或学期中的一天（如开始日期 2026-09-01）；默认：今天所在的学期",
    )
    evaluation.add_argument("--year", action="store_true", help="整个学年（该学期所在的学年）")
    evaluation.add_argument("--teacher", metavar="工号", help="只导出这位教师（默认：全体教师）")
    evaluation.add_argument("--by", required=True, metavar="工号", help="导出人的工号")
    evaluation.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 家访考核.xlsx"
    )
    evaluation.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    survey_results = export_sub.add_parser("survey", help="一次问卷的结果（.xlsx；仅德育处和校长）")
    survey_results.add_argument("survey", metavar="编号", help="问卷编号，例如 12")
    survey_results.add_argument(
        "--by", required=True, metavar="工号", help="导出人的工号（德育处或校长）"
    )
    survey_results.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 问卷结果.xlsx"
    )
    meetings = export_sub.add_parser(
        "meetings", help="一个学期的家长会：回复、出席和纪要（.xlsx；仅德育处和校长）"
    )
    meetings.add_argument(
        "--semester",
        nargs="?",
        metavar="学期",
        help="学期名称或学期中的一天（如开始日期 2026-09-01）；默认：今天所在的学期",
    )
    meetings.add_argument(
        "--by", required=True, metavar="工号", help="导出人的工号（德育处或校长）"
    )
    meetings.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 家长会.xlsx"
    )
    meetings.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
    add_export_parser(export_sub)
    add_district_export_parser(export_sub, _date)

    audit = sub.add_parser("audit", help="审计日志（谁查看或更改了什么）")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_export = audit_sub.add_parser("export", help="导出一段时间的审计日志（.xlsx，仅校长）")
    audit_export.add_argument("--by", required=True, metavar="工号", help="导出人（校长）的工号")
    audit_export.add_argument(
        "--from", dest="date_from", type=_date, required=True, metavar="日期", help="起始日期（含）"
    )
    audit_export.add_argument(
        "--to", dest="date_to", type=_date, required=True, metavar="日期", help="截止日期（含）"
    )
    audit_export.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 审计日志.xlsx"
    )
    audit_export.add_argument("--school", help="学校名称（默认：SCHOOL_NAME）")
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
    if command == "survey":
        from bot.surveys_cli import run_survey_forms, run_survey_import

        if args.survey_command == "forms":
            return asyncio.run(run_survey_forms(settings, school_name=args.school))
        return asyncio.run(
            run_survey_import(
                settings,
                args.file,
                name=args.name,
                purpose=args.purpose,
                anonymous=args.anonymous,
                staff_no=args.by,
                school_name=args.school,
            )
        )
    if command == "committee":
        from bot.meetings_cli import (
            run_committee_add,
            run_committee_list,
            run_committee_remove,
        )

        if args.committee_command == "list":
            return asyncio.run(run_committee_list(settings, school_name=args.school))
        change = run_committee_add if args.committee_command == "add" else run_committee_remove
        return asyncio.run(
            change(
                settings,
                student_no=args.student,
                guardian=args.guardian,
                staff_no=args.by,
                school_name=args.school,
            )
        )
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
        if args.workers != 1:
            from bot.workers import run_workers

            return run_workers(
                settings, args.workers, webhook=args.webhook, all_schools=args.all_schools
            )
        from bot.runner import run

        return run(settings, webhook=args.webhook, all_schools=args.all_schools)
    if command == "jobs":
        from bot.jobs_cli import list_jobs, run_one

        if args.jobs_command == "list":
            return asyncio.run(list_jobs(settings, now=args.now))
        return asyncio.run(run_one(settings, args.name, now=args.now, force=args.force))
    if command == "wecom":
        return asyncio.run(_wecom_sync(settings))
    if command == "ledger":
        from bot.ledger_cli import run_ledger_close, run_ledger_reopen, run_ledger_show

        if args.ledger_command == "show":
            return asyncio.run(
                run_ledger_show(settings, item_id=args.item, school_name=args.school)
            )
        if args.ledger_command == "close":
            return asyncio.run(
                run_ledger_close(
                    settings,
                    item_id=args.item,
                    staff_no=args.by,
                    outcome=args.outcome,
                    note=args.note,
                    school_name=args.school,
                )
            )
        return asyncio.run(
            run_ledger_reopen(
                settings,
                item_id=args.item,
                staff_no=args.by,
                reason=args.reason,
                school_name=args.school,
            )
        )
    if command == "district" or (command == "export" and args.export_command == "district"):
        from bot.district_cli import dispatch as district_dispatch

        return district_dispatch(args, settings)
    if command == "audit":
        from bot.audit_cli import run_audit_export

        return asyncio.run(
            run_audit_export(
                settings,
                staff_no=args.by,
                date_from=args.date_from,
                date_to=args.date_to,
                output=args.output,
                school_name=args.school,
            )
        )
    if command == "privacy":
        from bot.privacy_cli import run_privacy_erase, run_privacy_export

        if args.privacy_command == "export":
            return asyncio.run(
                run_privacy_export(
                    settings,
                    student_no=args.student,
                    staff_no=args.by,
                    output=args.output,
                    school_name=args.school,
                )
            )
        return asyncio.run(
            run_privacy_erase(
                settings,
                student_no=args.student,
                staff_no=args.by,
                yes=args.yes,
                school_name=args.school,
            )
        )
    if command == "school":
        from bot.school_cli import dispatch as school_dispatch

        return school_dispatch(args, settings)
    if command == "campaign" or (command == "export" and args.export_command == "campaign"):
        from bot.campaign_cli import dispatch

        return dispatch(args, settings)
    if command == "export" and args.export_command == "ledger":
        from bot.exports.ledger import run_export_ledger

        return asyncio.run(
            run_export_ledger(
                settings,
                date_from=args.date_from,
                date_to=args.date_to,
                status=args.status,
                output=args.output,
            )
        )
    if command == "export" and args.export_command == "families":
        from bot.exports.families import run_export_families

        return asyncio.run(run_export_families(settings, output=args.output))
    if command == "export" and args.export_command == "receipts":
        from bot.exports.receipts import run_export_receipts

        return asyncio.run(
            run_export_receipts(settings, notice_ref=args.notice, output=args.output)
        )
    if command == "export" and args.export_command == "evaluation":
        from bot.exports.evaluation import run_export_evaluation

        return asyncio.run(
            run_export_evaluation(
                settings,
                semester=args.semester,
                year=args.year,
                teacher_no=args.teacher,
                staff_no=args.by,
                output=args.output,
                school_name=args.school,
            )
        )
    if command == "export" and args.export_command == "cases":
        from bot.exports.cases import run_export_cases

        return asyncio.run(
            run_export_cases(
                settings,
                staff_no=args.by,
                date_from=args.date_from,
                date_to=args.date_to,
                output=args.output,
            )
        )
    if command == "export" and args.export_command == "survey":
        from bot.exports.survey import run_export_survey

        return asyncio.run(
            run_export_survey(
                settings, survey_ref=args.survey, staff_no=args.by, output=args.output
            )
        )
    if command == "export" and args.export_command == "meetings":
        from bot.exports.meetings import run_export_meetings

        return asyncio.run(
            run_export_meetings(
                settings,
                semester=args.semester,
                staff_no=args.by,
                output=args.output,
                school_name=args.school,
            )
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
        configure_logging(settings.log_level, json_lines=settings.log_format == "json")
        return _dispatch(args, settings)
    except JiafangError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except DATABASE_ERRORS as exc:
        problem = database_problem(exc)
        if problem is None:
            raise
        print(f"错误：{problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
