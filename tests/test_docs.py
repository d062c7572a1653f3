"""The command output shown in README.md and docs/ is what the commands print today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_show_current_output():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "update-docs.py"), "--check"],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_command_has_a_page():
    from rightsizer.cli import app

    names = {command.name or command.callback.__name__ for command in app.registered_commands}
    assert names == {"report", "backtest", "snapshot", "patch", "pr", "cost", "audit"}
    for name in names:
        assert (ROOT / "docs" / "commands" / f"{name}.md").is_file()
