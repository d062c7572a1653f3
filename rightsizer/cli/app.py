"""The typer application every command module registers with, and the console entry point.

Exit codes: 0 success, 1 an error the message explains, 2 a usage error, 3 the gate a CI flag sets
tripped (changes recommended under ``report --fail-on-change``, findings at or above ``audit
--fail-on``), 130 interrupted.
"""

from __future__ import annotations

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


def main() -> None:
    """Console entry point: a RightsizerError is one line on stderr and exit code 1, never a traceback."""
    try:
        app()
    except RightsizerError as exc:
        error(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
