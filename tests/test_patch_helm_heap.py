"""Heap flags written through a chart's values, and Helm edits rendered with ``helm template`` where it is.

The real podinfo chart (read from ../shared/realworld/gitops) exposes ``extraEnvs``; a small
chart here exposes env the other common ways (a name/value map, ``with`` + ``toYaml .``,
args carrying a flag) and one container it does not expose at all.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rightsizer.history import ContainerKey
from rightsizer.patch import PatchError, PlannedChange, build_patch, write_patch
from rightsizer.patch.manifests import ContainerChange
from rightsizer.yamlsafety import safe_documents

REALWORLD = next((p / "shared/realworld/gitops" for p in Path(__file__).resolve().parents
                  if (p / "shared/realworld/gitops").is_dir()), None)
PODINFO = ContainerKey("podinfo", "Deployment", "podinfo", "podinfo")


def heap(mib: int = 300) -> ContainerChange:
    return ContainerChange({"cpu": "150m"}, {"memory": "400Mi"}, heap_mib=mib)


def podinfo_copy(tmp_path: Path) -> Path:
    assert REALWORLD is not None
    repo = tmp_path / "podinfo"
    shutil.copytree(REALWORLD / "podinfo", repo)
    for path in repo.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return repo


needs_podinfo = pytest.mark.skipif(REALWORLD is None, reason="../shared/realworld/gitops is not on this machine")


@needs_podinfo
def test_podinfo_takes_the_flag_in_its_extra_envs_of_the_environments_values(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no helm here, whatever the machine has
    repo = podinfo_copy(tmp_path)
    before = (repo / "charts/podinfo/values-prod.yaml").read_text()
    result = build_patch(repo, [PlannedChange(PODINFO, False, heap())], environment="prod")
    assert not result.skipped, result.skipped
    write_patch(repo, result)
    after = (repo / "charts/podinfo/values-prod.yaml").read_text()
    values = safe_documents(after)[0]
    assert values["extraEnvs"] == [{"name": "NODE_OPTIONS", "value": "--max-old-space-size=300"}]
    assert values["resources"]["limits"]["memory"] == "400Mi"
    assert "#  - name: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" in after, "the chart's example comments stay"
    assert len(after.splitlines()) - len(before.splitlines()) == 2, "extraEnvs: [] became a two-line item"
    assert result.notes == [("Helm render not checked: helm not on PATH (the values edited in "
                            "charts/podinfo/values-prod.yaml were checked as data)")]


CHART = "apiVersion: v2\nname: api\nversion: 1.0.0\n"
TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: app
          image: node:22
          env:
          {{- range $name, $value := .Values.app.env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
          {{- end }}
          resources:
            {{- toYaml .Values.app.resources | nindent 12 }}
        - name: worker
          image: node:22
          {{- with .Values.worker.env }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml .Values.worker.resources | nindent 12 }}
        - name: cli
          image: node:22
          args:
            {{- toYaml .Values.cli.args | nindent 12 }}
          resources:
            {{- toYaml .Values.cli.resources | nindent 12 }}
        - name: bare
          image: node:22
          args:
            {{- toYaml .Values.bare.extraArgs | nindent 12 }}
          resources:
            {{- toYaml .Values.bare.resources | nindent 12 }}
"""
VALUES = """\
app:
  env:
    LOG_LEVEL: info  # quiet in prod
  resources: {}
worker:
  env:
    - name: QUEUE
      value: jobs
  resources: {}
cli:
  args: ["--max-old-space-size=256", "cli.js"]
  resources: {}
bare:
  extraArgs: []
  resources: {}
"""
PROD = "# production\napp:\n  resources:\n    limits:\n      memory: 1Gi\n"


def small_chart(root: Path) -> Path:
    chart = root / "charts/api"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "templates/deployment.yaml").write_text(TEMPLATE)
    (chart / "values.yaml").write_text(VALUES)
    (chart / "values-prod.yaml").write_text(PROD)
    return chart


def test_env_maps_env_lists_and_args_of_values_take_the_flag_and_the_rest_is_listed_with_why(tmp_path):
    chart = small_chart(tmp_path)
    keys = {name: ContainerKey("prod", "Deployment", "api", name) for name in ("app", "worker", "cli", "bare")}
    result = build_patch(tmp_path, [PlannedChange(k, False, heap()) for k in keys.values()], environment="prod")
    assert [str(f) for _, f, _ in result.applied] == ["charts/api/values-prod.yaml"] * 4
    why = result.skipped.pop(f"NODE_OPTIONS of {keys['bare']}")
    assert "--max-old-space-size=300" in why and ".Values.bare.extraArgs" in why and "after the script" in why
    assert not result.skipped, result.skipped
    write_patch(tmp_path, result)
    prod = safe_documents((chart / "values-prod.yaml").read_text())[0]
    assert prod["app"]["env"] == {"NODE_OPTIONS": "--max-old-space-size=300"}, "a map merges key by key"
    assert prod["worker"]["env"] == [{"name": "QUEUE", "value": "jobs"},
                                     {"name": "NODE_OPTIONS", "value": "--max-old-space-size=300"}], \
        "a list replaces the defaults' whole: their entries are carried over"
    assert prod["cli"]["args"] == ["--max-old-space-size=300", "cli.js"]
    assert "bare" not in prod or "extraArgs" not in prod["bare"]
    assert (chart / "values.yaml").read_text() == VALUES, "the defaults stay"
    assert (chart / "values-prod.yaml").read_text().startswith("# production\n")


def test_a_template_that_writes_node_options_itself_is_left_by_hand(tmp_path):
    chart = small_chart(tmp_path)
    template = chart / "templates/deployment.yaml"
    template.write_text(TEMPLATE.replace("          {{- range $name", "            - name: NODE_OPTIONS\n"
                                         "              value: --enable-source-maps\n          {{- range $name"))
    key = ContainerKey("prod", "Deployment", "api", "app")
    result = build_patch(tmp_path, [PlannedChange(key, False, heap())], environment="prod")
    assert "writes NODE_OPTIONS in its template" in result.skipped[f"NODE_OPTIONS of {key}"]


# A stand-in for helm, clearly not Helm: it checks how rightsizer invokes ``helm template`` (release, chart,
# namespace, values files in order) and gives back what Helm would render for podinfo's main container
# (name, resources, extraEnvs), so that the reading of the output and the checks on it are exercised. The
# rendering of real templates is only exercised by the test below it, where helm is installed.
FAKE_HELM = """\
#!{python}
import json, os, sys
from pathlib import Path
from ruamel.yaml import YAML
args = sys.argv[1:]
Path(os.environ["FAKE_HELM_LOG"]).open("a").write(json.dumps(args) + "\\n")
assert args[0] == "template", args
release, chart = args[1], Path(args[2])
files = [args[i + 1] for i, a in enumerate(args) if a == "-f"]
namespace = args[args.index("--namespace") + 1] if "--namespace" in args else "default"
yaml = YAML(typ="safe", pure=True)
def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
values = yaml.load((chart / "values.yaml").read_text())
for f in files if not os.environ.get("FAKE_HELM_IGNORE_VALUES") else []:
    values = merge(values, yaml.load(Path(f).read_text()) or {{}})
name = yaml.load((chart / "Chart.yaml").read_text())["name"]
container = {{"name": name, "resources": values.get("resources") or {{}}, "env": values.get("extraEnvs") or []}}
doc = {{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {{"name": release, "namespace": namespace}},
       "spec": {{"template": {{"spec": {{"containers": [container]}}}}}}}}
print("---")
print(json.dumps(doc))
"""


@needs_podinfo
def test_the_render_path_with_a_stand_in_for_helm(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "helm"
    fake.write_text(FAKE_HELM.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "helm.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    repo = podinfo_copy(tmp_path)
    result = build_patch(repo, [PlannedChange(PODINFO, False, heap())], environment="prod")
    assert not result.notes, "rendered and checked"
    calls = [line for line in log.read_text().splitlines()]
    assert len(calls) == 2, "rendered before the edit and after it"
    import json
    after = json.loads(calls[1])
    assert after[:2] == ["template", "podinfo"] and after[2].endswith("/charts/podinfo")
    assert after[after.index("-f") + 1].endswith("/charts/podinfo/values-prod.yaml")
    monkeypatch.setenv("FAKE_HELM_IGNORE_VALUES", "1")  # a render that does not carry the edit is caught
    with pytest.raises(PatchError, match="renders podinfo/Deployment/podinfo/podinfo"):
        build_patch(repo, [PlannedChange(PODINFO, False, heap())], environment="prod")


@needs_podinfo
@pytest.mark.skipif(shutil.which("helm") is None, reason="helm is not installed here")
def test_podinfo_rendered_with_helm_carries_the_recommendation(tmp_path):
    repo = podinfo_copy(tmp_path)
    result = build_patch(repo, [PlannedChange(PODINFO, False, heap())], environment="prod")
    assert not result.notes, result.notes
    write_patch(repo, result)
    out = subprocess.run(["helm", "template", "podinfo", str(repo / "charts/podinfo"), "-f",
                          str(repo / "charts/podinfo/values-prod.yaml")], capture_output=True, text=True, check=True)
    deployment = next(d for d in safe_documents(out.stdout) if d and d["kind"] == "Deployment"
                      and d["metadata"]["name"] == "podinfo")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "NODE_OPTIONS", "value": "--max-old-space-size=300"} in container["env"]
    assert container["resources"]["limits"]["memory"] == "400Mi"
