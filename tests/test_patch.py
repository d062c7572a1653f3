"""Patching the fixture GitOps repository: the right lines, nothing else, verified by kubectl kustomize."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rightsizer.api import load_history
from rightsizer.history import ContainerKey
from rightsizer.patch import (
    PatchError,
    PlannedChange,
    build_patch,
    not_planned,
    plan,
    read_recommendations,
    recommendations_from_report,
    write_kubectl_patches,
    write_patch,
)
from rightsizer.patch.locate import Locator
from rightsizer.patch.manifests import ContainerChange
from rightsizer.quantity import parse_quantity
from rightsizer.recommend import recommend
from rightsizer.report.documents import recommendations_document
from rightsizer.yamlsafety import safe_documents

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "gitops-repo"

#: every workload container the fixture repository defines, and how it is reached
IN_REPO = {
    ContainerKey("platform", "DaemonSet", "log-agent", "fluent-bit"): "apps/platform/log-agent.yaml",
    ContainerKey("platform", "Deployment", "api-gateway", "gateway"): "apps/platform/api-gateway.yaml",
    ContainerKey("batch", "CronJob", "report-builder", "builder"): "apps/batch/cronjobs.yaml",
    ContainerKey("batch", "CronJob", "nightly-etl", "etl"): "apps/batch/cronjobs.yaml",
    ContainerKey("payments", "StatefulSet", "ledger-db", "postgres"): "apps/payments/ledger-db.yaml",
    ContainerKey("payments", "StatefulSet", "ledger-db", "exporter"): "apps/payments/ledger-db.yaml",
    ContainerKey("payments", "Deployment", "fraud-scorer", "scorer"): "apps/payments/fraud-scorer.yaml",
    ContainerKey("shop", "Deployment", "storefront", "app"): "kustomize/shop/overlays/prod/resources.yaml",
    ContainerKey("shop", "Deployment", "storefront", "envoy"): "kustomize/shop/overlays/prod/resources.yaml",
    ContainerKey("shop", "Deployment", "checkout", "app"): "kustomize/shop/overlays/prod/resources.yaml",
    ContainerKey("shop", "Deployment", "cart", "app"): "kustomize/shop/overlays/prod/rightsizer-cart.yaml",
    ContainerKey("shop", "Deployment", "catalog", "app"): "kustomize/shop/overlays/prod/rightsizer-catalog.yaml",
    ContainerKey("payments", "Deployment", "payments-api", "app"): "charts/payments-api/values.yaml",
    ContainerKey("payments", "Deployment", "payments-api", "migrate"): "charts/payments-api/values.yaml",
    ContainerKey("payments", "Deployment", "payments-api", "envoy"): "charts/payments-api/values.yaml",
}


@pytest.fixture
def repo(tmp_path) -> Path:
    copy = tmp_path / "gitops"
    shutil.copytree(FIXTURE, copy)
    return copy


@pytest.fixture(scope="module")
def demo_recs():
    return recommend(load_history(demo=True))


def render(repo: Path, overlay: str) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(repo / overlay)], capture_output=True, text=True, check=True)
    return safe_documents(out.stdout)


def container(objects: list[dict], kind: str, name: str, container_name: str) -> dict:
    obj = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
    return next(c for c in obj["spec"]["template"]["spec"]["containers"] if c["name"] == container_name)


def test_every_workload_of_the_demo_is_located_where_expected(repo, demo_recs):
    changes = plan(demo_recs)
    result = build_patch(repo, changes)
    located = {key: str(file) for key, file, _ in ((c, f, h) for c, f, h in result.applied)}
    assert {k: located.get(str(k)) for k in IN_REPO} == {k: v for k, v in IN_REPO.items()}
    assert all(key.startswith("team-") for key in result.skipped if not key.startswith(("HPA", "NODE_OPTIONS"))), \
        result.skipped
    assert "rendered in several namespaces" in result.skipped["HPA of shop/Deployment/storefront"]


def test_kustomize_renders_the_recommendations_and_staging_is_untouched(repo, demo_recs):
    staging_before = render(repo, "kustomize/shop/overlays/staging")
    write_patch(repo, build_patch(repo, plan(demo_recs)))
    assert render(repo, "kustomize/shop/overlays/staging") == staging_before
    prod = render(repo, "kustomize/shop/overlays/prod")
    by_key = {r.key: r for r in demo_recs}
    for name, cname in (("storefront", "app"), ("storefront", "envoy"), ("checkout", "app"), ("cart", "app"),
                        ("catalog", "app")):
        rec = by_key[ContainerKey("shop", "Deployment", name, cname)]
        got = container(prod, "Deployment", name, cname)["resources"]
        assert parse_quantity(got["requests"]["cpu"]) == parse_quantity(rec.quantities("recommended")["cpu_request"])
        assert parse_quantity(got["limits"]["memory"]) == parse_quantity(rec.quantities("recommended")["memory_limit"])
        assert "cpu" not in got.get("limits", {}), f"{name}/{cname}: the CPU limit is removed"
    checkout_env = container(prod, "Deployment", "checkout", "app")["env"]
    node_options = next(e["value"] for e in checkout_env if e["name"] == "NODE_OPTIONS")
    assert node_options.startswith("--require ./tracing.js --max-old-space-size="), "the base's flags are kept"


def test_helm_values_are_edited_under_their_own_keys(repo, demo_recs):
    write_patch(repo, build_patch(repo, plan(demo_recs)))
    values = safe_documents((repo / "charts/payments-api/values.yaml").read_text())[0]
    rec = next(r for r in demo_recs if r.key.workload == "payments-api" and r.key.container == "envoy")
    assert values["proxy"]["resources"]["requests"]["memory"] == rec.quantities("recommended")["memory_request"]
    assert values["paymentsApi"]["name"] == "payments-api", "everything else is as it was"
    text = (repo / "charts/payments-api/values.yaml").read_text()
    assert "# We usually recommend not to specify default resources" in text, "comments stay"


def test_only_the_changed_lines_differ(repo, demo_recs):
    result = build_patch(repo, plan(demo_recs))
    log_agent = result.files[Path("apps/platform/log-agent.yaml")]
    before, after = log_agent[0].splitlines(), log_agent[1].splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed and all(("cpu" in line or "memory" in line) for line in changed), changed
    assert "# measured in 2023, never revisited" in log_agent[1]
    assert log_agent[1].startswith("---\n# Log shipping"), "the leading document separator and comment stay"


def _current_as_change(repo: Path) -> list[PlannedChange]:
    """Changes that set every container to what it already has."""
    out = []
    for key, file in IN_REPO.items():
        if file.endswith(("rightsizer-cart.yaml", "rightsizer-catalog.yaml")) or "charts" in file:
            continue
        docs = safe_documents((repo / file).read_text())
        for doc in docs:
            if not isinstance(doc, dict) or (doc.get("metadata") or {}).get("name") != key.workload:
                continue
            spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
            for c in spec["template"]["spec"]["containers"]:
                if c["name"] == key.container and c.get("resources"):
                    res = c["resources"]
                    out.append(PlannedChange(key, False, ContainerChange(
                        {k: str(v) for k, v in (res.get("requests") or {}).items()},
                        {k: str(v) for k, v in (res.get("limits") or {}).items()})))
    return out


def test_a_no_op_leaves_every_byte(repo):
    changes = _current_as_change(repo)
    assert len(changes) >= 6
    result = build_patch(repo, changes)
    assert result.files == {}, "nothing to change: no file is touched"


quantities_cpu = st.integers(1, 64_000).map(lambda m: f"{m}m")
quantities_mem = st.integers(1, 64 * 1024).map(lambda m: f"{m}Mi")
limit_cpu = st.one_of(st.none(), quantities_cpu)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_recommendation_changes_only_its_values(repo, data):
    keys = list(IN_REPO)
    chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=6, unique=True))
    changes = []
    for key in chosen:
        memory = data.draw(quantities_mem)
        change = ContainerChange({"cpu": data.draw(quantities_cpu), "memory": memory},
                                 {"cpu": data.draw(limit_cpu), "memory": memory},
                                 heap_mib=data.draw(st.one_of(st.none(), st.integers(64, 8192))))
        changes.append(PlannedChange(key, key.container == "migrate", change))
    result = build_patch(repo, changes)  # verifies as data and with kubectl kustomize, or raises
    for path, (old, new) in result.files.items():
        assert safe_documents(new) is not None
        if old is not None:
            assert len(safe_documents(old)) == len(safe_documents(new)), f"{path}: documents kept"
    again = build_patch(repo, changes)
    assert again.files == result.files, "deterministic"
    write_patch(repo, result)
    assert build_patch(repo, changes).files == {}, "applying twice changes nothing more"


def test_ambiguous_and_unreadable_files_are_reported(repo, demo_recs):
    shutil.copy(repo / "apps/payments/ledger-db.yaml", repo / "apps/payments/ledger-db-copy.yaml")
    (repo / "apps/broken.yaml").write_text("kind: Deployment\nmetadata: [unclosed\n")
    result = build_patch(repo, plan(demo_recs))
    assert "more than one place" in result.skipped["payments/StatefulSet/ledger-db/postgres"]
    assert "apps/broken.yaml" in result.skipped["team-000/Deployment/catalog-30495/app"]


def test_json6902_resources_patches_are_not_guessed(repo, demo_recs):
    kust = repo / "kustomize/shop/overlays/prod/kustomization.yaml"
    kust.write_text(kust.read_text().replace("path: /spec/replicas\n        value: 2",
                                             "path: /spec/template/spec/containers/0/resources/limits/memory\n"
                                             "        value: 1Gi"))
    result = build_patch(repo, plan(demo_recs))
    assert "inline JSON 6902 patch" in result.skipped["shop/Deployment/cart/app"]


def test_a_json6902_patch_file_is_edited(repo, demo_recs):
    overlay = repo / "kustomize/shop/overlays/prod"
    (overlay / "cart-resources.yaml").write_text(
        "# cart needs more memory in production\n"
        "- op: replace\n  path: /spec/template/spec/containers/0/resources/limits/memory\n  value: 1Gi\n"
        "- op: replace\n  path: /spec/template/spec/containers/0/resources/requests/memory\n  value: 1Gi\n")
    kust = overlay / "kustomization.yaml"
    kust.write_text(kust.read_text() + "  - path: cart-resources.yaml\n    target:\n      kind: Deployment\n"
                    "      name: cart\n")
    changes = [c for c in plan(demo_recs) if c.key.workload == "cart"]
    result = build_patch(repo, changes)  # checked with kubectl kustomize inside
    assert set(result.files) == {Path("kustomize/shop/overlays/prod/cart-resources.yaml")}
    write_patch(repo, result)
    text = (overlay / "cart-resources.yaml").read_text()
    assert text.startswith("# cart needs more memory in production"), "the comment stays"
    rec = next(r for r in demo_recs if r.key.workload == "cart")
    got = container(render(repo, "kustomize/shop/overlays/prod"), "Deployment", "cart", "app")["resources"]
    assert got["requests"]["cpu"] == rec.quantities("recommended")["cpu_request"]
    assert got["limits"]["memory"] == rec.quantities("recommended")["memory_limit"]
    assert build_patch(repo, changes).files == {}, "applying twice changes nothing more"


def test_a_mapping_file_covers_what_cannot_be_inferred(repo, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("- workload: team-000/storefront-97196\n  container: app\n"
                       "  file: charts/payments-api/values.yaml\n  path: paymentsApi\n")
    key = ContainerKey("team-000", "Deployment", "storefront-97196", "app")
    result = build_patch(repo, [PlannedChange(key, False, ContainerChange({"cpu": "123m"}))], mapping)
    assert "cpu: 123m" in result.files[Path("charts/payments-api/values.yaml")][1]
    mapping.write_text("- workload: team-000/storefront\n  container: app\n")
    with pytest.raises(PatchError, match="entry 1 needs"):
        Locator(repo, mapping)


def test_an_invalid_target_file_is_a_clear_error(repo, demo_recs):
    target = repo / "apps/payments/fraud-scorer.yaml"
    target.write_text(target.read_text() + "  broken: [\n")
    result = build_patch(repo, plan(demo_recs))
    assert "not found" in result.skipped["payments/Deployment/fraud-scorer/scorer"]
    assert "fraud-scorer.yaml" in result.skipped["payments/Deployment/fraud-scorer/scorer"]


def test_a_reviewed_report_is_applied_exactly(repo, demo_recs):
    from_report = plan(recommendations_from_report(recommendations_document(demo_recs)))
    assert [(c.key, c.change) for c in from_report] == [(c.key, c.change) for c in plan(demo_recs)]
    with pytest.raises(PatchError, match="not a rightsizer report"):
        recommendations_from_report({"foo": 1})
    with pytest.raises(PatchError, match="entry 1 is malformed"):
        recommendations_from_report({"recommendations": [{"changed": True, "recommended": {"cpu_request": "lots"}}]})


def test_kubectl_patch_files_apply_with_kubectl(tmp_path, demo_recs):
    written = write_kubectl_patches(plan(demo_recs), tmp_path / "patches")
    assert written
    checkout = next(p for p in written if p.name == "shop-deployment-checkout.yaml")
    doc = safe_documents(checkout.read_text())[0]
    resources = doc["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["cpu"] is None, "null deletes the limit in a strategic merge"
    # kubectl can merge it into the manifest locally
    base = FIXTURE / "kustomize/shop/base/checkout.yaml"
    merged = subprocess.run(["kubectl", "patch", "--local", "-f", str(base), "--type", "strategic",
                             "--patch-file", str(checkout), "-o", "yaml"], capture_output=True, text=True, check=False)
    assert merged.returncode == 0, merged.stderr
    assert safe_documents(merged.stdout)[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"][
        "cpu"] == resources["requests"]["cpu"]


def test_a_values_file_per_environment_wins(repo, demo_recs):
    env_values = repo / "charts/payments-api/values-payments.yaml"
    env_values.write_text("# production overrides\npaymentsApi:\n  replicas: 4\n")
    result = build_patch(repo, [c for c in plan(demo_recs) if c.key.workload == "payments-api"])
    assert set(result.files) == {Path("charts/payments-api/values-payments.yaml")}, "values.yaml stays the default"
    write_patch(repo, result)
    values = safe_documents(env_values.read_text())[0]
    assert values["paymentsApi"]["replicas"] == 4
    rec = next(r for r in demo_recs if r.key.workload == "payments-api" and r.key.container == "app")
    assert values["paymentsApi"]["resources"]["requests"]["cpu"] == rec.quantities("recommended")["cpu_request"]
    assert "NODE_OPTIONS of payments/Deployment/payments-api/app" in result.skipped


def test_a_json6902_patch_can_remove_a_limit_the_base_sets(repo, demo_recs):
    overlay = repo / "kustomize/shop/overlays/prod"
    (overlay / "catalog-cpu.yaml").write_text(
        "- op: replace\n  path: /spec/template/spec/containers/0/resources/limits/cpu\n  value: '3'\n")
    kust = overlay / "kustomization.yaml"
    kust.write_text(kust.read_text() + "  - path: catalog-cpu.yaml\n    target: {kind: Deployment, name: catalog}\n")
    changes = [c for c in plan(demo_recs) if c.key.workload == "catalog"]
    assert changes[0].change.limits["cpu"] is None, "the recommendation removes the CPU limit"
    write_patch(repo, build_patch(repo, changes))
    got = container(render(repo, "kustomize/shop/overlays/prod"), "Deployment", "catalog", "app")["resources"]
    assert "cpu" not in got["limits"]
    assert "op: remove" in (overlay / "catalog-cpu.yaml").read_text()


def test_a_new_env_and_a_new_container_after_the_same_line(repo):
    """The app's new env and the added envoy both go after the app's last line: env first."""
    app = ContainerKey("shop", "Deployment", "storefront", "app")
    envoy = ContainerKey("shop", "Deployment", "storefront", "envoy")
    changes = [PlannedChange(envoy, False, ContainerChange({"cpu": "30m"}, heap_mib=128)),
               PlannedChange(app, False, ContainerChange({"cpu": "400m"}, heap_mib=300))]
    write_patch(repo, build_patch(repo, changes))
    prod = render(repo, "kustomize/shop/overlays/prod")
    app_env = container(prod, "Deployment", "storefront", "app")["env"]
    assert app_env == [{"name": "NODE_OPTIONS", "value": "--max-old-space-size=300"}]
    assert container(prod, "Deployment", "storefront", "envoy")["resources"]["requests"]["cpu"] == "30m"


def test_a_hand_edited_report_entry_is_applied_and_every_other_is_accounted_for(tmp_path, demo_recs):
    doc = recommendations_document(demo_recs)
    unchanged = next(e for e in doc["recommendations"] if e["recommended"] and e["current"]["cpu_request"])
    unchanged.update(recommended=dict(unchanged["current"]), changed=False, nodejs=None, hpa=None)
    unchanged["recommended"]["cpu_request"] = "777m"  # the reviewer's value; "changed" still says false
    file = tmp_path / "reviewed.json"
    file.write_text(json.dumps(doc))
    reviewed = read_recommendations(file)
    planned = {str(c.key): c for c in plan(reviewed)}
    key = f"{unchanged['namespace']}/{unchanged['kind']}/{unchanged['workload']}/{unchanged['container']}"
    assert planned[key].change.requests == {"cpu": "777m"}, "the change is what differs from the current values"
    left_out = not_planned(reviewed)
    assert len(planned) + len(left_out) == len(doc["recommendations"]), "every entry is applied or explained"
    assert all("not applied" in why for why in left_out.values())


def test_an_annotated_workload_is_left_alone(repo, demo_recs):
    manifest = repo / "apps/payments/fraud-scorer.yaml"
    text = manifest.read_text()
    assert "  name: fraud-scorer\n" in text
    manifest.write_text(text.replace("  name: fraud-scorer\n", "  name: fraud-scorer\n  annotations:\n"
                                     "    rightsizer.io/ignore: \"true\"\n", 1))
    result = build_patch(repo, plan(demo_recs))
    assert "left alone" in result.skipped["payments/Deployment/fraud-scorer/scorer"]
    assert Path("apps/payments/fraud-scorer.yaml") not in result.files
    assert Path("apps/platform/log-agent.yaml") in result.files, "the others are applied"


def test_mapping_entries_pick_their_document_and_refuse_a_typo(repo, tmp_path):
    mapping = tmp_path / "map.yaml"
    key = ContainerKey("batch", "CronJob", "nightly-etl", "etl")
    base = ("- workload: batch/CronJob/nightly-etl\n  container: etl\n  file: apps/batch/cronjobs.yaml\n"
            "  path: spec.jobTemplate.spec.template.spec.containers.0\n")
    mapping.write_text(base)
    with pytest.raises(PatchError, match="add kind and name"):
        Locator(repo, mapping)
    mapping.write_text(base + "  kind: CronJob\n  name: nightly-etl\n")
    result = build_patch(repo, [PlannedChange(key, False, ContainerChange({"cpu": "321m"}))], mapping)
    docs = safe_documents(result.files[Path("apps/batch/cronjobs.yaml")][1])
    etl = next(d for d in docs if d["metadata"]["name"] == "nightly-etl")
    assert etl["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"][
        "cpu"] == "321m", "the entry's document, not the file's first"
    typo = ("- workload: payments/payments-api\n  container: app\n  file: charts/payments-api/values.yaml\n"
            "  path: paymentApi\n")
    mapping.write_text(typo)
    with pytest.raises(PatchError, match="has no paymentApi"):
        Locator(repo, mapping)
    mapping.write_text(typo + "  create: true\n")
    app = ContainerKey("payments", "Deployment", "payments-api", "app")
    result = build_patch(repo, [PlannedChange(app, False, ContainerChange({"cpu": "123m"}))], mapping)
    values = safe_documents(result.files[Path("charts/payments-api/values.yaml")][1])[0]
    assert values["paymentApi"]["resources"]["requests"]["cpu"] == "123m", "written where the entry says"


FLUX_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: shop
spec:
  chart:
    spec:
      chart: web
  values:
    replicas: 2
  postRenderers:
    # keep the proxy's labels
    - kustomize:
        patches:
          - target:
              kind: Deployment
              name: web-proxy
            patch: |
              - op: add
                path: /metadata/labels/tier
                value: edge
"""


def test_a_published_charts_other_container_gets_a_flux_post_renderer_patch(tmp_path):
    (tmp_path / "release.yaml").write_text(FLUX_RELEASE)
    worker = ContainerKey("shop", "StatefulSet", "web-worker", "queue")
    change = ContainerChange({"cpu": "50m"}, {"cpu": None, "memory": "64Mi"})
    result = build_patch(tmp_path, [PlannedChange(worker, True, change)])
    assert [(k, str(f)) for k, f, _ in result.applied] == [(str(worker), "release.yaml")], result.skipped
    assert result.applied[0][2].startswith("set by a Flux post-renderer")
    write_patch(tmp_path, result)
    text = (tmp_path / "release.yaml").read_text()
    assert text.startswith(FLUX_RELEASE), "appended after the existing patch, nothing else moved"
    (doc,) = safe_documents(text)
    proxy, added = doc["spec"]["postRenderers"][0]["kustomize"]["patches"]
    assert proxy["target"]["name"] == "web-proxy"
    assert added["target"] == {"kind": "StatefulSet", "name": "web-worker"}
    (body,) = safe_documents(added["patch"])
    assert body["kind"] == "StatefulSet" and body["metadata"]["name"] == "web-worker"
    (queue,) = body["spec"]["template"]["spec"]["initContainers"]
    assert queue == {"name": "queue", "resources": {"requests": {"cpu": "50m"},
                                                   "limits": {"cpu": None, "memory": "64Mi"}}}


def test_an_argo_application_of_a_published_chart_leaves_other_containers_by_hand(tmp_path):
    (tmp_path / "app.yaml").write_text("""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  source:
    repoURL: https://charts.example.com
    chart: web
    targetRevision: 1.0.0
    helm:
      valuesObject:
        replicas: 2
  destination:
    namespace: shop
""")
    worker = ContainerKey("shop", "Deployment", "web-worker", "queue")
    result = build_patch(tmp_path, [PlannedChange(worker, False, ContainerChange({"cpu": "50m"}))])
    assert not result.applied
    why = result.skipped[str(worker)]
    assert "published chart web" in why and "only its main container is located" in why, why


def test_a_workload_in_the_manifests_is_not_given_a_post_renderer(tmp_path):
    (tmp_path / "release.yaml").write_text(FLUX_RELEASE)
    (tmp_path / "worker.yaml").write_text("""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-worker
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: queue
          image: queue:1
""")
    worker = ContainerKey("shop", "Deployment", "web-worker", "queue")
    result = build_patch(tmp_path, [PlannedChange(worker, False, ContainerChange({"cpu": "50m"}))])
    assert [(k, str(f)) for k, f, _ in result.applied] == [(str(worker), "worker.yaml")], result.skipped
