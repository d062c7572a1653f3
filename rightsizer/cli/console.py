"""What the command line says on stderr, and where its output goes: the one place that prints."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from rightsizer.fileio import write_output
from rightsizer.report import formats, render, target

stderr = Console(stderr=True, soft_wrap=True)


def say(message: str, end: str = "\n") -> None:
    """A line on stderr, exactly as given (no markup, no highlighting: names may hold brackets)."""
    stderr.print(message, end=end, markup=False, highlight=False)


def warn(message: str) -> None:
    stderr.print(Text.assemble(("warning: ", "yellow"), message))


def error(message: str) -> None:
    stderr.print(Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True)


def check_format(renders: type, fmt: str) -> None:
    """A usage error (exit 2) unless ``fmt`` is a format of ``renders`` values."""
    if fmt not in formats(renders):
        raise typer.BadParameter(f"choose one of {', '.join(formats(renders))}", param_hint="'-o' / '--format'")


def listed(renders: type) -> str:
    """``table, json or csv``: the formats of ``renders`` values, for a flag's help."""
    names = formats(renders)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def emit(value: object, fmt: str, output: Path | None, wrote: str = "", **options: object) -> None:
    """``value`` rendered as ``fmt`` for its target: stdout (a terminal's width and colour), or atomically
    into ``output`` with a line saying so (``wrote`` adds to it)."""
    text = render(value, fmt, **target(None if output is not None else sys.stdout), **options)  # type: ignore[arg-type]
    if output is None:
        sys.stdout.write(text)
        return
    write_output(output, text)
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
