"""One self-contained HTML file: summary, a sortable table, and pictures of usage against requests.

No network: styles, the sorting script and the plots (inline SVG) are in the file.  To
keep a large cluster's file light, pictures are drawn for every container of a small
cluster and for the ``plots`` containers with the most risk and the largest change of a
large one.
"""

from __future__ import annotations

from html import escape

from rightsizer import __version__
from rightsizer.history import ClusterHistory
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.model import RISKS, Recommendation, RecommendationSet
from rightsizer.report.plots import slug
from rightsizer.report.registry import register
from rightsizer.report.table import container_name, describe_extras
from rightsizer.report.totals import by_namespace, totals
from rightsizer.secrets import redact_urls
from rightsizer.units import GiB

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px} .muted{color:#666}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:140px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;white-space:nowrap}
th{cursor:pointer;background:#f6f6f6;position:sticky;top:0} th.sorted-asc::after{content:" ▲"}
th.sorted-desc::after{content:" ▼"} .down{color:#1a7f37} .up{color:#b42318} .risk-high{color:#b42318;font-weight:600}
.risk-medium{color:#b54708} .plot{margin:18px 0 30px} .plot svg{max-width:100%;height:auto}
ul.reasons{margin:4px 0 8px 18px;padding:0;font-size:12px;color:#444}
"""

_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var asc = !th.classList.contains('sorted-asc');
      table.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.sort || a.cells[col].textContent;
        var y = b.cells[col].dataset.sort || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  table.dataset.sortable = 'ready';
});
document.body.dataset.ready = 'yes';
"""


def _change(current: float | None, new: float | None) -> float:
    if new is None:
        return 0.0
    if not current:
        return 1.0
    return abs(new - current) / current


def _weight(r: Recommendation) -> tuple[int, float]:
    """Order for pictures: risk first, then the largest relative change of any value."""
    if r.requests is None or r.limits is None:
        return (-1, 0.0)
    change = max(_change(r.current_requests.cpu, r.requests.cpu), _change(r.current_requests.memory,
                                                                          r.requests.memory))
    return (RISKS.index(r.risk), change)


def _cell(current: str | None, new: str | None, current_value: float | None, new_value: float | None) -> str:
    cur, nxt = current or "-", new or "-"
    if cur == nxt:
        return f'<td data-sort="{new_value or 0}">{escape(cur)}</td>'
    css = "down" if (current_value or 0) > (new_value or 0) else "up"
    return f'<td data-sort="{new_value or 0}" class="{css}">{escape(cur)} → {escape(nxt)}</td>'


def _row(r: Recommendation, plotted: set[str]) -> str:
    d = r.to_dict()
    key = str(r.key)
    name = escape(f"{r.key.kind}/{r.key.workload}")
    if key in plotted:
        name = f'<a href="#{slug(r.key)}">{name}</a>'
    cells = [f"<td>{escape(r.key.namespace)}</td>", f"<td>{name}</td>",
             f"<td>{escape(container_name(r))}</td>"]
    if d["recommended"] is None:
        cells.append(f'<td colspan="4" class="muted">{escape(r.reasons[0] if r.reasons else "")}</td>')
    else:
        for field, cur_v, new_v in (
            ("cpu_request", r.current_requests.cpu, r.requests.cpu if r.requests else None),
            ("cpu_limit", r.current_limits.cpu, r.limits.cpu if r.limits else None),
            ("memory_request", r.current_requests.memory, r.requests.memory if r.requests else None),
            ("memory_limit", r.current_limits.memory, r.limits.memory if r.limits else None),
        ):
            cells.append(_cell(d["current"][field], d["recommended"][field], cur_v, new_v))
    cells.append(f'<td data-sort="{RISKS.index(r.risk)}" class="risk-{r.risk}">{r.risk}</td>')
    cells.append(f"<td>{escape(', '.join(describe_extras(r)))}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def _namespaces(recs: RecommendationSet) -> list[str]:
    """A sortable table of the sums per namespace, when there is more than one."""
    sums = by_namespace(recs)
    if len(sums) < 2:
        return []
    priced = all(t.cost is not None for t in sums.values())
    heads = ["Namespace", "Containers", "To resize", "CPU requested (one pod each)", "Memory requested (one pod each)",
             *(["$/month, all pods"] if priced else [])]
    rows = []
    for namespace, t in sums.items():
        cells = [f"<td>{escape(namespace)}</td>", f"<td>{t.containers}</td>", f"<td>{t.changed}</td>",
                 _cell(format_cpu(t.cpu[0]), format_cpu(t.cpu[1]), *t.cpu),
                 _cell(format_memory(t.memory[0]), format_memory(t.memory[1]), *t.memory)]
        if t.cost is not None:
            cells.append(_cell(f"${t.cost[0]:,.0f}", f"${t.cost[1]:,.0f}", *t.cost))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ["<h2>Per namespace</h2>", '<table class="sortable" id="namespaces"><thead><tr>',
            "".join(f"<th>{h}</th>" for h in heads), "</tr></thead><tbody>", *rows, "</tbody></table>"]


@register("html", RecommendationSet, needs_history=True)
def render_html(recs: RecommendationSet, history: ClusterHistory | None = None, plots: int = 20) -> str:
    ranked = sorted((r for r in recs if r.requests is not None), key=_weight, reverse=True)
    chosen = ranked if len(ranked) <= plots else ranked[:plots]
    if history is None:
        chosen = []
    plotted = {str(r.key) for r in chosen}
    whole = totals(recs)
    risks = {level: sum(r.risk == level for r in recs if r.requests) for level in RISKS}
    cards = [
        ("containers", f"{whole.containers}"),
        ("to resize", f"{whole.changed}"),
        ("CPU requested (one pod each)", f"{whole.cpu[0]:.2f} → {whole.cpu[1]:.2f} cores"),
        ("memory requested (one pod each)", f"{whole.memory[0] / GiB:.1f} → {whole.memory[1] / GiB:.1f} GiB"),
        ("risk high / medium / low", f"{risks['high']} / {risks['medium']} / {risks['low']}"),
    ]
    if whole.cost is not None:
        cards.append(("requests cost a month (all pods)", f"${whole.cost[0]:,.0f} → ${whole.cost[1]:,.0f}"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>rightsizer report: {len(recs)} containers</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>rightsizer report</h1>",
        (f'<div class="muted">{escape(recs.window)} · {escape(redact_urls(recs.source))} · strategy {escape(recs.strategy)} '
         f"· rightsizer {__version__}</div>"),
        '<div class="cards">' + "".join(f'<div class="card"><span class="muted">{escape(label)}</span>'
                                        f"<b>{escape(value)}</b></div>" for label, value in cards) + "</div>",
    ]
    if recs.missing:
        parts.append("<p><b>Partial result.</b> Left out: " + "; ".join(
            f"{escape(k)}: {escape(v)}" for k, v in recs.missing.items()) + "</p>")
    parts += _namespaces(recs)
    parts += [
        "<h2>Recommendations</h2>",
        '<table class="sortable" id="recommendations"><thead><tr>',
        "".join(f"<th>{h}</th>" for h in ("Namespace", "Workload", "Container", "CPU request", "CPU limit",
                                          "Memory request", "Memory limit", "Risk", "Also")),
        "</tr></thead><tbody>",
        *(_row(r, plotted) for r in sorted(recs, key=lambda r: r.key)),
        "</tbody></table>",
    ]
    if chosen:
        from rightsizer.report.plots import figure_svg, plot_container  # matplotlib only when drawing

        scope = "every container" if len(chosen) == len(ranked) else \
            f"the {len(chosen)} of {len(ranked)} containers with the most risk and change"
        parts.append(f"<h2>Usage against requests</h2><p class='muted'>Pictures for {scope}. Dashed grey: "
                     "request now; dotted red: limit now; green: recommended.</p>")
        for r in chosen:
            assert history is not None
            svg = figure_svg(plot_container(history, r.key, recs))
            reasons = "".join(f"<li>{escape(x)}</li>" for x in r.reasons + [f"risk: {y}" for y in r.risk_reasons])
            parts.append(f'<div class="plot" id="{slug(r.key)}"><h3>{escape(str(r.key))}</h3>'
                         f'<ul class="reasons">{reasons}</ul>{svg}</div>')
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"
