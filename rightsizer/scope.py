"""Which workloads a run looks at: namespace and workload-name patterns, a pod label selector.

Patterns are regular expressions in RE2 syntax matched against the whole name
(``--namespace 'shop|payments'``, ``--workload 'api-.*'``), compiled once with a clear
error for a bad one.  RE2 is what Prometheus' ``=~`` uses, so a pattern means the same on both
sides, and it matches in linear time: a pattern such as ``(.*.*)*=`` cannot stall a run the way
a backtracking engine would.  The same scope filters Prometheus queries and snapshots, so
``--snapshot`` and ``--prometheus-url`` runs agree on what they cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import re2

from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory, ContainerKey


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error is ours to report, in one line, not RE2's log on stderr
    return options


@lru_cache(maxsize=64)
def _compile(pattern: str | None, flag: str) -> re2._Regexp | None:
    if pattern is None:
        return None
    if not pattern.strip():
        raise RightsizerError(f"empty {flag}: give a name or a regular expression, e.g. {flag} 'shop|payments'")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RightsizerError(f"invalid {flag} regular expression {pattern!r}: {detail} (RE2 syntax, as "
                              "Prometheus uses: no backreferences or lookarounds)") from None


@dataclass(frozen=True)
class Scope:
    namespace: str | None = None
    workload: str | None = None
    selector: str | None = None
    cluster: str | None = None  # with several clusters in one store (--cluster-label)

    def __post_init__(self) -> None:
        _compile(self.cluster, "--cluster")
        _compile(self.namespace, "--namespace")
        _compile(self.workload, "--workload")
        if self.selector is not None and not self.selector.strip():
            raise RightsizerError("empty --selector: give one like 'app=web,tier!=db'")

    def namespace_ok(self, namespace: str) -> bool:
        pattern = _compile(self.namespace, "--namespace")
        return pattern is None or pattern.fullmatch(namespace) is not None

    def workload_ok(self, kind: str, name: str) -> bool:
        """``--workload`` matches the name, or ``Kind/name`` when it contains a slash."""
        pattern = _compile(self.workload, "--workload")
        if pattern is None:
            return True
        return pattern.fullmatch(f"{kind}/{name}" if "/" in (self.workload or "") else name) is not None

    def cluster_ok(self, cluster: str) -> bool:
        pattern = _compile(self.cluster, "--cluster")
        return pattern is None or pattern.fullmatch(cluster) is not None

    def key_ok(self, key: ContainerKey) -> bool:
        return (self.cluster_ok(key.cluster) and self.namespace_ok(key.namespace)
                and self.workload_ok(key.kind, key.workload))

    def describe(self) -> str:
        parts = [f"{flag} {value!r}" for flag, value in (("--cluster", self.cluster), ("--namespace", self.namespace),
                 ("--workload", self.workload), ("--selector", self.selector)) if value]
        return ", ".join(parts) or "no filter"

    def apply(self, history: ClusterHistory) -> ClusterHistory:
        """Keep the matching containers of a recorded history (a selector needs live pod labels)."""
        if self.selector:
            raise RightsizerError("--selector needs pod labels from kube-state-metrics: use it with "
                                  "--prometheus-url, or filter a snapshot with --namespace and --workload")
        return history.filter(k for k in history.containers if self.key_ok(k))
