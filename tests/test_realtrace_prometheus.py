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
    """No model between the data and the value: every VM's memory limit is the same to the byte, and its CPU
    request within 2% (the p95 of a counter's rates against the p95 of the trace's own means)."""
    config = tmp_path / "rules.yaml"
    config.write_text("policy:\n  memory:\n    margins: rules\n")
    reads = read_both(traces, config=config)
    assert sorted(reads.through_prometheus) == sorted(reads.in_memory) and len(reads.in_memory) == VMS
    assert not any("learned" in x for r in reads.reasons.values() for x in r)
    assert abs(reads.differences("cpu")).max() < 0.02
    assert (reads.differences("memory") == 0).all(), "the same peaks, so the same limits"


def test_the_learned_margins_read_through_prometheus_score_as_in_memory(traces):
    """The model learns from the same days: values close VM by VM, and the same VMs over on the test week."""
    reads = read_both(traces)
    assert len(reads.through_prometheus) == VMS
    assert all(any("memory margin learned from" in x for x in r) for r in reads.reasons.values())
    assert abs(reads.differences("cpu")).max() < 0.02
    assert abs(reads.differences("memory")).max() < 0.10, reads.differences("memory")
    assert reads.over(reads.through_prometheus) == reads.over(reads.in_memory), \
        "the same VMs would be OOM-killed, and the same run above their request, on the test week"
