"""docs/math.md §4: f(x; w, b) = 1/(exp(−(w·x + b)) + 1) at x = 1, w = b = 0: ∂f/∂w = 0.25."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _inputs(dtype: str):
    x = cr.tensor(1.0, dtype=dtype)
    w = cr.tensor(0.0, requires_grad=True, dtype=dtype)
    b = cr.tensor(0.0, requires_grad=True, dtype=dtype)
    return x, w, b


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_from_primitive_ops_step_by_step(dtype):
    x, w, b = _inputs(dtype)
    h1 = x * w
    h2 = h1 + b
    h3 = -h2
    h4 = cr.exp(h3)
    h5 = h4 + 1
    h6 = 1 / h5
    for h in (h1, h2, h3, h4, h5):
        h.retain_grad()
    assert [h.op for h in (h1, h2, h3, h4, h5, h6)] == ["mul", "add", "neg", "exp", "add", "div"]
    h6.backward()
    assert h6.item() == 0.5
    # the local derivatives of the chain: 1 × (−0.25) × 1 × 1 × (−1) × 1 × 1
    assert h5.grad.item() == -0.25
    assert h4.grad.item() == -0.25
    assert h3.grad.item() == -0.25
    assert h2.grad.item() == 0.25
    assert h1.grad.item() == 0.25
    assert w.grad.item() == 0.25
    assert b.grad.item() == 0.25
    assert w.grad.dtype == np.dtype(dtype)


def test_via_the_sigmoid_activation():
    x, w, b = _inputs("float32")
    f = cr.activations.get("sigmoid")(w * x + b)
    assert f.op == "sigmoid"
    f.backward()
    assert w.grad.item() == 0.25
    assert b.grad.item() == 0.25


def test_via_the_tensor_method_and_functional_grad():
    assert cr.grad(lambda w: (w * 1.0 + 0.0).sigmoid())(0.0).item() == 0.25
    by_hand = cr.grad(lambda w, b: 1 / (cr.exp(-(w * 1.0 + b)) + 1), argnums=(0, 1))(0.0, 0.0)
    assert [g.item() for g in by_hand] == [0.25, 0.25]


def test_second_derivative_of_the_worked_example():
    # σ''(0) = σ(0)(1 − σ(0))(1 − 2σ(0)) = 0; at w = 1: σ(1)(1 − σ(1))(1 − 2σ(1))
    def f(w):
        return 1 / (cr.exp(-(w * 1.0 + 0.0)) + 1)

    second = cr.grad(cr.grad(f))
    assert abs(second(cr.tensor(0.0, dtype="float64")).item()) < 1e-15
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(
        second(cr.tensor(1.0, dtype="float64")).item(), s * (1 - s) * (1 - 2 * s), rtol=1e-14
    )
