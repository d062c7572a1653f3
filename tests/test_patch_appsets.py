"""Argo CD ApplicationSets: git directory and file generators and matrices expanded from the checkout; cluster
generators reported per container unless what they deploy does not depend on them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from rightsizer.history import ContainerKey
from rightsizer.patch import PlannedChange, build_patch, write_patch
from rightsizer.patch.manifests import ContainerChange
from rightsizer.yamlsafety import safe_documents

CHANGE = ContainerChange({"cpu": "150m"}, {"memory": "400Mi"})
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: {name}
          image: nginx
"""
APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: apps
  namespace: argocd
spec:
{go}  generators:
{generators}
  template:
    metadata:
      name: 'app-{name}'
    spec:
      project: default
      source:
        repoURL: https://example.com/gitops.git
        targetRevision: HEAD
        path: '{path}'
      destination:
        server: https://kubernetes.default.svc
        namespace: '{namespace}'
"""


def apps_repo(root: Path) -> Path:
    for app in ("shop", "blog"):
        (root / "apps" / app).mkdir(parents=True)
        (root / "apps" / app / "deployment.yaml").write_text(DEPLOYMENT.format(name="web"))
    (root / "argocd").mkdir()
    return root


def appset(root: Path, generators: str, path: str, namespace: str, name: str = "{{path.basename}}",
           go: bool = False) -> None:
    (root / "argocd/apps.yaml").write_text(APPSET.format(generators=generators, path=path, namespace=namespace,
                                                         name=name, go="  goTemplate: true\n" if go else ""))


def applied(root: Path, key: ContainerKey) -> tuple[list[str], dict[str, str]]:
    result = build_patch(root, [PlannedChange(key, False, CHANGE)])
    return [str(f) for _, f, _ in result.applied], result.skipped


def test_a_git_directory_generator_gives_each_directory_its_namespace(tmp_path):
    repo = apps_repo(tmp_path)
    appset(repo, "    - git:\n        repoURL: https://example.com/gitops.git\n        revision: HEAD\n"
                 "        directories:\n          - path: apps/*\n", "{{path}}", "{{path.basename}}")
    assert applied(repo, ContainerKey("shop", "Deployment", "web", "web")) == (["apps/shop/deployment.yaml"], {})
    assert applied(repo, ContainerKey("blog", "Deployment", "web", "web")) == (["apps/blog/deployment.yaml"], {})
    appset(repo, "    - git:\n        repoURL: https://example.com/gitops.git\n        revision: HEAD\n"
                 "        directories:\n          - path: apps/*\n          - path: apps/blog\n            exclude: true\n",
           "{{.path.path}}", "team-{{index .path.segments 1}}", name="{{.path.basename}}", go=True)
    assert applied(repo, ContainerKey("team-shop", "Deployment", "web", "web"))[0] == ["apps/shop/deployment.yaml"]
    files, skipped = applied(repo, ContainerKey("team-blog", "Deployment", "web", "web"))
    assert not files and "ambiguous" in skipped["team-blog/Deployment/web/web"], "an excluded directory: no namespace"


def test_a_git_file_generator_reads_its_parameters_from_the_files(tmp_path):
    repo = apps_repo(tmp_path)
    for app, namespace in (("shop", "shop-prod"), ("blog", "blog-prod")):
        (repo / "config" / app).mkdir(parents=True)
        (repo / "config" / app / "config.json").write_text(json.dumps({"app": {"dir": app}, "ns": namespace}))
    appset(repo, "    - git:\n        repoURL: https://example.com/gitops.git\n        revision: HEAD\n"
                 "        files:\n          - path: config/*/config.json\n", "apps/{{app.dir}}", "{{ns}}")
    assert applied(repo, ContainerKey("blog-prod", "Deployment", "web", "web"))[0] == ["apps/blog/deployment.yaml"]


def test_a_matrix_of_a_list_and_git_directories_reaches_each_environments_overlay(tmp_path):
    (tmp_path / "apps/shop/base").mkdir(parents=True)
    (tmp_path / "apps/shop/base/deployment.yaml").write_text(DEPLOYMENT.format(name="web"))
    (tmp_path / "apps/shop/base/kustomization.yaml").write_text("resources:\n  - deployment.yaml\n")
    for env in ("staging", "prod"):
        (tmp_path / "apps/shop" / env).mkdir()
        (tmp_path / "apps/shop" / env / "kustomization.yaml").write_text("resources:\n  - ../base\n")
    (tmp_path / "argocd").mkdir()
    appset(tmp_path, "    - matrix:\n        generators:\n          - list:\n              elements:\n"
                     "                - env: staging\n                - env: prod\n          - git:\n"
                     "              repoURL: https://example.com/gitops.git\n              revision: HEAD\n"
                     "              directories:\n                - path: apps/*\n",
           "{{path}}/{{env}}", "{{path.basename}}-{{env}}", name="{{path.basename}}-{{env}}")
    files, skipped = applied(tmp_path, ContainerKey("shop-prod", "Deployment", "web", "web"))
    assert files == ["apps/shop/prod/rightsizer-web.yaml"], skipped
    result = build_patch(tmp_path, [PlannedChange(ContainerKey("shop-prod", "Deployment", "web", "web"), False,
                                                  CHANGE)])
    write_patch(tmp_path, result)
    out = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps/shop/prod")], capture_output=True, text=True,
                         check=True).stdout
    rendered = next(d for d in safe_documents(out) if d["kind"] == "Deployment")
    assert rendered["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "400Mi"


def test_a_cluster_generator_is_reported_per_container_unless_it_does_not_matter(tmp_path):
    repo = apps_repo(tmp_path)
    appset(repo, "    - clusters: {}\n", "apps/shop", "{{name}}-shop", name="shop-{{name}}")
    files, skipped = applied(repo, ContainerKey("east-shop", "Deployment", "web", "web"))
    assert not files
    why = skipped["east-shop/Deployment/web/web"]
    assert "clusters generator takes its parameters from the cluster" in why and "argocd/apps.yaml" in why
    appset(repo, "    - clusters: {}\n", "apps/shop", "shop", name="shop-{{name}}")
    assert applied(repo, ContainerKey("shop", "Deployment", "web", "web"))[0] == ["apps/shop/deployment.yaml"], \
        "the same path and namespace on every cluster"
