"""The typer application every command module registers with, and the console entry point.

Exit codes: 0 success, 1 an error the message explains, 2 a usage error, 3 the gate a CI flag sets
tripped (changes recommended under ``report --fail-on-change``, findings at or above ``audit
--fail-on``), 130 interrupted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Annotated

import typer

from rightsizer import __version__
from rightsizer.errors import RightsizerError

from .console import error, say

app = typer.Typer(
    name="rightsizer",
    help="Right-size Kubernetes CPU and memory requests and limits from Prometheus history.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
EXIT_CHANGES = 3
EXIT_FINDINGS = 3


def _version(value: bool) -> None:
    if value:
        print(f"rightsizer {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Right-size Kubernetes CPU and memory requests and limits from Prometheus history."""


class _Interrupted(BaseException):
    """Ctrl-C, raised where click does not catch it: click would turn a KeyboardInterrupt into "Aborted!"
    and exit normally, which waits for every query thread still reading a hanging server."""


def _interrupt(signum: int, frame: object) -> None:
    raise _Interrupted


def main() -> None:
    """Console entry point: a RightsizerError is one line on stderr and exit code 1, never a traceback.

    Ctrl-C unwinds the main thread (a file being written is removed, never left half-written;
    queries not started are cancelled), says so in one line and exits at once with 130,
    without waiting for queries still in flight.
    """
    signal.signal(signal.SIGINT, _interrupt)
    try:
        app()
    except RightsizerError as exc:
        error(str(exc))
        sys.exit(1)
    except _Interrupted:
        say("interrupted: stopped; no file was left half-written")
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(130)
