"""One data path: what every entry point makes of the inputs and targets it is given.

``Model.fit``, ``evaluate``, ``predict``, ``predict_proba``, ``predict_classes``, ``health``,
``gradcheck`` and ``explain``, and the data-file readers behind ``chainrule train``,
``evaluate`` and ``predict`` all read their data here, so they agree and fail with the same
one-line ``DataError`` (a ValueError):

- **Inputs** are arrays, nested lists, Tensors or pandas DataFrames (recognised by their
  ``columns`` and ``to_numpy``; pandas itself is never imported). A DataFrame's column names
  (like a CSV header) are the feature names; the first ``fit`` keeps them with the model
  (``metadata["feature_names"]``, saved in the model file). A DataFrame given to a model that
  has feature names is matched to them **by name**, in any column order; a missing or unknown
  name is an error listing them (with did-you-mean). Plain arrays are taken by position.
- **Integers that the float dtype cannot hold exactly** are refused, not rounded: float32 holds
  every integer n with |n| ≤ 2²⁴ = 16 777 216 (float64: 2⁵³), so a feature or target such as
  an identifier 123 456 789 (which float32 would make 123 456 792) is an error naming the fix,
  float64 (``chainrule.set_default_dtype("float64")`` before building the model, or
  ``dtype="float64"`` where a data file is loaded).
- **Class labels are their distinct sorted values**: labels y with distinct values
  c₀ < c₁ < … < c_{k−1} (numbers, strings, booleans; a pandas categorical's declared categories
  in their order) are the class indices i with y = cᵢ, and the classes c are kept with the
  model (``metadata["classes"]``, saved in the model file) and given back by
  ``predict_classes``. One exception keeps index labels what they are: integer labels that
  already are indices 0..K−1 of the model's K classes (K outputs, 2 for one sigmoid/logit
  output) are taken as they are, with the classes 0..K−1 — so a training set lacking some
  class keeps every other class at its index. A data file has no model yet: its classes are
  always its distinct values (labels {3, 7} are 2 classes, {0, 1 000 000} too). Once a model
  has classes, later labels are looked up among them (a label it does not know is an error);
  integer labels match class names that are numerals ("3" matches 3), and are class indices
  0..K−1 when the classes are names without numerals ("cat", "dog").
- **One-hot targets** (rows of 0 and 1 summing to 1, at least 2 columns) are class labels by
  their position: the labels argmax(y) with the classes 0..k−1 (or the file's class names).
- **The task of a data file** is guessed from its targets: integers or text → classification,
  other numbers → regression. Targets that are class labels except for a few other numbers
  (a 0/1 column with one 0.5: at least 90% integers of at most 10 distinct values) are
  ambiguous and refused; say the task (``task="classification"`` or ``"regression"``,
  ``chainrule train --task``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np

from .dtypes import all_finite, as_float_array, resolve_dtype
from .errors import DataError, ShapeError

# Targets that are at least this fraction integers, of at most this many distinct values,
# with the rest other numbers, have an ambiguous task (see the module docstring).
LABEL_LIKE_FRACTION = 0.9
LABEL_LIKE_DISTINCT = 10
FLOAT64_ADVICE = (
    "use float64: chainrule.set_default_dtype('float64') before building the "
    "model, or dtype='float64' where a data file is loaded"
)


# ---------------------------------------------------------------------- pandas, duck-typed
def is_frame(data: Any) -> bool:
    """Whether ``data`` is a table with named columns (a pandas DataFrame)."""
    return hasattr(data, "columns") and hasattr(data, "to_numpy") and hasattr(data, "shape")


def _is_series(data: Any) -> bool:
    return (
        not is_frame(data)
        and hasattr(data, "to_numpy")
        and hasattr(data, "index")
        and hasattr(data, "dtype")
    )


def column_names(data: Any) -> list[str] | None:
    """The column names of a DataFrame (as text), None for other data."""
    return [str(name) for name in data.columns] if is_frame(data) else None


def plain(data: Any) -> np.ndarray:
    """``data`` as an ndarray: a Tensor's values, a DataFrame's or Series' ``to_numpy()``."""
    if is_frame(data) or _is_series(data):
        return np.asarray(data.to_numpy())
    values = getattr(data, "data", None)
    if isinstance(values, np.ndarray) and hasattr(data, "grad"):  # a chainrule Tensor
        return values
    return np.asarray(data)


# ---------------------------------------------------------------------- feature names
def match_columns(
    given: Sequence[str], expected: Sequence[str], where: str, ignored: Sequence[str] = ()
) -> list[int]:
    """The position in ``given`` of every name of ``expected``; a missing name or one that
    is neither expected nor ``ignored`` is a DataError listing them all."""
    missing = [name for name in expected if name not in given]
    unknown = [name for name in given if name not in expected and name not in ignored]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(_with_hint(name, unknown) for name in missing))
        if unknown:
            parts.append("unknown " + ", ".join(_with_hint(name, missing) for name in unknown))
        raise DataError(
            f"{where} does not have the model's feature columns: "
            f"{'; '.join(parts)} (the model was trained on: {', '.join(expected)})"
        )
    return [list(given).index(name) for name in expected]


def _with_hint(name: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def check_feature_names(names: Any, width: int, what: str) -> list[str]:
    """``names`` as a list of ``width`` distinct strings, else a DataError."""
    names = [str(name) for name in names]
    if len(names) != width:
        raise DataError(f"{what}: {len(names)} feature names for {width} features")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{what}: the feature names {', '.join(map(repr, repeated))} repeat")
    return names


# ---------------------------------------------------------------------- inputs
def features(
    data: Any, dtype: Any, name: str = "x", names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str] | None]:
    """(the inputs as a checked float array of ``dtype``, the DataFrame's column names or
    None). With the model's feature ``names``, a DataFrame's columns are taken by name."""
    given = column_names(data)
    array = plain(data)
    if given is not None:
        if names is not None:
            array = array[:, match_columns(given, list(names), f"{name} (a DataFrame)")]
        elif array.dtype.kind == "O":  # mixed column dtypes: name the non-numeric ones
            bad = [column for column, kind in zip(given, _column_kinds(data)) if kind not in "biuf"]
            if bad:
                raise TypeError(
                    f"{name} must be numeric; the columns {', '.join(map(repr, bad))} are not"
                )
            array = array.astype(np.float64)
    return checked_array(array, name, dtype), given


def _column_kinds(frame: Any) -> list[str]:
    return [
        np.dtype(getattr(kind, "numpy_dtype", kind)).kind if _is_numpy_like(kind) else "O"
        for kind in frame.dtypes
    ]


def _is_numpy_like(kind: Any) -> bool:
    try:
        np.dtype(getattr(kind, "numpy_dtype", kind))
    except TypeError:
        return False
    return True


def checked_array(data: Any, name: str, dtype: Any) -> np.ndarray:
    """``data`` as a float array of ``dtype`` with at least one row, every value finite and
    held exactly (integers beyond the dtype's exact range are refused)."""
    target = resolve_dtype(dtype)
    array = plain(data)
    if (
        array.dtype.kind == "O"
        and array.size
        and all(
            isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
            for v in array.ravel()[:1000]
        )
    ):
        array = array.astype(np.float64)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got data of dtype {array.dtype}")
    if array.ndim == 0 or len(array) == 0:
        raise ShapeError(f"{name} must hold at least one sample (rows), got shape {array.shape}")
    converted = exact_float_array(array, target, name)
    if not all_finite(converted):
        bad = ~np.isfinite(converted)
        row = int(np.argwhere(bad)[0][0])
        raise ValueError(f"{name} contains NaN or infinity (first in row {row})")
    return converted


def exact_float_array(data: Any, dtype: Any, name: str) -> np.ndarray:
    """``data`` as a float array of ``dtype`` (``dtypes.as_float_array``), every integer in it
    held exactly: one that would be rounded is a DataError naming it and the fix."""
    target = resolve_dtype(dtype)
    array = plain(data)
    if array.dtype.kind in "iu":
        _refuse_rounded_integers(array, array.astype(target), name, target)
    try:
        converted = as_float_array(array, target)
    except ValueError as error:
        raise DataError(f"{name}: {error}") from None
    if array.dtype.kind == "f" and array.dtype.itemsize > target.itemsize:
        _refuse_rounded_integers(array, converted, name, target)
    return converted


def _refuse_rounded_integers(
    array: np.ndarray, converted: np.ndarray, name: str, target: np.dtype
) -> None:
    """A DataError for the first integer of ``array`` that ``converted`` does not hold."""
    exact = 2 ** (np.finfo(target).nmant + 1)
    with np.errstate(invalid="ignore"):
        large = np.abs(array) > exact
    if not large.any():
        return
    if array.dtype.kind == "f":
        values = array[large]
        rounded = (values == np.round(values)) & (converted[large] != values)
    else:  # compared as Python ints: float64 cannot hold every int64 either
        rounded = np.array(
            [int(c) != a for a, c in zip(array[large].tolist(), converted[large].tolist())]
        )
    if not rounded.any():
        return
    index = tuple(int(i) for i in np.argwhere(large)[int(np.argmax(rounded))])
    where = f"row {index[0]}" + (f", column {index[1]}" if len(index) > 1 else "")
    raise DataError(
        f"{name}: the integer {int(array[index])} ({where}) cannot be held exactly in "
        f"{target.name} (it would become {int(converted[index])}; {target.name} "
        f"holds integers up to {exact}); {FLOAT64_ADVICE}"
    )


# ---------------------------------------------------------------------- labels
def is_one_hot(values: np.ndarray) -> bool:
    """Whether ``values`` are rows of 0 and 1 summing to 1, with at least 2 columns."""
    if values.ndim != 2 or values.shape[1] < 2 or values.dtype.kind not in "biuf":
        return False
    return bool(np.all((values == 0) | (values == 1)) and np.all(values.sum(axis=1) == 1))


def label_values(y: Any, name: str = "y") -> tuple[np.ndarray, list[Any] | None]:
    """(the labels as a 1-D ndarray — text as str, integral floats as int64 —, a pandas
    categorical's declared categories or None). Non-integral numbers stay floats."""
    categories = None
    if _is_series(y) and hasattr(y, "cat") and str(y.dtype) == "category":
        categories = [_scalar(c) for c in y.cat.categories.to_numpy()]
        codes = np.asarray(y.cat.codes.to_numpy(), dtype=np.int64)
        if (codes < 0).any():
            raise DataError(f"{name} has a missing label in row {int(np.argmax(codes < 0))}")
        return codes, categories
    values = plain(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.dtype.kind == "O":
        missing = [i for i, v in enumerate(values.ravel()) if v is None or v != v]
        if missing:
            raise DataError(f"{name} has a missing label (None or NaN) in row {missing[0]}")
        if all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values.ravel()
        ):
            values = values.astype(np.int64)
        else:
            values = values.astype(str)
    if values.dtype.kind == "S":
        values = values.astype(str)
    if values.dtype.kind == "f":
        if not np.isfinite(values).all():
            row = int(np.argmax(~np.isfinite(values.reshape(len(values), -1)).all(axis=1)))
            raise DataError(f"{name}: the label in row {row} is not finite")
        if np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
            values = values.astype(np.int64)
    return values, categories


def _scalar(value: Any) -> Any:
    """A class as a plain JSON-able value (numbers as int/float/bool, others as text)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _key(value: Any, as_text: bool) -> Any:
    value = _scalar(value)
    if as_text:
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return value


def encode_labels(
    y: Any, width: int | None = None, known: Sequence[Any] | None = None, name: str = "y"
) -> tuple[np.ndarray, list[Any]]:
    """(class indices int64 of shape (n,), the classes) for labels ``y``, by the rules of the
    module docstring: ``known`` classes look labels up; else integer labels in 0..width−1
    are indices with the classes 0..width−1; else the distinct sorted values are the
    classes (``width``, the model's number of classes, must then be their number).

    >>> encode_labels([3, 7, 3], width=2)
    (array([0, 1, 0]), [3, 7])
    >>> encode_labels([0, 2], width=3)  # indices of 3 classes stay indices
    (array([0, 2]), [0, 1, 2])
    >>> encode_labels(["dog", "cat"], known=["cat", "dog"])
    (array([1, 0]), ['cat', 'dog'])
    """
    values, categories = label_values(y, name)
    if values.ndim != 1:
        raise ShapeError(
            f"{name}: class labels must be one per sample (shape (n,)), got shape {values.shape}"
        )
    if values.dtype.kind == "f":
        row = int(np.argmax(values != np.round(values)))
        raise DataError(
            f"{name}: the label {values[row]:g} in row {row} is not a class label "
            "(class labels are integers or names; a classification loss needs "
            "them)"
        )
    if categories is not None:
        if known is None:
            _check_count(len(categories), width, categories, name)
            return values, categories
        values = np.array(categories, dtype=object)[values]
    if known is not None:
        return _look_up(values, list(known), name), list(known)
    if (
        values.dtype.kind in "iu"
        and width is not None
        and values.size
        and values.min() >= 0
        and values.max() < width
    ):
        return values.astype(np.int64), list(range(width))
    distinct, index = np.unique(values, return_inverse=True)
    classes = [_scalar(c) for c in distinct]
    _check_count(len(classes), width, classes, name)
    return index.reshape(-1).astype(np.int64), classes


def _check_count(count: int, width: int | None, classes: Sequence[Any], name: str) -> None:
    if width is None or count == width:
        return
    shown = _shown_classes(classes)
    if count > width:
        raise DataError(
            f"{name} has {count} distinct labels ({shown}) but the model's output "
            f"tells {width} classes apart; give the output layer {count} units "
            "(one per class)"
        )
    raise DataError(
        f"{name} has {count} distinct labels ({shown}), which are not the class "
        f"indices 0..{width - 1} of the model's {width} classes, so which output "
        f"is which class is unknown; use the labels 0..{width - 1}, or an output "
        f"layer of {count} units"
    )


def _shown_classes(classes: Sequence[Any], limit: int = 6) -> str:
    shown = ", ".join(str(c) for c in classes[:limit])
    return shown + (f", ... ({len(classes)} in all)" if len(classes) > limit else "")


def _look_up(values: np.ndarray, classes: list[Any], name: str) -> np.ndarray:
    as_text = any(isinstance(c, str) for c in classes)
    if as_text and values.dtype.kind in "iu" and not any(_is_numeral(c) for c in classes):
        if values.size and (values.min() < 0 or values.max() >= len(classes)):  # indices
            row = int(np.argmax((values < 0) | (values >= len(classes))))
            raise DataError(
                f"{name} has the class index {int(values[row])} in row {row}, "
                f"but the model has {len(classes)} classes "
                f"({_shown_classes(classes, 20)}: indices 0..{len(classes) - 1})"
            )
        return values.astype(np.int64)
    if values.dtype.kind in "iu" and _are_indices(classes):
        # classes 0..k−1: a label is its own index (a vectorised lookup; the dict below
        # would find the same, one Python call per row)
        indices = values.astype(np.int64).reshape(-1)
        indices[(indices < 0) | (indices >= len(classes))] = -1
    else:
        position = {_key(c, as_text): i for i, c in enumerate(classes)}
        indices = np.fromiter(
            (position.get(_key(v, as_text), -1) for v in values.tolist()),
            dtype=np.int64,
            count=len(values),
        )
    if (indices < 0).any():
        row = int(np.argmax(indices < 0))
        raise DataError(
            f"{name} has the label {_scalar(values[row])!r} in row {row}, which is "
            f"not one of the model's classes ({_shown_classes(classes, 20)})"
        )
    return indices


def _are_indices(classes: Sequence[Any]) -> bool:
    """True when the classes are the integers 0, 1, …, k−1 in order (not bools)."""
    return all(type(c) is int and c == i for i, c in enumerate(classes))


def _is_numeral(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def decode_labels(indices: np.ndarray, classes: Sequence[Any] | None) -> np.ndarray:
    """The classes of ``indices`` (an array of the classes' kind), the indices without
    classes."""
    if classes is None:
        return np.asarray(indices, dtype=np.int64)
    return np.asarray(list(classes))[np.asarray(indices, dtype=np.int64)]


def check_classes(classes: Any, what: str) -> list[Any]:
    """``classes`` as a list of distinct plain values of one kind (text, int, float, bool)."""
    if not isinstance(classes, (list, tuple)) or not classes:
        raise DataError(f"{what} must be a non-empty list of classes, not {classes!r}"[:200])
    kinds = {type(_scalar(c)) for c in classes}
    if len(kinds) != 1 or not kinds <= {str, int, float, bool}:
        raise DataError(f"{what} must all be text, or all numbers of one kind")
    values = [_scalar(c) for c in classes]
    if len(set(values)) != len(values):
        raise DataError(f"{what} repeat a class")
    return values


# ---------------------------------------------------------------------- the task of a file
def file_task(values: np.ndarray, task: str | None, where: str) -> str:
    """The task of a data file's numeric targets ``values`` when ``task`` is None (guessed,
    see the module docstring), else ``task``; ambiguous targets are a DataError."""
    if task is not None:
        return task
    if values.ndim != 1:
        return "classification" if is_one_hot(values) else "regression"
    stray = stray_label(values)
    if stray is not None:
        raise DataError(
            ambiguous_task(where, values, f"{values[stray]:g} in row {stray} (counting from 0)")
        )
    integral = values.dtype.kind in "biu" or bool(np.all(values == np.round(values)))
    return "classification" if integral else "regression"


def stray_label(values: np.ndarray) -> int | None:
    """The row of the first non-integer among targets that otherwise look like class labels
    (at least ``LABEL_LIKE_FRACTION`` integers of at most ``LABEL_LIKE_DISTINCT`` values),
    None when they are all integers or do not look like labels."""
    if values.dtype.kind not in "f" or values.ndim != 1 or not values.size:
        return None
    integral = values == np.round(values)
    if integral.all() or integral.mean() < LABEL_LIKE_FRACTION:
        return None
    if len(np.unique(values[integral])) > LABEL_LIKE_DISTINCT:
        return None
    return int(np.argmax(~integral))


def ambiguous_task(where: str, values: np.ndarray, stray: str) -> str:
    """The message for targets that are class labels except ``stray``."""
    integral = values[values == np.round(values)]
    labels = ", ".join(f"{v:g}" for v in np.unique(integral))
    return (
        f"{where}: the targets look like the class labels {labels} except {stray}; say "
        "which task it is: task='classification' (then fix that label) or "
        "task='regression'"
    )


__all__ = [
    "FLOAT64_ADVICE",
    "LABEL_LIKE_DISTINCT",
    "LABEL_LIKE_FRACTION",
    "ambiguous_task",
    "check_classes",
    "check_feature_names",
    "checked_array",
    "column_names",
    "decode_labels",
    "encode_labels",
    "exact_float_array",
    "features",
    "file_task",
    "is_frame",
    "is_one_hot",
    "label_values",
    "match_columns",
    "plain",
    "stray_label",
]
