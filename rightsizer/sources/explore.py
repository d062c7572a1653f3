"""Ad-hoc PromQL as DataFrames, for notebooks: look at a series before trusting a recommendation built on it.

prometheus-api-client does the work here: its ``PrometheusConnect`` sends the query and
its ``MetricRangeDataFrame`` lays the answer out as one row per (series, time) with the
labels as columns, which is what one wants to filter and plot in a notebook.  It runs
over :class:`~rightsizer.sources.client.PrometheusClient`'s session, so auth, TLS, the
POST body, retries and the precise error messages are those of every other query.  The
product's own queries do not go this way: a DataFrame row per point is far too heavy for
a cluster's history (see :mod:`rightsizer.sources.matrix`).
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pandas as pd

from rightsizer.sources.client import PrometheusClient, PrometheusSettings


def query_range_frame(settings: PrometheusSettings, query: str, start: float, end: float, step: float
                      ) -> pd.DataFrame:
    """``query`` evaluated from ``start`` to ``end`` (unix seconds) every ``step`` seconds: one row per series
    and time, indexed by UTC timestamp, a column per label and ``value``.

    >>> # query_range_frame(PrometheusSettings("http://localhost:9090"),
    >>> #                   'rate(container_cpu_usage_seconds_total{namespace="shop"}[5m])', t - 3600, t, 60)
    """
    from prometheus_api_client import MetricRangeDataFrame, PrometheusConnect
    from urllib3.util.retry import Retry

    client = PrometheusClient(settings)
    try:
        prom = PrometheusConnect(url=client.url, session=client.session, auth=client.auth, timeout=settings.timeout,
                                 method="POST", retry=Retry(total=0))  # retries are the client's, for POST too
        result = client.with_retries(query, lambda: prom.custom_query_range(
            query, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), f"{step:g}"))
    finally:
        client.close()
    if not result:
        return pd.DataFrame({"value": pd.Series(dtype=float)},
                            index=pd.DatetimeIndex([], name="timestamp", tz="UTC"))
    with warnings.catch_warnings():  # the library's own use of pandas' deprecated inplace= is not the reader's
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = MetricRangeDataFrame(result)
    frame.index = frame.index.tz_localize("UTC")
    return frame
