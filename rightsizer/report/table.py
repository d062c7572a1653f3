"""The terminal table: one row per container, grouped by namespace, changes coloured, totals last."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.table import Table
from rich.text import Text

from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.model import Recommendation, RecommendationSet
from rightsizer.report.console import draw
from rightsizer.report.registry import register


def _change(current: float | None, new: float | None, show: Callable[[float], str], *, absent: str = "-") -> Text:
    cur = absent if current is None else show(current)
    if new is None:
        return Text(cur, style="dim") if current is None else Text(f"{cur} → {absent}", style="bold")
    nxt = show(new)
    if current is not None and abs(new - current) <= 1e-9 * max(1.0, abs(current)):
        return Text(cur, style="dim")
    style = "yellow" if current is None else ("green" if new < current else "red")
    return Text(f"{cur} → {nxt}", style=style)


def _totals(recs: RecommendationSet) -> tuple[float, float, float, float]:
    """Requests summed over the containers that have a recommendation, one pod of each."""
    cur_cpu = sum(r.current_requests.cpu or 0 for r in recs if r.requests)
    new_cpu = sum(r.requests.cpu or 0 for r in recs if r.requests)
    cur_mem = sum(r.current_requests.memory or 0 for r in recs if r.requests)
    new_mem = sum(r.requests.memory or 0 for r in recs if r.requests)
    return cur_cpu, new_cpu, cur_mem, new_mem


def build_table(recs: RecommendationSet) -> Table:
    table = Table(title=f"rightsizer: {len(recs)} containers, {recs.window}", title_justify="left",
                  show_lines=False, header_style="bold")
    priced = all(r.cost is not None for r in recs) and len(recs) > 0
    for name in ("Namespace", "Workload", "Container", "CPU request", "CPU limit", "Memory request",
                 "Memory limit", "Risk", "Also", *(["$/month, all pods"] if priced else [])):
        table.add_column(name, no_wrap=True, justify="right" if name.startswith("$") else "left")
    previous_ns = None
    for r in sorted(recs, key=lambda r: r.key):
        if previous_ns is not None and r.key.namespace != previous_ns:
            table.add_section()
        previous_ns = r.key.namespace
        table.add_row(*_row(r), *([_money_change(r.cost)] if priced else []))
    cur_cpu, new_cpu, cur_mem, new_mem = _totals(recs)
    table.add_section()
    total_cost = (sum(r.cost[0] for r in recs if r.cost), sum(r.cost[1] for r in recs if r.cost)) if priced else None
    table.add_row(Text("total (one pod each)", style="bold"), "", "",
                  _change(cur_cpu, new_cpu, format_cpu), "", _change(cur_mem, new_mem, format_memory), "", "", "",
                  *([Text(f"{_money_change(total_cost)} (all pods)", style="bold")] if priced else []))
    return table


def dropped_note(dropped: Mapping[str, str]) -> str:
    if not dropped:
        return ""
    return "not recommended (no longer running):\n" + "".join(f"  - {k}: {v}\n" for k, v in dropped.items())


def missing_note(missing: Mapping[str, str]) -> str:
    """What a partial result left out, or an empty string."""
    if not missing:
        return ""
    return "left out (partial result):\n" + "".join(f"  ! {what}: {why}\n" for what, why in missing.items())


@register("table", RecommendationSet, console=True)
def render_table(recs: RecommendationSet, width: int, color: bool) -> str:
    """The table, then what was not recommended and what a partial result left out: on a terminal and in a file."""
    note = dropped_note(recs.dropped) + missing_note(recs.missing)
    return draw(build_table(recs), width=width, color=color) + ("\n" + note if note else "")


_SHORT_KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "CronJob": "cronjob",
                "ReplicaSet": "rs", "Rollout": "rollout", "Job": "job", "Pod": "pod"}


def _row(r: Recommendation) -> list[Text | str]:
    workload = f"{_SHORT_KINDS.get(r.key.kind, r.key.kind)}/{r.key.workload}"
    if r.requests is None:
        reason = r.reasons[0] if r.reasons else "no recommendation"
        return [r.key.namespace, workload, r.key.container, Text(reason, style="dim"), "", "", "", "", ""]
    return [
        r.key.namespace,
        workload,
        r.key.container,
        _change(r.current_requests.cpu, r.requests.cpu, format_cpu),
        _change(r.current_limits.cpu, r.limits.cpu if r.limits else None, format_cpu),
        _change(r.current_requests.memory, r.requests.memory, format_memory),
        _change(r.current_limits.memory, r.limits.memory if r.limits else None, format_memory),
        Text(r.risk, style=_RISK_STYLE[r.risk]),
        ", ".join(describe_extras(r)),
    ]


def _money_change(cost: tuple[float, float] | None) -> str:
    if cost is None:
        return ""
    return f"${cost[0]:,.0f} → ${cost[1]:,.0f}"


_RISK_STYLE = {"low": "dim", "medium": "yellow", "high": "bold red"}


def describe_extras(r: Recommendation) -> list[str]:
    """Short notes beside the numbers: the heap flag, an HPA target that moves, OOMKills seen."""
    out = []
    if r.nodejs is not None:
        out.append(f"heap {r.nodejs.max_old_space_size_mib}Mi")
    if r.hpa is not None and r.hpa.target != r.hpa.current_target:
        out.append(f"HPA {r.hpa.current_target:g}%→{r.hpa.target:g}%")
    if r.oom_kills:
        out.append(f"{r.oom_kills} OOM")
    return out
