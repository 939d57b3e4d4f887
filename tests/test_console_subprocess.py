"""`python -m bot run` on a fresh machine: no configuration, piped input, exits at EOF."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_piped_run_seeds_the_demo_answers_help_and_exits_at_eof(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TELEGRAM_") and key != "DATABASE_URL"
    }
    env["PYTHONPATH"] = str(ROOT)
    # The default database: `jiafang.db` in the working directory, created from nothing.
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="/help\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "已创建一所示范学校" in result.stdout
    assert "王芳老师，您好！" in result.stdout
    assert "/cancel — 放弃当前操作" in result.stdout
    assert result.stdout.rstrip().endswith("再见！")
    assert "Traceback" not in result.stderr
    assert (tmp_path / "jiafang.db").exists()
