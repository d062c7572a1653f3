"""Hand-edited recommendations files: a value no manifest should get is refused for its entry alone, naming the
container and the field; the other entries are applied."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parent.parent.parent / "fixtures" / "gitops-repo"

#: (namespace/kind/workload/container, field, hand-edited value)
EDITS = [
    ("shop/Deployment/storefront/app", "cpu_request", "-500m"),
    ("shop/Deployment/storefront/envoy", "memory_limit", "-1Gi"),
    ("shop/Deployment/checkout/app", "cpu_request", "0"),
    ("shop/Deployment/cart/app", "memory_request", "64Gi"),  # above its limit
    ("shop/Deployment/catalog/app", "cpu_limit", "lots"),
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rightsizer", *args], capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("report") / "recs.json"
    assert run("report", "--demo", "-o", "json", "--output", str(path)).returncode == 0
    return json.loads(path.read_text())


def key(entry: dict) -> str:
    return "/".join(entry[k] for k in ("namespace", "kind", "workload", "container"))


def test_each_bad_entry_is_refused_by_name_and_the_others_are_applied(tmp_path, report):
    doc = json.loads(json.dumps(report))
    entries = {key(e): e for e in doc["recommendations"]}
    for name, field, value in EDITS:
        assert entries[name]["recommended"], name
        entries[name]["recommended"][field] = value
    if entries["shop/Deployment/cart/app"]["recommended"]["memory_limit"] is None:
        entries["shop/Deployment/cart/app"]["recommended"]["memory_limit"] = "1Gi"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    repo = tmp_path / "gitops"
    shutil.copytree(FIXTURE, repo)
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    result = run("patch", "--recommendations", str(edited), "--repo", str(repo))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name, field, value in EDITS:
        lines = [line for line in result.stderr.splitlines() if name in line and "refused" in line]
        assert len(lines) == 1 and field in lines[0], (name, result.stderr)
    changed = {p.relative_to(repo).as_posix(): p.read_text() for p in repo.rglob("*")
               if p.is_file() and before[p] != p.read_bytes()}
    assert "apps/platform/log-agent.yaml" in changed, "the valid entries are applied"
    text = "".join(changed.values())
    for _, _, value in EDITS:
        assert f": {value}\n" not in text and f": '{value}'" not in text and f': "{value}"' not in text, value
    # the refused containers' manifests keep their values: the prod overlay of shop changes nowhere
    assert not any(path.startswith("kustomize/shop/overlays/prod/resources.yaml") for path in changed)


def test_a_dry_run_refuses_the_same_entries(tmp_path, report):
    doc = json.loads(json.dumps(report))
    entry = next(e for e in doc["recommendations"] if key(e) == "shop/Deployment/storefront/app")
    entry["recommended"]["cpu_request"] = "-500m"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    repo = tmp_path / "gitops"
    shutil.copytree(FIXTURE, repo)
    result = run("patch", "--recommendations", str(edited), "--repo", str(repo), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "-500m" not in result.stdout
    assert any("shop/Deployment/storefront/app" in line and "cpu_request" in line and "refused" in line
               for line in result.stderr.splitlines()), result.stderr
