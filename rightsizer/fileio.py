"""File writes that a reader (or a crash) never sees half done, to what the path names.

A path that is a symbolic link is written at the file it points to (the link stays).
What is not a regular file is never replaced by one: a user-named output that is a
stream (a terminal, a pipe, ``/dev/null``, ``/dev/stdout``) is written through, and
anything else (a block device, a socket, another character device) is refused.

Several files that belong together (a patch of a repository) are written all or none:
each is staged beside its target first, and only then renamed into place; a failure on
the way puts back the ones already replaced.  Scratch directories are removed on every
way out, SIGTERM included.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
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


def _stage(target: Path, text: str, umask: int) -> Path:
    """A temporary file beside ``target`` holding ``text``, with the mode ``target`` has (or a new file's)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = _mode(target)
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~umask)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def write_files_atomic(texts: Mapping[Path, str]) -> None:
    """Write every file or none: all staged first, then renamed into place, the replaced ones put back on failure.

    Paths are taken as they are (the caller resolves links); a path that exists must be a regular file.
    """
    umask = os.umask(0)
    os.umask(umask)
    staged: list[tuple[Path, Path]] = []  # (temporary, target)
    done: list[tuple[Path, Path | None]] = []  # (target, backup of what it was; None: it was not there)
    created: list[Path] = []  # directories made for new files, removed again on failure
    current = None
    try:
        for target, text in texts.items():
            current = target
            mode = _mode(target)
            if mode is not None and not stat.S_ISREG(mode):
                raise RightsizerError(f"cannot write {target}: it is not a regular file")
            missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
            if missing:
                target.parent.mkdir(parents=True)
                created.append(missing[-1])
            staged.append((_stage(target, text, umask), target))
        for tmp, target in staged:
            current = target
            backup = None
            if _mode(target) is not None:
                backup = target.with_name(f".{target.name}.{os.getpid()}.old")
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(backup)  # left by a run killed outright
                os.link(target, backup)  # the old file stays reachable until every file is in place
            done.append((target, backup))
            os.replace(tmp, target)
    except BaseException as exc:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        for target, backup in reversed(done):
            with contextlib.suppress(FileNotFoundError):
                if backup is None:
                    os.unlink(target)
                else:
                    os.replace(backup, target)
        for directory in created:
            shutil.rmtree(directory, ignore_errors=True)
        if isinstance(exc, OSError):
            raise RightsizerError(f"cannot write {current}: {exc.strerror or exc}; no file was changed") from None
        raise
    for _, backup in done:
        if backup is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(backup)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def scratch_directory(prefix: str) -> Iterator[Path]:
    """A temporary directory removed however the block ends: an exception, Ctrl-C, or SIGTERM (made an interrupt
    for its duration, so a stopped cron job leaves no copy of the repository behind)."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield Path(tmp)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
