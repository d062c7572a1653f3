"""A cluster read in parts is gathered whole before any part is recommended, one part held at a time."""

from __future__ import annotations

import errno
import pickle
from collections.abc import Iterator

import numpy as np
import pytest

from rightsizer.config import PolicySet
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, Samples
from rightsizer.recommend import find, gather, recommend, recommend_parts
from rightsizer.recommend.engine import Context, begin_container, recommend_container
from rightsizer.recommend.margins import ClusterSeries
from rightsizer.units import DAY, MiB

START = 1_790_000_000 - 20 * DAY
STEP = 3600.0


def cluster(n: int = 30) -> ClusterHistory:
    """``n`` containers, 20 days of hourly working-set peaks, each its own workload."""
    rng = np.random.default_rng(8)
    hours = 20 * 24
    containers = {}
    for i in range(n):
        key = ContainerKey(f"ns-{i % 6}", "Deployment", f"svc-{i}", "app")
        memory = rng.uniform(100, 1000) * MiB * (1 + 0.2 * rng.random(hours))
        samples = Samples.from_rows(np.zeros(hours), np.arange(hours), {"cpu": np.full(hours, 0.1), "memory": memory})
        containers[key] = ContainerHistory(key, [f"svc-{i}-0"], samples)
    return ClusterHistory(START, STEP, hours, containers)


def parts_of(history: ClusterHistory) -> list[ClusterHistory]:
    namespaces = sorted({k.namespace for k in history.containers})
    return [history.filter(k for k in history.containers if k.namespace == ns) for ns in namespaces]


def test_parts_come_back_whole_after_the_cluster_is_gathered():
    history = cluster()
    parts = parts_of(history)
    gathered = ClusterSeries()
    seen = []
    for part in gather.gathered(iter(parts), gathered):
        assert len(gathered.series) == len(history), "every part was read before the first came back"
        seen.append(part)
    assert [sorted(p.containers) for p in seen] == [sorted(p.containers) for p in parts]
    for got, sent in zip(seen, parts, strict=True):
        for key, ch in sent.containers.items():
            assert np.array_equal(got.containers[key].samples["memory"], ch.samples["memory"])


def test_recommendations_from_parts_equal_those_from_the_whole():
    history = cluster()
    whole = [r.to_dict() for r in recommend(history)]
    assert all(any("memory margin learned from" in x for x in r["reasons"]) for r in whole)
    assert [r.to_dict() for r in recommend_parts(iter(parts_of(history)))] == whole


def test_a_full_disk_is_one_clear_error(monkeypatch):
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pickle, "dump", full)
    with pytest.raises(RightsizerError, match="No space left on device.*TMPDIR"):
        recommend_parts(iter(parts_of(cluster())))


def test_the_work_begun_as_each_part_is_read_gives_the_recommendation_made_in_one_go(monkeypatch):
    history = cluster()
    parts = parts_of(history)
    run = find("rightsizer")
    begun_when: list[int] = []  # parts read when each container was begun
    read = 0

    def spy(ch: ContainerHistory, ctx: Context) -> object:
        begun_when.append(read)
        return begin_container(ch, ctx)

    def reading() -> Iterator[ClusterHistory]:
        nonlocal read
        for part in parts:
            read += 1
            yield part

    monkeypatch.setattr(run, "begin", spy)
    made = {r.key: r.to_dict() for r in recommend_parts(reading())}
    assert begun_when == [i + 1 for i, part in enumerate(parts) for _ in part], "each part begun as it is read"
    whole = ClusterSeries()
    for part in parts:
        whole.add(part)
    policies = PolicySet()
    for key, ch in history.containers.items():  # the rule in one go: nothing begun early
        ctx = Context(history, policies.for_workload(key.workload_key), None, whole)
        assert recommend_container(ch, ctx).to_dict() == made[key]
