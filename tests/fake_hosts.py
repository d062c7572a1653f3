"""A local stand-in for the GitHub and GitLab REST endpoints rightsizer's PR flow calls.

It follows the documented shapes of those endpoints (only the fields the client libraries
read), keeps the pull/merge requests in memory, checks the token, and records every
request so tests can assert what was sent.  It binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "planted-secret-token-7c1f"


class FakeHost:
    def __init__(self) -> None:
        self.pulls: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str], str]] = []
        self.token = TOKEN
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- GitHub -----------------------------------------------------------------------------

    def _github_pr(self, n: int) -> dict[str, Any]:
        pr = self.pulls[n]
        return {"number": n, "id": 1000 + n, "state": pr["state"], "title": pr["title"], "body": pr["body"],
                "html_url": f"{self.url}/acme/gitops/pull/{n}", "url": f"{self.url}/repos/acme/gitops/pulls/{n}",
                "head": {"ref": pr["head"], "label": f"acme:{pr['head']}"}, "base": {"ref": pr["base"]},
                "merged_at": pr.get("merged_at")}

    def github(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
               ) -> tuple[int, Any]:
        if path == "/repos/acme/gitops" and method == "GET":
            return 200, {"id": 1, "name": "gitops", "full_name": "acme/gitops", "owner": {"login": "acme"},
                         "url": f"{self.url}/repos/acme/gitops", "html_url": f"{self.url}/acme/gitops"}
        if path == "/repos/acme/gitops/pulls" and method == "GET":
            head = query.get("head", [""])[0]
            state = query.get("state", ["open"])[0]
            found = [self._github_pr(n) for n, pr in sorted(self.pulls.items())
                     if (not head or f"acme:{pr['head']}" == head) and (state == "all" or pr["state"] == state)
                     and pr["base"] == query.get("base", [pr["base"]])[0]]
            return 200, found
        if path == "/repos/acme/gitops/pulls" and method == "POST":
            if any(p["head"] == body["head"] and p["state"] == "open" for p in self.pulls.values()):
                return 422, {"message": "Validation Failed: A pull request already exists"}
            n = len(self.pulls) + 1
            self.pulls[n] = {"state": "open", "title": body["title"], "body": body["body"], "head": body["head"],
                             "base": body["base"]}
            return 201, self._github_pr(n)
        if path.startswith("/repos/acme/gitops/pulls/"):
            n = int(path.rsplit("/", 1)[1])
            if n not in self.pulls:
                return 404, {"message": "Not Found"}
            if method == "PATCH":
                self.pulls[n].update({k: v for k, v in body.items() if k in ("title", "body", "state")})
            return 200, self._github_pr(n)
        return 404, {"message": "Not Found"}

    # --- GitLab -----------------------------------------------------------------------------

    def _mr(self, iid: int) -> dict[str, Any]:
        mr = self.pulls[iid]
        return {"id": 500 + iid, "iid": iid, "project_id": 7, "state": mr["state"], "title": mr["title"],
                "description": mr["body"], "source_branch": mr["head"], "target_branch": mr["base"],
                "web_url": f"{self.url}/acme/gitops/-/merge_requests/{iid}"}

    def gitlab(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        if path in ("/api/v4/projects/acme/gitops", "/api/v4/projects/7") and method == "GET":
            return 200, {"id": 7, "path_with_namespace": "acme/gitops", "default_branch": "main"}
        if path == "/api/v4/projects/7/merge_requests" and method == "GET":
            found = [self._mr(i) for i, mr in sorted(self.pulls.items())
                     if mr["head"] == query.get("source_branch", [mr["head"]])[0]
                     and mr["base"] == query.get("target_branch", [mr["base"]])[0]
                     and mr["state"] == query.get("state", [mr["state"]])[0]]
            return 200, found
        if path == "/api/v4/projects/7/merge_requests" and method == "POST":
            iid = len(self.pulls) + 1
            self.pulls[iid] = {"state": "opened", "title": body["title"], "body": body.get("description", ""),
                               "head": body["source_branch"], "base": body["target_branch"]}
            return 201, self._mr(iid)
        if path.startswith("/api/v4/projects/7/merge_requests/") and method == "PUT":
            iid = int(path.rsplit("/", 1)[1])
            if iid not in self.pulls:
                return 404, {"message": "404 Not found"}
            if "title" in body:
                self.pulls[iid]["title"] = body["title"]
            if "description" in body:
                self.pulls[iid]["body"] = body["description"]
            return 200, self._mr(iid)
        return 404, {"message": "404 Not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                host.requests.append((method, self.path, dict(self.headers), raw))
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = dict(parse_qs(raw))
                path = unquote(parts.path)
                if path.startswith("/api/v4"):
                    ok = self.headers.get("PRIVATE-TOKEN") == host.token
                    status, data = host.gitlab(method, path, parse_qs(parts.query), body) if ok else \
                        (401, {"message": "401 Unauthorized"})
                else:
                    ok = self.headers.get("Authorization") == f"token {host.token}" or \
                        self.headers.get("Authorization") == f"Bearer {host.token}"
                    status, data = host.github(method, path, parse_qs(parts.query), body) if ok else \
                        (401, {"message": "Bad credentials"})
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def log_message(self, *args: object) -> None:
                pass

        return Handler
