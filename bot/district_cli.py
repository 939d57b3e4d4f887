"""`district digest` and `export district`: the district view from the command line, for the
operator of a deployment serving several schools (`models.district.compliance`).

    jiafang district digest [--date YYYY-MM-DD] [--chart 各校.png]
    jiafang export district -o 区域合规.xlsx [--date YYYY-MM-DD]

Both cover every school in the database (but the bureau's own entry), with counts only (no
child's, guardian's or teacher's name). Each school's figures follow its own rules (`school set
--rule …` on top of the environment's `RULES__*`). They are the operator's commands, with no
`--by`; a 区域管理员 on the bureau's roster reads the same digest and chart in a chat
(`/district`) and is sent them every school-day morning (`scheduler.jobs.district`).

`--date` is the morning the figures are for (default: today, in `TIMEZONE`). Today's report
reads the exceptions as they are now; a report for an earlier morning reads them as they stood
at that morning's digest time (`RULES__DIGEST_TIME`, default 07:30). An empty database (no
school yet) is one clear line and status 2.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from bot.exports.xlsx import (
    ExportError,
    output_path,
    run_export,
    save_audited,
    table_sheet,
)
from bot.settings import Settings
from handlers.district import district_digest_text, draw_district_chart
from handlers.i18n import translator
from models.db.engine import Database
from models.db.migrate import upgrade
from models.district.compliance import NOTICE_DAYS, DistrictReport, SchoolCompliance
from models.district.report import district_report
from models.errors import JiafangError

NO_SCHOOL = (
    "数据库里还没有学校，没有可汇总的数据。请先添加学校（python -m bot school add）并导入名册，"
    "或运行 python -m bot demo 试用。"
)


class DistrictError(JiafangError):
    """The district view cannot be given as asked (no school, a date in the future, …)."""


# -- the parser ----------------------------------------------------------------------------------


def _date_option(parser: argparse.ArgumentParser, date_type: Callable[[str], date]) -> None:
    parser.add_argument(
        "--date",
        type=date_type,
        metavar="日期",
        help="汇总哪一天早上的情况，例如 2026-11-16（默认：今天）",
    )


def add_district_parser(sub: Any, date_type: Callable[[str], date]) -> None:
    """`district …` on the command line's subparsers."""
    district = sub.add_parser("district", help="区域视图：各校家访合规情况（仅统计数字）")
    actions = district.add_subparsers(dest="district_command", required=True, metavar="ACTION")
    digest = actions.add_parser("digest", help="打印区域家访合规日报（各校并列，需关注的在前）")
    _date_option(digest, date_type)
    digest.add_argument(
        "--chart", type=Path, metavar="文件", help="同时把各校对比图写入这个 .png 文件"
    )


def add_district_export_parser(export_sub: Any, date_type: Callable[[str], date]) -> None:
    """`export district …` on the export command's subparsers."""
    export = export_sub.add_parser("district", help="各校家访合规情况，每校一行（.xlsx）")
    _date_option(export, date_type)
    export.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 区域合规.xlsx"
    )


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "export":
        return asyncio.run(run_export_district(settings, output=args.output, day=args.date))
    return asyncio.run(run_district_digest(settings, day=args.date, chart=args.chart))


# -- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    today: date
    now: datetime


def report_moment(settings: Settings, day: date | None, clock: datetime | None = None) -> Moment:
    """The morning and the moment a report is for: now for today, else that morning's digest
    time; a morning still to come is refused."""
    zone = ZoneInfo(settings.timezone)
    current = (clock or datetime.now(UTC)).astimezone(zone)
    if day is None or day == current.date():
        return Moment(current.date(), current.astimezone(UTC))
    if day > current.date():
        raise DistrictError(
            f"{day.isoformat()} 还没有到，无法汇总。请给出今天或以前的日期，或不写 --date。"
        )
    morning = datetime.combine(day, settings.rules.digest_time, tzinfo=zone)
    return Moment(day, morning.astimezone(UTC))


async def read_report(db: Database, settings: Settings, day: date | None) -> DistrictReport:
    moment = report_moment(settings, day)
    async with db.session() as session:
        report = await district_report(
            session, today=moment.today, now=moment.now, rules=settings.rules
        )
    if not report.schools:
        raise DistrictError(NO_SCHOOL)
    return report


async def run_district_digest(settings: Settings, *, day: date | None, chart: Path | None) -> int:
    """`python -m bot district digest`: print the digest (and write its chart)."""
    if chart is not None:
        if chart.suffix.lower() != ".png":
            raise DistrictError(
                f"图表是 PNG 图片，文件名请以 .png 结尾（收到的是“{chart.name}”）。"
            )
        if not chart.parent.is_dir():
            raise DistrictError(f"无法写入 {chart}：目录 {chart.parent} 不存在。")
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        report = await read_report(db, settings, day)
    finally:
        await db.dispose()
    t = translator(settings.default_language)
    print(district_digest_text(t, report, every_school=True))
    if chart is not None:
        png = await draw_district_chart(t, report)
        if png is None:
            raise DistrictError(
                "图表没有画成（缺少中文字体或绘图失败，详见日志）；日报文字已打印。"
            )
        try:
            await asyncio.to_thread(chart.write_bytes, png)
        except OSError as exc:
            raise DistrictError(f"无法写入 {chart}：{exc.strerror or exc}") from exc
        print(f"\n图表已写入 {chart}。")
    return 0


# -- the export ----------------------------------------------------------------------------------

#: (header, width, the cell of a school or of the totals).
COLUMNS: tuple[tuple[str, int, Callable[[SchoolCompliance], Any]], ...] = (
    ("学校", 16, lambda s: s.name),
    ("在校学生", 10, lambda s: s.students),
    ("教职工", 8, lambda s: s.staff),
    ("本月常规家访（次）", 12, lambda s: s.visits),
    ("计入指标（次）", 12, lambda s: s.visits_met),
    ("本月指标（次）", 12, lambda s: s.visits_target),
    ("指标完成率（%）", 12, lambda s: s.quota_percent),
    ("有指标的教师", 10, lambda s: s.teachers),
    ("按进度的教师", 10, lambda s: s.on_pace),
    ("按进度（%）", 10, lambda s: s.pace_percent),
    ("本学年入户学生", 12, lambda s: s.homes_visited),
    ("入户率（%）", 10, lambda s: s.coverage_percent),
    ("立即家访逾期", 10, lambda s: s.overdue_duties),
    ("突发事件未联系上家长", 14, lambda s: s.unreached_incidents),
    (f"近{NOTICE_DAYS}天要求回执的通知", 14, lambda s: s.notices),
    ("回执", 8, lambda s: s.receipts),
    ("已确认回执", 10, lambda s: s.confirmed),
    ("回执率（%）", 10, lambda s: s.receipt_percent),
    ("台账逾期", 8, lambda s: s.ledger_overdue),
    ("本月有上课日", 10, lambda s: "是" if s.in_term else "否"),
    ("已导入本学年校历", 12, lambda s: "是" if s.has_calendar else "否"),
)

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "统计范围",
        "数据库中的全部学校（区教育局自己的条目除外：名册上有区域管理员、没有学生）；"
        "只有统计数字，不含任何学生、家长或教师的姓名。",
    ),
    (
        "本月",
        "“昨日”（日报日期的前一天）所在的月份，从 1 日到昨日，只算学校校历中的上课期间"
        "（学期内的日子；没有导入校历的学校按每天都上课计）。",
    ),
    (
        "本月常规家访、本月指标",
        "有家访指标的教师（班主任每月 10 次、科任教师每月 3 次，月份中有假期时按比例折算）"
        "本月的常规家访次数和指标之和。",
    ),
    (
        "计入指标、指标完成率",
        "每位教师的家访计至本人指标为止（一人超额不抵另一人的不足）；指标完成率 = 计入指标 / 本月指标。",
    ),
    (
        "按进度的教师",
        "本月有指标的教师（含只有“每月联系家长 8 人次”一项的教练）中，家访和联系家长"
        "都不少于按已过上课日比例应完成数的人数；假期中无人落后。",
    ),
    (
        "本学年入户学生、入户率",
        "本学年（从学校的学年第一天到昨日）有任何老师上门家访过的在校学生"
        "（学校把视频家访算作上门的，也计入）/ 在校学生。",
    ),
    ("立即家访逾期", "截至统计时刻已过期限、尚未完成的立即家访。"),
    (
        "突发事件未联系上家长",
        "已提示未联系上家长、且家长没有点“已知悉”、老师也没有记录“已电话联系”的突发事件。",
    ),
    (
        "回执、回执率",
        f"统计时刻前 {NOTICE_DAYS} 天内发布、要求回执的通知，每名收到通知的学生算一份回执；"
        "回执率 = 已确认的回执 / 全部回执。",
    ),
    ("台账逾期", "问题台账中处理中、已过办结期限的条目（按读取时台账的状态）。"),
    ("全区合计", "各项为各校之和；全区的比率按合计数计算，不是各校比率的平均。"),
)


def _write(workbook: Workbook, report: DistrictReport, zone: ZoneInfo) -> None:
    sheet = table_sheet(workbook, "各校", [(header, width) for header, width, _ in COLUMNS])
    for school in report.schools:
        sheet.append([cell(school) for _header, _width, cell in COLUMNS])
    totals = report.totals
    sheet.append(["全区合计", *(cell(totals) for _header, _width, cell in COLUMNS[1:])])
    notes = table_sheet(workbook, "说明", [("项目", 22), ("说明", 100)])
    local = report.now.astimezone(zone)
    notes.append(["日报日期", report.today.isoformat()])
    notes.append(["统计时刻", f"{local:%Y-%m-%d %H:%M}（{zone.key}）"])
    notes.append(["学校数", len(report.schools)])
    for term, meaning in DEFINITIONS:
        notes.append([term, meaning])


async def export_district(
    db: Database, settings: Settings, *, path: Path, day: date | None = None
) -> int:
    """Write every school's figures to `path`; how many schools."""
    path = output_path(path)
    try:
        report = await read_report(db, settings, day)
    except DistrictError as exc:
        raise ExportError(str(exc)) from exc
    workbook = Workbook(write_only=True)
    _write(workbook, report, ZoneInfo(settings.timezone))
    await save_audited(
        db,
        workbook,
        path,
        action="export.district",
        subject="district",
        detail=f"{len(report.schools)} schools, {report.today.isoformat()}",
    )
    return len(report.schools)


async def run_export_district(settings: Settings, *, output: Path, day: date | None) -> int:
    """`python -m bot export district -o FILE.xlsx`: export and say what was written."""
    return await run_export(
        settings,
        lambda db: export_district(db, settings, path=output, day=day),
        lambda count: f"已导出 {count} 所学校的家访合规情况到 {output}。",
    )
