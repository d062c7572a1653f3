"""The registry of renderers: what ``-o NAME`` means for each thing rightsizer reports.

A renderer is a function registered under a format name for the type of value it draws
(a ``RecommendationSet``, a ``Backtest``, a ``CostReport``).  Its flags say what it is given
besides the value, so every renderer has only the parameters it uses:

* ``needs_history``: ``history=`` and ``plots=`` (the HTML pictures); a caller that streams
  the history in parts must hold all of it for such a format;
* ``console``: ``width=`` and ``color=``; the renderer draws on a rich console of that width,
  so the text printed on a terminal and the text written to a file are the same renderer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rightsizer.history import ClusterHistory
from rightsizer.report.console import DEFAULT_WIDTH

F = TypeVar("F", bound=Callable[..., str])


@dataclass(frozen=True)
class Renderer:
    """One format of one kind of value."""

    name: str
    renders: type
    function: Callable[..., str]
    needs_history: bool = False
    console: bool = False

    def __call__(self, value: object, *, history: ClusterHistory | None = None, plots: int = 20,
                 width: int | None = None, color: bool = False) -> str:
        extra: dict[str, Any] = {}
        if self.needs_history:
            extra.update(history=history, plots=plots)
        if self.console:
            extra.update(width=width or DEFAULT_WIDTH, color=color)
        return self.function(value, **extra)


_RENDERERS: dict[type, dict[str, Renderer]] = {}


def register(name: str, renders: type, *, needs_history: bool = False, console: bool = False) -> Callable[[F], F]:
    """Decorator: ``function`` renders ``renders`` values as format ``name`` (listed in registration order)."""
    def add(function: F) -> F:
        by_name = _RENDERERS.setdefault(renders, {})
        if name in by_name:
            raise ValueError(f"format {name!r} is registered twice for {renders.__name__}")
        by_name[name] = Renderer(name, renders, function, needs_history, console)
        return function
    return add


def _registered(renders: type) -> dict[str, Renderer]:
    for cls in renders.__mro__:
        if cls in _RENDERERS:
            return _RENDERERS[cls]
    raise ValueError(f"nothing renders a {renders.__name__}")


def formats(renders: type) -> tuple[str, ...]:
    """The format names for values of type ``renders``, as ``--help`` lists them."""
    return tuple(_registered(renders))


def find(renders: type, fmt: str) -> Renderer:
    """The renderer of format ``fmt`` for values of type ``renders``."""
    by_name = _registered(renders)
    if fmt not in by_name:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(by_name)}")
    return by_name[fmt]


def render(value: object, fmt: str, *, history: ClusterHistory | None = None, plots: int = 20,
           width: int | None = None, color: bool = False) -> str:
    """``value`` as text in format ``fmt``, the renderer chosen by the value's type.

    ``history`` and ``plots`` reach the formats that draw pictures; ``width`` (default
    :data:`DEFAULT_WIDTH`) and ``color`` (ANSI codes) reach the ones drawn on a console.
    """
    return find(type(value), fmt)(value, history=history, plots=plots, width=width, color=color)
