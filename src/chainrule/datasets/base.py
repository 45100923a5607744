"""The ``Dataset`` record: inputs x (n × d, float32), targets y, and what they mean.

A classification set has integer labels y ∈ {0, …, k − 1} of shape (n,) (int64), where k is
``num_classes`` (the length of ``classes`` when the names are known, else max(y) + 1); a
regression set has float32 targets of shape (n, 1) (or (n, m) for m outputs). Every value of x
is finite. These rules are checked when a Dataset is made, so a model never trains on a
malformed one.

>>> import numpy as np
>>> ds = Dataset(np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([1, 0]), name="tiny",
...              classes=["no", "yes"])
>>> len(ds), ds.num_features, ds.num_classes, ds.x.dtype.name, ds.y.dtype.name
(2, 2, 2, 'float32', 'int64')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data_path import exact_float_array
from ..dtypes import resolve_dtype
from ..errors import ShapeError

TASKS = ("classification", "regression")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Samples ``x`` (n × d float32) with targets ``y`` and their description.

    ``x`` and ``y`` are converted on construction (x to float32, or to ``dtype="float64"``,
    classification labels to int64, regression targets to that float dtype, of shape (n, 1)
    when given as (n,)); an integer the dtype cannot hold exactly, a value that
    cannot be converted exactly, a non-finite value (the error names the first bad row), a
    row-count mismatch or a negative or non-integer label is an error.
    """

    x: np.ndarray
    y: np.ndarray
    name: str = "dataset"
    task: str = "classification"
    classes: list[str] | None = None
    feature_names: list[str] | None = None
    description: str = ""
    dtype: str = "float32"  # of x and of regression targets: "float32" or "float64"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be 'classification' or 'regression', not {self.task!r}")
        dtype = resolve_dtype(self.dtype).name
        x = _features(self.x, self.name, dtype)
        n = x.shape[0]
        if self.task == "classification":
            y = _labels(self.y, n, self.name)
        else:
            y = _targets(self.y, n, self.name, dtype)
        classes = None if self.classes is None else [str(c) for c in self.classes]
        if classes is not None:
            if self.task == "regression":
                raise ValueError(f"dataset {self.name!r}: a regression set has no classes")
            if len(set(classes)) != len(classes):
                raise ValueError(f"dataset {self.name!r}: class names repeat: {classes}")
            if y.size and int(y.max()) >= len(classes):
                raise ValueError(
                    f"dataset {self.name!r}: label {int(y.max())} has no class name "
                    f"(classes has {len(classes)} names: {classes})"
                )
        features = None if self.feature_names is None else [str(f) for f in self.feature_names]
        if features is not None and len(features) != x.shape[1]:
            raise ShapeError(
                f"dataset {self.name!r}: {len(features)} feature names for {x.shape[1]} features"
            )
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "feature_names", features)
        object.__setattr__(self, "description", str(self.description))
        object.__setattr__(self, "dtype", dtype)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_features(self) -> int:
        """The number of input features d (columns of x)."""
        return int(self.x.shape[1])

    @property
    def num_classes(self) -> int | None:
        """k for classification (len(classes), else max label + 1); None for regression."""
        if self.task == "regression":
            return None
        if self.classes is not None:
            return len(self.classes)
        return int(self.y.max()) + 1 if self.y.size else 0

    def __repr__(self) -> str:
        what = (
            f"{self.num_classes} classes"
            if self.task == "classification"
            else f"{self.y.shape[1]} target(s)"
        )
        return (
            f"Dataset({self.name!r}, {self.task}, {len(self)} samples, "
            f"{self.num_features} features, {what})"
        )


def _features(data: Any, name: str, dtype: str) -> np.ndarray:
    try:
        x = exact_float_array(data, dtype, f"dataset {name!r}: x")
    except TypeError as error:
        raise TypeError(f"dataset {name!r}: x must be numeric: {error}") from error
    if x.ndim != 2:
        raise ShapeError(
            f"dataset {name!r}: x must be 2-D (samples × features), got shape {x.shape}"
        )
    finite = np.isfinite(x)
    if not finite.all():
        row, column = (int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"dataset {name!r}: x has the non-finite value {x[row, column]} in row {row} "
            f"(counting from 0), column {column}; drop or fill such rows"
        )
    return x


def _labels(data: Any, n: int, name: str) -> np.ndarray:
    y = np.asarray(data)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n:
        raise ShapeError(
            f"dataset {name!r}: classification labels must have shape ({n},) to match x's "
            f"{n} rows, got {y.shape}"
        )
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"dataset {name!r}: labels must be integers 0..k-1, got dtype {y.dtype}; map class "
            "names to integers first (load_csv does this for you)"
        )
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"dataset {name!r}: label {y[row]} in row {row} is not an integer; "
                "use task='regression' for real-valued targets"
            )
    if y.size and y.min() < 0:
        row = int(np.argmax(y < 0))
        raise ValueError(
            f"dataset {name!r}: labels must be non-negative integers 0..k-1; row {row} has {y[row]}"
        )
    return y.astype(np.int64)


def _targets(data: Any, n: int, name: str, dtype: str) -> np.ndarray:
    try:
        y = exact_float_array(data, dtype, f"dataset {name!r}: y")
    except TypeError as error:
        raise TypeError(f"dataset {name!r}: regression targets must be numeric: {error}") from error
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.ndim != 2 or y.shape[0] != n:
        raise ShapeError(
            f"dataset {name!r}: regression targets must have shape ({n}, 1) to match x's {n} "
            f"rows, got {y.shape}"
        )
    finite = np.isfinite(y)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise ValueError(
            f"dataset {name!r}: y has a non-finite value in row {row} (counting from 0)"
        )
    return y


__all__ = ["Dataset", "TASKS"]
