"""Several clusters in one store (Thanos, Mimir, VictoriaMetrics): --cluster-label reads each on its own."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rightsizer.errors import MissingMetricsError, NoDataError, RightsizerError
from rightsizer.recommend import recommend
from rightsizer.scope import Scope
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions, load_prometheus_history
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.testing.testbed import PrometheusServer, build_tsdb

pytestmark = pytest.mark.prometheus
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def central(test_cluster, tmp_path_factory) -> Iterator[tuple[str, FetchOptions]]:
    """The test cluster as "east" and another seed as "west", both in one TSDB, as a central store holds them."""
    west = SyntheticCluster.generate(days=test_cluster.spec.days, end=test_cluster.spec.end, seed=2)
    merged = tmp_path_factory.mktemp("central")
    for name, cluster in (("east", test_cluster), ("west", west)):
        for block in build_tsdb(cluster, external=("cluster", name)).iterdir():
            if block.is_dir():
                shutil.copytree(block, merged / block.name)
    options = FetchOptions(window=test_cluster.spec.days * 86_400 - 300, step=300, end=test_cluster.spec.end,
                           cluster_label="cluster")
    with PrometheusServer(merged) as server:
        yield server.url, options


def test_each_cluster_is_read_on_its_own_and_keys_carry_it(central, fetched):
    url, options = central
    history = load_prometheus_history(PrometheusSettings(url), options)
    east = {k for k in history.containers if k.cluster == "east"}
    assert {dataclasses.replace(k, cluster="") for k in east} == set(fetched.containers)
    assert {k.cluster for k in history.containers} == {"east", "west"}
    assert all(n.startswith(("east/", "west/")) for n in history.nodes)
    # the east cluster read from the shared store recommends exactly what it does read alone
    alone = {r.key: r for r in recommend(fetched)}
    for rec in recommend(history.filter(east)):
        same = alone[dataclasses.replace(rec.key, cluster="")]
        assert (rec.requests, rec.limits, rec.nodejs, rec.hpa) == (same.requests, same.limits, same.nodejs, same.hpa)
    hpa_workloads = {k for k, w in history.workloads.items() if w.hpa is not None}
    assert {k.cluster for k in hpa_workloads} == {"east", "west"}, "HPAs are found per cluster"


def test_cluster_filter_and_clear_errors(central):
    url, options = central
    only_west = load_prometheus_history(PrometheusSettings(url), options, Scope(cluster="we.*"))
    assert {k.cluster for k in only_west.containers} == {"west"}
    with pytest.raises(NoDataError, match="clusters: east, west"):
        load_prometheus_history(PrometheusSettings(url), options, Scope(cluster="north"))
    with pytest.raises(MissingMetricsError, match="--cluster-label"):
        load_prometheus_history(PrometheusSettings(url), dataclasses.replace(options, cluster_label="region"))
    with pytest.raises(RightsizerError, match="invalid --cluster-label 'k8s-cluster'"):
        dataclasses.replace(options, cluster_label="k8s-cluster")
    # a namespace only one cluster has: the other is passed over, not an error
    east_only = load_prometheus_history(PrometheusSettings(url), options, Scope(namespace="payments"))
    assert {k.namespace for k in east_only.containers} == {"payments"}


def test_reports_carry_the_cluster_and_a_repo_is_changed_for_one_cluster_only(central, tmp_path):
    url, options = central
    source = ["--prometheus-url", url, "--cluster-label", "cluster", "--window", f"{options.window:g}s",
              "--end", f"{options.end:.0f}", "-q"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rightsizer", *args], capture_output=True, text=True,
                              timeout=300, check=False, cwd=REPO)

    report = run("report", *source, "-o", "json")
    assert report.returncode == 0, report.stderr
    assert {r["cluster"] for r in json.loads(report.stdout)["recommendations"]} == {"east", "west"}
    repo = tmp_path / "gitops"
    shutil.copytree(REPO / "fixtures" / "gitops-repo", repo)
    both = run("patch", "--repo", str(repo), "--dry-run", *source)
    assert both.returncode == 1
    assert "come from 2 clusters (east, west)" in both.stderr and "--cluster NAME" in both.stderr
    one = run("patch", "--repo", str(repo), "--dry-run", *source, "--cluster", "east")
    assert one.returncode == 0, one.stderr
