"""Recommendations: from a ClusterHistory to new requests and limits, each with its reasons."""

from rightsizer.recommend.model import Recommendation, RecommendationSet
from rightsizer.recommend.simple import SimplePolicy, recommend

__all__ = ["Recommendation", "RecommendationSet", "SimplePolicy", "recommend"]
