"""File writes that a reader (or a crash) never sees half done, to what the path names.

A path that is a symbolic link is written at the file it points to (the link stays).
What is not a regular file is never replaced by one: a user-named output that is a
stream (a terminal, a pipe, ``/dev/null``, ``/dev/stdout``) is written through, and
anything else (a block device, a socket, another character device) is refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rightsizer.errors import RightsizerError

#: paths that name an open descriptor of this process: written through, like the stream they are
_DESCRIPTORS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/")


def _named(target: Path) -> Path:
    """The file a path names: its symbolic links followed, even to a file not created yet."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _mode(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RightsizerError(f"cannot write {path}: {exc.strerror}") from None


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside the file ``path`` names; it replaces that file only if the block succeeds."""
    given = Path(path)
    target = _named(given)
    mode = _mode(target)
    if mode is not None and stat.S_ISDIR(mode):
        raise RightsizerError(f"cannot write {given}: it is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        raise RightsizerError(f"cannot write {given}: it is not a regular file (a device, pipe or socket); "
                              "name a file")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise RightsizerError(f"cannot write {given}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise RightsizerError(f"cannot write {given}: {exc.strerror} (choose another --output)") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make reports unreadable to the team
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise RightsizerError(f"cannot write {given}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _is_stream(path: Path, mode: int) -> bool:
    if stat.S_ISFIFO(mode) or str(path).startswith(_DESCRIPTORS) or str(path) == os.devnull:
        return True
    if not stat.S_ISCHR(mode):
        return False
    with contextlib.suppress(OSError), open(path, "rb", buffering=0) as probe:  # a terminal, not /dev/mem
        return probe.isatty()
    return False


def write_output(path: str | Path, text: str) -> None:
    """Text to the ``--output`` a user named: a file replaced atomically, or a stream written through."""
    target = Path(path)
    mode = _mode(target)
    if mode is None or not _is_stream(target, mode):
        write_text_atomic(target, text)
        return
    try:
        with open(target, "a", encoding="utf-8") as stream:  # append: /dev/stdout may be a file the shell opened
            stream.write(text)
    except OSError as exc:
        raise RightsizerError(f"cannot write {target}: {exc.strerror}") from None
