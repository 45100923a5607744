"""The playground's data sets: the 2-D shapes of ``chainrule.datasets``, three spirals (three
classes) and a 2-D regression.

``regression2d`` is the playground's own: points p = (x₁, x₂) uniform in [−1, 1]² and the
target y = x₁·x₂ + ½·sin(πx₁), with Gaussian noise of standard deviation ``noise`` added to y
(the classification sets add it to the points). Like the library's generators it draws the same
points for the same seed at every noise level.

>>> data = regression2d(n=4, seed=0)
>>> data.x.shape, data.y.shape, data.task
((4, 2), (4, 1), 'regression')
"""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..datasets import Dataset, circles, gaussians, load_csv, moons, spirals, xor
from ..datasets.files import _csv_features, _read_csv  # load_csv's own checks of the cells

T = TypeVar("T")


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
    return Dataset(
        x,
        y,
        name="regression2d",
        task="regression",
        feature_names=["x1", "x2"],
        description="y = x1*x2 + sin(pi*x1)/2 for p uniform in [-1, 1]^2, noise on y",
    )


def spirals3(n: int = 400, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """Three interleaved spiral arms, class c ∈ {0, 1, 2}: p = r·(cos θ, sin θ) with r uniform
    in [0.05, 1] and θ = 4r + 2πc/3; ``noise`` is the std of Gaussian noise added to p."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"spirals3: n must be an integer ≥ 3, got {n!r}")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"spirals3: noise must be a finite number ≥ 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    r = rng.uniform(0.05, 1.0, size=n)
    theta = 4.0 * r + 2.0 * math.pi * y / 3.0
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    x = x + noise * rng.standard_normal(x.shape)  # drawn at noise 0 too: the same points
    order = rng.permutation(n)
    return Dataset(
        x[order],
        y[order],
        name="spirals3",
        task="classification",
        classes=["0", "1", "2"],
        feature_names=["x1", "x2"],
        description="three interleaved spiral arms, theta = 4r + 2*pi*c/3",
    )


@dataclass(frozen=True)
class Source:
    """A data set the page offers: its generator, the import the exported snippet writes, and
    its classes (0 for the regression set)."""

    generate: Callable[..., Dataset]
    imports: str
    classes: int


def _library(name: str, generate: Callable[..., Dataset]) -> Source:
    return Source(generate, f"from chainrule.datasets import {name} as generate", 2)


#: the data sets the page offers, by name
DATASETS: dict[str, Source] = {
    "xor": _library("xor", xor),
    "circles": _library("circles", circles),
    "spirals": _library("spirals", spirals),
    "gaussians": _library("gaussians", gaussians),
    "moons": _library("moons", moons),
    "spirals3": Source(
        spirals3, "from chainrule.playground.datasets import spirals3 as generate", 3
    ),
    "regression": Source(
        regression2d, "from chainrule.playground.datasets import regression2d as generate", 0
    ),
}


#: the name a setup gives the tab's own uploaded CSV (``own_data``); it is no entry of DATASETS
OWN = "own"


def is_regression(dataset: str) -> bool:
    """True for the data set whose targets are numbers rather than classes (own data is always
    classes)."""
    return dataset in DATASETS and DATASETS[dataset].classes == 0


def class_count(dataset: str) -> int:
    """The classes of a data set (0 for regression)."""
    return DATASETS[dataset].classes


#: the largest CSV a tab may upload, in bytes
MAX_UPLOAD_BYTES = 512 * 1024
#: the most classes an uploaded CSV may have (the page has a colour for each)
MAX_CLASSES = 8
#: the fewest rows of an uploaded CSV (a training and a test part of every class)
MIN_UPLOAD_ROWS = 10


def _read_uploaded(content: bytes, read: Callable[[Path], T]) -> T:
    """``read`` applied to the uploaded bytes written to a temporary file (at most
    ``MAX_UPLOAD_BYTES``); a reader's error becomes one sentence naming "your CSV"."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the CSV has {len(content):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}")
    with tempfile.TemporaryDirectory(prefix="chainrule-upload-") as folder:
        path = Path(folder) / "your.csv"
        path.write_bytes(content)
        try:
            return read(path)
        except (ValueError, UnicodeDecodeError) as error:  # DataFileError, ShapeError, ...
            raise ValueError(str(error).replace(str(path), "your CSV")) from None


def read_own_csv(content: bytes, max_rows: int) -> Dataset:
    """An uploaded CSV as a data set, read by ``chainrule.datasets.load_csv``: a header, then
    rows of x1, x2 and the class (the last column: integers 0..k−1 or names, 2 ≤ k ≤
    ``MAX_CLASSES``), at most ``max_rows`` rows and ``MAX_UPLOAD_BYTES`` bytes. Every problem is
    a ValueError with one sentence for the page (naming the line and column the reader names)."""
    data = _read_uploaded(content, lambda path: load_csv(path, target=-1, task="classification"))
    names = list(data.feature_names or [])
    if data.x.shape[1] != 2:
        raise ValueError(
            f"your CSV has {data.x.shape[1]} feature columns ({', '.join(names)}) "
            "besides the class (the last column); the playground needs exactly 2: "
            "x1, x2"
        )
    if not MIN_UPLOAD_ROWS <= len(data.x) <= max_rows:
        raise ValueError(
            f"your CSV has {len(data.x):,} rows; the playground takes "
            f"{MIN_UPLOAD_ROWS} to {max_rows:,}"
        )
    counts = np.bincount(data.y)
    if data.classes is None and (counts == 0).any():
        missing = ", ".join(str(c) for c in np.flatnonzero(counts == 0)[:5])
        raise ValueError(
            f"the class labels of your CSV skip {missing}: number the classes 0..k-1 (or name them)"
        )
    if not 2 <= len(counts) <= MAX_CLASSES:
        raise ValueError(
            f"your CSV has {len(counts)} class(es); the playground takes 2 to {MAX_CLASSES}"
        )
    if counts.min() < 2:
        raise ValueError(
            f"class {int(counts.argmin())} has {counts.min()} row; every class "
            "needs at least 2 (one to train on, one to test)"
        )
    return data


def read_own_points(content: bytes, max_rows: int) -> np.ndarray:
    """An uploaded CSV without a class column: a header, then rows of x1, x2 (n × 2, float64),
    each cell checked by ``chainrule.datasets``' CSV reader (the checks ``load_csv`` makes of
    its feature columns); at most ``max_rows`` rows and ``MAX_UPLOAD_BYTES`` bytes."""

    def features(path: Path) -> np.ndarray:
        header, rows = _read_csv(path, ",")
        return _csv_features(path, header, rows, [0, 1])

    points = _read_uploaded(content, features)
    if not 1 <= len(points) <= max_rows:
        raise ValueError(
            f"your CSV has {len(points):,} rows; the playground takes 1 to {max_rows:,}"
        )
    return points


def read_upload(content: bytes, max_rows: int) -> Dataset | np.ndarray:
    """An uploaded CSV: with two columns (x1, x2) the points to predict (``read_own_points``),
    with three the points and their classes to train on (``read_own_csv``)."""
    if _header_width(content) == 2:
        return read_own_points(content, max_rows)
    return read_own_csv(content, max_rows)


def _header_width(content: bytes) -> int | None:
    """The columns of a CSV's first line (None when it is no text)."""
    try:
        first = content.decode("utf-8").lstrip("\ufeff").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return None
    return len(next(csv.reader([first])))


__all__ = [
    "DATASETS",
    "MAX_CLASSES",
    "MAX_UPLOAD_BYTES",
    "MIN_UPLOAD_ROWS",
    "OWN",
    "class_count",
    "is_regression",
    "read_own_csv",
    "read_own_points",
    "read_upload",
    "regression2d",
]
