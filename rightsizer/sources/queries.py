"""Every PromQL string rightsizer sends, in one place, with label values escaped.

Label values come from users (``--namespace``) and from the cluster (pod names), so none
is pasted into a query unescaped: :func:`quote` makes a PromQL string literal and
:func:`regex_alternation` a literal-matching RE2 alternation.  A value can never end
the string or change the query.

Each usage query is a range query evaluated at every step ``t`` over ``[t - step, t]``:
``rate`` gives the mean CPU over the step, and ``max_over_time`` keeps the memory peak
inside it (sampling a gauge at the step would miss it).  The step-level usage queries
return each series with its own labels: the duplicates cAdvisor emits while a container
restarts (or two jobs scraping one target) are merged by the highest value per step as
the answer is placed (:func:`rightsizer.sources.prometheus._on_grid`), because ``max by
(namespace, pod, container)`` made Prometheus walk every step of every series once more.
Restarts and termination reasons, whose points are counted as events, are still merged
on the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rightsizer.errors import RightsizerError

#: cAdvisor's pod-level cgroup (container="") and the pause container are never workloads.
CONTAINERS_ONLY = 'container!="", container!="POD"'
BY_CONTAINER = "namespace, pod, container"


def quote(value: str) -> str:
    """A PromQL double-quoted string literal holding exactly ``value``."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def regex_escape(value: str) -> str:
    """Escape RE2 metacharacters so the pattern matches ``value`` literally."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", value)


def regex_alternation(values: list[str]) -> str:
    """A quoted regex matching exactly one of ``values`` (label regexes are anchored by Prometheus)."""
    return quote("|".join(regex_escape(v) for v in sorted(set(values))))


def duration(seconds: float) -> str:
    return f"{round(seconds)}s"


_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def check_label_name(name: str, flag: str) -> str:
    """A valid Prometheus label name, or a clear error naming the flag."""
    if not _LABEL_NAME.match(name):
        raise RightsizerError(f"invalid {flag} {name!r}: a Prometheus label name is letters, digits and "
                              "underscores, not starting with a digit (e.g. cluster)")
    return name


@dataclass(frozen=True)
class Matchers:
    """The label matchers that scope a batch of queries (a cluster, namespaces, and optionally pods).

    ``cluster`` is (label, value) when one store holds several clusters: every selector
    then carries it, so each cluster is read as if it were alone.
    """

    namespaces: tuple[str, ...] = ()
    pods: tuple[str, ...] = ()
    cluster: tuple[str, str] | None = None

    def render(self, *extra: str) -> str:
        parts: list[str] = []
        if self.cluster is not None:
            parts.append(f"{self.cluster[0]}={quote(self.cluster[1])}")
        if len(self.namespaces) == 1:
            parts.append(f"namespace={quote(self.namespaces[0])}")
        elif self.namespaces:
            parts.append(f"namespace=~{regex_alternation(list(self.namespaces))}")
        if self.pods:
            parts.append(f"pod=~{regex_alternation(list(self.pods))}")
        parts.extend(e for e in extra if e)
        return ", ".join(parts)


# --- discovery: instant queries at the window's end, looking back over the whole window ---------

def clusters(label: str, window: float) -> str:
    return f"group by ({label}) (last_over_time(kube_pod_owner[{duration(window)}]))"


def _selector(m: Matchers | None) -> str:
    """``{matchers}``, or nothing when there are none (``metric{}`` is not valid PromQL)."""
    rendered = m.render() if m is not None else ""
    return f"{{{rendered}}}" if rendered else ""


def selector(metric: str, m: Matchers | None = None) -> str:
    """``metric{matchers}``: a series selector, as the series endpoint takes it."""
    return f"{metric}{_selector(m)}"


def namespaces(window: float, m: Matchers | None = None) -> str:
    return f"group by (namespace) (last_over_time(kube_pod_owner{_selector(m)}[{duration(window)}]))"


def pod_owners(m: Matchers, window: float, offset: float = 0.0) -> str:
    """Each pod's owner, valued by the samples kube-state-metrics wrote for it: how long the pod lived
    (over the ``window`` that ends ``offset`` before the evaluation time)."""
    shifted = f" offset {duration(offset)}" if offset else ""
    return (f"max by (namespace, pod, owner_kind, owner_name) "
            f"(count_over_time(kube_pod_owner{{{m.render()}}}[{duration(window)}]{shifted}))")


def replicaset_owners(m: Matchers, window: float) -> str:
    return (f"group by (namespace, replicaset, owner_kind, owner_name) "
            f"(last_over_time(kube_replicaset_owner{{{m.render()}}}[{duration(window)}]))")


def job_owners(m: Matchers, window: float) -> str:
    return (f"group by (namespace, job_name, owner_kind, owner_name) "
            f"(last_over_time(kube_job_owner{{{m.render()}}}[{duration(window)}]))")


def _family(init: bool) -> str:
    """kube-state-metrics keeps init containers in families of their own."""
    return "kube_pod_init_container" if init else "kube_pod_container"


def container_info(m: Matchers, window: float, init: bool = False) -> str:
    return (f"group by (namespace, pod, container, image) "
            f"(last_over_time({_family(init)}_info{{{m.render()}}}[{duration(window)}]))")


def resources(kind: str, m: Matchers, window: float, init: bool = False) -> str:
    """Each pod's last request or limit (``kind`` is ``requests`` or ``limits``)."""
    assert kind in ("requests", "limits")
    sel = m.render('resource=~"cpu|memory"')
    return (f"max by (namespace, pod, container, resource) "
            f"(last_over_time({_family(init)}_resource_{kind}{{{sel}}}[{duration(window)}]))")


def pod_nodes(m: Matchers, window: float) -> str:
    return f"group by (namespace, pod, node) (last_over_time(kube_pod_info{{{m.render()}}}[{duration(window)}]))"


NODE_LABELS = (
    "label_node_kubernetes_io_instance_type",
    "label_beta_kubernetes_io_instance_type",
    "label_karpenter_sh_capacity_type",
    "label_eks_amazonaws_com_capacity_type",
    "label_cloud_google_com_gke_spot",
    "label_cloud_google_com_gke_preemptible",
    "label_kubernetes_azure_com_scalesetpriority",
)


def node_labels(window: float, m: Matchers | None = None) -> str:
    return (f"group by (node, {', '.join(NODE_LABELS)}) "
            f"(last_over_time(kube_node_labels{_selector(m)}[{duration(window)}]))")


def hpa_info(m: Matchers, window: float) -> str:
    return (f"group by (namespace, horizontalpodautoscaler, scaletargetref_kind, scaletargetref_name) "
            f"(last_over_time(kube_horizontalpodautoscaler_info{{{m.render()}}}[{duration(window)}]))")


def hpa_targets(m: Matchers, window: float) -> str:
    return (f"max by (namespace, horizontalpodautoscaler, metric_name, metric_target_type) "
            f"(last_over_time(kube_horizontalpodautoscaler_spec_target_metric{{{m.render()}}}"
            f"[{duration(window)}]))")


def hpa_replicas(bound: str, m: Matchers, window: float) -> str:
    assert bound in ("min", "max")
    return (f"max by (namespace, horizontalpodautoscaler) "
            f"(last_over_time(kube_horizontalpodautoscaler_spec_{bound}_replicas{{{m.render()}}}"
            f"[{duration(window)}]))")


def nodejs_versions(m: Matchers, window: float, prefix: str = "") -> str:
    return (f"group by ({BY_CONTAINER}, version) "
            f"(last_over_time({prefix}nodejs_version_info{{{m.render()}}}[{duration(window)}]))")


def pod_labels(selector_matchers: list[str], m: Matchers, window: float) -> str:
    return (f"group by (namespace, pod) "
            f"(last_over_time(kube_pod_labels{{{m.render(*selector_matchers)}}}[{duration(window)}]))")


def owner_samples(interval: float) -> str:
    """How many kube-state-metrics samples the ``interval`` before each step holds: asked at coarse steps over
    a long window, it tells where the store's history begins for what one count per step costs."""
    return f"count(count_over_time(kube_pod_owner[{duration(interval)}]))"


def metric_present(metric: str, window: float) -> str:
    return f"count(last_over_time({metric}[{duration(window)}]))"


# --- usage: range queries at the step ---------------------------------------------------------

def cpu_usage(m: Matchers, rate_window: float) -> str:
    return f"rate(container_cpu_usage_seconds_total{{{m.render(CONTAINERS_ONLY)}}}[{duration(rate_window)}])"


def cpu_scrape(m: Matchers, scrape: float) -> str:
    """The rate over the last scrape interval before each step: CPU at the resolution cAdvisor is scraped at.

    ``irate`` is the rate between a series' last two samples.  Evaluated at the step it
    gives one scrape interval of each step, a sample of every interval's rate whose
    percentiles are theirs, for what the step's mean rate costs the server: one
    evaluation per step over two samples.  (The highest interval of each step, by a
    subquery at the scrape interval, cost the server two to three times as much.)
    """
    return f"irate(container_cpu_usage_seconds_total{{{m.render(CONTAINERS_ONLY)}}}[{duration(2 * scrape)}])"


def scrape_samples(m: Matchers, window: float) -> str:
    """How many samples a typical cAdvisor CPU series holds per ``window``: the scrape interval's measure.

    Counted as the samples over two windows less those over the last one, of the series
    that were there when the two began: a pod started since would count fewer, and the
    difference holds whole windows whether a store's ranges include their left end
    (Prometheus 2) or not (Prometheus 3).
    """
    series = f"container_cpu_usage_seconds_total{{{m.render(CONTAINERS_ONLY)}}}"
    return (f"quantile(0.5, (count_over_time({series}[{duration(2 * window)}]) - "
            f"count_over_time({series}[{duration(window)}])) and {series} offset {duration(2 * window)})")


def memory_peak(m: Matchers, step: float) -> str:
    return f"max_over_time(container_memory_working_set_bytes{{{m.render(CONTAINERS_ONLY)}}}[{duration(step)}])"


def throttled_ratio(m: Matchers, rate_window: float, only_throttled: bool = False) -> str:
    """Throttled CFS periods over all periods; ``only_throttled`` leaves out the steps without throttling, and
    the steps without any CFS period are always left out."""
    sel = m.render(CONTAINERS_ONLY)
    w = duration(rate_window)
    ratio = (f"increase(container_cpu_cfs_throttled_periods_total{{{sel}}}[{w}]) "
             f"/ increase(container_cpu_cfs_periods_total{{{sel}}}[{w}])")
    # a step without CFS periods is 0/0: NaN, left out, so that a NaN the store sends is a broken value
    return f"({ratio}) > 0" if only_throttled else f"({ratio}) >= 0"


def gauge_peak(metric: str, m: Matchers, step: float) -> str:
    return f"max_over_time({metric}{{{m.render()}}}[{duration(step)}])"


def _last_or_peak(selector: str, peak_over: float | None) -> str:
    return f"max_over_time({selector}[{duration(peak_over)}])" if peak_over else selector


def restarts(m: Matchers, peak_over: float | None = None) -> str:
    """The restart counter at each step, or its highest value over ``peak_over`` (a coarser step)."""
    selector = f"kube_pod_container_status_restarts_total{{{m.render()}}}"
    return f"max by ({BY_CONTAINER}) ({_last_or_peak(selector, peak_over)}) > 0"


def terminated_reasons(m: Matchers, peak_over: float | None = None) -> str:
    selector = f"kube_pod_container_status_last_terminated_reason{{{m.render()}}}"
    return f"max by ({BY_CONTAINER}, reason) ({_last_or_peak(selector, peak_over)}) > 0"


# --- label selectors --------------------------------------------------------------------------

_SELECTOR_TERM = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<absent>[A-Za-z0-9_./-]+)"
    r"|(?P<key>[A-Za-z0-9_./-]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9_.-]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?)\s*(?:,|$)"
)


def selector_matchers(selector: str) -> list[str]:
    """Translate a Kubernetes label selector into matchers on kube_pod_labels.

    kube-state-metrics exports pod labels as ``label_<name>`` with every character
    outside ``[a-zA-Z0-9_]`` turned into ``_``, and only for labels on its
    ``--metric-labels-allowlist``.
    """
    out: list[str] = []
    pos = 0
    text = selector.strip()
    if not text:
        raise RightsizerError("empty --selector: give one like 'app=web,tier!=db'")
    while pos < len(text):
        match = _SELECTOR_TERM.match(text, pos)
        if match is None or match.end() == pos:
            raise RightsizerError(f"invalid --selector {selector!r} near {text[pos:]!r}: "
                                  "use key=value, key!=value, key in (a,b), key notin (a,b), key or !key")
        pos = match.end()
        if match["absent"]:
            out.append(f'{_label_name(match["absent"])}=""')
        elif match["op"]:
            op = "!=" if match["op"] == "!=" else "="
            out.append(f"{_label_name(match['key'])}{op}{quote(match['value'])}")
        elif match["setop"]:
            values = [v.strip() for v in match["values"].split(",") if v.strip()]
            op = "=~" if match["setop"] == "in" else "!~"
            out.append(f"{_label_name(match['key'])}{op}{regex_alternation(values)}")
        else:
            out.append(f'{_label_name(match["key"])}!=""')
    return out


def _label_name(key: str) -> str:
    return "label_" + re.sub(r"[^A-Za-z0-9_]", "_", key)
