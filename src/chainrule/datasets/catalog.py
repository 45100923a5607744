"""Datasets by name or by path: ``load``, ``names`` and ``describe`` (for ``chainrule datasets``).

A built-in name is looked up like every other catalog of chainrule (ignoring case, '_', '-'
and spaces; an unknown name suggests the closest ones). Anything else is a path, read by its
extension: ``.csv`` (``.tsv`` with a tab delimiter), ``.npz``, and MNIST's IDX files, whose
names contain ``idx1``/``idx3``/… or ``ubyte`` (gzipped or not). A built-in name wins over a
file of the same name in the current directory; write ``./digits`` to mean the file.

>>> load("Two-Moons", n=10).x.shape
(10, 2)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UnknownDatasetError
from ..naming import NameIndex, accepted_parameters, check_parameters
from .base import Dataset
from .digits import load_digits
from .files import existing_file, load_csv, load_idx, load_npz
from .synthetic import GENERATORS

_IDX_NAME = re.compile(r"idx\d|ubyte", re.IGNORECASE)


_index = NameIndex(
    "dataset", UnknownDatasetError, advice="; or pass the path of a .csv, .npz or IDX file"
)
_loaders: dict[str, Callable[..., Dataset]] = {"digits": load_digits, **GENERATORS}
_ALIASES: dict[str, tuple[str, ...]] = {
    "digits": ("optdigits", "uci_digits"),
    "xor": (),
    "circles": ("circle",),
    "moons": ("moon", "two_moons"),
    "spirals": ("spiral", "two_spirals"),
    "gaussians": ("gaussian", "blobs"),
    "regression1d": ("sine", "sin"),
}
for _name in _loaders:
    _index.add(_name, aliases=_ALIASES[_name])


def names() -> list[str]:
    """The built-in datasets, in catalog order."""
    return _index.names()


def describe() -> list[tuple[str, str, int, int, int | None, str]]:
    """(name, task, samples, features, classes, description) of every built-in dataset.

    Samples are those of the default arguments; classes is None for regression.
    """
    rows = []
    for name in names():
        ds = _loaders[name]()
        rows.append(
            (
                name,
                ds.task,
                len(ds),
                ds.num_features,
                ds.num_classes,
                ds.description.splitlines()[0] if ds.description else "",
            )
        )
    return rows


def file_format(path: str | os.PathLike[str]) -> str:
    """ "csv", "tsv", "npz" or "idx", from a file's name; a ValueError for anything else."""
    name = Path(path).name.lower()
    for extension in ("csv", "tsv", "npz"):
        if name.endswith(f".{extension}"):
            return extension
    if _IDX_NAME.search(name):
        return "idx"
    raise ValueError(
        f"cannot tell the format of {path} from its name; load reads .csv, .tsv, "
        ".npz and IDX files (named like train-images-idx3-ubyte, optionally .gz); "
        "or call load_csv, load_npz or load_idx yourself"
    )


def _looks_like_path(text: str) -> bool:
    return (
        os.sep in text
        or "/" in text
        or bool(Path(text).suffix)
        or bool(_IDX_NAME.search(text))
        or Path(text).exists()
    )


def load(
    name_or_path: str | os.PathLike[str], target: str | int | None = None, **kwargs: Any
) -> Dataset:
    """A built-in dataset by name (``kwargs`` go to it: n, noise, seed) or a data file.

    For a CSV file ``target`` is the target column (name or index) and ``kwargs`` go to
    ``load_csv`` (delimiter, task); for an NPZ file ``target`` is the name of the target array
    (``y_key``) and ``kwargs`` go to ``load_npz``; for IDX files ``kwargs`` go to ``load_idx``
    (labels_path). A path that does not exist is a FileNotFoundError naming it.

    Args:
        name_or_path: a built-in name (``chainrule datasets`` lists them: xor, circles,
            moons, spirals, gaussians, regression1d, digits) or the path of a CSV/TSV, NPZ or
            IDX file.
        target: a file's target column (CSV: name or index) or array (NPZ).
        **kwargs: the built-in set's parameters (n, noise, seed), or the file reader's.

    Returns:
        A ``Dataset``: ``x`` (n × d), ``y``, the task, class names and feature names.

    Raises:
        FileNotFoundError: the path does not exist.
        DataFileError: the file is damaged or not what its suffix says (one line, naming it).
        TypeError: a parameter the data set or reader does not take (with the ones it takes).
        KeyError: an unknown built-in name (with the closest names).
    """
    if isinstance(name_or_path, str) and name_or_path in _index:
        name = _index.resolve(name_or_path)
        if target is not None:
            raise TypeError(
                f"target names a column of a data file; the built-in dataset "
                f"{name!r} has no columns to choose"
            )
        loader = _loaders[name]
        check_parameters(name, accepted_parameters(loader), kwargs)
        return loader(**kwargs)
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"load takes a dataset name or a path, not {name_or_path!r}")
    if isinstance(name_or_path, str) and not _looks_like_path(name_or_path):
        _index.resolve(name_or_path)  # raises, suggesting the closest names
    file = existing_file(name_or_path)
    kind = file_format(file)
    if kind in ("csv", "tsv"):
        if kind == "tsv":
            kwargs.setdefault("delimiter", "\t")
        check_parameters("load_csv", ["delimiter", "task", "dtype"], kwargs)
        return load_csv(file, target=target, **kwargs)
    if kind == "npz":
        check_parameters("load_npz", ["x_key", "y_key", "task", "dtype"], kwargs)
        if target is not None:
            if "y_key" in kwargs:
                raise TypeError("pass the target array as target= or y_key=, not both")
            kwargs["y_key"] = target
        return load_npz(file, **kwargs)
    if target is not None:
        raise TypeError(
            "target does not apply to IDX files; pass labels_path= to name the labels file"
        )
    check_parameters("load_idx", ["labels_path"], kwargs)
    return load_idx(file, **kwargs)


__all__ = ["describe", "file_format", "load", "names", "UnknownDatasetError"]
