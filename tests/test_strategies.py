"""The strategy registry: a strategy is one class registered by name, found by recommend() and the backtest."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer.api import load_history
from rightsizer.errors import RightsizerError
from rightsizer.history import Resources
from rightsizer.needs import EVERY_STEP, DataNeeds
from rightsizer.recommend import STRATEGIES, Recommendation, Strategy, find, recommend


@pytest.fixture
def registry():
    """The registry as it is, restored after the test."""
    before = dict(STRATEGIES)
    yield STRATEGIES
    STRATEGIES.clear()
    STRATEGIES.update(before)


def test_a_subclass_is_registered_by_its_name_and_recommends(registry):
    demo_history = load_history(demo=True)

    class Peak(Strategy):
        name = "peak"
        needs = DataNeeds(peak_step=3600.0)

        def container(self, ch, ctx):
            cpu = float(np.nanmax(ch.samples["cpu"]))
            return Recommendation(ch.key, ch.requests, ch.limits, Resources(cpu, None), None)

    assert find("peak").needs.peak_step == 3600.0
    recs = recommend(demo_history, strategy="peak")
    assert recs.strategy == "peak"
    for rec in recs:
        ch = demo_history[rec.key]
        assert rec.requests.cpu == pytest.approx(float(np.nanmax(ch.samples["cpu"])))


def test_a_strategy_that_states_nothing_reads_everything(registry):
    class Plain(Strategy):
        name = "plain"

    assert find("plain").needs == EVERY_STEP


def test_two_strategies_cannot_share_a_name(registry):
    with pytest.raises(TypeError, match="two strategies are named 'rightsizer'"):
        class Again(Strategy):
            name = "rightsizer"


def test_an_unknown_strategy_names_the_known_ones():
    with pytest.raises(RightsizerError, match="unknown strategy 'nope': choose one of rightsizer, max-plus-15"):
        find("nope")


def test_the_registry_lists_the_default_first():
    assert list(STRATEGIES)[:3] == ["rightsizer", "max-plus-15", "vpa-like"]
