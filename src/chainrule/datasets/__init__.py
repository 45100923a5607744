"""Datasets: built-in toy and real data, loaders for your own files, splitting and scaling.

A ``Dataset`` holds inputs x (n × d, float32) and targets y (int64 labels of shape (n,) for
classification, float32 of shape (n, 1) for regression) with their names and a description.

- Built in (``names()``, ``describe()``): ``load_digits()``, the UCI handwritten digits
  (1,797 8 × 8 images, 10 classes, shipped with chainrule), and the TensorFlow-Playground-style
  generators ``xor``, ``circles``, ``moons``, ``spirals``, ``gaussians`` and ``regression1d``.
- Your own files: ``load_csv``, ``load_npz``, ``load_idx`` (MNIST's format), or ``load`` for a
  name or a path alike.
- ``train_test_split`` (stratified, seeded) and ``Standardizer`` (z = (x − μ)/s with training
  statistics only; storable with ``state()``/``from_state``).

>>> from chainrule import datasets
>>> ds = datasets.load("circles", n=100, noise=0.05, seed=3)
>>> x_train, x_test, y_train, y_test = datasets.train_test_split(ds.x, ds.y, test_size=0.25)
>>> x_train.shape, x_test.shape, int(y_test.sum())
((75, 2), (25, 2), 12)
>>> scaler = datasets.Standardizer().fit(x_train)
>>> scaler.transform(x_test).dtype.name
'float32'
"""

from __future__ import annotations

from .base import TASKS, Dataset
from .catalog import UnknownDatasetError, describe, file_format, load, names
from .digits import citation, load_digits
from .files import DataFileError, find_labels, load_csv, load_idx, load_npz, read_idx
from .preprocessing import Standardizer, train_test_split
from .synthetic import circles, gaussians, moons, regression1d, spirals, xor

__all__ = [
    "TASKS",
    "DataFileError",
    "Dataset",
    "Standardizer",
    "UnknownDatasetError",
    "circles",
    "citation",
    "describe",
    "file_format",
    "find_labels",
    "gaussians",
    "load",
    "load_csv",
    "load_digits",
    "load_idx",
    "load_npz",
    "moons",
    "names",
    "read_idx",
    "regression1d",
    "spirals",
    "train_test_split",
    "xor",
]
