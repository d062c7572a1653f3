"""Learned margins from a cluster read in batches: fitted on the whole cluster, not on each batch.

A real Prometheus serves a synthetic cluster long enough to learn from (15 days); the report
read in batches of a few namespaces, read at once, and from the snapshot of a full read must
be the same, to the byte of every recommendation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from rightsizer.recommend import find, recommend, recommend_parts
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions, iter_prometheus_history, load_prometheus_history
from rightsizer.sources.snapshot import load_snapshot, save_snapshot
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.testing.testbed import PrometheusServer, build_tsdb
from rightsizer.units import DAY

pytestmark = pytest.mark.prometheus

DAYS = 15
END = 1_790_000_000 // DAY * DAY
STEP = 300


@pytest.fixture(scope="module")
def server() -> Iterator[PrometheusServer]:
    # scraped every 5 minutes: two weeks of the curated scenarios backfill in a minute
    cluster = SyntheticCluster.generate(containers=40, days=DAYS, end=END, scrape_interval=300, seed=41)
    with PrometheusServer(build_tsdb(cluster)) as prometheus:
        yield prometheus


def options(batch_pods: int) -> FetchOptions:
    return FetchOptions(window=DAYS * DAY - STEP, step=STEP, end=END, batch_pods=batch_pods,
                        needs=find("rightsizer").needs)


def report(server: PrometheusServer, batch_pods: int) -> tuple[list[dict], int]:
    """The default strategy's recommendations of the cluster read in batches of ``batch_pods``, and how many
    parts it came in."""
    parts = list(iter_prometheus_history(PrometheusSettings(server.url), options(batch_pods)))
    return [r.to_dict() for r in recommend_parts(iter(parts))], len(parts)


def test_margins_learned_in_batches_equal_those_learned_at_once_and_from_the_snapshot(server, tmp_path):
    at_once, one = report(server, 100_000)
    batched, many = report(server, 8)
    assert one == 1 and many >= 3, (one, many)
    learned = [r for r in at_once if any("memory margin learned from" in x for x in r["reasons"])]
    assert len(learned) >= 20, "the cluster is long enough to learn from"
    # each batch alone holds too few containers to learn from: a per-batch calibration would fall back
    assert batched == at_once
    path = tmp_path / "cluster.parquet"
    full = load_prometheus_history(PrometheusSettings(server.url), dataclasses.replace(options(100_000),
                                                                                         needs=FetchOptions().needs))
    save_snapshot(full, path)
    assert [r.to_dict() for r in recommend(load_snapshot(path))] == at_once


def test_each_batch_alone_would_learn_from_too_few_containers(server):
    """What the gathering is for: recommended one batch at a time, the margins would come from the rules."""
    parts = list(iter_prometheus_history(PrometheusSettings(server.url), options(8)))
    alone = [r for part in parts for r in recommend(part)]
    assert any(any("20 needed to learn margins" in x for x in r.reasons) for r in alone)
