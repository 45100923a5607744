"""The modern catalog: identity, GELU (exact and tanh), SiLU, Mish, SELU, CELU, the hard functions,
ReLU6, softsign and log-sigmoid — with the definitions PyTorch uses, so it serves as the oracle.

Kink values follow PyTorch 2.13, the test oracle (hard_swish'(−3) = 0, hard_swish'(3) = 1;
hard_sigmoid, hard_tanh and relu6 have g' = 0 at their kinks), and can be changed with
``subgradient``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..selection import select
from ..special import normal_cdf, normal_pdf
from .base import Activation, OnnxGraph, restore_nan
from .classic import _check_positive, _ExponentialLinear, stable_sigmoid, stable_softplus
from .registry import catalogued

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
# Beyond |z| = 30, u > 980 and e^(−2u) < 1e-850: σ(±2u) is exactly 0 or 1 in every float type,
# so the tanh-GELU pieces are evaluated at the clipped z (z³ then never overflows).
_GELU_TANH_SATURATION = 30.0


def zero_where_vanished(z: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """z, with 0 where ``weight`` is exactly 0: the z to use in z·w(z) (or z²·w(z)) for a
    weight w that decays faster than any power of |z| grows (Φ, φ, σ, 1 − tanh²).

    Where w has underflowed to 0 the product is then 0, its limit, also at z = ±∞ (where
    ±∞·0 would be NaN) and where z² would overflow.
    """
    return np.where(weight == 0, 0, z)


@catalogued
class Identity(Activation):
    """Identity (linear output unit): g(z) = z, g' = 1, g'' = 0.

    >>> Identity().derivative([3.0])
    array([1.], dtype=float32)
    """

    name = "identity"
    aliases = ("linear", "none")
    formula = "identity(z) = z"
    derivative_formula = "identity'(z) = 1"
    second_derivative_formula = "identity''(z) = 0"
    derivative_from_output_formula = "1"
    output_range = "ℝ"
    zero_centered = "yes"
    monotonic = True
    saturating = "no"
    onnx_op = "Identity"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return z.copy()

    inplace_forward = True

    def _forward_into(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.copyto(out, z)
        return out

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return restore_nan(z, np.ones_like(z))  # 1 also at z = ±∞

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return restore_nan(z, np.zeros_like(z))

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return restore_nan(a, np.ones_like(a))


@catalogued
class GELU(Activation):
    """Gaussian error linear unit (exact): g = z·Φ(z), g' = Φ(z) + z·φ(z), g'' = φ(z)(2 − z²).

    Φ is the standard normal CDF, φ(z) = e^(−z²/2)/√(2π) its density. Where Φ or φ underflows
    to 0 the product with z is 0 (its limit): gelu(−∞) = 0, gelu'(−∞) = 0, gelu'(+∞) = 1.

    >>> round(float(GELU().forward([1.0])[0]), 4)
    0.8413
    """

    name = "gelu"
    aliases = ("gelu_exact",)
    formula = "gelu(z) = z·Φ(z)"
    derivative_formula = "gelu'(z) = Φ(z) + z·φ(z)"
    second_derivative_formula = "gelu''(z) = φ(z)(2 − z²)"
    output_range = "[≈−0.170, ∞)"
    zero_centered = "roughly"
    monotonic = False
    saturating = "left"
    recommended_init = "he_normal"
    display_name = "GELU"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        cdf = normal_cdf(z)
        return zero_where_vanished(z, cdf) * cdf

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        pdf = normal_pdf(z)
        return normal_cdf(z) + zero_where_vanished(z, pdf) * pdf

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        pdf = normal_pdf(z)
        z = zero_where_vanished(z, pdf)
        return pdf * (2 - z * z)

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """z·Φ(z): Gelu(approximate = "none")."""
        return graph.op("Gelu", [x], approximate="none")


@catalogued
class GELUTanh(Activation):
    """GELU, tanh approximation: g = ½z(1 + t), t = tanh(u), u = √(2/π)(z + 0.044715z³).

    g' = ½(1 + t) + ½z(1 − t²)u', u' = √(2/π)(1 + 3·0.044715z²);
    g'' = (1 − t²)(u' − z·t·u'² + ½z·u''), u'' = 6·√(2/π)·0.044715z.
    Computed with 1 + t = 2σ(2u) and 1 − t = 2σ(−2u), which keep their precision in the tails
    (1 + tanh u cancels catastrophically in float32 for u ≪ 0). For |z| > 30, σ(±2u) is exactly
    0 or 1, so the pieces are evaluated at z clipped to ±30 (z³ never overflows, and the terms
    with 1 − t² are exactly 0 there, as they are in the exact arithmetic rounded).

    >>> round(float(GELUTanh().forward([1.0])[0]), 4)
    0.8412
    """

    name = "gelu_tanh"
    aliases = ("gelu_approx", "approximate_gelu")
    formula = "gelu_tanh(z) = ½z(1 + tanh(√(2/π)(z + 0.044715z³)))"
    derivative_formula = "gelu_tanh'(z) = ½(1 + t) + ½z(1 − t²)·√(2/π)(1 + 3·0.044715z²)"
    second_derivative_formula = "gelu_tanh''(z) = (1 − t²)(u' − z·t·u'² + ½z·u'')"
    output_range = "[≈−0.170, ∞)"
    zero_centered = "roughly"
    monotonic = False
    saturating = "left"
    recommended_init = "he_normal"

    @staticmethod
    def _pieces(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """z clipped to ±30, σ(2u) = (1 + t)/2, σ(−2u) = (1 − t)/2 and u' (at the clipped z)."""
        z = np.clip(z, -_GELU_TANH_SATURATION, _GELU_TANH_SATURATION)
        u = _SQRT_2_OVER_PI * (z + _GELU_CUBIC * z * z * z)
        du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * z * z)
        return z, stable_sigmoid(2 * u), stable_sigmoid(-2 * u), du

    def _forward(self, z: np.ndarray) -> np.ndarray:
        _, plus, _, _ = self._pieces(z)
        return zero_where_vanished(z, plus) * plus

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        z, plus, minus, du = self._pieces(z)
        return plus + 2 * z * plus * minus * du

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        z, plus, minus, du = self._pieces(z)
        t = plus - minus
        ddu = 6 * _SQRT_2_OVER_PI * _GELU_CUBIC * z
        return 4 * plus * minus * (du - z * t * du * du + 0.5 * z * ddu)

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """The tanh approximation of GELU: Gelu(approximate = "tanh")."""
        return graph.op("Gelu", [x], approximate="tanh")


@catalogued
class SiLU(Activation):
    """SiLU / swish: g = z·σ(z), g' = σ(1 + z(1 − σ)), g'' = σ(1 − σ)(2 + z(1 − 2σ)).

    Computed with w = σ(z)σ(−z) = σ(1 − σ) (both factors stable) as g' = σ + z·w and
    g'' = w(2 + z(1 − 2σ)); z·w is 0 where w underflows, so g'(−∞) = 0 and g'(+∞) = 1.

    >>> SiLU().derivative([0.0])
    array([0.5], dtype=float32)
    """

    name = "silu"
    aliases = ("swish",)
    formula = "silu(z) = z·σ(z)"
    derivative_formula = "silu'(z) = σ(z)(1 + z(1 − σ(z)))"
    second_derivative_formula = "silu''(z) = σ(z)(1 − σ(z))(2 + z(1 − 2σ(z)))"
    output_range = "[≈−0.278, ∞)"
    zero_centered = "roughly"
    monotonic = False
    saturating = "left"
    recommended_init = "he_normal"
    display_name = "SiLU"

    @staticmethod
    def _pieces(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """σ(z) and w = σ(z)σ(−z) = σ(z)(1 − σ(z))."""
        s = stable_sigmoid(z)
        return s, s * stable_sigmoid(-z)

    def _forward(self, z: np.ndarray) -> np.ndarray:
        s = stable_sigmoid(z)
        return zero_where_vanished(z, s) * s

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        s, w = self._pieces(z)
        return s + zero_where_vanished(z, w) * w

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        s, w = self._pieces(z)
        return w * (2 + zero_where_vanished(z, w) * (1 - 2 * s))

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """z·σ(z)."""
        return graph.op("Mul", [x, graph.op("Sigmoid", [x])])


@catalogued
class Mish(Activation):
    """Mish: g = z·tanh(sp), sp = softplus(z); with t = tanh(sp), s = σ(z):

    g' = t + z·s·(1 − t²);  g'' = s(1 − t²)(2 + z((1 − s) − 2ts)). The products with z are 0
    where their factor t or s(1 − t²) underflows (mish(−∞) = 0, mish'(+∞) = 1, mish''(±∞) = 0).

    >>> round(float(Mish().forward([1.0])[0]), 4)
    0.8651
    """

    name = "mish"
    formula = "mish(z) = z·tanh(softplus(z))"
    derivative_formula = "mish'(z) = tanh(sp) + z·σ(z)(1 − tanh²(sp)), sp = softplus(z)"
    second_derivative_formula = "mish''(z) = σ(1 − t²)(2 + z((1 − σ) − 2tσ)), t = tanh(sp)"
    output_range = "[≈−0.309, ∞)"
    zero_centered = "roughly"
    monotonic = False
    saturating = "left"
    onnx_op = "Mish"
    recommended_init = "he_normal"

    @staticmethod
    def _pieces(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """t = tanh(softplus z), s = σ(z) and w = s(1 − t²)."""
        t = np.tanh(stable_softplus(z))
        s = stable_sigmoid(z)
        return t, s, s * (1 - t * t)

    def _forward(self, z: np.ndarray) -> np.ndarray:
        t = np.tanh(stable_softplus(z))
        return zero_where_vanished(z, t) * t

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        t, _, w = self._pieces(z)
        return t + zero_where_vanished(z, w) * w

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        t, s, w = self._pieces(z)
        return w * (2 + zero_where_vanished(z, w) * ((1 - s) - 2 * t * s))


@catalogued
class SELU(_ExponentialLinear):
    """Scaled ELU: λ·(z if z > 0 else α(e^z − 1)), α ≈ 1.6733, λ ≈ 1.0507 (self-normalising).

    g' = λ (z > 0), λαe^z (z ≤ 0) = a + λα; g'(0) = λα by default (PyTorch).
    g'' = λαe^z for z < 0, 0 for z ≥ 0: 0 at the kink, as PyTorch.

    >>> round(float(SELU().forward([1.0])[0]), 4)
    1.0507
    """

    name = "selu"
    formula = "selu(z) = λ·(z if z > 0 else α(e^z − 1))"
    derivative_formula = "selu'(z) = λ if z > 0, λαe^z if z ≤ 0"
    second_derivative_formula = "selu''(z) = λαe^z if z < 0, 0 if z ≥ 0 (0 at the kink z = 0)"
    derivative_from_output_formula = "λ if a > 0 else a + λα"
    output_range = "(≈−1.758, ∞)"
    zero_centered = "roughly"
    monotonic = True
    saturating = "left"
    recommended_init = "lecun_normal"
    display_name = "SELU"
    alpha, scale = SELU_ALPHA, SELU_SCALE

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """λ·(z if z > 0 else α(e^z − 1)) with chainrule's α and λ, given explicitly."""
        return graph.op("Selu", [x], alpha=SELU_ALPHA, gamma=SELU_SCALE)


@catalogued
class CELU(_ExponentialLinear):
    """Continuously differentiable ELU: z if z > 0 else α(e^(z/α) − 1).

    g' = 1 (z > 0), e^(z/α) = a/α + 1 (z ≤ 0): continuous at 0 for every α (no kink);
    g'' = e^(z/α)/α for z < 0, 0 for z ≥ 0 (g'' jumps at 0; 0 there, as PyTorch). Default α = 1.

    >>> CELU(alpha=2.0).derivative([0.0])
    array([1.], dtype=float32)
    """

    name = "celu"
    formula = "celu(z) = z if z > 0, α(e^(z/α) − 1) if z ≤ 0"
    derivative_formula = "celu'(z) = 1 if z > 0, e^(z/α) if z ≤ 0"
    second_derivative_formula = "celu''(z) = e^(z/α)/α if z < 0, 0 if z ≥ 0"
    derivative_from_output_formula = "1 if a > 0 else a/α + 1"
    output_range = "(−α, ∞)"
    zero_centered = "roughly"
    monotonic = True
    saturating = "left"
    recommended_init = "he_normal"
    display_name = "CELU"

    def __init__(self, alpha: float = 1.0, subgradient: float | None = None) -> None:
        self.alpha = self.divisor = _check_positive("celu alpha", alpha)  # e^(z/α)
        super().__init__(subgradient)

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """z if z > 0, α(e^(z/α) − 1) otherwise: Celu(alpha = α)."""
        return graph.op("Celu", [x], alpha=float(self.alpha))


class _Clipped(Activation):
    """Shared shape of the clipped-linear functions: g = clip(scale·z + shift, low, high)."""

    scale: float = 1.0
    shift: float = 0.0
    low: float
    high: float
    piecewise = True
    derivative_from_output_formula = "slope if low < a < high else 0"

    @property
    def kinks(self) -> tuple[float, ...]:
        return ((self.low - self.shift) / self.scale, (self.high - self.shift) / self.scale)

    @property
    def one_sided_slopes(self) -> tuple[tuple[Any, Any], ...]:
        return ((0.0, self.scale), (self.scale, 0.0))

    @property
    def default_subgradients(self) -> tuple[Any, ...]:
        return (0.0, 0.0)

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return np.clip(self.scale * z + self.shift, self.low, self.high)

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        left, right = self.kinks
        return select((z > left) & (z < right), self.scale, 0.0, z.dtype)

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return np.zeros_like(z)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return select((a > self.low) & (a < self.high), self.scale, 0.0, a.dtype)

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """clip(scale·z + shift, low, high): HardSigmoid(alpha = scale, beta = shift) on [0, 1],
        Clip(z, low, high) when unscaled."""
        scale, shift = float(self.scale), float(self.shift)
        low, high = float(self.low), float(self.high)
        if (low, high) == (0.0, 1.0):
            return graph.op("HardSigmoid", [x], alpha=scale, beta=shift)
        if scale != 1.0:
            x = graph.op("Mul", [x, graph.constant("scale", scale)])
        if shift != 0.0:
            x = graph.op("Add", [x, graph.constant("shift", shift)])
        return graph.op("Clip", [x, graph.constant("low", low), graph.constant("high", high)])


@catalogued
class HardSigmoid(_Clipped):
    """Hard sigmoid: relu6(z + 3)/6 = clip(z/6 + ½, 0, 1); g' = 1/6 on (−3, 3), 0 outside.

    g'(±3) = 0 by default (PyTorch); g'' = 0, at the kinks too. (Keras 2's 0.2z + 0.5 is a
    different function.)

    >>> HardSigmoid().forward([-4.0, 0.0, 4.0])
    array([0. , 0.5, 1. ], dtype=float32)
    """

    name = "hard_sigmoid"
    formula = "hard_sigmoid(z) = relu6(z + 3)/6 = clip(z/6 + ½, 0, 1)"
    derivative_formula = "hard_sigmoid'(z) = 1/6 on (−3, 3), 0 outside"
    second_derivative_formula = "hard_sigmoid''(z) = 0 (also at the kinks z = ±3)"
    derivative_from_output_formula = "1/6 if 0 < a < 1 else 0"
    output_range = "[0, 1]"
    zero_centered = "no"
    monotonic = True
    saturating = "both"
    dead_below = -3.0
    scale, shift, low, high = 1.0 / 6.0, 0.5, 0.0, 1.0


@catalogued
class HardTanh(_Clipped):
    """Hard tanh: clip(z, −1, 1); g' = 1 on (−1, 1), 0 outside; g'(±1) = 0 by default; g'' = 0.

    >>> HardTanh().derivative([-2.0, 0.0, 1.0])
    array([0., 1., 0.], dtype=float32)
    """

    name = "hard_tanh"
    formula = "hard_tanh(z) = clip(z, −1, 1)"
    derivative_formula = "hard_tanh'(z) = 1 on (−1, 1), 0 outside"
    second_derivative_formula = "hard_tanh''(z) = 0 (also at the kinks z = ±1)"
    derivative_from_output_formula = "1 if |a| < 1 else 0"
    output_range = "[−1, 1]"
    zero_centered = "yes"
    monotonic = True
    saturating = "both"
    low, high = -1.0, 1.0


@catalogued
class HardSwish(Activation):
    """Hard swish: z·relu6(z + 3)/6; g' = 0 (z < −3), (2z + 3)/6 on (−3, 3), 1 (z > 3).

    At the kinks g'(−3) = 0 and g'(3) = 1 by default: the one-sided outer slopes, which is what
    PyTorch 2.13 (our oracle) and JAX compute. Older PyTorch releases used the inner formula there
    (−0.5 and 1.5); pass ``subgradient=(-0.5, 1.5)`` for those. g'' = 1/3 on (−3, 3), 0 outside
    and at the kinks (as PyTorch).

    >>> HardSwish().derivative([-3.0, 0.0, 3.0])
    array([0. , 0.5, 1. ], dtype=float32)
    """

    name = "hard_swish"
    formula = "hard_swish(z) = z·relu6(z + 3)/6"
    derivative_formula = "hard_swish'(z) = 0 if z ≤ −3, (2z + 3)/6 if −3 < z < 3, 1 if z ≥ 3"
    second_derivative_formula = "hard_swish''(z) = 1/3 on (−3, 3), 0 outside and at the kinks ±3"
    output_range = "[−0.375, ∞)"
    zero_centered = "roughly"
    monotonic = False
    saturating = "left"
    onnx_op = "HardSwish"
    recommended_init = "he_normal"
    dead_below = -3.0
    piecewise = True

    @property
    def kinks(self) -> tuple[float, ...]:
        return (-3.0, 3.0)

    @property
    def one_sided_slopes(self) -> tuple[tuple[Any, Any], ...]:
        return ((0.0, -0.5), (1.5, 1.0))  # (2z + 3)/6 inside: −0.5 at −3, 1.5 at 3

    @property
    def default_subgradients(self) -> tuple[Any, ...]:
        return (0.0, 1.0)

    def _forward(self, z: np.ndarray) -> np.ndarray:
        gate = np.clip(z + 3, 0, 6) / 6
        return zero_where_vanished(z, gate) * gate  # 0 for z ≤ −3, also at −∞

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        inside = select(z < 3, (2 * z + 3) / 6, 1.0, z.dtype)
        return select(z <= -3, 0.0, inside, z.dtype)

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return select((z > -3) & (z < 3), 1.0 / 3.0, 0.0, z.dtype)


@catalogued
class ReLU6(_Clipped):
    """ReLU6: min(max(0, z), 6); g' = 1 on (0, 6), 0 outside; g'(0) = g'(6) = 0 by default.

    g'' = 0, at the kinks too.

    >>> ReLU6().forward([-1.0, 3.0, 9.0])
    array([0., 3., 6.], dtype=float32)
    """

    name = "relu6"
    formula = "relu6(z) = min(max(0, z), 6)"
    derivative_formula = "relu6'(z) = 1 on (0, 6), 0 outside"
    second_derivative_formula = "relu6''(z) = 0 (also at the kinks z = 0 and 6)"
    derivative_from_output_formula = "1 if 0 < a < 6 else 0"
    output_range = "[0, 6]"
    zero_centered = "no"
    monotonic = True
    saturating = "both"
    recommended_init = "he_normal"
    display_name = "ReLU6"
    dead_below = 0.0
    low, high = 0.0, 6.0


@catalogued
class Softsign(Activation):
    """Softsign: z/(1 + |z|); g' = 1/(1 + |z|)² = (1 − |a|)²; g'' = −2·sign(z)/(1 + |z|)³.

    Written with r = 1/(1 + |z|), whose powers underflow instead of overflowing; z = ±∞ is
    taken as the largest float, so softsign(±∞) = ±1.

    >>> Softsign().forward([1.0])
    array([0.5], dtype=float32)
    """

    name = "softsign"
    formula = "softsign(z) = z / (1 + |z|)"
    derivative_formula = "softsign'(z) = 1 / (1 + |z|)²"
    second_derivative_formula = "softsign''(z) = −2·sign(z) / (1 + |z|)³"
    derivative_from_output_formula = "(1 − |a|)²"
    output_range = "(−1, 1)"
    zero_centered = "yes"
    monotonic = True
    saturating = "both"
    onnx_op = "Softsign"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        largest = float(np.finfo(z.dtype).max)
        z = np.clip(z, -largest, largest)  # 1 + max rounds to max: the ratio is exactly ±1
        return z / (1 + np.abs(z))

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        r = 1 / (1 + np.abs(z))
        return r * r

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        r = 1 / (1 + np.abs(z))
        return -2 * np.sign(z) * (r * r * r)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        r = 1 - np.abs(a)
        return r * r


@catalogued
class LogSigmoid(Activation):
    """Log-sigmoid: log σ(z) = −softplus(−z) = min(z, 0) − log1p(e^(−|z|)) (stable).

    g' = σ(−z) = 1 − e^a; g'' = −σ(z)σ(−z).

    >>> LogSigmoid().derivative([0.0])
    array([0.5], dtype=float32)
    """

    name = "log_sigmoid"
    formula = "log_sigmoid(z) = log σ(z) = −softplus(−z)"
    derivative_formula = "log_sigmoid'(z) = σ(−z)"
    second_derivative_formula = "log_sigmoid''(z) = −σ(z)σ(−z)"
    derivative_from_output_formula = "1 − e^a"
    output_range = "(−∞, 0)"
    zero_centered = "no"
    monotonic = True
    saturating = "right"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z)))

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return stable_sigmoid(-z)

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return -stable_sigmoid(z) * stable_sigmoid(-z)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        return -np.expm1(a)

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """log σ(z) = −softplus(−z) (finite for every finite z, unlike Log(Sigmoid(z)))."""
        return graph.op("Neg", [graph.op("Softplus", [graph.op("Neg", [x])])])


__all__ = [
    "CELU",
    "GELU",
    "GELUTanh",
    "HardSigmoid",
    "HardSwish",
    "HardTanh",
    "Identity",
    "LogSigmoid",
    "Mish",
    "ReLU6",
    "SELU",
    "SELU_ALPHA",
    "SELU_SCALE",
    "SiLU",
    "Softsign",
    "zero_where_vanished",
]
