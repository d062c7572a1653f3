"""Rich renderables drawn to text, for a target of a given width and colour.

The terminal and a file get the same text: a renderer draws into a buffer, and the
caller prints or writes what it returned.  Only the target's width and whether it shows
colour differ, and :func:`target` decides both from the stream the text is going to.
"""

from __future__ import annotations

import io
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

    A terminal gets its own width (``COLUMNS`` wins, as rich reads it); anything else is
    :data:`DEFAULT_WIDTH` wide.  Colour goes where rich would show it (a terminal, or
    ``FORCE_COLOR``), and ``NO_COLOR`` or ``TERM=dumb`` still turn it off; never into a file.
    """
    if stream is None:
        return {"width": DEFAULT_WIDTH, "color": False}
    console = Console(file=stream)
    return {"width": console.width if stream.isatty() else DEFAULT_WIDTH, "color": console.is_terminal}
