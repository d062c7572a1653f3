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
