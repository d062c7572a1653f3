"""Where one container's resources are edited: the locators' answer, the edit styles' input."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rightsizer.patch.helmrender import HelmRender
    from rightsizer.patch.locate.chartheap import ChartHeap
    from rightsizer.patch.styles import EditStyle


@dataclass(frozen=True)
class Target:
    """A file, a document in it, the key path to the node to edit, and how to edit it.

    ``style`` is the edit style (``patch.styles``): it knows what the node at ``path`` is
    (a container, a Helm values mapping, a JSON 6902 operation list...) and how to change it.
    """

    file: Path  # relative to the repository root
    doc: int
    path: tuple[str | int, ...]
    style: EditStyle
    how: str
    kustomization: Path | None = None  # the overlay to render and check, or to add a new patch to
    base_resources: dict[str, Any] | None = field(default=None, compare=False)  # json6902: what the base sets
    #: what the rendered overlay must show instead of a workload's container: (kind, name, key path of the
    #: mapping that holds `resources`), e.g. a HelmRelease's spec.values
    rendered: tuple[str, str, tuple[str | int, ...]] | None = None
    #: Helm values: how the chart lets values set the container's env and args (for its Node.js heap flag)
    chart_heap: ChartHeap | None = field(default=None, compare=False)
    #: Helm values of a chart in the repository: how ``helm template`` renders the release
    helm: HelmRender | None = field(default=None, compare=False)
