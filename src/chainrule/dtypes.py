"""Floating-point dtypes: the default dtype and the conversion of user data to float arrays.

chainrule computes in float32 by default and in float64 on request (gradient checks). Integer,
boolean and float data are converted *explicitly*: a conversion that would change a value
(an integer too large for the target's mantissa, a float64 outside float32's range) is an error,
never a silent truncation. Object, string and complex data are refused.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

FLOAT_DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}

_default_dtype: np.dtype = FLOAT_DTYPES["float32"]


def resolve_dtype(dtype: Any) -> np.dtype:
    """Return the NumPy dtype for ``dtype`` ("float32", "float64", np.float32, ...), or raise."""
    if dtype is None:
        return _default_dtype
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(
            f"unknown dtype {dtype!r}; chainrule supports float32 and float64"
        ) from error
    if resolved not in FLOAT_DTYPES.values():
        raise TypeError(
            f"dtype {resolved.name} is not supported; chainrule tensors are float32 or float64"
        )
    return resolved


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that new tensors get when none is given ("float32" or "float64")."""
    global _default_dtype
    _default_dtype = resolve_dtype(dtype)


def get_default_dtype() -> np.dtype:
    """The dtype that new tensors get when none is given (float32 unless changed)."""
    return _default_dtype


@contextlib.contextmanager
def default_dtype(dtype: Any) -> Iterator[None]:
    """The default dtype inside the block (a layer built there takes it), restored after."""
    previous = get_default_dtype()
    set_default_dtype(dtype)
    try:
        yield
    finally:
        set_default_dtype(previous)


def as_float_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` (scalar, nested list, ndarray) to a float ndarray of ``dtype``.

    ``dtype=None`` means the default dtype. Raises ``TypeError`` for object, string and complex
    data and ``ValueError`` where the conversion would change a value.
    """
    target = resolve_dtype(dtype)
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise TypeError(f"cannot make a tensor from ragged or mixed data: {error}") from error
    kind = array.dtype.kind
    if kind == "f":
        if array.dtype == target:
            return array
        if target.itemsize < array.dtype.itemsize:
            return _narrow_float(array, target)
        return array.astype(target)
    if kind == "b":
        return array.astype(target)
    if kind in "iu":
        return _exact_int_to_float(array, target)
    if kind == "c":
        raise TypeError(
            "complex data is not supported; chainrule tensors are real (float32/float64)"
        )
    if kind == "O":
        raise TypeError(
            "object data (None, ragged lists or Python objects) cannot become a tensor; "
            "pass numbers or a numeric ndarray"
        )
    raise TypeError(f"data of dtype {array.dtype} cannot become a tensor; pass numbers")


def _narrow_float(array: np.ndarray, target: np.dtype) -> np.ndarray:
    with np.errstate(over="ignore"):
        narrowed = array.astype(target)
    overflowed = np.isfinite(array) & ~np.isfinite(narrowed)
    if overflowed.any():
        example = array[overflowed].flat[0]
        raise ValueError(
            f"value {example!r} is outside the range of {target.name}; "
            "use dtype='float64' or rescale the data"
        )
    return narrowed


def _exact_int_to_float(array: np.ndarray, target: np.dtype) -> np.ndarray:
    converted = array.astype(target)
    exact_limit = 2 ** (np.finfo(target).nmant + 1)
    large = (array > exact_limit) | (array < -exact_limit)
    if large.any():
        for original, as_float in zip(array[large].tolist(), converted[large].tolist()):
            if int(as_float) != original:
                raise ValueError(
                    f"integer {original} cannot be represented exactly in {target.name} "
                    f"(it would become {int(as_float)}); use dtype='float64' or float data"
                )
    return converted


def all_finite(array: np.ndarray) -> bool:
    """True when every entry of a float array is finite: Σx² in one BLAS pass (finite exactly
    when all entries are, unless the sum overflows, which the elementwise test then settles)."""
    if array.size <= 4096:  # small: the plain test is cheaper than the dot's error state
        return bool(np.isfinite(array).all())
    flat = array.reshape(-1)
    with np.errstate(all="ignore"):
        if math.isfinite(float(np.dot(flat, flat))):
            return True
    return bool(np.isfinite(array).all())


__all__ = [
    "all_finite",
    "as_float_array",
    "default_dtype",
    "FLOAT_DTYPES",
    "get_default_dtype",
    "resolve_dtype",
    "set_default_dtype",
]
