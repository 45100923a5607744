"""Every engine op against PyTorch in float64: value, gradient and second derivative.

Shapes are drawn by hypothesis, broadcasting included. For each op and draw we compare
out = op(x…), the VJP of a random cotangent v (∂⟨out, v⟩/∂x), and the second-order term
∂/∂x ⟨∂⟨out, v⟩/∂x, w⟩ (a Hessian-vector product through ``create_graph=True``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

RTOL, ATOL = 1e-10, 1e-12

Draw = Callable[[st.DataObject, np.random.Generator], tuple[list[np.ndarray], dict]]


@dataclass(frozen=True)
class OpCase:
    name: str
    ours: Callable  # (*tensors, **kwargs) -> cr.Tensor
    theirs: Callable  # (torch, *tensors, **kwargs) -> torch.Tensor
    draw: Draw


# ---------------------------------------------------------------------- input generators
def _broadcast_shapes(data: st.DataObject, count: int, min_dims: int = 0) -> tuple:
    return data.draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=count, min_dims=min_dims, max_dims=3, max_side=4
        )
    ).input_shapes


def _values(rng: np.random.Generator, shape: tuple, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, size=shape)


def unary(low: float = -3.0, high: float = 3.0) -> Draw:
    def draw(data: st.DataObject, rng: np.random.Generator):
        shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
        return [_values(rng, shape, low, high)], {}

    return draw


def binary(
    first: tuple[float, float] = (-3, 3),
    second: tuple[float, float] = (-3, 3),
    avoid_zero_second: bool = False,
) -> Draw:
    def draw(data: st.DataObject, rng: np.random.Generator):
        shape_a, shape_b = _broadcast_shapes(data, 2)
        b = _values(rng, shape_b, *second)
        if avoid_zero_second:
            b = np.where(np.abs(b) < 0.3, 0.3 * np.sign(b) + 0.3 * (b == 0), b)
        return [_values(rng, shape_a, *first), b], {}

    return draw


def reduction(data: st.DataObject, rng: np.random.Generator):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = data.draw(
        st.none()
        | st.integers(-len(shape), len(shape) - 1)
        | st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)
    )
    keepdims = data.draw(st.booleans())
    return [_values(rng, shape, -3, 3)], {"axis": axis, "keepdims": keepdims}


def matmul_inputs(data: st.DataObject, rng: np.random.Generator):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = _broadcast_shapes(data, 2)
    batch_a, batch_b = batch_a[-2:], batch_b[-2:]  # trailing dims stay broadcastable
    a_shape = (k,) if data.draw(st.booleans()) else tuple(batch_a) + (m, k)
    b_shape = (k,) if data.draw(st.booleans()) else tuple(batch_b) + (k, n)
    return [_values(rng, a_shape, -2, 2), _values(rng, b_shape, -2, 2)], {}


def reshape_inputs(data: st.DataObject, rng: np.random.Generator):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = data.draw(st.sampled_from(divisors))
    return [_values(rng, shape, -3, 3)], {"shape": (first, -1)}


def transpose_inputs(data: st.DataObject, rng: np.random.Generator):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3))
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    return [_values(rng, shape, -3, 3)], {"axes": axes}


def where_inputs(data: st.DataObject, rng: np.random.Generator):
    shape_c, shape_x, shape_y = _broadcast_shapes(data, 3)
    condition = rng.uniform(size=shape_c) > 0.5
    return [_values(rng, shape_x, -3, 3), _values(rng, shape_y, -3, 3)], {"condition": condition}


def joined(data: st.DataObject, rng: np.random.Generator):
    shape = list(data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)))
    axis = data.draw(st.integers(0, len(shape) - 1))
    count = data.draw(st.integers(1, 3))
    arrays = []
    for _ in range(count):
        piece = list(shape)
        piece[axis] = data.draw(st.integers(1, 3))
        arrays.append(_values(rng, tuple(piece), -3, 3))
    return arrays, {"axis": axis}


def stacked(data: st.DataObject, rng: np.random.Generator):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
    axis = data.draw(st.integers(0, len(shape)))
    count = data.draw(st.integers(1, 3))
    return [_values(rng, shape, -3, 3) for _ in range(count)], {"axis": axis}


def _torch_axis(axis):
    return list(axis) if isinstance(axis, tuple) else axis


def _torch_reduce(torch, name: str, x, axis, keepdims):
    if axis is None:
        axis = tuple(range(x.ndim))
    if name == "sum":
        return torch.sum(x, dim=_torch_axis(axis), keepdim=keepdims)
    if name == "mean":
        return torch.mean(x, dim=_torch_axis(axis), keepdim=keepdims)
    function = torch.amax if name == "max" else torch.amin
    return function(x, dim=_torch_axis(axis), keepdim=keepdims)


OPS = [
    OpCase("add", lambda a, b: a + b, lambda t, a, b: a + b, binary()),
    OpCase("sub", lambda a, b: a - b, lambda t, a, b: a - b, binary()),
    OpCase("mul", lambda a, b: a * b, lambda t, a, b: a * b, binary()),
    OpCase("div", lambda a, b: a / b, lambda t, a, b: a / b, binary(avoid_zero_second=True)),
    OpCase("pow", lambda a, b: a**b, lambda t, a, b: a**b, binary((0.2, 3.0), (-2.0, 2.5))),
    OpCase("matmul", lambda a, b: a @ b, lambda t, a, b: a @ b, matmul_inputs),
    OpCase("maximum", cr.maximum, lambda t, a, b: t.maximum(a, b), binary()),
    OpCase("minimum", cr.minimum, lambda t, a, b: t.minimum(a, b), binary()),
    OpCase("neg", lambda a: -a, lambda t, a: -a, unary()),
    OpCase("exp", cr.exp, lambda t, a: t.exp(a), unary()),
    OpCase("log", cr.log, lambda t, a: t.log(a), unary(0.1, 5.0)),
    OpCase("sqrt", cr.sqrt, lambda t, a: t.sqrt(a), unary(0.1, 5.0)),
    OpCase("abs", cr.abs, lambda t, a: t.abs(a), unary()),
    OpCase("clip", lambda a: cr.clip(a, -1.0, 1.5), lambda t, a: t.clamp(a, -1.0, 1.5), unary()),
    OpCase("square", lambda a: a**2, lambda t, a: a**2, unary()),
    OpCase("rsub_scalar", lambda a: 2.0 - a, lambda t, a: 2.0 - a, unary()),
    OpCase("rdiv_scalar", lambda a: 2.0 / a, lambda t, a: 2.0 / a, unary(0.5, 3.0)),
    OpCase("rpow_scalar", lambda a: 2.0**a, lambda t, a: 2.0**a, unary()),
    OpCase(
        "sum",
        lambda a, axis, keepdims: a.sum(axis, keepdims),
        lambda t, a, axis, keepdims: _torch_reduce(t, "sum", a, axis, keepdims),
        reduction,
    ),
    OpCase(
        "mean",
        lambda a, axis, keepdims: a.mean(axis, keepdims),
        lambda t, a, axis, keepdims: _torch_reduce(t, "mean", a, axis, keepdims),
        reduction,
    ),
    OpCase(
        "max",
        lambda a, axis, keepdims: a.max(axis, keepdims),
        lambda t, a, axis, keepdims: _torch_reduce(t, "max", a, axis, keepdims),
        reduction,
    ),
    OpCase(
        "min",
        lambda a, axis, keepdims: a.min(axis, keepdims),
        lambda t, a, axis, keepdims: _torch_reduce(t, "min", a, axis, keepdims),
        reduction,
    ),
    OpCase(
        "reshape",
        lambda a, shape: a.reshape(shape),
        lambda t, a, shape: a.reshape(shape),
        reshape_inputs,
    ),
    OpCase(
        "transpose",
        lambda a, axes: a.transpose(axes),
        lambda t, a, axes: a.permute(axes),
        transpose_inputs,
    ),
    OpCase(
        "where",
        lambda a, b, condition: cr.where(condition, a, b),
        lambda t, a, b, condition: t.where(t.as_tensor(condition), a, b),
        where_inputs,
    ),
    OpCase(
        "concatenate",
        lambda *xs, axis: cr.concatenate(xs, axis),
        lambda t, *xs, axis: t.cat(xs, dim=axis),
        joined,
    ),
    OpCase(
        "stack",
        lambda *xs, axis: cr.stack(xs, axis),
        lambda t, *xs, axis: t.stack(xs, dim=axis),
        stacked,
    ),
    # Compositions that exercise paths into one node (gradients summed over paths).
    OpCase("x*x+x", lambda a: a * a + a, lambda t, a: a * a + a, unary()),
    OpCase(
        "sigmoid_by_hand", lambda a: 1 / (cr.exp(-a) + 1), lambda t, a: 1 / (t.exp(-a) + 1), unary()
    ),
]


def _ours_second_order(case: OpCase, arrays, kwargs, cotangent, directions):
    inputs = [cr.tensor(a, requires_grad=True, dtype="float64") for a in arrays]
    out = case.ours(*inputs, **kwargs)
    loss = (out * cr.tensor(cotangent, dtype="float64")).sum()
    firsts = cr.gradients(loss, inputs, create_graph=True, allow_unused=True)
    terms = [
        (g * cr.tensor(w, dtype="float64")).sum()
        for g, w in zip(firsts, directions)
        if g is not None and g.requires_grad
    ]
    if terms:
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        seconds = cr.gradients(total, inputs, allow_unused=True)
    else:
        seconds = [None] * len(inputs)
    as_arrays = lambda values: [  # noqa: E731
        np.zeros_like(a) if v is None else v.numpy() for v, a in zip(values, arrays)
    ]
    return out.numpy(), as_arrays(firsts), as_arrays(seconds)


def _theirs_second_order(torch, case: OpCase, arrays, kwargs, cotangent, directions):
    inputs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = case.theirs(torch, *inputs, **kwargs)
    loss = (out * torch.tensor(cotangent, dtype=torch.float64)).sum()
    firsts = torch.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
    terms = [
        (g * torch.tensor(w)).sum()
        for g, w in zip(firsts, directions)
        if g is not None and g.requires_grad
    ]
    if terms:
        seconds = torch.autograd.grad(sum(terms), inputs, allow_unused=True)
    else:
        seconds = [None] * len(inputs)
    as_arrays = lambda values: [  # noqa: E731
        np.zeros_like(a) if v is None else v.detach().numpy(force=True)
        for v, a in zip(values, arrays)
    ]
    return out.detach().numpy(force=True), as_arrays(firsts), as_arrays(seconds)


@pytest.mark.parametrize("case", OPS, ids=[case.name for case in OPS])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_op_matches_pytorch(torch, case: OpCase, data: st.DataObject):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    arrays, kwargs = case.draw(data, rng)
    ours_out = case.ours(*[cr.tensor(a, dtype="float64") for a in arrays], **kwargs)
    cotangent = rng.standard_normal(ours_out.shape)
    directions = [rng.standard_normal(a.shape) for a in arrays]

    out, firsts, seconds = _ours_second_order(case, arrays, kwargs, cotangent, directions)
    t_out, t_firsts, t_seconds = _theirs_second_order(
        torch, case, arrays, kwargs, cotangent, directions
    )
    assert out.shape == t_out.shape
    np.testing.assert_allclose(out, t_out, rtol=RTOL, atol=ATOL, err_msg="value")
    for i, (mine, theirs) in enumerate(zip(firsts, t_firsts)):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=ATOL, err_msg=f"grad {i}")
    for i, (mine, theirs) in enumerate(zip(seconds, t_seconds)):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=ATOL, err_msg=f"2nd {i}")


INDEXES = {
    "int": 1,
    "slice": (slice(1, None), slice(None, 2)),
    "strided": (slice(None, None, 2),),
    "int_array_repeats": (np.array([0, 2, 0, 0]),),
    "bool_mask": "mask",
    "ellipsis_last": (Ellipsis, 1),
    "newaxis": (None, slice(None), 0),
    "mixed": (np.array([1, 1]), slice(0, 2)),
}


@pytest.mark.parametrize("name", list(INDEXES))
def test_indexing_matches_pytorch(torch, name: str):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4))
    index = rng.standard_normal((3, 4)) > 0 if INDEXES[name] == "mask" else INDEXES[name]
    ours = cr.tensor(x, requires_grad=True, dtype="float64")
    theirs = torch.tensor(x, requires_grad=True)
    torch_index = (
        torch.as_tensor(index)
        if isinstance(index, np.ndarray)
        else (
            tuple(torch.as_tensor(i) if isinstance(i, np.ndarray) else i for i in index)
            if isinstance(index, tuple)
            else index
        )
    )
    out, t_out = ours[index], theirs[torch_index]
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    v = rng.standard_normal(out.shape)
    (out * cr.tensor(v, dtype="float64")).sum().backward()
    (t_out * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=RTOL)
