"""The per-container plots draw the CPU the recommendation was sized on."""

from __future__ import annotations

import numpy as np

from rightsizer.recommend import recommend
from rightsizer.report.plots import plot_container
from rightsizer.testing.synthetic import SyntheticCluster


def test_cpu_is_drawn_at_the_scrape_interval_the_request_was_sized_on():
    history = SyntheticCluster.generate(days=2, end=1_790_000_000, seed=12).history()
    recs = recommend(history)
    # a bursty container: its scrape-interval rates rise above its step means
    ch = max(history, key=lambda c: np.nanmax(c.per_step("cpu_scrape", history.n_steps)) /
             max(np.nanmax(c.per_step("cpu", history.n_steps)), 1e-9))
    scrape = ch.per_step("cpu_scrape", history.n_steps, "max")
    mean = ch.per_step("cpu", history.n_steps, "max")
    assert np.nanmax(scrape) > 1.05 * np.nanmax(mean)
    fig = plot_container(history, ch.key, recs, max_points=history.n_steps)
    cpu_ax, _, cpu_hist, _ = fig.axes
    line = cpu_ax.lines[0]
    assert f"at the {history.scrape_interval:g}s scrape interval" in line.get_label()
    assert np.nanmax(line.get_ydata()) == np.nanmax(scrape)
    assert "scrape interval" in cpu_hist.get_title()
    drawn = sum(patch.get_height() for patch in cpu_hist.patches)
    assert drawn == np.isfinite(ch.samples["cpu_scrape"]).sum()
