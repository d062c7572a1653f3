"""A GitOps repository as a hostile commit leaves it: rightsizer reads and writes only inside it, never blocks.

Each repository is a real git checkout built in a temporary directory; kustomizations are
rendered with the real ``kubectl kustomize``; remote resources are served (or not answered)
by a server on 127.0.0.1.  Each case was, before, a file written outside the checkout, a
hang, a runaway copy, a traceback or a half-written patch.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fake_hosts import TOKEN, FakeHost

from rightsizer.api import load_history
from rightsizer.errors import RightsizerError
from rightsizer.history import ContainerKey
from rightsizer.patch import PatchError, PlannedChange, build_patch, write_patch
from rightsizer.patch.locate import Locator
from rightsizer.patch.manifests import ContainerChange
from rightsizer.patch.repotree import copy_into
from rightsizer.recommend import recommend
from rightsizer.report.documents import recommendations_document
from rightsizer.yamlsafety import safe_documents

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
{namespace}spec:
  template:
    spec:
      containers:
        - name: app
          image: example/{name}:1.0
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
"""

NEW = ContainerChange({"cpu": "250m", "memory": "300Mi"})


def deployment(name: str, namespace: str | None = "shop") -> str:
    return DEPLOYMENT.format(name=name, namespace=f"  namespace: {namespace}\n" if namespace else "")


def key(name: str, namespace: str = "shop") -> ContainerKey:
    return ContainerKey(namespace, "Deployment", name, "app")


def change(name: str) -> PlannedChange:
    return PlannedChange(key(name), False, NEW)


def git_repo(path: Path, files: dict[str, str | bytes], links: dict[str, str] | None = None) -> Path:
    """A committed checkout holding ``files`` and symbolic ``links`` (path -> what it points to)."""
    for name, body in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            (path / name).write_bytes(body)
        else:
            (path / name).write_text(body)
    for name, target in (links or {}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path / name)
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "manifests"], check=True)
    return path


def snapshot(repo: Path) -> dict[str, bytes | str]:
    """Every entry of the checkout but .git: a file's bytes, a link's target."""
    out: dict[str, bytes | str] = {}
    for path in sorted(repo.rglob("*")):
        rel = str(path.relative_to(repo))
        if rel.startswith(".git"):
            continue
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def recommendations_for(tmp_path: Path, names: list[str]) -> Path:
    """A reviewed report (``report -o json``) recommending NEW for the app container of each Deployment."""
    doc = recommendations_document(recommend(load_history(demo=True)))
    entry = next(e for e in doc["recommendations"] if e["changed"] and e["recommended"])
    doc["recommendations"] = [
        {**entry, "cluster": None, "namespace": "shop", "kind": "Deployment", "workload": name, "container": "app",
         "current": {"cpu_request": "100m", "cpu_limit": None, "memory_request": "128Mi", "memory_limit": None},
         "recommended": {"cpu_request": "250m", "cpu_limit": None, "memory_request": "300Mi", "memory_limit": None},
         "nodejs": None, "hpa": None, "init_container": False}
        for name in names]
    file = tmp_path / "recs.json"
    file.write_text(json.dumps(doc))
    return file


def patch_cli(repo: Path, recs: Path, *args: str, limit_file_bytes: int | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``rightsizer patch`` in a child process (with an RLIMIT_FSIZE when asked, like ``ulimit -f``)."""
    def limit() -> None:
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run([sys.executable, "-m", "rightsizer", "patch", "--recommendations", str(recs), "--repo",
                           str(repo), *args], capture_output=True, text=True, timeout=timeout, check=False,
                          preexec_fn=limit)


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


# --- 3. mapping entries naming a file outside the repository -----------------------------------------------

@pytest.mark.parametrize("where", ["parent", "absolute", "link"])
def test_a_mapping_entry_outside_the_repository_is_set_aside_and_the_run_goes_on(tmp_path, where):
    outside = tmp_path / "outside" / "values.yaml"
    outside.parent.mkdir()
    outside.write_text("app:\n  resources:\n    requests:\n      cpu: 100m\n")
    before = outside.read_bytes()
    repo = git_repo(tmp_path / "gitops", {"apps/web.yaml": deployment("web")},
                    {"apps/values.yaml": str(outside)})
    named = {"parent": "../outside/values.yaml", "absolute": str(outside), "link": "apps/values.yaml"}[where]
    mapping = tmp_path / "map.yaml"
    mapping.write_text(f"- workload: shop/api\n  container: app\n  file: {named}\n  path: app\n")
    result = patch_cli(repo, recommendations_for(tmp_path, ["api", "web"]), "--mapping", str(mapping))
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert outside.read_bytes() == before, "nothing outside the checkout is edited"
    lines = [line for line in result.stderr.splitlines() if "entry 1 set aside" in line]
    assert len(lines) == 1 and named in lines[0] and "name a file inside the repository" in lines[0], result.stderr
    assert "shop/Deployment/api/app: not edited" in result.stderr
    assert "cpu: 250m" in (repo / "apps/web.yaml").read_text(), "the rest of the run goes on"


# --- 4. symbolic links, devices, the check's copy, signals ----------------------------------------------------

KUSTOMIZE_REPO = {
    "base/kustomization.yaml": "resources:\n  - web.yaml\n",
    "base/web.yaml": deployment("web", None),
    "overlays/prod/kustomization.yaml": "namespace: shop\nresources:\n  - ../../base\n",
}


def test_a_link_to_a_device_or_out_of_the_repository_is_never_read_copied_or_replaced(tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(deployment("secret-app"))
    before_outside = outside.read_bytes()
    repo = git_repo(tmp_path / "gitops", {**KUSTOMIZE_REPO, "apps/api.yaml": deployment("api")},
                    {"base/zero.yaml": "/dev/zero", "apps/secret-app.yaml": str(outside)})
    recs = recommendations_for(tmp_path, ["web", "api", "secret-app"])
    dry = patch_cli(repo, recs, "--dry-run", limit_file_bytes=64_000_000)  # a copy of /dev/zero stops at 64 MB
    assert_no_traceback(dry)
    assert dry.returncode == 0, dry.stderr
    assert "+++ b/base/web.yaml" in dry.stdout and "+++ b/apps/api.yaml" in dry.stdout
    assert "base/zero.yaml: a symbolic link out of the repository (to /dev/zero): not read" in dry.stderr
    assert "shop/Deployment/secret-app/app: not found" in dry.stderr, "the linked file outside is not read"
    before = snapshot(repo)
    written = patch_cli(repo, recs)
    assert written.returncode == 0, written.stderr
    assert outside.read_bytes() == before_outside
    after = snapshot(repo)
    assert after["apps/secret-app.yaml"] == before["apps/secret-app.yaml"] == f"-> {outside}", "still a link"
    assert after["base/zero.yaml"] == "-> /dev/zero"
    assert {name for name in after if after[name] != before[name]} == {"base/web.yaml", "apps/api.yaml"}


def test_a_link_inside_the_repository_is_edited_at_its_file_and_stays_a_link(tmp_path):
    repo = git_repo(tmp_path / "gitops", {"shared/web.yaml": deployment("web")},
                    {"clusters/prod/web.yaml": "../../shared/web.yaml"})
    result = build_patch(repo, [change("web")])
    assert [str(f) for _, f, _ in result.applied] == ["shared/web.yaml"], result.skipped
    write_patch(repo, result)
    assert os.readlink(repo / "clusters/prod/web.yaml") == "../../shared/web.yaml", "the link is not replaced"
    assert "cpu: 250m" in (repo / "shared/web.yaml").read_text()


def test_the_kustomize_check_copies_only_what_the_overlay_reads(tmp_path):
    repo = git_repo(tmp_path / "gitops", {
        **KUSTOMIZE_REPO,
        "base/patches/extra.yaml": "kind: ConfigMap\n",
        "docs/huge.yaml": "# " + "x" * 6_000_000 + "\n",
        "other/kustomization.yaml": "resources:\n  - other.yaml\n",
        "other/other.yaml": deployment("other"),
        "README.md": "hello\n",
    }, {"base/outside.yaml": "/etc/hostname", "base/alias.yaml": "web.yaml"})
    os.mkfifo(repo / "base/pipe.yaml")
    (repo / "base/big.yaml").write_text("# " + "x" * 6_000_000 + "\n")
    locator = Locator(repo)
    dest = tmp_path / "copy"
    copy_into(repo, locator.files.listing, locator.kustomize.needed(Path("overlays/prod")), dest)
    copied = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file() or p.is_symlink()}
    assert copied == {"base/kustomization.yaml", "base/web.yaml", "base/patches/extra.yaml", "base/alias.yaml",
                      "overlays/prod/kustomization.yaml"}
    assert os.readlink(dest / "base/alias.yaml") == "web.yaml", "a link inside stays a link to the copy"
    for name in ("base/pipe.yaml", "base/big.yaml", "base/outside.yaml"):
        assert Path(name) in locator.files.skipped, name


@contextmanager
def hanging_server() -> Iterator[tuple[str, list[bytes]]]:
    """A server on 127.0.0.1 that accepts connections, records what it is sent, and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            received.append(conn.recv(4096))

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        listener.close()
        for conn in held:
            conn.close()


def remote_repo(path: Path, url: str) -> Path:
    return git_repo(path, {
        **KUSTOMIZE_REPO,
        "overlays/prod/kustomization.yaml": f"namespace: shop\nresources:\n  - ../../base\n  - {url}\n",
        "apps/api.yaml": deployment("api"),
    })


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_the_check_removes_its_copy(tmp_path, signum):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with hanging_server() as (url, received):
        repo = remote_repo(tmp_path / "gitops", f"{url}/remote.yaml")
        child = subprocess.Popen(
            [sys.executable, "-m", "rightsizer", "patch", "--recommendations",
             str(recommendations_for(tmp_path, ["web", "api"])), "--repo", str(repo), "--dry-run",
             "--allow-remote-resources"], env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not received and time.monotonic() < deadline:  # kubectl is waiting for the remote resource
            time.sleep(0.1)
        assert received, "kubectl asked for the remote resource"
        assert [p.name for p in scratch.iterdir() if p.name.startswith("rightsizer-kustomize-")]
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=10)
    assert child.returncode == 130, (child.returncode, stderr)  # the exit code of an interrupted run
    assert "Traceback" not in stderr
    assert list(scratch.iterdir()) == [], "the copy of the repository is removed"


# --- 5. remote resources ------------------------------------------------------------------------------------

def test_remote_resources_are_never_fetched_even_under_dry_run(tmp_path):
    with hanging_server() as (url, received):
        repo = remote_repo(tmp_path / "gitops", f"{url}/remote.yaml")
        before = snapshot(repo)
        result = patch_cli(repo, recommendations_for(tmp_path, ["web", "api"]), "--dry-run", timeout=60)
        assert received == [], "nothing is fetched"
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "remote resource" in line]
    assert len(lines) == 1 and "overlays/prod/kustomization.yaml" in lines[0] and \
        "--allow-remote-resources" in lines[0] and "shop/Deployment/web/app" in lines[0], result.stderr
    assert "+++ b/apps/api.yaml" in result.stdout, "the rest of the run goes on"
    assert snapshot(repo) == before


@pytest.mark.parametrize("url", [
    "https://raw.githubusercontent.com/acme/manifests/main/deploy.yaml",
    "github.com/acme/manifests//deploy?ref=v1.2.0",
    "git@github.com:acme/manifests.git//deploy",
    "ssh://git@gitlab.example.com/acme/manifests.git",
])
def test_every_form_of_remote_resource_is_refused_by_name(tmp_path, url):
    repo = remote_repo(tmp_path / "gitops", url)
    result = build_patch(repo, [change("web")])
    assert url in result.skipped[str(key("web"))] and "--allow-remote-resources" in result.skipped[str(key("web"))]
    assert result.files == {}


def test_allowed_remote_resources_time_out_in_one_clear_error(tmp_path):
    with hanging_server() as (url, received):
        repo = remote_repo(tmp_path / "gitops", f"{url}/remote.yaml")
        with pytest.raises(PatchError, match=r"did not finish within 2 s \(a remote resource that does not answer"):
            build_patch(repo, [change("web")], allow_remote=True, remote_timeout=2)
        assert received, "with the flag, kubectl did ask"


def test_allowed_remote_resources_are_rendered_in_the_check(tmp_path):
    configmap = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(configmap)))
            self.end_headers()
            self.wfile.write(configmap)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        repo = remote_repo(tmp_path / "gitops", f"http://127.0.0.1:{server.server_address[1]}/cm.yaml")
        result = build_patch(repo, [change("web")], allow_remote=True)
    finally:
        server.shutdown()
        server.server_close()
    assert set(result.files) == {Path("base/web.yaml")}, result.skipped


# --- 6. all files or none --------------------------------------------------------------------------------------

def test_a_write_failure_on_the_third_file_changes_no_file(tmp_path):
    big = deployment("c-big") + "# " + "padding " * 20_000 + "\n"  # 160 kB: over the limit below
    repo = git_repo(tmp_path / "gitops", {"apps/a.yaml": deployment("a"), "apps/b.yaml": deployment("b"),
                                          "apps/c.yaml": big})
    before = snapshot(repo)
    result = patch_cli(repo, recommendations_for(tmp_path, ["a", "b", "c-big"]), limit_file_bytes=100_000)
    assert_no_traceback(result)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "apps/c.yaml" in lines[0] and "no file was changed" in lines[0], result.stderr
    assert snapshot(repo) == before, "no file changed, no temporary file left"


def test_a_failure_after_two_files_were_replaced_puts_them_back(tmp_path):
    repo = git_repo(tmp_path / "gitops", {"apps/a.yaml": deployment("a"), "apps/b.yaml": deployment("b"),
                                          "apps/c.yaml": deployment("c")})
    result = build_patch(repo, [change("a"), change("b"), change("c")])
    assert len(result.files) == 3
    before = snapshot(repo)
    locked = repo / "apps/c.yaml"  # immutable (chattr +i): staged like the others, then it cannot be replaced
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        with pytest.raises(RightsizerError, match="apps/c.yaml: Operation not permitted; no file was changed"):
            write_patch(repo, result)
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert snapshot(repo) == before, "a.yaml and b.yaml are put back; nothing is left behind"


# --- 8. every file read within the limits; one odd file stops only itself -------------------------------------

def test_a_35_mb_file_elsewhere_is_passed_over_by_name(tmp_path):
    repo = git_repo(tmp_path / "gitops", {"apps/web.yaml": deployment("web")})
    (repo / "data").mkdir()
    (repo / "data/dump.yaml").write_text(("- " + "x" * 98 + "\n") * 350_000)  # 35 MB of valid YAML
    result = patch_cli(repo, recommendations_for(tmp_path, ["web"]), "--dry-run")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "note: data/dump.yaml: larger than 5 MB: not a manifest, not read" in result.stderr
    assert "+++ b/apps/web.yaml" in result.stdout


def test_a_fifo_in_the_repository_is_never_opened(tmp_path):
    repo = git_repo(tmp_path / "gitops", {
        **KUSTOMIZE_REPO,
        "overlays/prod/kustomization.yaml": "namespace: shop\nresources:\n  - ../../base\npatches:\n"
                                            "  - path: tweak.yaml\n",
        "apps/api.yaml": deployment("api"),
    })
    os.mkfifo(repo / "overlays/prod/tweak.yaml")  # a patch the kustomization names
    os.mkfifo(repo / "apps/pipe.yaml")
    os.mkfifo(repo / "base/pipe.yaml")  # in a directory the check copies
    result = patch_cli(repo, recommendations_for(tmp_path, ["web", "api"]), "--dry-run", timeout=60)
    assert_no_traceback(result)
    assert "note: apps/pipe.yaml: not a regular file (a pipe, device or socket): not read" in result.stderr
    assert "note: overlays/prod/tweak.yaml: not a regular file" in result.stderr
    assert "+++ b/apps/api.yaml" in result.stdout, "the rest of the run goes on"


MERGED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: merged
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: x
          resources: &shared
            requests:
              cpu: 100m
              memory: 128Mi
        - name: sidecar
          image: y
          resources:
            <<: *shared
            limits:
              memory: 256Mi
"""


def test_an_anchor_or_merge_key_is_reported_for_its_file_alone(tmp_path):
    repo = git_repo(tmp_path / "gitops", {"apps/merged.yaml": MERGED, "apps/web.yaml": deployment("web")})
    sidecar = ContainerKey("shop", "Deployment", "merged", "sidecar")
    result = build_patch(repo, [change("merged"), change("web")])
    assert set(result.files) == {Path("apps/web.yaml")}, "the shared values are not edited"
    why = result.skipped[str(key("merged"))]
    assert "apps/merged.yaml" in why and "anchor" in why, "editing app's values would change the sidecar's too"
    result = build_patch(repo, [PlannedChange(sidecar, False, NEW), change("web")])
    assert set(result.files) == {Path("apps/web.yaml")}
    assert "apps/merged.yaml" in result.skipped[str(sidecar)] and "merge key" in result.skipped[str(sidecar)]


def test_a_json_manifest_is_reported_for_its_file_alone(tmp_path):
    web = safe_documents(deployment("web", None))[0]
    repo = git_repo(tmp_path / "gitops", {
        "base/kustomization.yaml": "namespace: shop\nresources:\n  - web.json\n  - api.yaml\n",
        "base/web.json": json.dumps(web, indent=2) + "\n",
        "base/api.yaml": deployment("api", None),
    })
    result = build_patch(repo, [change("web"), change("api")])
    assert "base/web.json is a JSON manifest" in result.skipped[str(key("web"))]
    assert set(result.files) == {Path("base/api.yaml")}, "checked with kubectl kustomize, JSON file included"


def test_crlf_files_keep_crlf_and_only_the_value_lines_change(tmp_path):
    crlf = deployment("web").replace("\n", "\r\n").encode()
    repo = git_repo(tmp_path / "gitops", {"apps/web.yaml": crlf, "apps/api.yaml": deployment("api")})
    write_patch(repo, build_patch(repo, [change("web"), change("api")]))
    after = (repo / "apps/web.yaml").read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n"), "every line still ends with CRLF"
    changed = [(old, new) for old, new in zip(crlf.split(b"\r\n"), after.split(b"\r\n"), strict=True) if old != new]
    assert changed == [(b"              cpu: 100m", b"              cpu: 250m"),
                       (b"              memory: 128Mi", b"              memory: 300Mi")]
    assert b"cpu: 250m\n" in (repo / "apps/api.yaml").read_bytes(), "an LF file stays LF"


def test_pr_refuses_remote_resources_unless_allowed(tmp_path):
    """The weekly job reads the same repositories as ``patch``: a remote resource is not fetched by default."""
    with hanging_server() as (url, received):
        seed = remote_repo(tmp_path / "seed", f"{url}/remote.yaml")
        base = subprocess.run(["git", "-C", str(seed), "branch", "--show-current"], capture_output=True, text=True,
                              check=True).stdout.strip()
        bare = tmp_path / "remote.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(seed), str(bare)], check=True)
        with FakeHost() as host:
            result = subprocess.run(
                [sys.executable, "-m", "rightsizer", "pr", "--repo", str(bare), "--project", "acme/gitops",
                 "--provider", "github", "--api-url", host.url, "--allow-insecure-remote", "--base", base,
                 "--workdir", str(tmp_path / "wd"), "--recommendations",
                 str(recommendations_for(tmp_path, ["web", "api"]))],
                capture_output=True, text=True, timeout=120, check=False,
                env={**os.environ, "GITHUB_TOKEN": TOKEN})
            assert received == [], "nothing is fetched"
            pulls = dict(host.pulls)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "overlays/prod/kustomization.yaml" in result.stderr and "--allow-remote-resources" in result.stderr
    assert len(pulls) == 1 and "apps/api.yaml" in pulls[1]["body"], "the rest of the change is proposed"
