"""One table over the whole activation catalog.

For every activation (and a few non-default parameters): forward, g' and g'' against PyTorch
(float64, through autograd and double backward) and against central finite differences;
g' from the output equals g'; the kinks use the documented defaults and follow ``subgradient``;
z = ±1000 gives no warning and no NaN; NaN in gives NaN out; float32 and float64 both work;
and the engine's backward and second-order backward use exactly g' and g''. The extremes
(±1e4, ±1e30, ±∞) are a table of their own in ``test_activation_extremes.py``, built from the
cases here and their ``at_infinity`` limits.

Adding an activation to the catalog means adding one line to ELEMENTWISE or VECTOR below
(``test_every_catalog_entry_has_an_oracle`` fails until it is there).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
from chainrule.activations import Activation


@dataclass(frozen=True)
class Case:
    name: str
    oracle: Callable  # (torch, F, x) -> torch tensor, PyTorch's version of the same function
    # ((g(−∞), g(+∞)), (g'(−∞), g'(+∞))), written from the math (g''(±∞) = 0 for all)
    at_infinity: tuple = ()
    params: dict = field(default_factory=dict)
    torch_rtol: float = 1e-10  # g' against PyTorch

    @property
    def id(self) -> str:
        suffix = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({suffix})" if suffix else self.name

    def activation(self, **extra) -> Activation:
        return cr.activations.get(self.name, **self.params, **extra)


INF = np.inf
SELU_LAMBDA, SELU_ALPHA = 1.0507009873554804934, 1.6732632423543772848

ELEMENTWISE = [
    Case("sigmoid", lambda t, F, x: t.sigmoid(x), ((0, 1), (0, 0))),
    Case("tanh", lambda t, F, x: t.tanh(x), ((-1, 1), (0, 0))),
    Case("relu", lambda t, F, x: t.relu(x), ((0, INF), (0, 1))),
    Case("leaky_relu", lambda t, F, x: F.leaky_relu(x, 0.01), ((-INF, INF), (0.01, 1))),
    Case(
        "leaky_relu", lambda t, F, x: F.leaky_relu(x, 0.2), ((-INF, INF), (0.2, 1)), {"gamma": 0.2}
    ),
    Case(
        "prelu",
        lambda t, F, x: F.prelu(x, t.tensor([0.25], dtype=x.dtype)),
        ((-INF, INF), (0.25, 1)),
    ),
    Case("elu", lambda t, F, x: F.elu(x), ((-1, INF), (0, 1))),
    Case("elu", lambda t, F, x: F.elu(x, alpha=0.5), ((-0.5, INF), (0, 1)), {"alpha": 0.5}),
    Case("softplus", lambda t, F, x: F.softplus(x), ((0, INF), (0, 1))),
    Case(
        "softplus",
        lambda t, F, x: F.softplus(x, beta=2.0, threshold=10.0),
        ((0, INF), (0, 1)),
        {"beta": 2.0, "threshold": 10.0},
    ),
    Case("identity", lambda t, F, x: x * 1.0, ((-INF, INF), (1, 1))),
    Case("gelu", lambda t, F, x: F.gelu(x), ((0, INF), (0, 1))),
    Case("gelu_tanh", lambda t, F, x: F.gelu(x, approximate="tanh"), ((0, INF), (0, 1))),
    Case("silu", lambda t, F, x: F.silu(x), ((0, INF), (0, 1))),
    Case("mish", lambda t, F, x: F.mish(x), ((0, INF), (0, 1))),
    Case("selu", lambda t, F, x: F.selu(x), ((-SELU_LAMBDA * SELU_ALPHA, INF), (0, SELU_LAMBDA))),
    Case("celu", lambda t, F, x: F.celu(x), ((-1, INF), (0, 1))),
    Case("celu", lambda t, F, x: F.celu(x, alpha=2.0), ((-2, INF), (0, 1)), {"alpha": 2.0}),
    # PyTorch's hardsigmoid backward multiplies by a float32 1/6 even in float64.
    Case("hard_sigmoid", lambda t, F, x: F.hardsigmoid(x), ((0, 1), (0, 0)), torch_rtol=1e-7),
    Case("hard_tanh", lambda t, F, x: F.hardtanh(x), ((-1, 1), (0, 0))),
    Case("hard_swish", lambda t, F, x: F.hardswish(x), ((0, INF), (0, 1))),
    Case("relu6", lambda t, F, x: F.relu6(x), ((0, 6), (0, 0))),
    Case("softsign", lambda t, F, x: F.softsign(x), ((-1, 1), (0, 0))),
    Case("log_sigmoid", lambda t, F, x: F.logsigmoid(x), ((-INF, 0), (1, 0))),
]

VECTOR = [
    Case("softmax", lambda t, F, x: F.softmax(x, dim=-1)),
    Case("softmax", lambda t, F, x: F.softmax(x, dim=0), params={"axis": 0}),
    Case("log_softmax", lambda t, F, x: F.log_softmax(x, dim=-1)),
    Case("log_softmax", lambda t, F, x: F.log_softmax(x, dim=0), params={"axis": 0}),
    Case("maxout", lambda t, F, x: x.reshape(*x.shape[:-1], -1, 2).amax(-1), params={"pieces": 2}),
    Case("maxout", lambda t, F, x: x.reshape(*x.shape[:-1], -1, 3).amax(-1), params={"pieces": 3}),
]

FD_STEP = 1e-6


def _grid(activation: Activation) -> np.ndarray:
    """Points over the interesting range plus tails, at least 1e-3 away from every kink."""
    z = np.concatenate([np.linspace(-7.0, 7.0, 281) + 0.0123, [-40.3, -15.7, 15.7, 40.3]])
    for kink in activation.kinks:
        z = z[np.abs(z - kink) > 1e-3]
    return z


def _torch_derivatives(torch, case: Case, z: np.ndarray):
    import torch.nn.functional as F

    x = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    y = case.oracle(torch, F, x)
    (first,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    second = np.zeros_like(z)
    if first.requires_grad:
        try:
            (found,) = torch.autograd.grad(first.sum(), x, allow_unused=True)
        except RuntimeError as error:  # PyTorch lacks some double backwards (hardsigmoid)
            if "not implemented" not in str(error):
                raise
            second = None  # g'' is then checked against finite differences only
        else:
            if found is not None:
                second = found.detach().numpy(force=True)
    return y.detach().numpy(), first.detach().numpy(force=True), second


def _engine_derivatives(activation: Activation, z: np.ndarray):
    """g' and g'' as the autodiff engine computes them (backward, then backward of backward)."""
    x = cr.tensor(z, requires_grad=True, dtype="float64")
    y = activation(x)
    (first,) = cr.gradients(y.sum(), [x], create_graph=True)
    if first.requires_grad:
        (second,) = cr.gradients(first.sum(), [x], allow_unused=True)
    else:
        second = None
    return y.numpy(), first.numpy(), np.zeros_like(z) if second is None else second.numpy()


def test_every_catalog_entry_has_an_oracle():
    covered = {case.name for case in ELEMENTWISE + VECTOR}
    assert set(cr.activations.names()) <= covered, set(cr.activations.names()) - covered


def test_catalog_has_every_spec_activation():
    spec = {
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "prelu",
        "elu",
        "softplus",
        "softmax",
        "maxout",
        "identity",
        "gelu",
        "gelu_tanh",
        "silu",
        "mish",
        "selu",
        "celu",
        "hard_sigmoid",
        "hard_tanh",
        "hard_swish",
        "relu6",
        "softsign",
        "log_sigmoid",
    }
    assert spec <= set(cr.activations.names())


# ---------------------------------------------------------------------- elementwise table
@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_matches_pytorch_away_from_kinks(torch, case: Case):
    activation = case.activation()
    z = _grid(activation)
    t_value, t_first, t_second = _torch_derivatives(torch, case, z)
    np.testing.assert_allclose(activation.forward(z), t_value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(activation.derivative(z), t_first, rtol=case.torch_rtol, atol=1e-14)
    if t_second is not None:
        np.testing.assert_allclose(activation.second_derivative(z), t_second, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_matches_finite_differences(case: Case):
    activation = case.activation()
    z = _grid(activation)
    numeric_first = (activation.forward(z + FD_STEP) - activation.forward(z - FD_STEP)) / (
        2 * FD_STEP
    )
    numeric_second = (activation.derivative(z + FD_STEP) - activation.derivative(z - FD_STEP)) / (
        2 * FD_STEP
    )
    np.testing.assert_allclose(activation.derivative(z), numeric_first, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        activation.second_derivative(z), numeric_second, rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_engine_backward_uses_analytic_derivatives(case: Case):
    activation = case.activation()
    z = _grid(activation)
    value, first, second = _engine_derivatives(activation, z)
    np.testing.assert_array_equal(value, activation.forward(z))
    np.testing.assert_allclose(first, activation.derivative(z), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(second, activation.second_derivative(z), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_derivative_from_output_equals_derivative(case: Case):
    activation = case.activation()
    if not activation.has_derivative_from_output:
        assert activation.derivative_from_output_formula is None
        with pytest.raises(NotImplementedError, match="output"):
            activation.derivative_from_output(np.zeros(3))
        return
    assert activation.derivative_from_output_formula
    z = _grid(activation)
    a = activation.forward(z)
    np.testing.assert_allclose(
        activation.derivative_from_output(a), activation.derivative(z), rtol=1e-9, atol=1e-12
    )
    kinks = np.array(activation.kinks)
    if kinks.size:  # with the default subgradients the two forms agree at the kinks too
        np.testing.assert_allclose(
            activation.derivative_from_output(activation.forward(kinks)),
            activation.derivative(kinks),
        )


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_kinks_use_documented_defaults_and_follow_subgradient(torch, case: Case):
    activation = case.activation()
    kinks = np.array(activation.kinks, dtype=np.float64)
    if not kinks.size:
        assert activation.smooth
        with pytest.raises(ValueError, match="no kink"):
            case.activation(subgradient=0.5)
        return
    assert not activation.smooth
    defaults = np.broadcast_to(np.array(activation.default_subgradients, dtype=float), kinks.shape)
    np.testing.assert_allclose(activation.derivative(kinks), defaults)
    _, t_first, _ = _torch_derivatives(torch, case, kinks)
    np.testing.assert_allclose(activation.derivative(kinks), t_first, rtol=case.torch_rtol)

    # a value strictly inside each kink's range (3/8 of the way from the left slope)
    inside = tuple(left + 0.375 * (right - left) for left, right in activation.one_sided_slopes)
    chosen = case.activation(subgradient=inside)
    np.testing.assert_array_equal(chosen.derivative(kinks), inside)
    _, engine_first, _ = _engine_derivatives(chosen, kinks)
    np.testing.assert_array_equal(engine_first, inside)
    away = _grid(activation)
    np.testing.assert_array_equal(chosen.derivative(away), activation.derivative(away))


KINKED = [case for case in ELEMENTWISE if case.activation().kinks]


@pytest.mark.parametrize("case", KINKED, ids=[c.id for c in KINKED])
def test_one_sided_slopes_are_the_limits_of_g_prime_beside_each_kink(case: Case):
    activation = case.activation()
    assert len(activation.one_sided_slopes) == len(activation.kinks)
    for kink, (left, right) in zip(activation.kinks, activation.one_sided_slopes):
        step = 1e-9 * max(1.0, abs(kink))
        beside = np.array([kink - step, kink + step], dtype=np.float64)
        np.testing.assert_allclose(
            activation.derivative(beside), [left, right], rtol=1e-8, atol=1e-12
        )


@pytest.mark.parametrize("case", KINKED, ids=[c.id for c in KINKED])
def test_default_subgradients_lie_between_the_one_sided_slopes(case: Case):
    activation = case.activation()
    for default, (left, right) in zip(activation.default_subgradients, activation.one_sided_slopes):
        assert min(left, right) <= default <= max(left, right)
    explicit = case.activation(subgradient=activation.default_subgradients)  # accepted
    np.testing.assert_array_equal(
        explicit.derivative(np.array(activation.kinks)),
        activation.derivative(np.array(activation.kinks)),
    )


@pytest.mark.parametrize("case", KINKED, ids=[c.id for c in KINKED])
def test_subgradient_outside_the_one_sided_slopes_is_refused(case: Case):
    activation = case.activation()
    slopes = activation.one_sided_slopes
    for i, (kink, (left, right)) in enumerate(zip(activation.kinks, slopes)):
        for endpoint in (left, right):  # the one-sided slopes themselves are valid
            values = [*activation.default_subgradients]
            values[i] = endpoint
            np.testing.assert_array_equal(
                case.activation(subgradient=tuple(values)).derivative(np.array([kink])), [endpoint]
            )
        for outside in (max(left, right) + 0.5, min(left, right) - 0.5, float("nan")):
            values = [*activation.default_subgradients]
            values[i] = outside
            with pytest.raises(
                ValueError,
                match=f"{case.name}: subgradient .* at z = {kink:g} "
                "is not between the one-sided slopes",
            ):
                case.activation(subgradient=tuple(values))


@pytest.mark.parametrize("case", KINKED, ids=[c.id for c in KINKED])
def test_second_derivative_at_each_kink_is_the_documented_value(torch, case: Case):
    activation = case.activation()
    documented = activation.second_derivatives_at_kinks
    assert len(documented) == len(activation.kinks)
    assert "kink" in activation.second_derivative_formula  # the formula says what g''(kink) is
    for dtype in ("float32", "float64"):
        kinks = np.array(activation.kinks, dtype=dtype)
        np.testing.assert_array_equal(activation.second_derivative(kinks), documented)
    _, _, engine_second = _engine_derivatives(activation, np.array(activation.kinks))
    np.testing.assert_array_equal(engine_second, documented)
    _, _, t_second = _torch_derivatives(torch, case, np.array(activation.kinks))
    if t_second is not None:  # PyTorch lacks hardsigmoid's double backward
        np.testing.assert_array_equal(documented, t_second)


@pytest.mark.parametrize("name", ["elu", "celu"])
def test_second_derivative_where_only_g_double_prime_jumps_follows_pytorch(torch, name: str):
    case = next(c for c in ELEMENTWISE if c.name == name and not c.params)
    zero = np.zeros(1)
    _, _, t_second = _torch_derivatives(torch, case, zero)
    np.testing.assert_array_equal(case.activation().second_derivative(zero), t_second)
    assert "z ≥ 0" in case.activation().second_derivative_formula


def test_subgradient_error_names_the_kink_and_the_range():
    with pytest.raises(ValueError) as info:
        cr.activations.get("relu", subgradient=5)
    assert str(info.value) == (
        "relu: subgradient 5 at z = 0 is not between the one-sided slopes 0 and 1"
    )
    with pytest.raises(
        ValueError, match=r"at z = 3 is not between the one-sided slopes 1.5 and 1$"
    ):
        cr.activations.get("hard_swish", subgradient=(0.0, 2.0))
    with pytest.raises(ValueError, match=r"slopes \[0.1, 0.3\] and 1"):  # one γ per neuron
        cr.activations.get("prelu", gamma=[0.1, 0.3], subgradient=0.2)
    assert cr.activations.get("prelu", gamma=[0.1, 0.3], subgradient=0.3).subgradient == 0.3
    # PyTorch's older hard_swish kink values are still one-sided slopes: accepted
    cr.activations.get("hard_swish", subgradient=(-0.5, 1.5))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_extremes_give_no_warning_or_nan(case: Case, dtype: str):
    activation = case.activation()
    z = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [activation.forward(z), activation.derivative(z), activation.second_derivative(z)]
        if activation.has_derivative_from_output:
            results.append(activation.derivative_from_output(results[0]))
        x = cr.tensor(z, requires_grad=True, dtype=dtype)
        activation(x).sum().backward()
        results.append(x.grad.numpy())
    for result in results:
        assert result.dtype == np.dtype(dtype)
        assert not np.isnan(result).any(), result


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_nan_in_gives_nan_out(case: Case):
    activation = case.activation()
    z = np.array([np.nan, 0.5, np.nan])
    expected = np.array([True, False, True])
    assert (np.isnan(activation.forward(z)) == expected).all()
    assert (np.isnan(activation.derivative(z)) == expected).all()
    assert (np.isnan(activation.second_derivative(z)) == expected).all()
    if activation.has_derivative_from_output:
        assert (np.isnan(activation.derivative_from_output(z)) == expected).all()


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_float32_and_float64(case: Case):
    activation = case.activation()
    z64 = _grid(activation)[::7]
    z32 = z64.astype(np.float32)
    for method in (activation.forward, activation.derivative, activation.second_derivative):
        assert method(z64).dtype == np.float64
        assert method(z32).dtype == np.float32
        np.testing.assert_allclose(
            method(z32), method(z32.astype(np.float64)), rtol=2e-5, atol=2e-6
        )
    x = cr.tensor(z32, requires_grad=True)
    y = activation(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("case", ELEMENTWISE, ids=[c.id for c in ELEMENTWISE])
def test_metadata_is_complete(case: Case):
    description = case.activation().describe()
    for key in ("formula", "derivative_formula", "second_derivative_formula", "output_range"):
        assert isinstance(description[key], str) and description[key], key
    assert description["zero_centered"] in {"yes", "no", "roughly"}
    assert description["saturating"] in {"no", "left", "right", "both"}
    assert isinstance(description["monotonic"], bool)
    assert isinstance(description["smooth"], bool)
    assert len(description["one_sided_slopes"]) == len(description["kinks"])
    assert len(description["second_derivatives_at_kinks"]) == len(description["kinks"])
    assert cr.activations.get(case.name, **description["params"]) == case.activation()


# ---------------------------------------------------------------------- vector activations
def _vector_input(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((4, 6)) * 2


@pytest.mark.parametrize("case", VECTOR, ids=[c.id for c in VECTOR])
def test_vector_activation_matches_pytorch(torch, case: Case):
    import torch.nn.functional as F

    rng = np.random.default_rng(3)
    z = _vector_input(rng)
    activation = case.activation()
    x = torch.tensor(z, requires_grad=True)
    y = case.oracle(torch, F, x)
    v = rng.standard_normal(tuple(y.shape))
    w = rng.standard_normal(z.shape)
    (first,) = torch.autograd.grad((y * torch.tensor(v)).sum(), x, create_graph=True)
    if first.requires_grad:
        (second,) = torch.autograd.grad((first * torch.tensor(w)).sum(), x, allow_unused=True)
    else:
        second = None

    ours_x = cr.tensor(z, requires_grad=True, dtype="float64")
    ours_y = activation(ours_x)
    np.testing.assert_allclose(ours_y.numpy(), y.detach().numpy(), rtol=1e-12, atol=1e-14)
    (ours_first,) = cr.gradients(
        (ours_y * cr.tensor(v, dtype="float64")).sum(), [ours_x], create_graph=True
    )
    np.testing.assert_allclose(ours_first.numpy(), first.detach().numpy(), rtol=1e-10, atol=1e-14)
    expected_second = np.zeros_like(z) if second is None else second.numpy(force=True)
    if ours_first.requires_grad:
        (ours_second,) = cr.gradients(
            (ours_first * cr.tensor(w, dtype="float64")).sum(), [ours_x], allow_unused=True
        )
        ours_second = np.zeros_like(z) if ours_second is None else ours_second.numpy()
    else:
        ours_second = np.zeros_like(z)
    np.testing.assert_allclose(ours_second, expected_second, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", VECTOR, ids=[c.id for c in VECTOR])
def test_vector_jacobians_match_finite_differences(case: Case):
    activation = case.activation()
    z = _vector_input(np.random.default_rng(5))
    jacobian = activation.derivative(z)
    hessian = activation.second_derivative(z)
    if case.name == "maxout":  # elementwise-shaped 0/1 mask of the winning pieces
        k = activation.pieces
        numeric = np.zeros_like(z)
        for index in np.ndindex(z.shape):
            bump = np.zeros_like(z)
            bump[index] = FD_STEP
            diff = (activation.forward(z + bump) - activation.forward(z - bump)) / (2 * FD_STEP)
            numeric[index] = diff[index[:-1] + (index[-1] // k,)]
        np.testing.assert_allclose(jacobian, numeric, atol=1e-7)
        np.testing.assert_array_equal(hessian, np.zeros_like(z))
        return
    axis = activation.axis
    moved = np.moveaxis(z, axis, -1)
    n = moved.shape[-1]
    numeric_j = np.zeros(moved.shape + (n,))
    numeric_h = np.zeros(moved.shape + (n, n))
    for j in range(n):
        bump = np.zeros_like(moved)
        bump[..., j] = FD_STEP
        plus = np.moveaxis(np.moveaxis(z, axis, -1) + bump, -1, axis)
        minus = np.moveaxis(np.moveaxis(z, axis, -1) - bump, -1, axis)
        numeric_j[..., j] = np.moveaxis(
            activation.forward(plus) - activation.forward(minus), axis, -1
        ) / (2 * FD_STEP)
        numeric_h[..., j] = (activation.derivative(plus) - activation.derivative(minus)) / (
            2 * FD_STEP
        )
    np.testing.assert_allclose(jacobian, numeric_j, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hessian, numeric_h, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        activation.derivative_from_output(activation.forward(z)), jacobian, rtol=1e-12, atol=1e-15
    )
    v = np.random.default_rng(6).standard_normal(z.shape)
    np.testing.assert_allclose(
        activation.vjp(z, v),
        np.moveaxis(np.einsum("...i,...ij->...j", np.moveaxis(v, axis, -1), jacobian), -1, axis),
        rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.parametrize("case", VECTOR, ids=[c.id for c in VECTOR])
def test_vector_extremes_and_nan(case: Case):
    activation = case.activation()
    z = np.array([[-1000.0, 1000.0, 0.0, 3.0, -1000.0, 999.0]] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            value = activation.forward(z.astype(dtype))
            assert value.dtype == dtype and not np.isnan(value).any()
            x = cr.tensor(z, requires_grad=True, dtype=dtype)
            activation(x).sum().backward()
            assert x.grad.dtype == dtype and not np.isnan(x.grad.numpy()).any()
    with_nan = z.copy()
    with_nan[0, 0] = np.nan
    assert np.isnan(activation.forward(with_nan)[0]).any()


def test_maxout_ties_send_gradient_to_first_piece():
    x = cr.tensor([[2.0, 2.0, 1.0, 5.0]], requires_grad=True)
    cr.activations.get("maxout", pieces=2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 0.0, 1.0]])


def test_maxout_rejects_width_not_divisible():
    with pytest.raises(cr.ShapeError, match="divisible by 3"):
        cr.activations.get("maxout", pieces=3).forward(np.zeros((2, 4)))


def test_softmax_is_a_distribution_and_log_softmax_is_its_log():
    z = np.random.default_rng(0).standard_normal((5, 7)) * 30
    soft = cr.activations.get("softmax").forward(z)
    np.testing.assert_allclose(soft.sum(axis=-1), 1.0, rtol=1e-12)
    log_soft = cr.activations.get("log_softmax").forward(z)
    np.testing.assert_allclose(np.exp(log_soft), soft, rtol=1e-12, atol=1e-300)


# ---------------------------------------------------------------------- PReLU's learned slope
def test_prelu_slope_gradient_and_mixed_second_derivative_match_pytorch(torch):
    import torch.nn.functional as F

    rng = np.random.default_rng(11)
    z = rng.standard_normal((6, 4))
    slope = np.array([0.1, 0.25, -0.2, 0.6])
    v = rng.standard_normal(z.shape)
    x, gamma = (cr.tensor(a, requires_grad=True, dtype="float64") for a in (z, slope))
    out = cr.activations.get("prelu")(x, gamma)
    grads = cr.gradients((out * cr.tensor(v, dtype="float64")).sum(), [x, gamma], create_graph=True)
    mixed = cr.gradients(grads[1].sum(), [x])[0]

    tx, tgamma = (torch.tensor(a, requires_grad=True) for a in (z, slope))
    t_out = F.prelu(tx, tgamma)
    t_grads = torch.autograd.grad((t_out * torch.tensor(v)).sum(), [tx, tgamma], create_graph=True)
    (t_mixed,) = torch.autograd.grad(t_grads[1].sum(), [tx])
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-14)
    for mine, theirs in zip(grads, t_grads):
        np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mixed.numpy(), t_mixed.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(
        cr.activations.get("prelu").parameter_derivative(z), np.minimum(z, 0)
    )


def test_prelu_slope_shape_mismatch_is_a_shape_error():
    with pytest.raises(cr.ShapeError, match="prelu"):
        cr.activations.get("prelu")(cr.tensor(np.zeros((2, 4))), cr.tensor(np.zeros(3)))


def test_third_derivative_is_refused_with_a_clear_error():
    x = cr.tensor([0.3], requires_grad=True, dtype="float64")
    (first,) = cr.gradients(x.sigmoid().sum(), [x], create_graph=True)
    (second,) = cr.gradients(first.sum(), [x], create_graph=True)
    with pytest.raises(NotImplementedError, match="third derivatives of sigmoid"):
        cr.gradients(second.sum(), [x])


@pytest.mark.parametrize(
    "shape, axis",
    [((128, 10), -1), ((7, 1), 1), ((3, 4, 5), -1), ((5, 32), -1), ((5, 33), -1), ((6, 4), 0)]
    + [((0, 3), -1), ((4,), 0)],
)
def test_max_along_a_short_axis_is_numpys_maximum(shape, axis):
    """The row maximum behind softmax's shift (a transposed copy for a short last axis) gives
    np.max's values, NaN and ±∞ included, for every layout."""
    from chainrule.activations.vector import _max_along

    z = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    if z.size > 8:
        z.flat[[1, 5, 7]] = [np.nan, np.inf, -np.inf]
    expected, got = np.max(z, axis=axis, keepdims=True), _max_along(z, axis)
    assert got.shape == expected.shape and got.dtype == z.dtype
    np.testing.assert_array_equal(got, expected)
    if z.ndim > 1:  # a non-contiguous view gives the same
        view = np.asfortranarray(z)
        np.testing.assert_array_equal(_max_along(view, axis), np.max(view, axis, keepdims=True))
