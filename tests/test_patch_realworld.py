"""Patching real public GitOps repositories (read in place from ../shared/realworld/gitops, edited in a copy).

The containers to right-size are found independently of rightsizer's locator: overlays are
rendered with ``kubectl kustomize``, plain manifests parsed, and the charts' workloads named
from their templates by hand.  Each copy is a real git repository, so the checks read
``git diff``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from realworld import REALWORLD

from rightsizer import kube
from rightsizer.history import ContainerKey
from rightsizer.patch import PlannedChange, build_patch, write_patch
from rightsizer.patch.manifests import ContainerChange
from rightsizer.quantity import parse_quantity
from rightsizer.yamlsafety import safe_documents

pytestmark = pytest.mark.skipif(REALWORLD is None, reason="the real-world GitOps repositories (shared/realworld/"
                                                          "gitops next to the project) are not on this machine")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob")
NEW = ContainerChange({"cpu": "123m", "memory": "77Mi"}, {"memory": "77Mi"})


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def checkout(tmp_path: Path, name: str) -> Path:
    assert REALWORLD is not None
    repo = tmp_path / name
    shutil.copytree(REALWORLD / name, repo)
    for path in repo.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    git(repo, "init", "--quiet")
    git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "add", "--all")
    git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "--quiet", "-m", "as published")
    return repo


def kustomize(path: Path) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=True).stdout
    return [d for d in safe_documents(out) if isinstance(d, dict)]


def containers(docs: list[dict], namespace: str | None) -> list[tuple[ContainerKey, bool]]:
    out = []
    for doc in docs:
        if doc.get("kind") not in WORKLOADS:
            continue
        ns = doc["metadata"].get("namespace") or namespace
        for init, field in ((False, "containers"), (True, "initContainers")):
            for c in kube.pod_spec(doc).get(field) or []:
                out.append((ContainerKey(ns, doc["kind"], doc["metadata"]["name"], c["name"]), init))
    return out


def changed_lines(repo: Path) -> list[str]:
    diff = git(repo, "diff", "--unified=0", "--no-color")
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def assert_only_values_changed(repo: Path, also: tuple[str, ...] = ()) -> None:
    value_line = ("cpu:", "memory:", "requests:", "limits:", "resources:", "values:", "patches:", "- path: rightsizer-",
                  *also)
    lines = changed_lines(repo)
    assert lines, "something was edited"
    assert all(line[1:].strip().startswith(value_line) for line in lines), lines
    for path in git(repo, "diff", "--name-only").split():
        before = git(repo, "show", f"HEAD:{path}")
        after = (repo / path).read_text()
        comments = [line.strip() for line in before.splitlines() if line.strip().startswith("#")]
        assert all(c in after for c in comments), f"{path}: comments stay"


def assert_resources(resources: dict, where: str) -> None:
    assert parse_quantity(resources["requests"]["cpu"]) == parse_quantity("123m"), where
    assert parse_quantity(resources["requests"]["memory"]) == parse_quantity("77Mi"), where
    assert parse_quantity(resources["limits"]["memory"]) == parse_quantity("77Mi"), where


def test_podinfo_every_container_is_applied_in_its_own_file(tmp_path):
    repo = checkout(tmp_path, "podinfo")
    overlays = ["deploy/overlays/dev", "deploy/overlays/staging", "deploy/overlays/production"]
    keys = [k for o in overlays for k in containers(kustomize(repo / o), None)]
    plain_dirs = ["deploy/webapp/backend", "deploy/webapp/frontend", "deploy/secure/backend", "deploy/secure/frontend"]
    keys += [k for d in plain_dirs for f in sorted((repo / d).glob("*.yaml"))
             for k in containers(safe_documents(f.read_text()), None)]
    keys += containers(kustomize(repo / "kustomize"), "apps")  # namespace-less: the cluster's namespace is "apps"
    # the chart (no helm here to render it): templates/deployment.yaml and templates/redis/deployment.yaml
    chart = [(ContainerKey("podinfo", "Deployment", "podinfo", "podinfo"), False),
             (ContainerKey("podinfo", "Deployment", "podinfo-redis", "redis"), False)]
    total = len(keys) + len(chart)
    assert len(keys) == 36 - 1, "30 in the three overlays, 4 plain, 1 in kustomize/"  # the repo as published
    result = build_patch(repo, [PlannedChange(k, init, NEW) for k, init in keys])
    chart_result = build_patch(repo, [PlannedChange(k, init, NEW) for k, init in chart], environment="prod")
    located = len(result.applied) + len(chart_result.applied)
    print(f"podinfo: located {located}/{total}")
    assert not result.skipped, result.skipped
    assert not chart_result.skipped, chart_result.skipped
    assert located == total == 37
    assert [a[1] for a in chart_result.applied] == [Path("charts/podinfo/values-prod.yaml"),
                                                    Path("charts/podinfo/templates/redis/deployment.yaml")], \
        "prod's values file; redis in the template that writes its resources"
    assert "edited in the chart's template" in chart_result.applied[1][2]
    assert any("every release of the chart gets them" in note for note in chart_result.notes)
    files = {str(key): str(file) for key, file, _ in result.applied}
    assert files["production/CronJob/warm-cache/warm-cache-init"] == \
        "deploy/overlays/production/rightsizer-warm-cache.yaml", "a base shared by three overlays is not edited"
    assert files["webapp/Deployment/backend/backend"] == "deploy/webapp/backend/deployment.yaml"
    assert files["apps/Deployment/podinfo/podinfod"] == "kustomize/deployment.yaml"
    write_patch(repo, result)
    write_patch(repo, chart_result)
    assert_only_values_changed(repo)
    for overlay in overlays:
        for obj in kustomize(repo / overlay):
            if obj.get("kind") in WORKLOADS:
                for c in [*kube.pod_spec(obj).get("containers", []), *kube.pod_spec(obj).get("initContainers", [])]:
                    assert_resources(c["resources"], f"{overlay} {obj['metadata']['name']}/{c['name']}")
    podinfod = kube.pod_spec(next(d for d in kustomize(repo / "kustomize") if d["kind"] == "Deployment"))
    assert_resources(podinfod["containers"][0]["resources"], "kustomize/")
    values = safe_documents((repo / "charts/podinfo/values-prod.yaml").read_text())[0]
    assert_resources(values["resources"], "values-prod.yaml")
    template = "charts/podinfo/templates/redis/deployment.yaml"
    before, after = git(repo, "show", f"HEAD:{template}").splitlines(), (repo / template).read_text().splitlines()
    assert len(before) == len(after)
    edited = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert {a.strip().split(":")[0] for _, a in edited} == {"cpu", "memory"}, edited
    assert all(b.split(":")[0] == a.split(":")[0] for b, a in edited), "same keys, same indentation"
    redis = _literal_resources(after, "resources:")
    assert_resources(redis, template)
    assert parse_quantity(redis["limits"]["cpu"]) == parse_quantity("1000m"), "what is not recommended stays"
    assert "values.yaml" not in git(repo, "diff", "--name-only").replace("values-prod.yaml", ""), \
        "the defaults (staging) are left as they are"
    if shutil.which("helm") is None:
        assert chart_result.notes[0].startswith("Helm render not checked: helm not on PATH"), chart_result.notes


def test_flux_helmrelease_values_are_patched_per_environment(tmp_path):
    repo = checkout(tmp_path, "flux2-kustomize-helm-example")
    key = ContainerKey("podinfo", "Deployment", "podinfo", "podinfo")
    redis = ContainerKey("podinfo", "Deployment", "podinfo-redis", "redis")
    located = 0
    for environment in ("staging", "production"):
        result = build_patch(repo, [PlannedChange(key, False, NEW), PlannedChange(redis, False, NEW)],
                             environment=environment)
        values_file = f"apps/{environment}/podinfo-values.yaml"
        assert [(k, str(f)) for k, f, _ in result.applied] == [(str(key), values_file), (str(redis), values_file)]
        assert not result.skipped
        how = next(h for k, _, h in result.applied if k == str(redis))
        assert how.startswith("set by a Flux post-renderer: the chart hard-codes these resources"), how
        located += len(result.applied)
        write_patch(repo, result)
        release = next(d for d in kustomize(repo / "apps" / environment) if d["kind"] == "HelmRelease")
        assert_resources(release["spec"]["values"]["resources"], environment)
        (renderer,) = release["spec"]["postRenderers"]
        (entry,) = renderer["kustomize"]["patches"]
        assert entry["target"] == {"kind": "Deployment", "name": "podinfo-redis"}
        rendered = post_render(tmp_path / environment, entry)
        (container,) = kube.pod_spec(rendered)["containers"]
        assert container["image"] == "redis:chart", "the rest of the chart's container stays"
        assert_resources(container["resources"], environment)
        assert container["resources"]["limits"]["cpu"] == "1000m", "what is not recommended stays the chart's"
    print(f"flux2-kustomize-helm-example: located {located}/4 (redis: by a Flux post-renderer)")
    assert located == 4
    assert_only_values_changed(repo, POST_RENDERER_LINE)
    assert not [line for line in changed_lines(repo) if line.startswith("-")], "only lines added"
    assert sorted(git(repo, "diff", "--name-only").split()) == ["apps/production/podinfo-values.yaml",
                                                                "apps/staging/podinfo-values.yaml"]
    both = build_patch(repo, [PlannedChange(key, False, ContainerChange({"cpu": "200m"}))])
    assert "more than one place" in both.skipped[str(key)] and "--environment" in both.skipped[str(key)]
    again = build_patch(repo, [PlannedChange(redis, False, ContainerChange({"cpu": "200m"}, {"cpu": None}))],
                        environment="staging")
    write_patch(repo, again)
    release = next(d for d in kustomize(repo / "apps" / "staging") if d["kind"] == "HelmRelease")
    (entry,) = release["spec"]["postRenderers"][0]["kustomize"]["patches"]
    resources = kube.pod_spec(post_render(tmp_path / "again", entry))["containers"][0]["resources"]
    assert parse_quantity(resources["requests"]["cpu"]) == parse_quantity("200m"), "the same target's patch replaced"
    assert parse_quantity(resources["requests"]["memory"]) == parse_quantity("77Mi"), "what it set before stays"
    assert "cpu" not in resources["limits"], "a removed limit is a null in the patch: the chart's is deleted"


#: the lines a post-renderer adds besides resources (its list, target and patch text)
POST_RENDERER_LINE = ("postRenderers:", "- kustomize:", "- target:", "kind: Deployment", "name: podinfo-redis",
                      "patch: |", "apiVersion: apps/v1", "metadata:", "spec:", "template:", "containers:",
                      "- name: redis")
#: a Deployment as a chart renders it, with resources hard-coded (cpu limit included) for the patch to override
CHART_REDIS = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "podinfo-redis"},
               "spec": {"template": {"spec": {"containers": [{
                   "name": "redis", "image": "redis:chart",
                   "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "100m"}}}]}}}}


def post_render(workdir: Path, entry: dict) -> dict:
    """The chart's Deployment with a post-renderer patch applied as Flux does (a kustomize patch with a target)."""
    workdir.mkdir()
    (workdir / "deployment.yaml").write_text(json.dumps(CHART_REDIS))
    (workdir / "kustomization.yaml").write_text(json.dumps({
        "resources": ["deployment.yaml"], "patches": [{"target": entry["target"], "patch": entry["patch"]}]}))
    return next(d for d in kustomize(workdir) if d["kind"] == "Deployment")


APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: shop-prod
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://example.com/gitops.git
    path: charts/podinfo
    helm:
      releaseName: storefront
      valueFiles:
        - values.yaml
        - values-prod.yaml
  destination:
    namespace: shop
"""

APPLICATION_SET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: web
spec:
  generators:
    - list:
        elements:
          - env: staging
          - env: qa
  template:
    metadata:
      name: 'web-{{env}}'
    spec:
      source:
        repoURL: https://example.com/gitops.git
        path: kustomize
      destination:
        namespace: 'web-{{env}}'
"""


def test_argo_cd_applications_give_release_name_values_files_and_namespace(tmp_path):
    repo = checkout(tmp_path, "podinfo")
    (repo / "argocd").mkdir()
    (repo / "argocd/shop.yaml").write_text(APPLICATION)
    key = ContainerKey("shop", "Deployment", "storefront-podinfo", "podinfo")
    result = build_patch(repo, [PlannedChange(key, False, NEW)])
    assert [str(f) for _, f, _ in result.applied] == ["charts/podinfo/values-prod.yaml"], result.skipped
    inline = APPLICATION.replace("      valueFiles:\n        - values.yaml\n        - values-prod.yaml\n",
                                 "      valuesObject:\n        replicaCount: 2  # two in prod\n")
    (repo / "argocd/shop.yaml").write_text(inline)
    result = build_patch(repo, [PlannedChange(key, False, NEW)])
    write_patch(repo, result)
    app = safe_documents((repo / "argocd/shop.yaml").read_text())[0]
    assert_resources(app["spec"]["source"]["helm"]["valuesObject"]["resources"], "valuesObject")
    assert "replicaCount: 2  # two in prod" in (repo / "argocd/shop.yaml").read_text()
    # an ApplicationSet of a fixed list applies the namespace-less kustomize/ to two namespaces: not editable for one
    (repo / "argocd/web.yaml").write_text(APPLICATION_SET)
    qa = ContainerKey("web-qa", "Deployment", "podinfo", "podinfod")
    result = build_patch(repo, [PlannedChange(qa, False, NEW)])
    assert "web-staging, web-qa" in result.skipped[str(qa)] and not result.applied
    (repo / "argocd/web.yaml").write_text(APPLICATION_SET.replace("          - env: qa\n", ""))
    staging = ContainerKey("web-staging", "Deployment", "podinfo", "podinfod")
    result = build_patch(repo, [PlannedChange(staging, False, NEW)])
    assert [str(f) for _, f, _ in result.applied] == ["kustomize/deployment.yaml"], result.skipped
    other = ContainerKey("elsewhere", "Deployment", "podinfo", "podinfod")
    assert "not found" in build_patch(repo, [PlannedChange(other, False, NEW)]).skipped[str(other)]


def test_bad_input_is_listed_per_container_and_the_rest_goes_on(tmp_path):
    repo = checkout(tmp_path, "podinfo")
    shutil.copytree(repo / "kustomize", repo / "kustomize-copy")  # a second namespace-less podinfo
    (repo / "charts/podinfo/values-prod.yaml").write_text("resources: [unclosed\n")
    podinfod = ContainerKey("apps", "Deployment", "podinfo", "podinfod")
    chart = ContainerKey("podinfo", "Deployment", "podinfo", "podinfo")
    fine = ContainerKey("webapp", "Deployment", "backend", "backend")
    result = build_patch(repo, [PlannedChange(k, False, NEW) for k in (podinfod, chart, fine)], environment="prod")
    assert "ambiguous" in result.skipped[str(podinfod)] and "mapping entry" in result.skipped[str(podinfod)]
    assert "values-prod.yaml" in result.skipped[str(chart)] and "not valid YAML" in result.skipped[str(chart)]
    assert [str(k) for k, _, _ in result.applied] == [str(fine)], "the rest of the run goes on"
    assert set(result.files) == {Path("deploy/webapp/backend/deployment.yaml")}, "nothing half-written"


def test_heap_flags_on_podinfo_are_written_where_node_reads_them_or_listed_by_hand(tmp_path):
    repo = checkout(tmp_path, "podinfo")
    overlays = ["deploy/overlays/dev", "deploy/overlays/staging", "deploy/overlays/production"]
    keys = [k for o in overlays for k in containers(kustomize(repo / o), None)]
    heap = ContainerChange({"cpu": "123m"}, {"memory": "300Mi"}, heap_mib=200)
    result = build_patch(repo, [PlannedChange(k, init, heap) for k, init in keys])
    by_hand = {what for what in result.skipped if what.startswith("NODE_OPTIONS of ")}
    assert set(result.skipped) == by_hand, "every container is located"
    write_patch(repo, result)
    written = 0
    for overlay in overlays:
        for obj in kustomize(repo / overlay):
            if obj.get("kind") not in WORKLOADS:
                continue
            spec = kube.pod_spec(obj)
            for init, field in ((False, "containers"), (True, "initContainers")):
                for c in spec.get(field) or []:
                    key = ContainerKey(obj["metadata"].get("namespace"), obj["kind"], obj["metadata"]["name"],
                                       c["name"])
                    flags = [e.get("value", "") for e in c.get("env") or [] if e["name"] == "NODE_OPTIONS"]
                    words = " ".join(map(str, [*(c.get("command") or []), *(c.get("args") or [])]))
                    if f"NODE_OPTIONS of {key}" in by_hand:
                        assert "--max-old-space-size=200" not in " ".join(flags) + words, key
                        continue
                    assert "--max-old-space-size=200" in (flags[-1] if flags else words), (key, flags, words)
                    written += 1
    print(f"podinfo heap flags: {written} written, {len(by_hand)} listed by hand")
    assert written == len(keys) - len(by_hand)


def _literal_resources(lines: list[str], head: str) -> dict:
    """The resources block a template writes after its ``head`` line, parsed on its own."""
    start = next(i for i, line in enumerate(lines) if line.strip() == head)
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next((i for i in range(start + 1, len(lines)) if len(lines[i]) - len(lines[i].lstrip()) <= indent),
               len(lines))
    return safe_documents("\n".join(line[indent:] for line in lines[start:end]))[0]["resources"]


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: cache\nversion: 1.0.0\n",
    "values.yaml": "replicas: 1\n",
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-cache
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: cache
          image: redis:7
          resources:
            # sized for the smallest shop
            requests:
              cpu: 50m  # measured in March
              memory: 64Mi
            limits:
              memory: 64Mi
""",
}


def _release(namespace: str) -> str:
    return APPLICATION.replace("shop-prod", f"shop-{namespace}").replace("charts/podinfo", "charts/cache") \
        .replace("      valueFiles:\n        - values.yaml\n        - values-prod.yaml\n", "") \
        .replace("namespace: shop\n", f"namespace: {namespace}\n")


def test_a_template_shared_by_releases_is_edited_only_for_one_recommendation(tmp_path):
    repo = tmp_path / "repo"
    for name, text in CHART.items():
        (repo / "charts/cache" / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / "charts/cache" / name).write_text(text)
    (repo / "argocd").mkdir()
    for namespace in ("east", "west"):
        (repo / f"argocd/{namespace}.yaml").write_text(_release(namespace))
    east, west = (ContainerKey(ns, "Deployment", "storefront-cache", "cache") for ns in ("east", "west"))
    other = ContainerChange({"cpu": "300m"}, {})
    result = build_patch(repo, [PlannedChange(east, False, NEW), PlannedChange(west, False, other)])
    assert not result.applied and not result.files, "nothing is written"
    for key in (east, west):
        why = result.skipped[str(key)]
        assert "different recommendations" in why and "east, west" in why and "expose the resources as values" in why
    alone = build_patch(repo, [PlannedChange(east, False, NEW)])
    assert not alone.files and "storefront in west has no recommendation" in alone.skipped[str(east)]
    same = build_patch(repo, [PlannedChange(east, False, NEW), PlannedChange(west, False, NEW)])
    assert [str(f) for _, f, _ in same.applied] == ["charts/cache/templates/deployment.yaml"] * 2, same.skipped
    new = same.files[Path("charts/cache/templates/deployment.yaml")][1]
    old_lines, new_lines = CHART["templates/deployment.yaml"].splitlines(), new.splitlines()
    assert [n for o, n in zip(old_lines, new_lines, strict=True) if o != n] == \
        ["              cpu: 123m  # measured in March", "              memory: 77Mi", "              memory: 77Mi"]
    assert_resources(_literal_resources(new_lines, "resources:"), "the template")
    template = repo / "charts/cache/templates/deployment.yaml"
    template.write_text(CHART["templates/deployment.yaml"].replace("cpu: 50m", "cpu: {{ .Values.cpu }}"))
    dynamic = build_patch(repo, [PlannedChange(east, False, NEW), PlannedChange(west, False, NEW)])
    assert not dynamic.files and "holds a template action" in dynamic.skipped[str(east)]
