"""The playground's data sets: the 2-D shapes of ``chainrule.datasets`` and a 2-D regression.

``regression2d`` is the playground's own: points p = (x₁, x₂) uniform in [−1, 1]² and the
target y = x₁·x₂ + ½·sin(πx₁), with Gaussian noise of standard deviation ``noise`` added to y
(the classification sets add it to the points). Like the library's generators it draws the same
points for the same seed at every noise level.

>>> data = regression2d(n=4, seed=0)
>>> data.x.shape, data.y.shape, data.task
((4, 2), (4, 1), 'regression')
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..datasets import Dataset, circles, gaussians, moons, spirals, xor


def regression2d(n: int = 400, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """y = x₁·x₂ + ½·sin(πx₁) for p uniform in [−1, 1]²; ``noise`` is the std added to y."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"regression2d: n must be a positive integer, got {n!r}")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"regression2d: noise must be a finite number ≥ 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = x[:, :1] * x[:, 1:] + 0.5 * np.sin(math.pi * x[:, :1])
    y = y + noise * rng.standard_normal(y.shape)
    return Dataset(x, y, name="regression2d", task="regression", feature_names=["x1", "x2"],
                   description="y = x1*x2 + sin(pi*x1)/2 for p uniform in [-1, 1]^2, noise on y")


#: the data sets the page offers: name → (generator, the import the exported snippet writes)
DATASETS: dict[str, tuple[Callable[..., Dataset], str]] = {
    "xor": (xor, "from chainrule.datasets import xor as generate"),
    "circles": (circles, "from chainrule.datasets import circles as generate"),
    "spirals": (spirals, "from chainrule.datasets import spirals as generate"),
    "gaussians": (gaussians, "from chainrule.datasets import gaussians as generate"),
    "moons": (moons, "from chainrule.datasets import moons as generate"),
    "regression": (regression2d,
                   "from chainrule.playground.datasets import regression2d as generate"),
}


def is_regression(dataset: str) -> bool:
    """True for the data set whose targets are numbers rather than two classes."""
    return dataset == "regression"


__all__ = ["DATASETS", "is_regression", "regression2d"]
