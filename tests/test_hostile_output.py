"""What reaches an output is safe: no credentials, files written where the path points, strictly valid JSON."""

from __future__ import annotations

import base64
import json
import math
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_http import serve

from rightsizer.api import load_history
from rightsizer.errors import RightsizerError
from rightsizer.fileio import write_output
from rightsizer.recommend import recommend
from rightsizer.report import render
from rightsizer.secrets import redact_urls
from rightsizer.sources.client import PrometheusClient, PrometheusSettings

SECRET = "s3cr%40t-planted"  # percent-encoded '@' in the URL: the password is s3cr@t-planted


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rightsizer", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def answering_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()

    def answer(path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        seen.append({"path": path, **headers})
        return 200, body

    with serve(answer) as base:
        yield base.removeprefix("http://"), seen


def test_user_info_in_the_url_is_sent_as_basic_auth_and_kept_out_of_the_settings(answering_server):
    host, seen = answering_server
    settings = PrometheusSettings(f"http://ops:{SECRET}@{host}/prom")
    assert settings.url == f"http://{host}/prom"
    assert (settings.username, settings.password) == ("ops", "s3cr@t-planted")
    assert "planted" not in repr(settings)
    PrometheusClient(settings).instant_rows("up", 1.0, ())
    assert seen[0]["Authorization"] == "Basic " + base64.b64encode(b"ops:s3cr@t-planted").decode()
    assert "planted" not in seen[0]["path"]
    with pytest.raises(RightsizerError, match="credentials given twice"):
        PrometheusSettings(f"http://ops:{SECRET}@{host}", bearer_token="t")


def test_a_source_holding_credentials_is_rendered_without_them():
    history = load_history(demo=True)
    recs = recommend(history)
    recs.source = f"prometheus https://ops:{SECRET}@prometheus.example:9090/api"  # a snapshot of an older version
    for fmt in ("json", "yaml", "markdown", "html"):
        text = render(recs, fmt, history=history, plots=0)
        assert "planted" not in text and "ops:" not in text, fmt
        assert "https://prometheus.example:9090/api" in text, fmt
    assert redact_urls("a http://u@h/x and https://u:p@h2:1/y?q=a@b") == "a http://h/x and https://h2:1/y?q=a@b"


@pytest.mark.prometheus
def test_credentials_in_the_prometheus_url_appear_in_no_output(prometheus, tmp_path):
    url = prometheus.url.replace("http://", f"http://ops:{SECRET}@")
    window = ["--window", "1d", "--end", str(int(prometheus.end)), "-n", "shop", "-q", "--prometheus-url", url]
    outputs = []
    for fmt in ("json", "yaml", "markdown", "html", "table"):
        result = run("report", *window, "-o", fmt)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    snap = tmp_path / "cluster.parquet"
    recorded = run("snapshot", *window, "-o", str(snap), "--verbose")
    assert recorded.returncode == 0, recorded.stderr
    outputs += [recorded.stdout + recorded.stderr, snap.read_bytes().decode("latin-1")]
    for text in outputs:
        assert "planted" not in text and "s3cr" not in text
    assert json.loads(outputs[0].split("\n}\n")[0] + "\n}")["source"] == f"prometheus {prometheus.url}"


def test_output_through_a_symlink_writes_the_file_it_names(tmp_path):
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    write_output(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
    dangling = tmp_path / "next.json"
    dangling.symlink_to(tmp_path / "reports" / "next.json")
    write_output(dangling, "first\n")
    assert dangling.is_symlink() and (tmp_path / "reports" / "next.json").read_text() == "first\n"


def test_output_to_a_pipe_is_written_through_and_a_socket_is_refused(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_output(fifo, "through the pipe\n")
    reader.join(10)
    assert received == ["through the pipe\n"] and fifo.is_fifo()
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(RightsizerError, match="not a regular file"):
            write_output(sock_path, "x")
        assert sock_path.is_socket()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "sock"], "no temporary file left"


def test_output_to_dev_stdout_reaches_standard_output_and_a_device_is_refused(tmp_path):
    result = run("report", "--demo", "-q", "-n", "shop", "-o", "json", "--output", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    assert strict_json(result.stdout)["summary"]["containers"] == 5
    assert Path("/dev/stdout").is_symlink(), "the link is still a link"
    refused = run("report", "--demo", "-q", "-n", "shop", "-o", "json", "--output", "/dev/zero")
    assert refused.returncode == 1 and "not a regular file" in refused.stderr and "Traceback" not in refused.stderr
    assert Path("/dev/zero").is_char_device()


def test_non_finite_numbers_are_json_null():
    history = load_history(demo=True)
    recs = recommend(history)
    first = next(iter(recs))
    first.cost = (math.inf, math.nan)
    first.confidence = math.nan
    doc = strict_json(render(recs, "json"))
    rec = doc["recommendations"][0]
    assert rec["confidence"] is None and rec["cost"]["current_monthly"] is None
    assert rec["cost"]["recommended_monthly"] is None
    assert strict_json(render(recs, "json")) == doc
