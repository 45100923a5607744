"""The playground's input features: defined in ``chainrule.datasets.features`` (a model file's
``FeatureMap`` preprocessing uses them too, and model files sit below the playground)."""

from __future__ import annotations

from ..datasets.features import FEATURES, Feature, FeatureMap, check_names, feature_matrix

__all__ = ["FEATURES", "Feature", "FeatureMap", "check_names", "feature_matrix"]
