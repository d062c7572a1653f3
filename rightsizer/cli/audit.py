"""``rightsizer audit``: the production checklist over a GitOps checkout, with the cluster's evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rightsizer.audit import RULES, SEVERITIES, AuditResult
from rightsizer.audit import audit as run_audit
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory
from rightsizer.needs import EVERY_STEP

from .app import EXIT_FINDINGS
from .console import check_format, emit, listed, say, setup_logging, warn
from .options import SourceFlags, WindowOptions, history_parts


def _history(source: SourceFlags, window: WindowOptions, unread: dict[str, str]) -> ClusterHistory | None:
    """The source's history, or None (no source given; or it could not be read: noted, the audit goes on)."""
    if not (source.prometheus.prometheus_url or source.offline.snapshot or source.offline.demo):
        return None
    try:
        return ClusterHistory.combine(history_parts(source, window.seconds(), EVERY_STEP))
    except RightsizerError as exc:
        warn(f"the audit goes on without measured evidence: {exc}")
        unread["source"] = str(exc)
        return None


def audit(
    *,
    repo: Annotated[Path, typer.Option("--repo", help="GitOps checkout to audit (plain manifests, Kustomize, Helm, "
                                       "Argo CD, Flux).")],
    source: SourceFlags,
    window: WindowOptions,
    environment: Annotated[str | None, typer.Option(
        "--environment", help="Pick per-environment values files and overlays whose path names it, as patch does.")
    ] = None,
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", help=f"Check only this rule (repeatable): {', '.join(RULES)}.")] = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", help="Exit with code 3 when a finding is at this severity or above: warning or error "
        "(default: exit 0 whatever is found).")] = None,
    fmt: Annotated[str, typer.Option("-o", "--format", help=f"{listed(AuditResult)}.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write to FILE (atomically).")] = None,
) -> None:
    """Check every workload a GitOps repository renders against the production checklist, with evidence.

    Requests set, no CPU limit, memory near the measured peak, a Node.js heap flag that fits the limit,
    probes, spread and budgeted replicas, spot blockers: each finding with its file, line, evidence and fix.
    A source (--prometheus-url, --snapshot, --demo) adds measured throttling, peaks, OOM kills, slow starts.

    Examples:

      rightsizer audit --repo ./gitops

      rightsizer audit --repo ./gitops --prometheus-url http://localhost:9090 -o sarif --output audit.sarif --fail-on error
    """
    setup_logging(source.run.verbose)
    check_format(AuditResult, fmt)
    if fail_on is not None and fail_on not in SEVERITIES[1:]:
        raise typer.BadParameter("choose warning or error", param_hint="'--fail-on'")
    unread: dict[str, str] = {}
    history = _history(source, window, unread)
    result = run_audit(repo, history, environment=environment, rules=rule, scope=source.scope.scope(),
                       unread=unread)
    emit(result, fmt, output, f" ({len(result)} findings)")
    if result.fails(fail_on):
        say(f"findings at {fail_on} or above (--fail-on {fail_on})")
        raise typer.Exit(EXIT_FINDINGS)
