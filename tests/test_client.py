"""The HTTP client against a local server that answers as a scripted Prometheus would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from rightsizer.errors import PrometheusQueryError, PrometheusUnreachable
from rightsizer.sources.client import PrometheusClient, PrometheusSettings

OK = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {"namespace": "shop"}, "value": [1, "1"]}]}}).encode()


class Script:
    """Answers in order (the last one repeats) and records what was asked."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes, float]] = [(200, OK, 0.0)]
        self.requests: list[dict[str, object]] = []

    def next(self) -> tuple[int, bytes, float]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            script.requests.append({"path": urlsplit(self.path).path, "query_string": urlsplit(self.path).query,
                                    "form": parse_qs(body), "headers": dict(self.headers)})
            status, payload, delay = script.next()
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def client(url: str, **kwargs: object) -> PrometheusClient:
    options = {"retries": 2, "backoff": 0.01, "timeout": 2.0, **kwargs}
    return PrometheusClient(PrometheusSettings(url, **options))  # type: ignore[arg-type]


def test_queries_go_in_a_post_body_with_auth_and_headers(server):
    url, script = server
    c = client(url, bearer_token="tok-123", headers={"X-Scope-OrgID": "team-a"})
    long_query = 'up{pod=~"' + "|".join(f"pod-{i}" for i in range(3000)) + '"}'
    assert c.instant_rows(long_query, 1000.0, ("namespace",)) == [("shop", 1.0)]
    request = script.requests[0]
    assert request["path"] == "/api/v1/query"
    assert request["query_string"] == "", "nothing in the URL: a long pod regex cannot overflow it"
    assert request["form"]["query"] == [long_query]
    headers = request["headers"]
    assert headers["Authorization"] == "Bearer tok-123"
    assert headers["X-Scope-OrgID"] == "team-a"
    assert headers["Accept-Encoding"] == "identity"


def test_transient_errors_are_retried(server):
    url, script = server
    busy = json.dumps({"status": "error", "errorType": "unavailable", "error": "overloaded"}).encode()
    script.answers = [(503, busy, 0), (502, b"bad gateway", 0), (200, OK, 0)]
    c = client(url)
    assert len(c.instant_rows("up", 1.0, ())) == 1
    assert len(script.requests) == 3


def test_persistent_server_errors_end_in_a_clear_error(server):
    url, script = server
    script.answers = [(500, json.dumps({"status": "error", "errorType": "internal", "error": "boom"}).encode(), 0)]
    with pytest.raises(PrometheusQueryError, match=r"HTTP 500 \(internal: boom\)"):
        client(url).instant_rows("up", 1.0, ())
    assert len(script.requests) == 3, "one try and two retries"


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, PrometheusUnreachable, "RIGHTSIZER_PROMETHEUS_TOKEN"),
        (403, PrometheusUnreachable, "refused the request"),
        (404, PrometheusUnreachable, "path prefix"),
        (414, PrometheusQueryError, "too long"),
        (400, PrometheusQueryError, "bad_data: parse error"),
        (422, PrometheusQueryError, "bad_data: parse error"),
    ],
)
def test_client_errors_are_not_retried(server, status, error, message):
    url, script = server
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"}).encode()
    script.answers = [(status, body, 0)]
    with pytest.raises(error, match=message):
        client(url).instant_rows("up{", 1.0, ())
    assert len(script.requests) == 1


def test_truncated_json_is_retried_then_reported(server):
    url, script = server
    script.answers = [(200, OK[:25], 0)]
    with pytest.raises(PrometheusQueryError, match="malformed answer"):
        client(url).instant_rows("up", 1.0, ())
    assert len(script.requests) == 3


def test_a_slow_server_times_out(server):
    url, script = server
    script.answers = [(200, OK, 1.5)]
    with pytest.raises(PrometheusUnreachable, match="did not answer within 0.5s"):
        client(url, timeout=0.5, retries=1).instant_rows("up", 1.0, ())
