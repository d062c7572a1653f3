"""The command line as a user runs it: a real process, its output, its exit code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rightsizer.api import DEMO_SNAPSHOT
from rightsizer.quantity import parse_memory
from rightsizer.sources.snapshot import load_snapshot
from rightsizer.testing.testbed import free_port


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rightsizer", *args], check=False, capture_output=True, text=True,
                          timeout=120, env=env)


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_demo_report_table():
    result = run("report", "--demo")
    assert result.returncode == 0, result.stderr
    for name in ("shop", "payments", "storefront", "ledger-db", "total (one pod each)", "→"):
        assert name in result.stdout


def test_demo_report_json_lists_every_container_with_quantities():
    result = run("report", "--demo", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    demo = load_snapshot(DEMO_SNAPSHOT)
    listed = {(r["namespace"], r["kind"], r["workload"], r["container"]) for r in doc["recommendations"]}
    assert listed == {(k.namespace, k.kind, k.workload, k.container) for k in demo.containers}
    for rec in doc["recommendations"]:
        for side in ("current", "recommended"):
            assert set(rec[side]) == {"cpu_request", "cpu_limit", "memory_request", "memory_limit"}
        assert rec["recommended"]["cpu_request"].endswith("m")
        assert rec["recommended"]["memory_request"].endswith(("Mi", "Gi"))
        assert rec["reasons"]


def test_output_file_is_written(tmp_path):
    target = tmp_path / "recs.json"
    result = run("report", "--demo", "-o", "json", "--output", str(target), "--namespace", "shop")
    assert result.returncode == 0, result.stderr
    doc = json.loads(target.read_text())
    assert {r["namespace"] for r in doc["recommendations"]} == {"shop"}
    assert "wrote" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("report",), 1, "choose one source"),
        (("report", "--demo", "--snapshot", "x.parquet"), 1, "choose one source"),
        (("report", "--snapshot", "/nonexistent/c.parquet"), 1, "does not exist"),
        (("report", "--demo", "--namespace", "("), 1, "invalid --namespace regular expression"),
        (("report", "--demo", "--namespace", ""), 1, "empty --namespace"),
        (("report", "--demo", "--namespace", "nope"), 1, "no container in demo-cluster.parquet matches"),
        (("report", "--demo", "--selector", "app=web"), 1, "--selector needs pod labels"),
        (("report", "--demo", "-o", "xml"), 2, "choose one of table, json"),
        (("report", "--demo", "--frobnicate"), 2, "No such option"),
        (("report", "--prometheus-url", "http://127.0.0.1:1", "--window", "fortnight"), 1, "invalid --window"),
        (("report", "--prometheus-url", "localhost:9090"), 1, "invalid Prometheus URL"),
        (("snapshot", "-o", "x.parquet"), 1, "pass --prometheus-url"),
    ],
)
def test_bad_input_is_one_clear_line(args, code, message):
    assert_clean_error(run(*args), code, message)


def test_corrupt_snapshot(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    assert_clean_error(run("report", "--snapshot", str(bad)), 1, "not a readable Parquet file")


def test_unreachable_prometheus():
    result = run("report", "--prometheus-url", f"http://127.0.0.1:{free_port()}", "--retries", "0")
    assert_clean_error(result, 1, "cannot connect to Prometheus", "refused")
    assert result.stderr.count("\n") == 1


def test_help_and_version():
    assert "Recommend CPU and memory" in run("report", "--help").stdout
    assert run("--version").stdout.startswith("rightsizer ")


@pytest.mark.prometheus
def test_snapshot_then_offline_report_equals_live_report(prometheus, tmp_path):
    window = ["--window", f"{int(prometheus.options.window)}s", "--end", str(int(prometheus.end))]
    snap = tmp_path / "cluster.parquet"
    recorded = run("snapshot", "--prometheus-url", prometheus.url, *window, "-o", str(snap), "-q")
    assert recorded.returncode == 0, recorded.stderr
    live = run("report", "--prometheus-url", prometheus.url, *window, "-o", "json", "-q")
    offline = run("report", "--snapshot", str(snap), "-o", "json")
    assert live.returncode == 0 and offline.returncode == 0, live.stderr + offline.stderr
    live_doc, offline_doc = json.loads(live.stdout), json.loads(offline.stdout)
    assert live_doc["recommendations"] == offline_doc["recommendations"]
    assert len(live_doc["recommendations"]) == prometheus.cluster.spec.n_containers


@pytest.mark.prometheus
def test_prometheus_url_from_the_environment_and_a_token_file(prometheus, tmp_path):
    token = tmp_path / "token"
    token.write_text("planted-secret-token\n")
    env = {"PATH": "/usr/bin:/bin", "RIGHTSIZER_PROMETHEUS_URL": prometheus.url,
           "RIGHTSIZER_PROMETHEUS_TOKEN_FILE": str(token), "HOME": str(Path.home())}
    result = run("report", "--window", "1d", "--end", str(int(prometheus.end)), "-n", "shop", "-o", "json",
                 "--verbose", env=env)
    assert result.returncode == 0, result.stderr
    assert {r["namespace"] for r in json.loads(result.stdout)["recommendations"]} == {"shop"}
    assert "planted-secret-token" not in result.stdout + result.stderr


def test_backtest_on_the_demo():
    result = run("backtest", "--demo", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [s["strategy"] for s in doc["strategies"]] == ["rightsizer", "max-plus-15", "vpa-like"]
    assert all(s["containers"] > 20 for s in doc["strategies"])
    table = run("backtest", "--demo", "--strategy", "rightsizer", "--strategy", "vpa-like")
    assert table.returncode == 0 and "Would OOM" in table.stdout and "max-plus-15" not in table.stdout


def test_policy_flags_and_config(tmp_path):
    config = tmp_path / "rightsizer.yaml"
    config.write_text("namespaces:\n  shop: {qos: guaranteed}\n")
    result = run("report", "--demo", "-n", "shop|payments", "-o", "json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    recs = json.loads(result.stdout)["recommendations"]
    assert all(r["recommended"]["cpu_limit"] is not None for r in recs if r["namespace"] == "shop")
    assert all(r["recommended"]["cpu_limit"] is None for r in recs if r["namespace"] == "payments")
    savings = json.loads(run("report", "--demo", "-o", "json", "--profile", "savings").stdout)
    reliability = json.loads(run("report", "--demo", "-o", "json", "--profile", "reliability").stdout)

    def total(doc):
        return sum(parse_memory(r["recommended"]["memory_request"]) for r in doc["recommendations"]
                   if r["recommended"])

    assert total(savings) < total(reliability)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("report", "--demo", "--profile", "cheap"), 2, "choose one of savings, balanced, reliability"),
        (("report", "--demo", "--qos", "best"), 2, "choose burstable or guaranteed"),
        (("report", "--demo", "--strategy", "magic"), 1, "unknown strategy"),
        (("report", "--demo", "--config", "/nonexistent.yaml"), 1, "does not exist"),
        (("report", "--demo", "--change-threshold", "2"), 1, "change_threshold: must be less than or equal to 1"),
        (("backtest", "--demo", "--train", "30d"), 1, "too short"),
        (("backtest", "--demo", "-o", "html"), 2, "choose one of table, json, csv"),
    ],
)
def test_bad_policy_input(args, code, message):
    assert_clean_error(run(*args), code, message)


def test_every_format_on_the_command_line(tmp_path):
    for fmt in ("yaml", "csv", "markdown"):
        result = run("report", "--demo", "-n", "shop", "-o", fmt)
        assert result.returncode == 0 and "storefront" in result.stdout, (fmt, result.stderr)
    page = tmp_path / "report.html"
    result = run("report", "--demo", "-n", "shop", "-o", "html", "--output", str(page), "--plots", "2")
    assert result.returncode == 0, result.stderr
    assert page.read_text().count("<svg") == 2


def test_fail_on_change_is_a_ci_gate():
    result = run("report", "--demo", "-n", "shop", "-o", "json", "--fail-on-change")
    assert result.returncode == 3 and "would change" in result.stderr
    assert json.loads(result.stdout)["summary"]["changed"] > 0, "the report is still printed"
    calm = run("report", "--demo", "-n", "payments", "-w", "ledger-db", "--change-threshold", "1",
               "--fail-on-change", "-o", "json")
    assert calm.returncode == 0, calm.stderr


@pytest.mark.parametrize("target", ["/proc/rightsizer-report.json", "/nonexistent-dir/report.json"])
def test_unwritable_output_is_a_clear_error(target):
    assert_clean_error(run("report", "--demo", "-o", "json", "--output", target), 1, "cannot write")
    assert not Path(target).exists()


def test_output_to_a_directory_is_refused(tmp_path):
    assert_clean_error(run("report", "--demo", "--output", str(tmp_path)), 1, "is a directory")
    assert list(tmp_path.iterdir()) == [], "no temporary file left behind"


def test_patch_dry_run_then_apply(tmp_path):
    repo = tmp_path / "gitops"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "gitops-repo", repo)
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    dry = run("patch", "--demo", "--repo", str(repo), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "+++ b/apps/platform/log-agent.yaml" in dry.stdout and "would change" in dry.stderr
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before, "a dry run writes nothing"
    report = tmp_path / "recs.json"
    assert run("report", "--demo", "-o", "json", "--output", str(report)).returncode == 0
    applied = run("patch", "--recommendations", str(report), "--repo", str(repo), "-n", "shop")
    assert applied.returncode == 0, applied.stderr
    changed = {p for p in repo.rglob("*") if p.is_file() and before.get(p) != p.read_bytes()}
    assert changed and all("kustomize/shop/overlays/prod" in str(p) for p in changed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("patch", "--demo"), "give --repo PATH"),
        (("patch", "--demo", "--repo", "/nonexistent"), "is not a directory"),
        (("patch", "--recommendations", "/nonexistent.json", "--repo", "."), "does not exist"),
        (("patch", "--recommendations", "pyproject.toml", "--repo", "."), "is not a JSON report"),
        (("patch", "--demo", "--recommendations", "x.json", "--repo", "."), "replaces the source"),
    ],
)
def test_bad_patch_input(args, message):
    assert_clean_error(run(*args), 1, message)


def test_turning_tls_verification_off_warns(tmp_path):
    result = run("report", "--prometheus-url", f"https://127.0.0.1:{free_port()}", "--insecure-skip-tls-verify",
                 "--retries", "0")
    assert "warning: TLS certificate verification is off" in result.stderr
    assert result.returncode == 1
