"""The Prometheus source against a real Prometheus holding the synthetic test cluster."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import numpy as np
import pytest

from rightsizer.errors import MissingMetricsError, NoDataError, PrometheusUnreachable, RightsizerError
from rightsizer.history import ContainerKey, Resources
from rightsizer.recommend import find, recommend
from rightsizer.scope import Scope
from rightsizer.sources.client import PrometheusClient, PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions, load_prometheus_history
from rightsizer.sources.snapshot import load_snapshot, save_snapshot
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.testing.testbed import PrometheusServer, build_tsdb, free_port

pytestmark = pytest.mark.prometheus

#: Stated tolerances for recovering the generator's ground truth through Prometheus.
CPU_P95_TOLERANCE = 0.05  # long-running pods: rates over 5-minute steps vs per-scrape usage
CPU_P95_TOLERANCE_SAMPLED = 0.06  # one scrape interval in five, two days: the p95 of a sample of the intervals
CPU_P95_TOLERANCE_SHORT_PODS = 0.15  # CronJob pods of minutes: Prometheus extrapolates rates at pod edges
CPU_P95_TOLERANCE_INIT = 0.30  # 6-minute init runs straddle two steps: both rates are extrapolated at an edge
MEMORY_PEAK_TOLERANCE = 1e-6  # max_over_time keeps every peak; float32 storage only


def test_discovers_every_workload_container(fetched, test_cluster):
    truth = test_cluster.truth()
    assert set(fetched.containers) == set(truth)
    assert {k.kind for k in fetched.containers} == {"Deployment", "StatefulSet", "DaemonSet", "CronJob"}


def test_owner_chains_are_resolved(fetched):
    storefront = fetched[ContainerKey("shop", "Deployment", "storefront", "app")]
    assert len({p.rsplit("-", 2)[0] for p in storefront.pods}) == 1, "pods of several ReplicaSets, one Deployment"
    assert len({p.rsplit("-", 1)[0] for p in storefront.pods}) >= 2, "rollouts gave new ReplicaSets"
    builder = fetched[ContainerKey("batch", "CronJob", "report-builder", "builder")]
    assert len(builder.pods) > 20, "every hourly Job's pod pooled into the CronJob"
    ledger = fetched[ContainerKey("payments", "StatefulSet", "ledger-db", "postgres")]
    assert ledger.pods == ["ledger-db-0", "ledger-db-1"]


def test_ignored_series_are_ignored(fetched, test_cluster):
    assert all(k.container not in ("", "POD") for k in fetched.containers)
    direct = test_cluster.history()
    for key, ch in fetched.containers.items():
        assert sorted(ch.pods) == sorted(direct[key].pods), "duplicate cAdvisor series add no pods"
        per_pod_step = ch.samples.pod.astype(np.int64) * 100_000 + ch.samples.step
        assert len(np.unique(per_pod_step)) == len(per_pod_step), "one sample per pod and step"


def test_ground_truth_is_recovered(fetched, test_cluster):
    for key, truth in test_cluster.truth().items():
        ch = fetched[key]
        cpu = ch.samples["cpu"][np.isfinite(ch.samples["cpu"])]
        expected = truth.cpu_quantile(0.95, observed=True)
        tolerance = CPU_P95_TOLERANCE
        if key.kind == "CronJob":
            tolerance = CPU_P95_TOLERANCE_SHORT_PODS
        elif ch.init:
            tolerance = CPU_P95_TOLERANCE_INIT
        assert np.quantile(cpu, 0.95) == pytest.approx(expected, rel=tolerance), key
        peak = float(np.nanmax(ch.samples["memory"]))
        assert peak == pytest.approx(truth.working_set_peak, rel=MEMORY_PEAK_TOLERANCE), key
        assert len(ch.oom_kills) == truth.oom_kills, key
        assert all(e.reason == "OOMKilled" for e in ch.events)


def test_settings_images_and_nodejs_come_from_the_cluster(fetched, test_cluster):
    specs = {(w.namespace, w.name, c.name): c for w in test_cluster.spec.workloads for c in w.containers}
    for key, ch in fetched.containers.items():
        spec = specs[(key.namespace, key.workload, key.container)]
        assert ch.init == (spec.init_minutes is not None), key
        assert ch.requests == Resources(spec.cpu_request, spec.memory_request), key
        assert ch.limits == Resources(spec.cpu_limit, spec.memory_limit), key
        assert ch.image == spec.image
        assert ch.samples.has("throttled") == (spec.cpu_limit is not None), key
        assert (ch.nodejs_version is not None) == (spec.nodejs is not None), key
        assert ch.samples.has("heap_used") == (spec.nodejs is not None), key
        if spec.nodejs is not None:
            assert ch.nodejs_version == f"v{spec.nodejs.version}"
            assert np.nanmax(ch.samples["heap_used"]) < np.nanmax(ch.samples["memory"])


def test_throttling_is_measured(fetched, test_cluster):
    checkout = fetched[ContainerKey("shop", "Deployment", "checkout", "app")]
    truth = test_cluster.truth()[checkout.key]
    assert float(np.nanmax(checkout.samples["throttled"])) == pytest.approx(truth.max_throttled_ratio, abs=0.05)


def test_hpas_and_nodes(fetched):
    hpa = fetched.workloads[ContainerKey("shop", "Deployment", "storefront", "app").workload_key].hpa
    assert hpa is not None and (hpa.min_replicas, hpa.max_replicas) == (2, 8)
    assert hpa.utilization_targets == {"cpu": 70.0}
    node = fetched.nodes["ip-10-0-2-22.ec2.internal"]
    assert (node.instance_type, node.capacity_type) == ("m6i.2xlarge", "spot"), "EKS' SPOT label normalised"
    assert fetched.nodes["ip-10-0-1-11.ec2.internal"].capacity_type == "on-demand"
    assert all(node in fetched.nodes for node in fetched.pod_nodes.values())


def test_prometheus_agrees_with_the_generators_own_history(fetched, test_cluster):
    direct = test_cluster.history()
    for key, ch in fetched.containers.items():
        if key.kind == "CronJob" or ch.init:
            continue
        ours, theirs = ch.samples["cpu"], direct[key].samples["cpu"]
        assert np.nanmean(ours) == pytest.approx(np.nanmean(theirs), rel=0.02), key


def test_cpu_is_read_at_the_scrape_interval_it_measures(fetched, test_cluster):
    """The rate of each step's last scrape interval is the generator's own, step for step, and its p95 is
    the p95 of the per-scrape usage (which the step's mean understates)."""
    assert fetched.scrape_interval == test_cluster.spec.scrape_interval
    direct = test_cluster.history()
    truth = test_cluster.truth()
    below_by_mean = 0
    for key, ch in fetched.containers.items():
        if key.kind == "CronJob" or ch.init:
            continue
        theirs = direct[key]
        shift = round((fetched.start - direct.start) / fetched.step)  # the two grids may start a step apart
        ours = {(ch.pods[p], s + shift): v for p, s, v in
                zip(ch.samples.pod, ch.samples.step, ch.samples["cpu_scrape"], strict=True) if np.isfinite(v)}
        same = [(v, ours[(theirs.pods[p], s)]) for p, s, v in
                zip(theirs.samples.pod, theirs.samples.step, theirs.samples["cpu_scrape"], strict=True)
                if (theirs.pods[p], s) in ours and np.isfinite(v)]
        assert len(same) >= 0.95 * len(ours), key
        expected, got = np.array(same).T
        assert np.median(np.abs(got - expected) / np.maximum(expected, 1e-3)) < 1e-3, key
        p95 = truth[key].cpu_quantile(0.95, observed=True)
        sampled = np.quantile(ch.cpu_at_scrape[np.isfinite(ch.cpu_at_scrape)], 0.95)
        assert sampled == pytest.approx(p95, rel=CPU_P95_TOLERANCE_SAMPLED), key
        below_by_mean += np.nanquantile(ch.samples["cpu"], 0.95) < p95 * 0.99
    assert below_by_mean > 0, "some container's 5-minute means understate its per-scrape p95"


def test_report_from_prometheus_equals_report_from_its_snapshot(fetched, tmp_path):
    path = tmp_path / "cluster.parquet"
    save_snapshot(fetched, path)
    live = [r.to_dict() for r in recommend(fetched)]
    offline = [r.to_dict() for r in recommend(load_snapshot(path))]
    assert live == offline
    assert len(live) == len(fetched)


def test_namespace_workload_and_selector_filters(prometheus):
    def keys(scope: Scope) -> set[ContainerKey]:
        return set(load_prometheus_history(prometheus.settings(), prometheus.options, scope).containers)

    assert {k.namespace for k in keys(Scope(namespace="shop|batch"))} == {"shop", "batch"}
    assert {k.workload for k in keys(Scope(workload="check.*"))} == {"checkout"}
    assert {k.kind for k in keys(Scope(workload="CronJob/.*"))} == {"CronJob"}
    assert {k.workload for k in keys(Scope(selector="app in (cart, catalog)"))} == {"cart", "catalog"}
    assert {k.namespace for k in keys(Scope(selector="app.kubernetes.io/part-of=payments"))} == {"payments"}
    with pytest.raises(NoDataError, match="namespaces with workloads: batch, payments, platform, shop"):
        keys(Scope(namespace="nope"))
    with pytest.raises(NoDataError, match="allowlist"):
        keys(Scope(selector="app=nope"))
    with pytest.raises(NoDataError, match="no workload matches"):
        keys(Scope(namespace="shop", workload="ledger-db"))


def test_long_ranges_are_split_under_the_points_limit(prometheus):
    fine = FetchOptions(window=prometheus.options.window, step=10, end=prometheus.end)
    client = PrometheusClient(prometheus.settings())
    grid = fine.grid()
    assert grid.n_steps > 11_000
    rows = client.range('kube_pod_container_info{namespace="payments", container="postgres"}',
                        grid.start, grid.end, 10)
    assert client.queries >= 2, "one query would be refused by Prometheus"
    for row in rows:
        stamps = row.times.tolist()
        assert stamps == sorted(set(stamps)), "chunks are joined without gaps or overlaps"
        assert len(stamps) > 11_000


def test_unreachable_prometheus_is_a_clear_error():
    settings = PrometheusSettings(f"http://127.0.0.1:{free_port()}", retries=1, backoff=0.01, timeout=2)
    with pytest.raises(PrometheusUnreachable, match="cannot connect to Prometheus at http://127.0.0.1:.*refused"):
        load_prometheus_history(settings)


def test_wrong_path_is_a_clear_error(prometheus):
    with pytest.raises(PrometheusUnreachable, match="HTTP 404"):
        load_prometheus_history(PrometheusSettings(prometheus.url + "/not-prometheus"), prometheus.options)


def test_a_window_without_kube_state_metrics_names_the_exporter(prometheus):
    long_ago = FetchOptions(window=86_400, end=prometheus.end - 30 * 86_400)
    with pytest.raises(MissingMetricsError, match="kube-state-metrics"):
        load_prometheus_history(prometheus.settings(), long_ago)


def test_bad_settings_are_refused():
    with pytest.raises(RightsizerError, match="invalid Prometheus URL"):
        PrometheusSettings("prometheus:9090")
    with pytest.raises(RightsizerError, match="does not exist"):
        PrometheusSettings("http://127.0.0.1:9", ca_file="/nonexistent/ca.pem")  # type: ignore[arg-type]


def test_credentials_never_appear_in_repr_or_errors():
    port = free_port()
    token = PrometheusSettings(f"http://127.0.0.1:{port}", bearer_token="s3cr3t-token", retries=0, timeout=1)
    settings = PrometheusSettings(f"http://user:hunter2@127.0.0.1:{port}", retries=0, timeout=1)
    assert "s3cr3t" not in repr(token) and "hunter2" not in repr(settings)
    with pytest.raises(PrometheusUnreachable) as err:
        load_prometheus_history(settings)
    assert "hunter2" not in str(err.value) and f"http://127.0.0.1:{port}" in str(err.value)


def test_a_prometheus_without_cadvisor_names_the_exporter(tmp_path):
    cluster = SyntheticCluster.generate(days=0.25, end=1_790_000_000, seed=2)
    cadvisor = frozenset({"container_cpu_usage_seconds", "container_memory_working_set_bytes",
                          "container_cpu_cfs_periods", "container_cpu_cfs_throttled_periods"})
    with PrometheusServer(build_tsdb(cluster, tmp_path, exclude=cadvisor)) as server:
        options = FetchOptions(window=0.2 * 86_400, end=cluster.spec.end)
        with pytest.raises(MissingMetricsError, match=r"container_cpu_usage_seconds_total.*cAdvisor"):
            load_prometheus_history(PrometheusSettings(server.url), options)


@pytest.mark.parametrize("strategy", ["rightsizer", "max-plus-15", "vpa-like"])
def test_what_a_strategy_needs_recommends_exactly_what_the_full_fetch_does(prometheus, fetched, strategy):
    """Hourly working-set, heap and RSS peaks and only the throttled steps give the same recommendations, for
    less data."""
    from dataclasses import replace

    full = load_prometheus_history(prometheus.settings(), prometheus.options)
    summary = load_prometheus_history(prometheus.settings(), replace(prometheus.options, needs=find(strategy).needs))
    assert set(summary.containers) == set(full.containers)
    def points(history, series):
        return sum(int(np.isfinite(ch.samples[series]).sum()) for ch in history)

    assert points(summary, "memory") < 0.15 * points(full, "memory"), "working-set peaks come per hour"
    for gauge in ("heap_used", "heap_total", "rss"):
        assert 0 < points(summary, gauge) < 0.15 * points(full, gauge), f"{gauge} peaks come per hour"
    assert points(summary, "throttled") < points(full, "throttled"), "unthrottled steps stay on the server"
    assert points(summary, "cpu_scrape") == points(full, "cpu_scrape")
    assert points(summary, "cpu") == 0, "the step's mean rate, which no rule reads, stays on the server"
    ours = {r.key: r for r in recommend(summary, strategy=strategy)}
    for rec in recommend(full, strategy=strategy):
        got = ours[rec.key]
        assert (got.requests, got.limits, got.nodejs, got.risk) == (rec.requests, rec.limits, rec.nodejs, rec.risk), \
            rec.key


def test_settings_of_workloads_not_seen_lately_come_from_the_whole_window(prometheus):
    """A fetch for the default strategy reads settings over the last day, then over the window for what it did
    not see."""
    from dataclasses import replace

    day = 86_400
    later = FetchOptions(window=prometheus.options.window + 1.5 * day, step=300, end=prometheus.end + 1.5 * day)
    client = PrometheusClient(prometheus.settings(), record=True)
    summary = load_prometheus_history(prometheus.settings(), replace(later, needs=find("rightsizer").needs),
                                      client=client)
    full = load_prometheus_history(prometheus.settings(), later)
    assert any("pod=~" in form["query"] for path, form in client.sent or [] if path.endswith("/query")), \
        "nothing ran in the last day: every workload's settings came from the whole window"
    assert set(summary.containers) == set(full.containers)

    def settings(ch):
        return ch.requests, ch.limits, ch.image, ch.init, ch.nodejs_version

    for key, ch in full.containers.items():
        assert settings(summary.containers[key]) == settings(ch), key
    assert sum(ch.requests.memory is not None for ch in full) >= 0.9 * len(full)


def test_short_lived_pods_count_for_the_time_they_ran_in_a_batch(prometheus, fetched):
    """A CronJob's pods of a few minutes hold few points: counted whole they would cut their namespace into
    pod lists that Prometheus parses again in every query."""
    pods = Counter(ns for ns, _ in {(k.namespace, p) for k, ch in fetched.containers.items() for p in ch.pods})
    worth = prometheus.namespace_worth()
    assert worth["batch"] < pods["batch"] / 4, "the batch namespace is mostly short-lived pods"
    limit = math.ceil(worth["batch"])
    client = PrometheusClient(prometheus.settings(), record=True)
    options = dataclasses.replace(prometheus.options, batch_pods=limit)
    history = load_prometheus_history(prometheus.settings(), options, Scope(namespace="batch|shop"), client=client)
    usage = [form["query"] for path, form in client.sent or [] if path.endswith("query_range")]
    on_batch = [query for query in usage if 'namespace="batch"' in query]
    assert on_batch and all("pod=~" not in query for query in on_batch), "read whole, by its namespace"
    assert any("pod=~" in query for query in usage if 'namespace="shop"' in query), "a larger one is still cut"
    assert {k.namespace for k in history.containers} == {"batch", "shop"}


def test_owner_families_are_read_from_the_series_index(prometheus, fetched):
    """kube_replicaset_owner and kube_job_owner say everything in their labels: the series endpoint reads
    the index only, where a query over the window would read every sample."""
    client = PrometheusClient(prometheus.settings(), record=True)
    history = load_prometheus_history(prometheus.settings(), prometheus.options, client=client)
    matched = [form["match[]"] for path, form in client.sent or [] if path == "/api/v1/series"]
    assert {m.split("{")[0] for m in matched} == {"kube_replicaset_owner", "kube_job_owner"}
    queried = [form["query"] for path, form in client.sent or [] if path == "/api/v1/query"]
    assert not any("_owner{" in query and "kube_pod_owner" not in query for query in queried)
    assert set(history.containers) == set(fetched.containers)


def test_ad_hoc_queries_come_back_as_data_frames(prometheus, fetched):
    """The notebook's exploration helper gives the very rates the source read, a row per series and time."""
    from rightsizer.sources import queries as q
    from rightsizer.sources.explore import query_range_frame

    key = ContainerKey("payments", "StatefulSet", "ledger-db", "postgres")
    ch = fetched[key]
    options = prometheus.options
    query = q.cpu_usage(q.Matchers(("payments",), ("ledger-db-0",)), options.rate_window).replace(
        "{", '{container="postgres", ', 1)
    end = fetched.end
    frame = query_range_frame(prometheus.settings(), query, end - 3600, end, options.step)
    assert set(frame["pod"]) == {"ledger-db-0"} and set(frame["container"]) == {"postgres"}
    assert len(frame) == 13, "an hour at 5-minute steps, both ends included"
    pod = ch.pods.index("ledger-db-0")
    last = (ch.samples.pod == pod) & (ch.samples.step == fetched.n_steps - 1)
    assert frame.index[-1].timestamp() == end
    assert frame["value"].iloc[-1] == pytest.approx(float(ch.samples["cpu"][last][0]), rel=1e-6)
    empty = query_range_frame(prometheus.settings(), 'up{job="no-such-job"}', end - 3600, end, options.step)
    assert empty.empty and list(empty.columns) == ["value"]
    with pytest.raises(RightsizerError, match="bad_data"):
        query_range_frame(prometheus.settings(), "rate(", end - 3600, end, options.step)


def test_a_window_asked_for_in_chunks_reads_as_one_answer(prometheus, fetched, monkeypatch):
    """Long windows are asked for in chunks of days; usage pieces are placed by the assembly as they come,
    restart counters are joined first (a counter cut at a chunk boundary would count its restarts again)."""
    from rightsizer.sources import client as client_module

    monkeypatch.setattr(client_module, "_CHUNK_SECONDS", 0.3 * 86_400)
    recording = PrometheusClient(prometheus.settings(), record=True)
    chunked = load_prometheus_history(prometheus.settings(), prometheus.options, client=recording)
    assert sum(1 for path, form in recording.sent or [] if "working_set" in form.get("query", "")) >= 6
    assert set(chunked.containers) == set(fetched.containers)
    restarted = 0
    for key, ch in fetched.containers.items():
        theirs = chunked[key]
        assert theirs.events == ch.events, key
        restarted += bool(ch.events)
        for name in ("cpu", "cpu_scrape", "memory", "heap_used", "throttled"):
            np.testing.assert_array_equal(theirs.samples[name], ch.samples[name], err_msg=f"{key} {name}")
    assert restarted, "the cluster's restarts are compared"
