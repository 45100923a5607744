"""``chainrule.selection.select``: np.where's result, bit for bit, without a branch per entry."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.selection import select

_BITS = {"float16": np.uint16, "float32": np.uint32, "float64": np.uint64}


def _specials(dtype: str) -> np.ndarray:
    """Random values of both signs with NaN (two payloads), ±∞, ±0 and subnormals among them."""
    z = (np.random.default_rng(0).standard_normal(3000) * 10).astype(dtype)
    bits = z.view(_BITS[dtype])
    z[:9] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, -100.0, np.nan]
    bits[8] |= 1  # a NaN with another payload
    bits[9] = 1  # the smallest subnormal
    return z


def _same_bits(got: np.ndarray, expected: np.ndarray, dtype: str) -> bool:
    return (
        got.dtype == np.dtype(dtype)
        and got.shape == expected.shape
        and np.array_equal(got.view(_BITS[dtype]), expected.view(_BITS[dtype]))
    )


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_select_gives_the_bits_of_np_where(dtype: str):
    z = _specials(dtype)
    grid = z[:2048].reshape(32, 64)
    cases = [
        (z > 0, z, z * 0.5),  # array, array
        (z > 0, 1.0, 0.01),  # two numbers (np.where gives float64: cast after selecting)
        (z < 0, z, -0.0),  # a signed zero
        (np.isnan(z), z[::-1], z),  # NaN payloads on both sides
        (grid > 0, grid[:, :1], grid),  # broadcasting x
        (grid[:1] > 0, grid, np.float64(3.0)),  # broadcasting the condition
        (grid.T > 0, grid.T, grid.T * 2),  # non-contiguous operands
        (z[::3] > 0, z[::3], 7),  # strided, an integer
    ]
    for condition, x, y in cases:
        expected = np.asarray(np.where(condition, x, y)).astype(dtype)
        assert _same_bits(select(condition, x, y, dtype), expected, dtype)


def test_select_falls_back_to_np_where_where_bits_do_not_apply():
    z = _specials("float32")
    small = z[:10]  # below the size where five passes beat one call
    assert _same_bits(
        select(small > 0, small, 0.5, "float32"),
        np.where(small > 0, small, 0.5).astype("float32"),
        "float32",
    )
    counts = np.arange(z.size) % 3  # not a boolean condition: np.where's truthiness
    assert np.array_equal(
        select(counts, z, 0.0, "float32"), np.where(counts, z, 0.0), equal_nan=True
    )
    integers = select(z > 0, 1, 2, "int64")  # not a float dtype
    assert integers.dtype == np.int64 and np.array_equal(integers, np.where(z > 0, 1, 2))


def test_select_returns_a_new_array():
    z = _specials("float32")
    out = select(z > 0, z, 0.0, "float32")
    out[:] = 5
    assert not np.all(z == 5)
