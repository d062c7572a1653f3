"""Rich renderables drawn to text, for a target of a given width and colour.

The terminal and a file get the same text: a renderer draws into a buffer, and the
caller prints or writes what it returned.  Only the target's width and whether it shows
colour differ, and :func:`target` decides both from the stream the text is going to.
"""

from __future__ import annotations

import io
import os
from typing import Any, TextIO

from rich.console import Console, RenderableType

#: the width of text not bound for a terminal (files, pipes): wide enough for every column
DEFAULT_WIDTH = 200


def draw(*renderables: RenderableType, width: int, color: bool) -> str:
    """The renderables as rich prints them on a console ``width`` columns wide, with ANSI colour if ``color``."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="auto" if color else None)
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def target(stream: TextIO | None) -> dict[str, Any]:
    """``width`` and ``color`` for text printed on ``stream`` (``None``: a file).

    A terminal gets its own width; a pipe or a file ``COLUMNS`` when it is set (so a
    script can ask for a width), else :data:`DEFAULT_WIDTH`.  Colour goes where rich would
    show it (a terminal, or ``FORCE_COLOR``), and ``NO_COLOR`` or ``TERM=dumb`` still turn it
    off; never into a file.
    """
    columns = os.environ.get("COLUMNS", "")
    plain_width = int(columns) if columns.isdigit() and int(columns) > 0 else DEFAULT_WIDTH
    if stream is None:
        return {"width": plain_width, "color": False}
    console = Console(file=stream)
    return {"width": console.width if stream.isatty() else plain_width, "color": console.is_terminal}
