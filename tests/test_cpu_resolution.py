"""CPU sized at the resolution the cluster is scraped at, not at the report's step."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from rightsizer.backtest import backtest, split
from rightsizer.recommend import recommend
from rightsizer.sources import queries as q
from rightsizer.sources.snapshot import load_snapshot, save_snapshot
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.units import DAY

END = 1_790_000_000


@pytest.fixture(scope="module")
def cluster() -> SyntheticCluster:
    return SyntheticCluster.generate(days=9, end=END, seed=21)


def test_the_scrape_sample_is_the_rate_of_the_steps_last_interval(cluster):
    coarse, fine = cluster.history(step=300), cluster.history(step=60)
    assert (coarse.scrape_interval, fine.scrape_interval) == (60, 60)
    key = next(k for k in coarse.containers if k.kind == "Deployment")
    a, b = coarse[key], fine[key]
    pod = 0
    first_coarse = coarse.start + 300 * a.samples.step[(a.samples.pod == pod)][5]
    in_step = (b.samples.pod == b.pods.index(a.pods[pod])) & \
        (fine.start + 60 * b.samples.step.astype(float) > first_coarse - 300) & \
        (fine.start + 60 * b.samples.step.astype(float) <= first_coarse)
    row = (a.samples.pod == pod) & (coarse.start + 300 * a.samples.step == first_coarse)
    assert in_step.sum() == 5
    assert a.samples["cpu_scrape"][row][0] == pytest.approx(b.samples["cpu"][in_step][-1])
    assert a.samples["cpu"][row][0] == pytest.approx(b.samples["cpu"][in_step].mean(), rel=1e-5)


def test_requests_cover_the_p95_at_the_scrape_interval(cluster):
    """Trained on 5-minute steps, each container's request covers the p95 of its own training minutes."""
    history = cluster.history(step=300)
    fine = cluster.history(step=60)
    recs = {r.key: r for r in recommend(history) if r.requests is not None and r.confidence >= 0.5}
    below = [key for key, rec in recs.items() if key.kind != "CronJob" and not history[key].init
             and rec.requests.cpu < np.nanpercentile(fine[key].samples["cpu"], 95) and history[key].limits.cpu is None]
    assert recs and not below


def test_older_histories_without_peaks_size_on_the_mean(cluster, tmp_path):
    """A snapshot written before the peak existed still loads and recommends, from the step's mean."""
    history = cluster.history(step=300)
    path = tmp_path / "old.parquet"
    save_snapshot(history, path)
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"rightsizer.snapshot"])
    del meta["scrape_interval"]
    old = table.drop_columns(["cpu_scrape"]).replace_schema_metadata({b"rightsizer.snapshot": json.dumps(meta)})
    pq.write_table(old, path)
    back = load_snapshot(path)
    assert back.scrape_interval is None
    assert all(not ch.samples.has("cpu_scrape") for ch in back)
    for rec in recommend(back):
        if rec.requests is not None:
            assert "rate)" not in rec.reasons[0]
    assert load_snapshot(_saved(history, tmp_path)).scrape_interval == 60


def _saved(history, tmp_path):
    path = tmp_path / "new.parquet"
    save_snapshot(history, path)
    return path


def test_the_backtest_scores_cpu_at_the_scrape_interval(cluster):
    """Scored at the scrape interval: the test week's p95 is the p95 of the sampled scrape intervals' rates."""
    history = cluster.history(step=300)
    train, test = split(history, 6 * DAY, 3 * DAY)
    result = backtest(train, test, ("max-plus-15",))
    rows = result.containers.set_index(["namespace", "workload", "container"])
    for rec in result.recommendations["max-plus-15"]:
        if rec.requests is None or rec.key not in test.containers:
            continue
        fine = test[rec.key].samples["cpu_scrape"]
        above = np.percentile(fine[np.isfinite(fine)], 95) > rec.requests.cpu
        assert rows.loc[(rec.key.namespace, rec.key.workload, rec.key.container), "cpu_p95_above_request"] == above


def test_the_scrape_query_reads_the_last_interval_before_each_step():
    query = q.cpu_scrape(q.Matchers(("shop",)), 60)
    assert query.startswith("irate(container_cpu_usage_seconds_total{") and query.endswith("[120s])")
    assert 'namespace="shop"' in query and 'container!="POD"' in query
