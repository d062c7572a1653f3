"""The backtest a pull request carries, added up part by part, against the backtest of the whole history."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rightsizer import BacktestEvidence  # the public name a notebook or job uses
from rightsizer.api import load_history
from rightsizer.backtest import backtest, split
from rightsizer.gitops.prbody import evidence_lines
from rightsizer.recommend import find
from rightsizer.sources.prometheus import load_prometheus_history
from rightsizer.units import DAY


@pytest.fixture(scope="module")
def demo():
    return load_history(demo=True)


def test_parts_add_up_to_the_backtest_of_the_whole(demo):
    namespaces = sorted({key.namespace for key in demo.containers})
    parts = [demo.filter([k for k in demo.containers if k.namespace == ns]) for ns in namespaces]
    evidence = BacktestEvidence()
    assert list(evidence.watch(parts)) == parts, "the parts go on unchanged"
    span = demo.n_steps * demo.step
    test_seconds = 0.3 * span
    train, test = split(demo, span - test_seconds, test_seconds)
    whole = backtest(train, test)
    assert evidence.ready and evidence.test_window == whole.test_window
    assert list(evidence.figures) == list(whole.summary["strategy"]) == ["rightsizer", "max-plus-15", "vpa-like"]
    for row in whole.summary.itertuples():
        got = evidence.figures[row.strategy]
        assert got.containers == row.containers
        assert got.would_oom == row.would_oom_containers
        assert got.cpu_p95_above == row.cpu_p95_above_request
        assert got.cpu_samples_above_share == pytest.approx(row.cpu_samples_above_request)
        recs = whole.recommendations[row.strategy]
        scored = [r for r in recs if r.requests is not None and r.key in test.containers]
        assert got.cpu_requests == pytest.approx(sum(r.requests.cpu or 0 for r in scored))
    assert any(f.cpu_p95_above for f in evidence.figures.values()), "the figures tell the strategies apart"
    body = "\n".join(evidence_lines(evidence))
    assert "| **rightsizer** (this policy) | " in body and "| max-plus-15 | " in body and "| vpa-like | " in body


def test_a_short_history_says_so(demo):
    two_days = round(2 * DAY / demo.step)
    evidence = BacktestEvidence()
    list(evidence.watch([demo.window(0, two_days)]))
    assert not evidence.ready
    text = "\n".join(evidence_lines(evidence))
    assert "Not run: the history holds 2.0 days" in text and "--window" in text


def test_no_history_says_where_the_recommendations_came_from():
    assert "Not run: the history" in "\n".join(evidence_lines(None))


@pytest.mark.prometheus
def test_the_weekly_runs_coarse_history_gives_the_same_evidence(prometheus, fetched):
    """What the weekly run reads (hourly working-set peaks, CPU at the scrape interval) scores as the full fetch does."""
    coarse = load_prometheus_history(prometheus.settings(), replace(prometheus.options, needs=find("rightsizer").needs))
    on_full, on_coarse = BacktestEvidence(min_days=1), BacktestEvidence(min_days=1)
    list(on_full.watch([fetched]))
    list(on_coarse.watch([coarse]))
    assert on_full.ready and on_coarse.ready
    assert on_coarse.figures == on_full.figures
    assert all(0 < f.containers <= len(fetched.containers) for f in on_full.figures.values())
    assert any(f.cpu_samples_above for f in on_full.figures.values()), "figures that can tell a difference"
