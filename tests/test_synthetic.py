"""The generator: deterministic, consistent with itself, and realistic where the source depends on it."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.testing.synthetic.simulate import throttle

END = 1_790_000_000


@pytest.fixture(scope="module")
def cluster() -> SyntheticCluster:
    return SyntheticCluster.generate(days=3, end=END, seed=3)


def test_same_seed_same_data_and_other_seed_other_data(cluster):
    again = SyntheticCluster.generate(days=3, end=END, seed=3).history()
    other = SyntheticCluster.generate(days=3, end=END, seed=4).history()
    first = cluster.history()
    key = next(iter(sorted(first.containers)))
    assert np.array_equal(first[key].samples["cpu"], again[key].samples["cpu"], equal_nan=True)
    assert not np.array_equal(first[key].samples["cpu"], other[key].samples["cpu"], equal_nan=True)


def test_every_workload_kind_and_behaviour_is_present(cluster):
    history = cluster.history()
    kinds = {k.kind for k in history.containers}
    assert kinds == {"Deployment", "StatefulSet", "DaemonSet", "CronJob"}
    truth = cluster.truth()
    assert any(t.oom_kills > 0 for t in truth.values()), "a leaking container is OOMKilled"
    assert any(t.max_throttled_ratio > 0.25 for t in truth.values()), "a CPU-limited container is throttled"
    assert any(ch.is_nodejs for ch in history), "Node.js containers export heap metrics"
    assert any(w.hpa is not None for w in history.workloads.values())
    assert {n.capacity_type for n in history.nodes.values()} == {"spot", "on-demand"}
    sidecars = [k for k in history.containers if k.container == "envoy"]
    assert sidecars


def test_rollouts_and_hpa_churn_pods(cluster):
    history = cluster.history()
    storefront = next(ch for ch in history if ch.key.workload == "storefront" and ch.key.container == "app")
    replicasets = {pod.rsplit("-", 1)[0] for pod in storefront.pods}
    assert len(replicasets) >= 2, "rollouts create new ReplicaSets"
    replicas = storefront.per_step("cpu", history.n_steps, "count")
    assert replicas.min() >= 2 and replicas.max() > replicas.min(), "the HPA scales between its bounds"


def test_throttling_model_is_consistent():
    demand = np.array([0.1, 0.4, 0.5, 1.0, 3.0])
    usage, ratio = throttle(demand, 0.5)
    assert np.all(usage <= 0.5 + 1e-12) and np.all(usage <= demand + 1e-12)
    assert np.all(np.diff(ratio) > 0), "more demand, more throttled periods"
    assert ratio[0] < 0.01 and ratio[-1] > 0.99
    assert usage[0] == pytest.approx(0.1, rel=0.01), "far below the limit nothing is capped"


def test_truth_knows_the_censored_demand(cluster):
    checkout = next(t for k, t in cluster.truth().items() if k.workload == "checkout")
    assert checkout.cpu_quantile(0.95) > checkout.cpu_quantile(0.95, observed=True) * 1.2
    assert checkout.cpu_usage.max() <= 0.5 + 1e-9, "usage never exceeds the 500m limit"
    cart = next(t for k, t in cluster.truth().items() if k.workload == "cart")
    assert cart.memory_demand_peak > 512 * 2**20 >= cart.working_set_peak, "the OOM killer cut the peak"


def test_history_matches_truth_for_memory_peaks(cluster):
    history = cluster.history()
    for key, truth in cluster.truth().items():
        # the first step of the grid starts one step after the simulation: peaks there may be outside
        seen = float(np.nanmax(history[key].samples["memory"]))
        assert seen <= truth.working_set_peak * (1 + 1e-6)
        assert seen >= truth.working_set_peak * 0.97, key


def test_nodejs_memory_is_consistent(cluster):
    for ch in cluster.history():
        if not ch.samples.has("heap_used"):
            continue
        s = ch.samples
        assert np.all(s["heap_used"] <= s["heap_total"] * (1 + 1e-6))
        assert np.all(s["rss"] < s["memory"])


def test_variations_grow_the_cluster_to_the_size_asked():
    big = SyntheticCluster.generate(containers=120, days=1, end=END, seed=9)
    assert big.spec.n_containers == 120
    namespaces = {w.namespace for w in big.spec.workloads}
    assert any(ns.startswith("team-") for ns in namespaces)
    with pytest.raises(ValueError, match="at least"):
        SyntheticCluster.generate(containers=3, days=1, end=END)


def test_openmetrics_is_what_promtool_expects(tmp_path):
    small = SyntheticCluster.generate(days=0.1, end=END, seed=5)
    path = tmp_path / "cluster.om"
    samples = small.write_openmetrics(path)
    text = path.read_text()
    assert text.endswith("# EOF\n") and not text.endswith("\n\n")
    lines = text.splitlines()
    assert sum(1 for line in lines if not line.startswith("#")) == samples
    families = [line.split()[2] for line in lines if line.startswith("# TYPE")]
    assert len(families) == len(set(families)), "each family is written once, contiguously"
    for name in ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "kube_pod_owner",
                 "kube_replicaset_owner", "kube_job_owner", "kube_pod_container_resource_requests",
                 "nodejs_heap_size_used_bytes",
                 "kube_horizontalpodautoscaler_spec_target_metric", "kube_node_labels"):
        assert re.search(rf"^{name}{{", text, re.MULTILINE), name
    assert 'container=""' in text and 'container="POD"' in text, "the series a source must ignore are there"
    by_series: dict[str, list[int]] = {}
    for line in lines:
        if not line.startswith("#"):
            series, _value, stamp = line.rsplit(" ", 2)
            by_series.setdefault(series, []).append(int(stamp))
    for stamps in by_series.values():
        assert all(1e9 < t < 2e9 for t in stamps), "timestamps are in seconds"
        assert stamps == sorted(set(stamps)), "each series in time order, no duplicates"


def test_time_slices_together_are_the_whole_text(tmp_path):
    """A large cluster is backfilled slice by slice: the slices must hold every sample exactly once."""
    small = SyntheticCluster.generate(days=1, end=END, seed=5)
    slices = small.time_slices(6 * 3600)
    assert slices[0][0] == 0 and slices[-1][1] == small.spec.n_scrapes
    assert all(a < b == c for (a, b), (c, _) in itertools.pairwise(slices))
    whole = small.write_openmetrics(tmp_path / "whole.om")
    parts = [small.write_openmetrics(tmp_path / f"part{i}.om", scrapes=s) for i, s in enumerate(slices)]
    assert sum(parts) == whole

    def samples(*paths):
        return sorted(line for p in paths for line in p.read_text().splitlines() if not line.startswith("#"))

    assert samples(*(tmp_path / f"part{i}.om" for i in range(len(slices)))) == samples(tmp_path / "whole.om")
    for i, (first, stop) in enumerate(slices):  # each part is one window: promtool makes one block of it
        stamps = {int(line.rsplit(" ", 1)[1]) for line in samples(tmp_path / f"part{i}.om")}
        assert min(stamps) // (6 * 3600) == max(stamps) // (6 * 3600)
        assert (tmp_path / f"part{i}.om").read_text().endswith("# EOF\n")


@pytest.mark.prometheus
def test_a_cluster_built_on_a_smaller_ones_blocks_is_the_same_data(tmp_path):
    """The benchmark builds its largest cluster on the next one's blocks: the result must equal a direct build."""
    import json
    import urllib.parse
    import urllib.request

    from rightsizer.testing.testbed import PrometheusServer, build_tsdb

    small = SyntheticCluster.generate(containers=35, days=0.5, end=END, seed=3)
    large = SyntheticCluster.generate(containers=50, days=0.5, end=END, seed=3)
    merged = build_tsdb(large, tmp_path / "merged", extends=small)
    direct = build_tsdb(large, tmp_path / "direct")
    blocks = [p for p in merged.iterdir() if p.is_dir()]
    assert len(blocks) == 1, "Prometheus merged the overlapping blocks before the data is used"
    families = ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "kube_pod_owner",
                "kube_node_labels", "kube_pod_container_resource_requests", "nodejs_heap_size_used_bytes")
    queries = [f"{how}({what}_over_time({family}[1d]))" for family in families
               for how, what in (("count", "count"), ("sum", "count"), ("sum", "sum"))]

    def answer(data):
        out = []
        with PrometheusServer(data) as server:
            for query in queries:
                form = urllib.parse.urlencode({"query": query, "time": str(END)}).encode()
                with urllib.request.urlopen(f"{server.url}/api/v1/query", form, timeout=60) as response:
                    out.append(json.loads(response.read())["data"]["result"][0]["value"][1])
        return out

    assert answer(merged) == answer(direct)
