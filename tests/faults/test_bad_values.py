"""Impossible values in real answers (a broken exporter or store, seen through a rewriting proxy in front of the
real test Prometheus): set aside and counted, never moving a recommendation the wrong way, never a traceback."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from collections.abc import Callable

import pytest

from faults.proxy import FaultProxy
from rightsizer.errors import PrometheusQueryError
from rightsizer.recommend import recommend
from rightsizer.recommend.engine import Rightsizer
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.plausible import MAX_BYTES, MAX_CORES
from rightsizer.sources.prometheus import load_prometheus_history

pytestmark = pytest.mark.prometheus

Rewrite = Callable[[str, dict], dict]


def every_value(family: str, value: str) -> Rewrite:
    """Each value of the answers to queries naming ``family`` replaced by ``value`` (Prometheus' text form)."""

    def rewrite(query: str, doc: dict) -> dict:
        if family in query and doc.get("status") == "success":
            for series in doc["data"]["result"]:
                if "values" in series:
                    series["values"] = [[t, value] for t, _ in series["values"]]
                elif "value" in series:
                    series["value"] = [series["value"][0], value]
        return doc

    return rewrite


@pytest.fixture(scope="module")
def options(prometheus):
    """The default strategy's reads: only the throttled steps of the throttling ratio come back."""
    return dataclasses.replace(prometheus.options, needs=Rightsizer.needs)


@pytest.fixture(scope="module")
def clean(prometheus, options):
    return {str(r.key): r for r in recommend(load_prometheus_history(PrometheusSettings(prometheus.url), options))}


def read_through(prometheus, options, rewrite: Rewrite, **settings: object):
    with FaultProxy(prometheus.url, rewrite=rewrite) as proxy:
        history = load_prometheus_history(PrometheusSettings(proxy.url, retries=0, **settings), options)
    return history, {str(r.key): r for r in recommend(history)}


def throttled(recs: dict) -> dict:
    return {k: r for k, r in recs.items() if any(reason.startswith("throttled in") for reason in r.reasons)}


@pytest.mark.parametrize("value", ["NaN", "+Inf", "-Inf", "-0.5", "7"])
def test_an_impossible_throttling_ratio_never_lowers_a_throttled_containers_cpu(prometheus, options, clean, value):
    capped = throttled(clean)
    assert capped, "the test cluster has containers throttled at their limit"
    _, recs = read_through(prometheus, options, every_value("cfs_throttled_periods", value))
    for key, before in capped.items():
        after = recs[key]
        assert after.requests.cpu >= before.requests.cpu, (key, before.requests, after.requests)
        assert any(r.startswith("throttled in") for r in after.reasons), "the throttling is still said"
        assert any("throttled samples" in r and "fully throttled" in r for r in after.reasons), after.reasons
        assert after.risk in ("medium", "high")


@pytest.mark.parametrize(("family", "value"), [
    ("kube_horizontalpodautoscaler_spec_target_metric", "1e308"),
    ("kube_horizontalpodautoscaler_spec_target_metric", "NaN"),
    ("kube_horizontalpodautoscaler_spec_target_metric", "-70"),
    ("kube_horizontalpodautoscaler_spec_min_replicas", "NaN"),
    ("kube_horizontalpodautoscaler_spec_min_replicas", "1e308"),
    ("kube_horizontalpodautoscaler_spec_max_replicas", "2.5"),
    ("kube_pod_container_resource_requests", "1e308"),
    ("kube_pod_container_resource_requests", "NaN"),
    ("kube_pod_container_resource_limits", "-1"),
    ("kube_pod_container_status_restarts_total", "NaN"),
    ("kube_pod_container_status_restarts_total", "1e308"),
])
def test_impossible_settings_are_set_aside_and_listed(prometheus, options, clean, family, value):
    history, recs = read_through(prometheus, options, every_value(family, value))
    assert family in history.missing and "set aside as impossible" in history.missing[family], history.missing
    assert recs.keys() == clean.keys()
    for rec in recs.values():
        if rec.requests is None:
            continue
        assert 0 < rec.requests.cpu <= MAX_CORES and 0 < rec.requests.memory <= MAX_BYTES, rec
        assert rec.hpa is None or 20 <= rec.hpa.target <= 95 and math.isfinite(rec.hpa.current_target)
    if "restarts" in family:  # the last-terminated reason still tells an OOMKilled container apart
        for key, before in clean.items():
            assert bool(recs[key].oom_kills) == bool(before.oom_kills), key
            assert recs[key].requests == before.requests, key


def test_a_snapshot_recorded_from_a_broken_store_reads_the_same(prometheus, options, tmp_path):
    """The impossible values travel in the snapshot as they came, and are set aside again when it is read."""
    from rightsizer.sources.snapshot import load_snapshot, save_snapshot

    history, recs = read_through(prometheus, options, every_value("cfs_throttled_periods", "NaN"))
    save_snapshot(history, tmp_path / "s.parquet")
    again = {str(r.key): r for r in recommend(load_snapshot(tmp_path / "s.parquet"))}
    assert {k: r.requests for k, r in again.items()} == {k: r.requests for k, r in recs.items()}


def as_vector(family: str) -> Rewrite:
    """Range answers to queries naming ``family`` sent as an instant vector (their last points)."""

    def rewrite(query: str, doc: dict) -> dict:
        if family in query and doc["data"]["resultType"] == "matrix":
            doc["data"]["resultType"] = "vector"
            for series in doc["data"]["result"]:
                series["value"] = series.pop("values")[-1]
        return doc

    return rewrite


def test_a_range_answer_of_the_wrong_type_is_named_not_read_as_empty(prometheus, options):
    with FaultProxy(prometheus.url, rewrite=as_vector("container_memory_working_set_bytes")) as proxy, \
            pytest.raises(PrometheusQueryError, match="'vector' answer where a range-query result"):
        load_prometheus_history(PrometheusSettings(proxy.url, retries=2), options)
    assert sum("working_set" in query for _, query, _ in proxy.log) == 1, "the same answer is not asked again"


def test_a_wrong_answer_type_in_one_batch_lists_its_workloads_as_missing(prometheus, options, clean):
    def vector_for_shop(query: str, doc: dict) -> dict:
        return as_vector("working_set")(query, doc) if 'namespace="shop"' in query else doc

    one_by_one = dataclasses.replace(options, batch_pods=1)
    history, recs = read_through(prometheus, one_by_one, vector_for_shop)
    shop = [k for k in history.missing if k.startswith("workload shop/")]
    assert shop and all("'vector' answer" in history.missing[k] for k in shop)
    assert {k for k in recs if not k.startswith("shop/")} == {k for k in clean if not k.startswith("shop/")}


def test_the_cli_lists_what_it_set_aside(prometheus):
    window = ["--window", f"{int(prometheus.options.window)}s", "--end", str(int(prometheus.end))]
    with FaultProxy(prometheus.url, rewrite=every_value("target_metric", "1e308")) as proxy:
        result = subprocess.run([sys.executable, "-m", "rightsizer", "report", "--prometheus-url", proxy.url,
                                 *window, "-o", "json", "-q"], capture_output=True, text=True, timeout=300,
                                check=False)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert "1e+308" in doc["missing"]["kube_horizontalpodautoscaler_spec_target_metric"]
    cpu = [r["recommended"]["cpu_request"] for r in doc["recommendations"] if r["recommended"]]
    assert cpu and all(len(value) <= 8 for value in cpu), cpu  # no 300-digit request


def test_a_window_longer_than_the_store_holds_is_shortened_to_it(prometheus, options, clean, caplog):
    """``--window 520w`` against two days of history: the same queries as for the two days, and it is said."""
    looks: list[str] = []

    def look(_number: int, _method: str, path: str, query: str) -> None:
        if query.startswith("count(count_over_time(kube_pod_owner"):
            looks.append(path.split("?")[0])

    with FaultProxy(prometheus.url, [look]) as proxy:
        load_prometheus_history(PrometheusSettings(proxy.url), options)
    asked = len(proxy.log)
    assert looks == ["/api/v1/query"], "a window the store holds costs one count over its first step, no scan"
    ten_years = dataclasses.replace(options, window=520 * 7 * 86_400.0)
    with FaultProxy(prometheus.url) as proxy, caplog.at_level("WARNING"):
        history = load_prometheus_history(PrometheusSettings(proxy.url), ten_years)
    assert len(proxy.log) <= asked + 2, "one look for the oldest sample, one to place it to the step"
    assert history.n_steps <= options.window / options.step + 2
    assert history.start >= prometheus.end - options.window - 2 * options.step
    assert any("--window shortened to" in r.getMessage() for r in caplog.records)
    recs = {str(r.key): r for r in recommend(history)}
    assert recs.keys() == clean.keys()
    assert sum(r.requests == clean[k].requests for k, r in recs.items()) >= 0.8 * len(recs), \
        "the same history gives (nearly) the same recommendations"
