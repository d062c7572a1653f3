"""Faults between rightsizer and a real Prometheus: each one ends in the right result, a marked partial
result, or one clear error, and never in a wrong recommendation."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import threading

import pytest

from faults.proxy import FaultProxy, always, first, for_namespace
from rightsizer.errors import PrometheusQueryError, PrometheusUnreachable
from rightsizer.recommend import recommend
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.prometheus import load_prometheus_history
from rightsizer.testing.testbed import PrometheusServer, build_tsdb

pytestmark = pytest.mark.prometheus


def settings(url: str, **kwargs: object) -> PrometheusSettings:
    options = {"retries": 3, "backoff": 0.05, "timeout": 5.0, **kwargs}
    return PrometheusSettings(url, **options)  # type: ignore[arg-type]


def recommendations(history) -> list[dict]:
    return [r.to_dict() for r in recommend(history)]


@pytest.fixture(scope="module")
def baseline(prometheus):
    return recommendations(load_prometheus_history(settings(prometheus.url), prometheus.options))


@pytest.fixture(scope="module")
def batch_per_namespace(prometheus) -> int:
    """A --batch-pods that holds the largest namespace whole, and no more: the cluster takes several batches."""
    return math.ceil(max(prometheus.namespace_worth().values()))


def left_out_namespaces(history) -> set[str]:
    assert all(key.startswith("namespace ") for key in history.missing), history.missing
    return {key.split(" ", 1)[1] for key in history.missing}


@pytest.mark.parametrize(
    ("rule", "what"),
    [
        (first(3, "reset"), "connections reset"),
        (first(3, "status:503"), "503 Service Unavailable"),
        (first(2, "status:502"), "502 from a load balancer"),
        (first(2, "truncate"), "a truncated JSON body"),
        (first(2, "closing"), "a store closing its blocks as it shuts down"),
        (first(1, "slow:2.5"), "an answer slower than the timeout"),
    ],
)
def test_transient_faults_are_retried_to_the_same_result(prometheus, baseline, rule, what):
    with FaultProxy(prometheus.url, [rule]) as proxy:
        history = load_prometheus_history(settings(proxy.url, timeout=1.5), prometheus.options)
        assert any(action != "pass" for _, _, action in proxy.log), f"{what} was injected"
    assert history.missing == {}
    assert recommendations(history) == baseline, f"after {what}, the same recommendations"


def test_a_namespace_that_keeps_failing_is_a_marked_partial_result(prometheus, baseline, batch_per_namespace):
    options = dataclasses.replace(prometheus.options, batch_pods=batch_per_namespace)
    with FaultProxy(prometheus.url, [for_namespace("status:422", "shop")]) as proxy:
        history = load_prometheus_history(settings(proxy.url), options)
        assert proxy.log
    left_out = left_out_namespaces(history)  # shop, and any namespace its batch held
    assert "shop" in left_out and all("HTTP 422" in why for why in history.missing.values())
    assert "workloads left out: " in history.missing["namespace shop"]
    kept = {r["namespace"] for r in baseline} - left_out
    assert kept, "the other batches were read"
    assert {k.namespace for k in history.containers} == kept
    assert recommendations(history) == [r for r in baseline if r["namespace"] in kept], \
        "the rest is exactly what it would have been"


def test_a_failing_batch_of_a_large_namespace_names_each_workload_it_held(prometheus, baseline):
    one_by_one = dataclasses.replace(prometheus.options, batch_pods=1)  # a namespace is cut, a workload a batch
    with FaultProxy(prometheus.url, [always("status:422", 'namespace="shop"')]) as proxy:
        history = load_prometheus_history(settings(proxy.url), one_by_one)
        assert proxy.log
    shop = {f"workload shop/{r['kind']}/{r['workload']}" for r in baseline if r["namespace"] == "shop"}
    assert shop and shop <= set(history.missing)
    assert all("HTTP 422" in history.missing[w] for w in shop)
    kept = [r for r in baseline if r["namespace"] != "shop"]
    assert recommendations(history) == kept


def test_a_prometheus_that_keeps_failing_is_one_clear_error(prometheus):
    with FaultProxy(prometheus.url, [always("status:500")]) as proxy, \
            pytest.raises(PrometheusQueryError, match="HTTP 500"):
        load_prometheus_history(settings(proxy.url, retries=1), prometheus.options)
    with FaultProxy(prometheus.url, [always("reset")]) as proxy, \
            pytest.raises(PrometheusUnreachable, match="cannot connect"):
        load_prometheus_history(settings(proxy.url, retries=1), prometheus.options)
    with FaultProxy(prometheus.url, [always("status:414", "rate(")]) as proxy, \
            pytest.raises(PrometheusQueryError, match="too long"):
        load_prometheus_history(settings(proxy.url, retries=0), prometheus.options)


def test_a_metric_that_returns_nothing_is_named(prometheus):
    with FaultProxy(prometheus.url, [always("empty", "container_memory_working_set_bytes")]) as proxy:
        history = load_prometheus_history(settings(proxy.url), prometheus.options)
        assert proxy.log
    recs = recommend(history)
    assert len(recs) and all(r.requests is None for r in recs), "no memory: no recommendation at all"
    assert all("container_memory_working_set_bytes" in r.reasons[0] for r in recs)


def test_a_prometheus_restart_in_the_middle_of_a_run_is_survived(prometheus, baseline, test_cluster):
    server = PrometheusServer(build_tsdb(test_cluster)).start()
    try:
        restarted = threading.Event()

        def restart_after_some(number: int, method: str, path: str, query: str) -> None:
            if number == 6 and not restarted.is_set():
                restarted.set()
                server.stop(keep_data=True)
                threading.Thread(target=lambda: server.start(reuse=True), daemon=True).start()

        with FaultProxy(server.url, [restart_after_some]) as proxy:
            history = load_prometheus_history(settings(proxy.url, retries=6, backoff=0.3), prometheus.options)
        assert restarted.is_set()
        assert history.missing == {}
        assert recommendations(history) == baseline
    finally:
        server.stop()


def test_the_cli_reports_a_partial_result_and_a_clear_failure(prometheus, batch_per_namespace):
    window = ["--window", f"{int(prometheus.options.window)}s", "--end", str(int(prometheus.end))]
    with FaultProxy(prometheus.url, [for_namespace("status:422", "batch")]) as proxy:
        partial = subprocess.run([sys.executable, "-m", "rightsizer", "report", "--prometheus-url", proxy.url,
                                  *window, "-o", "json", "--retries", "1", "-q",
                                  "--batch-pods", str(batch_per_namespace)],
                                 capture_output=True, text=True, timeout=300, check=False)
    assert partial.returncode == 0, partial.stderr
    doc = json.loads(partial.stdout)
    assert "namespace batch" in doc["missing"] and all(r["namespace"] != "batch" for r in doc["recommendations"])
    assert doc["recommendations"], "the other batches are reported"
    with FaultProxy(prometheus.url, [always("status:503")]) as proxy:
        failed = subprocess.run([sys.executable, "-m", "rightsizer", "report", "--prometheus-url", proxy.url,
                                 *window, "--retries", "1", "-q"], capture_output=True, text=True, timeout=300,
                                check=False)
    assert failed.returncode == 1 and "HTTP 503" in failed.stderr and "Traceback" not in failed.stderr


def test_a_store_refusing_the_series_endpoint_is_read_by_query(prometheus, baseline):
    """VictoriaMetrics caps the series endpoint (-search.maxSeries), and a proxy may not expose it."""

    def refuse(number: int, method: str, path: str, query: str) -> str | None:
        return "status:422" if path.startswith("/api/v1/series") else None

    with FaultProxy(prometheus.url, [refuse]) as proxy:
        history = load_prometheus_history(settings(proxy.url, retries=0), prometheus.options)
    assert any(action == "status:422" for _, _, action in proxy.log), "the series endpoint was asked"
    assert any("kube_replicaset_owner" in query for _, query, _ in proxy.log), "then the query was sent"
    assert history.missing == {}
    assert recommendations(history) == baseline


def test_a_store_with_lower_limits_gets_shorter_ranges_and_the_same_answer(prometheus, baseline):
    """Thanos or Mimir may refuse a range Prometheus serves: the range is halved until it is accepted."""
    with FaultProxy(prometheus.url, max_points=200) as proxy:
        history = load_prometheus_history(settings(proxy.url), prometheus.options)
    refused = [entry for entry in proxy.log if entry[2] == "too many samples"]
    assert refused, "the limit was hit"
    assert len(refused) <= 2 * len({query for _, query, _ in refused}), "halved, not shrunk step by step"
    assert history.missing == {}
    assert recommendations(history) == baseline
