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


def _flags(group: type) -> list[inspect.Parameter]:
    """The flags of ``group``, a nested group's flags in its place."""
    hints = get_type_hints(group, include_extras=True)
    flags: list[inspect.Parameter] = []
    for field in dataclasses.fields(group):
        if is_group(hints[field.name]):
            flags.extend(_flags(hints[field.name]))
            continue
        default = field.default if field.default is not dataclasses.MISSING else inspect.Parameter.empty
        flags.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                       annotation=hints[field.name]))
    return flags


def _build(group: type, values: dict[str, Any]) -> Any:
    """``group`` (and its nested groups) from the flags' values, taking them out of ``values``."""
    hints = get_type_hints(group, include_extras=True)
    return group(**{field.name: _build(hints[field.name], values) if is_group(hints[field.name])
                    else values.pop(field.name) for field in dataclasses.fields(group)})


def expand_groups(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with each option-group parameter replaced by the group's flags, for typer to read."""
    hints = get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    params: list[inspect.Parameter] = []
    groups: dict[str, type] = {}
    for name, param in signature.parameters.items():
        annotation = hints.get(name, param.annotation)
        if is_group(annotation):
            groups[name] = annotation
            params.extend(_flags(annotation))
        else:
            params.append(param.replace(annotation=annotation, kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        for name, group in groups.items():
            kwargs[name] = _build(group, kwargs)
        return func(**kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__  # typer must see the expanded signature, not the original's
    return wrapper
