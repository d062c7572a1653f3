"""Decode query answers into compact data: a range answer (a "matrix") into arrays, an instant
answer (a "vector") into tuples of the labels asked for.

A large cluster's usage is tens of millions of points.  Decoded the usual way, each
point becomes a Python list holding an int and a string (about 120 bytes, and a
microsecond of work to make and another to turn into a float): more time than
Prometheus spent computing it, and several times the memory of the arrays the engine
uses.  Here only each series' labels are decoded as JSON; its points, which are nothing
but ``[<number>,"<number>"]`` pairs, are handed to Arrow's CSV reader in one piece per
answer and come out as float arrays.  :func:`decode_flat` leaves them there, every
series' points one after the other in one :class:`Matrix`: an answer holds tens of
thousands of short series, and a caller that places points by their labels (the usage
assembly) needs no object per series.  The queries of one batch name the same series again
and again (a container's CPU, memory and throttling share cAdvisor's labels, and a pod
running all window is in every chunk of time): given a :data:`LabelMemo`, a label set is
decoded once and its one dict shared by every series that has it.

The layout relied on (``"metric"`` then ``"values"`` in each series, no spaces) is the
one Prometheus, Thanos, Mimir and VictoriaMetrics write; anything else falls back to a
plain JSON decode, so an unusual server is slower, never wrong.

Discovery answers hold a series per pod for every pod of the window (hundreds of
thousands in a large cluster): decoded as dicts they take several hundred bytes each,
all at once.  :func:`decode_vector` keeps only the labels asked for, as a tuple of
interned strings (a pod's name is then one string however many answers name it).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

_METRIC = b'{"metric":'
_FIRST_POINT = b',"values":[['
_NEXT_SERIES = b']]},{"metric":'
_LAST_POINT = b"]]}]"
# points become CSV lines "t,v," (see _points): the third column is always empty
_CONVERT = pacsv.ConvertOptions(column_types={"t": pa.float64(), "v": pa.float64()}, include_columns=["t", "v"],
                                null_values=[], strings_can_be_null=False)
_READ = pacsv.ReadOptions(column_names=["t", "v", "end"], use_threads=False)
_POINTS_TO_CSV = bytes.maketrans(b"[", b"\n")
#: the time of the point put between two series' points: before the earliest time Prometheus can store (a
#: millisecond int64 reaches back 292 million years), so no answer's point is ever taken for it
_BETWEEN = -1e300
_BETWEEN_PARTS = b'],[' + repr(_BETWEEN).encode() + b',"0"],['
#: a label set's JSON text -> its decoded labels, shared by the answers that hold it (read them, never change them)
LabelMemo = dict[bytes, dict[str, str]]


@dataclass
class Series:
    """One series of a range answer: its labels, and its points' times (unix seconds) and values."""

    labels: dict[str, str]
    times: np.ndarray  # float64
    values: np.ndarray  # float64


@dataclass
class Matrix:
    """The series of a range answer, flat: their labels, and every series' points one after the other."""

    labels: list[dict[str, str]]
    bounds: np.ndarray  # int64, one more than the series: series i's points are [bounds[i], bounds[i + 1])
    times: np.ndarray  # float64
    values: np.ndarray  # float64

    @classmethod
    def of(cls, series: list[Series]) -> Matrix:
        """The matrix holding these series, in order."""
        lengths = [len(s.times) for s in series]
        return cls([s.labels for s in series], np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))),
                   np.concatenate([s.times for s in series]) if series else np.zeros(0),
                   np.concatenate([s.values for s in series]) if series else np.zeros(0))

    def __len__(self) -> int:
        return len(self.labels)

    def series(self) -> list[Series]:
        """One :class:`Series` per series (its arrays are views of this matrix')."""
        b = self.bounds.tolist()
        return [Series(labels, self.times[b[i] : b[i + 1]], self.values[b[i] : b[i + 1]])
                for i, labels in enumerate(self.labels)]


class MatrixError(ValueError):
    """The body is not a successful range-query answer."""


class ShapeError(MatrixError):
    """A successful answer of another type than the query asks for (a vector to a range query): asking again
    gives the same, so it is not retried."""


def decode_flat(body: bytes, memo: LabelMemo | None = None) -> Matrix:
    """The series of a successful ``/api/v1/query_range`` answer, as one :class:`Matrix` (``memo``: label
    sets decoded before, used and added to)."""
    head = body.find(b'"result":[')
    if head < 0 or b'"status":"success"' not in body[:head] or b'"resultType":"matrix"' not in body[:head]:
        return Matrix.of(_slow(body))
    try:
        return _fast(body, head + len(b'"result":['), {} if memo is None else memo)
    except (ValueError, pa.ArrowInvalid):
        return Matrix.of(_slow(body))


def _fast(body: bytes, pos: int, memo: LabelMemo) -> Matrix:
    """Cut the answer at the separators between series and between labels and points, which
    no label value can hold (each has an unescaped quote), rather than walking it series by
    series: a batch's answer holds tens of thousands of short series."""
    rest = body[pos:]
    if rest.startswith(b"]"):
        return Matrix([], np.zeros(1, dtype=np.int64), np.zeros(0), np.zeros(0))
    if not rest.startswith(_METRIC):
        raise ValueError("unexpected series layout")
    pieces = rest[len(_METRIC) :].split(_NEXT_SERIES)
    labels_text: list[bytes] = []
    parts: list[bytes] = []
    for piece in pieces:
        text, found, points = piece.partition(_FIRST_POINT)
        if not found:
            raise ValueError("unexpected series layout")
        labels_text.append(text)
        parts.append(points)
    last, found, _ = parts[-1].partition(_LAST_POINT)
    if not found:
        raise ValueError("unexpected end of result")
    parts[-1] = last
    # the labels: real JSON (a label value may hold any character), those not seen before decoded in one call
    new = [text for text in dict.fromkeys(labels_text) if text not in memo]
    if new:
        decoded = json.loads(b"[" + b",".join(new) + b"]")
        if not all(isinstance(labels, dict) for labels in decoded):
            raise ValueError("a series' labels are not an object")
        memo.update(zip(new, decoded, strict=True))
    return Matrix([memo[text] for text in labels_text], *_points(parts))


def _points(parts: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bounds, times, values) of every ``t,"v"],[t,"v"`` part, in order, in one CSV read.

    One ``translate`` pass makes CSV of them: ``[`` starts a line, quotes and ``]`` go, so
    each point is a line ``t,v,``.  Between two parts goes a point no answer holds, at a
    time before any Prometheus can store (:data:`_BETWEEN`): where those lines fall in
    the table gives each series' bounds, without counting its points one series at a time.
    """
    text = (_BETWEEN_PARTS.join(parts) + b",").translate(_POINTS_TO_CSV, b'"]')
    table = pacsv.read_csv(io.BytesIO(text), read_options=_READ, convert_options=_CONVERT)
    times = table.column(0).to_numpy().astype(np.float64, copy=False)
    values = table.column(1).to_numpy().astype(np.float64, copy=False)
    between = np.flatnonzero(times == _BETWEEN)
    if len(between) != len(parts) - 1:
        raise ValueError("a point's time is not a number")
    bounds = np.concatenate(([0], between - np.arange(len(between)), [len(times) - len(between)])).astype(np.int64)
    if len(between):
        keep = np.ones(len(times), dtype=bool)
        keep[between] = False
        times, values = times[keep], values[keep]
    return bounds, times, values


def _slow(body: bytes) -> list[Series]:
    result = _result(body, "range-query result", "matrix")
    try:
        return [Series(dict(row["metric"]),
                       np.array([float(v[0]) for v in row["values"]], dtype=np.float64),
                       np.array([float(v[1]) for v in row["values"]], dtype=np.float64))
                for row in result]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise MatrixError("the answer is not a complete Prometheus range-query result") from exc


def decode_vector(body: bytes, labels: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The series of a successful ``/api/v1/query`` answer as ``(label values..., value)`` tuples.

    Series are decoded one at a time, so only one series' dict is alive at once.  A
    missing label is ``""``; the value is a float (NaN when it does not parse).
    """
    text = body.decode(errors="replace")
    head = text.find('"result":[')
    if head >= 0 and '"status":"success"' in text[:head] and '"resultType":"vector"' in text[:head]:
        try:
            return [_project(row, labels) for row in _iter_vector(text, head + len('"result":['))]
        except (ValueError, IndexError, AttributeError):
            pass  # an unusual layout: decode the answer whole
    try:
        return [_project(row, labels) for row in _result(text, "query result", "vector")]
    except AttributeError as exc:
        raise MatrixError("the answer is not a complete Prometheus query result") from exc


def decode_series(body: bytes, labels: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The label sets of a successful ``/api/v1/series`` answer as ``(label values..., 1.0)`` tuples,
    the shape :func:`decode_vector` gives (a missing label is ``""``)."""
    found = _data(body, "series list", lambda data: data)
    if not isinstance(found, list):
        raise MatrixError("the answer is not a complete Prometheus series list")
    try:
        return [(*(sys.intern(str(row.get(name, ""))) for name in labels), 1.0) for row in found]
    except AttributeError as exc:
        raise MatrixError("the answer is not a complete Prometheus series list") from exc


def _iter_vector(text: str, pos: int) -> Iterator[dict[str, Any]]:
    decoder = json.JSONDecoder()
    while text[pos] != "]":
        row, pos = decoder.raw_decode(text, pos)
        yield row
        if text[pos] == ",":
            pos += 1


def _result(body: bytes | str, what: str, result_type: str) -> list[Any]:
    """The ``data.result`` list of a successful answer of ``result_type``, decoded whole."""
    found = _data(body, what, lambda data: data)
    if not isinstance(found, dict) or not isinstance(found.get("result"), list):
        raise MatrixError(f"the answer is not a complete Prometheus {what}")
    if found.get("resultType") != result_type:
        raise ShapeError(f"a {str(found.get('resultType'))[:20]!r} answer where a {what} ({result_type}) belongs")
    return found["result"]


def _data(body: bytes | str, what: str, pick: Callable[[Any], Any]) -> Any:
    """The list or object ``pick`` finds in the ``data`` of a successful answer, decoded whole."""
    try:
        doc: Any = json.loads(body)
        found = pick(doc["data"])
        if doc.get("status") != "success" or not isinstance(found, list | dict):
            raise TypeError
        return found
    except (ValueError, KeyError, TypeError) as exc:
        raise MatrixError(f"the answer is not a complete Prometheus {what}") from exc


def _project(row: dict[str, Any], labels: tuple[str, ...]) -> tuple[Any, ...]:
    metric = row.get("metric", {})
    try:
        value = float(row["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        value = float("nan")
    return (*(sys.intern(metric.get(name, "")) for name in labels), value)
