"""What the command line says on stderr, and where its output goes: the one place that prints."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from rightsizer.fileio import write_text_atomic

stderr = Console(stderr=True, soft_wrap=True)


def say(message: str, end: str = "\n") -> None:
    """A line on stderr, exactly as given (no markup, no highlighting: names may hold brackets)."""
    stderr.print(message, end=end, markup=False, highlight=False)


def warn(message: str) -> None:
    stderr.print(Text.assemble(("warning: ", "yellow"), message))


def error(message: str) -> None:
    stderr.print(Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True)


def emit(text: str, output: Path | None, wrote: str = "") -> None:
    """``text`` to stdout, or atomically to ``output`` with a line saying so (``wrote`` adds to it)."""
    if output is None:
        sys.stdout.write(text)
        return
    write_text_atomic(output, text)
    say(f"wrote {output}{wrote}")


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


@contextmanager
def progress_bar(show: bool) -> Iterator[Callable[[int, int, str], None]]:
    """A progress callback drawing a bar on a terminal's stderr (nothing when piped or ``--quiet``)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=stderr, transient=True, disable=not (show and stderr.is_terminal)) as bar:
        task = bar.add_task("connecting", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        yield progress
