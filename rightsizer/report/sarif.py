"""SARIF 2.1.0 (``-o sarif``): the audit as code-scanning tools read it, so CI annotates the lines.

One run of one tool: every registered rule in ``tool.driver.rules`` (its summary, why it
matters, its usual level), one result per finding with its file relative to the repository
root (``uriBaseId`` ``SRCROOT``) and its line, the evidence and fix in the message and in
the result's properties.  What could not be read becomes a tool notification, so a partial
audit shows as one.  SARIF's levels are ``error``, ``warning`` and ``note`` (our ``info``).
"""

from __future__ import annotations

from typing import Any

from rightsizer import __version__
from rightsizer.audit import RULES, AuditResult, Finding
from rightsizer.report.documents import json_text
from rightsizer.report.registry import register

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule(name: str) -> dict[str, Any]:
    rule = RULES[name]
    return {
        "id": rule.name,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "help": {"text": f"{rule.why} See docs/commands/audit.md, rule {rule.name}."},
    }


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    text = f"{f.subject}: {f.message}."
    if f.evidence:
        text += " Evidence: " + "; ".join(f.evidence) + "."
    if f.fix:
        text += f" Fix: {f.fix}."
    return {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": f.file, "uriBaseId": "SRCROOT"},
                                 "region": {"startLine": f.line}},
            "logicalLocations": [{"fullyQualifiedName": f.subject, "kind": "resource"}],
        }],
        "partialFingerprints": {"rightsizerFinding/v1": f"{f.rule}:{f.subject}"},
        "properties": {"namespace": f.namespace, "kind": f.kind, "workload": f.workload, "container": f.container,
                       "evidence": list(f.evidence), "fix": f.fix, "renderedBy": f.rendered_by},
    }


def sarif_document(result: AuditResult) -> dict[str, Any]:
    names = list(RULES)
    index = {name: i for i, name in enumerate(names)}
    notes = [{"level": "warning", "message": {"text": f"not read: {what}: {why}"}} for what, why in
             result.unread.items()]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rightsizer", "version": __version__,
                                "rules": [_rule(name) for name in names]}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
            "results": [_result(f, index) for f in result.findings],
            "properties": {"repo": result.repo, "source": result.source, "window": result.window},
        }],
    }


@register("sarif", AuditResult)
def audit_sarif(result: AuditResult) -> str:
    return json_text(sarif_document(result))
