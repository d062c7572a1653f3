#!/usr/bin/env python3
"""Regenerate fixtures/demo-cluster.parquet, the bundled demo, from the synthetic generator.

The seed and end time are fixed so the file only changes when the generator does.
"""

from __future__ import annotations

from pathlib import Path

from rightsizer.sources.snapshot import save_snapshot
from rightsizer.testing.synthetic import SyntheticCluster

DEMO_END = 1_793_491_200  # 2026-11-01T00:00:00Z
DEMO = {"containers": 30, "days": 14, "seed": 42, "end": DEMO_END}

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "fixtures" / "demo-cluster.parquet"
    history = SyntheticCluster.generate(**DEMO).history(step=300)
    history.source = "demo cluster (synthetic, seed 42)"
    save_snapshot(history, target)
    print(f"wrote {target} ({len(history)} containers, {history.describe_window()})")
