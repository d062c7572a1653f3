"""Flux HelmRelease valuesFrom: the ConfigMap values the repository holds are edited there, per environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rightsizer.history import ContainerKey
from rightsizer.patch import PlannedChange, build_patch, write_patch
from rightsizer.patch.manifests import ContainerChange
from rightsizer.yamlsafety import safe_documents
from tests.test_patch_helm_heap import small_chart

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: api
  namespace: {namespace}
spec:
  chart:
    spec:
      chart: ./charts/api
      sourceRef: {{kind: GitRepository, name: flux-system}}
  valuesFrom:
    - kind: ConfigMap
      name: api-values
{extra}"""
CHANGE = ContainerChange({"cpu": "150m"}, {"memory": "400Mi"}, heap_mib=300)


def kustomize(path: Path) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=True).stdout
    return safe_documents(out)


def test_a_config_map_generated_per_overlay_is_the_environments_values(tmp_path):
    small_chart(tmp_path)
    (tmp_path / "apps/base").mkdir(parents=True)
    (tmp_path / "apps/base/release.yaml").write_text(RELEASE.format(namespace="api", extra=""))
    (tmp_path / "apps/base/kustomization.yaml").write_text("resources:\n  - release.yaml\n")
    for env in ("staging", "prod"):
        (tmp_path / "apps" / env).mkdir()
        (tmp_path / "apps" / env / "kustomization.yaml").write_text(
            "resources:\n  - ../base\nconfigMapGenerator:\n  - name: api-values\n    namespace: api\n"
            "    files:\n      - values.yaml=api-values.yaml\ngeneratorOptions:\n  disableNameSuffixHash: true\n")
        (tmp_path / "apps" / env / "api-values.yaml").write_text(
            f"# {env} values\nworker:\n  env:\n    - name: QUEUE\n      value: {env}-jobs\n")
    keys = [ContainerKey("api", "Deployment", "api", name) for name in ("app", "worker")]
    result = build_patch(tmp_path, [PlannedChange(k, False, CHANGE) for k in keys], environment="prod")
    assert [str(f) for _, f, _ in result.applied] == ["apps/prod/api-values.yaml"] * 2, result.skipped
    assert all("valuesFrom ConfigMap api-values" in how for _, _, how in result.applied)
    assert not result.skipped, result.skipped
    write_patch(tmp_path, result)
    generated = next(d for d in kustomize(tmp_path / "apps/prod") if d["kind"] == "ConfigMap")
    values = safe_documents(generated["data"]["values.yaml"])[0]
    assert values["app"]["resources"] == {"limits": {"memory": "400Mi"}, "requests": {"cpu": "150m"}}
    assert values["worker"]["env"] == [{"name": "QUEUE", "value": "prod-jobs"},
                                       {"name": "NODE_OPTIONS", "value": "--max-old-space-size=300"}]
    assert values["app"]["env"] == {"NODE_OPTIONS": "--max-old-space-size=300"}
    assert (tmp_path / "apps/prod/api-values.yaml").read_text().startswith("# prod values\n")
    assert "400Mi" not in (tmp_path / "apps/staging/api-values.yaml").read_text(), "staging stays"


CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-values
  namespace: api
data:
  values.yaml: |
    # tuned for the api cluster
    app:
      resources:
        requests:
          cpu: 1   # too much
    cli:
      args: ["--max-old-space-size=256", "cli.js"]
"""


def test_values_embedded_in_a_config_map_are_edited_in_place(tmp_path):
    small_chart(tmp_path)
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux/release.yaml").write_text(RELEASE.format(namespace="api", extra=""))
    (tmp_path / "flux/values.yaml").write_text(CONFIG_MAP)
    keys = [ContainerKey("api", "Deployment", "api", name) for name in ("app", "cli")]
    result = build_patch(tmp_path, [PlannedChange(k, False, CHANGE) for k in keys])
    assert [str(f) for _, f, _ in result.applied] == ["flux/values.yaml"] * 2, result.skipped
    assert not result.skipped, result.skipped
    write_patch(tmp_path, result)
    text = (tmp_path / "flux/values.yaml").read_text()
    values = safe_documents(safe_documents(text)[0]["data"]["values.yaml"])[0]
    assert values["app"]["resources"] == {"requests": {"cpu": "150m"}, "limits": {"memory": "400Mi"}}
    assert values["cli"]["args"] == ["--max-old-space-size=300", "cli.js"]
    assert "    # tuned for the api cluster\n" in text and "cpu: 150m   # too much" in text, "its style stays"
    assert "flux/release.yaml" not in {str(f) for f in result.files}


def test_a_secret_in_values_from_is_not_read_and_the_inline_values_say_so(tmp_path):
    small_chart(tmp_path)
    (tmp_path / "flux").mkdir()
    release = RELEASE.format(namespace="api", extra="").replace("kind: ConfigMap", "kind: Secret")
    (tmp_path / "flux/release.yaml").write_text(release + "  values:\n    replicaCount: 2\n")
    key = ContainerKey("api", "Deployment", "api", "app")
    result = build_patch(tmp_path, [PlannedChange(key, False, CHANGE)])
    [(_, file, how)] = result.applied
    assert str(file) == "flux/release.yaml" and "Secret api-values in valuesFrom not read" in how
