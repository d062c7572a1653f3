"""Misbehaving Prometheus servers on 127.0.0.1: one that never answers, one that answers a byte a second, one
that asks to be retried later.  Each records when requests came; each stops with its block."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Behaviour = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@contextmanager
def misbehaving(behaviour: Behaviour) -> Iterator[tuple[str, list[float]]]:
    """Yield (base URL, times of the requests received) while ``behaviour`` answers every request."""
    arrivals: list[float] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            arrivals.append(time.monotonic())
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                behaviour(self, stop)
            except OSError:
                pass  # the client gave up

        do_GET = do_POST = _any

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", arrivals
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def hang(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Read the request, then say nothing until the test ends."""
    stop.wait(600)


def drip(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """Headers at once, then the body a byte a second: a per-read timeout never trips."""
    body = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body) * 100))
    handler.end_headers()
    for i in range(600):
        if stop.wait(1.0):
            return
        handler.wfile.write(body[i % len(body) : i % len(body) + 1])
        handler.wfile.flush()


def busy(seconds: str) -> Behaviour:
    """503 with ``Retry-After: seconds``."""

    def answer(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        body = b'{"status":"error","errorType":"unavailable","error":"too busy"}'
        handler.send_response(503)
        handler.send_header("Retry-After", seconds)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer
