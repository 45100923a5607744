"""Every op, activation, layer and loss, compiled vs eager: the same bits (an OpInfo-style table).

Each row builds a small model around one piece of the library; ``_check`` trains it for a few
steps eagerly and with the compiled step (``jit=True``, with a ``JitFallbackWarning`` an error)
on hypothesis-drawn batch sizes and widths, and compares every parameter, every gradient and the
History exactly (``np.array_equal``). The completeness guards at the end fail when a public op,
activation, layer or loss has no row.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import ops
from chainrule._tensor import Tensor
from chainrule.compiler import JitFallbackWarning
from chainrule.models import Sequential
from chainrule.nn import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    Maxout,
    Module,
    Parameter,
    PReLU,
)

SHAPES = settings(max_examples=3, deadline=None, derandomize=True)
rows_and_width = given(rows=st.integers(1, 7), width=st.integers(2, 5))


class OpModule(Module):
    """A parameter w of shape (width,) (and W of shape (width, 3)) around one op."""

    def __init__(self, width: int, op: Callable[..., Tensor]) -> None:
        super().__init__()
        rng = np.random.default_rng(width)
        self.w = Parameter(rng.uniform(0.5, 1.5, width))
        self.W = Parameter(rng.normal(size=(width, 3)))
        self.dropout = Dropout(0.3, seed=5)
        self.op = op

    def forward(self, x: Any) -> Tensor:
        out = self.op(x if isinstance(x, Tensor) else Tensor(x), self)
        return out.reshape((out.shape[0], -1)) if out.ndim != 2 else out


def _x_w(x: Tensor, m: OpModule) -> Tensor:
    return x * m.w


def _view_outlives_its_value(x: Tensor, m: OpModule) -> Tensor:
    """A view of a buffer is read after the value in it is last used: the buffer must not be
    handed to the next value of its shape before the view is dead."""
    scaled = _x_w(x, m) * 3.0  # no VJP reads it
    view = ops.reshape(scaled, (x.shape[0], 1, -1))
    other = _x_w(x, m) + 1.0  # the same shape as scaled
    return ops.reshape(view, x.shape) + other


# name -> the op applied to the batch x (N, width) and the module's parameters
OP_CASES: dict[str, Callable[[Tensor, OpModule], Tensor]] = {
    "abs": lambda x, m: ops.abs(x - m.w),
    "add": lambda x, m: x + m.w,
    "astype": lambda x, m: _x_w(x, m).astype("float64") * 2.0,
    "broadcast_to": lambda x, m: (
        x * ops.broadcast_to(_x_w(x, m).sum(axis=1, keepdims=True), x.shape)
    ),
    "clip": lambda x, m: ops.clip(_x_w(x, m), -0.5, 0.5),
    "compare": lambda x, m: ops.where(x > m.w, _x_w(x, m), m.w),
    "concatenate": lambda x, m: ops.concatenate([_x_w(x, m), x, m.w * m.w * x], axis=1),
    "div": lambda x, m: x / (m.w * m.w + 1.0),
    "dropout": lambda x, m: m.dropout(_x_w(x, m)),
    "exp": lambda x, m: ops.exp(_x_w(x, m)),
    "getitem": lambda x, m: (
        _x_w(x, m)[:, ::2] + _x_w(x, m)[:, [0, 0, 1]].sum(axis=1, keepdims=True)
    ),
    "linear": lambda x, m: ops.linear(x, m.W.T, m.w[:3]),
    "log": lambda x, m: ops.log(x * x + m.w * m.w),
    "matmul": lambda x, m: x @ m.W,
    "max": lambda x, m: ops.max(_x_w(x, m), axis=1, keepdims=True) + ops.max(m.w),
    "maximum": lambda x, m: ops.maximum(x, m.w) + ops.maximum(m.w, 1.0),
    "mean": lambda x, m: ops.mean(_x_w(x, m), axis=1, keepdims=True),
    "min": lambda x, m: ops.min(_x_w(x, m), axis=1, keepdims=True),
    "minimum": lambda x, m: ops.minimum(x, m.w),
    "mul": _x_w,
    "neg": lambda x, m: -_x_w(x, m),
    "power": lambda x, m: _x_w(x, m) ** 2 + ops.power(x * x + 1.0, m.w),
    "reshape": lambda x, m: ops.reshape(_x_w(x, m), (x.shape[0], 1, -1)),
    "scatter_add": lambda x, m: ops.scatter_add(
        _x_w(x, m), (x.shape[0], x.shape[1] + 2), (slice(None), slice(1, x.shape[1] + 1))
    ),
    "sign": lambda x, m: ops.sign(x) * m.w,
    "sqrt": lambda x, m: ops.sqrt(x * x + m.w),
    "stack": lambda x, m: ops.stack([_x_w(x, m), x], axis=1),
    "sub": lambda x, m: m.w - x,
    "sum": lambda x, m: ops.sum(_x_w(x, m), axis=1, keepdims=True) + ops.sum(m.W),
    "sum_to": lambda x, m: x * ops.sum_to(_x_w(x, m), (1, x.shape[1])),
    "swap_last_axes": lambda x, m: ops.swap_last_axes(_x_w(x, m)[:, None, :]),
    "transpose": lambda x, m: ops.transpose(_x_w(x, m)[:, None, :], (0, 2, 1)),
    "where": lambda x, m: ops.where(x > 0, _x_w(x, m), m.w * m.w),
    # matmul with 1-D and with batched operands whose batch axes broadcast
    "reshape: a view outlives its value": _view_outlives_its_value,
    "matmul 1-D": lambda x, m: (x @ m.w).reshape((x.shape[0], 1)),
    "matmul batched": lambda x, m: (
        x.reshape((x.shape[0], 1, 1, -1)) @ ops.stack([m.W, m.W * m.W], axis=0)
    ),
    "matmul (B, N, in) @ W": lambda x, m: ops.stack([x, x * x], axis=1) @ m.W,
}
# What ops.__all__ lists that is no op of the graph (constructors and the op-making machinery).
NOT_OPS = {
    "ones",
    "ones_like",
    "zeros",
    "zeros_like",
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
}


def _compile(model: Any, jit: bool, loss: Any = "mse", optimizer: Any = None) -> Any:
    model.compile(loss=loss, optimizer=optimizer or cr.optim.SGD(lr=0.01, momentum=0.9), jit=jit)
    return model


def _check(
    build: Callable[[bool], Any],
    x: np.ndarray,
    y: np.ndarray,
    steps: int = 3,
    batch: int | None = None,
) -> None:
    """Train eagerly and compiled; the same parameters, gradients and History, bit for bit."""
    eager, compiled = build(False), build(True)
    histories = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallbackWarning)
        for model in (eager, compiled):
            histories.append(
                model.fit(
                    x, y, epochs=steps, batch_size=batch or len(x), verbose=0, seed=0, health=False
                ).history
            )
    assert compiled.compiled_step.traces >= 1 and compiled.jit_fallback_reason is None
    assert histories[0] == histories[1]
    for (name, a), (_, b) in zip(eager.named_parameters(), compiled.named_parameters()):
        assert np.array_equal(a.data, b.data), f"{name}: {np.abs(a.data - b.data).max()}"
        assert (a.grad is None) == (b.grad is None), f"∂L/∂{name}"
        if a.grad is not None:
            assert np.array_equal(a.grad.data, b.grad.data), f"∂L/∂{name}"
    for (name, a), (_, b) in zip(eager.named_buffers(), compiled.named_buffers()):
        assert np.array_equal(a, b), name


def _batch(rows: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, width)).astype(np.float32)


def _op_target(op: Callable[..., Tensor], x: np.ndarray) -> np.ndarray:
    with cr.no_grad():
        module = OpModule(x.shape[1], op)
        module.eval()
        shape = module(x).shape
    return np.random.default_rng(1).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name", sorted(OP_CASES))
@SHAPES
@rows_and_width
def test_every_op_compiled_is_eager(name, rows, width):
    if name == "matmul (B, N, in) @ W" or name == "linear":
        width = max(width, 3)
    x = _batch(rows, width)
    op = OP_CASES[name]
    _check(lambda jit: _compile(cr.Model(OpModule(width, op)), jit), x, _op_target(op, x))


@pytest.mark.parametrize("name", cr.activations.names())
@SHAPES
@rows_and_width
def test_every_activation_compiled_is_eager(name, rows, width):
    """Two hidden layers of the activation (softmax, log_softmax, maxout, a learned PReLU)."""
    x = _batch(rows, width)
    y = np.random.default_rng(2).integers(0, 3, rows)

    def build(jit: bool) -> Any:
        model = Sequential(
            [Dense(4, input_dim=width), Activation(name), Dense(4, activation=name), Dense(3)],
            seed=0,
        )
        return _compile(
            model,
            jit,
            cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
            cr.optim.Adam(lr=0.01),
        )

    _check(build, x, y)


LAYER_CASES: dict[str, Callable[[int], list[Module]]] = {
    "Dense": lambda width: [Dense(3, input_dim=width, activation="tanh"), Dense(2)],
    "Activation": lambda width: [Dense(3, input_dim=width), Activation("relu"), Dense(2)],
    "PReLU": lambda width: [Dense(4, input_dim=width), PReLU(), Dense(2)],
    "Maxout": lambda width: [Maxout(3, pieces=3, input_dim=width), Dense(2)],
    "Dropout": lambda width: [
        Dropout(0.2, seed=1),
        Dense(4, input_dim=width, activation="relu"),
        Dropout(0.5, seed=2),
        Dense(2),
    ],
    "BatchNorm": lambda width: [
        Dense(4, input_dim=width),
        BatchNorm(),
        Activation("relu"),
        BatchNorm(affine=False),
        Dense(2),
    ],
    "Flatten": lambda width: [Flatten(), Dense(3, activation="elu"), Dense(2)],
}


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
@SHAPES
@given(rows=st.integers(2, 7), width=st.integers(2, 5))
def test_every_layer_compiled_is_eager(name, rows, width):
    x = _batch(rows * 2, width)
    y = np.random.default_rng(3).standard_normal((rows * 2, 2)).astype(np.float32)
    shape = (width,)
    if name == "Flatten":
        x, shape = x.reshape(rows * 2, 1, width), (1, width)
    _check(
        lambda jit: _compile(Sequential(LAYER_CASES[name](width), seed=0, input_shape=shape), jit),
        x,
        y,
        batch=rows,
    )


def _classes(rows: int, count: int) -> np.ndarray:
    return np.random.default_rng(4).integers(0, count, rows)


# name -> (output layers after Dense(3), the loss, how to make y from integer labels)
LOSS_CASES: dict[
    str, tuple[Callable[[], list[Module]], Callable[[], Any], Callable[[np.ndarray], np.ndarray]]
] = {
    "mse": (lambda: [Dense(2)], lambda: "mse", lambda c: np.eye(2, dtype=np.float32)[c % 2]),
    "mae": (lambda: [Dense(2)], lambda: "mae", lambda c: np.eye(2, dtype=np.float32)[c % 2]),
    "huber": (
        lambda: [Dense(2)],
        lambda: cr.losses.get("huber", delta=0.3),
        lambda c: 3 * np.eye(2, dtype=np.float32)[c % 2],
    ),
    "binary_crossentropy": (
        lambda: [Dense(1), Activation("sigmoid")],
        lambda: "bce",
        lambda c: (c % 2).reshape(-1, 1).astype(np.float32),
    ),
    "binary_crossentropy on probabilities": (
        lambda: [Dense(1), Activation("hard_sigmoid")],
        lambda: "bce",
        lambda c: (c % 2).reshape(-1, 1).astype(np.float32),
    ),
    "binary_crossentropy from logits": (
        lambda: [Dense(1)],
        lambda: cr.losses.get("bce", from_logits=True),
        lambda c: (c % 2).reshape(-1, 1).astype(np.float32),
    ),
    "categorical_crossentropy": (
        lambda: [Dense(3), Activation("softmax")],
        lambda: "categorical_crossentropy",
        lambda c: np.eye(3, dtype=np.float32)[c],
    ),
    "categorical_crossentropy from logits, soft labels": (
        lambda: [Dense(3)],
        lambda: cr.losses.get("cce", from_logits=True),
        lambda c: (0.8 * np.eye(3) + 0.2 / 3)[c].astype(np.float32),
    ),
    "sparse_categorical_crossentropy": (
        lambda: [Dense(3, activation="softmax")],
        lambda: "sparse_categorical_crossentropy",
        lambda c: c,
    ),
    "nll": (lambda: [Dense(3), Activation("log_softmax")], lambda: "nll", lambda c: c),
    "L1 and L2 penalties": (
        lambda: [Dense(3, kernel_regularizer=cr.losses.L1(0.01)), Dense(2, kernel_regularizer=0.1)],
        lambda: "mse",
        lambda c: np.eye(2, dtype=np.float32)[c % 2],
    ),
}


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
@SHAPES
@rows_and_width
def test_every_loss_compiled_is_eager(name, rows, width):
    layers, loss, target = LOSS_CASES[name]
    x, y = _batch(rows, width), target(_classes(rows, 3))
    _check(
        lambda jit: _compile(
            Sequential([Dense(3, input_dim=width, activation="tanh"), *layers()], seed=0),
            jit,
            loss(),
        ),
        x,
        y,
    )


# ---------------------------------------------------------------------- completeness guards
def test_every_public_op_has_a_row():
    assert set(ops.__all__) - NOT_OPS <= set(OP_CASES)


def test_every_layer_has_a_row():
    assert set(cr.nn.layers.__all__) - {"Layer"} <= set(LAYER_CASES)


def test_every_loss_has_a_row():
    assert set(cr.losses.names()) <= set(LOSS_CASES)


def test_every_activation_has_a_row():
    """The activation table is the registry itself: a new activation is compiled and compared
    the moment it is added; a registered user activation compiles too."""
    cr.activations.register("cube_for_the_table", lambda z: z**3 / 3, lambda z: z * z, replace=True)
    try:
        test_every_activation_compiled_is_eager.hypothesis.inner_test(
            "cube_for_the_table", rows=4, width=3
        )
    finally:
        cr.activations.remove("cube_for_the_table")
