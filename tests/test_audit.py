"""``rightsizer audit``: each rule on small repositories, the fixture repository, the real ones, the outputs.

Small repositories are written into tmp dirs as a team would write them; the evidence comes
from histories built here (whose figures the test states) or from the bundled demo, whose own
samples are the ground truth the findings are checked against.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from realworld import REALWORLD

import rightsizer as rs
from rightsizer.audit import RULES, AuditResult, Finding
from rightsizer.history import ClusterHistory, ContainerEvent, ContainerHistory, ContainerKey, Resources, Samples
from rightsizer.patch.styles.base import dump_yaml
from rightsizer.report import render
from rightsizer.units import MiB
from rightsizer.yamlsafety import safe_documents

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "gitops-repo"
SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-schema-2.1.0.json"
needs_realworld = pytest.mark.skipif(REALWORLD is None, reason="shared/realworld/gitops is not on this machine")


# --- small repositories ---------------------------------------------------------------------------


def container(name: str = "app", *, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None,
              probes: bool = True, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "image": "ghcr.io/acme/app:1.0"}
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    if resources:
        out["resources"] = resources
    if probes:
        out["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}}
        out["livenessProbe"] = {"httpGet": {"path": "/health", "port": 8080}}
    out.update(extra)
    return out


GOOD = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}}
SPREAD = {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                         "whenUnsatisfiable": "ScheduleAnyway",
                                         "labelSelector": {"matchLabels": {"app": "web"}}}]}


def workload(*containers: dict[str, Any], kind: str = "Deployment", name: str = "web", replicas: int | None = 2,
             pod: dict[str, Any] | None = None, namespace: str = "shop") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": list(containers), **(SPREAD if pod is None else pod)}
    template = {"metadata": {"labels": {"app": name}}, "spec": spec}
    body: dict[str, Any] = {"selector": {"matchLabels": {"app": name}}, "template": template}
    if replicas is not None:
        body["replicas"] = replicas
    if kind == "CronJob":
        body = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    return {"apiVersion": "apps/v1" if kind != "CronJob" else "batch/v1", "kind": kind,
            "metadata": {"name": name, "namespace": namespace}, "spec": body}


def pdb(name: str = "web", namespace: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name,
            "namespace": namespace}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": name}}}}


def repo(tmp_path: Path, *docs: dict[str, Any]) -> Path:
    root = tmp_path / "gitops"
    root.mkdir(exist_ok=True)
    (root / "app.yaml").write_text("---\n".join(dump_yaml(d) for d in docs))
    return root


def found(root: Path, rule: str, history: ClusterHistory | None = None) -> list[Finding]:
    return [f for f in rs.audit(root, history, rules=[rule])]


def line_text(root: Path, f: Finding) -> str:
    return (root / f.file).read_text().splitlines()[f.line - 1]


KEY = ContainerKey("shop", "Deployment", "web", "app")


def history(memory_mib: float = 200.0, throttled: float | None = None, events: list[ContainerEvent] | None = None,
            late_pod: bool = False, burst_steps: int = 0) -> ClusterHistory:
    """One container, two pods over 100 five-minute steps (the second starting at step 50 when ``late_pod``, its
    CPU at 1 core for its first ``burst_steps``, then 0.05 as the other's)."""
    steps = np.arange(100)
    pods = [np.zeros(100, dtype=int), np.ones(50 if late_pod else 100, dtype=int)]
    step_of = [steps, steps[50:] if late_pod else steps]
    memory = np.concatenate([np.full(len(s), memory_mib * MiB) for s in step_of])
    cpu = np.full(len(memory), 0.05)
    cpu[100:100 + burst_steps] = 1.0  # the second pod's first rows
    values: dict[str, np.ndarray] = {"cpu": cpu, "memory": memory}
    if throttled is not None:
        values["throttled"] = np.full(len(memory), throttled)
    samples = Samples.from_rows(np.concatenate(pods), np.concatenate(step_of), values)
    ch = ContainerHistory(KEY, ["web-a", "web-b"], samples, Resources(0.1, 256 * MiB), Resources(None, 256 * MiB),
                          events=events or [])
    return ClusterHistory(0.0, 300.0, 100, {KEY: ch}, source="test history")


# --- each rule: a case that fires and one that does not ----------------------------------------------


def test_requests_missing(tmp_path):
    root = repo(tmp_path, workload(container(limits={"memory": "1Gi"})))
    [f] = found(root, "requests-missing")
    assert (f.severity, f.container, f.file) == ("warning", "app", "app.yaml")
    assert "cpu request" in f.message and "memory request" in f.message
    assert line_text(root, f).strip().startswith("resources:")  # no requests: where they go
    assert not found(repo(tmp_path, workload(container(**GOOD))), "requests-missing")


def test_cpu_limit_points_at_the_limit_and_carries_the_throttled_share(tmp_path):
    root = repo(tmp_path, workload(container(requests={"cpu": "100m", "memory": "256Mi"},
                                             limits={"cpu": "200m", "memory": "256Mi"})))
    [plain] = found(root, "cpu-limit")
    assert plain.severity == "warning" and line_text(root, plain).strip() == "cpu: 200m"
    [measured] = found(root, "cpu-limit", history(throttled=0.3))
    assert measured.severity == "error"
    assert any("throttled in 30% of CPU periods" in e for e in measured.evidence)
    [mild] = found(root, "cpu-limit", history(throttled=0.01))
    assert mild.severity == "warning"
    assert not found(repo(tmp_path, workload(container(**GOOD))), "cpu-limit")


def test_memory_request_far_from_the_peak(tmp_path):
    root = repo(tmp_path, workload(container(**GOOD)))  # requests 256Mi
    assert not found(root, "memory-request-vs-peak")  # nothing measured: nothing said
    [low] = found(root, "memory-request-vs-peak", history(memory_mib=400))
    assert low.severity == "warning" and "64% of the measured peak" in low.message
    assert line_text(root, low).strip() == "memory: 256Mi"
    assert "measured working-set peak 400Mi over 2 pods" in low.evidence
    [high] = found(root, "memory-request-vs-peak", history(memory_mib=100))
    assert high.severity == "info" and "2.6x" in high.message
    assert not found(root, "memory-request-vs-peak", history(memory_mib=250))
    oom = [ContainerEvent(1000.0, "web-a", "OOMKilled"), ContainerEvent(2000.0, "web-a", "OOMKilled")]
    [killed] = found(root, "memory-request-vs-peak", history(memory_mib=250, events=oom))
    assert killed.severity == "error" and "2 OOM kills" in killed.message


def node(options: str | None = None, limit: str = "512Mi", **extra: Any) -> dict[str, Any]:
    env = [{"name": "NODE_OPTIONS", "value": options}] if options is not None else []
    return container(requests={"cpu": "100m", "memory": limit}, limits={"memory": limit},
                     **({"env": env} if env else {}), **extra)


def test_node_heap_missing(tmp_path):
    [f] = found(repo(tmp_path, workload(node("--enable-source-maps"))), "node-heap-missing")
    # the engine's sizing with no heap metrics: 512Mi - a quarter for non-heap (128) - 48Mi young generation
    assert "512Mi" in f.message and "--max-old-space-size=336 (66% of the limit" in f.fix
    # 64Mi leaves nothing for a heap once a quarter and the young generation are kept: the limit must rise
    [tiny] = found(repo(tmp_path, workload(node("--enable-source-maps", limit="64Mi"))), "node-heap-missing")
    assert "limit raised to" in tiny.fix and "do not fit in 64Mi" in tiny.fix
    [by_image] = found(repo(tmp_path, workload(node(image="node:20-alpine"))), "node-heap-missing")
    assert any("node:20-alpine" in e for e in by_image.evidence)
    assert not found(repo(tmp_path, workload(node("--max-old-space-size=384"))), "node-heap-missing")
    assert not found(repo(tmp_path, workload(container(**GOOD))), "node-heap-missing")  # not Node.js
    no_limit = container(requests={"cpu": "100m", "memory": "256Mi"}, image="node:20")
    assert not found(repo(tmp_path, workload(no_limit)), "node-heap-missing")


def test_node_heap_share(tmp_path):
    root = repo(tmp_path, workload(node("--max-old-space-size=480")))
    [high] = found(root, "node-heap-share")
    assert high.severity == "warning" and "94%" in high.message
    assert line_text(root, high).strip().startswith("value:")  # the NODE_OPTIONS value
    [low] = found(repo(tmp_path, workload(node("--max-old-space-size=200"))), "node-heap-share")
    assert low.severity == "info" and "39%" in low.message
    assert not found(repo(tmp_path, workload(node("--max-old-space-size=384"))), "node-heap-share")
    [pct] = found(repo(tmp_path, workload(node("--max-old-space-size-percentage=95"))), "node-heap-share")
    assert "95%" in pct.message


def test_node_heap_set_twice(tmp_path):
    twice = node("--max-old-space-size=384", args=["node", "--max-old-space-size=256", "server.js"])
    root = repo(tmp_path, workload(twice))
    [f] = found(root, "node-heap-twice")
    assert "256 MiB in args (in force)" in f.message and "NODE_OPTIONS 384" in f.message
    same = node("--max-old-space-size=384", args=["node", "--max-old-space-size=384", "server.js"])
    assert not found(repo(tmp_path, workload(same)), "node-heap-twice")


def test_node_heap_over_limit(tmp_path):
    [f] = found(repo(tmp_path, workload(node("--max-old-space-size=600"))), "node-heap-over-limit")
    assert f.severity == "error" and "600 MiB" in f.message
    shell = node(command=["sh", "-c", "node --max-old-space-size=1024 app.js"])
    [inline] = found(repo(tmp_path, workload(shell)), "node-heap-over-limit")
    assert "1024 MiB" in inline.message
    assert not found(repo(tmp_path, workload(node("--max-old-space-size=384"))), "node-heap-over-limit")


def test_readiness_and_liveness_probes(tmp_path):
    root = repo(tmp_path, workload(container(probes=False, **GOOD)))
    [ready] = found(root, "readiness-probe-missing")
    [live] = found(root, "liveness-probe-missing")
    assert (ready.severity, live.severity) == ("warning", "info")
    assert line_text(root, ready).strip() == "- name: app"
    assert not found(repo(tmp_path, workload(container(**GOOD))), "readiness-probe-missing")
    job = workload(container(probes=False, **GOOD), kind="CronJob", replicas=None)
    assert not found(repo(tmp_path, job), "readiness-probe-missing")  # a run to completion needs none


def test_startup_probe_for_a_slow_start(tmp_path):
    root = repo(tmp_path, workload(container(**GOOD)))
    started = 50 * 300.0  # web-b's first step
    crash = [ContainerEvent(started + 300.0, "web-b", "Error"), ContainerEvent(started + 300.0, "web-b", "Error")]
    [f] = found(root, "startup-probe-missing", history(events=crash, late_pod=True))
    assert f.severity == "warning" and any("2 restarts within the first minutes" in e for e in f.evidence)
    late = [ContainerEvent(started + 40 * 300.0, "web-b", "Error")]  # long after the start: not a start problem
    assert not found(root, "startup-probe-missing", history(events=late, late_pod=True))
    [burst] = found(root, "startup-probe-missing", history(late_pod=True, burst_steps=3))
    assert "above twice its usual CPU for 15 minutes" in " ".join(burst.evidence)
    assert not found(root, "startup-probe-missing", history(late_pod=True, burst_steps=1))  # 5 minutes: a start
    assert not found(root, "startup-probe-missing")  # nothing measured: nothing said
    with_probe = container(startupProbe={"httpGet": {"path": "/health", "port": 8080}}, **GOOD)
    assert not found(repo(tmp_path, workload(with_probe)), "startup-probe-missing",
                     history(events=crash, late_pod=True))


def test_single_replica_without_a_budget(tmp_path):
    root = repo(tmp_path, workload(container(**GOOD), replicas=1))
    [f] = found(root, "single-replica-no-pdb")
    assert line_text(root, f).strip() == "replicas: 1"
    assert not found(repo(tmp_path, workload(container(**GOOD), replicas=1), pdb()), "single-replica-no-pdb")
    assert not found(repo(tmp_path, workload(container(**GOOD), replicas=3)), "single-replica-no-pdb")
    [unset] = found(repo(tmp_path, workload(container(**GOOD), replicas=None)), "single-replica-no-pdb")
    assert "(not set: 1)" in unset.evidence[0]


def test_replicas_without_spread(tmp_path):
    root = repo(tmp_path, workload(container(**GOOD), replicas=3, pod={}))
    [f] = found(root, "no-spread")
    assert "up to 3 replicas" in f.message and line_text(root, f).strip() == "spec:"
    assert not found(repo(tmp_path, workload(container(**GOOD), replicas=3)), "no-spread")
    anti = {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}}
    assert found(repo(tmp_path, workload(container(**GOOD), replicas=3, pod=anti)), "no-spread")  # empty: nothing
    anti["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = [
        {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]
    assert not found(repo(tmp_path, workload(container(**GOOD), replicas=3, pod=anti)), "no-spread")


def hpa(metric: str = "cpu") -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web",
            "namespace": "shop"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                               "name": "web"}, "minReplicas": 2, "maxReplicas": 6,
                                            "metrics": [{"type": "Resource", "resource": {"name": metric, "target": {
                                                "type": "Utilization", "averageUtilization": 70}}}]}}


def test_hpa_on_cpu_without_a_cpu_request(tmp_path):
    no_cpu = container(requests={"memory": "256Mi"}, limits={"memory": "256Mi"})
    [f] = found(repo(tmp_path, workload(no_cpu), hpa()), "hpa-cpu-without-request")
    assert f.severity == "error" and "HPA web" in f.message
    assert not found(repo(tmp_path, workload(container(**GOOD)), hpa()), "hpa-cpu-without-request")
    assert not found(repo(tmp_path, workload(no_cpu), hpa("memory")), "hpa-cpu-without-request")


def test_spot_blockers_and_an_on_demand_pin_honoured(tmp_path):
    scratch = {**SPREAD, "volumes": [{"name": "cache", "emptyDir": {}}]}
    root = repo(tmp_path, workload(container(**GOOD), pod=scratch), pdb())
    [f] = found(root, "spot-blockers")
    assert f.severity == "info" and "local storage" in f.message
    pinned = {**scratch, "nodeSelector": {"karpenter.sh/capacity-type": "on-demand"}}
    assert not found(repo(tmp_path, workload(container(**GOOD), pod=pinned), pdb()), "spot-blockers")
    on_spot = {**scratch, "nodeSelector": {"karpenter.sh/capacity-type": "spot"}}
    [spot] = found(repo(tmp_path, workload(container(**GOOD), pod=on_spot), pdb()), "spot-blockers")
    assert spot.severity == "warning" and spot.message.startswith("on spot capacity")
    assert not found(repo(tmp_path, workload(container(**GOOD)), pdb()), "spot-blockers")


def test_every_rule_is_exercised_above():
    tested = {"requests-missing", "cpu-limit", "memory-request-vs-peak", "node-heap-missing", "node-heap-share",
              "node-heap-twice", "node-heap-over-limit", "readiness-probe-missing", "liveness-probe-missing",
              "startup-probe-missing", "single-replica-no-pdb", "no-spread", "hpa-cpu-without-request",
              "spot-blockers"}
    assert set(RULES) == tested


# --- the fixture repository and the demo -------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_audit() -> AuditResult:
    return rs.audit(FIXTURE)


@pytest.fixture(scope="module")
def demo_audit() -> AuditResult:
    return rs.audit(FIXTURE, rs.load_history(demo=True))


def _one(result: AuditResult, rule: str, subject: str) -> Finding:
    matches = [f for f in result if f.rule == rule and f.subject == subject]
    assert len(matches) == 1, [f.subject for f in result if f.rule == rule]
    return matches[0]


def test_fixture_findings_point_where_the_fix_goes(fixture_audit):
    checkout = _one(fixture_audit, "cpu-limit", "shop/Deployment/checkout/app")
    assert checkout.file == "kustomize/shop/overlays/prod/resources.yaml"  # the prod overlay's patch sets it
    assert line_text(FIXTURE, checkout).strip() == "cpu: 500m"
    staging = _one(fixture_audit, "requests-missing", "shop-staging/Deployment/checkout/app")
    assert staging.file == "kustomize/shop/base/checkout.yaml"  # staging renders the base: no requests
    envoy = _one(fixture_audit, "requests-missing", "-/Deployment/payments-api/envoy")
    assert envoy.file == "charts/payments-api/values.yaml" and line_text(FIXTURE, envoy).startswith("  resources:")
    assert "charts/payments-api" in fixture_audit.unread  # what a chart's audit leaves out is said
    for f in fixture_audit:
        assert (FIXTURE / f.file).is_file() and 1 <= f.line <= len((FIXTURE / f.file).read_text().splitlines())


def test_fixture_gateway_heap_flag_is_read_from_node_options(fixture_audit):
    # api-gateway: NODE_OPTIONS "--enable-source-maps --max-old-space-size=128" under a 256Mi limit (50%)
    rules = {f.rule for f in fixture_audit if f.workload == "api-gateway"}
    assert not rules & {"node-heap-missing", "node-heap-over-limit", "node-heap-share", "node-heap-twice"}


def test_demo_evidence_throttling_and_oom_kills(demo_audit):
    history = rs.load_history(demo=True)
    checkout = history[ContainerKey("shop", "Deployment", "checkout", "app")]
    share = float(np.nanmean(checkout.samples["throttled"]))
    f = _one(demo_audit, "cpu-limit", "shop/Deployment/checkout/app")
    assert f.severity == "error" and f"throttled in {100 * share:.0f}% of CPU periods" in " ".join(f.evidence)
    cart = history[ContainerKey("shop", "Deployment", "cart", "app")]
    oom = _one(demo_audit, "memory-request-vs-peak", "shop/Deployment/cart/app")
    assert oom.severity == "error" and f"{len(cart.oom_kills)} OOM kills" in oom.message and cart.oom_kills
    assert demo_audit.source and demo_audit.window == history.describe_window()


# --- real repositories, read in place ---------------------------------------------------------------


def _kustomize(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=True).stdout
    return [d for d in safe_documents(out) if isinstance(d, dict)]


@needs_realworld
def test_podinfo_every_overlay_workload_is_audited_at_its_lines():
    assert REALWORLD is not None
    root = REALWORLD / "podinfo"
    result = rs.audit(root)
    audited = {(f.namespace, f.kind, f.workload) for f in result}
    for overlay in ("dev", "staging", "production"):
        for doc in _kustomize(root / "deploy" / "overlays" / overlay):
            if doc["kind"] in ("Deployment", "StatefulSet"):
                # each rendered workload has at least one finding (cpu limits, spread, budgets in this repo)
                assert (doc["metadata"]["namespace"], doc["kind"], doc["metadata"]["name"]) in audited
    for f in result:
        text = line_text(root, f)
        if f.rule == "cpu-limit":
            assert text.strip().startswith("cpu:"), (f.file, f.line, text)
    assert any("hooks/job.yaml" in what for what in result.unread)  # a name too dynamic without Helm


@needs_realworld
def test_a_chart_workload_is_named_as_the_cluster_names_it():
    """podinfo's chart, released as ``podinfo`` in ``web``: the template's fullname matches it for any release."""
    assert REALWORLD is not None
    key = ContainerKey("web", "Deployment", "podinfo", "podinfo")
    samples = Samples.from_rows(np.zeros(10), np.arange(10), {"cpu": np.full(10, 0.1), "memory": np.full(10, 64e6)})
    measured = ClusterHistory(0.0, 300.0, 10, {key: ContainerHistory(key, ["podinfo-1"], samples)})
    result = rs.audit(REALWORLD / "podinfo", measured, rules=["memory-request-vs-peak"])
    [f] = result.findings  # values.yaml requests 16Mi; values-prod.yaml's 64Mi is within the peak's range
    assert f.subject == "web/Deployment/podinfo/podinfo" and f.file == "charts/podinfo/values.yaml"
    assert "measured working-set peak 62Mi over 1 pods" in f.evidence
    assert line_text(REALWORLD / "podinfo", f).strip() == "memory: 16Mi"


@needs_realworld
def test_flux_example_lists_the_published_charts_it_cannot_read():
    assert REALWORLD is not None
    result = rs.audit(REALWORLD / "flux2-kustomize-helm-example")
    assert any("HelmRelease podinfo" in what for what in result.unread)
    assert result.findings == [] and result.workloads == 0


# --- outputs ------------------------------------------------------------------------------------------


def test_sarif_validates_against_the_2_1_0_schema(demo_audit):
    document = json.loads(render(demo_audit, "sarif"))
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(document)
    run = document["runs"][0]
    names = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(run["results"]) == len(demo_audit)
    for result, f in zip(run["results"], demo_audit, strict=True):
        assert names[result["ruleIndex"]] == result["ruleId"] == f.rule
        region = result["locations"][0]["physicalLocation"]
        assert region["artifactLocation"]["uri"] == f.file and region["region"]["startLine"] == f.line
    broken = json.loads(render(demo_audit, "sarif"))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(broken)


def test_json_markdown_and_table_list_every_finding(demo_audit):
    doc = json.loads(render(demo_audit, "json"))
    assert doc["summary"]["findings"] == demo_audit.counts() and len(doc["findings"]) == len(demo_audit)
    markdown = render(demo_audit, "markdown")
    assert markdown.count("\n| ") == len(demo_audit) + 1  # a row per finding under the header
    for width in (80, 120):
        table = render(demo_audit, "table", width=width)
        assert max(len(line) for line in table.splitlines()) <= width
        rows = [line for line in table.splitlines() if line.split()[:1] in (["error"], ["warning"], ["info"])]
        assert len(rows) == len(demo_audit)  # a row per finding, none dropped at either width
    frame = demo_audit.to_dataframe()
    assert len(frame) == len(demo_audit) and {"rule", "file", "line", "evidence"} <= set(frame.columns)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rightsizer", "audit", *args], capture_output=True, text=True,
                          check=False, timeout=300, cwd=ROOT)


def test_cli_with_the_demo_shows_its_evidence():
    result = cli("--repo", "fixtures/gitops-repo", "--demo", "-n", "shop", "-o", "json", "--fail-on", "error")
    assert result.returncode == 3 and "Traceback" not in result.stderr  # the demo's errors trip the gate
    doc = json.loads(result.stdout)
    evidence = [e for f in doc["findings"] for e in f["evidence"]]
    assert any(e.startswith("throttled in") for e in evidence) and any("OOM kills" in e for e in evidence)
    assert doc["source"].startswith("demo cluster") and {f["namespace"] for f in doc["findings"]} == {"shop"}


def test_fail_on_exit_codes(tmp_path):
    warning_only = repo(tmp_path, workload(container(probes=False, **GOOD), replicas=3))
    assert cli("--repo", str(warning_only), "-o", "json").returncode == 0  # findings, no --fail-on: 0
    assert cli("--repo", str(warning_only), "--fail-on", "error").returncode == 0
    failed = cli("--repo", str(warning_only), "--fail-on", "warning")
    assert failed.returncode == 3 and "--fail-on warning" in failed.stderr
    bad = cli("--repo", str(warning_only), "--fail-on", "info")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_odd_field_types_never_stop_the_audit(tmp_path):
    odd = workload(container(env={"NODE_OPTIONS": "x"}, command="node app.js", resources="lots"), name="odd")
    odd["spec"]["replicas"] = "two"
    odd["spec"]["template"]["spec"]["affinity"] = ["not", "a", "mapping"]
    weird_hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                 "metadata": {"name": "odd", "namespace": "shop"},
                 "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "odd"}, "metrics": "cpu"}}
    root = repo(tmp_path, odd, weird_hpa, workload(container(probes=False, **GOOD), name="fine"))
    result = rs.audit(root)
    assert {f.workload for f in result if f.rule == "readiness-probe-missing"} == {"fine"}
    assert any(f.workload == "odd" for f in result)  # what could be read of it was
    for what, why in result.unread.items():
        assert "odd" in what and "could not read it" in why


def test_bad_input_the_audit_goes_on_and_says_what_it_could_not_read(tmp_path):
    root = repo(tmp_path, workload(container(**GOOD), replicas=1))
    (root / "broken.yaml").write_text("kind: Deployment\nmetadata: {name: [unclosed\n")
    overlay = root / "overlays" / "prod"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources:\n  - ../../missing.yaml\n  - web.yaml\n")
    (overlay / "web.yaml").write_text(dump_yaml(workload(container(**GOOD), name="api", replicas=1)))
    result = rs.audit(root)
    assert "broken.yaml" in result.unread and "not valid YAML" in result.unread["broken.yaml"]
    assert "kubectl kustomize fails" in result.unread["overlays/prod"]
    assert {f.workload for f in result if f.rule == "single-replica-no-pdb"} == {"web", "api"}  # both still read
    down = cli("--repo", str(root), "--prometheus-url", "http://127.0.0.1:9", "--retries", "0", "--timeout", "2",
               "-o", "json", "--fail-on", "error")
    assert down.returncode == 0 and "Traceback" not in down.stderr
    assert "cannot connect" in json.loads(down.stdout)["unread"]["source"]
    assert cli("--repo", str(root / "nope")).returncode == 1
