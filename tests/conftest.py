"""Shared fixtures: the synthetic test cluster, and a real Prometheus serving it on 127.0.0.1."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rightsizer.history import ClusterHistory
from rightsizer.sources.client import PrometheusClient, PrometheusSettings
from rightsizer.sources.prometheus import MIN_POD_SHARE, FetchOptions, load_prometheus_history
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.testing.testbed import PrometheusServer, build_tsdb
from rightsizer.units import DAY

sys.path.insert(0, str(Path(__file__).parent))  # test helpers (fake_hosts) import as plain modules

TEST_DAYS = 2
STEP = 300


@dataclass
class LivePrometheus:
    server: PrometheusServer
    cluster: SyntheticCluster

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def end(self) -> float:
        return self.cluster.spec.end

    @property
    def options(self) -> FetchOptions:
        """The whole simulated span at 5-minute steps (the first step needs a full step of data)."""
        return FetchOptions(window=TEST_DAYS * DAY - STEP, step=STEP, end=self.end)

    def settings(self, **kwargs: object) -> PrometheusSettings:
        return PrometheusSettings(self.url, **kwargs)  # type: ignore[arg-type]

    def namespace_worth(self) -> dict[str, float]:
        """Each namespace's pods' worth of history as batches count it: a pod counts the share of the
        longest-lived pod's kube-state-metrics samples it has (at least MIN_POD_SHARE)."""
        client = PrometheusClient(self.settings())
        query = f"max by (namespace, pod) (count_over_time(kube_pod_owner[{int(self.options.window)}s]))"
        rows = client.instant_rows(query, self.end, ("namespace", "pod"))
        longest = max(samples for _, _, samples in rows)
        worth: dict[str, float] = {}
        for ns, _, samples in rows:
            worth[ns] = worth.get(ns, 0.0) + max(MIN_POD_SHARE, samples / longest)
        return worth


@pytest.fixture(scope="session")
def test_cluster() -> SyntheticCluster:
    """The curated scenarios over two days, ending at the last midnight (so the TSDB cache holds for a day)."""
    end = time.time() // DAY * DAY
    return SyntheticCluster.generate(days=TEST_DAYS, end=end, seed=1)


@pytest.fixture(scope="session")
def prometheus(test_cluster: SyntheticCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePrometheus]:
    tsdb = build_tsdb(test_cluster)
    with PrometheusServer(tsdb) as server:
        yield LivePrometheus(server, test_cluster)


@pytest.fixture(scope="session")
def fetched(prometheus: LivePrometheus) -> ClusterHistory:
    """The whole test cluster as the Prometheus source reads it."""
    return load_prometheus_history(prometheus.settings(), prometheus.options)
