"""One audit: walk the repository, attach the measured evidence, run every rule, keep what could not be read."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rightsizer.audit import rules as _rules  # noqa: F401 - registers the rules
from rightsizer.audit.evidence import EvidenceIndex
from rightsizer.audit.model import SEVERITIES, AuditResult, Finding
from rightsizer.audit.registry import RULES, Context, find
from rightsizer.audit.repo import RepoWalk
from rightsizer.history import ClusterHistory
from rightsizer.scope import Scope
from rightsizer.secrets import redact_urls


def audit(repo: str | Path, history: ClusterHistory | None = None, *, environment: str | None = None,
          rules: Iterable[str] | None = None, scope: Scope | None = None,
          unread: dict[str, str] | None = None) -> AuditResult:
    """Check every workload ``repo`` renders against the production checklist.

    ``history`` (from :func:`rightsizer.load_history`) adds the measured evidence: throttling,
    memory peaks, OOM kills, slow starts, Node.js heaps.  ``rules`` picks rules by name (all by
    default); ``scope`` keeps the workloads whose namespace and name match it (a workload in no
    namespace only without a namespace filter); ``environment`` picks per-environment values files as
    ``patch`` does; ``unread``
    adds what the caller could not read (a source that is down) to the result's list.

    >>> result = audit("fixtures/gitops-repo")
    >>> sorted({f.rule for f in result if f.workload == "catalog"})[:2]
    ['cpu-limit', 'liveness-probe-missing']
    """
    chosen = [find(name) for name in rules] if rules is not None else list(RULES.values())
    walk = RepoWalk(Path(repo), environment)
    workloads = walk.workloads()
    if scope is not None:
        workloads = [w for w in workloads if (scope.namespace is None or (w.namespace is not None and scope.namespace_ok(
            w.namespace))) and scope.workload_ok(w.kind, w.name)]
    index = EvidenceIndex(history) if history is not None else None
    ctx = Context(walk.lines, measured=history is not None)
    findings: list[Finding] = []
    unread_rules: dict[str, str] = {}
    for workload in workloads:
        if index is not None and workload.name_pattern is not None:
            known = index.resolve(workload.namespace, workload.kind, workload.name_pattern,
                                  [c.name for c in workload.containers])
            if known is not None:  # a chart's workload as the cluster names it (the release found by its name)
                workload.namespace, workload.name = known
        for container in workload.containers:
            if index is not None:
                container.evidence = index.find(workload.namespace, workload.kind, workload.name, container.name)
        for rule in chosen:
            if rule.applies(workload):
                try:
                    findings.extend(rule.check(workload, ctx))
                except Exception as exc:  # noqa: BLE001 - one odd manifest never stops the rest of the audit
                    unread_rules[f"{workload.rendered_by}: {workload.kind} {workload.name}"] = (
                        f"rule {rule.name} could not read it ({type(exc).__name__}: {exc}); check its fields' types")
    order = {name: i for i, name in enumerate(RULES)}
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.namespace or "", f.kind, f.workload,
                                 f.container or "", order[f.rule]))
    result = AuditResult(str(repo), findings, len(workloads), sum(len(w.containers) for w in workloads),
                         redact_urls(history.source) if history is not None else None,
                         history.describe_window() if history is not None else None,
                         {**walk.unread, **unread_rules, **(unread or {})})
    if history is not None:
        result.unread.update({f"source: {k}": v for k, v in history.missing.items()})
    return result
