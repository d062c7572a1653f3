"""Every report format parses back and carries every recommendation; the HTML page works in a real browser."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from rightsizer.api import load_history
from rightsizer.recommend import recommend
from rightsizer.report import FORMATS, render


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
    table_rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(table_rows) == len(changed) + 1


def test_table_groups_by_namespace_and_totals(demo):
    _, recs = demo
    text = render(recs, "table")
    assert "total (one pod each)" in text
    assert all(r.key.workload in text for r in recs)


def test_html_is_self_contained_and_plots_the_top_containers(demo):
    history, recs = demo
    page = render(recs, "html", history, plots=5)
    assert page.count("<svg") == 5
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "nothing loaded from the network"
    assert "<link" not in page and "@import" not in page and "<metadata>" not in page
    assert page.count("<tr>") == len(recs) + 1
    assert len(page) < 2_000_000
    everything = render(recs, "html", history, plots=len(recs))
    assert everything.count("<svg") == sum(r.requests is not None for r in recs)


@pytest.mark.browser
def test_html_report_renders_in_headless_chromium(demo, tmp_path):
    history, recs = demo
    page = tmp_path / "report.html"
    page.write_text(render(recs, "html", history, plots=3))
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
    assert set(FORMATS) == {"table", "json", "yaml", "csv", "markdown", "html"}
