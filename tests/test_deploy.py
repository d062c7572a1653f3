"""The weekly job's manifests render and ask for nothing they do not need."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rightsizer.yamlsafety import safe_documents

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_the_cronjob_renders_and_needs_no_kubernetes_access():
    out = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "kubernetes")], capture_output=True, text=True,
                         check=True).stdout
    objects = {d["kind"]: d for d in safe_documents(out)}
    assert set(objects) == {"Namespace", "ServiceAccount", "ConfigMap", "CronJob"}, "no Role or RoleBinding"
    assert objects["ServiceAccount"]["automountServiceAccountToken"] is False
    cron = objects["CronJob"]
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["args"][0] == "pr" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    token = next(e for e in container["env"] if e["name"] == "GITHUB_TOKEN")
    assert "secretKeyRef" in token["valueFrom"], "the token comes from a Secret, never from the manifest"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/work"} <= mounts, "a read-only root still has room for the clone and temporary files"
    policy = safe_documents(objects["ConfigMap"]["data"]["rightsizer.yaml"])[0]
    from rightsizer.config import PolicySet
    PolicySet(policy["profile"], policy["qos"])


def test_the_ci_examples_run_the_weekly_pr():
    for name in ("github-actions-weekly.yml", "gitlab-ci-weekly.yml"):
        text = (DEPLOY / name).read_text()
        safe_documents(text)
        assert "rightsizer pr --repo" in text


def test_the_ci_examples_install_kubectl_before_the_run():
    for name in ("github-actions-weekly.yml", "gitlab-ci-weekly.yml"):
        text = (DEPLOY / name).read_text()
        assert "kubectl" in text and text.index("kubectl") < text.index("rightsizer pr --repo"), name


def test_the_image_builds_for_every_architecture_from_a_small_context():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "amd64" not in dockerfile.replace("linux/amd64,linux/arm64", ""), "no architecture is hard-coded"
    assert "ARG TARGETARCH" in dockerfile and "${arch}" in dockerfile
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", ".git"} <= set(ignored), "COPY . /src carries no virtualenv or history"
