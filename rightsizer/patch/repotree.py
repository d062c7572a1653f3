"""The repository as a sandbox: which of a checkout's files rightsizer may read, and how it reads them.

Many people can commit to a GitOps repository, and the weekly job reads it unattended, so
a path in it is not trusted.  Everything read from a checkout goes through here:

* a path is resolved with its symbolic links followed and must stay inside the checkout
  (a link to ``/dev/zero`` or to ``~/.ssh``, ``../outside``, an absolute path: refused);
* only regular files are opened, and never blocking (a FIFO is listed as skipped, never
  opened; a file swapped for one between listing and reading is refused by ``fstat``);
* no file over the YAML size limit is read (it is skipped from its size alone);
* text keeps its line endings (a CRLF file edited stays CRLF).

Paths are relative to the checkout and *real*: a link inside the checkout to another of
its files is known by the file it names, so the file is found once and a write goes to it
(the link stays a link).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from rightsizer.patch.yamltext import PatchError
from rightsizer.yamlsafety import MAX_YAML_BYTES

SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__"}


def inside(repo: Path, rel: Path | str, what: str) -> Path:
    """``rel`` as the real path (links followed) relative to the checkout; a PatchError if it leaves it."""
    rel = Path(rel)
    if rel.is_absolute():
        raise PatchError(f"{what}: {rel} is an absolute path: name a file inside the repository, relative to "
                         "its root")
    root = Path(os.path.realpath(repo))
    real = Path(os.path.realpath(root / rel))
    if real != root and root not in real.parents:
        raise PatchError(f"{what}: {rel} resolves outside the repository (to {real}): name a file inside the "
                         "repository, relative to its root; rightsizer never reads or writes outside the checkout")
    return real.relative_to(root)


def _regular(mode: int, size: int, rel: Path) -> None:
    if not stat.S_ISREG(mode):
        raise PatchError(f"{rel} is not a regular file (a pipe, device or socket): not read")
    if size > MAX_YAML_BYTES:
        raise PatchError(f"{rel} is larger than {MAX_YAML_BYTES // 1_000_000} MB: not a manifest, not read")


def read_bytes(repo: Path, rel: Path | str) -> bytes:
    """The bytes of a regular file of the checkout, within the size limit (never blocking, never following a
    link out)."""
    real = inside(repo, rel, str(rel))
    path = Path(os.path.realpath(repo)) / real
    try:
        info = os.lstat(path)
        _regular(info.st_mode, info.st_size, Path(rel))
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise PatchError(f"{rel} does not exist in the repository") from None
    except OSError as exc:
        raise PatchError(f"{rel}: cannot read it ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())  # what was opened, in case the file changed since lstat
        _regular(info.st_mode, info.st_size, Path(rel))
        data = handle.read(MAX_YAML_BYTES + 1)
    _regular(stat.S_IFREG, len(data), Path(rel))
    return data


def read_text(repo: Path, rel: Path | str) -> str:
    """A file's UTF-8 text with its line endings as written (``\\r\\n`` stays)."""
    try:
        return read_bytes(repo, rel).decode("utf-8")
    except UnicodeDecodeError:
        raise PatchError(f"{rel} is not UTF-8 text") from None


@dataclass
class Listing:
    """What a checkout holds that a reader may open."""

    files: list[Path]  # regular files, real paths, sorted
    skipped: dict[Path, str]  # passed over -> why
    links: dict[Path, Path]  # links to files or directories inside the checkout -> the real path they name


def list_files(repo: Path) -> Listing:
    """The regular files of the checkout a reader may open, and what was passed over.

    Directories are walked without following links.  A link to a file inside the checkout is
    listed as the file it names; a link out of it, a pipe, a device, a socket and a file over
    the size limit are passed over, and so is a link to a directory (its files are listed
    where they are).
    """
    root = Path(os.path.realpath(repo))
    listing = Listing([], {}, {})
    found: set[Path] = set()
    for directory, dirs, names in os.walk(root, followlinks=False):
        here = Path(directory).relative_to(root)
        for name in [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            target = Path(os.path.realpath(root / here / name))
            if root in target.parents:
                listing.links[here / name] = target.relative_to(root)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not os.path.islink(os.path.join(directory, d)))
        for name in names:
            rel = here / name
            try:
                info = os.lstat(root / rel)
                if stat.S_ISLNK(info.st_mode):
                    target = Path(os.path.realpath(root / rel))
                    if root not in target.parents:
                        listing.skipped[rel] = f"a symbolic link out of the repository (to {target}): not read"
                        continue
                    listing.links[rel] = target.relative_to(root)
                    info = os.stat(target)
                    if stat.S_ISDIR(info.st_mode):
                        continue
                    rel = target.relative_to(root)
                _regular(info.st_mode, info.st_size, rel)
            except PatchError as exc:
                listing.skipped[rel] = without_name(str(exc), rel)
                continue
            except OSError as exc:  # a dangling link, a file removed meanwhile
                listing.skipped[rel] = f"cannot read it ({exc.strerror})"
                continue
            found.add(rel)
    listing.files = sorted(found)
    return listing


def copy_into(repo: Path, listing: Listing, wanted: set[Path], dest: Path) -> None:
    """Copy the wanted files and directories of a checkout into ``dest``, as ``listing`` allows.

    Only listed files are copied (regular, inside, within the size limit), read through
    :func:`read_bytes`; links inside the checkout are made again as links, so a file and a
    link to it stay one file.  Nothing else of the checkout is copied.
    """
    def is_wanted(path: Path) -> bool:
        return path in wanted or any(parent in wanted for parent in path.parents)

    wanted = wanted | {target for link, target in listing.links.items() if is_wanted(link)}
    for rel in listing.files:
        if is_wanted(rel):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(read_bytes(repo, rel))
    for link, target in sorted(listing.links.items()):
        if is_wanted(link) and not os.path.lexists(dest / link):
            (dest / link).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(dest / target, (dest / link).parent), dest / link)


def without_name(message: str, rel: Path) -> str:
    """A reason without the file's name in front (the caller names it)."""
    return message.removeprefix(f"{rel} is ").removeprefix(f"{rel} ")
