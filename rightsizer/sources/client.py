"""HTTP access to a Prometheus-compatible query API: auth, TLS, POST bodies, timeouts, retries.

One ``requests`` session of our own carries every query, because four things matter at
scale that a stock client does not give:

* queries go in a form-encoded POST *body* (prometheus-api-client's POST mode still puts
  them in the URL, and a long pod regex then hits ``414 URI Too Long``);
* responses are not gzip-compressed (``Accept-Encoding: identity``): Prometheus spends
  seconds compressing a large range result, more than the transfer saves on a LAN;
* an error answer becomes one :class:`PrometheusQueryError` naming the HTTP status and
  Prometheus' own error text, and transient failures are retried with backoff;
* answers are decoded by :mod:`rightsizer.sources.matrix` into arrays and tuples rather
  than a Python object per point and a dict per series.

prometheus-api-client is used where its shape is what is wanted: the notebook's ad-hoc
queries as DataFrames (:mod:`rightsizer.sources.explore`), through this same session.

Credentials never appear in messages: URLs are shown without their user-info.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import requests

from rightsizer.errors import PrometheusQueryError, PrometheusUnreachable, RightsizerError
from rightsizer.secrets import redact_urls, split_userinfo
from rightsizer.sources.deadline import MAX_RETRY_AFTER, read_within, retry_after
from rightsizer.sources.matrix import (
    LabelMemo,
    Matrix,
    MatrixError,
    Series,
    ShapeError,
    decode_flat,
    decode_series,
    decode_vector,
)

log = logging.getLogger(__name__)

#: Prometheus refuses range queries returning more points per series than this.
MAX_POINTS_PER_SERIES = 11_000
#: Steps asked for at once at most, under that limit.
_CHUNK_POINTS = 10_000
#: Time asked for at once at most.  Prometheus evaluates every series a query selects at
#: every step of its range, also where the series has no sample: a pod that lived ten
#: minutes costs as much as one that lived the whole range.  Asked for a few days at a time,
#: a query only selects the pods of those days (at 2,000 containers x 14 days, CPU rates
#: took 36 s of evaluation in one range per batch and 22 s in four; hourly peaks 12 s and 8 s).
_CHUNK_SECONDS = 4 * 86_400
_RETRYABLE_STATUS = {429, 500, 502, 503, 504}
#: what a Prometheus shutting down answers (HTTP 422, lower case): worth another try once it is back
_CLOSING = ("block is closing", "db already closed")
#: what Prometheus, Thanos and Mimir answer when a query asks for too much at once (lower case)
_TOO_LARGE = ("too many samples", "maximum resolution", "max_samples", "max-samples", "query time range exceeds",
              "exceeded the maximum number of chunks", "query length")


def _duration(seconds: float) -> str:
    """A Prometheus duration (whole units only: ``1.5s`` is refused, ``1500ms`` is not)."""
    return f"{max(1, round(seconds * 1000))}ms"


def redact_url(url: str) -> str:
    """The URL without ``user:password@``, for messages and logs."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=f"***@{host}")
    return urlunsplit(parts)


@dataclass(frozen=True)
class PrometheusSettings:
    """How to reach the API.  Secrets are excluded from ``repr`` so they cannot leak into logs."""

    url: str
    bearer_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    insecure_skip_verify: bool = False
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    concurrency: int = 4

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
            well_formed = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
        except ValueError:  # an unclosed "[", a port that is not a number from 0 to 65535
            well_formed = False
        if not well_formed:
            raise RightsizerError(
                f"invalid Prometheus URL {redact_urls(self.url)!r}: expected http(s)://host[:port][/path], "
                "e.g. http://prometheus.monitoring:9090"
            )
        url, user, password = split_userinfo(self.url)  # user-info is basic auth, and kept out of every output
        if user or password:
            if self.username or self.password or self.bearer_token:
                raise RightsizerError("credentials given twice: in the Prometheus URL and in the environment; "
                                      "drop the user:password@ part of the URL")
            object.__setattr__(self, "username", user)
            object.__setattr__(self, "password", password)
        object.__setattr__(self, "url", url)
        for name in ("ca_file", "client_cert", "client_key"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise RightsizerError(f"{name.replace('_', ' ')} {str(path)!r} does not exist or is not a file")
        if self.client_key is not None and self.client_cert is None:
            raise RightsizerError("a client key needs its client certificate: pass --client-cert too")
        if not 0 < self.timeout <= 3600 or not 0 <= self.retries <= 100 or not 1 <= self.concurrency <= 256:
            raise RightsizerError("--timeout must be 0-3600 seconds (not 0), --retries 0-100 and --concurrency 1-256")

    def __repr__(self) -> str:
        secrets = [name for name in ("bearer_token", "password") if getattr(self, name)]
        return (f"PrometheusSettings(url={redact_url(self.url)!r}, username={self.username!r}, "
                f"secrets={secrets}, headers={sorted(self.headers)}, timeout={self.timeout:g}, "
                f"retries={self.retries}, concurrency={self.concurrency})")


class _HttpError(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def _check_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: turn an error answer into an exception carrying Prometheus' own message."""
    if response.status_code == 200:
        return
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = f"{str(body.get('errorType', ''))[:100]}: {str(body.get('error', ''))[:300]}".strip(": ")
    else:  # not JSON, or JSON but not Prometheus' error object (a list, a string, a number)
        message = response.text[:300].strip()
    raise _HttpError(response.status_code, message or response.reason or "",
                     retry_after(response.headers.get("Retry-After")))


class _FormPostSession(requests.Session):
    """Sends a POST's parameters as the form body, where they belong, instead of in the URL."""

    def request(self, method: str | bytes, url: str | bytes, params: Any = None, data: Any = None,
                **kwargs: Any) -> requests.Response:
        if str(method).upper() == "POST" and params is not None and data is None:
            params, data = None, params
        return super().request(method, url, params=params, data=data, **kwargs)


class PrometheusClient:
    """Instant and range queries with retries; counts requests and bytes for the benchmarks.

    With ``record``, every request sent is kept in ``sent`` as (API path, form parameters):
    the benchmark replays them to measure what Prometheus alone needs for the same answers.
    """

    def __init__(self, settings: PrometheusSettings, record: bool = False):
        self.settings = settings
        self.url = settings.url.rstrip("/")
        self.queries = 0
        self.bytes_received = 0
        self.sent: list[tuple[str, dict[str, str]]] | None = [] if record else None
        session = _FormPostSession()
        session.verify = str(settings.ca_file) if settings.ca_file else not settings.insecure_skip_verify
        if settings.client_cert is not None:
            session.cert = (str(settings.client_cert), str(settings.client_key)) if settings.client_key \
                else str(settings.client_cert)
        session.headers["Accept-Encoding"] = "identity"
        session.headers.update(settings.headers)
        if settings.bearer_token:
            session.headers["Authorization"] = f"Bearer {settings.bearer_token}"
        session.hooks["response"].append(self._read_body)
        session.hooks["response"].append(_check_response)
        session.hooks["response"].append(self._count)
        auth = (settings.username, settings.password or "") if settings.username else None
        self.session, self.auth = session, auth

    def _read_body(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Response hook: the body within what the timeout leaves after the headers came."""
        read_within(response, max(0.0, self.settings.timeout - response.elapsed.total_seconds()))

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.queries += 1
        self.bytes_received += len(response.content)

    def close(self) -> None:
        self.session.close()

    def _instant_form(self, query: str, at: float) -> dict[str, str]:
        """The form of an instant query, recorded when ``record`` is on."""
        form = {"query": query, "time": f"{at:.3f}", "timeout": _duration(self.settings.timeout)}
        if self.sent is not None:
            self.sent.append(("/api/v1/query", dict(form)))
        return form

    def instant_rows(self, query: str, at: float, labels: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """An instant query's series as ``(label values..., value)`` tuples of the ``labels`` asked for.

        For answers with a series per pod of the window: far smaller than a dict per series
        (see :func:`~rightsizer.sources.matrix.decode_vector`).
        """
        form = self._instant_form(query, at)
        return self.with_retries(query, lambda: self._post("/api/v1/query", form,  # type: ignore[no-any-return]
                                                            lambda body: decode_vector(body, labels)))

    def series_rows(self, match: str, start: float, end: float, labels: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """The label sets of the series ``match`` selects with samples between ``start`` and ``end``, as
        ``(label values..., 1.0)`` tuples of the ``labels`` asked for.

        The series endpoint reads the index only: for a family whose values say nothing
        (``kube_replicaset_owner`` is always 1) it is a tenth of the cost of a query that
        reads every sample of the window.
        """
        form = {"match[]": match, "start": f"{start:.3f}", "end": f"{end:.3f}"}
        if self.sent is not None:
            self.sent.append(("/api/v1/series", dict(form)))
        return self.with_retries(match, lambda: self._post("/api/v1/series", form,  # type: ignore[no-any-return]
                                                            lambda body: decode_series(body, labels)))

    def range(self, query: str, start: float, end: float, step: float, by_days: bool = True) -> list[Series]:
        """A range query's series, asked for in chunks (see :meth:`range_chunks`), each series whole: the
        chunks' pieces joined by label set, points in time order.

        The label set is taken in the order the server wrote it (Prometheus sorts it), not
        sorted again: a server that wrote one series' labels in different orders would leave
        it in pieces, as :meth:`range_chunks` does.
        """
        merged: dict[tuple[tuple[str, str], ...], list[Series]] = {}
        for chunk in self.range_chunks(query, start, end, step, by_days):
            for series in chunk.series():
                merged.setdefault(tuple(series.labels.items()), []).append(series)
        return [parts[0] if len(parts) == 1 else
                Series(parts[0].labels, np.concatenate([p.times for p in parts]),
                       np.concatenate([p.values for p in parts]))
                for parts in merged.values()]

    def range_chunks(self, query: str, start: float, end: float, step: float, by_days: bool = True,
                     memo: LabelMemo | None = None) -> list[Matrix]:
        """A range query, asked for in even chunks of at most ``_CHUNK_POINTS`` steps and (``by_days``)
        ``_CHUNK_SECONDS``: each chunk's answer as it came, decoded straight into arrays (see
        :mod:`rightsizer.sources.matrix`).

        For a caller that places points by their labels and times anyway (the usage
        assembly): joining a few hundred thousand series' pieces costs a tenth of a report's
        own time.  ``memo`` shares decoded label sets between the queries given the same one
        (:func:`~rightsizer.sources.matrix.decode_flat`).
        """
        chunks: list[Matrix] = []
        memo = {} if memo is None else memo
        decode = functools.partial(decode_flat, memo=memo)
        steps = max(1, round((end - start) / step) + 1)
        count = max(math.ceil(steps / _CHUNK_POINTS), math.ceil((end - start) / _CHUNK_SECONDS) if by_days else 1)
        span = (math.ceil(steps / count) - 1) * step
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(end, chunk_start + span)
            form = {"query": query, "start": str(round(chunk_start)), "end": str(round(chunk_end)),
                    "step": f"{step:g}", "timeout": _duration(self.settings.timeout)}
            if self.sent is not None:
                self.sent.append(("/api/v1/query_range", form))
            try:
                chunks.append(self.with_retries(query, lambda f=form: self._post("/api/v1/query_range", f,
                                                                                 decode)))
            except PrometheusQueryError as exc:
                asked = round((chunk_end - chunk_start) / step)
                if asked < 2 or not any(m in str(exc).lower() for m in _TOO_LARGE):
                    raise
                # a store with lower limits than Prometheus' (Thanos, Mimir): ask for shorter ranges
                span = (asked // 2) * step
                log.info("the server refused %d points per series; asking for %d at a time", asked + 1, asked // 2 + 1)
                continue
            chunk_start = chunk_end + step
        return chunks

    def _post(self, path: str, form: dict[str, str], decode: Callable[[bytes], Any]) -> Any:
        """One query through the same session (auth, TLS, headers, hooks) as every query, decoded compactly.

        A generic JSON decode would make a list per point and a dict per series: several
        times slower and larger than what is kept of them.
        """
        response = self.session.post(f"{self.url}{path}", data=form, timeout=self.settings.timeout, auth=self.auth)
        try:
            return decode(response.content)
        except ShapeError as exc:  # the same question gets the same wrong answer: not retried
            query = form.get("query") or form.get("match[]", "")
            raise PrometheusQueryError(f"Prometheus at {redact_url(self.url)} gave {exc}: is it a "
                                       f"Prometheus-compatible query API? (query: {_short(query)})") from None
        except MatrixError as exc:
            raise ValueError(str(exc)) from None

    def with_retries(self, query: str, call: Callable[[], Any]) -> Any:
        """``call()``'s list of results; transient failures retried, every failure one precise error."""
        where = redact_url(self.url)
        attempt = 0
        while True:
            began = time.monotonic()
            asked: float | None = None
            try:
                result = call()
                if not isinstance(result, list | Matrix):
                    raise PrometheusQueryError(f"unexpected answer from {where}: no result list")
                log.info("%d series in %.2fs: %s", len(result), time.monotonic() - began,
                         query if len(query) <= 200 else query[:197] + "...")
                return result
            except _HttpError as exc:
                error: RightsizerError = _http_error(where, exc, query)
                retry = exc.status in _RETRYABLE_STATUS or any(m in exc.message.lower() for m in _CLOSING)
                asked = exc.retry_after
            except requests.exceptions.SSLError as exc:
                raise PrometheusUnreachable(
                    f"TLS verification failed for {where}: {_reason(exc)}; pass --ca-file with the server's CA "
                    "(or --insecure-skip-tls-verify to trust it blindly)"
                ) from None
            except requests.exceptions.Timeout:
                error = PrometheusUnreachable(
                    f"Prometheus at {where} did not answer within {self.settings.timeout:g}s; "
                    "raise --timeout, narrow --namespace, or shorten --window"
                )
                retry = True
            except requests.exceptions.ConnectionError as exc:
                error = PrometheusUnreachable(
                    f"cannot connect to Prometheus at {where}: {_reason(exc)}; check --prometheus-url "
                    "(or RIGHTSIZER_PROMETHEUS_URL) and that the server is up"
                )
                retry = True
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                error = PrometheusQueryError(f"malformed answer from {where}: the response was not a complete "
                                             "Prometheus API JSON document (is it a Prometheus-compatible URL?)")
                retry = True
            if not retry or attempt >= self.settings.retries:
                raise error
            attempt += 1
            delay = self.settings.backoff * 2 ** (attempt - 1)
            if asked is not None:  # the server said when: honoured, within bounds a run can afford
                delay = min(asked, MAX_RETRY_AFTER, self.settings.timeout)
            log.info("retrying in %.1fs after: %s", delay, error)
            time.sleep(delay)


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "nodename nor servname",
                   "No route to host", "certificate verify failed", "Connection reset", "timed out"):
        if marker in text:
            return marker.lower()
    return text.split(":")[-1].strip(" ')\"") or exc.__class__.__name__


def _http_error(where: str, exc: _HttpError, query: str) -> RightsizerError:
    if exc.status in (401, 403):
        return PrometheusUnreachable(
            f"Prometheus at {where} refused the request (HTTP {exc.status}): set RIGHTSIZER_PROMETHEUS_TOKEN "
            "(or _TOKEN_FILE), or RIGHTSIZER_PROMETHEUS_USER and _PASSWORD, with read access"
        )
    if exc.status == 404:
        return PrometheusUnreachable(
            f"no Prometheus query API at {where} (HTTP 404 for /api/v1/query): check the URL and its path "
            "prefix (Mimir: .../prometheus, Thanos Query: the querier's address)"
        )
    if exc.status == 414:
        return PrometheusQueryError(f"{where} refused a query as too long (HTTP 414): narrow --namespace")
    return PrometheusQueryError(f"Prometheus at {where} answered HTTP {exc.status} ({exc.message}) to: "
                                f"{_short(query)}")


def _short(query: str) -> str:
    return query if len(query) <= 160 else query[:157] + "..."
