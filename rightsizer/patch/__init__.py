"""Apply recommendations to a GitOps repository, or write them as kubectl patches.

    result = build_patch(repo, plan(recs))   # locate, edit, verify: nothing written yet
    print(result.diff())
    write_patch(repo, result)

``recs`` is a ``RecommendationSet``, computed now or read back from a reviewed report
with ``read_recommendations(path)``.
"""

from rightsizer.patch.apply import PatchResult, build_patch, write_patch
from rightsizer.patch.kubectl import write_kubectl_patches
from rightsizer.patch.plan import PlannedChange, not_planned, one_cluster, plan
from rightsizer.patch.reportfile import read_recommendations, recommendations_from_report
from rightsizer.patch.yamltext import PatchError

__all__ = ["PatchError", "PatchResult", "PlannedChange", "build_patch", "not_planned", "one_cluster", "plan",
           "read_recommendations", "recommendations_from_report", "write_kubectl_patches", "write_patch"]
