"""Metrics m(y_true, y_pred) → float: accuracies, regression errors, and a confusion matrix.

Metrics are plain NumPy functions of the targets and the predictions (arrays, lists or Tensors);
they are measured, never differentiated. Each returns a Python float averaged over every
example (and every output, for the element-wise ones):

* binary accuracy      mean[ y == 1(ŷ > t) ]          ŷ probabilities, threshold t (0.5)
* categorical accuracy mean[ argmax y == argmax ŷ ]   one-hot y, argmax over the last axis
* sparse categorical   mean[ y == argmax ŷ ]          integer labels y
* mean squared error   mean[ (ŷ − y)² ]
* mean absolute error  mean[ |ŷ − y| ]

``accuracy`` picks one of the three accuracies from the shapes, as Keras does. ``get`` looks a
metric up by name ("acc", "mse", ...); ``metric_name`` gives the key the training History
records it under ("val_" + that key for the validation data).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import ShapeError
from .naming import NameIndex, not_a_name, returned_as_is

Metric = Callable[[np.ndarray, np.ndarray], float]


# ---------------------------------------------------------------------- input checks
def _arrays(name: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both arguments as arrays, refusing NaN and empty inputs with a message naming ``name``."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    for what, array in (("y_pred", y_pred), ("y_true", y_true)):
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name}: {what} must be numeric, got dtype {array.dtype}")
        if array.size == 0:
            raise ValueError(f"{name}: {what} is empty (shape {array.shape}); nothing to measure")
        if array.dtype.kind == "f":
            nan = np.isnan(array)
            if nan.any():
                first = tuple(int(i) for i in np.argwhere(nan)[0])
                cause = (
                    "the model's output diverged or its input contains NaN"
                    if what == "y_pred"
                    else "the targets contain missing values"
                )
                raise ValueError(
                    f"{name}: {what} contains NaN at {int(nan.sum())} of {array.size} positions "
                    f"(first at index {first}); {cause}"
                )
    return y_true, y_pred


def _same_shape(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal shapes, allowing one side a trailing axis of length 1 ((n,) against (n, 1)).

    Broadcasting (n,) against (n, 1) would silently compare every pair, so nothing else is
    accepted.
    """
    if y_true.shape == y_pred.shape:
        return y_true, y_pred
    if y_pred.shape == y_true.shape + (1,):
        return y_true, y_pred[..., 0]
    if y_true.shape == y_pred.shape + (1,):
        return y_true[..., 0], y_pred
    raise ShapeError(
        f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must "
        "match (a trailing axis of length 1 on one side is allowed)"
    )


def _labels(name: str, what: str, labels: np.ndarray, classes: int | None) -> np.ndarray:
    """Whole-number class labels as int64, checked to lie in [0, classes)."""
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError(f"{name}: {what} must be integer class labels, got non-integer values")
    elif labels.dtype.kind == "b":
        raise TypeError(f"{name}: {what} must be integer class labels, got booleans")
    result = labels.astype(np.int64)
    if result.size and result.min() < 0:
        raise ValueError(f"{name}: {what} contains the negative label {int(result.min())}")
    if classes is not None and result.size and result.max() >= classes:
        raise ValueError(
            f"{name}: {what} contains label {int(result.max())}, out of range for {classes} classes"
        )
    return result


def _mean(hits: np.ndarray) -> float:
    return float(np.mean(hits, dtype=np.float64))


# ---------------------------------------------------------------------- accuracies
def binary_accuracy(
    y_true: Any, y_pred: Any, threshold: float = 0.5, *, from_logits: bool = False
) -> float:
    """Fraction of outputs whose thresholded prediction equals the 0/1 target.

    mean[ y == 1(ŷ > t) ] with ŷ probabilities and threshold t. With ``from_logits=True`` ŷ are
    logits z and the test is z > log(t / (1 − t)), the same decision as σ(z) > t (so 0 for the
    default t = 0.5). y_true may be (n,) against predictions of shape (n, 1).

    >>> binary_accuracy([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.6])
    0.5
    >>> binary_accuracy([0, 1, 1, 0], [-1.5, 2.0, 0.3, -0.1], from_logits=True)
    1.0
    """
    name = "binary_accuracy"
    y_true, y_pred = _same_shape(name, *_arrays(name, y_true, y_pred))
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"{name}: threshold must lie strictly between 0 and 1, got {threshold}")
    if not np.all((y_true == 0) | (y_true == 1)):
        bad = y_true[(y_true != 0) & (y_true != 1)].flat[0]
        raise ValueError(f"{name}: y_true must contain only 0 and 1, found {bad!r}")
    cut = float(np.log(threshold / (1.0 - threshold))) if from_logits else threshold
    return _mean(y_true.astype(bool) == (y_pred > cut))


def categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of examples whose largest prediction is at the one-hot target's class.

    mean[ argmax y == argmax ŷ ] along the last axis (ties go to the first class). y_true are
    one-hot (or probability) vectors of y_pred's shape; integer labels belong to
    ``sparse_categorical_accuracy``.

    >>> categorical_accuracy([[0, 1, 0], [1, 0, 0]], [[0.1, 0.8, 0.1], [0.3, 0.6, 0.1]])
    0.5
    """
    name = "categorical_accuracy"
    y_true, y_pred = _arrays(name, y_true, y_pred)
    if y_pred.ndim == 0 or y_true.shape != y_pred.shape:
        hint = (
            " (integer labels: use sparse_categorical_accuracy)"
            if y_pred.ndim and y_true.shape in (y_pred.shape[:-1], y_pred.shape[:-1] + (1,))
            else ""
        )
        raise ShapeError(
            f"{name}: y_true must be one-hot of y_pred's shape {y_pred.shape}, got shape "
            f"{y_true.shape}{hint}"
        )
    return _mean(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of examples whose largest prediction is at the integer label's class.

    mean[ y == argmax ŷ ] with ŷ of shape (..., C) and y integer labels in [0, C) of shape (...)
    (or (..., 1)).

    >>> sparse_categorical_accuracy([1, 0, 2], [[0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0, 0, 1]])
    0.6666666666666666
    """
    name = "sparse_categorical_accuracy"
    y_true, y_pred = _arrays(name, y_true, y_pred)
    if y_pred.ndim == 0:
        raise ShapeError(f"{name}: y_pred must have a class axis, got a scalar")
    label_shape = y_pred.shape[:-1]
    if y_true.shape == label_shape + (1,) and y_pred.shape[-1] != 1:
        y_true = y_true[..., 0]
    if y_true.shape != label_shape:
        one_hot = y_true.shape == y_pred.shape
        hint = " (one-hot targets: use categorical_accuracy)" if one_hot else ""
        raise ShapeError(
            f"{name}: y_pred has shape {y_pred.shape}, so y_true must be integer labels of shape "
            f"{label_shape}, got {y_true.shape}{hint}"
        )
    labels = _labels(name, "y_true", y_true, y_pred.shape[-1])
    return _mean(labels == np.argmax(y_pred, axis=-1))


def accuracy(y_true: Any, y_pred: Any, *, from_logits: bool = False) -> float:
    """The accuracy that fits the shapes (Keras' rule for metrics=["accuracy"]).

    * binary (``binary_accuracy``, threshold 0.5): y_pred's last axis has length 1, or y_pred is
      1-D with y_true of the same shape;
    * sparse categorical: y_true has one axis fewer than y_pred (integer labels), or a last axis
      of length 1 where y_pred's is longer;
    * categorical: y_true has y_pred's shape, with a last axis longer than 1 (one-hot).

    ``from_logits`` only matters for the binary case (logits are thresholded at 0).

    >>> accuracy([0, 0], [[0.1, 0.9], [0.8, 0.2]])  # labels → sparse
    0.5
    >>> accuracy([[0, 1], [1, 0]], [[0.1, 0.9], [0.8, 0.2]])  # one-hot → categorical
    1.0
    >>> accuracy([[1], [0]], [[0.9], [0.8]])  # one output → binary
    0.5
    """
    true_shape, pred_shape = np.shape(y_true), np.shape(y_pred)
    if len(pred_shape) == 0:
        raise ShapeError("accuracy: y_pred must be at least 1-D, got a scalar")
    if pred_shape[-1] == 1 or (len(pred_shape) == 1 and true_shape == pred_shape):
        return binary_accuracy(y_true, y_pred, from_logits=from_logits)
    if len(true_shape) == len(pred_shape) - 1 or (
        len(true_shape) == len(pred_shape) and true_shape[-1:] == (1,)
    ):
        return sparse_categorical_accuracy(y_true, y_pred)
    if true_shape == pred_shape:
        return categorical_accuracy(y_true, y_pred)
    raise ShapeError(
        f"accuracy: cannot tell the kind of accuracy from y_true shape {true_shape} and y_pred "
        f"shape {pred_shape}; expected y_pred (..., 1) with 0/1 targets (binary), y_true of "
        f"shape {pred_shape[:-1]} with integer labels (sparse) or y_true one-hot of shape "
        f"{pred_shape} (categorical)"
    )


# ---------------------------------------------------------------------- regression
def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    """MSE: mean[ (ŷ − y)² ] over every element.

    >>> mean_squared_error([1.0, 2.0, 3.0], [1.5, 2.0, 1.0])
    1.4166666666666667
    """
    name = "mean_squared_error"
    y_true, y_pred = _same_shape(name, *_arrays(name, y_true, y_pred))
    difference = y_pred.astype(np.float64) - y_true.astype(np.float64)
    return _mean(difference * difference)


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    """MAE: mean[ |ŷ − y| ] over every element.

    >>> mean_absolute_error([1.0, 2.0, 3.0], [1.5, 2.0, 1.0])
    0.8333333333333334
    """
    name = "mean_absolute_error"
    y_true, y_pred = _same_shape(name, *_arrays(name, y_true, y_pred))
    return _mean(np.abs(y_pred.astype(np.float64) - y_true.astype(np.float64)))


# ---------------------------------------------------------------------- confusion matrix
def confusion_matrix(
    y_true_labels: Any, y_pred_labels: Any, num_classes: int | None = None
) -> np.ndarray:
    """Counts C[i, j] = #{examples of true class i predicted as class j} (rows true, cols pred).

    Labels are integers in [0, num_classes); ``num_classes`` defaults to the largest label + 1.
    The diagonal holds the correct predictions, so trace(C) / sum(C) is the accuracy.

    >>> confusion_matrix([0, 1, 2, 2], [0, 2, 2, 1])
    array([[1, 0, 0],
           [0, 0, 1],
           [0, 1, 1]])
    """
    name = "confusion_matrix"
    true = np.asarray(y_true_labels)
    pred = np.asarray(y_pred_labels)
    if true.shape != pred.shape:
        hint = (
            " (pass predicted labels, e.g. y_pred.argmax(-1), not scores)"
            if pred.ndim == true.ndim + 1
            else ""
        )
        raise ShapeError(
            f"{name}: y_true_labels has shape {true.shape} but y_pred_labels has shape "
            f"{pred.shape}; they must match{hint}"
        )
    if num_classes is not None and (
        isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1
    ):
        raise ValueError(f"{name}: num_classes must be a positive integer, got {num_classes!r}")
    for what, labels in (("y_true_labels", true), ("y_pred_labels", pred)):
        if labels.dtype.kind not in "iuf":
            raise TypeError(f"{name}: {what} must be integer labels, got dtype {labels.dtype}")
    true = _labels(name, "y_true_labels", true, num_classes).ravel()
    pred = _labels(name, "y_pred_labels", pred, num_classes).ravel()
    if num_classes is None:
        num_classes = int(max(true.max(initial=-1), pred.max(initial=-1))) + 1
    n = int(num_classes)
    counts = np.bincount(true * n + pred, minlength=n * n)
    return counts.reshape(n, n).astype(np.int64)


# ---------------------------------------------------------------------- registry
_CATALOG: dict[str, tuple[Metric, tuple[str, ...]]] = {
    "accuracy": (accuracy, ("acc",)),
    "binary_accuracy": (binary_accuracy, ()),
    "categorical_accuracy": (categorical_accuracy, ()),
    "sparse_categorical_accuracy": (sparse_categorical_accuracy, ()),
    "mse": (mean_squared_error, ("mean_squared_error",)),
    "mae": (mean_absolute_error, ("mean_absolute_error",)),
}


_index = NameIndex(
    "metric",
    advice=" (aliases: acc, mean_squared_error, mean_absolute_error), or pass a function "
    "f(y_true, y_pred) -> float",
)
for _canonical_name, (_, _aliases) in _CATALOG.items():
    _index.add(_canonical_name, _aliases)
_names_of_functions = [(function, canonical) for canonical, (function, _) in _CATALOG.items()]


def format_confusion_matrix(matrix: Any, classes: Sequence[str]) -> str:
    """The confusion matrix ``C`` as a text table, rows the true class and columns the predicted.

    Cell (i, j) shows C[i, j] = #{examples of true class i predicted as class j}, as
    :func:`confusion_matrix` counts it; ``classes`` names the rows and columns in order. The
    first line is the title; the columns are right-aligned to their widest cell.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape != (len(classes), len(classes)):
        raise ShapeError(
            f"a confusion matrix of {len(classes)} classes is "
            f"{len(classes)}x{len(classes)}, not of shape {matrix.shape}"
        )
    corner = "true \\ predicted"
    header = [corner, *classes]
    rows = [header] + [[name, *(str(int(v)) for v in row)] for name, row in zip(classes, matrix)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["Confusion matrix (rows: true class, columns: predicted class)"]
    for row in rows:
        lines.append(
            "  ".join(
                [row[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:]))]
            )
        )
    return "\n".join(lines)


def names() -> list[str]:
    """The canonical metric names (the keys ``metric_name`` gives them)."""
    return _index.names()


def get(name: str | Metric, **params: Any) -> Metric:
    """The metric function called ``name`` (aliases accepted, case and '_' ignored).

    A callable is returned as it is. Keyword ``params`` are bound with ``functools.partial``
    (e.g. ``get("binary_accuracy", threshold=0.7)``).

    >>> get("acc") is accuracy
    True
    >>> get("MSE")([0.0, 0.0], [1.0, 3.0])
    5.0
    """
    if callable(name):
        return returned_as_is(name, params, "a metric", "a function")
    if not isinstance(name, str):
        raise not_a_name("a metric is a name or a function", name)
    function = _CATALOG[_index.resolve(name)][0]
    if not params:
        return function
    try:  # fail now, not at the end of the first epoch, on a parameter the function lacks
        inspect.signature(function).bind_partial(None, None, **params)
    except TypeError as error:
        raise TypeError(f"metric {_index.resolve(name)}: {error}") from None
    return functools.partial(function, **params)


def metric_name(metric: str | Metric) -> str:
    """The key under which History records ``metric`` (and "val_" + key for validation data).

    Names and aliases give the canonical name; this module's functions give theirs; any other
    callable gives its ``name`` attribute or ``__name__`` (``functools.partial``: its function's).

    >>> metric_name("acc"), metric_name("mean_squared_error"), metric_name(mean_absolute_error)
    ('accuracy', 'mse', 'mae')
    """
    if isinstance(metric, str):
        return _index.resolve(metric)
    if not callable(metric):
        raise TypeError(f"a metric is a name or a function, not {type(metric).__name__}")
    given = getattr(metric, "name", None)
    if isinstance(given, str) and given:
        return given
    function = metric.func if isinstance(metric, functools.partial) else metric
    for known, canonical in _names_of_functions:
        if function is known:
            return canonical
    return getattr(function, "__name__", None) or type(function).__name__


__all__ = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "confusion_matrix",
    "format_confusion_matrix",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "Metric",
    "metric_name",
    "names",
    "sparse_categorical_accuracy",
]
