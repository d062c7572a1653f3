"""Code hosts on 127.0.0.1 that git and the API clients talk to over plain HTTP, for the token tests.

* :class:`GitHttpHost` serves bare repositories with git's own smart-HTTP CGI (``git
  http-backend``), behind basic auth that accepts only the planted token;
* :class:`RedirectHost` answers every request with a redirect to another base URL;
* :class:`Trap` asks for credentials (401, ``WWW-Authenticate: Basic``) and records what
  every request carried, so a test can assert the token never reached it.

All of them record each request's method, path and headers.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

Request = tuple[str, str, dict[str, str]]


class _Server:
    """A threaded server on 127.0.0.1 whose handler calls :meth:`answer` for every method."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append((self.command, self.path, dict(self.headers)))
                status, headers, payload = server.answer(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, list[tuple[str, str]], bytes]:
        raise NotImplementedError

    def authorizations(self) -> list[str]:
        """Every credential-bearing header any request carried."""
        return [value for _, _, headers in self.requests for name, value in headers.items()
                if name.lower() in ("authorization", "private-token")]

    def __enter__(self) -> Self:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Trap(_Server):
    """Asks every request for basic credentials, and keeps what came."""

    def answer(self, method, path, headers, body):
        return 401, [("WWW-Authenticate", 'Basic realm="trap"'), ("Content-Type", "application/json")], \
            b'{"message": "401 Unauthorized"}'


class RedirectHost(_Server):
    """Redirects every request to the same path on ``target``."""

    def __init__(self, target: str, status: int = 302) -> None:
        super().__init__()
        self.target, self.status = target, status

    def answer(self, method, path, headers, body):
        return self.status, [("Location", self.target + path)], b""


class GitHttpHost(_Server):
    """Bare repositories under ``root`` served by ``git http-backend``, for basic auth with ``token`` only."""

    def __init__(self, root: Path, token: str) -> None:
        super().__init__()
        self.root, self.token = root, token

    def answer(self, method, path, headers, body):
        given = headers.get("Authorization", "")
        user, _, password = base64.b64decode(given[6:]).decode().partition(":") if given.startswith("Basic ") \
            else ("", "", "")
        if password != self.token:
            return 401, [("WWW-Authenticate", 'Basic realm="git"')], b""
        route, _, query = path.partition("?")
        env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": route, "QUERY_STRING": query, "REQUEST_METHOD": method, "REMOTE_USER": user,
               "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "HTTP_CONTENT_ENCODING": headers.get("Content-Encoding", ""),
               "GIT_PROTOCOL": headers.get("Git-Protocol", "")}
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, sent = 200, []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                sent.append((name, value))
        return status, sent, payload
