"""The heap flag as ``patch`` writes it: where node reads it, the container's other flags kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rightsizer.history import ContainerKey
from rightsizer.patch import PlannedChange, build_patch, write_kubectl_patches, write_patch
from rightsizer.patch.manifests import ContainerChange
from rightsizer.yamlsafety import safe_documents

KEY = ContainerKey("shop", "Deployment", "api", "app")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: node:22
{body}"""


def repo_with(tmp_path: Path, body: str) -> Path:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps/api.yaml").write_text(DEPLOYMENT.format(body=body))
    return tmp_path


def container_after(repo: Path, file: str = "apps/api.yaml") -> dict:
    doc = safe_documents((repo / file).read_text())[0]
    return doc["spec"]["template"]["spec"]["containers"][0]


def change(mib: int = 700, known: str | None = None) -> ContainerChange:
    return ContainerChange({"memory": "1Gi"}, {"memory": "1Gi"}, heap_mib=mib, known_node_options=known)


def test_a_flag_in_args_is_edited_there_and_no_node_options_is_added(tmp_path):
    repo = repo_with(tmp_path, "          args:\n            - --max-old-space-size=256  # old heap\n"
                               "            - server.js\n          env:\n            - name: NODE_OPTIONS\n"
                               "              value: --require ./tracing.js\n")
    result = build_patch(repo, [PlannedChange(KEY, False, change())])
    write_patch(repo, result)
    app = container_after(repo)
    assert app["args"] == ["--max-old-space-size=700", "server.js"]
    assert app["env"] == [{"name": "NODE_OPTIONS", "value": "--require ./tracing.js"}], "the args flag wins anyway"
    assert "# old heap" in (repo / "apps/api.yaml").read_text()
    assert result.heap[str(KEY)].where == "args"


def test_a_flag_given_as_two_words_becomes_one_and_a_shell_line_is_edited_inside(tmp_path):
    repo = repo_with(tmp_path, "          command:\n            - node\n            - --max-old-space-size\n"
                               "            - \"256\"\n            - app.js\n")
    write_patch(repo, build_patch(repo, [PlannedChange(KEY, False, change())]))
    assert container_after(repo)["command"] == ["node", "--max-old-space-size=700", "app.js"]
    assert "env" not in container_after(repo)
    shell = tmp_path / "shell"
    shell.mkdir()
    repo_with(shell, "          command: [sh, -c, 'exec node --max-old-space-size=256 app.js']\n")
    write_patch(shell, build_patch(shell, [PlannedChange(KEY, False, change())]))
    assert container_after(shell)["command"] == ["sh", "-c", "exec node --max-old-space-size=700 app.js"]


def test_node_options_keep_the_containers_flags(tmp_path):
    repo = repo_with(tmp_path, "          env:\n            - name: NODE_OPTIONS\n"
                               "              value: \"--require ./tracing.js --max-old-space-size=256\"\n")
    write_patch(repo, build_patch(repo, [PlannedChange(KEY, False, change(known="--max-old-space-size=700"))]))
    assert container_after(repo)["env"] == [{"name": "NODE_OPTIONS",
                                             "value": "--require ./tracing.js --max-old-space-size=700"}]


def test_a_node_options_from_a_configmap_is_listed_by_hand_and_the_rest_goes_on(tmp_path):
    repo = repo_with(tmp_path, "          env:\n            - name: NODE_OPTIONS\n              valueFrom:\n"
                               "                configMapKeyRef: {name: node, key: options}\n")
    result = build_patch(repo, [PlannedChange(KEY, False, change())])
    assert "valueFrom" in result.skipped[f"NODE_OPTIONS of {KEY}"]
    assert "--max-old-space-size=700" in result.skipped[f"NODE_OPTIONS of {KEY}"]
    write_patch(repo, result)
    app = container_after(repo)
    assert app["resources"]["limits"]["memory"] == "1Gi", "the resources are still applied"
    assert "value" not in app["env"][0]


BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: app
          image: node:22
          args: ["--max-old-space-size=256", "server.js"]
          env:
            - name: NODE_OPTIONS
              value: --require ./tracing.js
"""


def kustomize(path: Path) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=True).stdout
    return safe_documents(out)


def test_a_patch_over_a_base_that_sets_the_flag_in_args_carries_the_edited_args(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base/deployment.yaml").write_text(BASE)
    (tmp_path / "base/kustomization.yaml").write_text("resources:\n  - deployment.yaml\n")
    for env in ("staging", "prod"):
        (tmp_path / env).mkdir()
        (tmp_path / env / "kustomization.yaml").write_text(
            f"namespace: {env}\nresources:\n  - ../base\npatches:\n  - path: memory.yaml\n")
        (tmp_path / env / "memory.yaml").write_text(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: app\n          resources:\n            limits:\n"
            "              memory: 512Mi\n")
    key = ContainerKey("prod", "Deployment", "api", "app")
    result = build_patch(tmp_path, [PlannedChange(key, False, change())])
    assert [str(f) for _, f, _ in result.applied] == ["prod/memory.yaml"]
    write_patch(tmp_path, result)
    prod = next(d for d in kustomize(tmp_path / "prod") if d["kind"] == "Deployment")
    app = prod["spec"]["template"]["spec"]["containers"][0]
    assert app["args"] == ["--max-old-space-size=700", "server.js"]
    assert app["env"] == [{"name": "NODE_OPTIONS", "value": "--require ./tracing.js"}]
    assert app["resources"]["limits"]["memory"] == "1Gi"
    staging = next(d for d in kustomize(tmp_path / "staging") if d["kind"] == "Deployment")
    assert staging["spec"]["template"]["spec"]["containers"][0]["args"][0] == "--max-old-space-size=256"


def test_kubectl_patch_files_carry_the_reviewed_node_options(tmp_path):
    pc = PlannedChange(KEY, False, change(known="--require ./tracing.js --max-old-space-size=300"))
    [path] = write_kubectl_patches([pc], tmp_path / "out")
    text = path.read_text()
    patch = safe_documents(text)[0]
    env = patch["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "NODE_OPTIONS", "value": "--require ./tracing.js --max-old-space-size=700"}]
    assert "replaces the container's whole value" in text
    manifest = tmp_path / "live.yaml"
    manifest.write_text(DEPLOYMENT.format(body="          env:\n            - name: NODE_OPTIONS\n"
                                               "              value: --require ./tracing.js\n"))
    merged = subprocess.run(["kubectl", "patch", "--local", "-f", str(manifest), "--type", "strategic",
                             "--patch-file", str(path), "-o", "yaml"], capture_output=True, text=True, check=True)
    live = safe_documents(merged.stdout)[0]["spec"]["template"]["spec"]["containers"][0]
    assert live["env"] == env and live["resources"]["limits"]["memory"] == "1Gi"
    on_args = PlannedChange(KEY, False, change(), flag_in="args")
    [path] = write_kubectl_patches([on_args], tmp_path / "args")
    assert "env" not in safe_documents(path.read_text())[0]["spec"]["template"]["spec"]["containers"][0]
    assert "set --max-old-space-size=700 in its args by hand" in path.read_text()
