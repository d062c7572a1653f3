"""The terminal table: one row per container, grouped by namespace, changes coloured, subtotals and totals.

Three layouts, the widest that fits the target is drawn: ``wide`` (a column per value),
``stacked`` (the namespace as a heading, container and notes under the workload, limit
under request, each indented as in the header: about 100 columns), ``narrow`` (stacked, without the cost column and with
light borders: about 75).  Squeezing a wide table into a narrow terminal would cut every
value short; stacking keeps each whole.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.model import Recommendation, RecommendationSet
from rightsizer.report.console import draw
from rightsizer.report.registry import register
from rightsizer.report.totals import Totals, by_namespace, totals

LAYOUTS = ("wide", "stacked", "narrow")
_SHORT_KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "CronJob": "cronjob",
                "ReplicaSet": "rs", "Rollout": "rollout", "Job": "job", "Pod": "pod"}
_RISK_STYLE = {"low": "dim", "medium": "yellow", "high": "bold red"}


def _change(current: float | None, new: float | None, show: Callable[[float], str], *, absent: str = "-") -> Text:
    cur = absent if current is None else show(current)
    if new is None:
        return Text(cur, style="dim") if current is None else Text(f"{cur} → {absent}", style="bold")
    nxt = show(new)
    if current is not None and abs(new - current) <= 1e-9 * max(1.0, abs(current)):
        return Text(cur, style="dim")
    style = "yellow" if current is None else ("green" if new < current else "red")
    return Text(f"{cur} → {nxt}", style=style)


def _money_change(cost: tuple[float, float] | None) -> str:
    if cost is None:
        return ""
    return f"${cost[0]:,.0f} → ${cost[1]:,.0f}"


def _lines(*parts: Text | str) -> Text:
    """Cells stacked in one cell, one per line (empty parts left out)."""
    return Text("\n").join(Text(p) if isinstance(p, str) else p for p in parts if p)


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


def container_name(r: Recommendation) -> str:
    """The container's name, marked when it is an init container (it runs before the others, and alone)."""
    return r.key.container + (" (init)" if r.init else "")


def _values(r: Recommendation) -> list[Text]:
    """CPU request, CPU limit, memory request, memory limit: each now → recommended."""
    if r.requests is None:
        return [Text(r.reasons[0] if r.reasons else "no recommendation", style="dim"), Text(""), Text(""), Text("")]
    return [
        _change(r.current_requests.cpu, r.requests.cpu, format_cpu),
        _change(r.current_limits.cpu, r.limits.cpu if r.limits else None, format_cpu),
        _change(r.current_requests.memory, r.requests.memory, format_memory),
        _change(r.current_limits.memory, r.limits.memory if r.limits else None, format_memory),
    ]


def _risk(r: Recommendation) -> Text | str:
    return Text(r.risk, style=_RISK_STYLE[r.risk]) if r.requests is not None else ""


class _Layout:
    """How one layout lays out a header, a container, a subtotal and the total."""

    def __init__(self, name: str, priced: bool):
        self.name, self.priced = name, priced
        self.stacked = name != "wide"
        self.cost = priced and name != "narrow"

    def columns(self) -> list[str]:
        if not self.stacked:
            return ["Namespace", "Workload", "Container", "CPU request", "CPU limit", "Memory request",
                    "Memory limit", "Risk", "Also", *(["$/month, all pods"] if self.cost else [])]
        return ["Workload\n  container", "CPU request\n  limit", "Memory request\n  limit", "Risk",
                *(["$/month, all pods"] if self.cost else [])]

    def heading(self, namespace: str) -> list[Text | str] | None:
        return None if not self.stacked else [Text(namespace, style="bold underline")]

    def row(self, r: Recommendation) -> list[Text | str]:
        workload = f"{_SHORT_KINDS.get(r.key.kind, r.key.kind)}/{r.key.workload}"
        cpu_req, cpu_lim, mem_req, mem_lim = _values(r)
        cost = [_money_change(r.cost)] if self.cost else []
        if not self.stacked:
            return [r.key.namespace, workload, container_name(r), cpu_req, cpu_lim, mem_req, mem_lim, _risk(r),
                    ", ".join(describe_extras(r)), *cost]
        extras = Text("  " + ", ".join(describe_extras(r)), style="italic") if describe_extras(r) else ""
        if r.requests is None:  # the reason spans the values in the wide layout; here it goes under the name
            return [_lines(workload, f"  {container_name(r)}", cpu_req), "", "", "", *cost]
        return [_lines(workload, f"  {container_name(r)}", extras), _lines(cpu_req, _limit(cpu_lim)),
                _lines(mem_req, _limit(mem_lim)), _risk(r), *cost]

    def sums(self, label: str, t: Totals, *, namespace: str = "") -> list[Text | str]:
        cpu = _change(*t.cpu, format_cpu)
        memory = _change(*t.memory, format_memory)
        whole = "" if namespace or self.stacked else " (all pods)"  # the stacked header says it, in less room
        cost = [Text(_money_change(t.cost) + whole, style="bold")] if self.cost else []
        if not self.stacked:
            first = [namespace, Text(label, style="bold")] if namespace else [Text(label, style="bold"), ""]
            return [*first, "", cpu, "", memory, "", "", "", *cost]
        return [Text(label, style="bold"), cpu, memory, "", *cost]


def _limit(change: Text) -> Text:
    return Text.assemble("  ", change) if change.plain else change


def build_table(recs: RecommendationSet, layout: str = "wide") -> Table:
    """The table in one of :data:`LAYOUTS`."""
    shape = _Layout(layout, priced=bool(recs) and all(r.cost is not None for r in recs))
    table = Table(title=f"rightsizer: {len(recs)} containers, {recs.window}", title_justify="left",
                  header_style="bold", box=box.HEAVY_HEAD if layout != "narrow" else box.SIMPLE_HEAD,
                  pad_edge=layout != "narrow")
    for name in shape.columns():
        table.add_column(name, no_wrap=not shape.stacked or not name.startswith("Workload"),
                         overflow="fold", justify="right" if name.startswith("$") else "left")
    namespaces = by_namespace(recs)
    ordered = sorted(recs, key=lambda r: r.key)
    for i, (namespace, subtotal) in enumerate(namespaces.items()):
        if i:
            table.add_section()
        heading = shape.heading(namespace)
        if heading:
            table.add_row(*heading)
        for r in (r for r in ordered if r.key.namespace == namespace):
            table.add_row(*shape.row(r))
        if len(namespaces) > 1 and subtotal.containers > 1:
            table.add_row(*shape.sums("subtotal" if not shape.stacked else f"{namespace} subtotal", subtotal,
                                      namespace=namespace))
    table.add_section()
    table.add_row(*shape.sums("total (one pod each)", totals(recs)))
    return table


def _width(table: Table) -> int:
    return Console(file=io.StringIO(), width=100_000).measure(table).maximum


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
    """The widest layout that fits ``width``, then what was not recommended and what a partial result left out."""
    tables = (build_table(recs, layout) for layout in LAYOUTS)
    table = next((t for t in tables if _width(t) <= width), None) or build_table(recs, LAYOUTS[-1])
    note = dropped_note(recs.dropped) + missing_note(recs.missing)
    return draw(table, width=width, color=color) + ("\n" + note if note else "")
