"""``rightsizer audit``: the production checklist, checked on the repository with the cluster's evidence.

* :mod:`.model`: a :class:`Finding`, an :class:`AuditResult`;
* :mod:`.repo` and :mod:`.charts`: every workload the repository renders, and where each is written;
* :mod:`.evidence`: what the metrics say about each container;
* :mod:`.registry` and :mod:`.rules`: the checklist, one registered class per item;
* :mod:`.runner`: :func:`audit`, the one call the CLI and notebooks make.
"""

from __future__ import annotations

from rightsizer.audit.model import SEVERITIES, AuditResult, Finding
from rightsizer.audit.registry import RULES, ContainerRule, Rule
from rightsizer.audit.runner import audit

__all__ = ["RULES", "SEVERITIES", "AuditResult", "ContainerRule", "Finding", "Rule", "audit"]
