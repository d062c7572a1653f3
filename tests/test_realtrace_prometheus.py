"""Real VM traces read the way a user's report reads them: backfilled into a real Prometheus as cAdvisor and
kube-state-metrics series, then ``rightsizer report`` over the training days.

What the report gets must be what the in-memory replay of ``make bench-accuracy`` scores, or its figures are not
the product's: the scrape interval measured at 300 s, CPU from a counter's rate, memory from each step's peak.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from realworld import TRACES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from realtrace_prometheus import read_both  # bench/ is not a package: found through sys.path

pytestmark = pytest.mark.skipif(TRACES is None, reason="the real VM traces (shared/realworld/traces) are not "
                                                       "next to this checkout")
#: enough VMs to learn margins from (20 are needed), few enough for a test
VMS = 30


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert TRACES is not None
    subset = tmp_path_factory.mktemp("traces")
    for file in sorted(TRACES.glob("*.csv.gz"))[:VMS]:
        (subset / file.name).symlink_to(file)
    return subset


def test_the_rules_read_through_prometheus_are_the_in_memory_ones(traces, tmp_path):
    """No model between the data and the value: every VM's CPU request and memory limit are the same."""
    config = tmp_path / "rules.yaml"
    config.write_text("policy:\n  memory:\n    margins: rules\n")
    reads = read_both(traces, config=config)
    assert sorted(reads.live) == sorted(reads.in_memory) and len(reads.live) == VMS
    assert abs(reads.moves(0)).max() < 0.02, "CPU: the p95 of rates at the scrape interval, from a counter"
    assert abs(reads.moves(1)).max() < 0.005, "memory: the same peaks, so the same limits"


def test_the_learned_margins_read_through_prometheus_score_as_in_memory(traces):
    """The model sees the same days within a step at the window's edge: values close VM by VM, the same score."""
    reads = read_both(traces)
    assert len(reads.live) == VMS
    assert abs(reads.moves(0)).max() < 0.02
    assert abs(reads.moves(1)).max() < 0.10, reads.moves(1)
    assert reads.row("", reads.live).split("|")[3:5] == reads.row("", reads.in_memory).split("|")[3:5], \
        "the same would-OOM VMs and VMs over their request on the test week"
