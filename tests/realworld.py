"""Where the real public GitOps repositories are: ``shared/realworld/gitops`` in a parent of the project.

Tests read them in place; on a machine without them those tests are skipped, saying so.
"""

from __future__ import annotations

from pathlib import Path


def _find() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "realworld" / "gitops"
        if candidate.is_dir():
            return candidate
    return None


REALWORLD: Path | None = _find()
