"""The rule registry: a checklist item is one class, registered by its name, that yields findings.

Adding a rule is one class in a module of ``rightsizer/audit/rules/``: subclass :class:`Rule`
(or :class:`ContainerRule`, called once per container), give it a ``name``, its usual
``severity``, a one-line ``summary`` and the ``why`` behind it (both shown in SARIF output
and the docs), and say whether it reads the whole pod spec (``pod_spec``: a Helm chart's
workloads are known only by their values' resources, and such rules skip them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from rightsizer.audit.model import SEVERITIES, Finding
from rightsizer.audit.views import ContainerView, Lines, Place, WorkloadView
from rightsizer.errors import RightsizerError

#: every registered rule by name, in the order registered (the order findings are listed in)
RULES: dict[str, Rule] = {}


@dataclass
class Context:
    """What every rule is given besides the workload: line numbers, and whether metrics were read."""

    lines: Lines
    measured: bool = False  # a source was given: a missing evidence means the container did not run there

    def finding(self, rule: Rule, workload: WorkloadView, place: Place, message: str, *,
                container: ContainerView | None = None, evidence: list[str] | None = None, fix: str = "",
                severity: str | None = None) -> Finding:
        return Finding(rule.name, severity or rule.severity, workload.namespace, workload.kind, workload.name,
                       container.name if container else None, str(place.file), self.lines(place), message,
                       tuple(evidence or ()), fix, container.init if container else False, workload.rendered_by)


class Rule:
    """One checklist item; subclasses register themselves by ``name`` when their module is imported."""

    name: ClassVar[str]
    severity: ClassVar[str]
    summary: ClassVar[str]
    why: ClassVar[str]
    pod_spec: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not getattr(cls, "name", None):
            return  # an abstract base
        if cls.name in RULES:
            raise TypeError(f"two audit rules are named {cls.name!r}")
        if cls.severity not in SEVERITIES:
            raise TypeError(f"rule {cls.name}: severity {cls.severity!r} is not one of {', '.join(SEVERITIES)}")
        RULES[cls.name] = cls()

    def applies(self, workload: WorkloadView) -> bool:
        return workload.manifest is not None or not self.pod_spec

    def check(self, workload: WorkloadView, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError


class ContainerRule(Rule):
    """A rule about each container of a workload (init containers included unless ``init`` is False)."""

    init: ClassVar[bool] = True

    def check(self, workload: WorkloadView, ctx: Context) -> Iterator[Finding]:
        for container in workload.containers:
            if self.init or not container.init:
                yield from self.check_container(workload, container, ctx)

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError


def find(name: str) -> Rule:
    """The rule registered as ``name``, or a clear error listing the others."""
    try:
        return RULES[name]
    except KeyError:
        raise RightsizerError(f"unknown audit rule {name!r}: choose one of {', '.join(RULES)}") from None
