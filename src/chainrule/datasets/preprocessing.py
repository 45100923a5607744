"""Splitting data for evaluation and standardising features with training statistics only.

``train_test_split`` holds out a seeded random test set. For classification labels it is
stratified: class c with n_c of the n samples gets n_test·n_c/n test samples, rounded by the
largest-remainder rule so the total is exactly n_test and every class is within one sample of
its exact share.

``Standardizer`` maps each feature j to z_j = (x_j − μ_j) / s_j, where μ_j and the population
standard deviation σ_j = √(mean((x_j − μ_j)²)) come from the data given to ``fit`` — the
training set, never the test set, or information about the test set leaks into the model.
A feature that is constant in the training data (σ_j = 0) gets s_j = 1, so it maps to 0
instead of dividing by zero; otherwise s_j = σ_j.

>>> import numpy as np
>>> x = np.array([[1.0, 5.0], [3.0, 5.0]])
>>> scaler = Standardizer().fit(x)
>>> scaler.transform(x).tolist()
[[-1.0, 0.0], [1.0, 0.0]]
>>> scaler.state()["scale"].tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..errors import ShapeError


# ---------------------------------------------------------------------- splitting
def train_test_split(
    x: Any, y: Any, test_size: float | int = 0.2, stratify: bool = True, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, x_test, y_train, y_test)``, shuffled with ``seed``.

    ``test_size`` is a fraction in (0, 1) (the test set gets test_size·n samples, rounded to the
    nearest count, halves up) or a number of samples in 1..n−1. Stratified by label when
    ``stratify`` is true and ``y`` holds integer labels (or class names); a plain shuffle when
    ``stratify=False`` or ``y`` is float (regression targets, even integral ones).
    Stratifying needs at least 2 samples in every class.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(
            f"x and y must be arrays with one row per sample, got shapes {x.shape} and {y.shape}"
        )
    n = x.shape[0]
    if y.shape[0] != n:
        raise ShapeError(f"x has {n} rows but y has {y.shape[0]}; they need one target per row")
    n_test = _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    labels = _class_labels(y) if stratify else None
    if labels is None:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        test, train = _stratified(labels, n_test, rng)
    return x[train], x[test], y[train], y[test]


def _test_count(test_size: float | int, n: int) -> int:
    if n < 2:
        raise ValueError(f"cannot split {n} sample(s) into a training and a test set")
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(
            f"test_size must be a fraction in (0, 1) or a number of samples, not {test_size!r}"
        )
    if isinstance(test_size, numbers.Integral):
        if not 1 <= test_size <= n - 1:
            raise ValueError(
                f"test_size={test_size} samples is out of range: with {n} samples it "
                f"must be 1..{n - 1}"
            )
        return int(test_size)
    if not 0.0 < test_size < 1.0:
        raise ValueError(
            f"test_size={test_size} is out of range: a fraction must be in (0, 1) "
            "(or pass a number of samples as an int)"
        )
    count = math.floor(test_size * n + 0.5)  # to the nearest count, halves up
    if not 1 <= count <= n - 1:
        raise ValueError(
            f"test_size={test_size} of {n} samples gives {count} test samples; "
            "each side needs at least one"
        )
    return count


def _class_labels(y: np.ndarray) -> np.ndarray | None:
    """The labels to stratify by, or None for regression targets (floats)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.dtype.kind not in "biuUS":
        return None
    return y


def _stratified(
    labels: np.ndarray, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    classes, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    index = index.reshape(-1)
    single = classes[counts < 2].tolist()
    if single:
        which = (
            f"class {single[0]!r} has"
            if len(single) == 1
            else f"classes {', '.join(map(repr, single))} have"
        )
        raise ValueError(
            f"cannot stratify: {which} only 1 sample (every class needs at least "
            "2, one for each side); pass stratify=False"
        )
    n = labels.shape[0]
    share = counts * n_test / n
    take = np.floor(share).astype(np.int64)
    remainder = share - take
    tiebreak = rng.permutation(classes.size)  # random among equal remainders
    order = np.lexsort((tiebreak, -remainder))
    take[order[: n_test - int(take.sum())]] += 1
    test_parts, train_parts = [], []
    for c in range(classes.size):
        members = rng.permutation(np.flatnonzero(index == c))
        test_parts.append(members[: take[c]])
        train_parts.append(members[take[c] :])
    test = rng.permutation(np.concatenate(test_parts))
    train = rng.permutation(np.concatenate(train_parts))
    return test, train


# ---------------------------------------------------------------------- standardising
class Standardizer:
    """z = (x − μ) / s per feature, with μ and s from the training data (see the module).

    ``state()`` gives the arrays {"mean": μ, "scale": s} (float64) that a model file stores;
    ``Standardizer.from_state(state)`` restores an equal standardizer. Outputs are float32.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    @property
    def num_features(self) -> int | None:
        return None if self.mean is None else int(self.mean.shape[0])

    def fit(self, x: Any) -> Standardizer:
        """Learn μ and s from the training data ``x`` (samples × features); returns self."""
        x = _matrix(x, "fit")
        if x.shape[0] == 0:
            raise ValueError("Standardizer.fit: x has no rows")
        if not np.isfinite(x).all():
            row = int(np.argwhere(~np.isfinite(x))[0][0])
            raise ValueError(f"Standardizer.fit: x has a non-finite value in row {row}")
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        constant = x.max(axis=0) == x.min(axis=0)
        mean[constant] = x[0, constant]  # exactly the value, so it maps to exactly 0
        scale[constant] = 1.0
        self.mean, self.scale = mean, scale
        return self

    def _check(self, x: Any, method: str) -> np.ndarray:
        if self.mean is None or self.scale is None:
            raise RuntimeError(f"Standardizer.{method}: not fitted yet; call fit(x_train) first")
        x = _matrix(x, method)
        if x.shape[1] != self.mean.shape[0]:
            raise ShapeError(
                f"Standardizer.{method}: expected {self.mean.shape[0]} features (as "
                f"in the data it was fitted on), got {x.shape[1]} (shape {x.shape})"
            )
        return x

    def transform(self, x: Any) -> np.ndarray:
        """(x − μ) / s as float32."""
        x = self._check(x, "transform")
        return ((x - self.mean) / self.scale).astype(np.float32)

    def fit_transform(self, x: Any) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, z: Any) -> np.ndarray:
        """z·s + μ as float32: back to the original units."""
        z = self._check(z, "inverse_transform")
        return (z * self.scale + self.mean).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        """Copies of {"mean": μ, "scale": s}, for saving."""
        if self.mean is None or self.scale is None:
            raise RuntimeError("Standardizer.state: not fitted yet; call fit(x_train) first")
        return {"mean": self.mean.copy(), "scale": self.scale.copy()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Standardizer:
        """A fitted Standardizer from ``state()``'s arrays (checked: same length, s > 0)."""
        missing = [key for key in ("mean", "scale") if key not in state]
        if missing:
            raise ValueError(
                f"Standardizer state lacks {', '.join(missing)}; it needs 'mean' and 'scale'"
            )
        mean = np.array(state["mean"], dtype=np.float64)
        scale = np.array(state["scale"], dtype=np.float64)
        if mean.ndim != 1 or scale.shape != mean.shape:
            raise ShapeError(
                f"Standardizer state: mean and scale must be 1-D of equal length, "
                f"got shapes {mean.shape} and {scale.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("Standardizer state: mean must be finite and scale finite and > 0")
        standardizer = cls()
        standardizer.mean, standardizer.scale = mean, scale
        return standardizer

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(unfitted)"
        return f"Standardizer({self.mean.shape[0]} features)"


def _matrix(x: Any, method: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Standardizer.{method}: x must be numeric, not {array.dtype}")
    if array.ndim != 2:
        raise ShapeError(
            f"Standardizer.{method}: x must be 2-D (samples × features), got shape {array.shape}"
        )
    return array.astype(np.float64)


__all__ = ["Standardizer", "train_test_split"]
