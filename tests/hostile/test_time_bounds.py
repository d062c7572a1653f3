"""Time bounds against misbehaving servers on 127.0.0.1: --timeout holds for the whole answer, Ctrl-C stops a run
at once, Retry-After is honoured within bounds.  Times are asserted with wide margins: they bound a hang of
minutes, they do not measure speed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hostile.servers import busy, drip, hang, misbehaving
from rightsizer.errors import PrometheusQueryError, PrometheusUnreachable
from rightsizer.sources.client import MAX_RETRY_AFTER, PrometheusClient, PrometheusSettings

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "rightsizer", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_server_sending_a_byte_a_second_fails_at_the_timeout():
    with misbehaving(drip) as (url, arrivals):
        client = PrometheusClient(PrometheusSettings(url, timeout=2, retries=0))
        began = time.monotonic()
        with pytest.raises(PrometheusUnreachable, match="did not answer within 2s"):
            client.instant_rows("up", time.time(), ())
        took = time.monotonic() - began
    assert len(arrivals) == 1
    assert took < 6, f"{took:.1f}s for a 2s timeout"  # a per-read timeout would read for 100 s


def test_the_cli_against_a_dripping_server_stops_at_the_timeout_with_one_line(tmp_path):
    with misbehaving(drip) as (url, _):
        began = time.monotonic()
        run = cli("report", "--prometheus-url", url, "--timeout", "3", "--retries", "0", "-q", "--output",
                  str(tmp_path / "r.json"), cwd=tmp_path)
        _, err = run.communicate(timeout=120)
        took = time.monotonic() - began
    assert run.returncode == 1 and "did not answer within 3s" in err and "Traceback" not in err, err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert took < 30, f"{took:.1f}s"  # start-up, and the queries in flight together each end at 3 s
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("command", [["report", "-o", "json"], ["snapshot"]])
def test_ctrl_c_against_a_hanging_server_exits_at_once_and_writes_nothing(tmp_path, command):
    out = tmp_path / "out.file"
    with misbehaving(hang) as (url, arrivals):
        run = cli(*command, "--prometheus-url", url, "--output", str(out), "-q", cwd=tmp_path)
        deadline = time.monotonic() + 60
        while not arrivals and time.monotonic() < deadline:  # the run is waiting on the server
            time.sleep(0.1)
        assert arrivals, "the run reached the server"
        time.sleep(0.5)
        sent = time.monotonic()
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
        took = time.monotonic() - sent
    assert run.returncode == 130, (run.returncode, err)
    assert took < 3, f"{took:.1f}s to stop"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted"), err
    assert list(tmp_path.iterdir()) == [], "nothing written, no temporary file left"


def test_retry_after_is_honoured_and_capped():
    with misbehaving(busy("1")) as (url, arrivals):
        client = PrometheusClient(PrometheusSettings(url, timeout=5, retries=1, backoff=0.0))
        with pytest.raises(PrometheusQueryError, match="HTTP 503"):
            client.instant_rows("up", time.time(), ())
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.9, "waited the second it was asked to"
    with misbehaving(busy("86400")) as (url, arrivals):
        client = PrometheusClient(PrometheusSettings(url, timeout=1, retries=1, backoff=0.0))
        began = time.monotonic()
        with pytest.raises(PrometheusQueryError, match="HTTP 503"):
            client.instant_rows("up", time.time(), ())
    assert len(arrivals) == 2 and time.monotonic() - began < min(MAX_RETRY_AFTER, 10), \
        "a day's Retry-After is capped at the timeout"


@pytest.mark.parametrize("value", ["Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-5", "nan", "1e400"])
def test_a_retry_after_that_is_past_or_not_a_time_is_not_waited_for(value):
    with misbehaving(busy(value)) as (url, arrivals):
        client = PrometheusClient(PrometheusSettings(url, timeout=5, retries=1, backoff=0.0))
        began = time.monotonic()
        with pytest.raises(PrometheusQueryError):
            client.instant_rows("up", time.time(), ())
    assert len(arrivals) == 2 and time.monotonic() - began < 4


def test_the_session_reads_within_the_timeout_for_other_callers_too():
    """The notebook's prometheus-api-client queries go through the same session."""
    with misbehaving(drip) as (url, _):
        client = PrometheusClient(PrometheusSettings(url, timeout=2, retries=0))
        began = time.monotonic()
        with pytest.raises(requests.exceptions.Timeout):
            client.session.get(f"{url}/api/v1/query", params={"query": "up"}, timeout=2)
    assert time.monotonic() - began < 6
