"""Renderings of an audit (``rightsizer audit``): table, json, markdown.  SARIF is in :mod:`.sarif`.

Every rendering lists each finding with its file and line, its evidence and its fix, then what
could not be read: an audit that skipped an overlay must not read as a clean one.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from rightsizer import __version__
from rightsizer.audit import RULES, SEVERITIES, AuditResult, Finding
from rightsizer.report.console import draw
from rightsizer.report.documents import json_text
from rightsizer.report.registry import register

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def headline(result: AuditResult) -> str:
    """``3 errors, 12 warnings, 5 info in 9 workloads (14 containers) of REPO``."""
    counts = result.counts()
    found = ", ".join(f"{counts[s]} {s}{'s' if s != 'info' and counts[s] != 1 else ''}" for s in reversed(SEVERITIES))
    return f"{found} in {result.workloads} workloads ({result.containers} containers) of {result.repo}"


def provenance(result: AuditResult) -> str:
    if result.source is None:
        return "manifests only: give a source (--prometheus-url, --snapshot, --demo) for measured evidence"
    return f"evidence from {result.source}, {result.window}"


def where(f: Finding) -> str:
    return f"{f.file}:{f.line}"


def _subject(f: Finding) -> str:
    name = f"{f.namespace or '-'}/{f.kind}/{f.workload}"
    return name if f.container is None else f"{name}\n  {f.container}{' (init)' if f.init else ''}"


@register("table", AuditResult, console=True)
def audit_table(result: AuditResult, width: int, color: bool) -> str:
    """Severity, the workload with the file and line under it, the finding with its evidence and fix: at any width
    the columns keep their proportions and wrap, none is squeezed to nothing."""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", expand=True, pad_edge=False)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Workload, file", ratio=2, overflow="fold")
    table.add_column("Finding", ratio=3)
    for f in result.findings:
        finding = Text.assemble((f.message, "bold"), f" [{f.rule}]")
        for line in f.evidence:
            finding.append(f"\n· {line}", style="dim")
        if f.fix:
            finding.append(f"\nfix: {f.fix}")
        subject = Text(_subject(f))
        subject.append(f"\n{where(f)}", style="cyan")
        table.add_row(Text(f.severity, style=_STYLE[f.severity]), subject, finding)
    notes = [headline(result), provenance(result)]
    tail = [f"not read: {what}: {why}" for what, why in result.unread.items()]
    return draw(*notes, *([table] if result.findings else ["no findings"]), *tail, width=width, color=color)


def audit_document(result: AuditResult) -> dict[str, Any]:
    """The audit as one JSON-ready document (``-o json``), its shape documented in docs/commands/audit.md."""
    used = {f.rule for f in result.findings}
    return {
        "version": __version__,
        "repo": result.repo,
        "source": result.source,
        "window": result.window,
        "summary": {"workloads": result.workloads, "containers": result.containers, "findings": result.counts()},
        "rules": [{"name": r.name, "severity": r.severity, "summary": r.summary} for r in RULES.values()
                  if r.name in used],
        "findings": [f.to_dict() for f in result.findings],
        "unread": result.unread,
    }


@register("json", AuditResult)
def audit_json(result: AuditResult) -> str:
    return json_text(audit_document(result))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@register("markdown", AuditResult)
def audit_markdown(result: AuditResult) -> str:
    lines = [f"## Audit: {headline(result)}", "", provenance(result), ""]
    if result.findings:
        lines += ["| Severity | Workload | Finding | Evidence | Fix | File |", "|---|---|---|---|---|---|"]
        for f in result.findings:
            subject = f"{f.namespace or '-'}/{f.kind}/{f.workload}" + (f" `{f.container}`" if f.container else "")
            cells = [f"**{f.severity}**" if f.severity == "error" else f.severity, subject,
                     f"{f.message} (`{f.rule}`)", "<br>".join(_cell(e) for e in f.evidence), f.fix,
                     f"`{where(f)}`"]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    else:
        lines.append("No findings.")
    if result.unread:
        lines += ["", "Not read:", ""] + [f"- `{what}`: {why}" for what, why in result.unread.items()]
    return "\n".join(lines) + "\n"
