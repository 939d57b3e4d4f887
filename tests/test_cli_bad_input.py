"""Every command, given a bad path or argument, says so in one line of Chinese on stderr and
stops with status 2 — no traceback, no usage block (the real `python -m bot`, as a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROSTER = str(ROOT / "examples" / "roster.xlsx")


def _bot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    """A database holding the demo school, and the environment naming it."""
    folder = tmp_path_factory.mktemp("cli")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "TELEGRAM_", "WECOM_", "SCHOOL_NAME", "SECRETS_KEY"))
    }
    env |= {"DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "PYTHONPATH": str(ROOT)}
    assert _bot(["demo"], env, folder).returncode == 0
    (folder / "roster.xls").write_bytes(b"not a workbook")
    (folder / "broken.xlsx").write_bytes(b"not a workbook")
    (folder / "问卷.csv").write_text("题目,题型\n您满意吗？,满意度\n", encoding="utf-8")
    (folder / "token.txt").write_text("7000123456:AAHk-3fG9sD0mQ2pLzXy8wVvUu1abcd\n")
    yield env, folder


CASES = {
    "roster import: a missing file": ["roster", "import", "/nowhere/roster.xlsx"],
    "roster import: a file of another type": ["roster", "import", "roster.xls"],
    "roster import: a file that is no workbook": ["roster", "import", "broken.xlsx", "--partial"],
    "roster import: into the demo without --replace-demo": ["roster", "import", ROSTER],
    "roster import: an unknown option": ["roster", "import", ROSTER, "--replace"],
    "calendar import: a missing file": ["calendar", "import", "/nowhere/校历.xlsx"],
    "calendar import: a file of another type": ["calendar", "import", "roster.xls"],
    "calendar show: an impossible date": ["calendar", "show", "--today", "2026-02-30"],
    "survey import: a missing file": [
        *("survey", "import", "/nowhere/问卷.xlsx", "--name", "期中问卷", "--by", "T03")
    ],
    "survey import: a file of another type": [
        *("survey", "import", "roster.xls", "--name", "期中问卷", "--by", "T03")
    ],
    "survey import: a file that is no workbook": [
        *("survey", "import", "broken.xlsx", "--name", "期中问卷", "--by", "T03")
    ],
    "survey import: a purpose that does not exist": [
        *("survey", "import", "问卷.csv", "--name", "期中问卷", "--by", "T03"),
        *("--purpose", "monthly"),
    ],
    "survey import: without --by": ["survey", "import", "问卷.csv", "--name", "期中问卷"],
    "survey import: a 工号 not on the roster": [
        *("survey", "import", "问卷.csv", "--name", "期中问卷", "--by", "X999")
    ],
    "invites: into a folder that does not exist": ["invites", "-o", "/nowhere/invites.csv"],
    "invites: an unknown role": ["invites", "--role", "principal"],
    "export visits: an impossible date": [
        *("export", "visits", "--from", "2026-13-01", "--to", "2026-12-31", "-o", "v.xlsx")
    ],
    "export visits: a .csv name for a workbook": [
        *("export", "visits", "--from", "2026-09-01", "--to", "2026-12-31", "-o", "v.csv")
    ],
    "export visits: into a folder that does not exist": [
        *("export", "visits", "--from", "2026-09-01", "--to", "2026-12-31", "-o", "/nowhere/v.xlsx")
    ],
    "export ledger: a day that does not exist": [
        *("export", "ledger", "--from", "2026-11-31", "--to", "2026-12-01", "-o", "l.xlsx")
    ],
    "export ledger: a status that does not exist": [
        *("export", "ledger", "--from", "2026-11-01", "--to", "2026-11-30", "--status", "done"),
        *("-o", "l.xlsx"),
    ],
    "export ledger: from after to": [
        *("export", "ledger", "--from", "2026-12-01", "--to", "2026-11-01", "-o", "l.xlsx")
    ],
    "export families: into a folder that does not exist": [
        *("export", "families", "-o", "/nowhere/f.xlsx")
    ],
    "export receipts: a number too long for an id": [
        *("export", "receipts", "99999999999999999999", "-o", "r.xlsx")
    ],
    "export receipts: a 文号 that does not exist": [
        *("export", "receipts", "〔1999〕第999号", "-o", "r.xlsx")
    ],
    "export survey: a number that is no number": [
        *("export", "survey", "十二", "--by", "A01", "-o", "s.xlsx")
    ],
    "export survey: a survey that does not exist": [
        *("export", "survey", "999", "--by", "A01", "-o", "s.xlsx")
    ],
    "export survey: a 工号 not on the roster": [
        *("export", "survey", "1", "--by", "NOBODY", "-o", "s.xlsx")
    ],
    "export survey: without --by": ["export", "survey", "1", "-o", "s.xlsx"],
    "export survey: a .csv name for a workbook": [
        *("export", "survey", "1", "--by", "A01", "-o", "s.csv")
    ],
    "export meetings: without --by": ["export", "meetings", "-o", "m.xlsx"],
    "export meetings: a semester the calendar does not have": [
        *("export", "meetings", "--semester", "1999秋季学期", "--by", "A01", "-o", "m.xlsx")
    ],
    "export meetings: a 工号 not on the roster": [
        *("export", "meetings", "--by", "NOBODY", "-o", "m.xlsx")
    ],
    "export meetings: a 工号 that may not export": [
        *("export", "meetings", "--by", "T01", "-o", "m.xlsx")
    ],
    "export meetings: a .csv name for a workbook": [
        *("export", "meetings", "--by", "A01", "-o", "m.csv")
    ],
    "export evaluation: without --by": ["export", "evaluation", "-o", "e.xlsx"],
    "export evaluation: a semester the calendar does not have": [
        *("export", "evaluation", "--semester", "1999秋季学期", "--by", "A01", "-o", "e.xlsx")
    ],
    "export evaluation: a 工号 not on the roster": [
        *("export", "evaluation", "--by", "NOBODY", "-o", "e.xlsx")
    ],
    "export evaluation: a teacher asking for another's figures": [
        *("export", "evaluation", "--teacher", "T02", "--by", "T01", "-o", "e.xlsx")
    ],
    "export evaluation: a .csv name for a workbook": [
        *("export", "evaluation", "--by", "A01", "-o", "e.csv")
    ],
    "committee add: without --by": ["committee", "add", "20263101"],
    "committee add: a 学号 not on the roster": ["committee", "add", "S999", "--by", "A01"],
    "committee add: a 工号 that may not change the committee": [
        *("committee", "add", "20263101", "--by", "T01")
    ],
    "committee add: a guardian the student does not have": [
        *("committee", "add", "20263101", "--guardian", "无名氏", "--by", "A01")
    ],
    "committee remove: a family not on the committee": [
        *("committee", "remove", "20263101", "--by", "A01")
    ],
    "committee: an unknown action": ["committee", "clear"],
    "school add: a name there already is": ["school", "add", "示范小学"],
    "school add: a time zone that does not exist": ["school", "add", "二小", "--timezone", "北京"],
    "school add: a year start that is no day": ["school", "add", "二小", "--year-start", "2-30"],
    "school show: a school that does not exist": ["school", "show", "四小"],
    "school set: a rule that does not exist": [
        *("school", "set", "示范小学", "--rule", "quiet_begin=21:00")
    ],
    "school set: a rule with a bad value": [
        *("school", "set", "示范小学", "--rule", "survey_min_share=120")
    ],
    "school set: a rule without a value": ["school", "set", "示范小学", "--rule", "quiet_start"],
    "school set: a token without SECRETS_KEY": [
        *("school", "set", "示范小学", "--telegram-token-file", "token.txt")
    ],
    "school set: a token file that does not exist": [
        *("school", "set", "示范小学", "--telegram-token-file", "/nowhere/token.txt")
    ],
    "school set: an agent id that is no number": [
        *("school", "set", "示范小学", "--wecom-agent-id", "企业微信")
    ],
    "school set: nothing to change": ["school", "set", "示范小学"],
    "campaign new: an end before the start": [
        *("campaign", "new", "--name", "秋季", "--from", "2026-11-30", "--to", "2026-11-01"),
        *("--by", "A01"),
    ],
    "campaign new: a 工号 that may not": [
        *("campaign", "new", "--name", "秋季", "--from", "2026-11-01", "--to", "2026-11-30"),
        *("--by", "T01"),
    ],
    "campaign new: grades that are no grades": [
        *("campaign", "new", "--name", "秋季", "--from", "2026-11-01", "--to", "2026-11-30"),
        *("--grades", "高年级", "--by", "A01"),
    ],
    "campaign generate: a campaign that does not exist": [
        *("campaign", "generate", "99", "--by", "A01")
    ],
    "campaign generate: an id that is no number": ["campaign", "generate", "一", "--by", "A01"],
    "campaign assign: without --by": ["campaign", "assign", "1", "包保表.xlsx"],
    "campaign move: a campaign that does not exist": [
        *("campaign", "move", "99", "S1", "T01", "--by", "NOBODY")
    ],
    "export campaign: a .csv name for a workbook": [
        *("export", "campaign", "1", "--by", "A01", "-o", "c.csv")
    ],
    "district digest: an impossible date": ["district", "digest", "--date", "2026-02-30"],
    "district digest: a morning still to come": ["district", "digest", "--date", "2099-01-01"],
    "district digest: a chart that is no .png": ["district", "digest", "--chart", "c.jpg"],
    "district: an unknown action": ["district", "send"],
    "export district: a .csv name for a workbook": ["export", "district", "-o", "d.csv"],
    "export district: into a folder that does not exist": [
        *("export", "district", "-o", "/nowhere/d.xlsx")
    ],
    "jobs run: an unknown job": ["jobs", "run", "no_such_job"],
    "jobs run: a slot in the future": ["jobs", "run", "daily_digest", "--now", "2099-01-01T08:00"],
    "jobs list: a moment that is no time": ["jobs", "list", "--now", "tomorrow"],
    "wecom sync: WeCom not configured": ["wecom", "sync"],
    "demo: a database that has a school": ["demo"],
    "an unknown command": ["visits"],
}


@pytest.mark.parametrize("args", list(CASES.values()), ids=list(CASES))
def test_a_bad_path_or_argument_is_one_line_of_chinese_and_status_two(
    demo_env: tuple[dict[str, str], Path], args: list[str]
) -> None:
    env, folder = demo_env
    done = _bot(args, env, folder)
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("错误：")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "url",
    ["sqlite:////nowhere/folder/jiafang.db", "postgresql://nobody@127.0.0.1:1/jiafang"],
    ids=["a SQLite file in a missing folder", "a PostgreSQL server that is not there"],
)
def test_an_unreachable_database_is_one_line_and_status_two(
    demo_env: tuple[dict[str, str], Path], url: str
) -> None:
    env, folder = demo_env
    done = _bot(["jobs", "list"], env | {"DATABASE_URL": url}, folder)
    assert (done.returncode, len(done.stderr.splitlines())) == (2, 1), done.stderr
    assert done.stderr.startswith("错误：无法连接或打开数据库")
