"""What a run prices recommendations with: a catalog, a region, and the node type to fall back on."""

from __future__ import annotations

from dataclasses import dataclass

from rightsizer.cost.allocation import cluster_rates
from rightsizer.cost.catalog import Catalog, load_catalog
from rightsizer.cost.estimate import attach_costs
from rightsizer.history import ClusterHistory
from rightsizer.recommend.model import RecommendationSet


@dataclass(frozen=True)
class Pricing:
    """Prices from ``catalog`` in ``region``; ``instance_type`` when the cluster's node types are unknown."""

    catalog: Catalog
    region: str = "us-east-1"
    instance_type: str | None = None

    @classmethod
    def bundled(cls, region: str = "us-east-1", instance_type: str | None = None) -> Pricing:
        """The bundled, dated catalog."""
        return cls(load_catalog(), region, instance_type)

    def price(self, recs: RecommendationSet, history: ClusterHistory) -> None:
        """Set each recommendation's monthly cost now and recommended, from the nodes ``history`` ran on."""
        attach_costs(recs, history, cluster_rates(self.catalog, self.region, list(history.nodes.values()),
                                                  self.instance_type))
        recs.pricing = self.describe()

    def describe(self) -> str:
        """Where the prices come from and how old they are, for every output that shows a cost."""
        return self.catalog.describe()
