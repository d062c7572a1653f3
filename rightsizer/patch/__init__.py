"""Apply recommendations to a GitOps repository, or write them as kubectl patches.

    result = build_patch(repo, plan(recs))   # locate, edit, verify: nothing written yet
    print(result.diff())
    write_patch(repo, result)
"""

from rightsizer.patch.apply import PatchResult, PlannedChange, build_patch, plan, plan_from_report, write_patch
from rightsizer.patch.kubectl import write_kubectl_patches
from rightsizer.patch.yamltext import PatchError

__all__ = ["PatchError", "PatchResult", "PlannedChange", "build_patch", "plan", "plan_from_report",
           "write_kubectl_patches", "write_patch"]
