"""Tests for ``chainrule.special``: erf, erfc, normal_cdf and normal_pdf against ``math``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.special import erf, erfc, normal_cdf, normal_pdf

TINY = 2.2250738585072014e-308  # smallest normal float64
DENORM = 5e-324  # smallest subnormal float64
REL_TOL = 1e-14

BOUNDARIES = (0.46875, 4.0)


def _near(b: float, n: int = 200) -> np.ndarray:
    """Points hugging ``b`` from both sides: nextafter steps plus a small linspace."""
    steps = [b]
    lo = hi = b
    for _ in range(n):
        lo = math.nextafter(lo, -math.inf)
        hi = math.nextafter(hi, math.inf)
        steps += [lo, hi]
    return np.concatenate([np.array(steps), np.linspace(b - 1e-3, b + 1e-3, 2001)])


def _grid() -> np.ndarray:
    """Dense test grid over the whole interesting range, both signs."""
    rng = np.random.default_rng(12345)
    pos = np.concatenate(
        [
            np.linspace(0.0, 30.0, 60001),
            rng.uniform(0.0, 6.0, 20000),
            rng.uniform(6.0, 28.0, 5000),
            np.logspace(-320, 0, 1000),
            np.array([1e-300, 1e-200, 1e-20, 1e-16, 1.11e-16, 1e-8, 1e-3, DENORM, TINY]),
            *(_near(b) for b in BOUNDARIES),
            _near(26.543),
            np.linspace(26.0, 27.5, 3001),
        ]
    )
    return np.concatenate([pos, -pos])


GRID = _grid()


def _rel_err(got: float, ref: float) -> float:
    if ref == 0.0:
        return 0.0 if got == 0.0 else math.inf
    return abs(got - ref) / abs(ref)


def _max_rel_err(values: np.ndarray, xs: np.ndarray, ref) -> tuple[float, float]:
    worst, at = 0.0, math.nan
    for x, v in zip(xs.tolist(), values.tolist(), strict=True):
        r = _rel_err(v, ref(x))
        if r > worst:
            worst, at = r, x
    return worst, at


# ---------------------------------------------------------------------------------------------
# erf / erfc accuracy
# ---------------------------------------------------------------------------------------------


def test_erf_dense_grid_relative_error() -> None:
    worst, at = _max_rel_err(erf(GRID), GRID, math.erf)
    assert worst <= REL_TOL, f"max rel err {worst:.3e} at x={at!r}"


def test_erfc_dense_grid_relative_error_where_normal() -> None:
    got = erfc(GRID)
    worst, at = 0.0, math.nan
    for x, v in zip(GRID.tolist(), got.tolist(), strict=True):
        ref = math.erfc(x)
        if ref >= TINY:
            r = _rel_err(v, ref)
            if r > worst:
                worst, at = r, x
        else:
            # Subnormal or zero: only absolute agreement to a few units of the last place.
            assert abs(v - ref) <= 8 * DENORM, (x, v, ref)
            assert v >= 0.0
    assert worst <= REL_TOL, f"max rel err {worst:.3e} at x={at!r}"


@pytest.mark.parametrize("b", BOUNDARIES)
def test_interval_boundaries(b: float) -> None:
    xs = np.concatenate([_near(b), -_near(b)])
    assert _max_rel_err(erf(xs), xs, math.erf)[0] <= REL_TOL
    assert _max_rel_err(erfc(xs), xs, math.erfc)[0] <= REL_TOL


def test_tiny_arguments() -> None:
    xs = np.array([1e-300, -1e-300, 1e-20, -1e-20, 1e-200, DENORM, -DENORM, TINY])
    got = erf(xs)
    for x, v in zip(xs.tolist(), got.tolist(), strict=True):
        if abs(math.erf(x)) >= TINY:
            assert _rel_err(v, math.erf(x)) <= REL_TOL
        else:
            assert abs(v - math.erf(x)) <= DENORM
    np.testing.assert_array_equal(erfc(xs), np.ones_like(xs))


def test_erfc_large_positive_keeps_relative_accuracy() -> None:
    v = float(erfc(10.0))
    assert _rel_err(v, 2.08848758376254475700e-45) <= 1e-13
    assert _rel_err(float(erfc(5.0)), 1.53745979442803485019e-12) <= 1e-14
    assert _rel_err(float(erfc(26.5)), math.erfc(26.5)) <= REL_TOL
    tiny = float(erfc(27.0))  # subnormal: 5.237e-319
    assert 0.0 < tiny < TINY
    assert abs(tiny - 5.23704892378925568e-319) <= 4 * DENORM
    assert float(erfc(30.0)) == 0.0
    assert float(erfc(1e300)) == 0.0


def test_erfc_negative_side() -> None:
    xs = -np.linspace(0.0, 40.0, 4001)
    worst, _ = _max_rel_err(erfc(xs), xs, math.erfc)
    assert worst <= REL_TOL
    assert float(erfc(-6.0)) == 2.0
    assert float(erfc(-1e300)) == 2.0


def test_exact_values_and_symmetry() -> None:
    assert float(erf(0.0)) == 0.0
    z = float(erf(-0.0))
    assert z == 0.0 and math.copysign(1.0, z) == -1.0
    assert float(erfc(0.0)) == 1.0
    xs = GRID[GRID > 0]
    np.testing.assert_array_equal(erf(-xs), -erf(xs))
    np.testing.assert_array_equal(erf(np.array([6.0, 10.0, 1e300])), [1.0, 1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# Special values, dtypes, shapes, warnings
# ---------------------------------------------------------------------------------------------


def test_nan_and_inf() -> None:
    x = np.array([np.nan, np.inf, -np.inf])
    e, c, p, d = erf(x), erfc(x), normal_cdf(x), normal_pdf(x)
    assert np.isnan(e[0]) and e[1] == 1.0 and e[2] == -1.0
    assert np.isnan(c[0]) and c[1] == 0.0 and c[2] == 2.0
    assert np.isnan(p[0]) and p[1] == 1.0 and p[2] == 0.0
    assert np.isnan(d[0]) and d[1] == 0.0 and d[2] == 0.0


@pytest.mark.parametrize("fn", [erf, erfc, normal_cdf, normal_pdf])
def test_float32_preserved(fn) -> None:
    x64 = np.linspace(-8.0, 8.0, 1001)
    x32 = x64.astype(np.float32)
    out = fn(x32)
    assert out.dtype == np.float32
    assert out.shape == x32.shape
    np.testing.assert_allclose(out, fn(x32.astype(np.float64)).astype(np.float32), rtol=0, atol=0)
    np.testing.assert_allclose(out, fn(x64), rtol=1e-5, atol=1e-30)


@pytest.mark.parametrize("fn", [erf, erfc, normal_cdf, normal_pdf])
def test_dtypes_and_shapes(fn) -> None:
    assert fn(np.linspace(-3, 3, 7)).dtype == np.float64
    assert fn(np.arange(-3, 4)).dtype == np.float64
    assert fn(np.array([True, False])).dtype == np.float64
    assert fn(np.float16(0.5)).dtype == np.float16

    scalar = fn(0.75)
    assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar.dtype == np.float64
    zero_d = fn(np.array(0.75, dtype=np.float32))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()
    assert zero_d.dtype == np.float32

    cube = np.linspace(-5, 5, 60).reshape(3, 4, 5)
    out = fn(cube)
    assert out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out.ravel(), fn(cube.ravel()))
    np.testing.assert_array_equal(fn(cube.T), out.T)  # non-contiguous input

    assert fn(np.empty((0, 3))).shape == (0, 3)
    assert fn([0.1, 0.2]).shape == (2,)


def test_rejects_complex() -> None:
    with pytest.raises(TypeError):
        erf(np.array([1.0 + 1.0j]))


EXTREMES = np.array(
    [
        0.0,
        -0.0,
        DENORM,
        -DENORM,
        TINY,
        -TINY,
        1e-300,
        -1e-300,
        1e-20,
        26.5,
        27.0,
        27.3,
        30.0,
        -30.0,
        38.0,
        -38.0,
        -38.6,
        40.0,
        -40.0,
        1e10,
        -1e10,
        1e300,
        -1e300,
        np.finfo(np.float64).max,
        -np.finfo(np.float64).max,
        np.inf,
        -np.inf,
        np.nan,
    ]
)


def _extremes(dtype: type) -> np.ndarray:
    info = np.finfo(dtype)
    if dtype == np.float64:
        return EXTREMES
    small = [info.smallest_subnormal, info.tiny, info.max]
    extra = np.array(small + [-v for v in small], dtype=dtype)
    finite32 = EXTREMES[np.abs(EXTREMES) <= info.max]  # drops inf, nan and what overflows
    return np.concatenate([extra, finite32.astype(dtype), np.array([np.inf, -np.inf, np.nan])])


@pytest.mark.parametrize("fn", [erf, erfc, normal_cdf, normal_pdf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_warnings(fn, dtype) -> None:
    xs = _extremes(dtype).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(xs)
        fn(np.float64(1e300))
        fn(-1e300)
        # Not even a floating-point flag escapes (gradual underflow is handled internally).
        with np.errstate(all="raise"):
            fn(xs)
    assert np.isnan(out[-1])
    assert np.all(np.isfinite(out[:-1]))


# ---------------------------------------------------------------------------------------------
# Standard normal
# ---------------------------------------------------------------------------------------------


def _phi_ref(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _phi_tol(x: float) -> float:
    # The reference rounds -x/sqrt(2) (~1 ulp); erfc amplifies that relative error by ~x**2.
    return REL_TOL + 2.5e-16 * x * x


def test_normal_cdf_left_tail_relative_accuracy() -> None:
    xs = np.concatenate([np.linspace(-38.0, 8.0, 46001), -_near(0.46875 * math.sqrt(2.0))])
    got = normal_cdf(xs)
    for x, v in zip(xs.tolist(), got.tolist(), strict=True):
        ref = _phi_ref(x)
        if ref >= TINY:
            assert _rel_err(v, ref) <= _phi_tol(x), (x, v, ref)
    assert _rel_err(float(normal_cdf(-30.0)), 4.90671392714818705953e-198) <= 1e-13
    assert float(normal_cdf(-39.0)) == 0.0
    assert float(normal_cdf(9.0)) == 1.0


def test_normal_cdf_symmetry_and_center() -> None:
    assert float(normal_cdf(0.0)) == 0.5
    xs = np.linspace(-5.0, 5.0, 2001)
    np.testing.assert_allclose(normal_cdf(xs) + normal_cdf(-xs), 1.0, rtol=0, atol=4e-16)
    assert np.all(np.diff(normal_cdf(np.linspace(-37.0, 8.0, 10001))) >= 0.0)


def test_normal_pdf_values() -> None:
    xs = np.linspace(-38.0, 38.0, 7601)
    got = normal_pdf(xs)
    for x, v in zip(xs.tolist(), got.tolist(), strict=True):
        ref = math.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi)
        if ref >= TINY:
            # The reference rounds x*x/2, which exp turns into ~x**2/2 ulp relative error.
            assert _rel_err(v, ref) <= REL_TOL + 2.5e-16 * x * x, (x, v, ref)
    assert float(normal_pdf(0.0)) == 1.0 / math.sqrt(2.0 * math.pi)
    np.testing.assert_array_equal(normal_pdf(xs), normal_pdf(-xs))
    assert float(normal_pdf(39.0)) == 0.0


def test_against_mpmath_if_available() -> None:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    xs = np.concatenate([np.linspace(-38.0, 10.0, 1201), np.linspace(-27.0, 27.0, 1081)])
    cdf, pdf, ec = normal_cdf(xs), normal_pdf(xs), erfc(xs)
    for x, c, d, e in zip(xs.tolist(), cdf.tolist(), pdf.tolist(), ec.tolist(), strict=True):
        for got, ref in ((c, mp.ncdf(x)), (d, mp.npdf(x)), (e, mp.erfc(x))):
            if ref >= TINY:
                assert abs(got - ref) / ref <= REL_TOL, (x, got, ref)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_property_matches_math(x: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e, c = float(erf(x)), float(erfc(x))
        p, d = float(normal_cdf(x)), float(normal_pdf(x))
    if math.isnan(x):
        assert all(math.isnan(v) for v in (e, c, p, d))
        return
    assert _rel_err(e, math.erf(x)) <= REL_TOL
    ref_c = math.erfc(x)
    if ref_c >= TINY:
        assert _rel_err(c, ref_c) <= REL_TOL
    else:
        assert abs(c - ref_c) <= 8 * DENORM
    assert -1.0 <= e <= 1.0 and 0.0 <= c <= 2.0 and 0.0 <= p <= 1.0 and d >= 0.0
    if abs(x) <= 37.0:
        ref_p = _phi_ref(x)
        if ref_p >= TINY:
            assert _rel_err(p, ref_p) <= _phi_tol(x)
    assert float(erf(-x)) == -e


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-50.0, max_value=50.0, width=32), min_size=1, max_size=20))
def test_property_float32_arrays(values: list[float]) -> None:
    x32 = np.array(values, dtype=np.float32)
    for fn in (erf, erfc, normal_cdf, normal_pdf):
        out = fn(x32)
        assert out.dtype == np.float32 and out.shape == x32.shape
        np.testing.assert_array_equal(out, fn(x32.astype(np.float64)).astype(np.float32))


@pytest.mark.parametrize("fn", [erf, erfc, normal_cdf, normal_pdf])
def test_blocks_and_mixed_intervals_give_each_entry_its_own_value(fn) -> None:
    """Work goes in blocks of ``_BLOCK`` entries and evaluates every interval's form on every
    entry, selecting afterwards: an entry's value must not depend on its neighbours, its
    block or the array's shape. Compared bit for bit with the entry evaluated alone."""
    from chainrule import special

    rng = np.random.default_rng(7)
    n = 3 * special._BLOCK + 17
    values = rng.standard_normal(n) * rng.choice([0.3, 1.0, 4.0, 12.0, 40.0], n)
    values[rng.choice(n, 40, replace=False)] = [np.nan, np.inf, -np.inf, 0.0, -0.0] * 8
    got = fn(values.reshape(n, 1))
    assert got.shape == (n, 1)
    edges = [k * special._BLOCK + d for k in range(1, 4) for d in (-2, -1, 0, 1)]
    picks = np.unique(np.concatenate([edges, rng.choice(n, 300, replace=False)]))
    alone = np.array([fn(values[i]) for i in picks])
    np.testing.assert_array_equal(got[picks, 0].view(np.uint64), alone.view(np.uint64))
