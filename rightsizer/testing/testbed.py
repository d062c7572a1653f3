"""A real Prometheus on 127.0.0.1, filled from the synthetic cluster: for tests, benchmarks and trying the tool.

The data goes through the same path a real cluster's does (OpenMetrics text, promtool's
backfill, Prometheus' own query engine), so a test against it checks the PromQL, not a
stand-in.  A backfilled TSDB is cached by generator version and cluster spec, because
writing and backfilling 14 days of a large cluster takes minutes.

A large cluster is backfilled 18 hours at a time, ``workers`` slices in parallel: each
slice's text is written, turned into one block by promtool and deleted, so the disk
holds a few slices of text, never the whole history (about 19 GB a slice for 2,000
containers).  18-hour blocks are what a Prometheus with the default 15-day retention
keeps (its largest block is a tenth of the retention, and block ranges grow 2h, 6h,
18h), and promtool cuts blocks on those same epoch-aligned boundaries, so each slice is
exactly one block.  The server is started with ``--storage.tsdb.max-block-duration=1d``
so it does not start compacting them in the middle of a measurement.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from rightsizer.errors import RightsizerError
from rightsizer.testing.synthetic import GENERATOR_VERSION, SyntheticCluster
from rightsizer.testing.synthetic.spec import ClusterSpec

#: Above this many scrapes x containers the backfill goes slice by slice (about 10 M samples of text).
SLICED_ABOVE = 200_000
#: promtool's (and Prometheus') block ranges are 2h x 3^n, aligned to the epoch: 18h is the one under a day.
SLICE_SECONDS = 18 * 3600


class TestbedError(RightsizerError):
    """Prometheus or promtool is missing, or would not start."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("RIGHTSIZER_CACHE_DIR", Path.home() / ".cache" / "rightsizer")) / "tsdb"


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise TestbedError(f"{binary} not found: install Debian's prometheus package (apt-get install prometheus)")
    return path


def cache_key(cluster: SyntheticCluster, exclude: frozenset[str] = frozenset(),
              external: tuple[str, str] | None = None) -> str:
    key = (GENERATOR_VERSION, cluster.spec, sorted(exclude)) + ((external,) if external else ())
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


def build_tsdb(cluster: SyntheticCluster, cache_dir: Path | None = None, exclude: frozenset[str] = frozenset(),
               workers: int = 1, external: tuple[str, str] | None = None,
               extends: SyntheticCluster | None = None) -> Path:
    """Backfill the cluster into a TSDB directory (reused when already built) and return it.

    ``exclude`` leaves metric families out, to play a cluster that lacks an exporter;
    ``workers`` backfills that many slices at once when the cluster is large;
    ``external`` (name, value) labels every series, to put several clusters in one store;
    ``extends`` is a smaller cluster whose workloads begin this one's (the same seed asked
    for fewer containers): its TSDB is reused, only the other workloads are backfilled,
    and Prometheus merges the two sets of blocks once, here, not during a measurement.
    """
    promtool = _require("promtool")
    cache_dir = cache_dir or default_cache_dir()
    target = cache_dir / cache_key(cluster, exclude, external)
    if (target / "complete").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers build it once
        if (target / "complete").exists():
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmp:
            blocks = Path(tmp) / "tsdb"
            blocks.mkdir()
            if extends is not None:
                _backfill_rest(promtool, cluster, extends, cache_dir, exclude, blocks, workers, external)
            elif cluster.spec.n_scrapes * cluster.spec.n_containers > SLICED_ABOVE:
                _backfill_slices(promtool, cluster.spec, exclude, blocks, workers, external)
            else:
                # One block for the whole span: with 2 h blocks promtool re-reads the file for each block.
                _backfill_slice(promtool, cluster.spec, exclude, None, blocks, "10000h", external)
            (blocks / "complete").write_text(repr(cluster.spec)[:200])
            shutil.rmtree(target, ignore_errors=True)
            blocks.rename(target)
    return target


def builds_on(cluster: SyntheticCluster, smaller: SyntheticCluster) -> bool:
    """True when ``smaller`` is ``cluster`` with only its first workloads (the same seed asked for fewer
    containers, whose last workload was not cut short): ``cluster`` can be built on its blocks."""
    n = len(smaller.spec.workloads)
    return dataclasses.replace(cluster.spec, workloads=cluster.spec.workloads[:n]) == smaller.spec


def _backfill_rest(promtool: str, cluster: SyntheticCluster, smaller: SyntheticCluster, cache_dir: Path,
                   exclude: frozenset[str], blocks: Path, workers: int, external: tuple[str, str] | None) -> None:
    if not builds_on(cluster, smaller):
        raise TestbedError("the smaller cluster's workloads do not begin this one's: build it on its own")
    n = len(smaller.spec.workloads)
    base = build_tsdb(smaller, cache_dir, exclude, workers, external)
    _backfill_slices(promtool, cluster.spec, exclude, blocks, workers, external, first_workload=n)
    for block in base.iterdir():
        if block.is_dir():
            shutil.copytree(block, blocks / block.name)
    _compact(blocks)


def _compact(data: Path, timeout: float = 3600.0) -> None:
    """Let Prometheus merge overlapping blocks (vertical compaction) until none overlap, then stop it."""

    def overlapping() -> bool:
        """True while blocks overlap, or while Prometheus is writing or deleting one (``<ulid>.tmp-for-...``
        directories, whose meta.json can vanish between seeing it and reading it)."""
        blocks = [b for b in data.iterdir() if (b / "meta.json").exists()]
        if any("." in b.name for b in blocks):
            return True
        try:
            spans = sorted(tuple(json.loads((b / "meta.json").read_text())[k] for k in ("minTime", "maxTime"))
                           for b in blocks)
        except FileNotFoundError:
            return True
        return any(nxt[0] < prev[1] for prev, nxt in itertools.pairwise(spans))

    server = PrometheusServer(data)
    server.start(in_place=True)
    try:
        deadline = time.monotonic() + timeout
        while overlapping():
            if time.monotonic() > deadline:
                raise TestbedError(f"Prometheus did not merge the blocks in {data} within {timeout:.0f}s")
            time.sleep(2)
    finally:
        server.stop()
    for leftover in ("wal", "chunks_head", "lock", "queries.active"):
        path = data / leftover
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _backfill_slices(promtool: str, spec: ClusterSpec, exclude: frozenset[str], blocks: Path, workers: int,
                     external: tuple[str, str] | None, first_workload: int = 0) -> None:
    slices = SyntheticCluster(spec).time_slices(SLICE_SECONDS)
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(_backfill_slice, promtool, spec, exclude, s, blocks, "18h", external, first_workload)
                   for s in slices]
        for future in futures:
            future.result()


def _backfill_slice(promtool: str, spec: ClusterSpec, exclude: frozenset[str], scrapes: tuple[int, int] | None,
                    blocks: Path, block_duration: str, external: tuple[str, str] | None = None,
                    first_workload: int = 0) -> None:
    """Write one slice's OpenMetrics text next to ``blocks``, backfill it into ``blocks``, delete the text."""
    text = blocks.parent / f"slice-{first_workload}-{scrapes[0] if scrapes else 0}.om"
    try:
        SyntheticCluster(spec).write_openmetrics(text, exclude, scrapes, external, first_workload)
        result = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", "-q",
             f"--max-block-duration={block_duration}", str(text), str(blocks)],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise TestbedError(f"promtool backfill failed: {result.stderr.strip() or result.stdout.strip()}")
    finally:
        text.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrometheusServer:
    """``prometheus`` serving a copy of a TSDB on a free 127.0.0.1 port; use as a context manager."""

    tsdb: Path
    port: int = field(default_factory=free_port)
    retention: str = "3650d"  # retention runs from the newest block at start-up: keep old test data
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, reuse: bool = False, in_place: bool = False) -> Self:
        """Start on ``port``; ``reuse`` restarts on the data of a previous :meth:`stop` (keep_data=True);
        ``in_place`` serves ``tsdb`` itself rather than a copy (to compact it)."""
        binary = _require("prometheus")
        if not (reuse and self.workdir is not None):
            self.workdir = Path(tempfile.mkdtemp(prefix="rightsizer-prometheus-"))
            if not in_place:
                shutil.copytree(self.tsdb, self.workdir / "data", ignore=shutil.ignore_patterns("complete"))
        data = self.tsdb if in_place else self.workdir / "data"
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\n")
        log = open(self.workdir / "prometheus.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
             f"--storage.tsdb.retention.time={self.retention}", "--storage.tsdb.max-block-duration=1d",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(self.process, f"{self.url}/-/ready", timeout, self.workdir / "prometheus.log")
        except TestbedError:
            self.stop()
            raise
        return self

    def stop(self, keep_data: bool = False) -> None:
        """Stop the server; ``keep_data`` keeps its data directory for a restart."""
        _terminate(self.process)
        self.process = None
        if self.workdir is not None and not keep_data:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class VictoriaMetricsServer:
    """Debian's ``victoria-metrics`` on a free 127.0.0.1 port, filled through its Prometheus import API.

    The same OpenMetrics text promtool backfills goes in, so the same tests can run against
    another Prometheus-compatible query engine (MetricsQL).
    """

    cluster: SyntheticCluster
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Self:
        binary = _require_vm()
        self.workdir = Path(tempfile.mkdtemp(prefix="rightsizer-vm-"))
        log = open(self.workdir / "vm.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [binary, f"-storageDataPath={self.workdir / 'data'}", f"-httpListenAddr=127.0.0.1:{self.port}",
             "-retentionPeriod=100y", "-search.disableCache", "-search.latencyOffset=0s"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        _wait_ready(self.process, f"{self.url}/health", timeout, self.workdir / "vm.log")
        text = self.workdir / "cluster.om"
        self.cluster.write_openmetrics(text)
        with open(text, "rb") as body:
            request = urllib.request.Request(f"{self.url}/api/v1/import/prometheus", data=body, method="POST")
            request.add_header("Content-Length", str(text.stat().st_size))
            with urllib.request.urlopen(request, timeout=600) as response:
                if response.status not in (200, 204):
                    raise TestbedError(f"victoria-metrics import answered HTTP {response.status}")
        text.unlink()
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=60):
            pass
        return self

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _require_vm() -> str:
    path = shutil.which("victoria-metrics")
    if path is None:
        raise TestbedError("victoria-metrics not found: install Debian's victoria-metrics package")
    return path


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    """TERM, a grace period, then KILL."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TestbedError(f"the server exited with code {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TestbedError(f"not ready at {url} after {timeout:.0f}s")
