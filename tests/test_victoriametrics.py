"""The same source against VictoriaMetrics: the PromQL rightsizer sends works on MetricsQL too."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer.recommend import recommend
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.prometheus import load_prometheus_history
from rightsizer.testing.testbed import VictoriaMetricsServer

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def victoria(test_cluster):
    with VictoriaMetricsServer(test_cluster) as server:
        yield server


@pytest.fixture(scope="module")
def from_vm(victoria, prometheus):
    return load_prometheus_history(PrometheusSettings(victoria.url), prometheus.options)


def test_discovers_the_same_workloads_as_prometheus(from_vm, fetched):
    assert set(from_vm.containers) == set(fetched.containers)
    for key, ch in fetched.containers.items():
        other = from_vm[key]
        if not ch.init:  # init runs at the window's first instant: VictoriaMetrics' ranges leave out their left edge
            assert sorted(other.pods) == sorted(ch.pods), key
        assert (other.requests, other.limits, other.image) == (ch.requests, ch.limits, ch.image)
        assert len(other.oom_kills) == len(ch.oom_kills), key
    assert {k: w.hpa for k, w in from_vm.workloads.items()} == {k: w.hpa for k, w in fetched.workloads.items()}


def test_usage_agrees_with_prometheus(from_vm, fetched):
    for key, ch in fetched.containers.items():
        if key.kind == "CronJob" or ch.init:
            continue  # rates at the edges of minutes-long pods differ: VictoriaMetrics does not extrapolate
        ours, theirs = from_vm[key].samples, ch.samples
        assert np.nanmax(ours["memory"]) == pytest.approx(np.nanmax(theirs["memory"]), rel=1e-6), key
        assert np.nanquantile(ours["cpu"], 0.95) == pytest.approx(np.nanquantile(theirs["cpu"], 0.95), rel=0.03), key


def test_recommendations_agree_with_prometheus(from_vm, fetched):
    a = {r.key: r for r in recommend(fetched)}
    b = {r.key: r for r in recommend(from_vm)}
    for key, rec in a.items():
        if key.kind == "CronJob" or rec.init or rec.requests is None:
            continue
        assert b[key].requests.memory == pytest.approx(rec.requests.memory, rel=0.02), key
        assert b[key].requests.cpu == pytest.approx(rec.requests.cpu, rel=0.05), key


def test_its_range_answers_take_the_fast_decoder(victoria, prometheus, monkeypatch):
    import requests

    from rightsizer.sources import matrix

    form = {"query": 'max by (namespace, pod) (container_memory_working_set_bytes{container!=""})',
            "start": str(prometheus.end - 86_400), "end": str(prometheus.end), "step": "300"}
    raw = requests.post(f"{victoria.url}/api/v1/query_range", data=form, timeout=60).content
    monkeypatch.setattr(matrix, "_slow", lambda _body: pytest.fail("fell back to the JSON decode"))
    series = matrix.decode_flat(raw).series()
    assert len(series) > 20 and all(len(s.times) == len(s.values) > 0 for s in series)
