"""What an audit finds: one :class:`Finding` per broken checklist item, and the :class:`AuditResult` of a run.

A finding points at the file and line a reviewer edits to fix it (the container's
``resources`` where the patch would write them, or the workload's manifest), carries the
evidence behind it (the manifest's own values, and with a metrics source the measured
usage) and the fix in words.  What the audit could not read is kept beside the findings,
so a partial audit says so instead of looking clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: at the top, every command's start-up
    import pandas as pd  # would take a second longer

#: in increasing order; ``--fail-on`` names the lowest that fails a run
SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One checklist item a workload (or one of its containers) does not meet."""

    rule: str  # the rule's registered name, e.g. "cpu-limit"
    severity: str  # info, warning or error
    namespace: str | None  # None: no namespace is set for it in the repository
    kind: str
    workload: str
    container: str | None  # None: a finding about the whole workload
    file: str  # relative to the repository root
    line: int  # 1-based
    message: str
    evidence: tuple[str, ...] = ()
    fix: str = ""
    init: bool = False
    rendered_by: str = ""  # plain manifest, a kustomize overlay, a Helm values file

    @property
    def subject(self) -> str:
        """``namespace/Kind/name[/container]``, as the other commands name workloads."""
        name = f"{self.namespace or '-'}/{self.kind}/{self.workload}"
        return f"{name}/{self.container}" if self.container else name

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["evidence"] = list(self.evidence)
        return out


@dataclass
class AuditResult:
    """The findings of one audit of a repository, what it covered, and what it could not read."""

    repo: str
    findings: list[Finding]
    workloads: int = 0  # workloads checked (one per namespace a base is rendered in)
    containers: int = 0
    source: str | None = None  # the metrics behind the evidence, when one was given
    window: str | None = None  # the time the evidence covers
    unread: dict[str, str] = field(default_factory=dict)  # a file, overlay, chart or source -> why not read

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity listed."""
        return {level: sum(f.severity == level for f in self.findings) for level in SEVERITIES}

    def fails(self, fail_on: str | None) -> bool:
        """Whether a finding at ``fail_on`` (``warning`` or ``error``) or above is present; never for None."""
        if fail_on is None:
            return False
        if fail_on not in SEVERITIES:
            raise ValueError(f"unknown severity {fail_on!r}; choose one of {', '.join(SEVERITIES)}")
        lowest = SEVERITIES.index(fail_on)
        return any(SEVERITIES.index(f.severity) >= lowest for f in self.findings)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per finding (evidence joined with ``; ``), for notebooks."""
        import pandas as pd
        columns = [*(f for f in Finding.__dataclass_fields__)]
        rows = [{**f.to_dict(), "evidence": "; ".join(f.evidence)} for f in self.findings]
        return pd.DataFrame(rows, columns=columns)

    def _repr_html_(self) -> str:
        return self.to_dataframe()._repr_html_()  # type: ignore[no-any-return]
