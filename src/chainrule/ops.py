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

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .dtypes import as_float_array
from .errors import ShapeError
from .grad_mode import is_grad_enabled
from .tensor import VJP, Node, Tensor

Axis = int | tuple[int, ...] | None


# ---------------------------------------------------------------------- helpers
def record(data: Any, parents: tuple[Tensor, ...], op: str, vjp: VJP,
           attrs: dict[str, Any] | None = None) -> Tensor:
    """Wrap an op's result; record a graph node if any parent requires grad.

    ``attrs`` are the op's settings (axis, activation, target, ...) for the compiler.
    """
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    out = Tensor._wrap(data)
    if is_grad_enabled():
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._node = Node(op, parents, vjp, attrs)
                break
    return out


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
            raise ShapeError(
                f"{op}: cannot broadcast shapes {a.shape} and {b.shape}"
            ) from None


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
def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Repeat ``x`` along broadcast dimensions; VJP: ``sum_to`` the gradient back."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        data = np.broadcast_to(x.data, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(data, (x,), "broadcast_to", lambda g, out, needs: (sum_to(g, x.shape),))


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` over the dimensions that broadcasting added to reach ``shape`` (unbroadcast)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    data = sum_to_array(x.data, shape)
    return record(data, (x,), "sum_to", lambda g, out, needs: (broadcast_to(g, x.shape),))


def sum_to_array(data: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``sum_to`` on an ndarray (the compiler's kernels use it too): sum over the axes that
    broadcasting added, so the result has ``shape``."""
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
    return record(a.data + b.data, (a, b), "add",
                  lambda g, out, needs: (sum_to(g, a.shape), sum_to(g, b.shape)))


def sub(a: Any, b: Any) -> Tensor:
    """a − b; VJP: (g, −g)."""
    a, b = _pair(a, b)
    check_broadcast("sub", a, b)
    return record(a.data - b.data, (a, b), "sub",
                  lambda g, out, needs: (sum_to(g, a.shape), sum_to(neg(g), b.shape)))


def mul(a: Any, b: Any) -> Tensor:
    """a·b; VJP: (g·b, g·a)."""
    a, b = _pair(a, b)
    check_broadcast("mul", a, b)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (sum_to(g * b, a.shape) if needs[0] else None,
                sum_to(g * a, b.shape) if needs[1] else None)

    return record(a.data * b.data, (a, b), "mul", vjp)


def div(a: Any, b: Any) -> Tensor:
    """a / b; VJP: (g / b, −g·a / b²)."""
    a, b = _pair(a, b)
    check_broadcast("div", a, b)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (sum_to(g / b, a.shape) if needs[0] else None,
                sum_to(neg(g) * a / (b * b), b.shape) if needs[1] else None)

    return record(a.data / b.data, (a, b), "div", vjp)


def neg(a: Tensor) -> Tensor:
    """−a; VJP: −g."""
    return record(-a.data, (a,), "neg", lambda g, out, needs: (neg(g),))


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
                slope = where(_constant(b.data == 0), 0.0, b * power(a, b - 1.0))
                grad_a = sum_to(g * slope, a.shape)
            if needs[1]:
                mask = _constant((a.data == 0) & (b.data >= 0))
                grad_b = sum_to(g * where(mask, 0.0, out * log(a)), b.shape)
        return grad_a, grad_b

    return record(np.power(a.data, b.data), (a, b), "pow", vjp)


def _matmul_shapes_error(a: Tensor, b: Tensor) -> ShapeError:
    return ShapeError(
        f"matmul: shapes {a.shape} and {b.shape} are not aligned "
        f"(inner dimensions {a.shape[-1] if a.ndim else '-'} and "
        f"{(b.shape[-2] if b.ndim > 1 else b.shape[0]) if b.ndim else '-'} differ, "
        "or the batch dimensions do not broadcast)"
    )


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
        data = a.data @ b.data
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

    return record(data, (a, b), "matmul", vjp)


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
        raise ShapeError(f"linear: bias of shape {bias.shape} for a weight of shape "
                         f"{weight.shape} (expected ({weight.shape[0]},))")
    data = linear_forward(x.data, weight.data, None if bias is None else bias.data)
    parents = (x, weight) if bias is None else (x, weight, bias)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        if is_grad_enabled():  # create_graph: differentiable tensor ops, the same products
            grads = (matmul(g, weight) if needs[0] else None,
                     matmul(transpose(g), x) if needs[1] else None)
            return grads + ((sum(g, 0),) if bias is not None else ())
        grad_x = Tensor._wrap(np.matmul(g.data, weight.data)) if needs[0] else None
        grad_w = Tensor._wrap(np.matmul(g.data.T, x.data)) if needs[1] else None
        if bias is None:
            return grad_x, grad_w
        return grad_x, grad_w, Tensor._wrap(g.data.sum(axis=0))

    return record(data, parents, "linear", vjp)


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                   out: np.ndarray | None = None) -> np.ndarray:
    """Z = X Wᵀ (+ b), written into ``out`` when given (the kernel the compiler shares)."""
    out = np.matmul(x, weight.T, out=out)
    if bias is not None:
        np.add(out, bias, out=out)
    return out


def dropout(x: Tensor, keep: np.ndarray, rate: float, source: Any = None) -> Tensor:
    """Inverted dropout with the mask ``keep``: x·keep/(1 − rate); VJP: g·keep/(1 − rate).

    The mask is drawn by the caller (``source``, an ``nn.Dropout``, whose ``draw_mask`` the
    compiler calls again on every step), so the op is deterministic given it.
    """
    scale = dropout_scale(keep, rate, x.dtype)
    return record(x.data * scale, (x,), "dropout",
                  lambda g, out, needs: (g * Tensor._wrap(scale),),
                  {"source": source, "rate": rate})


def dropout_scale(keep: np.ndarray, rate: float, dtype: np.dtype) -> np.ndarray:
    """keep/(1 − rate) in ``dtype``: the factor inverted dropout multiplies by."""
    return (keep / (1.0 - rate)).astype(dtype)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b); VJP sends g to the larger operand, half to each on a tie."""
    return _extremum("maximum", np.maximum, np.greater, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b); VJP sends g to the smaller operand, half to each on a tie."""
    return _extremum("minimum", np.minimum, np.less, a, b)


def _extremum(name: str, pick: Callable, wins: Callable, a: Any, b: Any) -> Tensor:
    a, b = _pair(a, b)
    check_broadcast(name, a, b)
    dtype = np.result_type(a.data, b.data)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        tie = 0.5 * (a.data == b.data)
        weight_a = (wins(a.data, b.data) + tie).astype(dtype)
        weight_b = (wins(b.data, a.data) + tie).astype(dtype)
        return (sum_to(g * _constant(weight_a), a.shape) if needs[0] else None,
                sum_to(g * _constant(weight_b), b.shape) if needs[1] else None)

    return record(pick(a.data, b.data), (a, b), name, vjp)


def compare(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    """A comparison (<, <=, >, >=, ==, !=): a boolean tensor that carries no gradient."""
    try:
        a, b = _pair(a, b)
    except TypeError:
        return NotImplemented
    check_broadcast(ufunc.__name__, a, b)
    return Tensor._wrap(ufunc(a.data, b.data))


# ---------------------------------------------------------------------- elementwise functions
def exp(a: Tensor) -> Tensor:
    """e^a; VJP: g·e^a (from the output)."""
    return record(np.exp(a.data), (a,), "exp", lambda g, out, needs: (g * out,))


def log(a: Tensor) -> Tensor:
    """Natural log; VJP: g / a."""
    return record(np.log(a.data), (a,), "log", lambda g, out, needs: (g / a,))


def sqrt(a: Tensor) -> Tensor:
    """√a; VJP: g / (2√a) (from the output)."""
    return record(np.sqrt(a.data), (a,), "sqrt", lambda g, out, needs: (g / (2.0 * out),))


def abs(a: Tensor) -> Tensor:  # noqa: A001 - the name users expect
    """|a|; VJP: g·sign(a), with sign(0) = 0."""
    return record(np.abs(a.data), (a,), "abs",
                  lambda g, out, needs: (g * _constant(np.sign(a.data)),))


def clip(a: Tensor, lower: float | None = None, upper: float | None = None) -> Tensor:
    """min(max(a, lower), upper); VJP: g where lower ≤ a ≤ upper (bounds included), else 0."""
    if lower is None and upper is None:
        raise ValueError("clip: give lower, upper or both")
    data = np.clip(a.data, lower, upper)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor]:
        inside = np.ones(a.shape, dtype=bool)
        if lower is not None:
            inside &= a.data >= lower
        if upper is not None:
            inside &= a.data <= upper
        return (where(_constant(inside), g, 0.0),)

    return record(data, (a,), "clip", vjp)


def astype(a: Tensor, dtype: np.dtype) -> Tensor:
    """Cast to another float dtype; VJP: the gradient cast back."""
    if a.dtype == dtype:
        return a
    return record(a.data.astype(dtype), (a,), "astype",
                  lambda g, out, needs: (astype(g, a.dtype),))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where condition else y; VJP: g to x where condition, to y elsewhere."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
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
    condition_tensor = _constant(cond)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (sum_to(where(condition_tensor, g, 0.0), x.shape) if needs[0] else None,
                sum_to(where(condition_tensor, 0.0, g), y.shape) if needs[1] else None)

    return record(np.where(cond, x.data, y.data), (x, y), "where", vjp)


# ---------------------------------------------------------------------- reductions
def sum(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ over ``axis``; VJP: g broadcast back over the summed axes."""
    axes = _normalize_axes("sum", axis, a.shape)
    kept = _keepdims_shape(a.shape, axes)
    data = a.data.sum(axis=axes, keepdims=keepdims)
    return record(data, (a,), "sum",
                  lambda g, out, needs: (broadcast_to(reshape(g, kept), a.shape),),
                  {"axes": axes, "keepdims": keepdims})


def mean(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` = Σ / count."""
    axes = _normalize_axes("mean", axis, a.shape)
    count = math.prod(a.shape[i] for i in axes)
    if count == 0:
        raise ShapeError(f"mean: the reduced axes of shape {a.shape} are empty")
    return sum(a, axis, keepdims) * (1.0 / count)


def max(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Max over ``axis``; VJP: g shared evenly among the entries equal to the max."""
    return _reduce_extremum("max", np.max, a, axis, keepdims)


def min(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Min over ``axis``; VJP: g shared evenly among the entries equal to the min."""
    return _reduce_extremum("min", np.min, a, axis, keepdims)


def _reduce_extremum(name: str, reduce: Callable, a: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    axes = _normalize_axes(name, axis, a.shape)
    if a.size == 0:
        raise ShapeError(f"{name}: cannot reduce an empty tensor of shape {a.shape}")
    data = reduce(a.data, axis=axes, keepdims=keepdims)
    kept = _keepdims_shape(a.shape, axes)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor]:
        winners = a.data == out.data.reshape(kept)
        count = np.maximum(winners.sum(axis=axes, keepdims=True), 1)
        share = _constant((winners / count).astype(a.dtype))
        return (broadcast_to(reshape(g, kept), a.shape) * share,)

    return record(data, (a,), name, vjp)


# ---------------------------------------------------------------------- shapes
def reshape(a: Tensor, shape: Sequence[int]) -> Tensor:
    """The same values in a new shape; VJP: reshape back."""
    shape = tuple(int(s) for s in shape)
    if shape == a.shape:
        return a
    try:
        data = a.data.reshape(shape)
    except ValueError:
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {a.shape} to {shape}"
        ) from None
    return record(data, (a,), "reshape", lambda g, out, needs: (reshape(g, a.shape),))


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
    return record(a.data.transpose(axes), (a,), "transpose",
                  lambda g, out, needs: (transpose(g, inverse),), {"axes": axes})


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
    return all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    )


def getitem(a: Tensor, index: Any) -> Tensor:
    """Indexing and slicing (NumPy rules); VJP: the gradient scattered back, repeats added."""
    index = _plain_index(index)
    try:
        data = a.data[index]
    except IndexError as error:
        raise IndexError(f"index {index!r} into a tensor of shape {a.shape}: {error}") from None
    return record(data, (a,), "getitem",
                  lambda g, out, needs: (scatter_add(g, a.shape, index),))


def scatter_add(values: Tensor, shape: tuple[int, ...], index: Any) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``index``; VJP: ``getitem`` at ``index``."""
    data = np.zeros(shape, dtype=values.dtype)
    if _is_basic_index(index):
        data[index] = values.data
    else:
        np.add.at(data, index, values.data)
    return record(data, (values,), "scatter_add",
                  lambda g, out, needs: (getitem(g, index),))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; VJP: the gradient sliced back into pieces."""
    parts = _operands("concatenate", tensors)
    data = _join("concatenate", np.concatenate, parts, axis)
    axis = axis % data.ndim
    bounds = np.cumsum([0] + [t.shape[axis] for t in parts])

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> list[Tensor | None]:
        lead = (slice(None),) * axis
        return [getitem(g, lead + (slice(int(lo), int(hi)),)) if need else None
                for lo, hi, need in zip(bounds[:-1], bounds[1:], needs)]

    return record(data, tuple(parts), "concatenate", vjp)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis; VJP: the gradient taken apart along that axis."""
    parts = _operands("stack", tensors)
    data = _join("stack", np.stack, parts, axis)
    axis = axis % data.ndim

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> list[Tensor | None]:
        lead = (slice(None),) * axis
        return [getitem(g, lead + (i,)) if need else None for i, need in enumerate(needs)]

    return record(data, tuple(parts), "stack", vjp)


def _join(op: str, function: Callable, parts: list[Tensor], axis: int) -> np.ndarray:
    try:
        return function([t.data for t in parts], axis=axis)
    except ValueError as error:
        shapes = ", ".join(str(t.shape) for t in parts)
        raise ShapeError(f"{op} along axis {axis}: shapes {shapes} do not fit ({error})") from None


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
