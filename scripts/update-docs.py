#!/usr/bin/env python3
"""Regenerate the command output shown in README.md and docs/, so the docs show what the tool prints.

A block is a marker comment followed by a fenced block::

    <!-- output: rightsizer report --demo -n shop -->
    ```
    ...replaced by the command's output...
    ```

``--check`` exits 1 (listing the blocks) when a file is out of date, without writing.

A command may read the real-world repositories as ``../shared/...`` (beside the project root, as
the tests find them): the path is resolved to the nearest parent holding ``shared/realworld``, and
written back as ``../shared/`` in the output, so a checkout at any depth prints the same page.
On a machine without them (a fresh clone alone), those blocks are left as they are and listed
as not checked.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(<!-- output: (?P<cmd>.+?) -->\n```[a-z]*\n)(?P<body>.*?)(```)", re.DOTALL)


def _shared() -> str | None:
    """``../shared/`` as a path from ROOT to the nearest parent's ``shared/`` (where the tests find it)."""
    for parent in ROOT.parents:
        if (parent / "shared" / "realworld").is_dir():
            return os.path.relpath(parent / "shared", ROOT) + "/"
    return None


def run(command: str, shared: str) -> str:
    args = shlex.split(command.replace("../shared/", shared))
    assert args[0] == "rightsizer", f"only rightsizer commands are run: {command}"
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run([sys.executable, "-m", "rightsizer", *args[1:]], capture_output=True, text=True,
                            env=env, cwd=ROOT, check=False)
    out = (result.stdout + result.stderr).rstrip().replace(shared, "../shared/")
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


def refresh(text: str, unchecked: list[str]) -> str:
    """``text`` with every block's output made again; a block reading ``../shared/`` on a machine without it is
    kept as it is, its command added to ``unchecked``."""
    shared = _shared()

    def block(m: re.Match[str]) -> str:
        if "../shared/" in m.group("cmd") and shared is None:
            unchecked.append(m.group("cmd"))
            return m.group(0)
        return m.group(1) + run(m.group("cmd"), shared or "../shared/") + m.group(4)

    return BLOCK.sub(block, text)


#: what changes with the calendar, not with the code: a price snapshot's age
VOLATILE = re.compile(r"\(\d+ days old\)")


def same(a: str, b: str) -> bool:
    return VOLATILE.sub("(N days old)", a) == VOLATILE.sub("(N days old)", b)


def main() -> int:
    check = "--check" in sys.argv
    stale, unchecked = [], []
    for path in FILES:
        text = path.read_text()
        if "<!-- output:" not in text:
            continue
        new = refresh(text, unchecked)
        if not same(new, text) or (not check and new != text):
            stale.append(path.relative_to(ROOT))
            if not check:
                path.write_text(new)
    if unchecked:
        print("not checked (../shared/realworld is not beside the project): " + "; ".join(unchecked))
    if stale:
        print(("out of date: " if check else "updated: ") + ", ".join(map(str, stale)))
        if check:
            print("run: python scripts/update-docs.py")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
