"""Renderers for what rightsizer reports, registered by format name (``-o NAME``) and by what they render.

``render(value, fmt)`` picks the renderer by the value's type (a ``RecommendationSet``, a
``Backtest``, a ``CostReport``); ``formats(type)`` lists a type's formats.
"""

from __future__ import annotations

from importlib import import_module

from rightsizer.report.console import DEFAULT_WIDTH, target
from rightsizer.report.registry import Renderer, find, formats, register, render

#: the modules whose renderers register when imported, in the order ``--help`` lists the formats
RENDERER_MODULES = ("table", "documents", "markdown", "html", "backtest", "cost", "audit", "sarif")
for _module in RENDERER_MODULES:
    import_module(f"{__name__}.{_module}")

__all__ = ["DEFAULT_WIDTH", "RENDERER_MODULES", "Renderer", "find", "formats", "register", "render", "target"]
