"""Activations of a whole vector: softmax and log-softmax along an axis, maxout over groups.

Their derivatives are Jacobians, not elementwise slopes. The backward pass never builds a
Jacobian: it uses the vector–Jacobian product (softmax: a ⊙ (v − ⟨v, a⟩)). ``derivative(z)``
materialises the Jacobian for inspection, with the activation axis moved last:
``J[..., i, j] = ∂aᵢ/∂zⱼ``; ``second_derivative(z)`` gives ``H[..., i, j, k] = ∂²aᵢ/∂zⱼ∂zₖ``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..errors import ShapeError
from ..ops import Kernel, apply, exp, reshape
from ..ops import sum as tensor_sum
from .base import Activation, OnnxGraph, as_input_array, restore_nan
from .registry import catalogued

_SHORT_AXIS = 32  # up to this many entries, a last axis is reduced through a transposed copy


def _max_along(z: np.ndarray, axis: int) -> np.ndarray:
    """max z along ``axis``, kept as an axis of length 1 (NaN where a NaN is among them).

    Along a short last axis (a few classes) NumPy's reduction costs ~0.1 µs per row: 23 µs
    for 128 rows of 10, 7 ms for 60,000. Reducing the rows of the transposed copy instead
    is one vectorised pass per class (6 µs, 1.3 ms), and the same maximum: a maximum does
    not round, whatever the order."""
    if z.ndim < 2 or axis % z.ndim != z.ndim - 1 or z.shape[-1] > _SHORT_AXIS or not z.size:
        return np.max(z, axis=axis, keepdims=True)
    columns = np.ascontiguousarray(z.reshape(-1, z.shape[-1]).T)
    return np.maximum.reduce(columns, axis=0).reshape(z.shape[:-1] + (1,))


def _shift_by_max(z: np.ndarray, axis: int) -> np.ndarray:
    """z − max z along ``axis``, with 0 at the maximum itself (also when it is +∞, where
    ∞ − ∞ would be NaN: softmax(∞, 0) is then the limit (1, 0))."""
    top = _max_along(z, axis)
    if np.isfinite(top).all():  # the usual case: plain z − max z (the same values)
        return z - top
    return np.subtract(z, top, out=np.zeros_like(z), where=z != top)


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(_shift_by_max(z, axis))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = _shift_by_max(z, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class _AlongAxis(Activation):
    """Shared parts of softmax and log-softmax: the axis, the Jacobian layout."""

    elementwise = False
    zero_centered = "n/a"
    saturating = "both"
    monotonic = False

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)
        super().__init__(None)

    def _params(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def _check_vector(self, z: np.ndarray) -> None:
        if z.ndim == 0:
            raise ShapeError(f"{self.name} needs at least one dimension, got a scalar")

    def _last(self, z: np.ndarray) -> np.ndarray:
        self._check_vector(z)
        return np.moveaxis(z, self.axis, -1)

    def _output(self, z: np.ndarray, a: Any) -> np.ndarray:
        """The output a = g(z): the caller's ``a`` as an array (it saves the forward pass), or
        computed from z."""
        return self.forward(z) if a is None else as_input_array(a)

    def derivative(self, z: Any, a: Any = None) -> np.ndarray:
        """The Jacobian J[..., i, j] = ∂aᵢ/∂zⱼ along ``axis`` (moved last)."""
        z = as_input_array(z)
        return self.derivative_from_output(self._output(z, a))

    def vjp(self, z: Any, v: Any, a: Any = None) -> np.ndarray:
        """The vector–Jacobian product vᵀJ along ``axis`` (same shape as z)."""
        z = as_input_array(z)
        a = self._output(z, a)
        return self._vjp_from_output(a, np.asarray(v, dtype=z.dtype))

    def _vjp_from_output(self, a: np.ndarray, v: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _tensor_vjp(self, g: Tensor, out: Tensor) -> Tensor:
        """The same VJP in tensor ops, so that it can be differentiated again."""
        raise NotImplementedError

    def __call__(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        out = apply(
            self.name,
            Kernel(self.forward),
            (x,),
            lambda g, out, needs: (self._tensor_vjp(g, out),),
            {"activation": self},
        )
        out._activation_input = (self, x)
        return out

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """Softmax or LogSoftmax (``onnx_op``) along the axis (a positive axis: negative ones
        are opset 11's). Before opset 13 these ops flattened every axis from ``axis`` on,
        which is the same thing only for the last axis."""
        rank = len(shape) + 1
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or axis == 0:
            raise ValueError(
                f"{self.name} along axis {self.axis} of inputs of rank {rank} is "
                "not over the features of a sample; it cannot be exported"
            )
        if axis == rank - 1:
            return graph.op(str(self.onnx_op), [x], axis=axis)
        return graph.op(str(self.onnx_op), [x], since=13, axis=axis)


@catalogued
class Softmax(_AlongAxis):
    """Softmax along ``axis``: aᵢ = e^(zᵢ)/Σⱼ e^(zⱼ), computed as e^(zᵢ − max z) (stable).

    Jacobian diag(a) − aaᵀ; VJP a ⊙ (v − ⟨v, a⟩);
    ∂²aᵢ/∂zⱼ∂zₖ = aᵢ(δᵢⱼ − aⱼ)(δᵢₖ − aₖ) − aᵢaⱼ(δⱼₖ − aₖ).

    >>> Softmax().forward([0.0, 0.0])
    array([0.5, 0.5], dtype=float32)
    >>> Softmax().derivative([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]], dtype=float32)
    """

    name = "softmax"
    onnx_op = "Softmax"
    formula = "softmax(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ)"
    derivative_formula = "∂aᵢ/∂zⱼ = aᵢ(δᵢⱼ − aⱼ)  (Jacobian diag(a) − aaᵀ)"
    second_derivative_formula = "∂²aᵢ/∂zⱼ∂zₖ = aᵢ(δᵢⱼ − aⱼ)(δᵢₖ − aₖ) − aᵢaⱼ(δⱼₖ − aₖ)"
    derivative_from_output_formula = "vᵀJ = a ⊙ (v − ⟨v, a⟩)"
    output_range = "probability simplex (each in (0, 1), summing to 1)"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        self._check_vector(z)
        return _softmax(z, self.axis)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        a = self._last(a)
        column = a[..., :, None]
        return column * np.eye(a.shape[-1], dtype=a.dtype) - column * a[..., None, :]

    def second_derivative(self, z: Any, a: Any = None) -> np.ndarray:
        z = as_input_array(z)
        a = self._last(self._output(z, a))
        eye = np.eye(a.shape[-1], dtype=a.dtype)
        centred = eye - a[..., None, :]  # [..., i, j] = δᵢⱼ − aⱼ
        first = a[..., :, None, None] * centred[..., :, :, None] * centred[..., :, None, :]
        second = a[..., :, None, None] * a[..., None, :, None] * centred[..., None, :, :]
        return first - second

    def _vjp_from_output(self, a: np.ndarray, v: np.ndarray) -> np.ndarray:
        return a * (v - (v * a).sum(axis=self.axis, keepdims=True))

    def _tensor_vjp(self, g: Tensor, out: Tensor) -> Tensor:
        return out * (g - tensor_sum(g * out, self.axis, keepdims=True))


@catalogued
class LogSoftmax(_AlongAxis):
    """Log-softmax along ``axis``: aᵢ = zᵢ − log Σⱼ e^(zⱼ) (shifted by max z: stable).

    ∂aᵢ/∂zⱼ = δᵢⱼ − sⱼ with s = softmax(z) = e^a; VJP v − s·Σv; ∂²aᵢ/∂zⱼ∂zₖ = −sⱼ(δⱼₖ − sₖ).

    >>> LogSoftmax().vjp([0.0, 0.0], [1.0, 0.0])
    array([ 0.5, -0.5], dtype=float32)
    """

    name = "log_softmax"
    onnx_op = "LogSoftmax"
    formula = "log_softmax(z)ᵢ = zᵢ − log Σⱼ e^(zⱼ)"
    derivative_formula = "∂aᵢ/∂zⱼ = δᵢⱼ − softmax(z)ⱼ"
    second_derivative_formula = "∂²aᵢ/∂zⱼ∂zₖ = −sⱼ(δⱼₖ − sₖ), s = softmax(z)"
    derivative_from_output_formula = "vᵀJ = v − e^a·Σv"
    output_range = "(−∞, 0)"

    def _forward(self, z: np.ndarray) -> np.ndarray:
        self._check_vector(z)
        return _log_softmax(z, self.axis)

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        s = np.exp(self._last(a))
        return np.eye(s.shape[-1], dtype=s.dtype) - s[..., None, :]

    def second_derivative(self, z: Any, a: Any = None) -> np.ndarray:
        z = as_input_array(z)
        s = np.exp(self._last(self._output(z, a)))  # softmax(z)
        n = s.shape[-1]
        block = -(s[..., :, None] * (np.eye(n, dtype=s.dtype) - s[..., None, :]))  # [..., j, k]
        return np.broadcast_to(block[..., None, :, :], s.shape[:-1] + (n, n, n)).copy()

    def _vjp_from_output(self, a: np.ndarray, v: np.ndarray) -> np.ndarray:
        return v - np.exp(a) * v.sum(axis=self.axis, keepdims=True)

    def _tensor_vjp(self, g: Tensor, out: Tensor) -> Tensor:
        return g - exp(out) * tensor_sum(g, self.axis, keepdims=True)


@catalogued
class Maxout(Activation):
    """Maxout over groups of k pieces: aᵤ = max(z[u·k], …, z[u·k + k − 1]) along the last axis.

    An input of width m·k gives m outputs. g' is 1 for the piece that wins its group and 0 for
    the others; on a tie the first winning piece takes the gradient. g'' = 0.
    ``derivative(z)`` returns that 0/1 mask, shaped like z.

    >>> Maxout(pieces=2).forward([[1.0, 3.0, -1.0, -2.0]])
    array([[ 3., -1.]], dtype=float32)
    >>> Maxout(pieces=2).derivative([[1.0, 3.0, -1.0, -2.0]])
    array([[0., 1., 1., 0.]], dtype=float32)
    """

    name = "maxout"
    formula = "maxout(z)ᵤ = maxⱼ z_(u,j) over the k pieces of unit u"
    derivative_formula = "∂aᵤ/∂z_(u,j) = 1 for the winning piece (first on a tie), 0 otherwise"
    second_derivative_formula = "maxout'' = 0"
    output_range = "ℝ"
    zero_centered = "roughly"
    monotonic = True
    saturating = "no"
    elementwise = False

    def __init__(self, pieces: int = 2) -> None:
        if int(pieces) != pieces or pieces < 1:
            raise ValueError(f"maxout pieces must be a positive integer, got {pieces!r}")
        self.pieces = int(pieces)
        super().__init__(None)

    def _params(self) -> dict[str, Any]:
        return {"pieces": self.pieces}

    @property
    def smooth(self) -> bool:
        return self.pieces == 1

    def _grouped(self, z: np.ndarray) -> np.ndarray:
        if z.ndim == 0 or z.shape[-1] % self.pieces:
            raise ShapeError(
                f"maxout with {self.pieces} pieces needs a last axis divisible by {self.pieces}, "
                f"got shape {z.shape}"
            )
        return z.reshape(z.shape[:-1] + (z.shape[-1] // self.pieces, self.pieces))

    def _forward(self, z: np.ndarray) -> np.ndarray:
        return self._grouped(z).max(axis=-1)

    def _winner_mask(self, z: np.ndarray) -> np.ndarray:
        grouped = self._grouped(z)
        winners = np.argmax(grouped, axis=-1)[..., None]
        mask = np.zeros(grouped.shape, dtype=z.dtype)
        np.put_along_axis(mask, winners, 1.0, axis=-1)
        return mask

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        mask = self._winner_mask(z).reshape(z.shape)
        nan = np.isnan(z)
        return np.where(nan, np.nan, mask) if nan.any() else mask

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        return restore_nan(z, np.zeros_like(z))  # 0 also at z = ±∞

    def __call__(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        grouped_shape = self._grouped(x.data).shape

        def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor]:
            winners = apply("maxout_winners", Kernel(self._winner_mask), (x,), None)
            spread = reshape(g, grouped_shape[:-1] + (1,)) * winners
            return (reshape(spread, x.shape),)

        out = apply(self.name, Kernel(self.forward), (x,), vjp, {"activation": self})
        out._activation_input = (self, x)
        return out

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """aᵤ = maxⱼ z[u·k + j]: the Max of the k pieces, piece j gathered from columns j,
        j + k, …"""
        pieces, axis = self.pieces, len(shape)
        columns = np.arange(shape[-1]).reshape(-1, pieces)
        gathered = [
            graph.op("Gather", [x, graph.constant(f"piece{j}", columns[:, j], np.int64)], axis=axis)
            for j in range(pieces)
        ]
        return graph.op("Max", gathered)


__all__ = ["LogSoftmax", "Maxout", "Softmax"]
