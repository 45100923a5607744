"""chainrule.dense_step: a small Dense network's forward and backward as one Numba kernel.

It is used only where it agrees with the NumPy kernels on the traced batch (to rounding: it is
not bit-identical), and trains what they train. Skipped without Numba unless
``CHAINRULE_REQUIRE_NUMBA=1`` (which ``.ci/run`` sets).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import dense_step, fast
from chainrule.models import Sequential
from chainrule.nn import Dense, Dropout

if os.environ.get("CHAINRULE_REQUIRE_NUMBA") != "1":
    pytest.importorskip("numba")

LOSSES = {
    "mse": lambda: cr.losses.get("mse"),
    "bce": lambda: cr.losses.get("binary_crossentropy", from_logits=True),
    "sparse": lambda: cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
    "one-hot": lambda: cr.losses.get("categorical_crossentropy", from_logits=True),
}


def _data(loss: str, rows: int, dtype: str) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((rows, 3)).astype(dtype)
    if loss == "mse":
        return x, rng.standard_normal((rows, 2)).astype(dtype), 2
    if loss == "bce":
        return x, rng.integers(0, 2, (rows, 1)).astype(dtype), 1
    labels = rng.integers(0, 4, rows)
    return x, (labels if loss == "sparse" else np.eye(4, dtype=dtype)[labels]), 4


def _model(activation: str | None, outputs: int, loss: str, kernels: str, dtype: str, **kw):
    cr.set_default_dtype(dtype)
    try:
        model = Sequential(
            [
                Dense(5, input_dim=3, activation=activation, **kw),
                Dense(4, activation=activation),
                Dense(outputs),
            ],
            seed=0,
        )
    finally:
        cr.set_default_dtype("float32")
    model.compile(loss=LOSSES[loss](), optimizer=cr.optim.SGD(lr=0.1), kernels=kernels)
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
def test_the_kernel_trains_what_the_numpy_kernels_train(activation, loss, dtype):
    x, y, outputs = _data(loss, 6, dtype)
    numpy_model = _model(activation, outputs, loss, "numpy", dtype)
    numba_model = _model(activation, outputs, loss, "numba", dtype)
    tolerance = {"float32": 1e-5, "float64": 1e-12}[dtype]
    for _ in range(3):
        loss_a, prediction_a = numpy_model.compiled_step(x, y)
        loss_b, prediction_b = numba_model.compiled_step(x, y)
        assert numba_model.compiled_step.program(x, y).dense_step
        assert not numpy_model.compiled_step.program(x, y).dense_step
        assert loss_b == pytest.approx(loss_a, rel=tolerance, abs=tolerance)
        np.testing.assert_allclose(prediction_b, prediction_a, rtol=tolerance, atol=tolerance)
        for a, b in zip(numpy_model.parameters(), numba_model.parameters()):
            assert b.dtype == np.dtype(dtype)
            np.testing.assert_allclose(b.grad.data, a.grad.data, rtol=0, atol=tolerance)
            np.testing.assert_allclose(b.data, a.data, rtol=tolerance, atol=tolerance)


def test_it_is_used_only_for_the_networks_it_computes():
    x, y, _ = _data("sparse", 6, "float32")

    def used(model: Sequential) -> bool:
        model.compile(loss=LOSSES["sparse"](), optimizer=cr.optim.SGD(lr=0.1), kernels="numba")
        model.compiled_step(x, y)
        return model.compiled_step.program(x, y).dense_step

    assert used(Sequential([Dense(5, input_dim=3, activation="tanh"), Dense(4)], seed=0))
    wide = dense_step.MAX_WIDTH + 1
    unlike = {
        "too wide": [Dense(wide, input_dim=3, activation="relu"), Dense(4)],
        "dropout": [Dense(5, input_dim=3, activation="relu"), Dropout(0.5, seed=0), Dense(4)],
        "leaky ReLU": [Dense(5, input_dim=3, activation="leaky_relu"), Dense(4)],
        "a kink value of one's own": [
            Dense(5, input_dim=3, activation=cr.activations.get("relu", subgradient=1.0)),
            Dense(4),
        ],
        "a penalty": [
            Dense(5, input_dim=3, activation="relu", kernel_regularizer=cr.losses.L2(0.1)),
            Dense(4),
        ],
        "no bias": [Dense(5, input_dim=3, activation="relu", use_bias=False), Dense(4)],
    }
    for reason, layers in unlike.items():
        assert not used(Sequential(layers, seed=0)), reason
    softmax_out = Sequential([Dense(5, input_dim=3, activation="relu"), Dense(4, "softmax")])
    softmax_out.compile(loss="sparse_categorical_crossentropy", kernels="numba")
    softmax_out.compiled_step(x, y)
    assert not softmax_out.compiled_step.program(x, y).dense_step


def test_a_kernel_that_disagrees_on_the_traced_batch_is_not_used(monkeypatch):
    real = fast.load()["dense_network"]

    def doubled(*args):
        loss = real(*args)
        args[3][:] *= 2  # the gradient
        return loss

    monkeypatch.setitem(fast.load(), "dense_network", doubled)
    x, y, _ = _data("bce", 6, "float32")
    model = _model("tanh", 1, "bce", "numba", "float32")
    model.compiled_step(x, y)
    program = model.compiled_step.program(x, y)
    assert not program.dense_step and program.kernels > 1


def test_xor_trains_with_it_and_a_nan_batch_updates_nothing():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    model = Sequential([Dense(8, input_dim=2, activation="tanh"), Dense(1)], seed=0)
    model.compile(
        loss=cr.losses.get("binary_crossentropy", from_logits=True),
        optimizer=cr.optim.Adam(lr=0.05),
        kernels="numba",
    )
    model.fit(x, y, epochs=300, batch_size=4, verbose=0, seed=0)
    assert model.compiled_step.program(x, y).dense_step
    assert np.array_equal(model.predict(x) > 0, y > 0.5)
    before = [p.data.copy() for p in model.parameters()]
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="NaN"):
        model.compiled_step(bad, y)
    for old, p in zip(before, model.parameters()):
        assert np.array_equal(old, p.data)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_nan_spreads_as_in_the_numpy_kernels(activation):
    """ReLU keeps NaN (as np.maximum) and its slope is NaN there: the refusal names the same
    counts of NaN entries either way."""
    x, y, outputs = _data("mse", 6, "float32")
    x[1, 2] = np.nan
    messages = []
    for kernels in ("numpy", "numba"):
        model = _model(activation, outputs, "mse", kernels, "float32")
        model.compiled_step(np.nan_to_num(x), y)  # traced on finite data
        with pytest.raises(FloatingPointError) as error:
            model.compiled_step(x, y)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
