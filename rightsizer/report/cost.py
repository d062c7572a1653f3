"""Renderings of a cost estimate (``rightsizer cost``): table, json, csv, markdown."""

from __future__ import annotations

import csv
import io

from rich.table import Table

from rightsizer.cost.estimate import CostReport, cost_document
from rightsizer.report.console import DEFAULT_WIDTH, draw
from rightsizer.report.documents import json_text
from rightsizer.report.registry import register

_PLAN_TITLES = {"current_on_demand": "current requests, on-demand", "recommended_on_demand":
                "recommended, on-demand", "recommended_spot_mix": "recommended, spot-ready workloads on spot"}


def _money(value: float) -> str:
    return f"-${-value:,.0f}" if value < -0.5 else f"${abs(value):,.0f}"


def _spot(w: dict[str, object]) -> str:
    if w["kind"] == "DaemonSet":
        return "n/a (on every node)"
    spot = w["spot"]
    failed = ", ".join(c["name"] for c in spot["checks"] if c["status"] == "fail")  # type: ignore[index]
    return "yes" if spot["ready"] else f"no ({failed})"  # type: ignore[index]


def _nodes(nodes: dict[str, int]) -> str:
    return ", ".join(f"{n}x {name}" for name, n in sorted(nodes.items())) or "-"


@register("table", CostReport, console=True)
def cost_table(report: CostReport, width: int, color: bool) -> str:
    """Never narrower than DEFAULT_WIDTH, as the backtest table: the plans and workloads keep one line each."""
    doc = cost_document(report)
    totals = doc["totals"]
    lines = [(f"Requested resources: {_money(totals['current_monthly'])} → "
              f"{_money(totals['recommended_monthly'])} a month ({totals['savings_pct']}% less), at "
              f"${doc['rates']['cpu_hourly']:.4f}/vCPU-h and ${doc['rates']['memory_gib_hourly']:.4f}/GiB-h "
              f"({doc['rates']['basis']})"),
             f"{doc['catalog']}; region {doc['region']}; nodes filled to {doc['target_utilization']:.0%}"]
    table = Table(title="Node plans", title_justify="left", header_style="bold")
    for column in ("Plan", "Nodes", "Monthly", "vs current", "Interruptions/month"):
        table.add_column(column, justify="left" if column in ("Plan", "Nodes") else "right")
    for name, plan in doc["plans"].items():
        table.add_row(_PLAN_TITLES[name], _nodes(plan["nodes"]), _money(plan["monthly"]),
                      f"{plan['vs_current_pct']:+.1f}%", f"{plan['interruptions_per_month']:.2f}")
    workloads = Table(title="Workloads", title_justify="left", header_style="bold")
    for column in ("Namespace", "Workload", "Replicas", "Now", "Recommended", "Saved", "Spot-ready"):
        workloads.add_column(column, justify="right" if column in ("Replicas", "Now", "Recommended", "Saved")
                             else "left")
    for w in doc["workloads"]:
        workloads.add_row(w["namespace"], f"{w['kind']}/{w['workload']}", f"{w['replicas']:.1f}",
                          _money(w["current_monthly"]), _money(w["recommended_monthly"]),
                          _money(w["savings_monthly"]), _spot(w))
    return draw(*lines, table, workloads, *doc["notes"], width=max(width, DEFAULT_WIDTH), color=color)


@register("json", CostReport)
def cost_json(report: CostReport) -> str:
    return json_text(cost_document(report))


@register("csv", CostReport)
def cost_csv(report: CostReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["namespace", "kind", "workload", "replicas", "current_monthly", "recommended_monthly",
                     "savings_monthly", "spot_ready", "spot_failed_checks"])
    for w in cost_document(report)["workloads"]:
        failed = "; ".join(c["name"] for c in w["spot"]["checks"] if c["status"] == "fail")
        writer.writerow([w["namespace"], w["kind"], w["workload"], w["replicas"], w["current_monthly"],
                         w["recommended_monthly"], w["savings_monthly"], w["spot"]["ready"], failed])
    return buffer.getvalue()


@register("markdown", CostReport)
def cost_markdown(report: CostReport) -> str:
    doc = cost_document(report)
    totals = doc["totals"]
    lines = [(f"## Cost: {_money(totals['current_monthly'])} → {_money(totals['recommended_monthly'])} a month "
             f"({totals['savings_pct']}% less)"), "",
             (f"Requests priced at ${doc['rates']['cpu_hourly']:.4f}/vCPU-hour and "
             f"${doc['rates']['memory_gib_hourly']:.4f}/GiB-hour ({doc['rates']['basis']}); {doc['catalog']}."), "",
             "| Node plan | Nodes | Monthly | vs current | Interruptions / month |", "|---|---|---:|---:|---:|"]
    for name, plan in doc["plans"].items():
        lines.append(f"| {_PLAN_TITLES[name]} | {_nodes(plan['nodes'])} | {_money(plan['monthly'])} | "
                     f"{plan['vs_current_pct']:+.1f}% | {plan['interruptions_per_month']:.2f} |")
    lines += ["", "| Workload | Replicas | Now | Recommended | Spot-ready |", "|---|---:|---:|---:|---|"]
    for w in doc["workloads"]:
        lines.append(f"| {w['namespace']}/{w['workload']} | {w['replicas']} | {_money(w['current_monthly'])} | "
                     f"{_money(w['recommended_monthly'])} | {_spot(w)} |")
    return "\n".join(lines + [*(f"\n{n}" for n in doc["notes"])]) + "\n"
