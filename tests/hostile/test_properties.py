"""Property tests: random and extreme values through every input a run reads.

Flags, the policy file, the price catalog, snapshot metadata, a reviewed report file and the
answers of a Prometheus (a fake one on 127.0.0.1 answering every query with drawn values and
shapes).  Whatever is drawn, a run ends in exit 0, or 1 with one line saying what was
wrong (2 for a usage error); never a traceback; it touches no file but the output it was
given; and no secret it was given appears in anything it prints or writes.

Runs are in-process (typer's runner) to keep the suite to about a minute; a RightsizerError
reaching the runner is what the console entry point prints as its one ``error:`` line.
"""

from __future__ import annotations

import json
import shutil
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_http import serve
from typer.testing import CliRunner

from rightsizer.api import DEMO_SNAPSHOT
from rightsizer.cli import app
from rightsizer.cost.catalog import bundled_catalog_path
from rightsizer.errors import RightsizerError
from rightsizer.sources.snapshot import _META_KEY, load_snapshot, save_snapshot

SECRET = "s3cr3t-pw-5f2a"


def examples(n: int) -> settings:
    """``n`` examples, the same ones each run (a full run of the demo takes a second or two)."""
    return settings(max_examples=n, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

#: numbers as a hostile file or store writes them
EXTREME_NUMBERS = st.sampled_from([0, -1, 1e308, -1e308, 1e-300, 2.5, 10**20, float("nan"), float("inf"),
                                   float("-inf"), 300, 0.0001])
EXTREME_TEXT = st.sampled_from(["NaN", "+Inf", "-Inf", "1e308", "-1", "0", "abc", "", "1e400", "0x10", "5",
                                "250m", "-500m", "1Gi", "lots", "\x00", "é", "9" * 40])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@contextmanager
def watched(directory: Path, outputs: tuple[Path, ...] = ()) -> Iterator[None]:
    """Fail when a file of ``directory`` other than ``outputs`` (files, or directories and all they hold)
    appears, changes or goes."""
    def state() -> dict[Path, tuple[int, int]]:
        return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in directory.rglob("*")
                if p.is_file() and p not in outputs and not any(o in p.parents for o in outputs)}

    before = state()
    yield
    assert state() == before, "only the named output may be written"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) as the console entry point would give them; anything else fails the test."""
    result = CliRunner(env=env).invoke(app, list(args), catch_exceptions=True)
    exc = result.exception
    if isinstance(exc, RightsizerError):
        return 1, result.stdout, f"error: {exc}\n"
    assert exc is None or isinstance(exc, SystemExit), f"{args}: {exc!r}"  # a traceback
    return result.exit_code, result.stdout, result.stderr


def check(code: int, out: str, err: str, *secrets: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in out + err
    if code == 1:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err
    for secret in secrets:
        assert secret not in out + err


# --- flags --------------------------------------------------------------------------------------------

FLAG_VALUES = st.one_of(EXTREME_TEXT, st.text(max_size=12), EXTREME_NUMBERS.map(str))


@examples(6)
@given(flag=st.sampled_from(["--window", "--step", "--end", "--workload", "--namespace", "--selector",
                             "--cluster", "--percentile", "--profile"]), value=FLAG_VALUES)
def test_any_flag_value_is_a_run_or_one_line(workdir, flag, value):
    with watched(workdir):
        check(*invoke("report", "--demo", "-o", "json", flag, value))


@examples(12)
@given(flag=st.sampled_from(["--timeout", "--retries", "--concurrency", "--batch-pods", "--header"]),
       value=FLAG_VALUES)
def test_any_connection_flag_is_refused_in_one_line_or_tried(workdir, flag, value):
    with watched(workdir):
        code, out, err = invoke("report", "--prometheus-url", f"http://u:{SECRET}@127.0.0.1:9", "--retries", "0",
                                "--timeout", "2", flag, value)
    check(code, out, err, SECRET)
    assert code != 0, "nothing listens there"


# --- policy file, price catalog -----------------------------------------------------------------------

POLICY_KEYS = st.sampled_from(["cpu.percentile", "cpu.margin", "cpu.granularity", "cpu.min_cores",
                               "cpu.limit_factor", "cpu.throttled_step", "memory.margin", "memory.min_bytes",
                               "memory.granularity", "memory.oom_bump", "memory.risk", "change_threshold",
                               "min_history_hours", "qos", "trend.horizon_days", "hpa.max_target"])


@examples(8)
@given(values=st.dictionaries(POLICY_KEYS, st.one_of(EXTREME_NUMBERS, EXTREME_TEXT), min_size=1, max_size=4))
def test_any_policy_value_is_applied_or_refused_by_its_path(workdir, values):
    policy: dict[str, Any] = {}
    for dotted, value in values.items():
        *parents, last = dotted.split(".")
        node = policy
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value
    config = workdir / "policy.yaml"
    config.write_text(json.dumps({"policy": policy}).replace("NaN", ".nan").replace("-Infinity", "-.inf")
                      .replace("Infinity", ".inf"))
    with watched(workdir):
        code, out, err = invoke("report", "--demo", "-o", "json", "--config", str(config))
    check(code, out, err)
    if code == 0:
        json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


@examples(5)
@given(cells=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 12), EXTREME_TEXT), min_size=1, max_size=4))
def test_any_catalog_cell_is_priced_or_named(workdir, cells):
    lines = bundled_catalog_path().read_text().splitlines()
    header_at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    for row, column, value in cells:
        fields = lines[header_at + 1 + row].split(",")
        fields[column % len(fields)] = value.replace(",", ";").replace("\n", " ")
        lines[header_at + 1 + row] = ",".join(fields)
    catalog = workdir / "catalog.csv"
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    with watched(workdir):
        check(*invoke("cost", "--demo", "-o", "json", "--catalog", str(catalog)))


# --- snapshot metadata --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_snapshot(workdir) -> Path:
    """Three containers of the demo, one with an HPA: a run takes a fraction of the demo's time."""
    history = load_snapshot(DEMO_SNAPSHOT)
    with_hpa = [k for k in history.containers if (w := history.workloads.get(k.workload_key)) and w.hpa]
    kept = (with_hpa[:1] + sorted(history.containers)[:2])
    history.containers = {k: history.containers[k] for k in kept}
    path = workdir / "small.parquet"
    save_snapshot(history, path)
    return path


META_CHANGES = st.sampled_from(["start", "step", "n_steps", "scrape_interval", "request", "limit", "hpa_target",
                                "hpa_min", "event_time", "missing"])


@examples(12)
@given(changes=st.dictionaries(META_CHANGES, st.one_of(EXTREME_NUMBERS, EXTREME_TEXT), min_size=1, max_size=3))
def test_any_snapshot_metadata_is_read_or_refused(workdir, small_snapshot, changes):
    table = pq.read_table(small_snapshot)
    meta = json.loads(table.schema.metadata[_META_KEY])
    for what, value in changes.items():
        container = meta["containers"][0]
        hpa = next((w["hpa"] for w in meta.get("workloads", []) if w.get("hpa")), None)
        if what in ("start", "step", "n_steps", "scrape_interval"):
            meta[what] = value
        elif what == "request":
            container["requests"]["cpu"] = value
        elif what == "limit":
            container["limits"]["memory"] = value
        elif what == "hpa_target" and hpa is not None:
            hpa["utilization_targets"] = {"cpu": value}
        elif what == "hpa_min" and hpa is not None:
            hpa["min_replicas"] = value
        elif what == "event_time":
            container["events"] = [[value, container["pods"][0], "OOMKilled"]]
        elif what == "missing":
            meta["missing"] = {"x": value}
    snapshot = workdir / "edited.parquet"
    output = workdir / "out.json"
    output.unlink(missing_ok=True)
    pq.write_table(table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()}), snapshot)
    with watched(workdir, (output, snapshot)):
        code, out, err = invoke("report", "--snapshot", str(snapshot), "-o", "json", "--output", str(output))
    check(code, out, err)
    if code == 0:
        doc = json.loads(output.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
        for rec in doc["recommendations"]:
            assert (rec["hpa"] or {}).get("target_utilization", 50) <= 100, rec["hpa"]
    else:
        assert not output.exists()


# --- a reviewed report file ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report(workdir) -> dict:
    code, out, _ = invoke("report", "--demo", "-o", "json", "-n", "shop")
    assert code == 0
    return json.loads(out)


@examples(8)
@given(edits=st.lists(st.tuples(st.integers(0, 10), st.sampled_from(["cpu_request", "cpu_limit", "memory_request",
                                                                        "memory_limit"]),
                                st.one_of(EXTREME_TEXT, EXTREME_NUMBERS)), min_size=1, max_size=4))
def test_any_hand_edit_of_a_report_is_applied_or_refused_by_name(workdir, report, edits):
    doc = json.loads(json.dumps(report))
    entries = [e for e in doc["recommendations"] if e["recommended"]]
    for index, field, value in edits:
        entries[index % len(entries)]["recommended"][field] = value
    edited = workdir / "edited.json"
    edited.write_text(json.dumps(doc))
    patches = workdir / "patches"
    shutil.rmtree(patches, ignore_errors=True)
    with watched(workdir, (edited, patches)):
        code, out, err = invoke("patch", "--recommendations", str(edited), "-o", str(patches))
    check(code, out, err)
    for patch in patches.glob("*") if patches.exists() else []:
        text = patch.read_text()
        for bad in ("-500m", "-1", "lots", "nan", "inf", "e+308"):
            assert f": {bad}\n" not in text.lower() and f": '{bad}'" not in text.lower(), (bad, text)
    shutil.rmtree(patches, ignore_errors=True)


# --- answers of a metrics store -----------------------------------------------------------------------

LABELS = {"namespace": "shop", "pod": "web-5d9c-x1", "container": "app", "owner_kind": "ReplicaSet",
          "owner_name": "web-5d9c", "replicaset": "web-5d9c", "image": "node:20", "node": "n1",
          "horizontalpodautoscaler": "web", "metric_name": "cpu", "metric_target_type": "utilization",
          "scaletargetref_kind": "Deployment", "scaletargetref_name": "web", "version": "v20.11.0",
          "reason": "OOMKilled"}
END = 1_790_000_000


class Store:
    """Answers any query with one pod of one Deployment, its values drawn per example."""

    def __init__(self) -> None:
        self.values: list[str] = ["1"]
        self.wrong_type = -1

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        query = form.get("query") or form.get("match[]", "")
        pick = self.values[zlib.crc32(query.encode()) % len(self.values)]
        if path.endswith("/series"):
            data: Any = [{**LABELS, "owner_kind": "Deployment", "owner_name": "web"}]
            return 200, json.dumps({"status": "success", "data": data}).encode()
        rows = [{**LABELS, "resource": resource} for resource in ("cpu", "memory")]
        if path.endswith("/query_range"):
            start, end, step = float(form["start"]), float(form["end"]), float(form["step"])
            times = [start + i * step for i in range(int((end - start) // step) + 1)]
            kind = "matrix" if zlib.crc32(query.encode()) % 7 != self.wrong_type else "vector"
            result = [{"metric": r, "values": [[t, pick] for t in times]} for r in rows]
        else:
            kind = "vector" if zlib.crc32(query.encode()) % 7 != self.wrong_type else "matrix"
            value = pick if "kube_pod_owner" not in query else "300"  # the pod exists
            result = [{"metric": r, "value": [END, value]} for r in rows]
        return 200, json.dumps({"status": "success", "data": {"resultType": kind, "result": result}}).encode()


@pytest.fixture(scope="module")
def store() -> Iterator[tuple[Store, str]]:
    fake = Store()
    with serve(fake.answer) as url:
        yield fake, url


@examples(12)
@given(values=st.lists(EXTREME_TEXT, min_size=1, max_size=6), wrong_type=st.integers(-1, 6))
def test_any_answer_of_a_store_is_a_report_or_one_line(workdir, store, values, wrong_type):
    fake, url = store
    fake.values, fake.wrong_type = values, wrong_type
    output = workdir / "store.json"
    output.unlink(missing_ok=True)
    with_secret = url.replace("http://", f"http://reader:{SECRET}@")
    env = {"RIGHTSIZER_PROMETHEUS_URL": with_secret}
    with watched(workdir, (output,)):
        code, out, err = invoke("report", "--window", "2h", "--step", "5m", "--end", str(END), "--retries", "0",
                                "--timeout", "5", "-o", "json", "--output", str(output), "--verbose", env=env)
    check(code, out, err, SECRET)
    if code == 0:
        text = output.read_text()
        assert SECRET not in text
        doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
        for rec in doc["recommendations"]:
            for value in (rec["recommended"] or {}).values():
                assert value is None or len(value) <= 12, rec["recommended"]  # no 300-digit quantity
    else:
        assert not output.exists()
    output.unlink(missing_ok=True)


def test_the_fake_store_is_read_as_a_cluster(store):
    """The store's plain answers make a recommendation: the properties above reach the engine."""
    fake, url = store
    fake.values, fake.wrong_type = ["0.25"], -1
    code, out, err = invoke("report", "--prometheus-url", url, "--window", "2h", "--step", "5m", "--end", str(END),
                            "-o", "json", "--retries", "0")
    assert code == 0, err
    assert [r["workload"] for r in json.loads(out)["recommendations"]] == ["web"]

