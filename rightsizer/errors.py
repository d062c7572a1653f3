"""The errors rightsizer raises on purpose.

Every failure a user can cause or fix (a bad flag, an unreachable Prometheus, a
corrupt snapshot) is a :class:`RightsizerError` whose message says what was
wrong and how to fix it.  The CLI prints that message on one line and exits
non-zero; anything else escaping is a bug.
"""

from __future__ import annotations


class RightsizerError(Exception):
    """Base class: a problem the user can act on; ``str()`` is the whole story."""


class QuantityError(RightsizerError, ValueError):
    """A Kubernetes quantity string that does not follow the grammar."""


class SourceError(RightsizerError):
    """History could not be read from Prometheus, a snapshot or the demo data."""


class PrometheusUnreachable(SourceError):
    """The Prometheus-compatible API did not answer (connection, DNS, TLS, timeout)."""


class PrometheusQueryError(SourceError):
    """The API answered, but with an error (HTTP status or malformed body)."""


class MissingMetricsError(SourceError):
    """An exporter the tool needs (kube-state-metrics, cAdvisor) is not scraped."""


class SnapshotError(SourceError):
    """A snapshot file that is missing, corrupt or not written by rightsizer."""


class NoDataError(SourceError):
    """The filters matched no workload in the window."""
