"""A fault-injecting HTTP proxy in front of the real test Prometheus (127.0.0.1 only).

Each request is numbered; rules decide, per request, to pass it through or to misbehave:
reset the connection, answer slowly, answer an HTTP error with Prometheus' error JSON,
truncate the body, or empty the result.  Requests and what was done are recorded.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

#: (request number, method, path, query text) -> an action, or None to pass the request through
Rule = Callable[[int, str, str, str], "str | None"]


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[int, str, str]] = field(default_factory=list)  # (number, query, action)
    #: refuse range queries of more points per series than this, as a store with lower limits does
    max_points: int | None = None
    #: (query, decoded answer) -> the answer to send instead: a broken exporter or store seen through real answers
    rewrite: Callable[[str, dict], dict] | None = None

    def __post_init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        up = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self, method: str, body: bytes) -> tuple[int, bytes] | None:
                try:
                    conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
                    headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
                    conn.request(method, self.path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    return response.status, response.read()
                except OSError:
                    return None  # the upstream is down: the client sees a dropped connection

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = " ".join(v for vs in parse_qs(body.decode() or urlsplit(self.path).query).get("query", [])
                                 for v in [vs])
                number = proxy._next()
                form = {k: v[0] for k, v in parse_qs(body.decode() or urlsplit(self.path).query).items()}
                if proxy.max_points and "step" in form and \
                        (float(form["end"]) - float(form["start"])) / float(form["step"]) + 1 > proxy.max_points:
                    proxy.log.append((number, query, "too many samples"))
                    self._reply(422, json.dumps({"status": "error", "errorType": "execution", "error": (
                        "query processing would load too many samples into memory in query execution")}).encode())
                    return
                action = next((a for rule in proxy.rules if (a := rule(number, method, self.path, query))), None)
                proxy.log.append((number, query, action or "pass"))
                if action == "reset":
                    self._drop()
                    return
                if action == "closing":  # what Prometheus answers while it shuts down
                    self._reply(422, json.dumps({"status": "error", "errorType": "execution", "error": (
                        "open querier for block 01M8C61G71R9AXFGYCMGE1TDSQ: open index reader: block is closing"
                    )}).encode())
                    return
                if action and action.startswith("slow:"):
                    time.sleep(float(action.split(":", 1)[1]))
                if action and action.startswith("status:"):
                    code = int(action.split(":", 1)[1])
                    kind = "execution" if code == 422 else "unavailable"
                    self._reply(code, json.dumps({"status": "error", "errorType": kind,
                                                  "error": f"injected {code}"}).encode())
                    return
                forwarded = self._forward(method, body)
                if forwarded is None:
                    self._drop()
                    return
                status, payload = forwarded
                if action == "truncate":
                    payload = payload[: max(1, len(payload) // 2)]
                elif action == "empty" and status == 200:
                    doc = json.loads(payload)
                    doc["data"]["result"] = []
                    payload = json.dumps(doc).encode()
                if proxy.rewrite is not None and status == 200:
                    payload = json.dumps(proxy.rewrite(query, json.loads(payload))).encode()
                self._reply(status, payload)

            def _drop(self) -> None:
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.close_connection = True

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def first(n: int, action: str, matching: str = "") -> Rule:
    """The first ``n`` requests whose query contains ``matching`` get ``action``."""
    seen = {"count": 0}
    lock = threading.Lock()

    def rule(number: int, method: str, path: str, query: str) -> str | None:
        if matching not in query:
            return None
        with lock:
            seen["count"] += 1
            return action if seen["count"] <= n else None

    return rule


def for_namespace(action: str, namespace: str) -> Rule:
    """Every request whose matchers select ``namespace``, alone or in a batch of several."""
    alone = f'namespace="{namespace}"'
    among = re.compile(rf'namespace=~"(?:[^"]*\|)?{re.escape(namespace)}(?:\|[^"]*)?"')

    def rule(number: int, method: str, path: str, query: str) -> str | None:
        return action if alone in query or among.search(query) else None

    return rule


def always(action: str, matching: str = "") -> Rule:
    def rule(number: int, method: str, path: str, query: str) -> str | None:
        return action if matching in query else None

    return rule
