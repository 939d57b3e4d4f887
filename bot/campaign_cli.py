"""`campaign new|list|generate|assign|move` and `export campaign`: the 大走访 campaign from the
command line, for 德育处 at a desk (the same model functions as the chat's /campaign,
`models.campaigns.queries`).

    jiafang campaign new --name 秋季大走访 --from 2026-11-01 --to 2026-11-30 [--grades 3,4]
                         [--rule in_person|any_form] [--no-left-behind] --by 工号
    jiafang campaign list
    jiafang campaign generate ID --by 工号          (write a generated 包保表, replacing any)
    jiafang campaign assign ID 包保表.xlsx --by 工号 (import a 包保表, replacing any)
    jiafang campaign move ID 学号 工号 --by 工号
    jiafang export campaign ID -o 大走访.xlsx --by 工号

Only staff whose roles reach `campaign.manage` (德育处, the principal) may change a campaign
or export it, named by 工号 with `--by` and audited in their name. A bad argument is one line
and status 2 with nothing changed. `campaign assign` prints every problem of the file by sheet,
row and column and imports nothing while any is an error (status 1); warnings are printed and
the table is imported.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bot.settings import Settings

SCHOOL_HELP = "学校名称（默认：SCHOOL_NAME）"


# -- the parser ----------------------------------------------------------------------------------


def _by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", required=True, metavar="工号", help="操作人的工号（德育处或校长）")
    parser.add_argument("--school", help=SCHOOL_HELP)


def add_campaign_parser(sub: Any, date_type: Callable[[str], date]) -> None:
    """`campaign …` on the command line's subparsers."""
    campaign = sub.add_parser("campaign", help="大走访：新建、列出、分配和调整包保表")
    actions = campaign.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    new = actions.add_parser("new", help="新建一次大走访")
    new.add_argument("--name", required=True, metavar="名称", help="大走访的名称")
    new.add_argument(
        "--from", dest="date_from", type=date_type, required=True, metavar="日期", help="第一天"
    )
    new.add_argument(
        "--to", dest="date_to", type=date_type, required=True, metavar="日期", help="最后一天（含）"
    )
    new.add_argument("--grades", metavar="年级", help="只走访这些年级，例如 3,4（默认：全校）")
    new.add_argument(
        "--rule",
        default="in_person",
        metavar="规则",
        help="in_person 仅上门家访（默认）/ any_form 任何形式",
    )
    new.add_argument("--no-left-behind", action="store_true", help="留守儿童家庭不要求每月联系")
    _by(new)
    listing = actions.add_parser("list", help="列出本校的大走访")
    listing.add_argument("--school", help=SCHOOL_HELP)
    generate = actions.add_parser("generate", help="自动分配包保表（替换已有的包保表）")
    generate.add_argument("campaign", metavar="编号", help="大走访编号，例如 1")
    _by(generate)
    assign = actions.add_parser("assign", help="从 .xlsx 导入包保表（替换已有的包保表）")
    assign.add_argument("campaign", metavar="编号", help="大走访编号，例如 1")
    assign.add_argument("file", type=Path, help="包保表.xlsx")
    _by(assign)
    move = actions.add_parser("move", help="把一个家庭交给另一位老师包保")
    move.add_argument("campaign", metavar="编号", help="大走访编号，例如 1")
    move.add_argument("student", metavar="学号", help="这个家庭任一孩子的学号")
    move.add_argument("teacher", metavar="工号", help="接手的老师的工号")
    _by(move)


def add_export_parser(export_sub: Any) -> None:
    """`export campaign …` on the export command's subparsers."""
    export = export_sub.add_parser(
        "campaign", help="一次大走访：包保表、每户家访和入户率（.xlsx；仅德育处和校长）"
    )
    export.add_argument("campaign", metavar="编号", help="大走访编号，例如 1")
    export.add_argument(
        "-o", "--output", type=Path, required=True, help="输出文件，例如 大走访.xlsx"
    )
    _by(export)


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run `campaign …` or `export campaign …` (`bot.campaign_commands`)."""
    from bot.campaign_commands import run

    return run(args, settings)
