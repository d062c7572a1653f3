"""What each value read from a metrics store can hold; anything else is set aside and counted.

A broken exporter, a hand-edited snapshot or a store that is not what it claims can put
NaN, infinities, negative numbers or 1e308 where a request, an HPA target, a replica
count or a restart counter belongs.  None of them may reach a recommendation, and none may
pass silently: each source checks every value with these functions on the way in, drops
what fails, and names the family and how many it dropped (:class:`SetAside`), which
reports list under ``missing``.  Usage samples are checked per container by
:mod:`rightsizer.recommend.sanity` with the same bounds.
"""

from __future__ import annotations

import math
from collections import Counter

#: Beyond these no single container goes: the largest machines have a few hundred cores and TB of memory.
MAX_CORES = 1024.0
MAX_BYTES = 64.0 * 2**40
#: far beyond the largest clusters (5,000 nodes of 110 pods)
MAX_REPLICAS = 1_000_000
#: an HPA utilization target in percent of the request (targets above 100 are valid, not a thousandfold)
MAX_UTILIZATION = 10_000.0
#: a restart counter no container reaches (one restart a second for a month is 2.6 million)
MAX_RESTARTS = 10_000_000.0

_RESOURCE_BOUNDS = {"cpu": MAX_CORES, "memory": MAX_BYTES}


def resource(name: str, value: float) -> bool:
    """A request or limit of ``name`` (cpu in cores, memory in bytes) a container can have."""
    bound = _RESOURCE_BOUNDS.get(name)
    return bound is not None and math.isfinite(value) and 0 <= value <= bound


def utilization(value: float) -> bool:
    """An HPA utilization target, in percent."""
    return math.isfinite(value) and 0 < value <= MAX_UTILIZATION


def replicas(value: float) -> bool:
    """An HPA's minimum or maximum replica count: a whole number."""
    return math.isfinite(value) and 0 <= value <= MAX_REPLICAS and value == int(value)


def restart_count(value: float) -> bool:
    """A container's restart counter."""
    return math.isfinite(value) and 0 <= value <= MAX_RESTARTS


class SetAside:
    """How many values of each metric family were set aside as impossible, with one example each."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def keep(self, family: str, ok: bool, where: str, value: object) -> bool:
        """``ok``, counting the value as set aside when it is not."""
        if not ok:
            self.counts[family] += 1
            self.examples.setdefault(family, f"{where}: {value!r}")
        return ok

    def missing(self) -> dict[str, str]:
        """What was set aside, as entries of a history's ``missing``."""
        return {family: f"{n} value{'s' if n > 1 else ''} set aside as impossible (NaN, infinite, negative or "
                        f"beyond any cluster; e.g. {self.examples[family]}): check the exporter"
                for family, n in sorted(self.counts.items())}
