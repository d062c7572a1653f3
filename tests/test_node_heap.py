"""The Node.js heap flag: always fits the limit written, and lands where node reads it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsizer.config import NodePolicy
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, Resources, Samples
from rightsizer.recommend import recommend
from rightsizer.recommend.node_heap import place_heap_flag, size_heap
from rightsizer.units import MiB


@settings(max_examples=300, deadline=None)
@given(limit=st.floats(32, 64 * 1024), used=st.floats(0, 16 * 1024), total_over=st.floats(0, 1024),
       outside=st.floats(0, 4 * 1024), share=st.floats(0.3, 1.0), young=st.floats(0, 256),
       metrics=st.booleans())
def test_heap_plus_nonheap_plus_young_generation_fit_the_limit(limit, used, total_over, outside, share, young,
                                                               metrics):
    policy = NodePolicy(heap_share=share, young_generation=young * MiB)
    n = 50 if metrics else 0
    heap_used = np.full(n, used * MiB)
    heap_total = heap_used + total_over * MiB
    rss = heap_total + outside * MiB
    advice = size_heap(limit * MiB, heap_used, heap_total, rss, policy)
    assert advice.memory_limit >= limit * MiB
    assert advice.max_old_space_mib * MiB + advice.nonheap + policy.young_generation <= advice.memory_limit
    if metrics:
        assert advice.max_old_space_mib * MiB >= used * MiB, "the heap used fits under the flag"


def _node_history(memory: float, heap: float, requests: Resources, limits: Resources) -> ClusterHistory:
    key = ContainerKey("ns", "Deployment", "api", "app")
    n = 2016
    samples = Samples.from_rows(np.zeros(n), np.arange(n), {
        "cpu": np.full(n, 0.2), "memory": np.full(n, memory), "heap_used": np.full(n, heap),
        "heap_total": np.full(n, heap * 1.1), "rss": np.full(n, heap * 1.1 + 60 * MiB)})
    ch = ContainerHistory(key, ["api-1"], samples, requests, limits, image="node:22", nodejs_version="22.4.0")
    return ClusterHistory(1_790_000_000.0, 300.0, n, {key: ch})


def test_the_flag_fits_a_memory_limit_kept_by_the_churn_rule():
    # 420Mi of working set + 10% = 462Mi: within 10% of the 450Mi in force, which is kept; a flag sized for
    # 462Mi (346Mi) would leave 104Mi for 108Mi outside the heap
    history = _node_history(420 * MiB, 200 * MiB, Resources(0.2, 450 * MiB), Resources(None, 450 * MiB))
    rec = recommend(history).items[0]
    assert rec.limits.memory == 450 * MiB, "kept"
    heap = rec.nodejs.max_old_space_size_mib * MiB
    assert heap + 60 * MiB + 48 * MiB <= rec.limits.memory
    share = heap / rec.limits.memory
    assert any(f"({share:.0%} of the 450Mi limit" in r for r in rec.reasons), rec.reasons


def test_every_recommendation_leaves_room_for_what_lives_outside_the_heap():
    for memory, heap, current in ((300, 250, 280), (2000, 900, 1900), (800, 100, None), (128, 100, 130)):
        cur = Resources(0.2, current * MiB if current else None)
        rec = recommend(_node_history(memory * MiB, heap * MiB, cur, cur)).items[0]
        ch = _node_history(memory * MiB, heap * MiB, cur, cur).containers
        outside = next(iter(ch.values())).samples["rss"][0] - next(iter(ch.values())).samples["heap_total"][0]
        assert rec.nodejs.max_old_space_size_mib * MiB + outside + 48 * MiB <= rec.limits.memory, (memory, heap)
        assert rec.nodejs.max_old_space_size_mib * MiB >= heap * MiB


def test_a_flag_in_args_is_edited_there():
    placed = place_heap_flag(700, "--require ./tracing.js", None, ["--max-old-space-size=256", "server.js"])
    assert placed.where == "args" and placed.args == ["--max-old-space-size=700", "server.js"]
    assert placed.node_options is None, "NODE_OPTIONS without the flag is left as it is"


def test_a_flag_in_a_shell_line_is_edited_inside_it():
    placed = place_heap_flag(700, None, ["sh", "-c", "exec node --max-old-space-size 256 server.js"], None)
    assert placed.where == "command"
    assert placed.command == ["sh", "-c", "exec node --max-old-space-size=700 server.js"]


def test_a_flag_in_both_places_agrees():
    placed = place_heap_flag(700, "--max-old-space-size=256 --require ./tracing.js",
                             ["node", "--max-old-space-size", "256", "app.js"], None)
    assert placed.command == ["node", "--max-old-space-size=700", "app.js"]
    assert placed.node_options == "--require ./tracing.js --max-old-space-size=700"


def test_without_a_flag_on_the_command_line_node_options_are_merged():
    placed = place_heap_flag(700, "--require ./tracing.js --max-old-space-size-percentage=50", ["server.js"], None)
    assert placed.where == "NODE_OPTIONS" and placed.command is None and placed.args is None
    assert placed.node_options == "--require ./tracing.js --max-old-space-size=700"


def test_a_recommendation_placed_in_a_manifest_carries_the_merged_value():
    rec = recommend(_node_history(420 * MiB, 200 * MiB, Resources(), Resources())).items[0]
    mib = rec.nodejs.max_old_space_size_mib
    assert rec.to_dict()["nodejs"]["flag_in"] == "NODE_OPTIONS"
    options, placement = rec.nodejs.placed("--require ./tracing.js")
    assert options.node_options == f"--require ./tracing.js --max-old-space-size={mib}" == placement.node_options
    options, placement = rec.nodejs.placed("--require ./tracing.js", None, ["--max-old-space-size=64", "app.js"])
    assert options.flag_in == "args" and options.node_options == "--require ./tracing.js"
    assert placement.args == [f"--max-old-space-size={mib}", "app.js"]
