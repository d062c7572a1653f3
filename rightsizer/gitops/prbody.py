"""The pull request's description: what changes where, what it saves, why, and what is left to do by hand.

A reviewer reads it top to bottom: one row per container (before -> after, the file, $ a
month), the price source, each container's risk and reasons, the backtest on this
cluster (the policy against the baselines), then what rightsizer could not do (HPAs, heap
flags, containers it could not locate) as a visible to-do list, then how to revert or opt
a workload out.  A fingerprint of the change (an HTML comment) lets
the next week's run recognise a change the team already declined.
"""

from __future__ import annotations

import hashlib
import json
import re

from rightsizer.gitops.evidence import BacktestEvidence
from rightsizer.patch import PatchResult, PlannedChange
from rightsizer.patch.locate import IGNORE_ANNOTATION
from rightsizer.recommend.model import Recommendation, RecommendationSet

_FINGERPRINT = re.compile(r"<!-- rightsizer-change: ([0-9a-f]{16}) -->")


def fingerprint(changes: list[PlannedChange], result: PatchResult) -> str:
    """Identifies the change itself (containers, files, values), whatever the base branch looks like."""
    applied = {what: str(file) for what, file, _ in result.applied}
    data = sorted((str(pc.key), applied[str(pc.key)], sorted(pc.change.requests.items()),
                   sorted((k, v or "") for k, v in pc.change.limits.items()), pc.change.heap_mib or 0,
                   list(pc.hpa or ())) for pc in changes if str(pc.key) in applied)
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


def fingerprint_of(body: str) -> str | None:
    match = _FINGERPRINT.search(body or "")
    return match.group(1) if match else None


def _cell(before: str | None, after: str | None) -> str:
    return (before or "-") if before == after else f"{before or '-'} → **{after or '-'}**"


def _money(rec: Recommendation | None) -> str:
    if rec is None or rec.cost is None:
        return "-"
    return f"${rec.cost[0]:,.2f} → **${rec.cost[1]:,.2f}**"


def evidence_lines(evidence: BacktestEvidence | None) -> list[str]:
    """The backtest section: each strategy's figures on the replayed days, or why there are none."""
    lines = ["", "### Backtest on this cluster", ""]
    if evidence is None:
        return [*lines, ("Not run: the history these recommendations were made from was not part of this run (as "
                         "with a reviewed report file); `rightsizer backtest` on the same source shows how the "
                         "policy fares.")]
    if not evidence.ready:
        return [*lines, f"Not run: {evidence.unavailable or 'no container ran in both parts of the window'}."]
    lines += [(f"Each strategy recommended from {evidence.train_window}; its recommendations were then replayed on "
              f"{evidence.test_window} (the history this run read)."), "",
              ("| strategy | containers | would be OOMKilled | CPU p95 above request | CPU samples above request "
              "| CPU requests | memory requests |"), "|---|---|---|---|---|---|---|"]
    for name, f in evidence.figures.items():
        label = f"**{name}** (this policy)" if name == "rightsizer" else name
        lines.append(f"| {label} | {f.containers} | {f.would_oom} | {f.cpu_p95_above} | "
                     f"{f.cpu_samples_above_share:.1%} | {f.cpu_requests:,.2f} cores | "
                     f"{f.memory_requests_gib:,.2f} GiB |")
    lines += ["", ("Requests are one pod of each container scored. Replayed usage is what the containers got: a "
                  "container held back by its CPU limit may have wanted more.")]
    return lines


def pr_body(recs: RecommendationSet | None, result: PatchResult, change_id: str,
            evidence: BacktestEvidence | None = None) -> str:
    by_key = {str(r.key): r for r in recs} if recs is not None else {}
    lines = [f"## rightsizer: {len(result.applied)} containers to resize", ""]
    if recs is not None:
        lines.append(f"History: {recs.window or 'unknown window'} from {recs.source or 'a reviewed report'}; "
                     f"strategy `{recs.strategy}`.")
    costs = [by_key[w].cost for w, _, _ in result.applied if w in by_key and by_key[w].cost is not None]
    if costs:
        now, new = sum(c[0] for c in costs), sum(c[1] for c in costs)  # type: ignore[index]
        source = recs.pricing if recs is not None and recs.pricing else "price source not recorded"
        lines.append(f"Requests cost of these containers: **${now:,.2f} → ${new:,.2f} a month** ({source}).")
    else:
        lines.append("No prices were attached (run with --region or --catalog to see $ a month).")
    header = ("| Namespace | Workload | Container | CPU request | CPU limit | Memory request | Memory limit | "
              "$ / month | Risk | File |")
    lines += ["", header, "|---|---|---|---|---|---|---|---|---|---|"]
    for what, file, _ in sorted(result.applied, key=lambda a: a[0]):
        rec = by_key.get(what)
        ns, kind, workload, container = what.split("/")[-4:]
        if rec is not None and rec.requests is not None:
            cur, new = rec.quantities("current"), rec.quantities("recommended")
            values = [_cell(cur[f], new[f]) for f in ("cpu_request", "cpu_limit", "memory_request", "memory_limit")]
            risk = rec.risk
        else:
            values, risk = ["see the diff"] * 4, "-"
        cells = [ns, f"{kind}/{workload}", container, *values, _money(rec), risk, f"`{file}`"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    reasons = [(what, by_key[what]) for what, _, _ in sorted(result.applied) if what in by_key]
    if reasons:
        lines += ["", "### Why", ""]
        for what, rec in reasons:
            lines.append(f"- **{what}** (risk {rec.risk}, confidence {rec.confidence:.0%}): "
                         + "; ".join([*rec.reasons, *(f"risk: {r}" for r in rec.risk_reasons)]))
    lines += evidence_lines(evidence)
    by_hand = [why for what, why in result.skipped.items() if what.startswith(("HPA of", "NODE_OPTIONS of"))]
    not_applied = [why for what, why in result.skipped.items() if not what.startswith(("HPA of", "NODE_OPTIONS of"))]
    if by_hand or result.notes:
        lines += ["", "### To do by hand", ""]
        lines += [f"- [ ] {item}" for item in by_hand]
        lines += [f"- [ ] check: {note}" for note in result.notes]
    if not_applied:
        lines += ["", "### Not applied", ""]
        lines += [f"- {why}" for why in not_applied]
    lines += ["", "### How to revert or opt out", "",
              ("Close this pull request to decline the change: the same change is not proposed again (a different "
               "one is). After merging, revert the merge commit (`git revert -m 1 <merge sha>`) and sync. To leave "
               f"a workload alone, annotate it `{IGNORE_ANNOTATION}: \"true\"` or list it under `exclude:` in "
               "the policy file (`namespace/name` or `namespace/Kind/name`, wildcards allowed)."),
              "", f"<!-- rightsizer-change: {change_id} -->", ""]
    return "\n".join(lines)
