"""Hostile values in flags, config, catalog and snapshot files: one clear line, exit 1, nothing written.

Each case here was a traceback (or a runaway) before; the properties at the end feed random values
through the same inputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rightsizer.api import DEMO_SNAPSHOT
from rightsizer.config import PolicySet
from rightsizer.cost.catalog import bundled_catalog_path, load_catalog
from rightsizer.errors import RightsizerError
from rightsizer.sources.snapshot import _META_KEY, load_snapshot
from rightsizer.timeparse import parse_duration, parse_instant


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rightsizer", *args], check=False, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(("flag", "value", "needle"), [
    ("--end", "99999999999999999999", "between 1970 and 9999"),
    ("--end", "9999-99-99", "ISO 8601"),
    ("--window", "10000w", "longer than 10 years"),
    ("--window", "nan", "invalid --window"),
    ("--step", "0s", "longer than zero"),
])
def test_time_flags_out_of_range_are_one_line(flag, value, needle):
    assert_one_line_error(run("report", "--prometheus-url", "http://127.0.0.1:9", flag, value), needle)


@pytest.mark.parametrize("text", ["inf", "1e400", "-5", "12:00"])
def test_instants_that_are_not_times_are_refused(text):
    with pytest.raises(RightsizerError):
        parse_instant(text)


@given(st.text(max_size=30))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_duration_text_parses_to_a_bounded_positive_number_or_a_clear_error(text):
    try:
        seconds = parse_duration(text)
    except RightsizerError as exc:
        assert "invalid" in str(exc)
    else:
        assert 0 < seconds <= 10 * 365 * 86_400


@given(st.text(max_size=40))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_instant_text_is_a_time_in_range_or_a_clear_error(text):
    try:
        seconds = parse_instant(text)
    except RightsizerError as exc:
        assert "invalid --end" in str(exc)
    else:
        assert 0 <= seconds <= 253_402_300_799


@pytest.mark.parametrize(("body", "needle"), [
    ("a: " + "[" * 500 + "]" * 500 + "\n", "nested"),
    ("policy:\n  cpu: {granularity: 1e-300}\n", "policy.cpu.granularity"),
    ("policy:\n  memory: {min_bytes: .inf}\n", "policy.memory.min_bytes"),
    ("policy:\n  memory: {min_bytes: 1e300}\n", "policy.memory.min_bytes"),
    ("policy:\n  memory: {granularity: .nan}\n", "policy.memory.granularity"),
    ("policy: {}\n---\npolicy: {memory: {margin: 3}}\n", "holds 2 YAML documents"),
    ("a: &x [1, 2]\nb: [" + ", ".join(["*x"] * 10) + "]\n" + "".join(
        f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "*x"] * 10) + "]\n" for i in range(6)), "aliases"),
])
def test_config_values_no_policy_can_hold_are_refused(tmp_path, body, needle):
    config = tmp_path / "rightsizer.yaml"
    config.write_text(body)
    with pytest.raises(RightsizerError, match=needle.replace(".", r"\.")):
        PolicySet.load(config)
    assert_one_line_error(run("report", "--demo", "--config", str(config)), needle)


def _catalog_with(tmp_path: Path, column: str, value: str) -> Path:
    lines = bundled_catalog_path().read_text().splitlines()
    header_at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    header = lines[header_at].split(",")
    row = lines[header_at + 1].split(",")
    row[header.index(column)] = value
    lines[header_at + 1] = ",".join(row)
    target = tmp_path / "catalog.csv"
    target.write_text("\n".join(lines) + "\n")
    return target


@pytest.mark.parametrize(("column", "value"), [
    ("on_demand_hourly", "inf"), ("on_demand_hourly", "nan"), ("vcpu", "1e999"), ("interruption_bucket", "nan"),
    ("memory_gib", "-inf"),
])
def test_catalog_numbers_that_are_not_finite_name_row_and_column(tmp_path, column, value):
    catalog = _catalog_with(tmp_path, column, value)
    with pytest.raises(RightsizerError, match=f"row 1, column '{column}'"):
        load_catalog(catalog)
    assert_one_line_error(run("cost", "--demo", "--catalog", str(catalog)), column)


def test_catalog_that_is_not_utf8_says_so(tmp_path):
    catalog = tmp_path / "catalog.csv"
    catalog.write_bytes(bundled_catalog_path().read_bytes() + b"\xff\xfe bad\n")
    assert_one_line_error(run("cost", "--demo", "--catalog", str(catalog)), "not UTF-8")


def _snapshot_with(tmp_path: Path, **changes: object) -> Path:
    table = pq.read_table(DEMO_SNAPSHOT)
    meta = json.loads(table.schema.metadata[_META_KEY])
    meta.update(changes)
    target = tmp_path / "bad.parquet"
    pq.write_table(table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()}), target)
    return target


@pytest.mark.parametrize("changes", [
    {"step": 0}, {"step": float("nan")}, {"n_steps": 100_000_000_000}, {"n_steps": 2.5}, {"start": float("inf")},
])
def test_snapshot_grids_no_recording_makes_are_refused_before_allocating(tmp_path, changes):
    snapshot = _snapshot_with(tmp_path, **changes)
    with pytest.raises(RightsizerError, match="inconsistent"):
        load_snapshot(snapshot)
    assert_one_line_error(run("report", "--snapshot", str(snapshot)), "inconsistent")


def test_snapshot_request_of_1e308_is_refused(tmp_path):
    meta = json.loads(pq.read_table(DEMO_SNAPSHOT).schema.metadata[_META_KEY])
    meta["containers"][0]["requests"]["cpu"] = 1e308
    snapshot = _snapshot_with(tmp_path, containers=meta["containers"])
    assert_one_line_error(run("report", "--snapshot", str(snapshot)), "not a quantity")


def test_a_catastrophic_pattern_matches_in_linear_time():
    """``(a*)*b`` against forty a's takes a backtracking engine 2**40 steps; RE2 takes forty."""
    code = ("from rightsizer.scope import Scope; "
            "print(Scope(workload='(a*)*b').workload_ok('Deployment', 'a' * 40 + 'c'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "False", result.stderr


def test_patterns_mean_what_prometheus_regexes_mean():
    from rightsizer.scope import Scope

    scope = Scope(namespace="shop|pay.*")
    assert scope.namespace_ok("payments") and scope.namespace_ok("shop")
    assert not scope.namespace_ok("workshop")  # the whole name, as Prometheus anchors =~
    assert_one_line_error(run("report", "--demo", "-w", "(a)\\1"), "RE2 syntax")


def test_a_relative_pr_workdir_and_repo_are_taken_from_where_the_command_runs(tmp_path):
    import os
    import shutil

    from fake_hosts import TOKEN, FakeHost

    fixture = Path(__file__).resolve().parent.parent.parent / "fixtures" / "gitops-repo"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(tmp_path / "remote.git")],
                   check=True)
    seed = tmp_path / "seed"
    shutil.copytree(fixture, seed)
    for args in (["init", "--quiet", "--initial-branch=main"], ["add", "--all"],
                 ["-c", "user.email=dev@acme.test", "-c", "user.name=dev", "commit", "--quiet", "-m", "initial"],
                 ["push", "--quiet", str(tmp_path / "remote.git"), "main"]):
        subprocess.run(["git", *args], cwd=seed, check=True, capture_output=True)
    with FakeHost() as host:
        result = subprocess.run(
            [sys.executable, "-m", "rightsizer", "pr", "--demo", "--repo", "remote.git", "--workdir", "wd",
             "--project", "acme/gitops", "--provider", "github", "--api-url", host.url, "--allow-insecure-remote"],
            capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
            env={**os.environ, "GITHUB_TOKEN": TOKEN, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        assert result.returncode == 0, result.stderr
        assert len(host.pulls) == 1
    assert (tmp_path / "wd" / ".git").is_dir() and not (tmp_path / "wd" / "wd").exists()


@pytest.mark.parametrize("body", [b"[1, 2]", b'"down"', b"null", b"42", b'{"error": ["a"], "errorType": {}}'])
def test_an_error_answer_whose_json_is_not_an_error_object_is_one_line(body):
    from local_http import serve

    with serve(lambda path, headers, request: (500, body)) as url:
        result = run("report", "--prometheus-url", url, "--retries", "0")
    assert_one_line_error(result, "HTTP 500")


@pytest.mark.parametrize("url", ["http://[::1", "http://host:99999", "http://host:port", "ftp://host"])
def test_a_prometheus_url_that_is_not_one_is_one_line(url):
    assert_one_line_error(run("report", "--prometheus-url", url), "invalid Prometheus URL")
