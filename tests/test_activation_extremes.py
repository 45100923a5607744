"""Every activation of the catalog at the extremes: one table, name × dtype × point × function.

At z = ±1e4, ±1e30, ±∞ and NaN, in float32 and float64, g, g', g'' and g' from the output
a = g(z) must be what the mathematics says, finite wherever it is finite, with no RuntimeWarning
escaping (an overflow inside a formula is a bug even when the result happens to be right).

The expected value at a finite point is PyTorch's (float64, g' through autograd, g'' through
double backward, at the point rounded to the dtype), except where PyTorch itself is NaN there
(mish'' at 1e4: an ∞·0 in its double backward), where the true value has already reached the
limit on that side. At ±∞ it is the limit written in ``Case.at_infinity`` (PyTorch gives NaN for
gelu(−∞), gelu'(+∞), …); where PyTorch is not NaN at ±∞ it must agree with that limit too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from chainrule import activations
from test_activations import ELEMENTWISE, VECTOR, Case

POINTS = (-np.inf, -1e30, -1e4, 1e4, 1e30, np.inf, np.nan)
DTYPES = ("float32", "float64")
FUNCTIONS = ("forward", "derivative", "second_derivative", "derivative_from_output")
# which derivative of g each function gives (g' from the output is g')
ORDER = {"forward": 0, "derivative": 1, "second_derivative": 2, "derivative_from_output": 1}
RTOL = {"float32": 1e-6, "float64": 1e-12}


def _elementwise_rows():
    for case in ELEMENTWISE:
        activation = case.activation()
        for function in FUNCTIONS:
            if function == "derivative_from_output" and not activation.has_derivative_from_output:
                continue
            for dtype in DTYPES:
                for point in POINTS:
                    yield pytest.param(
                        case, dtype, point, function, id=f"{case.id}-{dtype}-{point:g}-{function}"
                    )


_torch_cache: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}


def _torch_at_points(torch, case: Case, dtype: str) -> dict[float, tuple[float, float, float]]:
    """PyTorch's float64 (g, g', g'') at every point rounded to ``dtype``, keyed by the point."""
    from test_activations import _torch_derivatives

    key = (case.id, dtype)
    if key not in _torch_cache:
        z = np.array(POINTS, dtype=dtype).astype(np.float64)
        value, first, second = _torch_derivatives(torch, case, z)
        if second is None:  # PyTorch lacks this double backward: g''(±∞) limit only
            second = np.full_like(z, np.nan)
        _torch_cache[key] = (value, first, second)
    return {p: tuple(column[i] for column in _torch_cache[key]) for i, p in enumerate(POINTS)}


def _limit(case: Case, order: int, point: float) -> float:
    """g, g' or g'' as z → ±∞ (the side of ``point``), from the hand-written table."""
    if order == 2:
        return 0.0
    return float(case.at_infinity[order][int(point > 0)])


def _expected(torch, case: Case, dtype: str, point: float, order: int) -> float:
    if np.isnan(point):
        return np.nan
    theirs = _torch_at_points(torch, case, dtype)[point][order]
    limit = _limit(case, order, point)
    if np.isinf(point):
        if not np.isnan(theirs):
            assert theirs == limit, f"the limit table disagrees with PyTorch: {theirs} != {limit}"
        return limit
    return limit if np.isnan(theirs) else theirs


def _evaluate(activation, function: str, z: np.ndarray) -> np.ndarray:
    if function == "derivative_from_output":
        return activation.derivative_from_output(activation.forward(z))
    return getattr(activation, function)(z)


def test_every_elementwise_case_has_its_limits():
    for case in ELEMENTWISE:
        assert len(case.at_infinity) == 2 and all(len(pair) == 2 for pair in case.at_infinity), (
            f"{case.id}: give at_infinity=((g(−∞), g(+∞)), (g'(−∞), g'(+∞)))"
        )


@pytest.mark.parametrize("case,dtype,point,function", list(_elementwise_rows()))
def test_elementwise_extremes(torch, case: Case, dtype: str, point: float, function: str):
    activation = case.activation()
    z = np.array([point], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = _evaluate(activation, function, z)
    assert ours.dtype == np.dtype(dtype)
    expected = _expected(torch, case, dtype, point, ORDER[function])
    if np.isfinite(expected):
        assert np.isfinite(ours).all(), f"{case.id} {function}({point:g}) = {ours[0]}"
    np.testing.assert_allclose(ours, [expected], rtol=RTOL[dtype], atol=_atol(dtype, function))


def _atol(dtype: str, function: str) -> float:
    """Values below eps² are compared absolutely: PyTorch's softsign' is autograd's
    1/(1 + |z|) − |z|/(1 + |z|)², which cancels to 0 at 1e30 where the true value is 1e-60.
    g' from the output inherits the rounding of a: an absolute error of a few ulp."""
    eps = float(np.finfo(dtype).eps)
    return 4 * eps if function == "derivative_from_output" else eps * eps


# ---------------------------------------------------------------------- vector activations
VECTOR_POINTS = (-np.inf, -1e30, -1e4, 1e4, 1e30, np.inf)


def _vector_input(point: float, dtype: str) -> np.ndarray:
    """One row (p, ½, −p, 0, 0, ¼): one entry runs off to +∞ or −∞ against finite ones, so
    the winner of every maxout group and the limit of softmax are well defined."""
    return np.array([[point, 0.5, -point, 0.0, 0.0, 0.25]], dtype=dtype)


def _vector_limit(activation, z: np.ndarray, function: str) -> np.ndarray:
    """The limits at ±∞, from the formulas: softmax → the one-hot s of the infinite winner."""
    moved = np.moveaxis(z, activation.axis, -1) if hasattr(activation, "axis") else z
    if activation.name == "maxout":
        if function == "forward":
            return activation._grouped(z).max(axis=-1)
        if function == "derivative":
            return activation._winner_mask(z).reshape(z.shape)
        return np.zeros_like(z)
    s = (moved == np.inf).astype(z.dtype)
    n = s.shape[-1]
    eye = np.eye(n, dtype=z.dtype)
    if activation.name == "softmax":
        limits = {
            "forward": s,
            "derivative": np.zeros(s.shape + (n,)),
            "second_derivative": np.zeros(s.shape + (n, n)),
        }
    else:  # log-softmax: a = log s, J = I − 1sᵀ, H = −sⱼ(δⱼₖ − sₖ) = 0 for one-hot s
        with np.errstate(divide="ignore"):
            log_s = np.log(s)
        limits = {
            "forward": log_s,
            "derivative": eye - s[..., None, :],
            "second_derivative": np.zeros(s.shape + (n, n)),
        }
    limits["derivative_from_output"] = limits["derivative"]
    value = limits[function]
    return np.moveaxis(value, -1, activation.axis) if function == "forward" else value


def _torch_vector(torch, case: Case, activation, z: np.ndarray, function: str) -> np.ndarray:
    import torch.nn.functional as F
    from torch.autograd.functional import jacobian

    x = torch.tensor(z.astype(np.float64))

    def g(t):
        return case.oracle(torch, F, t)

    if function == "forward":
        return g(x).numpy()
    if activation.name == "maxout":  # our g' is the winner mask shaped like z; g'' is 0
        if function == "second_derivative":
            return np.zeros_like(z, dtype=np.float64)
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(g(x).sum(), x)
        return grad.numpy()

    def along_last(t):  # the Jacobian layout of the catalog: activation axis moved last
        return torch.movedim(g(torch.movedim(t, -1, activation.axis)), activation.axis, -1)

    last = torch.movedim(x, activation.axis, -1)[0]

    def row(t):
        return along_last(t[None])[0]

    if function in ("derivative", "derivative_from_output"):
        return jacobian(row, last).numpy()[None]
    return jacobian(lambda t: jacobian(row, t, create_graph=True), last).numpy()[None]


def _vector_rows():
    for case in VECTOR:
        functions = FUNCTIONS if case.name != "maxout" else FUNCTIONS[:3]
        for function in functions:
            for dtype in DTYPES:
                for point in VECTOR_POINTS:
                    yield pytest.param(
                        case, dtype, point, function, id=f"{case.id}-{dtype}-{point:g}-{function}"
                    )


@pytest.mark.parametrize("case,dtype,point,function", list(_vector_rows()))
def test_vector_extremes(torch, case: Case, dtype: str, point: float, function: str):
    activation = case.activation()
    z = _vector_input(point, dtype)
    if getattr(activation, "axis", -1) == 0:
        z = z.T.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = _evaluate(activation, function, z)
    assert ours.dtype == np.dtype(dtype)
    if np.isinf(point):
        expected = _vector_limit(activation, z, function)
    else:
        expected = _torch_vector(torch, case, activation, z, function)
    assert ours.shape == expected.shape
    assert (np.isfinite(ours) == np.isfinite(expected)).all(), ours
    atol = 4 * np.finfo(dtype).eps
    np.testing.assert_allclose(ours, expected, rtol=RTOL[dtype], atol=atol)


@pytest.mark.parametrize("case", VECTOR, ids=[c.id for c in VECTOR])
def test_vector_nan_stays_in_its_own_vector(case: Case):
    activation = case.activation()
    z = np.zeros((2, 6))
    z[0, 0] = np.nan
    axis = getattr(activation, "axis", -1)
    if axis == 0:
        z = z.T.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = activation.forward(z).T if axis == 0 else activation.forward(z)
        slope = activation.derivative(z)
    assert np.isnan(value[0]).any() and not np.isnan(value[1]).any()
    assert np.isnan(slope).any()


def _sigmoid_by_selection(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.asarray(np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))).astype(z.dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_stable_sigmoid_is_the_selection_of_its_two_quotients(dtype: str):
    """σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) below (e = e^(−|z|)): the kernel computes the
    numerator as e^(min(z, 0)) instead of selecting with np.where, and must give those bits."""
    from chainrule.activations.classic import stable_sigmoid

    z = (np.random.default_rng(0).standard_normal(4096) * 30).astype(dtype)
    z[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, -100.0]
    with np.errstate(all="ignore"):
        for shaped in (z, z.reshape(64, 64), z[::3], z[3:4].reshape(()), z[4:5].reshape(())):
            got = stable_sigmoid(shaped)
            assert got.dtype == np.dtype(dtype) and got.shape == shaped.shape
            assert np.array_equal(got, _sigmoid_by_selection(shaped), equal_nan=True)


def _where_forms(name: str, z: np.ndarray) -> dict[str, np.ndarray]:
    """The np.where forms these piecewise activations were written with (their twins)."""
    gamma = {"leaky_relu": 0.01, "leaky_relu_0": 0.0, "leaky_relu_1": 1.0, "leaky_relu_2": 2.0}
    if name in gamma:
        g = gamma[name]
        return {"forward": np.where(z > 0, z, g * z), "derivative": np.where(z > 0, 1.0, g)}
    alpha, scale, divisor = {
        "elu": (1.0, 1.0, 1.0),
        "selu": (1.6732632423543772, 1.0507009873554805, 1.0),
        "celu": (2.0, 1.0, 2.0),
    }[name]
    left = np.minimum(z, 0) if divisor == 1.0 else np.minimum(z, 0) / divisor
    a = np.where(z > 0, z, alpha * np.expm1(left))
    a = a if scale == 1.0 else scale * a
    slope = scale * alpha / divisor
    return {
        "forward": a,
        "derivative": np.where(z > 0, scale, slope * np.exp(left)),
        "second_derivative": np.where(z < 0, slope * np.exp(left) / divisor, 0.0),
    }


@pytest.mark.parametrize(
    "name", ["leaky_relu", "leaky_relu_0", "leaky_relu_1", "leaky_relu_2", "elu", "selu", "celu"]
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_piecewise_activations_give_the_bits_of_their_np_where_forms(name: str, dtype: str):
    """Leaky ReLU's max(z, γz) (0 < γ ≤ 1) and the bit selections replacing np.where (a branch
    per entry) must reproduce the np.where forms exactly, signed zeros and infinities included."""
    params = {"leaky_relu_0": {"gamma": 0.0}, "leaky_relu_1": {"gamma": 1.0}}
    params.update({"leaky_relu_2": {"gamma": 2.0}, "celu": {"alpha": 2.0}})
    activation = activations.get(
        name.rstrip("_0123") if "leaky" in name else name, **params.get(name, {})
    )
    z = (np.random.default_rng(1).standard_normal(4096) * 5).astype(dtype)
    z[:7] = [np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, -1e-45]
    bits = {"float32": np.uint32, "float64": np.uint64}[dtype]
    with np.errstate(all="ignore"):
        for method, expected in _where_forms(name, z).items():
            expected = np.asarray(expected).astype(dtype)
            if method == "derivative" and activation.kinks:  # the kink value at exactly 0
                expected[(z == 0)] = activation.default_subgradients[0]
            got = getattr(activation, method)(z)
            assert np.array_equal(got.view(bits), expected.view(bits)), method
        nan = np.full(600, np.nan, dtype)
        assert (
            np.isnan(activation.forward(nan)).all() and np.isnan(activation.derivative(nan)).all()
        )
