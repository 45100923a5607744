"""Elementwise selection without a branch per entry: ``select(c, x, y, dtype)``.

``np.where(c, x, y)`` branches on every entry; when ``c`` follows the signs of data (z > 0 on
pre-activations) half the branches are mispredicted and it costs ~5–6 ns per entry here
(32k float32: ~175 µs against ~5 µs for a multiply). ``select`` computes the same result from
the bit patterns instead:

    out = y ⊕ ((x ⊕ y) ∧ m),   m = −c (all bits set where c is true, none where it is false)

as unsigned integers of the float's width, so every entry is exactly x's or y's bits (NaN
payloads, −0.0 and ±∞ included): the same array as ``np.where`` followed by a cast to
``dtype``, in five branch-free passes (32k float32: ~20–35 µs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_UNSIGNED = {2: np.uint16, 4: np.uint32, 8: np.uint64}
# Below this many entries np.where's single call is cheaper than select's five.
_SMALL = 512


def select(condition: np.ndarray, x: Any, y: Any, dtype: Any) -> np.ndarray:
    """``np.where(condition, x, y)`` as an array of the float ``dtype``, bit for bit.

    ``condition`` is a boolean array; ``x`` and ``y`` are arrays or numbers, cast to ``dtype``
    first (a selection does not round, so casting before or after selecting is the same), and
    everything broadcasts as in ``np.where``. Returns a new array.
    """
    dtype = np.dtype(dtype)
    unsigned = _UNSIGNED.get(dtype.itemsize) if dtype.kind == "f" else None
    if unsigned is None or condition.dtype != np.bool_ or condition.size < _SMALL:
        return np.asarray(np.where(condition, x, y), dtype=dtype)
    x_bits = np.asarray(x, dtype=dtype).view(unsigned)
    y_bits = np.asarray(y, dtype=dtype).view(unsigned)
    mask = condition.astype(unsigned)
    np.negative(mask, out=mask)  # 1 → 2ⁿ − 1 (all bits set), 0 → 0
    bits = np.bitwise_and(np.bitwise_xor(x_bits, y_bits), mask)  # the full broadcast shape
    np.bitwise_xor(bits, y_bits, out=bits)
    return bits.view(dtype)


__all__ = ["select"]
