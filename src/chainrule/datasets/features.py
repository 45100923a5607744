"""The input features the playground offers, computed from the two raw coordinates (x₁, x₂).

Each feature has a name (used in messages and URLs), a label for the page and the NumPy
expression the exported snippet writes; ``feature_matrix`` computes the chosen columns.
``FeatureMap`` is the same computation as a model's ``preprocessing``: the exported model file
carries it (by names only, looked up in ``FEATURES`` when loaded), so ``predict`` and
``chainrule predict`` take the raw (x₁, x₂).

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


FEATURES: dict[str, Feature] = {
    feature.name: feature
    for feature in (
        Feature("x1", "x₁", "x[:, 0]", lambda x: x[:, 0]),
        Feature("x2", "x₂", "x[:, 1]", lambda x: x[:, 1]),
        Feature("x1_sq", "x₁²", "x[:, 0] ** 2", lambda x: x[:, 0] ** 2),
        Feature("x2_sq", "x₂²", "x[:, 1] ** 2", lambda x: x[:, 1] ** 2),
        Feature("x1_x2", "x₁·x₂", "x[:, 0] * x[:, 1]", lambda x: x[:, 0] * x[:, 1]),
        Feature("sin_x1", "sin x₁", "np.sin(x[:, 0])", lambda x: np.sin(x[:, 0])),
        Feature("sin_x2", "sin x₂", "np.sin(x[:, 1])", lambda x: np.sin(x[:, 1])),
    )
}
"""Every feature, in the order the page lists them."""


def feature_matrix(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` (in that order) for raw points of shape (n, 2), as float32."""
    columns = [FEATURES[name].compute(points) for name in names]
    return np.stack(columns, axis=1).astype(np.float32)


def check_names(names: object, what: str = "the feature map") -> tuple[str, ...]:
    """``names`` as a tuple of known, distinct feature names; ValueError naming the problem."""
    if not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"{what} must list at least one feature name")
    for name in names:
        if not isinstance(name, str) or name not in FEATURES:
            raise ValueError(
                f"{what} names an unknown feature {name!r}; expected one of: {', '.join(FEATURES)}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"{what} lists a feature twice")
    return tuple(names)


class FeatureMap:
    """The input features as preprocessing: raw points p = (x₁, x₂) (n × 2) → the columns
    φ(p) = (φ₁(p), …, φ_k(p)) named by ``names`` (e.g. x₁, x₁², sin x₁), in that order.

    >>> FeatureMap(["x1", "x1_sq"]).transform(np.array([[3.0, 1.0]])).tolist()
    [[3.0, 9.0]]
    """

    #: the raw inputs: the two coordinates of a point
    raw_width = 2

    def __init__(self, names: object) -> None:
        self.names = check_names(names)

    def transform(self, x: object) -> np.ndarray:
        """φ(x) for raw points x of shape (n, 2); ValueError for any other shape."""
        points = np.asarray(x, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != self.raw_width:
            raise ValueError(
                f"the feature map takes raw points (x1, x2): rows of "
                f"{self.raw_width} values, got shape {points.shape}"
            )
        return feature_matrix(points, self.names)

    def state(self) -> dict[str, list[str]]:
        """Plain data for the model file (names only: nothing in it is ever executed)."""
        return {"names": list(self.names)}

    @classmethod
    def from_state(cls, state: dict[str, object]) -> FeatureMap:
        """The map back from ``state``; ValueError for unknown or repeated names."""
        return cls(state.get("names"))

    def __repr__(self) -> str:
        return f"FeatureMap({list(self.names)!r})"


__all__ = ["FEATURES", "Feature", "FeatureMap", "check_names", "feature_matrix"]
