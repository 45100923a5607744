"""chainrule.fused_loss: a compiled step's softmax cross-entropy from logits as two
``chainrule.fast`` kernels under ``kernels="numba"``, equal to the NumPy kernels to rounding.

Skipped without Numba unless ``CHAINRULE_REQUIRE_NUMBA=1`` (which ``.ci/run`` sets).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import fast, fused_loss
from chainrule.models import Sequential
from chainrule.nn import Dense

if os.environ.get("CHAINRULE_REQUIRE_NUMBA") != "1":
    pytest.importorskip("numba")

# The stated bound: the loss within BOUND epsilons of its size, every gradient entry within
# BOUND epsilons of the largest one (measured: ~6 and ~5).
BOUND = 16


def _numpy_kernels(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The engine's own mean cross-entropy from logits and its gradient (the NumPy twin)."""
    logits = cr.tensor(z, requires_grad=True, dtype=z.dtype)
    loss = cr.losses.get("categorical_crossentropy", from_logits=True)(logits, y)
    loss.backward()
    return loss.item(), logits.grad.numpy()


def _fused_kernels(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    kernels = fast.load()
    scale = z.dtype.type(1.0 / len(z))
    shifted, p, grad = np.empty_like(z), np.empty_like(z), np.empty_like(z)
    kernels["shift_by_max"](z, shifted)
    with np.errstate(under="ignore"):
        np.exp(shifted, out=p)
    loss = kernels["softmax_cross_entropy"](shifted, p, y, scale)
    sums = np.empty(z.shape[1], z.dtype)
    kernels["softmax_cross_entropy_grad"](y, np.full((len(z), 1), scale), p, grad, sums)
    # the output bias's gradient: NumPy's own sum of this gradient over the rows, bit for bit
    np.testing.assert_array_equal(sums.view(np.uint8), grad.sum(axis=0).view(np.uint8))
    alone = np.empty_like(grad)
    kernels["softmax_cross_entropy_grad"](y, np.full((len(z), 1), scale), p, alone, sums[:0])
    np.testing.assert_array_equal(alone.view(np.uint8), grad.view(np.uint8))
    return loss, grad


def _assert_within_bound(z: np.ndarray, y: np.ndarray) -> None:
    eps = np.finfo(z.dtype).eps
    loss, grad = _fused_kernels(z, y)
    want_loss, want_grad = _numpy_kernels(z, y)
    assert np.isnan(loss) == np.isnan(want_loss)
    if not np.isnan(want_loss):
        assert abs(loss - want_loss) <= BOUND * eps * max(abs(want_loss), eps), (loss, want_loss)
    nan = np.isnan(want_grad)
    np.testing.assert_array_equal(np.isnan(grad), nan)
    if (~nan).any():
        size = np.max(np.abs(want_grad[~nan]))
        assert np.max(np.abs(grad[~nan] - want_grad[~nan])) <= BOUND * eps * size


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(12))
def test_the_kernels_agree_with_the_numpy_kernels_within_the_stated_bound(seed, dtype):
    rng = np.random.default_rng(seed)
    rows, classes = int(rng.integers(1, 300)), int(rng.integers(2, 40))
    z = (rng.standard_normal((rows, classes)) * [0.1, 1.0, 5.0, 30.0, 100.0][seed % 5]).astype(
        dtype
    )
    if seed % 3:
        y = np.eye(classes, dtype=dtype)[rng.integers(0, classes, rows)]
    else:  # soft targets: probabilities per row
        y = rng.dirichlet(np.ones(classes), rows).astype(dtype)
    _assert_within_bound(z, y)


def test_infinite_and_nan_logits_give_the_numpy_kernels_values():
    z = np.array(
        [
            [np.inf, 0.0, -1.0],  # softmax (1, 0, 0)
            [-np.inf, 2.0, 1.0],
            [-np.inf, -np.inf, -np.inf],  # the limit: uniform
            [np.nan, 0.0, 1.0],  # NaN: the row's loss and gradient are NaN
            [1e30, -1e30, 0.0],
            [0.0, 0.0, 0.0],
        ],
        dtype=np.float32,
    )
    y = np.eye(3, dtype=np.float32)[[1, 1, 2, 0, 0, 1]]
    _assert_within_bound(z[[4, 5]], y[[4, 5]])  # a finite loss
    with np.errstate(invalid="ignore"):  # 0·log 0 = 0·(−∞) by an infinite logit: NaN in both
        _assert_within_bound(z, y)
    loss, grad = _fused_kernels(z, y)
    assert np.isnan(loss)
    assert np.isnan(grad[3]).all() and np.isfinite(grad[[0, 1, 2, 4, 5]]).all()


def _classifier(kernels: str, keras: bool = False, penalty: float = 0.0) -> Sequential:
    model = Sequential(
        [
            Dense(16, input_dim=6, activation="relu", kernel_regularizer=penalty or None),
            Dense(4, activation="softmax" if keras else None),
        ],
        seed=1,
    )
    loss = (
        "categorical_crossentropy"
        if keras
        else cr.losses.get("sparse_categorical_crossentropy", from_logits=True)
    )
    model.compile(loss=loss, optimizer=cr.optim.SGD(lr=0.1, momentum=0.5), kernels=kernels)
    return model


def _data(keras: bool):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 6)).astype(np.float32)
    labels = rng.integers(0, 4, 96)
    return x, (np.eye(4, dtype=np.float32)[labels] if keras else labels)


@pytest.mark.parametrize(
    "keras, penalty", [(False, 0.0), (True, 0.0), (False, 1e-3)], ids=["logits", "keras", "l2"]
)
def test_a_compiled_classifier_uses_the_kernels_and_trains_as_the_numpy_program(keras, penalty):
    x, y = _data(keras)
    numpy_model = _classifier("numpy", keras, penalty)
    numba_model = _classifier("numba", keras, penalty)
    histories = [
        model.fit(x, y, epochs=6, batch_size=32, verbose=0, seed=0, health=False).history["loss"]
        for model in (numpy_model, numba_model)
    ]
    assert numba_model.jit_fallback_reason is None
    listing = "\n".join(numba_model.compiled_step.program(x[:32], y[:32]).listing)
    assert "the loss: softmax_cross_entropy (chainrule.fast" in listing
    assert "→ softmax_cross_entropy_grad" in listing
    # the nine kernels but the two that run, and the output bias's Σ over the rows
    assert listing.count("(fused: softmax_cross_entropy, chainrule.fast)") == 7
    assert "sum(4,) → ∂L/∂θ (out=) (fused: softmax_cross_entropy_grad" in listing
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
    for (name, a), (_, b) in zip(numpy_model.named_parameters(), numba_model.named_parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-4, atol=1e-6, err_msg=name)
    # evaluation and the prediction (the softmax computed on demand) are unchanged
    np.testing.assert_allclose(numba_model.predict(x), numpy_model.predict(x), atol=1e-5)


def _listing(model: Sequential, x: np.ndarray, y: np.ndarray, w=None) -> str:
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=0, health=False, sample_weight=w)
    return "\n".join(
        model.compiled_step.program(x[:32], y[:32], None if w is None else w[:32]).listing
    )


def test_the_kernels_are_not_used_when_they_disagree_on_the_traced_step(monkeypatch):
    monkeypatch.setattr(fused_loss, "ULPS", -1)  # no agreement can be that close
    x, y = _data(False)
    assert "softmax_cross_entropy (chainrule.fast" not in _listing(_classifier("numba"), x, y)


def test_with_sample_weights_or_without_the_switch_the_numpy_kernels_run(monkeypatch):
    x, y = _data(False)
    w = np.linspace(0.5, 1.5, len(x)).astype(np.float32)
    assert "equal to rounding" not in _listing(_classifier("numba"), x, y, w)  # another chain
    monkeypatch.setattr(fused_loss, "ENABLED", False)
    assert "equal to rounding" not in _listing(_classifier("numba"), x, y)
