"""`python -m bot run` on a fresh machine: no configuration, piped input, exits at EOF."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bot(cwd: Path, lines: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot run` with piped `lines`, no messenger and the default database (its
    `jiafang.db` in `cwd`), with `settings` added to the environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TELEGRAM_") and key != "DATABASE_URL"
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input=lines,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_piped_run_seeds_the_demo_answers_help_and_exits_at_eof(tmp_path: Path) -> None:
    # The default database: `jiafang.db` in the working directory, created from nothing.
    result = run_bot(tmp_path, "/help\n")
    assert result.returncode == 0, result.stderr
    assert "已创建一所示范学校" in result.stdout
    assert "王芳老师，您好！" in result.stdout
    assert "/cancel — 放弃当前操作" in result.stdout
    assert result.stdout.rstrip().endswith("再见！")
    assert "Traceback" not in result.stderr
    assert (tmp_path / "jiafang.db").exists()


#: The README's console tour: a parent joins and agrees to the consent wording (1: 同意), the head
#: teacher writes a notice needing a receipt, 德育处 approves it from the pushed request, the
#: parent confirms from the pushed notice.
NOTICE_TOUR = (
    "/as 20263201",
    "1",
    "/as T02",
    "/notice",
    "1",
    "春游通知",
    "周五去植物园春游，请带午餐。",
    "跳过",
    "1",
    "1",
    "2",
    "1",
    "1",
    "1",
    "/as A01",
    "1",
    "/as 20263201",
    "1",
    "9",
)


def test_the_console_tour_approves_a_notice_and_a_parent_confirms_it(tmp_path: Path) -> None:
    # No quiet hours: at night the pushed messages would (rightly) wait for the morning.
    quiet = {"RULES__QUIET_START": "00:00", "RULES__QUIET_END": "00:00"}
    result = run_bot(tmp_path, "\n".join(NOTICE_TOUR) + "\n", **quiet)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The parent is asked for consent when she joins, and "1" agrees.
    assert "家长知情同意" in out
    assert "（已选：同意）\n谢谢您！已记录您的同意。" in out
    # The approval request is pushed to 德育处 with numbered buttons, and "1" approves it.
    assert "[发给 赵丽华] 【通知待审批】" in out
    assert "  1) 批准   2) 退回" in out
    assert "（已选：批准）\n✓ 您已批准" in out
    # The notice is pushed to the parent, and "1" confirms it.
    assert "  1) 确认收到   2) 有疑问" in out
    assert "（已选：确认收到）" in out
    assert "✓ 已确认收到" in out
    assert "[发给 王芳] 您的通知已由" in out
    # A number no button has says so.
    assert "没有第 9 项。最近一条带按钮的消息可选 1–1。" in out
    assert "Traceback" not in result.stderr
