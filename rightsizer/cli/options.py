"""The flags several commands share, each group declared once as a dataclass of typer options.

A command takes a group as one parameter (``prometheus: PrometheusOptions``); :mod:`groups` turns its
fields into flags.  The groups turn flag text into library values (durations, settings, a policy)
and nothing more: what to do with them is the library's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from rightsizer.api import iter_history
from rightsizer.config import PROFILES, QOS, PolicySet
from rightsizer.cost.catalog import Catalog, load_catalog
from rightsizer.cost.pricing import Pricing
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory
from rightsizer.needs import DataNeeds
from rightsizer.scope import Scope
from rightsizer.sources.connection import prometheus_settings
from rightsizer.sources.prometheus import FetchOptions
from rightsizer.timeparse import parse_duration, parse_instant

from .console import progress_bar, warn
from .groups import option_group

SOURCE = "Source (choose one)"
FILTER = "Scope"
CONN = "Prometheus connection"
TIME = "Time window"
POLICY = "Policy"
PRICING = "Prices"


@option_group
@dataclass(frozen=True)
class PrometheusOptions:
    """Where the Prometheus-compatible API is and how to talk to it."""

    prometheus_url: Annotated[str | None, typer.Option(
        "--prometheus-url", envvar="RIGHTSIZER_PROMETHEUS_URL", rich_help_panel=SOURCE,
        help="Prometheus-compatible API base URL, e.g. http://prometheus.monitoring:9090 (Mimir: .../prometheus).")
    ] = None
    cluster_label: Annotated[str | None, typer.Option(
        "--cluster-label", envvar="RIGHTSIZER_CLUSTER_LABEL", rich_help_panel=SOURCE,
        help="The label that tells clusters apart in a store holding several (e.g. cluster): each is read on "
        "its own and recommendations carry it.")] = None


@option_group
@dataclass(frozen=True)
class ConnectionOptions:
    """How to talk to the Prometheus-compatible API: time limits, load, TLS, headers."""

    timeout: Annotated[float, typer.Option("--timeout", rich_help_panel=CONN, help="Seconds per query.")] = 60.0
    retries: Annotated[int, typer.Option("--retries", rich_help_panel=CONN, help="Retries of a failed query.")] = 3
    concurrency: Annotated[int, typer.Option(
        "--concurrency", rich_help_panel=CONN, help="Queries in flight at once (be gentle with Prometheus).")] = 4
    batch_pods: Annotated[int, typer.Option(
        "--batch-pods", min=1, rich_help_panel=CONN,
        help="Pods per batch of usage queries, a pod counted for the share of the window it ran (whole workloads; "
        "the memory a run holds grows with it).")] = 200
    ca_file: Annotated[Path | None, typer.Option("--ca-file", rich_help_panel=CONN, help="CA bundle for TLS.")] = None
    client_cert: Annotated[Path | None, typer.Option(
        "--client-cert", rich_help_panel=CONN, help="Client certificate.")] = None
    client_key: Annotated[Path | None, typer.Option("--client-key", rich_help_panel=CONN, help="Client key.")] = None
    header: Annotated[list[str] | None, typer.Option(
        "--header", rich_help_panel=CONN,
        help="Extra HTTP header 'Name: value', repeatable (e.g. 'X-Scope-OrgID: t1').")] = None
    insecure_skip_tls_verify: Annotated[bool, typer.Option(
        "--insecure-skip-tls-verify", rich_help_panel=CONN,
        help="Do not verify the server's certificate (unsafe).")] = False


@option_group
@dataclass(frozen=True)
class OfflineOptions:
    """The sources that need no server: a recorded snapshot, or the bundled demo."""

    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", rich_help_panel=SOURCE, help="Read a snapshot recorded by 'rightsizer snapshot'.")] = None
    demo: Annotated[bool, typer.Option("--demo", rich_help_panel=SOURCE, help="Use the bundled demo cluster.")] = False


@option_group
@dataclass(frozen=True)
class ScopeOptions:
    """Which workloads a run covers."""

    namespace: Annotated[str | None, typer.Option(
        "--namespace", "-n", rich_help_panel=FILTER, help="Namespaces to include: a name or regex (full match).")
    ] = None
    workload: Annotated[str | None, typer.Option(
        "--workload", "-w", rich_help_panel=FILTER,
        help="Workload name or regex (full match); 'Kind/name' also works.")] = None
    selector: Annotated[str | None, typer.Option(
        "--selector", "-l", rich_help_panel=FILTER,
        help="Pod label selector, e.g. 'app=web,tier!=db' (needs kube_pod_labels from kube-state-metrics).")] = None
    cluster: Annotated[str | None, typer.Option(
        "--cluster", rich_help_panel=FILTER,
        help="Clusters to include (with --cluster-label, or a snapshot of several): a name or regex (full match).")
    ] = None

    def scope(self) -> Scope:
        return Scope(self.namespace, self.workload, self.selector, self.cluster)


@option_group
@dataclass(frozen=True)
class WindowOptions:
    """How much history."""

    window: Annotated[str, typer.Option("--window", rich_help_panel=TIME, help="History to use, e.g. 14d, 36h.")
                      ] = "14d"

    def seconds(self) -> float:
        return parse_duration(self.window, flag="--window")


@option_group
@dataclass(frozen=True)
class GridOptions:
    """The resolution and the end of the history."""

    step: Annotated[str, typer.Option("--step", rich_help_panel=TIME, help="Resolution of the history, e.g. 5m.")
                    ] = "5m"
    end: Annotated[str, typer.Option(
        "--end", rich_help_panel=TIME, help="End of the window: now, ISO 8601 time or unix seconds.")] = "now"


@option_group
@dataclass(frozen=True)
class PolicyOptions:
    """The policy: a file, a profile, and the flags that win over both."""

    config: Annotated[Path | None, typer.Option(
        "--config", "-c", envvar="RIGHTSIZER_CONFIG", rich_help_panel=POLICY,
        help="rightsizer.yaml with the policy and its per-namespace and per-workload overrides.")] = None
    profile: Annotated[str | None, typer.Option(
        "--profile", rich_help_panel=POLICY, help="savings, balanced (default) or reliability; wins over --config.")
    ] = None
    qos: Annotated[str | None, typer.Option(
        "--qos", rich_help_panel=POLICY,
        help="burstable (default: no CPU limit, memory limit = request) or guaranteed (limits = requests).")] = None
    change_threshold: Annotated[float | None, typer.Option(
        "--change-threshold", rich_help_panel=POLICY, help="Relative changes below this are not proposed (0.1 = 10%).")
    ] = None

    def policies(self) -> PolicySet:
        if self.qos is not None and self.qos not in QOS:
            raise typer.BadParameter(f"choose {' or '.join(QOS)}", param_hint="'--qos'")
        if self.profile is not None and self.profile not in PROFILES:
            raise typer.BadParameter(f"choose one of {', '.join(PROFILES)}", param_hint="'--profile'")
        extra = {"change_threshold": self.change_threshold} if self.change_threshold is not None else None
        return PolicySet.load(self.config, profile=self.profile, qos=self.qos, overrides=extra)


@option_group
@dataclass(frozen=True)
class PricingOptions:
    """Which prices a run uses."""

    region: Annotated[str, typer.Option("--region", rich_help_panel=PRICING, help="Catalog region for prices.")
                      ] = "us-east-1"
    catalog: Annotated[Path | None, typer.Option(
        "--catalog", rich_help_panel=PRICING,
        help="Your own instance catalog (CSV or JSON, the bundled file's columns).")] = None
    instance_type: Annotated[str | None, typer.Option(
        "--instance-type", rich_help_panel=PRICING,
        help="Node type to price with when kube-state-metrics does not export node labels.")] = None

    def load_catalog(self) -> Catalog:
        return load_catalog(self.catalog)

    def pricing(self) -> Pricing:
        return Pricing(self.load_catalog(), self.region, self.instance_type)


@option_group
@dataclass(frozen=True)
class RunOptions:
    """How much a run says on stderr."""

    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log queries, retries and timings to stderr.")
                       ] = False


@option_group
@dataclass(frozen=True)
class SourceFlags:
    """Every flag that says where history comes from (but how much of it), for :func:`history_parts`."""

    prometheus: PrometheusOptions
    offline: OfflineOptions
    scope: ScopeOptions
    grid: GridOptions
    connection: ConnectionOptions
    run: RunOptions


def history_parts(flags: SourceFlags, window: float, needs: DataNeeds) -> Iterator[ClusterHistory]:
    """The history the flags name, ``window`` seconds of it, in parts of whole workloads (``--batch-pods``).

    ``needs`` (a strategy's, or :data:`EVERY_STEP` for backtests and snapshots) lets the server aggregate
    what the consumer does not read.
    """
    prometheus, connection, offline, scope, grid = (flags.prometheus, flags.connection, flags.offline, flags.scope,
                                                    flags.grid)
    if not prometheus.prometheus_url:
        yield from iter_history(snapshot=offline.snapshot, demo=offline.demo, scope=scope.scope())
        return
    if offline.snapshot or offline.demo:
        list(iter_history(prometheus_url=prometheus.prometheus_url, snapshot=offline.snapshot, demo=offline.demo))
    if not math.isfinite(connection.timeout):
        raise RightsizerError(f"invalid --timeout {connection.timeout}: give seconds, e.g. 60")
    options = FetchOptions(window=window, step=parse_duration(grid.step, flag="--step"), end=parse_instant(grid.end),
                           batch_pods=connection.batch_pods, needs=needs, cluster_label=prometheus.cluster_label)
    if connection.insecure_skip_tls_verify:
        warn("TLS certificate verification is off (--insecure-skip-tls-verify)")
    settings = prometheus_settings(
        prometheus.prometheus_url, timeout=connection.timeout, retries=connection.retries,
        concurrency=connection.concurrency, ca_file=connection.ca_file, client_cert=connection.client_cert,
        client_key=connection.client_key, headers=connection.header,
        insecure_skip_verify=connection.insecure_skip_tls_verify)
    with progress_bar(show=not flags.run.quiet) as progress:
        yield from iter_history(settings=settings, options=options, scope=scope.scope(), progress=progress)
