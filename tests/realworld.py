"""Where the real public GitOps repositories and VM traces are: ``shared/realworld/`` in a parent of the project.

Tests read them in place; on a machine without them those tests are skipped, saying so.
"""

from __future__ import annotations

from pathlib import Path


def _find(part: str) -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "realworld" / part
        if candidate.is_dir():
            return candidate
    return None


REALWORLD: Path | None = _find("gitops")
TRACES: Path | None = _find("traces/bitbrains-rnd-2013-8")
