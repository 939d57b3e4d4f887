"""`school add|list|show|set|key`: the schools of a deployment that serves several (a district),
each with its own time zone, school year, rules and channel credentials.

    jiafang school add 名称 [--timezone Asia/Shanghai] [--year-start 9-1]
    jiafang school list
    jiafang school show 名称
    jiafang school set 名称 [--rule KEY=VALUE …] [--reset-rule KEY …]
                            [--telegram-token-file FILE] [--wecom-corp-id ID] [--wecom-agent-id N]
                            [--wecom-secret-file FILE] [--wecom-token-file FILE]
                            [--wecom-aes-key-file FILE] [--clear-telegram] [--clear-wecom]
                            [--timezone ZONE] [--year-start M-D]
    jiafang school key

Secrets are read from a file (or `-`, standard input), never from the command line itself, so
that they do not land in the shell's history or in `ps`; they are stored encrypted under
SECRETS_KEY and only ever shown masked (`7000…abcd`). A bad argument is one line of Chinese and
status 2 with nothing saved.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.settings import PLACEHOLDERS, Settings

#: A token as @BotFather gives it: the bot's number, a colon, then letters, digits, - and _.
TELEGRAM_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
#: WeCom's EncodingAESKey: 43 letters and digits.
AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")
#: WeCom's callback Token and an app's Secret: letters, digits, - and _ (no spaces).
PLAIN = re.compile(r"^[A-Za-z0-9_-]+$")

SECRET_OPTIONS = {
    "telegram_token": ("--telegram-token-file", "Telegram 令牌"),
    "wecom_secret": ("--wecom-secret-file", "企业微信应用 Secret"),
    "wecom_token": ("--wecom-token-file", "企业微信 Token"),
    "wecom_aes_key": ("--wecom-aes-key-file", "企业微信 EncodingAESKey"),
}


# -- the parser ----------------------------------------------------------------------------------


def add_school_parser(sub: Any) -> None:
    """`school …` on the command line's subparsers."""
    school = sub.add_parser("school", help="学校：添加、列出、查看和设置（一个部署服务多所学校）")
    actions = school.add_subparsers(dest="school_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="添加一所学校（之后用 roster import --school 导入名册）")
    add.add_argument("name", metavar="名称", help="学校名称，例如 城关第一小学")
    _calendar_options(add)
    actions.add_parser("list", help="列出全部学校：时区、人数和已配置的渠道（不显示任何密钥）")
    show = actions.add_parser(
        "show", help="查看一所学校：与默认值不同的规则、渠道（密钥只显示首尾）"
    )
    show.add_argument("name", metavar="名称", help="学校名称")
    change = actions.add_parser("set", help="设置一所学校的规则和渠道凭据")
    change.add_argument("name", metavar="名称", help="学校名称")
    change.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="本校的规则，例如 monthly_visits_head_teacher=12、quiet_start=21:30（可重复）",
    )
    change.add_argument(
        "--reset-rule",
        action="append",
        default=[],
        metavar="KEY",
        help="去掉本校对这条规则的设置，恢复部署的默认值（可重复）",
    )
    for option, what in SECRET_OPTIONS.values():
        change.add_argument(
            option, metavar="FILE", help=f"从这个文件读取{what}（- 表示从标准输入读取）"
        )
    change.add_argument(
        "--wecom-corp-id", metavar="ID", help="企业微信的企业ID（我的企业 → 企业ID）"
    )
    change.add_argument(
        "--wecom-agent-id", type=_agent_id, metavar="N", help="企业微信自建应用的 AgentId"
    )
    change.add_argument(
        "--clear-telegram", action="store_true", help="删除本校保存的 Telegram 令牌"
    )
    change.add_argument("--clear-wecom", action="store_true", help="删除本校保存的企业微信凭据")
    _calendar_options(change, defaults=False)
    actions.add_parser("key", help="生成一个新的 SECRETS_KEY（加密学校凭据用的密钥）")


def _calendar_options(parser: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    parser.add_argument(
        "--timezone",
        type=_zone,
        default="Asia/Shanghai" if defaults else None,
        metavar="时区",
        help="学校所在的时区（默认：Asia/Shanghai）" if defaults else "学校所在的时区",
    )
    parser.add_argument(
        "--year-start",
        type=_month_day,
        default=(9, 1) if defaults else None,
        metavar="月-日",
        help="学年开始的日子（默认：9-1，即 9 月 1 日）" if defaults else "学年开始的日子，如 9-1",
    )


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except Exception:  # ZoneInfoNotFoundError, or a key that is no path
        raise argparse.ArgumentTypeError(
            f"“{text}”不是已知的时区，请写成 Asia/Shanghai 这样的名称"
        ) from None
    return text


def _month_day(text: str) -> tuple[int, int]:
    month, sep, day = text.partition("-")
    try:
        start = date(2023, int(month), int(day)) if sep else None
    except ValueError:
        start = None
    if start is None:
        raise argparse.ArgumentTypeError(f"“{text}”不是有效的月-日，请写成 9-1 这样的形式")
    return start.month, start.day


def _agent_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"“{text}”不是 AgentId，AgentId 是一串数字")
    return int(text)


# -- reading secrets ----------------------------------------------------------------------------


def _read_secret(source: str, what: str, stdin: TextIO) -> str:
    if source == "-":
        text = stdin.read()
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise _refused(
                f"读不到{what}的文件“{source}”：请检查路径，文件应是 UTF-8 文本。"
            ) from None
    return text.strip()


def _check_secret(name: str, value: str) -> None:
    what = SECRET_OPTIONS[name][1]
    if not value:
        raise _refused(f"{what}的文件是空的。")
    if value in PLACEHOLDERS:
        raise _refused(f"{what}仍是 .env.example 中的示例值，请换成真实的值。")
    if name == "telegram_token" and not TELEGRAM_TOKEN.match(value):
        raise _refused(f"{what}的格式不对：应是 @BotFather 给出的 数字:字母串 形式。")
    if name == "wecom_aes_key" and not AES_KEY.match(value):
        raise _refused(f"{what}应是 43 个字母和数字（应用的“接收消息”页面上显示的那一串）。")
    if name in ("wecom_secret", "wecom_token") and not PLAIN.match(value):
        raise _refused(f"{what}只能包含字母、数字、- 和 _。")


def _refused(line: str) -> Exception:
    from models.errors import ConfigError

    return ConfigError(f"{line}没有保存任何改动。")


# -- the commands -------------------------------------------------------------------------------


@dataclass
class Change:
    """What `school set` was asked to change, read and checked before anything is saved."""

    rules: dict[str, Any] = field(default_factory=dict)
    reset: list[str] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    corp_id: str | None = None
    agent_id: int | None = None
    clear_telegram: bool = False
    clear_wecom: bool = False
    timezone: str | None = None
    year_start: tuple[int, int] | None = None

    def empty(self) -> bool:
        return not (
            self.rules
            or self.reset
            or self.secrets
            or self.corp_id
            or self.agent_id is not None
            or self.clear_telegram
            or self.clear_wecom
            or self.timezone
            or self.year_start
        )


def read_change(args: argparse.Namespace, stdin: TextIO) -> Change:
    """The arguments of `school set`, secrets read and checked (ConfigError on the first bad)."""
    from models.errors import ConfigError
    from models.school.config import parse_rule

    change = Change(
        rules=dict(parse_rule(text) for text in args.rule),
        reset=list(args.reset_rule),
        corp_id=args.wecom_corp_id.strip() if args.wecom_corp_id else None,
        agent_id=args.wecom_agent_id,
        clear_telegram=args.clear_telegram,
        clear_wecom=args.clear_wecom,
        timezone=args.timezone,
        year_start=args.year_start,
    )
    both = set(change.rules) & set(change.reset)
    if both:
        raise ConfigError(f"规则 {'、'.join(sorted(both))} 不能同时设置和恢复默认。")
    sources = {name: getattr(args, name + "_file") for name in SECRET_OPTIONS}
    if sum(source == "-" for source in sources.values()) > 1:
        raise ConfigError("标准输入（-）只能读取一项密钥：其余的请写在文件里。")
    for name, source in sources.items():
        if source is None:
            continue
        value = _read_secret(source, SECRET_OPTIONS[name][1], stdin)
        _check_secret(name, value)
        change.secrets[name] = value
    if change.corp_id is not None and not PLAIN.match(change.corp_id):
        raise _refused("企业ID只能包含字母、数字、- 和 _。")
    if change.clear_telegram and "telegram_token" in change.secrets:
        raise ConfigError("--clear-telegram 与 --telegram-token-file 不能同时使用。")
    wecom_given = set(change.secrets) - {"telegram_token"} or change.corp_id or change.agent_id
    if change.clear_wecom and wecom_given:
        raise ConfigError("--clear-wecom 与企业微信的其他选项不能同时使用。")
    if change.empty():
        raise ConfigError(
            "没有要更改的设置：请给出 --rule、--reset-rule、--telegram-token-file、--wecom-… "
            "或 --timezone 等选项（python -m bot school set --help）。"
        )
    return change


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot import school_commands

    command: str = args.school_command
    if command == "key":
        return school_commands.print_key()
    if command == "add":
        return asyncio.run(
            school_commands.add_school(
                settings, args.name, timezone=args.timezone, year_start=args.year_start
            )
        )
    if command == "list":
        return asyncio.run(school_commands.list_schools(settings))
    if command == "show":
        return asyncio.run(school_commands.show_school(settings, args.name))
    change = read_change(args, sys.stdin)
    return asyncio.run(school_commands.set_school(settings, args.name, change))
