"""Primitive operations on tensors and their vector-Jacobian products (VJPs), in sections.

Each op computes its value with NumPy and, when an input requires grad, records a VJP: given
``g = ∂L/∂out`` it returns ``∂L/∂input`` for every input. VJPs are written with these same ops,
so the backward pass can itself be recorded (``create_graph=True``) and differentiated again.
Masks inside VJPs (which input won a max, which entries a clip let through) are constants: the
second derivative of a piecewise-linear op is zero almost everywhere.

Broadcasting is undone in one place, ``sum_to``: every binary op sums its gradient back to the
shape of each operand.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from ._tensor import VJP, Node, Tensor
from .dtypes import as_float_array
from .errors import ShapeError
from .grad_mode import active_trace, is_grad_enabled
from .selection import select

Axis = int | tuple[int, ...] | None


# ---------------------------------------------------------------------- kernels and nodes
class Kernel:
    """How an op computes its value from its inputs' arrays: ``function(*arrays, **params)``.

    The eager op computes its value with its kernel, the node keeps it, and
    ``chainrule.compiler`` replays it on every compiled step: one text for each forward
    computation. ``takes_out``: the function accepts ``out=`` (the compiler then writes into a
    preallocated buffer, with the same bits); ``elementwise``: ``out`` may be one of the
    inputs (an in-place kernel, z → a).
    """

    __slots__ = ("function", "params", "takes_out", "elementwise", "ignores", "call")

    def __init__(
        self,
        function: Callable[..., Any],
        takes_out: bool = False,
        elementwise: bool = False,
        ignores: tuple[int, ...] = (),
        **params: Any,
    ) -> None:
        self.function = function
        self.params = params
        self.takes_out = takes_out
        self.elementwise = elementwise
        # Inputs the function does not read: parents only so that the VJP can reach them
        # (g' written from a is a function of z), which need not be kept for the kernel.
        self.ignores = ignores
        # The function with its parameters bound: what a compiled step calls directly.
        self.call: Callable[..., Any] = (
            functools.partial(function, **params) if params else function
        )

    def __call__(self, *arrays: Any, out: np.ndarray | None = None) -> Any:
        if out is None:
            return self.call(*arrays)
        return self.call(*arrays, out=out)

    def bind(self, **params: Any) -> Kernel:
        """The same function with (more) static parameters."""
        return Kernel(
            self.function, self.takes_out, self.elementwise, self.ignores, **self.params, **params
        )

    def __repr__(self) -> str:
        name = getattr(self.function, "__name__", type(self.function).__name__)
        inside = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Kernel({name}{', ' if inside else ''}{inside})"


#: what each input of an op is, by position, drawn on the graph's edges ("which one is the
#: numerator?"); each op names its own roles with ``operands`` where it is defined
OPERAND_ROLES: dict[str, tuple[str, ...]] = {}
Op = TypeVar("Op", bound=Callable[..., Any])


def operands(op: str, *roles: str) -> Callable[[Op], Op]:
    """Decorator of an op's function: the roles of the inputs of the ``op`` nodes it records."""

    def named(function: Op) -> Op:
        OPERAND_ROLES[op] = roles
        return function

    return named


def _ufunc(function: np.ufunc) -> Kernel:
    return Kernel(function, takes_out=True, elementwise=True)


_ADD, _SUB, _MUL, _DIV = _ufunc(np.add), _ufunc(np.subtract), _ufunc(np.multiply), _ufunc(np.divide)
_NEG, _EXP, _LOG, _SQRT = _ufunc(np.negative), _ufunc(np.exp), _ufunc(np.log), _ufunc(np.sqrt)
_ABS, _SIGN, _POWER = _ufunc(np.abs), _ufunc(np.sign), _ufunc(np.power)
_MATMUL = Kernel(np.matmul, takes_out=True)


def _no_gradient(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[None, ...]:
    return (None,) * len(needs)


def apply(
    op: str,
    kernel: Kernel,
    parents: tuple[Tensor, ...],
    vjp: VJP | None,
    attrs: dict[str, Any] | None = None,
) -> Tensor:
    """Compute ``kernel(*parents' arrays)`` and record a graph node when a parent requires
    grad (``vjp`` None: a value that carries no gradient, such as a mask).

    While ``chainrule.compiler`` traces a step, a node is also recorded when a parent was
    recorded, so that every value computed from the step's data is part of the program.
    """
    data = kernel(*[parent.data for parent in parents])
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    out = Tensor._wrap(data)
    if is_grad_enabled():
        if vjp is not None:
            for parent in parents:
                if parent.requires_grad:
                    out.requires_grad = True
                    out._node = Node(op, parents, vjp, attrs, kernel)
                    break
        trace = active_trace()
        if trace is not None:
            if out._node is None and any(p._node is not None or p.requires_grad for p in parents):
                out._node = Node(op, parents, vjp or _no_gradient, attrs, kernel)
            if out._node is not None:
                trace.tensors.append(out)
                trace.errstates.append((out, np.geterr()))
    return out


def source(op: str, kernel: Kernel, attrs: dict[str, Any] | None = None) -> Tensor:
    """A value with no inputs that changes from step to step (a dropout mask, a layer's
    buffer): ``kernel()``. Recorded as a node while a step is traced, a constant otherwise."""
    data = np.asarray(kernel())
    out = Tensor._wrap(data)
    trace = active_trace()
    if trace is not None:
        out._node = Node(op, (), _no_gradient, attrs, kernel)
        trace.tensors.append(out)
    return out


def record(
    data: Any, parents: tuple[Tensor, ...], op: str, vjp: VJP, attrs: dict[str, Any] | None = None
) -> Tensor:
    """Wrap a value computed outside any kernel; record a graph node if a parent requires
    grad. (For user-defined ops; the compiler cannot replay such a node and says so.)"""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    out = Tensor._wrap(data)
    if is_grad_enabled():
        for parent in parents:
            if parent.requires_grad or (active_trace() is not None and parent._node is not None):
                out.requires_grad = any(p.requires_grad for p in parents)
                out._node = Node(op, parents, vjp, attrs)
                trace = active_trace()
                if trace is not None:
                    trace.tensors.append(out)
                break
    return out


def mask(op: str, function: Callable[..., np.ndarray], *tensors: Tensor) -> Tensor:
    """A value computed from tensors that carries no gradient (which entries a clip let
    through, which input won a max): a constant of the VJP, recomputed by a compiled step."""
    return apply(op, Kernel(function), tensors, None)


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """A tensor for an operand: tensors pass through, other values take ``like``'s dtype."""
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(as_float_array(value, like.dtype if like is not None else None))


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


def check_broadcast(op: str, a: Tensor, b: Tensor) -> None:
    """Raise a ShapeError naming ``op`` and both shapes if they do not broadcast."""
    if a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ShapeError(f"{op}: cannot broadcast shapes {a.shape} and {b.shape}") from None


def _normalize_axes(op: str, axis: Axis, shape: tuple[int, ...]) -> tuple[int, ...]:
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor of shape {shape}")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(normalized)


def _keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _constant(array: np.ndarray) -> Tensor:
    return Tensor._wrap(array)


# ---------------------------------------------------------------------- broadcasting
def _broadcast_array(data: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(data, shape)


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Repeat ``x`` along broadcast dimensions; VJP: ``sum_to`` the gradient back."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        fits = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return apply(
        "broadcast_to",
        Kernel(_broadcast_array, shape=shape),
        (x,),
        lambda g, out, needs: (sum_to(g, x.shape),),
    )


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` over the dimensions that broadcasting added to reach ``shape`` (unbroadcast)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return apply(
        "sum_to",
        Kernel(sum_to_array, shape=shape),
        (x,),
        lambda g, out, needs: (broadcast_to(g, x.shape),),
    )


def sum_to_array(data: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``sum_to`` on an ndarray: sum over the axes that broadcasting added, so the result has
    ``shape``."""
    if data.shape == shape:
        return data
    lead = data.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, size in enumerate(shape) if size == 1 and data.shape[i + lead] != 1
    )
    summed = data.sum(axis=axes, keepdims=True)
    return summed.reshape(shape) if lead else summed


# ---------------------------------------------------------------------- arithmetic
def add(a: Any, b: Any) -> Tensor:
    """a + b; VJP: (g, g) summed back to each operand's shape."""
    a, b = _pair(a, b)
    check_broadcast("add", a, b)
    return apply(
        "add", _ADD, (a, b), lambda g, out, needs: (sum_to(g, a.shape), sum_to(g, b.shape))
    )


@operands("sub", "minuend", "subtrahend")
def sub(a: Any, b: Any) -> Tensor:
    """a − b; VJP: (g, −g)."""
    a, b = _pair(a, b)
    check_broadcast("sub", a, b)
    return apply(
        "sub",
        _SUB,
        (a, b),
        lambda g, out, needs: (
            sum_to(g, a.shape) if needs[0] else None,
            sum_to(neg(g), b.shape) if needs[1] else None,
        ),
    )


def mul(a: Any, b: Any) -> Tensor:
    """a·b; VJP: (g·b, g·a)."""
    a, b = _pair(a, b)
    check_broadcast("mul", a, b)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (
            sum_to(g * b, a.shape) if needs[0] else None,
            sum_to(g * a, b.shape) if needs[1] else None,
        )

    return apply("mul", _MUL, (a, b), vjp)


@operands("div", "numerator", "denominator")
def div(a: Any, b: Any) -> Tensor:
    """a / b; VJP: (g / b, −g·a / b²)."""
    a, b = _pair(a, b)
    check_broadcast("div", a, b)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (
            sum_to(g / b, a.shape) if needs[0] else None,
            sum_to(neg(g) * a / (b * b), b.shape) if needs[1] else None,
        )

    return apply("div", _DIV, (a, b), vjp)


def neg(a: Tensor) -> Tensor:
    """−a; VJP: −g."""
    return apply("neg", _NEG, (a,), lambda g, out, needs: (neg(g),))


def _power_slope(a: np.ndarray, b: np.ndarray, power_: np.ndarray) -> np.ndarray:
    return np.where(b == 0, 0.0, b * power_).astype(power_.dtype, copy=False)


@operands("pow", "base", "exponent")
def power(a: Any, b: Any) -> Tensor:
    """a ** b; VJP: (g·b·a^(b−1), g·a^b·log a).

    As in PyTorch: the a-gradient is 0 where b = 0, and the b-gradient is 0 where a = 0 and
    b ≥ 0 (the limit of a^b·log a), so x**0 and 0**b do not produce NaN gradients.
    """
    a, b = _pair(a, b)
    check_broadcast("pow", a, b)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        grad_a = grad_b = None
        # 0**(negative) and 0·log 0 are inf/NaN by design (masked below): no warnings.
        with np.errstate(divide="ignore", invalid="ignore"):
            if needs[0]:
                exponent_is_zero = mask("pow_exponent_is_zero", _equals_zero, b)
                slope = where(exponent_is_zero, 0.0, b * power(a, b - 1.0))
                grad_a = sum_to(g * slope, a.shape)
            if needs[1]:
                base_is_zero = mask("pow_base_is_zero", _zero_base, a, b)
                grad_b = sum_to(g * where(base_is_zero, 0.0, out * log(a)), b.shape)
        return grad_a, grad_b

    return apply("pow", _POWER, (a, b), vjp)


def _equals_zero(b: np.ndarray) -> np.ndarray:
    return b == 0


def _zero_base(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == 0) & (b >= 0)


def _matmul_shapes_error(a: Tensor, b: Tensor) -> ShapeError:
    return ShapeError(
        f"matmul: shapes {a.shape} and {b.shape} are not aligned "
        f"(inner dimensions {a.shape[-1] if a.ndim else '-'} and "
        f"{(b.shape[-2] if b.ndim > 1 else b.shape[0]) if b.ndim else '-'} differ, "
        "or the batch dimensions do not broadcast)"
    )


@operands("matmul", "a", "b")
def matmul(a: Any, b: Any) -> Tensor:
    """a @ b (NumPy's matmul, with 1-D and batched operands); VJP: (g bᵀ, aᵀ g)."""
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: operands must have at least 1 dimension, got {a.shape} and {b.shape}"
        )
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        raise _matmul_shapes_error(a, b)
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise _matmul_shapes_error(a, b) from None

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        a2 = a if a.ndim > 1 else reshape(a, (1, a.shape[0]))
        b2 = b if b.ndim > 1 else reshape(b, (b.shape[0], 1))
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = reshape(g, batch + (a2.shape[-2], b2.shape[-1]))
        grad_a = grad_b = None
        if needs[0]:
            grad_a = reshape(sum_to(matmul(g2, swap_last_axes(b2)), a2.shape), a.shape)
        if needs[1]:
            grad_b = reshape(sum_to(matmul(swap_last_axes(a2), g2), b2.shape), b.shape)
        return grad_a, grad_b

    return apply("matmul", _MATMUL, (a, b), vjp)


def linear_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Z = X Wᵀ (+ b), written into ``out`` when given."""
    out = np.matmul(x, weight.T, out=out)
    if bias is not None:
        np.add(out, bias, out=out)
    return out


_LINEAR = Kernel(linear_forward, takes_out=True)


@operands("linear", "x", "W", "b")
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The Dense layer's affine map Z = X Wᵀ + b for rows X (N × in), W (out × in), b (out,).

    One node instead of transpose, matmul and add: the VJP gives ∂L/∂X = G W, ∂L/∂W = Gᵀ X
    (already in W's layout) and ∂L/∂b = Σ_rows G, each one matrix product or one sum.
    """
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ShapeError(
            f"linear: inputs of shape {x.shape} do not fit a weight of shape {weight.shape} "
            "(expected inputs (N, in) and weight (out, in))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(
            f"linear: bias of shape {bias.shape} for a weight of shape "
            f"{weight.shape} (expected ({weight.shape[0]},))"
        )
    parents = (x, weight) if bias is None else (x, weight, bias)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        grads = (
            matmul(g, weight) if needs[0] else None,
            matmul(transpose(g), x) if needs[1] else None,
        )
        if bias is None:
            return grads
        return grads + (sum(g, 0) if needs[2] else None,)

    return apply("linear", _LINEAR, parents, vjp)


def dropout(x: Tensor, draw_mask: Callable[[tuple[int, ...]], np.ndarray], rate: float) -> Tensor:
    """Inverted dropout: x·keep/(1 − rate) with keep = ``draw_mask(x.shape)`` (True: kept);
    VJP: g·keep/(1 − rate). The scale is a ``source``: a compiled step draws a new mask on
    every step, from the same generator in the same order as eager training."""
    shape, dtype = x.shape, x.dtype

    def draw_scale() -> np.ndarray:
        return dropout_scale(draw_mask(shape), rate, dtype)

    scale = source("dropout_mask", Kernel(draw_scale), attrs={"rate": rate})
    return apply(
        "dropout", _MUL, (x, scale), lambda g, out, needs: (g * scale, None), {"rate": rate}
    )


def dropout_scale(keep: np.ndarray, rate: float, dtype: np.dtype) -> np.ndarray:
    """keep/(1 − rate) in ``dtype``: the factor inverted dropout multiplies by."""
    return (keep / (1.0 - rate)).astype(dtype)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b); VJP sends g to the larger operand, half to each on a tie."""
    return _extremum("maximum", np.maximum, np.greater, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b); VJP sends g to the smaller operand, half to each on a tie."""
    return _extremum("minimum", np.minimum, np.less, a, b)


def _winning_share(a: np.ndarray, b: np.ndarray, wins: Callable) -> np.ndarray:
    """1 where a wins, ½ on a tie, 0 where b wins (in the operands' dtype)."""
    return (wins(a, b) + 0.5 * (a == b)).astype(np.result_type(a, b))


def _extremum(name: str, pick: np.ufunc, wins: Callable, a: Any, b: Any) -> Tensor:
    a, b = _pair(a, b)
    check_broadcast(name, a, b)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        grad_a = grad_b = None
        if needs[0]:
            share = apply(f"{name}_share", Kernel(_winning_share, wins=wins), (a, b), None)
            grad_a = sum_to(g * share, a.shape)
        if needs[1]:
            share = apply(f"{name}_share", Kernel(_winning_share, wins=wins), (b, a), None)
            grad_b = sum_to(g * share, b.shape)
        return grad_a, grad_b

    return apply(name, _ufunc(pick), (a, b), vjp)


def compare(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    """A comparison (<, <=, >, >=, ==, !=): a boolean tensor that carries no gradient."""
    try:
        a, b = _pair(a, b)
    except TypeError:
        return NotImplemented
    check_broadcast(ufunc.__name__, a, b)
    return apply(ufunc.__name__, _ufunc(ufunc), (a, b), None)


# ---------------------------------------------------------------------- elementwise functions
def exp(a: Tensor) -> Tensor:
    """e^a; VJP: g·e^a (from the output)."""
    return apply("exp", _EXP, (a,), lambda g, out, needs: (g * out,))


def log(a: Tensor) -> Tensor:
    """Natural log; VJP: g / a."""
    return apply("log", _LOG, (a,), lambda g, out, needs: (g / a,))


def sqrt(a: Tensor) -> Tensor:
    """√a; VJP: g / (2√a) (from the output)."""
    return apply("sqrt", _SQRT, (a,), lambda g, out, needs: (g / (2.0 * out),))


def sign(a: Tensor) -> Tensor:
    """sign(a) ∈ {−1, 0, 1} (0 at 0, NaN for NaN); carries no gradient (0 almost everywhere)."""
    return apply("sign", _SIGN, (a,), None)


def abs(a: Tensor) -> Tensor:  # the name users expect, though it shadows a builtin
    """|a|; VJP: g·sign(a), with sign(0) = 0."""
    return apply("abs", _ABS, (a,), lambda g, out, needs: (g * sign(a),))


def _inside(a: np.ndarray, lower: float | None, upper: float | None) -> np.ndarray:
    inside = np.ones(a.shape, dtype=bool)
    if lower is not None:
        inside &= a >= lower
    if upper is not None:
        inside &= a <= upper
    return inside


def clip(a: Tensor, lower: float | None = None, upper: float | None = None) -> Tensor:
    """min(max(a, lower), upper); VJP: g where lower ≤ a ≤ upper (bounds included), else 0."""
    if lower is None and upper is None:
        raise ValueError("clip: give lower, upper or both")

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor]:
        inside = apply("clip_inside", Kernel(_inside, lower=lower, upper=upper), (a,), None)
        return (where(inside, g, 0.0),)

    return apply("clip", Kernel(np.clip, a_min=lower, a_max=upper), (a,), vjp)


def _cast(data: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return data.astype(dtype)


def astype(a: Tensor, dtype: np.dtype) -> Tensor:
    """Cast to another float dtype; VJP: the gradient cast back."""
    if a.dtype == dtype:
        return a
    return apply(
        "astype", Kernel(_cast, dtype=dtype), (a,), lambda g, out, needs: (astype(g, a.dtype),)
    )


def _where(condition: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return select(condition, x, y, np.result_type(x, y))


_WHERE = Kernel(_where)


@operands("where", "condition", "if true", "if false")
def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where condition else y; VJP: g to x where condition, to y elsewhere."""
    condition_tensor = (
        condition if isinstance(condition, Tensor) else _constant(np.asarray(condition))
    )
    cond = condition_tensor.data
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be boolean, got {cond.dtype}")
    if isinstance(x, Tensor) or not isinstance(y, Tensor):
        x, y = _pair(x, y)
    else:
        y, x = _pair(y, x)
    for name, operand in (("x", x), ("y", y)):
        try:
            np.broadcast_shapes(cond.shape, operand.shape)
        except ValueError:
            raise ShapeError(
                f"where: condition of shape {cond.shape} and {name} of shape {operand.shape} "
                "do not broadcast"
            ) from None
    check_broadcast("where", x, y)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (
            None,
            sum_to(where(condition_tensor, g, 0.0), x.shape) if needs[1] else None,
            sum_to(where(condition_tensor, 0.0, g), y.shape) if needs[2] else None,
        )

    return apply("where", _WHERE, (condition_tensor, x, y), vjp)


# ---------------------------------------------------------------------- reductions
def _sum_array(
    data: np.ndarray, axes: tuple[int, ...], keepdims: bool, out: np.ndarray | None = None
) -> np.ndarray:
    return data.sum(axis=axes, keepdims=keepdims, out=out)


def sum(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Σ over ``axis``; VJP: g broadcast back over the summed axes."""
    axes = _normalize_axes("sum", axis, a.shape)
    kept = _keepdims_shape(a.shape, axes)
    return apply(
        "sum",
        Kernel(_sum_array, takes_out=True, axes=axes, keepdims=keepdims),
        (a,),
        lambda g, out, needs: (broadcast_to(reshape(g, kept), a.shape),),
        {"axes": axes, "keepdims": keepdims},
    )


def mean(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` = Σ / count."""
    axes = _normalize_axes("mean", axis, a.shape)
    count = math.prod(a.shape[i] for i in axes)
    if count == 0:
        raise ShapeError(f"mean: the reduced axes of shape {a.shape} are empty")
    return sum(a, axis, keepdims) * (1.0 / count)


def max(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Max over ``axis``; VJP: g shared evenly among the entries equal to the max."""
    return _reduce_extremum("max", np.max, a, axis, keepdims)


def min(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Min over ``axis``; VJP: g shared evenly among the entries equal to the min."""
    return _reduce_extremum("min", np.min, a, axis, keepdims)


def _extremum_share(
    a: np.ndarray, out: np.ndarray, kept: tuple[int, ...], axes: tuple[int, ...]
) -> np.ndarray:
    """1/count at the entries equal to the reduced extremum (count of them in the group)."""
    winners = a == out.reshape(kept)
    count = np.maximum(winners.sum(axis=axes, keepdims=True), 1)
    return (winners / count).astype(a.dtype)


def _reduce_extremum(name: str, reduce: Callable, a: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    axes = _normalize_axes(name, axis, a.shape)
    if a.size == 0:
        raise ShapeError(f"{name}: cannot reduce an empty tensor of shape {a.shape}")
    kept = _keepdims_shape(a.shape, axes)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor]:
        share = apply(
            f"{name}_share", Kernel(_extremum_share, kept=kept, axes=axes), (a, out), None
        )
        return (broadcast_to(reshape(g, kept), a.shape) * share,)

    return apply(name, Kernel(reduce, axis=axes, keepdims=keepdims), (a,), vjp)


# ---------------------------------------------------------------------- shapes
def _reshape_array(data: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return data.reshape(shape)


def reshape(a: Tensor, shape: Sequence[int]) -> Tensor:
    """The same values in a new shape; VJP: reshape back."""
    shape = tuple(int(s) for s in shape)
    if shape == a.shape:
        return a
    try:
        resolved = a.data.reshape(shape).shape  # -1 resolved, sizes checked
    except ValueError:
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {a.shape} to {shape}"
        ) from None
    return apply(
        "reshape",
        Kernel(_reshape_array, shape=resolved),
        (a,),
        lambda g, out, needs: (reshape(g, a.shape),),
        {"shape": resolved},
    )


def _transpose_array(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return data.transpose(axes)


def transpose(a: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them by default); VJP: the inverse permutation."""
    if axes is None:
        axes = tuple(reversed(range(a.ndim)))
    if any(not -a.ndim <= x < a.ndim for x in axes):
        raise ShapeError(f"transpose: axes {tuple(axes)} are out of range for shape {a.shape}")
    axes = tuple(int(x) % a.ndim for x in axes)
    if sorted(axes) != list(range(a.ndim)):
        raise ShapeError(f"transpose: {axes} is not a permutation of the axes of shape {a.shape}")
    inverse = tuple(int(i) for i in np.argsort(axes))
    return apply(
        "transpose",
        Kernel(_transpose_array, axes=axes),
        (a,),
        lambda g, out, needs: (transpose(g, inverse),),
        {"axes": axes},
    )


def swap_last_axes(a: Tensor) -> Tensor:
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    axes = list(range(a.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(a, axes)


def _plain_index(index: Any) -> Any:
    """Turn tensors inside an index into integer/boolean ndarrays."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        if index.dtype == np.bool_:
            return index.data
        raise TypeError("index with integers, slices or boolean masks, not a float tensor")
    return index


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _getitem_array(data: np.ndarray, index: Any) -> np.ndarray:
    return data[index]


def getitem(a: Tensor, index: Any) -> Tensor:
    """Indexing and slicing (NumPy rules); VJP: the gradient scattered back, repeats added."""
    index = _plain_index(index)
    try:
        a.data[index]
    except IndexError as error:
        raise IndexError(f"index {index!r} into a tensor of shape {a.shape}: {error}") from None
    return apply(
        "getitem",
        Kernel(_getitem_array, index=index),
        (a,),
        lambda g, out, needs: (scatter_add(g, a.shape, index),),
        {"index": index},
    )


def _scatter_add_array(values: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    data = np.zeros(shape, dtype=values.dtype)
    if _is_basic_index(index):
        data[index] = values
    else:
        np.add.at(data, index, values)
    return data


def scatter_add(values: Tensor, shape: tuple[int, ...], index: Any) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``index``; VJP: ``getitem`` at ``index``."""
    return apply(
        "scatter_add",
        Kernel(_scatter_add_array, shape=tuple(shape), index=index),
        (values,),
        lambda g, out, needs: (getitem(g, index),),
        {"index": index},
    )


def _join_arrays(*arrays: np.ndarray, join: Callable, axis: int) -> np.ndarray:
    return join(arrays, axis=axis)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; VJP: the gradient sliced back into pieces."""
    parts = _operands("concatenate", tensors)
    axis = _join_axis("concatenate", parts, axis, parts[0].ndim)
    bounds = np.cumsum([0] + [t.shape[axis] for t in parts])

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> list[Tensor | None]:
        lead = (slice(None),) * axis
        return [
            getitem(g, lead + (slice(int(lo), int(hi)),)) if need else None
            for lo, hi, need in zip(bounds[:-1], bounds[1:], needs)
        ]

    return _join("concatenate", Kernel(_join_arrays, join=np.concatenate, axis=axis), parts, vjp)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis; VJP: the gradient taken apart along that axis."""
    parts = _operands("stack", tensors)
    axis = _join_axis("stack", parts, axis, parts[0].ndim + 1)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> list[Tensor | None]:
        lead = (slice(None),) * axis
        return [getitem(g, lead + (i,)) if need else None for i, need in enumerate(needs)]

    return _join("stack", Kernel(_join_arrays, join=np.stack, axis=axis), parts, vjp)


def _join_axis(op: str, parts: list[Tensor], axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for tensors of shape {parts[0].shape}")
    return axis % ndim


def _join(op: str, kernel: Kernel, parts: list[Tensor], vjp: VJP) -> Tensor:
    """The joined tensor, or a ShapeError naming the shapes that do not fit."""
    try:
        return apply(op, kernel, tuple(parts), vjp, {"axis": kernel.params["axis"]})
    except ValueError as error:
        shapes = ", ".join(str(t.shape) for t in parts)
        raise ShapeError(
            f"{op} along axis {kernel.params['axis']}: shapes {shapes} do not fit ({error})"
        ) from None


def _operands(op: str, tensors: Sequence[Any]) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError(f"{op}: give a non-empty list of tensors")
    first = next((t for t in tensors if isinstance(t, Tensor)), None)
    return [as_tensor(t, first) for t in tensors]


# ---------------------------------------------------------------------- constructors
def zeros(shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (default dtype unless given)."""
    return Tensor(np.zeros(shape), requires_grad=requires_grad, dtype=dtype)


def ones(shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (default dtype unless given)."""
    return Tensor(np.ones(shape), requires_grad=requires_grad, dtype=dtype)


def zeros_like(t: Tensor) -> Tensor:
    return Tensor._wrap(np.zeros_like(t.data))


def ones_like(t: Tensor) -> Tensor:
    return Tensor._wrap(np.ones_like(t.data))


__all__ = [
    # the primitive ops, each with one kernel and one VJP
    "abs",
    "add",
    "astype",
    "broadcast_to",
    "clip",
    "compare",
    "concatenate",
    "div",
    "dropout",
    "exp",
    "getitem",
    "linear",
    "log",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "power",
    "reshape",
    "scatter_add",
    "sign",
    "sqrt",
    "stack",
    "sub",
    "sum",
    "sum_to",
    "swap_last_axes",
    "transpose",
    "where",
    # constructors
    "ones",
    "ones_like",
    "zeros",
    "zeros_like",
    # how ops are made
    "Kernel",
    "apply",
    "as_tensor",
    "check_broadcast",
    "mask",
    "record",
    "source",
    "dropout_scale",
    "linear_forward",
    "sum_to_array",
]
