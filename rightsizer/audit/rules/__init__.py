"""The checklist: each module registers its rules (:mod:`rightsizer.audit.registry`) when imported, in this order."""

from __future__ import annotations

from importlib import import_module

#: the modules whose rules register when imported, in the order findings and ``--help`` list them
RULE_MODULES = ("resources", "nodejs", "probes", "resilience", "spot")
for _module in RULE_MODULES:
    import_module(f"{__name__}.{_module}")

__all__ = ["RULE_MODULES"]
