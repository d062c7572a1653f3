"""Range answers decoded straight into arrays: the same series and points a JSON decode gives."""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests

from rightsizer.sources import matrix
from rightsizer.sources.matrix import MatrixError, decode_flat


def decode_matrix(answer: bytes) -> list[matrix.Series]:
    return decode_flat(answer).series()


def body(result: list[dict[str, object]]) -> bytes:
    doc = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(doc, separators=(",", ":")).encode()


def same(a: list[matrix.Series], b: list[matrix.Series]) -> bool:
    return len(a) == len(b) and all(
        x.labels == y.labels and np.array_equal(x.times, y.times) and np.array_equal(x.values, y.values,
                                                                                        equal_nan=True)
        for x, y in zip(a, b, strict=True))


def test_points_labels_and_special_values():
    answer = body([
        {"metric": {"namespace": "shop", "pod": "api-0"}, "values": [[1790000000, "0.25"], [1790000300.5, "1e-05"]]},
        {"metric": {}, "values": [[1, "NaN"], [2, "+Inf"], [3, "-Inf"]]},
        {"metric": {"pod": "empty"}, "values": []},
    ])
    series = decode_matrix(answer)
    assert [s.labels for s in series] == [{"namespace": "shop", "pod": "api-0"}, {}, {"pod": "empty"}]
    assert series[0].times.tolist() == [1790000000, 1790000300.5]
    assert series[0].values.tolist() == [0.25, 1e-05]
    assert np.isnan(series[1].values[0]) and series[1].values[1:].tolist() == [np.inf, -np.inf]
    assert len(series[2].times) == 0
    assert same(series, matrix._slow(answer))


def test_a_flat_answer_keeps_every_series_points_apart():
    rng = np.random.default_rng(5)
    lengths = [1, 3, 1, 1, 250, 2, 1, 40]
    result = [{"metric": {"pod": f"p{i}", "n": str(n)},
               "values": [[1_790_000_000 + 300 * j, repr(float(v))] for j, v in enumerate(rng.normal(size=n))]}
              for i, n in enumerate(lengths)]
    answer = body(result)
    flat = matrix.decode_flat(answer)
    assert flat.bounds.tolist() == np.concatenate(([0], np.cumsum(lengths))).tolist()
    assert len(flat) == len(lengths) and len(flat.times) == sum(lengths) == len(flat.values)
    assert [labels["pod"] for labels in flat.labels] == [f"p{i}" for i in range(len(lengths))]
    assert same(flat.series(), matrix._slow(answer))
    assert same(matrix.Matrix.of(flat.series()).series(), flat.series())
    one = matrix.decode_flat(body(result[:1]))
    assert one.bounds.tolist() == [0, 1] and one.values.tolist() == [float(result[0]["values"][0][1])]
    assert len(matrix.decode_flat(body([]))) == 0


def test_a_label_value_that_looks_like_the_layout_still_decodes_right():
    tricky = 'x,"values":[[1,"2"]]},{"metric":'
    answer = body([{"metric": {"image": tricky}, "values": [[5, "7"]]}])
    series = decode_matrix(answer)
    assert series[0].labels == {"image": tricky} and series[0].values.tolist() == [7.0]


def test_answers_decoded_with_one_memo_share_each_label_set():
    """The chunks and queries of a batch name the same series: each label set is decoded once, and the
    answers are what each gives decoded alone."""
    first = body([{"metric": {"pod": "a", "container": "app"}, "values": [[1, "1"]]},
                  {"metric": {"pod": "b", "container": "app"}, "values": [[1, "2"]]},
                  {"metric": {"pod": "a", "container": "app"}, "values": [[2, "3"]]}])  # a duplicate series
    second = body([{"metric": {"pod": "b", "container": "app"}, "values": [[301, "4"]]},
                   {"metric": {"pod": "c", "container": "app"}, "values": [[301, "5"]]}])
    memo: matrix.LabelMemo = {}
    one, two = decode_flat(first, memo), decode_flat(second, memo)
    assert len(memo) == 3
    assert one.labels[0] is one.labels[2] and one.labels[1] is two.labels[0]
    assert same(one.series(), decode_matrix(first)) and same(two.series(), decode_matrix(second))


def test_labels_that_are_not_an_object_are_an_error():
    answer = body([{"metric": {"pod": "a"}, "values": [[1, "1"]]}]).replace(b'{"pod":"a"}', b'["pod","a"]')
    with pytest.raises(MatrixError):
        decode_flat(answer, {})


@pytest.mark.parametrize("bad", [b"", b"<html>502 Bad Gateway</html>", b'{"status":"success","data":{"result":[',
                                 body([{"metric": {}, "values": [[1, "2"]]}])[:-9]])
def test_a_broken_answer_is_an_error_not_a_wrong_result(bad):
    with pytest.raises(MatrixError):
        decode_matrix(bad)


@pytest.mark.prometheus
def test_real_answers_take_the_fast_path_and_agree_with_json(prometheus, monkeypatch):
    """Prometheus' own encoding: the fast decoder must accept it (no silent fallback) and match json."""
    query = ('max by (namespace, pod, container) (rate(container_cpu_usage_seconds_total'
             '{container!="", container!="POD"}[5m]))')
    form = {"query": query, "start": str(prometheus.end - 86_400), "end": str(prometheus.end), "step": "300"}
    raw = requests.post(f"{prometheus.settings().url}/api/v1/query_range", data=form, timeout=60).content
    monkeypatch.setattr(matrix, "_slow", lambda _body: pytest.fail("fell back to the JSON decode"))
    fast = decode_matrix(raw)
    monkeypatch.undo()
    assert len(fast) > 20 and sum(len(s.times) for s in fast) > 5_000
    assert same(fast, matrix._slow(raw))


def test_vector_rows_keep_the_labels_asked_for():
    doc = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"namespace": "shop", "pod": "api-0", "image": "x"}, "value": [1, "2.5"]},
        {"metric": {"pod": "lonely"}, "value": [1, "NaN"]}]}}
    compact = json.dumps(doc, separators=(",", ":")).encode()
    rows = matrix.decode_vector(compact, ("namespace", "pod"))
    assert rows[0] == ("shop", "api-0", 2.5)
    assert rows[1][:2] == ("", "lonely") and np.isnan(rows[1][2])
    assert matrix.decode_vector(json.dumps(doc, indent=2).encode(), ("pod",))[0] == ("api-0", 2.5)
    with pytest.raises(MatrixError):
        matrix.decode_vector(compact[:-20], ("pod",))
