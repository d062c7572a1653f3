"""Every report format parses back and carries every recommendation; the HTML page works in a real browser."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from rightsizer.api import load_history
from rightsizer.backtest import Backtest, backtest, split
from rightsizer.cost.allocation import cluster_rates
from rightsizer.cost.catalog import load_catalog
from rightsizer.cost.estimate import CostReport, attach_costs, estimate_cost
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend import recommend
from rightsizer.recommend.model import RecommendationSet
from rightsizer.report import find, formats, register, render
from rightsizer.units import DAY


@pytest.fixture(scope="module")
def demo():
    history = load_history(demo=True)
    return history, recommend(history)


def keys(recs):
    return {(r.key.namespace, r.key.kind, r.key.workload, r.key.container) for r in recs}


def test_json_and_yaml_carry_the_same_document(demo):
    _, recs = demo
    from_json = json.loads(render(recs, "json"))
    from_yaml = YAML(typ="safe", pure=True).load(render(recs, "yaml"))
    assert from_json == from_yaml
    assert list(from_yaml) == ["version", "source", "window", "strategy", "missing", "dropped", "pricing", "summary",
                               "recommendations"], "the documented key order"
    listed = {(r["namespace"], r["kind"], r["workload"], r["container"]) for r in from_json["recommendations"]}
    assert listed == keys(recs)


def test_csv_has_one_row_per_container(demo):
    _, recs = demo
    rows = list(csv.DictReader(io.StringIO(render(recs, "csv"))))
    assert len(rows) == len(recs)
    assert {(r["namespace"], r["kind"], r["workload"], r["container"]) for r in rows} == keys(recs)
    by_key = {(r["workload"], r["container"]): r for r in rows}
    for rec in recs:
        row = by_key[(rec.key.workload, rec.key.container)]
        assert row["recommended_memory_limit"] == (rec.quantities("recommended")["memory_limit"] or "")
        assert row["risk"] == rec.risk
        assert row["reasons"].split(" | ") == rec.reasons


def test_markdown_lists_every_change_with_its_reasons(demo):
    _, recs = demo
    text = render(recs, "markdown")
    changed = [r for r in recs if r.changed]
    assert text.startswith(f"## rightsizer: {len(changed)} of {len(recs)} containers to resize")
    for rec in changed:
        assert f"**{rec.key}**" in text
        assert rec.reasons[0] in text
    changes = text.split("| Namespace | Workload |")[1].split("\n\n")[0]
    assert len([line for line in changes.splitlines() if line.startswith("| ")]) == len(changed)


def test_table_groups_by_namespace_and_totals(demo):
    _, recs = demo
    text = render(recs, "table")
    assert "total (one pod each)" in text
    assert all(r.key.workload in text for r in recs)


def test_html_is_self_contained_and_plots_the_top_containers(demo):
    history, recs = demo
    page = render(recs, "html", history=history, plots=5)
    assert page.count("<svg") == 5
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "nothing loaded from the network"
    assert "<link" not in page and "@import" not in page and "<metadata>" not in page
    listed = page.split('id="recommendations"')[1].split("</table>")[0]
    assert listed.count("<tr>") == len(recs) + 1
    assert len(page) < 2_000_000
    everything = render(recs, "html", history=history, plots=len(recs))
    assert everything.count("<svg") == sum(r.requests is not None for r in recs)


@pytest.mark.browser
def test_html_report_renders_in_headless_chromium(demo, tmp_path):
    history, recs = demo
    page = tmp_path / "report.html"
    page.write_text(render(recs, "html", history=history, plots=3))
    chromium = shutil.which("chromium")
    assert chromium, "make test installs Debian's chromium"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync",
             f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-ready="yes"' in dom.stdout, "the page's script ran to its end"
    assert 'data-sortable="ready"' in dom.stdout
    assert "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == 3
    shot = tmp_path / "report.png"
    subprocess.run([*flags, "--window-size=1400,2000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 50_000, "a page with tables and plots, not a blank one"
    assert Path(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_format_is_registered():
    assert formats(RecommendationSet) == ("table", "json", "yaml", "csv", "markdown", "html")


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_each_kind_lists_its_own_formats_and_render_picks_by_type(demo):
    history, recs = demo
    assert formats(Backtest) == ("table", "json", "csv")
    assert formats(CostReport) == ("table", "json", "csv", "markdown")
    result = backtest(*split(history, 10 * DAY, 4 * DAY), ("rightsizer",))
    assert json.loads(render(result, "json"))["strategies"][0]["strategy"] == "rightsizer"
    estimate = estimate_cost(history, recs)
    assert json.loads(render(estimate, "json"))["totals"]["current_monthly"] == round(estimate.current_monthly, 2)
    assert render(recs, "table").startswith("rightsizer:") and render(result, "table").startswith("backtest:")
    with pytest.raises(ValueError, match="choose one of table, json, csv$"):
        render(result, "yaml")
    with pytest.raises(ValueError, match="nothing renders a str"):
        render("text", "json")
    assert find(RecommendationSet, "html").needs_history and not find(RecommendationSet, "json").needs_history


def test_a_new_renderer_is_one_registered_function():
    class Verdict:
        def __init__(self, word: str) -> None:
            self.word = word

    @register("shout", Verdict)
    def shout(value: Verdict) -> str:
        return value.word.upper() + "\n"

    @register("boxed", Verdict, console=True)
    def boxed(value: Verdict, width: int, color: bool) -> str:
        return f"[{value.word:^{width - 2}}]\n"

    assert formats(Verdict) == ("shout", "boxed")
    assert render(Verdict("ok"), "shout") == "OK\n"
    assert render(Verdict("ok"), "boxed", width=10) == "[   ok   ]\n"
    with pytest.raises(ValueError, match="registered twice"):
        register("shout", Verdict)(shout)


def test_the_table_in_colour_is_the_plain_table_with_colour_codes(demo):
    _, recs = demo
    plain = render(recs, "table", width=160)
    coloured = render(recs, "table", width=160, color=True)
    assert coloured != plain and ANSI.sub("", coloured) == plain
    assert max(len(line) for line in plain.splitlines()) <= 160


def test_the_table_carries_the_notes_of_a_partial_result(demo):
    history, _ = demo
    recs = recommend(history)
    recs.missing = {"namespace batch": "HTTP 422"}
    recs.dropped = {"shop/Deployment/cart/old-sidecar": "removed from its workload"}
    text = render(recs, "table")
    assert text.endswith("\nnot recommended (no longer running):\n  - shop/Deployment/cart/old-sidecar: removed from "
                         "its workload\nleft out (partial result):\n  ! namespace batch: HTTP 422\n")


def test_the_table_written_to_a_file_is_the_table_printed(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    printed = subprocess.run([sys.executable, "-m", "rightsizer", "report", "--demo", "-q", "-n", "shop|batch"],
                             capture_output=True, text=True, env=env, check=True).stdout
    target = tmp_path / "table.txt"
    subprocess.run([sys.executable, "-m", "rightsizer", "report", "--demo", "-q", "-n", "shop|batch", "--output",
                    str(target)], capture_output=True, text=True, env=env, check=True)
    assert target.read_text() == printed and "total (one pod each)" in printed


def _sums(recs, namespace):
    """Requests of one namespace summed from the recommendations themselves, as the reports must show them."""
    members = [r for r in recs if r.key.namespace == namespace and r.requests is not None]
    cpu = (sum(r.current_requests.cpu or 0 for r in members), sum(r.requests.cpu or 0 for r in members))
    memory = (sum(r.current_requests.memory or 0 for r in members), sum(r.requests.memory or 0 for r in members))
    return f"{format_cpu(cpu[0])} → {format_cpu(cpu[1])}", f"{format_memory(memory[0])} → {format_memory(memory[1])}"


@pytest.fixture(scope="module")
def priced(demo):
    """The demo's recommendations with their costs, as the CLI reports them."""
    history, _ = demo
    recs = recommend(history)
    attach_costs(recs, history, cluster_rates(load_catalog(), "us-east-1", list(history.nodes.values()), None))
    return recs


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_table_fits_the_width_and_keeps_every_value_whole(priced, width):
    recs = priced
    text = render(recs, "table", width=width)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width
    assert "…" not in text, "nothing cut short"
    for r in recs:
        assert r.key.workload in text and r.key.container in text
        for value in (r.quantities("recommended") or {}).values():
            assert value is None or f"→ {value}" in text or value in text
    assert ("Namespace" in text) == (width >= 200), "narrow layouts drop the namespace column"
    assert ("$/month" in text) == (width >= 120), "80 columns drop the cost"


def test_every_format_shows_namespace_subtotals(demo, priced):
    history, recs = demo[0], priced
    table, markdown = render(recs, "table"), render(recs, "markdown")
    page = render(recs, "html", history=history, plots=0)
    namespaces = sorted({r.key.namespace for r in recs})
    assert len(namespaces) > 1
    for ns in namespaces:
        cpu, memory = _sums(recs, ns)
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {ns} | "))
        assert f"| {cpu} | {memory} |" in row
        cells = page.split('id="namespaces"')[1].split(f"<td>{ns}</td>")[1].split("</tr>")[0]
        assert cpu in cells and memory in cells
        members = [r for r in recs if r.key.namespace == ns]
        if len(members) > 1:
            line = next(line for line in table.splitlines() if line.startswith(f"│ {ns} ") and "subtotal" in line)
            assert cpu in line and memory in line
            cost = (sum(r.cost[0] for r in members), sum(r.cost[1] for r in members))
            assert f"${cost[0]:,.0f} → ${cost[1]:,.0f}" in line


def test_init_containers_are_marked_in_every_format(demo):
    history, recs = demo
    init = [r for r in recs if r.init]
    assert init, "the demo has init containers"
    for fmt in ("table", "markdown", "html"):
        text = render(recs, fmt, history=history, plots=0, width=120 if fmt == "table" else None)
        for r in init:
            assert f"{r.key.container} (init)" in text, fmt
    assert {(row["container"], row["init_container"]) for row in csv.DictReader(io.StringIO(render(recs, "csv")))} \
        >= {(r.key.container, "True") for r in init}
    assert all(d["init_container"] for d in json.loads(render(recs, "json"))["recommendations"]
               if d["container"] in {r.key.container for r in init})


def test_piped_output_follows_columns():
    for columns in ("80", "120"):
        env = {**os.environ, "COLUMNS": columns}
        out = subprocess.run([sys.executable, "-m", "rightsizer", "report", "--demo", "-q"], capture_output=True,
                             text=True, env=env, check=True).stdout
        assert max(len(line) for line in out.splitlines()) <= int(columns)
        assert "Namespace" not in out and "storefront-97196" in out, "stacked, not squeezed"
