"""The ``rightsizer`` command: parses flags, calls the library, renders.  No logic of its own.

Exit codes: 0 success, 1 an error the message explains, 2 a usage error, 3 changes
recommended under ``--fail-on-change``, 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from rightsizer import __version__
from rightsizer.api import iter_history, load_history
from rightsizer.backtest import backtest as run_backtest
from rightsizer.backtest import split
from rightsizer.config import PROFILES, PolicySet
from rightsizer.cost.allocation import cluster_rates
from rightsizer.cost.catalog import Catalog, load_catalog
from rightsizer.cost.estimate import UTILIZATION, attach_costs, estimate_cost
from rightsizer.errors import RightsizerError
from rightsizer.fileio import write_text_atomic
from rightsizer.gitops.pr import open_or_update
from rightsizer.gitops.provider import Provider, guess_provider, project_from_remote
from rightsizer.gitops.repo import GitRepo
from rightsizer.history import ClusterHistory
from rightsizer.needs import EVERY_STEP, DataNeeds
from rightsizer.patch import PlannedChange, build_patch, plan, plan_from_report, write_kubectl_patches, write_patch
from rightsizer.recommend import STRATEGIES, RecommendationSet, find, recommend, recommend_parts
from rightsizer.report import FORMATS, render
from rightsizer.report.backtest import BACKTEST_FORMATS, render_backtest
from rightsizer.report.cost import COST_FORMATS, render_cost
from rightsizer.report.table import build_table, dropped_note, missing_note
from rightsizer.scope import Scope
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions
from rightsizer.sources.snapshot import save_snapshot
from rightsizer.timeparse import parse_duration, parse_instant

app = typer.Typer(
    name="rightsizer",
    help="Right-size Kubernetes CPU and memory requests and limits from Prometheus history.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
stderr = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("rightsizer")
EXIT_CHANGES = 3

SOURCE = "Source (choose one)"
FILTER = "Scope"
CONN = "Prometheus connection"
TIME = "Time window"

PrometheusUrl = Annotated[str | None, typer.Option(
    "--prometheus-url", envvar="RIGHTSIZER_PROMETHEUS_URL", rich_help_panel=SOURCE,
    help="Prometheus-compatible API base URL, e.g. http://prometheus.monitoring:9090 (Mimir: .../prometheus).")]
SnapshotFile = Annotated[Path | None, typer.Option(
    "--snapshot", rich_help_panel=SOURCE, help="Read a snapshot recorded by 'rightsizer snapshot'.")]
DEFAULT_BRANCH = "rightsizer/resize"
Demo = Annotated[bool, typer.Option("--demo", rich_help_panel=SOURCE, help="Use the bundled demo cluster.")]
Namespace = Annotated[str | None, typer.Option(
    "--namespace", "-n", rich_help_panel=FILTER, help="Namespaces to include: a name or regex (full match).")]
Workload = Annotated[str | None, typer.Option(
    "--workload", "-w", rich_help_panel=FILTER, help="Workload name or regex (full match); 'Kind/name' also works.")]
Selector = Annotated[str | None, typer.Option(
    "--selector", "-l", rich_help_panel=FILTER,
    help="Pod label selector, e.g. 'app=web,tier!=db' (needs kube_pod_labels from kube-state-metrics).")]
Window = Annotated[str, typer.Option("--window", rich_help_panel=TIME, help="History to use, e.g. 14d, 36h.")]
Step = Annotated[str, typer.Option("--step", rich_help_panel=TIME, help="Resolution of the history, e.g. 5m.")]
End = Annotated[str, typer.Option(
    "--end", rich_help_panel=TIME, help="End of the window: now, ISO 8601 time or unix seconds.")]
Timeout = Annotated[float, typer.Option("--timeout", rich_help_panel=CONN, help="Seconds per query.")]
Retries = Annotated[int, typer.Option("--retries", rich_help_panel=CONN, help="Retries of a failed query.")]
BatchPods = Annotated[int, typer.Option(
    "--batch-pods", min=1, rich_help_panel=CONN,
    help="Pods per batch of usage queries, a pod counted for the share of the window it ran (whole workloads; "
    "the memory a run holds grows with it).")]
ClusterLabel = Annotated[str | None, typer.Option(
    "--cluster-label", envvar="RIGHTSIZER_CLUSTER_LABEL", rich_help_panel=SOURCE,
    help="The label that tells clusters apart in a store holding several (e.g. cluster): each is read on "
    "its own and recommendations carry it.")]
Cluster = Annotated[str | None, typer.Option(
    "--cluster", rich_help_panel=FILTER, help="Clusters to include (with --cluster-label, or a snapshot of several): "
    "a name or regex (full match).")]
Concurrency = Annotated[int, typer.Option(
    "--concurrency", rich_help_panel=CONN, help="Queries in flight at once (be gentle with Prometheus).")]
CaFile = Annotated[Path | None, typer.Option("--ca-file", rich_help_panel=CONN, help="CA bundle for TLS.")]
ClientCert = Annotated[Path | None, typer.Option("--client-cert", rich_help_panel=CONN, help="Client certificate.")]
ClientKey = Annotated[Path | None, typer.Option("--client-key", rich_help_panel=CONN, help="Client key.")]
Header = Annotated[list[str] | None, typer.Option(
    "--header", rich_help_panel=CONN, help="Extra HTTP header 'Name: value', repeatable (e.g. 'X-Scope-OrgID: t1').")]
Insecure = Annotated[bool, typer.Option(
    "--insecure-skip-tls-verify", rich_help_panel=CONN, help="Do not verify the server's certificate (unsafe).")]
POLICY = "Policy"
ConfigFile = Annotated[Path | None, typer.Option(
    "--config", "-c", envvar="RIGHTSIZER_CONFIG", rich_help_panel=POLICY,
    help="rightsizer.yaml with the policy and its per-namespace and per-workload overrides.")]
Profile = Annotated[str | None, typer.Option(
    "--profile", rich_help_panel=POLICY, help="savings, balanced (default) or reliability; wins over --config.")]
Qos = Annotated[str | None, typer.Option(
    "--qos", rich_help_panel=POLICY,
    help="burstable (default: no CPU limit, memory limit = request) or guaranteed (limits = requests).")]
ChangeThreshold = Annotated[float | None, typer.Option(
    "--change-threshold", rich_help_panel=POLICY, help="Relative changes below this are not proposed (0.1 = 10%).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log queries, retries and timings to stderr.")]


def _secret(env: str) -> str | None:
    """A secret from ``ENV`` or from the file named by ``ENV_FILE``; never from a flag (shell history)."""
    if os.environ.get(env):
        return os.environ[env]
    path = os.environ.get(f"{env}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise RightsizerError(f"cannot read {env}_FILE {path!r}: {exc.strerror}") from None
    return None


def _headers(values: list[str] | None) -> dict[str, str]:
    headers = {}
    for value in values or []:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise RightsizerError(f"invalid --header {value!r}: use 'Name: value'")
        headers[name.strip()] = content.strip()
    return headers


def _connection(timeout: float, retries: int, concurrency: int, ca_file: Path | None, client_cert: Path | None,
                client_key: Path | None, header: list[str] | None, insecure: bool, batch_pods: int,
                cluster_label: str | None, cluster: str | None) -> dict[str, object]:
    """The source flags every command shares (connection, batching, clusters), used by :func:`_parts`."""
    return {"timeout": timeout, "retries": retries, "concurrency": concurrency, "ca_file": ca_file,
            "client_cert": client_cert, "client_key": client_key, "header": header, "insecure": insecure,
            "batch_pods": batch_pods, "cluster_label": cluster_label, "cluster": cluster}


def _settings(url: str, timeout: float, retries: int, concurrency: int, ca_file: Path | None,
              client_cert: Path | None, client_key: Path | None, header: list[str] | None,
              insecure: bool) -> PrometheusSettings:
    if insecure:
        stderr.print(Text.assemble(("warning: ", "yellow"), "TLS certificate verification is off "
                                   "(--insecure-skip-tls-verify)"))
    return PrometheusSettings(
        url=url,
        bearer_token=_secret("RIGHTSIZER_PROMETHEUS_TOKEN"),
        username=os.environ.get("RIGHTSIZER_PROMETHEUS_USER") or None,
        password=_secret("RIGHTSIZER_PROMETHEUS_PASSWORD"),
        ca_file=ca_file, client_cert=client_cert, client_key=client_key,
        headers=_headers(header), insecure_skip_verify=insecure,
        timeout=timeout, retries=retries, concurrency=concurrency,
    )


def _load(prometheus_url: str | None, snapshot: Path | None, demo: bool, namespace: str | None,
          workload: str | None, selector: str | None, window: str, step: str, end: str, quiet: bool,
          connection: dict[str, object], needs: DataNeeds = STRATEGIES["rightsizer"].needs) -> ClusterHistory:
    """The whole history to work on; ``needs`` lets the server aggregate what the consumer does not read
    (backtests and snapshots want every step)."""
    return ClusterHistory.combine(_parts(prometheus_url, snapshot, demo, namespace, workload, selector, window, step,
                                         end, quiet, connection, needs))


def _parts(prometheus_url: str | None, snapshot: Path | None, demo: bool, namespace: str | None,
           workload: str | None, selector: str | None, window: str, step: str, end: str, quiet: bool,
           connection: dict[str, object], needs: DataNeeds = STRATEGIES["rightsizer"].needs
           ) -> Iterator[ClusterHistory]:
    """The history in parts of whole workloads (``--batch-pods``), for runs that need not hold it all."""
    http = dict(connection)
    cluster_label, cluster = http.pop("cluster_label"), http.pop("cluster")
    scope = Scope(namespace, workload, selector, cluster)  # type: ignore[arg-type]
    if not prometheus_url:
        yield from iter_history(snapshot=snapshot, demo=demo, scope=scope)
        return
    if snapshot or demo:
        load_history(prometheus_url=prometheus_url, snapshot=snapshot, demo=demo)  # raises the one-source error
    options = FetchOptions(window=parse_duration(window, flag="--window"), step=parse_duration(step, flag="--step"),
                           end=parse_instant(end), batch_pods=int(http.pop("batch_pods")),  # type: ignore[call-overload]
                           needs=needs, cluster_label=cluster_label)  # type: ignore[arg-type]
    settings = _settings(prometheus_url, **http)  # type: ignore[arg-type]
    show = not quiet and stderr.is_terminal
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=stderr, transient=True, disable=not show) as bar:
        task = bar.add_task("connecting", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        yield from iter_history(settings=settings, options=options, scope=scope, progress=progress)


def _priced(parts: Iterable[ClusterHistory], policies: PolicySet, strategy: str, prices: Catalog, region: str,
            instance_type: str | None) -> RecommendationSet:
    """Recommendations with their costs, one part of the cluster in memory at a time."""
    def price(recs: RecommendationSet, part: ClusterHistory) -> None:
        attach_costs(recs, part, cluster_rates(prices, region, list(part.nodes.values()), instance_type))

    recs = recommend_parts(parts, policies, strategy=strategy, each=price)
    recs.pricing = prices.describe()
    return recs


@app.command()
def report(
    prometheus_url: PrometheusUrl = None,
    snapshot: SnapshotFile = None,
    demo: Demo = False,
    namespace: Namespace = None,
    workload: Workload = None,
    selector: Selector = None,
    window: Window = "14d",
    step: Step = "5m",
    end: End = "now",
    fmt: Annotated[str, typer.Option("-o", "--format", help=f"Output format: {', '.join(FORMATS)}.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write the report to FILE (atomically).")] = None,
    config: ConfigFile = None,
    profile: Profile = None,
    qos: Qos = None,
    change_threshold: ChangeThreshold = None,
    strategy: Annotated[str, typer.Option(
        "--strategy", rich_help_panel=POLICY,
        help=f"Recommender: {', '.join(STRATEGIES)} (the others are baselines).")] = "rightsizer",
    plots: Annotated[int, typer.Option(
        "--plots", min=0, help="html: pictures for every container of a small cluster, else this many (most risk "
        "and change first).")] = 20,
    fail_on_change: Annotated[bool, typer.Option(
        "--fail-on-change", help="Exit with code 3 when any change is recommended (a CI gate).")] = False,
    region: Region = "us-east-1",
    catalog: CatalogFile = None,
    instance_type: InstanceType = None,
    timeout: Timeout = 60.0,
    retries: Retries = 3,
    concurrency: Concurrency = 4,
    batch_pods: BatchPods = 200,
    cluster_label: ClusterLabel = None,
    cluster: Cluster = None,
    ca_file: CaFile = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    header: Header = None,
    insecure_skip_tls_verify: Insecure = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Recommend CPU and memory requests and limits for every container in scope.

    Examples:

      rightsizer report --demo

      rightsizer report --prometheus-url http://localhost:9090 -n 'shop|payments' -o json --output recs.json

    Credentials come from the environment: RIGHTSIZER_PROMETHEUS_TOKEN (or _TOKEN_FILE), or
    RIGHTSIZER_PROMETHEUS_USER with RIGHTSIZER_PROMETHEUS_PASSWORD (or _PASSWORD_FILE).
    """
    _logging(verbose)
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="'-o' / '--format'")
    policies = _policies(config, profile, qos, change_threshold)
    connection = _connection(timeout, retries, concurrency, ca_file, client_cert, client_key, header,
                             insecure_skip_tls_verify, batch_pods, cluster_label, cluster)
    needs = find(strategy).needs
    if fmt == "html":  # its pictures show the step's mean CPU too
        needs = replace(needs, cpu_mean=True)
    parts = _parts(prometheus_url, snapshot, demo, namespace, workload, selector, window, step, end, quiet,
                   connection, needs)
    history = None
    if fmt == "html":  # its pictures need the samples: hold them all
        parts = iter([history := ClusterHistory.combine(parts)])
    recs = _priced(parts, policies, strategy, load_catalog(catalog), region, instance_type)
    if output is not None:
        write_text_atomic(output, render(recs, fmt, history, plots))
        stderr.print(f"wrote {output} ({len(recs)} containers)", markup=False, highlight=False)
    elif fmt == "table":
        Console(width=None if sys.stdout.isatty() else 200).print(build_table(recs))
        note = dropped_note(recs.dropped) + missing_note(recs.missing)
        if note:
            stderr.print(note, end="", markup=False, highlight=False)
    else:
        sys.stdout.write(render(recs, fmt, history, plots))
    if fail_on_change and any(r.changed for r in recs):
        stderr.print(f"{sum(r.changed for r in recs)} containers would change (--fail-on-change)", markup=False)
        raise typer.Exit(EXIT_CHANGES)


def _policies(config: Path | None, profile: str | None, qos: str | None, change_threshold: float | None
              ) -> PolicySet:
    if qos is not None and qos not in ("burstable", "guaranteed"):
        raise typer.BadParameter("choose burstable or guaranteed", param_hint="'--qos'")
    if profile is not None and profile not in PROFILES:
        raise typer.BadParameter(f"choose one of {', '.join(PROFILES)}", param_hint="'--profile'")
    extra = {"change_threshold": change_threshold} if change_threshold is not None else None
    return PolicySet.load(config, profile=profile, qos=qos, overrides=extra)


@app.command()
def backtest(
    prometheus_url: PrometheusUrl = None,
    snapshot: SnapshotFile = None,
    demo: Demo = False,
    namespace: Namespace = None,
    workload: Workload = None,
    selector: Selector = None,
    train: Annotated[str, typer.Option("--train", rich_help_panel=TIME, help="Training window, e.g. 14d.")] = "10d",
    test: Annotated[str, typer.Option("--test", rich_help_panel=TIME, help="Test window after it, e.g. 7d.")] = "4d",
    step: Step = "5m",
    end: End = "now",
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", rich_help_panel=POLICY,
        help=f"Strategies to compare (repeatable; default all: {', '.join(STRATEGIES)}).")] = None,
    fmt: Annotated[str, typer.Option("-o", "--format", help="table, json or csv.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write the result to FILE (atomically).")] = None,
    config: ConfigFile = None,
    profile: Profile = None,
    qos: Qos = None,
    change_threshold: ChangeThreshold = None,
    timeout: Timeout = 60.0,
    retries: Retries = 3,
    concurrency: Concurrency = 4,
    batch_pods: BatchPods = 200,
    cluster_label: ClusterLabel = None,
    cluster: Cluster = None,
    ca_file: CaFile = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    header: Header = None,
    insecure_skip_tls_verify: Insecure = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Recommend from a training window, replay the window after it, and compare with baseline strategies.

    Counts the containers that would have been OOMKilled, the CPU used above the request, and
    what each strategy requests. The demo holds 14 days: the defaults train on 10 and test on 4.

    Examples:

      rightsizer backtest --demo

      rightsizer backtest --prometheus-url http://localhost:9090 --train 14d --test 7d -o json
    """
    _logging(verbose)
    if fmt not in BACKTEST_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(BACKTEST_FORMATS)}", param_hint="'-o' / '--format'")
    policies = _policies(config, profile, qos, change_threshold)
    train_s, test_s = parse_duration(train, flag="--train"), parse_duration(test, flag="--test")
    connection = _connection(timeout, retries, concurrency, ca_file, client_cert, client_key, header,
                             insecure_skip_tls_verify, batch_pods, cluster_label, cluster)
    history = _load(prometheus_url, snapshot, demo, namespace, workload, selector, f"{train_s + test_s:g}s", step,
                    end, quiet, connection, EVERY_STEP)
    training, testing = split(history, train_s, test_s)
    result = run_backtest(training, testing, tuple(strategy or STRATEGIES), policies)
    text = render_backtest(result, fmt)
    if output is not None:
        write_text_atomic(output, text)
        stderr.print(f"wrote {output}", markup=False, highlight=False)
    else:
        sys.stdout.write(text)


def _recommendations_from(file: Path | None, prometheus_url: str | None, snapshot: Path | None, demo: bool,
                          namespace: str | None, workload: str | None, selector: str | None, window: str, step: str,
                          end: str, quiet: bool, connection: dict[str, object], policies: PolicySet,
                          region: str = "us-east-1", catalog: Path | None = None, instance_type: str | None = None
                          ) -> tuple[list[PlannedChange], RecommendationSet | None]:
    """The changes to make: from a reviewed report file, or recommended now from a source."""
    if file is not None:
        if prometheus_url or snapshot or demo:
            raise RightsizerError("--recommendations replaces the source: drop --prometheus-url, --snapshot or --demo")
        try:
            doc = json.loads(Path(file).read_text())
        except FileNotFoundError:
            raise RightsizerError(f"recommendations file {file} does not exist") from None
        except (OSError, ValueError) as exc:
            raise RightsizerError(f"recommendations file {file} is not a JSON report ({exc}); write one with "
                                  "'rightsizer report -o json --output FILE'") from None
        scope = Scope(namespace, workload, selector, connection.get("cluster"))  # type: ignore[arg-type]
        return _one_cluster([c for c in plan_from_report(doc) if scope.key_ok(c.key)]), None
    parts = _parts(prometheus_url, snapshot, demo, namespace, workload, selector, window, step, end, quiet,
                   connection)
    recs = _priced(parts, policies, "rightsizer", load_catalog(catalog), region, instance_type)  # the PR body
    return _one_cluster(plan(recs)), recs  # shows what the change saves


def _one_cluster(changes: list[PlannedChange]) -> list[PlannedChange]:
    """A GitOps checkout describes one cluster: recommendations from several would fight over the same files."""
    clusters = sorted({c.key.cluster for c in changes})
    if len(clusters) > 1:
        raise RightsizerError(f"the recommendations come from {len(clusters)} clusters ({', '.join(clusters)}): "
                              "a repository is changed for one cluster at a time; choose it with --cluster NAME")
    return changes


RecommendationsFile = Annotated[Path | None, typer.Option(
    "--recommendations", rich_help_panel=SOURCE,
    help="Apply a report written earlier by 'rightsizer report -o json' (exactly what was reviewed).")]
Mapping = Annotated[Path | None, typer.Option(
    "--mapping", help="YAML list of {workload, container, file, path} for what cannot be located by itself.")]


@app.command()
def patch(
    repo: Annotated[Path | None, typer.Option("--repo", help="The GitOps repository checkout to edit.")] = None,
    recommendations: RecommendationsFile = None,
    prometheus_url: PrometheusUrl = None,
    snapshot: SnapshotFile = None,
    demo: Demo = False,
    namespace: Namespace = None,
    workload: Workload = None,
    selector: Selector = None,
    window: Window = "14d",
    step: Step = "5m",
    end: End = "now",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the unified diff; change nothing.")] = False,
    output_dir: Annotated[Path | None, typer.Option(
        "-o", "--output-dir", help="Write kubectl strategic-merge patch files here instead of editing a repo.")] = None,
    mapping: Mapping = None,
    config: ConfigFile = None,
    profile: Profile = None,
    qos: Qos = None,
    change_threshold: ChangeThreshold = None,
    timeout: Timeout = 60.0,
    retries: Retries = 3,
    concurrency: Concurrency = 4,
    batch_pods: BatchPods = 200,
    cluster_label: ClusterLabel = None,
    cluster: Cluster = None,
    ca_file: CaFile = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    header: Header = None,
    insecure_skip_tls_verify: Insecure = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Apply the recommendations to a GitOps checkout: plain manifests, Kustomize overlays, Helm values.

    Only the changed values move in the files (comments, order, quoting stay); every edit is
    re-parsed and, where a kustomization renders it, checked with kubectl kustomize before any
    file is written.

    Examples:

      rightsizer patch --demo --repo ./gitops --dry-run

      rightsizer report --prometheus-url http://localhost:9090 -o json --output recs.json
      rightsizer patch --recommendations recs.json --repo ./gitops

      rightsizer patch --demo -o ./patches     # kubectl patch files, no repository
    """
    _logging(verbose)
    if (repo is None) == (output_dir is None):
        raise RightsizerError("give --repo PATH (edit a checkout) or -o DIR (write kubectl patch files), not both")
    policies = _policies(config, profile, qos, change_threshold)
    connection = _connection(timeout, retries, concurrency, ca_file, client_cert, client_key, header,
                             insecure_skip_tls_verify, batch_pods, cluster_label, cluster)
    changes, _ = _recommendations_from(recommendations, prometheus_url, snapshot, demo, namespace, workload,
                                       selector, window, step, end, quiet, connection, policies)
    if output_dir is not None:
        written = write_kubectl_patches(changes, output_dir)
        stderr.print(f"wrote {len(written)} patch files to {output_dir}", markup=False, highlight=False)
        return
    assert repo is not None
    if not repo.is_dir():
        raise RightsizerError(f"--repo {repo} is not a directory")
    result = build_patch(repo, changes, mapping)
    if dry_run:
        sys.stdout.write(result.diff())
    else:
        write_patch(repo, result)
    verb = "would change" if dry_run else "changed"
    stderr.print(f"{verb} {len(result.files)} files for {len(result.applied)} containers; "
                 f"{len(result.skipped)} not applied", markup=False, highlight=False)
    for what, why in sorted(result.skipped.items()):
        stderr.print(f"  - {why}", markup=False, highlight=False)


@app.command("pr")
def pull_request(
    repo: Annotated[str, typer.Option("--repo", help="Repository URL to clone, or a local checkout (clean, on a "
                                                     "branch, with an 'origin' remote).")],
    base: Annotated[str, typer.Option("--base", help="Branch the pull request targets.")] = "main",
    branch: Annotated[str, typer.Option(
        "--branch", help="Work branch, reused every week (with --cluster-label, the cluster is appended).")
    ] = DEFAULT_BRANCH,
    provider: Annotated[str | None, typer.Option(
        "--provider", help="github or gitlab (guessed from the remote's host).")] = None,
    api_url: Annotated[str | None, typer.Option(
        "--api-url", help="API base URL (GitHub Enterprise: https://HOST/api/v3; GitLab: https://HOST).")] = None,
    project: Annotated[str | None, typer.Option(
        "--project", help="owner/name on the code host (read from the remote URL by default).")] = None,
    token_env: Annotated[str | None, typer.Option(
        "--token-env", help="Environment variable holding the token (default GITHUB_TOKEN or GITLAB_TOKEN).")] = None,
    workdir: Annotated[Path | None, typer.Option("--workdir", help="Empty directory to clone into.")] = None,
    recommendations: RecommendationsFile = None,
    prometheus_url: PrometheusUrl = None,
    snapshot: SnapshotFile = None,
    demo: Demo = False,
    namespace: Namespace = None,
    workload: Workload = None,
    selector: Selector = None,
    window: Window = "14d",
    step: Step = "5m",
    end: End = "now",
    mapping: Mapping = None,
    region: Region = "us-east-1",
    catalog: CatalogFile = None,
    instance_type: InstanceType = None,
    config: ConfigFile = None,
    profile: Profile = None,
    qos: Qos = None,
    change_threshold: ChangeThreshold = None,
    timeout: Timeout = 60.0,
    retries: Retries = 3,
    concurrency: Concurrency = 4,
    batch_pods: BatchPods = 200,
    cluster_label: ClusterLabel = None,
    cluster: Cluster = None,
    ca_file: CaFile = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    header: Header = None,
    insecure_skip_tls_verify: Insecure = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Open (or update) the pull request that right-sizes the GitOps repository: the weekly job.

    Branches from the base, applies the recommendations, commits, pushes the work branch and
    opens a pull request, or updates the one it opened before. No change: no commit, no PR,
    exit 0. The token comes from GITHUB_TOKEN / GITLAB_TOKEN (or --token-env) and is never
    printed.

    Examples:

      GITHUB_TOKEN=... rightsizer pr --repo https://github.com/acme/gitops --prometheus-url http://prometheus:9090

      rightsizer pr --repo ./gitops --recommendations reviewed.json --provider gitlab --api-url https://git.acme.io
    """
    _logging(verbose)
    policies = _policies(config, profile, qos, change_threshold)
    connection = _connection(timeout, retries, concurrency, ca_file, client_cert, client_key, header,
                             insecure_skip_tls_verify, batch_pods, cluster_label, cluster)
    kind = provider or guess_provider(repo)
    local = Path(repo).is_dir()
    if kind is None and local:
        remote = subprocess.run(["git", "-C", repo, "remote", "get-url", "origin"], capture_output=True, text=True,
                                check=False).stdout.strip()
        kind = guess_provider(remote)
    if kind not in ("github", "gitlab"):
        raise RightsizerError("cannot tell the code host: pass --provider github or --provider gitlab")
    variable = token_env or ("GITHUB_TOKEN" if kind == "github" else "GITLAB_TOKEN")
    token = _secret(variable)
    if not token:
        raise RightsizerError(f"no token: set {variable} (a token that can push to the repository and open pull "
                              "requests)")
    changes, recs = _recommendations_from(recommendations, prometheus_url, snapshot, demo, namespace, workload,
                                          selector, window, step, end, quiet, connection, policies, region, catalog,
                                          instance_type)
    git, return_to = GitRepo.open(repo, workdir, token, "oauth2" if kind == "gitlab" else "x-access-token")
    name = project or project_from_remote(git.remote_url())
    # the client libraries load only for the command that needs them (start-up time of every other command)
    if kind == "github":
        from rightsizer.gitops.github import GitHubProvider

        host: Provider = GitHubProvider(name, token, api_url or "https://api.github.com")
    else:
        from rightsizer.gitops.gitlab import GitLabProvider

        host = GitLabProvider(name, token, api_url or "https://gitlab.com")
    clusters = {c.key.cluster for c in changes} - {""}
    where = clusters.pop() if clusters else ""
    if where and branch == DEFAULT_BRANCH:  # one weekly PR per cluster, each on its own branch
        branch = f"{branch}-{re.sub(r'[^A-Za-z0-9._-]+', '-', where)}"
    outcome = open_or_update(git, host, changes, recs, base, branch, mapping, return_to, cluster=where)
    if outcome.pull_request is None:
        stderr.print("nothing to change: no pull request", markup=False, highlight=False)
    else:
        stderr.print(f"{outcome.action} {outcome.pull_request.url} ({len(outcome.result.applied)} containers, "
                     f"{len(outcome.result.files)} files)", markup=False, highlight=False)
    for why in outcome.result.skipped.values():
        stderr.print(f"  - not applied: {why}", markup=False, highlight=False)


PRICING = "Prices"
Region = Annotated[str, typer.Option("--region", rich_help_panel=PRICING, help="Catalog region for prices.")]
CatalogFile = Annotated[Path | None, typer.Option(
    "--catalog", rich_help_panel=PRICING, help="Your own instance catalog (CSV or JSON, the bundled file's columns).")]
InstanceType = Annotated[str | None, typer.Option(
    "--instance-type", rich_help_panel=PRICING,
    help="Node type to price with when kube-state-metrics does not export node labels.")]


@app.command()
def cost(
    prometheus_url: PrometheusUrl = None,
    snapshot: SnapshotFile = None,
    demo: Demo = False,
    namespace: Namespace = None,
    workload: Workload = None,
    selector: Selector = None,
    window: Window = "14d",
    step: Step = "5m",
    end: End = "now",
    region: Region = "us-east-1",
    catalog: CatalogFile = None,
    instance_type: InstanceType = None,
    repo: Annotated[Path | None, typer.Option(
        "--repo", help="GitOps checkout: its manifests tell local storage, disruption budgets, overrides.")] = None,
    utilization: Annotated[float | None, typer.Option(
        "--utilization", min=0.1, max=1.0, help="How full nodes are planned (default by profile: 0.9/0.8/0.7).")
    ] = None,
    fmt: Annotated[str, typer.Option("-o", "--format", help="table, json, csv or markdown.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write to FILE (atomically).")] = None,
    config: ConfigFile = None,
    profile: Profile = None,
    qos: Qos = None,
    change_threshold: ChangeThreshold = None,
    timeout: Timeout = 60.0,
    retries: Retries = 3,
    concurrency: Concurrency = 4,
    batch_pods: BatchPods = 200,
    cluster_label: ClusterLabel = None,
    cluster: Cluster = None,
    ca_file: CaFile = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    header: Header = None,
    insecure_skip_tls_verify: Insecure = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """What the workloads cost now and right-sized, and how much less with spot instances (and at what risk).

    Examples:

      rightsizer cost --demo

      rightsizer cost --prometheus-url http://localhost:9090 --region eu-west-1 --repo ./gitops -o json
    """
    _logging(verbose)
    if fmt not in COST_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(COST_FORMATS)}", param_hint="'-o' / '--format'")
    policies = _policies(config, profile, qos, change_threshold)
    connection = _connection(timeout, retries, concurrency, ca_file, client_cert, client_key, header,
                             insecure_skip_tls_verify, batch_pods, cluster_label, cluster)
    history = _load(prometheus_url, snapshot, demo, namespace, workload, selector, window, step, end, quiet,
                    connection)
    recs = recommend(history, policies)
    fill = utilization if utilization is not None else UTILIZATION[policies.profile]
    estimate = estimate_cost(history, recs, load_catalog(catalog), region, instance_type, repo, fill)
    text = render_cost(estimate, fmt)
    if output is not None:
        write_text_atomic(output, text)
        stderr.print(f"wrote {output}", markup=False, highlight=False)
    else:
        sys.stdout.write(text)


@app.command()
def snapshot(
    output: Annotated[Path, typer.Option("-o", "--output", help="Parquet file to write (atomically).")],
    prometheus_url: PrometheusUrl = None,
    namespace: Namespace = None,
    workload: Workload = None,
    selector: Selector = None,
    window: Window = "14d",
    step: Step = "5m",
    end: End = "now",
    timeout: Timeout = 60.0,
    retries: Retries = 3,
    concurrency: Concurrency = 4,
    batch_pods: BatchPods = 200,
    cluster_label: ClusterLabel = None,
    cluster: Cluster = None,
    ca_file: CaFile = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    header: Header = None,
    insecure_skip_tls_verify: Insecure = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Record a cluster's history from Prometheus into one Parquet file, for offline runs and notebooks.

    Example:

      rightsizer snapshot --prometheus-url http://localhost:9090 --window 14d -o cluster.parquet
    """
    _logging(verbose)
    if not prometheus_url:
        raise RightsizerError("snapshot records from Prometheus: pass --prometheus-url URL "
                              "(or set RIGHTSIZER_PROMETHEUS_URL)")
    connection = _connection(timeout, retries, concurrency, ca_file, client_cert, client_key, header,
                             insecure_skip_tls_verify, batch_pods, cluster_label, cluster)
    history = _load(prometheus_url, None, False, namespace, workload, selector, window, step, end, quiet,
                    connection, EVERY_STEP)
    save_snapshot(history, output)
    stderr.print(f"wrote {output}: {len(history)} containers, {history.describe_window()}", markup=False,
                 highlight=False)
    if history.missing:
        stderr.print(missing_note(history.missing), end="", markup=False, highlight=False)


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


def _version(value: bool) -> None:
    if value:
        print(f"rightsizer {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Right-size Kubernetes CPU and memory requests and limits from Prometheus history."""


def main() -> None:
    """Console entry point: a RightsizerError is one line on stderr and exit code 1, never a traceback."""
    try:
        app()
    except RightsizerError as exc:
        stderr.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
