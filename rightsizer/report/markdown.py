"""Markdown: what a pull request body shows a reviewer, changes first, reasons one click away."""

from __future__ import annotations

from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.model import Recommendation, RecommendationSet
from rightsizer.report.registry import register
from rightsizer.report.table import container_name, describe_extras
from rightsizer.report.totals import by_namespace
from rightsizer.secrets import redact_urls

_KIND = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "CronJob": "cronjob"}
_RISK = {"low": "low", "medium": "**medium**", "high": "**HIGH**"}


def _cell(current: str | None, new: str | None) -> str:
    cur = current or "-"
    nxt = new or "-"
    return cur if cur == nxt else f"{cur} → **{nxt}**"


def _row(r: Recommendation) -> str:
    d = r.to_dict()
    cur, new = d["current"], d["recommended"]
    cells = [
        r.key.namespace,
        f"{_KIND.get(r.key.kind, r.key.kind)}/{r.key.workload}",
        container_name(r),
        _cell(cur["cpu_request"], new["cpu_request"]),
        _cell(cur["cpu_limit"], new["cpu_limit"]),
        _cell(cur["memory_request"], new["memory_request"]),
        _cell(cur["memory_limit"], new["memory_limit"]),
        _RISK[r.risk],
        ", ".join(describe_extras(r)),
    ]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _namespaces(recs: RecommendationSet) -> list[str]:
    """A row per namespace (requests one pod each, cost all pods), when there is more than one."""
    sums = by_namespace(recs)
    if len(sums) < 2:
        return []
    priced = all(t.cost is not None for t in sums.values())
    lines = ["| Namespace | Containers | To resize | CPU requested | Memory requested |"
             + (" $/month, all pods |" if priced else ""), "|---|---:|---:|---:|---:|" + ("---:|" if priced else "")]
    for namespace, t in sums.items():
        cost = f" ${t.cost[0]:,.0f} → ${t.cost[1]:,.0f} |" if t.cost is not None else ""
        lines.append(f"| {namespace} | {t.containers} | {t.changed} | {format_cpu(t.cpu[0])} → {format_cpu(t.cpu[1])} "
                     f"| {format_memory(t.memory[0])} → {format_memory(t.memory[1])} |{cost}")
    return [*lines, ""]


@register("markdown", RecommendationSet)
def render_markdown(recs: RecommendationSet) -> str:
    changed = [r for r in recs if r.changed]
    kept = [r for r in recs if r.requests is not None and not r.changed]
    none = [r for r in recs if r.requests is None]
    lines = [
        f"## rightsizer: {len(changed)} of {len(recs)} containers to resize",
        "",
        f"History: {recs.window} from {redact_urls(recs.source) or 'unknown source'}; strategy `{recs.strategy}`.",
        "",
    ]
    costs = [r.cost for r in recs if r.cost is not None]
    if costs:
        now, new = sum(c[0] for c in costs), sum(c[1] for c in costs)
        lines += [(f"Estimated requests cost: **${now:,.0f} → ${new:,.0f} a month** "
                  f"({'saves' if new <= now else 'adds'} ${abs(now - new):,.0f}; {recs.pricing})."), ""]
    lines += _namespaces(recs)
    if changed:
        lines += [
            "| Namespace | Workload | Container | CPU request | CPU limit | Memory request | Memory limit | Risk | Also |",
            "|---|---|---|---|---|---|---|---|---|",
            *(_row(r) for r in sorted(changed, key=lambda r: r.key)),
            "",
            "<details><summary>Why each value</summary>",
            "",
        ]
        for r in sorted(changed, key=lambda r: r.key):
            lines.append(f"**{r.key}** (risk {r.risk}, confidence {r.confidence:.0%})")
            lines += [f"- {reason}" for reason in r.reasons]
            lines += [f"- risk: {why}" for why in r.risk_reasons]
            lines.append("")
        lines += ["</details>", ""]
    if kept:
        lines.append(f"{len(kept)} containers are within the change threshold and stay as they are.")
    if none:
        lines.append(f"{len(none)} containers have no recommendation: "
                     + "; ".join(f"{r.key} ({r.reasons[0]})" for r in none[:10])
                     + (" ..." if len(none) > 10 else ""))
    if recs.missing:
        lines.append("Left out (partial result): " + "; ".join(f"{k}: {v}" for k, v in recs.missing.items()))
    return "\n".join(lines).rstrip() + "\n"
