"""The classic activations (docs/math.md §1): sigmoid, tanh, ReLU, leaky ReLU, PReLU, ELU, softplus.

Each class is the single definition of its activation: forward, g', g'', g' from the output,
kinks and metadata. Formulas are stable for large |z| (no overflow at z = ±1000).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..ops import Kernel, apply, as_tensor, check_broadcast, sum_to, where
from ..selection import select
from .base import Activation, OnnxGraph
from .registry import catalogued


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1/(1 + e^(−z)), computed from e^(−|z|) so that no exponential overflows."""
    return sigmoid_from_exp(z, np.exp(-np.abs(z)))


def sigmoid_from_exp(z: np.ndarray, e: np.ndarray) -> np.ndarray:
    """σ(z) from e = e^(−|z|): 1/(1 + e) for z ≥ 0, e/(1 + e) below.

    The numerator is e^(min(z, 0)): exactly 1 for z ≥ 0 and e^z = e for z < 0 (z = −|z|
    there), so this is that selection without ``np.where``, which costs ~10× an ``exp``.
    """
    numerator = np.exp(np.minimum(z, 0))
    out = numerator if isinstance(numerator, np.ndarray) else None  # not a NumPy scalar
    return np.divide(numerator, 1.0 + e, out=out).astype(z.dtype, copy=False)


def stable_softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max(z, 0) + log1p(e^(−|z|)), exact for large |z| in both directions."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _check_finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _check_positive(name: str, value: float) -> float:
    """``value`` as a float, refused unless it is finite and > 0."""
    value = _check_finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0")
    return value


@catalogued
class Sigmoid(Activation):
    """Logistic sigmoid: σ(z) = 1/(1 + e^(−z)); σ' = σ(1 − σ) = a(1 − a); σ'' = a(1 − a)(1 − 2a).

    >>> Sigmoid().derivative([0.0])
    array([0.25], dtype=float32)
    """

    name = "sigmoid"
    aliases = ("logistic", "expit")
    formula = "σ(z) = 1 / (1 + e^(−z))"
    derivative_formula = "σ'(z) = σ(z)(1 − σ(z))"
    second_derivative_formula = "σ''(z) = σ(z)(1 − σ(z))(1 − 2σ(z))"
    derivative_from_output_formula = "a(1 − a)"
    output_range = "(0, 1)"
    zero_centered = "no"
    monotonic = True
    saturating = "both"
    onnx_op = "Sigmoid"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return stable_sigmoid(z)

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return self._derivative_from_output(stable_sigmoid(z) if a is None else a)

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        a = stable_sigmoid(z) if a is None else a
        return a * (1 - a) * (1 - 2 * a)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return a * (1 - a)


@catalogued
class Tanh(Activation):
    """Hyperbolic tangent: tanh z = (e^z − e^(−z))/(e^z + e^(−z)).

    tanh' = 1 − a²; tanh'' = −2a(1 − a²).

    >>> Tanh().derivative_from_output([0.0, 0.5])
    array([1.  , 0.75], dtype=float32)
    """

    name = "tanh"
    aliases = ("hyperbolic_tangent",)
    formula = "tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) = 2σ(2z) − 1"
    derivative_formula = "tanh'(z) = 1 − tanh²(z)"
    second_derivative_formula = "tanh''(z) = −2 tanh(z)(1 − tanh²(z))"
    derivative_from_output_formula = "1 − a²"
    output_range = "(−1, 1)"
    zero_centered = "yes"
    monotonic = True
    saturating = "both"
    onnx_op = "Tanh"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z)

    inplace_forward = True

    def _forward_into(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=out)

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return self._derivative_from_output(np.tanh(z) if a is None else a)

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        a = np.tanh(z) if a is None else a
        return -2 * a * (1 - a * a)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return 1 - a * a


@catalogued
class ReLU(Activation):
    """Rectified linear unit: max(0, z); g' = 1 if z > 0, 0 if z < 0; g'(0) = 0 by default.

    The value at the kink z = 0 is a documented choice (``subgradient``, default 0 as in PyTorch,
    JAX and TensorFlow); any value in [0, 1] is a valid subgradient. g'' = 0, at the kink too.

    >>> ReLU().derivative([-1.0, 0.0, 2.0])
    array([0., 0., 1.], dtype=float32)
    >>> ReLU(subgradient=1.0).derivative([0.0])
    array([1.], dtype=float32)
    """

    name = "relu"
    aliases = ("rectifier",)
    formula = "relu(z) = max(0, z)"
    derivative_formula = "relu'(z) = 1 if z > 0, 0 if z < 0 (kink at 0: subgradient, default 0)"
    second_derivative_formula = "relu''(z) = 0 (also at the kink z = 0)"
    derivative_from_output_formula = "1 if a > 0 else 0"
    output_range = "[0, ∞)"
    zero_centered = "no"
    monotonic = True
    saturating = "left"
    onnx_op = "Relu"
    recommended_init = "he_normal"
    display_name = "ReLU"
    dead_below = 0.0
    piecewise = True

    @property
    def kinks(self) -> tuple[float, ...]:
        return (0.0,)

    @property
    def one_sided_slopes(self) -> tuple[tuple[Any, Any], ...]:
        return ((0.0, 1.0),)

    @property
    def default_subgradients(self) -> tuple[Any, ...]:
        return (0.0,)

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0)

    inplace_forward = True

    def _forward_into(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0, out=out)

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return z > 0

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return np.zeros_like(z)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return a > 0


class _NegativeSlope(Activation):
    """The shared math of leaky ReLU and PReLU: z for z > 0, γ·z otherwise; g'(0) = γ."""

    piecewise = True
    gamma: Any

    @property
    def kinks(self) -> tuple[float, ...]:
        return (0.0,)

    @property
    def one_sided_slopes(self) -> tuple[tuple[Any, Any], ...]:
        return ((self.gamma, 1.0),)

    @property
    def default_subgradients(self) -> tuple[Any, ...]:
        return (self.gamma,)

    def _forward(self, z: np.ndarray) -> np.ndarray:
        negative = self.gamma * z
        if isinstance(self.gamma, float) and 0 < self.gamma <= 1:
            # max(z, γz) is the selection bit for bit: γz ≤ z for z > 0 and γz ≥ z for z < 0
            # (rounding is monotonic), and γ·(±0) = ±0, γ·(±∞) = ±∞ keep the signs (γ = 0
            # would turn +∞ into max(∞, NaN)). One pass instead of a branch per entry.
            return np.maximum(z, negative)
        return select(z > 0, z, negative, z.dtype)

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return select(z > 0, 1.0, self.gamma, z.dtype)

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return np.zeros_like(z)


@catalogued
class LeakyReLU(_NegativeSlope):
    """Leaky ReLU: max(0, z) + γ·min(0, z); g' = 1 if z > 0, γ if z < 0; g'(0) = γ by default.

    γ (``gamma``, default 0.01) must be ≥ 0. The default kink value follows PyTorch (γ; JAX uses 1);
    any value between γ and 1 is accepted. g'' = 0, at the kink too.

    >>> LeakyReLU(gamma=0.1).forward([-2.0, 3.0])
    array([-0.2,  3. ], dtype=float32)
    """

    name = "leaky_relu"
    aliases = ("lrelu",)
    formula = "leaky_relu(z) = max(0, z) + γ·min(0, z)"
    derivative_formula = "leaky_relu'(z) = 1 if z > 0, γ if z < 0 (kink at 0: default γ)"
    second_derivative_formula = "leaky_relu''(z) = 0 (also at the kink z = 0)"
    derivative_from_output_formula = "1 if a > 0 else γ"
    output_range = "ℝ"
    zero_centered = "roughly"
    monotonic = True
    saturating = "no"
    recommended_init = "he_normal"
    display_name = "leaky ReLU"

    def __init__(self, gamma: float = 0.01, subgradient: float | None = None) -> None:
        self.gamma = _check_finite("leaky_relu gamma", gamma)
        if self.gamma < 0:
            raise ValueError("leaky_relu gamma must be ≥ 0; for a learned slope use prelu")
        super().__init__(subgradient)

    def _params(self) -> dict[str, Any]:
        return {"gamma": self.gamma}

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return select(a > 0, 1.0, self.gamma, a.dtype)

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """max(0, z) + γ·min(0, z): LeakyRelu(alpha = γ)."""
        return graph.op("LeakyRelu", [x], alpha=float(self.gamma))


@catalogued
class PReLU(_NegativeSlope):
    """Parametric ReLU: max(0, z) + γᵢ·min(0, z) with a learned slope γᵢ per neuron.

    g' = 1 if z > 0, γ if z < 0 (γ at z = 0, as PyTorch); g'' = 0, at the kink too;
    ∂a/∂γ = min(0, z). Call it with the
    slope as a tensor, ``prelu(z, gamma)``, to learn γ (it broadcasts against the last axis of z);
    without one it uses the fixed ``gamma`` (default 0.25, PyTorch's initial value). There is no
    g' from the output: a learned γ may turn negative, and then a alone does not tell the side.

    >>> import chainrule as cr
    >>> gamma = cr.tensor([0.25, 0.5], requires_grad=True)
    >>> a = PReLU()(cr.tensor([[-2.0, -2.0]]), gamma)
    >>> a.sum().backward()
    >>> gamma.grad
    Tensor([-2., -2.], dtype=float32)
    """

    name = "prelu"
    aliases = ("parametric_relu",)
    formula = "prelu(z) = max(0, z) + γ·min(0, z), γ learned per neuron"
    derivative_formula = (
        "prelu'(z) = 1 if z > 0, γ if z < 0 (kink at 0: default γ); ∂a/∂γ = min(0, z)"
    )
    second_derivative_formula = (
        "prelu''(z) = 0 (also at the kink z = 0); ∂²a/∂z∂γ = 1 if z < 0 else 0"
    )
    output_range = "ℝ"
    zero_centered = "roughly"
    monotonic = True  # for γ ≥ 0
    saturating = "no"
    recommended_init = "he_normal"

    def __init__(self, gamma: Any = 0.25, subgradient: float | None = None) -> None:
        self.gamma = np.asarray(gamma, dtype=np.float64) if np.ndim(gamma) else float(gamma)
        if not np.all(np.isfinite(self.gamma)):
            raise ValueError("prelu gamma must be finite")
        super().__init__(subgradient)

    def _params(self) -> dict[str, Any]:
        gamma = self.gamma.tolist() if isinstance(self.gamma, np.ndarray) else self.gamma
        return {"gamma": gamma}

    def parameter_derivative(self, z: Any) -> np.ndarray:
        """∂a/∂γ = min(0, z) (per element; sum over the batch for the slope's gradient)."""
        z = np.asarray(z)
        return np.minimum(z, 0)

    def __call__(self, x: Any, gamma: Any = None) -> Tensor:
        """prelu(x) with slope ``gamma`` (a tensor to learn it; default: the fixed ``gamma``)."""
        x = x if isinstance(x, Tensor) else Tensor(x)
        slope = as_tensor(self.gamma if gamma is None else gamma, like=x)
        check_broadcast("prelu", x, slope)
        kink_value = None if self._subgradient_values is None else self._subgradient_values[0]

        def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
            positive = x > 0
            grad_x = grad_slope = None
            if needs[0]:
                negative_slope = slope
                if kink_value is not None:
                    negative_slope = where(x == 0, kink_value, slope)
                grad_x = sum_to(g * where(positive, 1.0, negative_slope), x.shape)
            if needs[1]:
                grad_slope = sum_to(g * where(positive, 0.0, x), slope.shape)
            return grad_x, grad_slope

        out = apply(self.name, Kernel(_prelu_forward), (x, slope), vjp, {"activation": self})
        out._activation_input = (self, x)
        return out

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """max(0, z) + γᵢ·min(0, z) with the layer's learned γᵢ: PRelu(z, γ)."""
        gamma = self.gamma if slopes is None else slopes
        return graph.op("PRelu", [x, graph.constant("alpha", np.reshape(gamma, (-1,)))])


def _prelu_forward(z: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """z where z > 0, γ·z elsewhere (γ broadcast against z), in z's dtype."""
    return select(z > 0, z, gamma * z, z.dtype)


class _ExponentialLinear(Activation):
    """The shared math of ELU, SELU and CELU: g = λ·(z if z > 0 else α(e^(z/d) − 1)).

    g' = λ (z > 0), (λα/d)·e^(z/d) = a/d + λα/d (z ≤ 0); g'' = (λα/d)·e^(z/d)/d for z < 0,
    0 for z ≥ 0 (0 at z = 0, as PyTorch). z = 0 is a kink with g'(0) = λα/d (PyTorch) unless
    the slopes either side agree, λα/d = λ. ELU: λ = d = 1; SELU: d = 1 and fixed α, λ;
    CELU: λ = 1, d = α (never a kink). The exponent min(z, 0)/d ≤ 0 never overflows.
    """

    piecewise = True
    alpha: float
    scale: float = 1.0  # λ
    divisor: float = 1.0  # d

    @property
    def _left_slope(self) -> float:
        """g'(0⁻) = λα/d."""
        return self.scale * self.alpha / self.divisor

    @property
    def kinks(self) -> tuple[float, ...]:
        return () if self._left_slope == self.scale else (0.0,)

    @property
    def one_sided_slopes(self) -> tuple[tuple[Any, Any], ...]:
        return () if self._left_slope == self.scale else ((self._left_slope, self.scale),)

    @property
    def default_subgradients(self) -> tuple[Any, ...]:
        return () if self._left_slope == self.scale else (self._left_slope,)

    def _exponent(self, z: np.ndarray) -> np.ndarray:
        """min(z, 0)/d (no division where d = 1: ELU and SELU, on the hot path)."""
        left = np.minimum(z, 0)
        return left if self.divisor == 1.0 else left / self.divisor

    def _exponential(self, z: np.ndarray) -> np.ndarray:
        """e^(z/d) for z ≤ 0, taken at min(z, 0) (1 for z > 0, where it is not used)."""
        return np.exp(self._exponent(z))

    def _forward(self, z: np.ndarray) -> np.ndarray:
        a = select(z > 0, z, self.alpha * np.expm1(self._exponent(z)), z.dtype)
        return a if self.scale == 1.0 else self.scale * a

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return select(z > 0, self.scale, self._left_slope * self._exponential(z), z.dtype)

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        slope = self._left_slope * self._exponential(z) / self.divisor
        return select(z < 0, slope, 0.0, z.dtype)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return select(a > 0, self.scale, a / self.divisor + self._left_slope, a.dtype)


@catalogued
class ELU(_ExponentialLinear):
    """Exponential linear unit: z if z > 0, α(e^z − 1) if z ≤ 0; g' = 1 or αe^z = a + α.

    g'' = αe^z (z < 0), 0 (z ≥ 0). For α ≠ 1, z = 0 is a kink; g'(0) = α there and g''(0) = 0,
    as PyTorch (for α = 1 too, where g' is continuous but g'' jumps from 1 to 0).

    >>> ELU().forward([0.0, 1.0])
    array([0., 1.], dtype=float32)
    """

    name = "elu"
    formula = "elu(z) = z if z > 0, α(e^z − 1) if z ≤ 0"
    derivative_formula = "elu'(z) = 1 if z > 0, αe^z if z ≤ 0"
    second_derivative_formula = "elu''(z) = αe^z if z < 0, 0 if z ≥ 0 (0 at the kink z = 0)"
    derivative_from_output_formula = "1 if a > 0 else a + α"
    output_range = "(−α, ∞)"
    zero_centered = "roughly"
    monotonic = True
    saturating = "left"
    recommended_init = "he_normal"
    display_name = "ELU"

    def __init__(self, alpha: float = 1.0, subgradient: float | None = None) -> None:
        self.alpha = _check_positive("elu alpha", alpha)
        super().__init__(subgradient)

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """z if z > 0, α(e^z − 1) otherwise: Elu(alpha = α)."""
        return graph.op("Elu", [x], alpha=float(self.alpha))


@catalogued
class Softplus(Activation):
    """Softplus: log(1 + e^(βz))/β, and z itself where βz > threshold (as PyTorch).

    g' = σ(βz) (1 above the threshold), g'' = βσ(βz)(1 − σ(βz)) (0 above), g' from the output
    1 − e^(−βa). Defaults β = 1, threshold = 20.

    >>> Softplus().derivative([0.0])
    array([0.5], dtype=float32)
    """

    name = "softplus"
    aliases = ("smooth_relu",)
    formula = "softplus(z) = log(1 + e^(βz)) / β  (z where βz > threshold)"
    derivative_formula = "softplus'(z) = σ(βz)"
    second_derivative_formula = "softplus''(z) = β σ(βz)(1 − σ(βz))"
    derivative_from_output_formula = "1 − e^(−βa)"
    output_range = "(0, ∞)"
    zero_centered = "no"
    monotonic = True
    saturating = "left"
    piecewise = True

    def __init__(
        self, beta: float = 1.0, threshold: float = 20.0, subgradient: float | None = None
    ) -> None:
        self.beta = _check_finite("softplus beta", beta)
        self.threshold = _check_finite("softplus threshold", threshold)
        if self.beta <= 0:
            raise ValueError("softplus beta must be > 0")
        super().__init__(subgradient)

    def _params(self) -> dict[str, Any]:
        return {"beta": self.beta, "threshold": self.threshold}

    def _linear(self, z: np.ndarray) -> np.ndarray:
        return self.beta * z > self.threshold

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return np.where(self._linear(z), z, stable_softplus(self.beta * z) / self.beta)

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return np.where(self._linear(z), 1.0, stable_sigmoid(self.beta * z))

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        s = stable_sigmoid(self.beta * z)
        return np.where(self._linear(z), 0.0, self.beta * s * (1 - s))

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return np.where(self.beta * a > self.threshold, 1.0, -np.expm1(-self.beta * a))

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """log(1 + e^(βz))/β, and z itself where βz > threshold (PyTorch's and chainrule's
        rule): Where(βz > threshold, z, Softplus(βz)/β)."""
        beta = float(self.beta)
        scaled = x if beta == 1.0 else graph.op("Mul", [x, graph.constant("beta", beta)])
        smooth = graph.op("Softplus", [scaled])
        if beta != 1.0:
            smooth = graph.op("Div", [smooth, graph.constant("beta", beta)])
        linear = graph.op("Greater", [scaled, graph.constant("threshold", self.threshold)])
        return graph.op("Where", [linear, x, smooth])


__all__ = [
    "ELU",
    "LeakyReLU",
    "PReLU",
    "ReLU",
    "Sigmoid",
    "sigmoid_from_exp",
    "Softplus",
    "stable_sigmoid",
    "stable_softplus",
    "Tanh",
]
