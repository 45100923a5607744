"""The input features the page offers, computed from the two raw coordinates (x₁, x₂).

Each feature has a name (used in messages and URLs), a label for the page and the NumPy
expression the exported snippet writes; ``feature_matrix`` computes the chosen columns.

>>> import numpy as np
>>> feature_matrix(np.array([[0.5, -2.0]]), ["x1", "x1_x2", "x2_sq"]).tolist()
[[0.5, -1.0, 4.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feature:
    """One input feature: ``compute`` maps raw points (n × 2) to a column (n,)."""

    name: str
    label: str
    expression: str  # the same computation as Python source over an array ``x`` (n × 2)
    compute: Callable[[np.ndarray], np.ndarray]


FEATURES: dict[str, Feature] = {feature.name: feature for feature in (
    Feature("x1", "x₁", "x[:, 0]", lambda x: x[:, 0]),
    Feature("x2", "x₂", "x[:, 1]", lambda x: x[:, 1]),
    Feature("x1_sq", "x₁²", "x[:, 0] ** 2", lambda x: x[:, 0] ** 2),
    Feature("x2_sq", "x₂²", "x[:, 1] ** 2", lambda x: x[:, 1] ** 2),
    Feature("x1_x2", "x₁·x₂", "x[:, 0] * x[:, 1]", lambda x: x[:, 0] * x[:, 1]),
    Feature("sin_x1", "sin x₁", "np.sin(x[:, 0])", lambda x: np.sin(x[:, 0])),
    Feature("sin_x2", "sin x₂", "np.sin(x[:, 1])", lambda x: np.sin(x[:, 1])),
)}
"""Every feature, in the order the page lists them."""


def feature_matrix(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` (in that order) for raw points of shape (n, 2), as float32."""
    columns = [FEATURES[name].compute(points) for name in names]
    return np.stack(columns, axis=1).astype(np.float32)


__all__ = ["Feature", "feature_matrix", "FEATURES"]
