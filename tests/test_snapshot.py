from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rightsizer.errors import SnapshotError
from rightsizer.history import SERIES
from rightsizer.sources.snapshot import SCHEMA_VERSION, load_snapshot, save_snapshot
from rightsizer.testing.synthetic import SyntheticCluster


@pytest.fixture(scope="module")
def history():
    return SyntheticCluster.generate(days=2, end=1_790_000_000, seed=11).history()


def test_round_trip_keeps_everything(history, tmp_path):
    path = tmp_path / "c.parquet"
    save_snapshot(history, path)
    back = load_snapshot(path)
    assert (back.start, back.step, back.n_steps, back.source) == (history.start, history.step, history.n_steps,
                                                                  history.source)
    assert back.containers.keys() == history.containers.keys()
    for key, ch in history.containers.items():
        other = back[key]
        assert other.pods == ch.pods
        assert other.requests == ch.requests and other.limits == ch.limits
        assert other.events == ch.events and other.image == ch.image
        assert other.nodejs_version == ch.nodejs_version
        assert np.array_equal(other.samples.pod, ch.samples.pod)
        assert np.array_equal(other.samples.step, ch.samples.step)
        for name in SERIES:
            assert np.array_equal(other.samples[name], ch.samples[name], equal_nan=True), (key, name)
    assert back.workloads == history.workloads
    assert back.nodes == history.nodes and back.pod_nodes == history.pod_nodes


def test_missing_file(tmp_path):
    with pytest.raises(SnapshotError, match="does not exist"):
        load_snapshot(tmp_path / "nope.parquet")


def test_corrupt_file(tmp_path, history):
    path = tmp_path / "c.parquet"
    save_snapshot(history, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SnapshotError, match="not a readable Parquet file"):
        load_snapshot(path)
    path.write_text("namespace,pod\nshop,api\n")
    with pytest.raises(SnapshotError, match="not a readable Parquet file"):
        load_snapshot(path)


def test_foreign_parquet(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(SnapshotError, match="not a rightsizer snapshot"):
        load_snapshot(path)


def _rewrite_meta(path, change):
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"rightsizer.snapshot"])
    change(meta)
    pq.write_table(table.replace_schema_metadata({b"rightsizer.snapshot": json.dumps(meta).encode()}), path)


def test_newer_schema_is_refused(tmp_path, history):
    path = tmp_path / "c.parquet"
    save_snapshot(history, path)
    _rewrite_meta(path, lambda m: m.update(schema_version=SCHEMA_VERSION + 1))
    with pytest.raises(SnapshotError, match="upgrade rightsizer"):
        load_snapshot(path)


def test_inconsistent_metadata_is_refused(tmp_path, history):
    path = tmp_path / "c.parquet"
    save_snapshot(history, path)
    _rewrite_meta(path, lambda m: m["containers"][0].update(pods=[]))
    with pytest.raises(SnapshotError, match="inconsistent"):
        load_snapshot(path)


def test_a_failed_write_leaves_the_old_file(tmp_path, history, monkeypatch):
    path = tmp_path / "c.parquet"
    save_snapshot(history, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", boom)
    with pytest.raises(OSError, match="disk full"):
        save_snapshot(history, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.parquet"], "no temporary file is left behind"
