"""Option groups: a dataclass of typer options declared once, used by every command that needs it.

typer reads a command's parameters from its signature; :func:`command_with_groups` rewrites the
signature so that a parameter annotated with a group dataclass becomes that group's fields (each field
an ``Annotated[..., typer.Option(...)]`` with its default), and rebuilds the dataclass before the
command runs.  A command then reads ``source.window`` rather than taking thirteen loose flags.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints


def is_group(annotation: object) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation) and getattr(
        annotation, "__option_group__", False)


def option_group(cls: type) -> type:
    """Mark a dataclass as an option group (its fields become flags of the commands that take it)."""
    cls.__option_group__ = True  # type: ignore[attr-defined]
    return cls


def expand_groups(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with each option-group parameter replaced by the group's fields, for typer to read."""
    hints = get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    params: list[inspect.Parameter] = []
    groups: dict[str, tuple[type, list[str]]] = {}
    annotations: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        annotation = hints.get(name, param.annotation)
        if not is_group(annotation):
            params.append(param.replace(annotation=annotation, kind=inspect.Parameter.KEYWORD_ONLY))
            annotations[name] = annotation
            continue
        field_hints = get_type_hints(annotation, include_extras=True)
        names = []
        for field in dataclasses.fields(annotation):
            default = field.default if field.default is not dataclasses.MISSING else inspect.Parameter.empty
            params.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=field_hints[field.name]))
            annotations[field.name] = field_hints[field.name]
            names.append(field.name)
        groups[name] = (annotation, names)

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        for name, (cls, names) in groups.items():
            kwargs[name] = cls(**{n: kwargs.pop(n) for n in names})
        return func(**kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = annotations
    del wrapper.__wrapped__  # typer must see the expanded signature, not the original's
    return wrapper
