"""chainrule.fast: the Numba-fused optimiser updates are bit-identical to the NumPy rules.

Skipped without Numba unless ``CHAINRULE_REQUIRE_NUMBA=1`` (which ``.ci/run`` sets).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import fast, fused_loss
from chainrule.models import Sequential
from chainrule.nn import Dense, Dropout

if os.environ.get("CHAINRULE_REQUIRE_NUMBA") != "1":
    pytest.importorskip("numba")

OPTIMIZERS = {
    "sgd": lambda: cr.optim.SGD(lr=0.05),
    "sgd with weight decay": lambda: cr.optim.SGD(lr=0.05, weight_decay=1e-2),
    "momentum, dampening": lambda: cr.optim.SGD(lr=0.05, momentum=0.9, dampening=0.1),
    "nesterov": lambda: cr.optim.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "rmsprop": lambda: cr.optim.RMSprop(lr=0.01),
    "rmsprop centred, momentum": lambda: cr.optim.RMSprop(
        lr=0.01, centered=True, momentum=0.5, weight_decay=1e-3
    ),
    "adam": lambda: cr.optim.Adam(lr=0.01),
    "amsgrad, L2": lambda: cr.optim.Adam(lr=0.01, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda: cr.optim.AdamW(lr=0.01),
    "adagrad": lambda: cr.optim.Adagrad(lr=0.05, lr_decay=0.01, weight_decay=1e-3),
    "clipnorm": lambda: cr.optim.Adam(lr=0.5, clipnorm=0.1),
}


@pytest.fixture(autouse=True)
def _numpy_loss_kernels(monkeypatch):
    """The loss kernel of ``kernels="numba"`` agrees to rounding, not bit for bit
    (tests/test_fused_loss.py): here the bit-identical updates are under test."""
    monkeypatch.setattr(fused_loss, "ENABLED", False)


def _trained(optimizer: str, kernels: str, width: int, dtype: str) -> Sequential:
    rng = np.random.default_rng(width)
    x = rng.standard_normal((48, 5)).astype(dtype)
    y = rng.integers(0, 3, 48)
    cr.set_default_dtype(dtype)
    try:
        model = Sequential(
            [Dense(width, input_dim=5, activation="tanh"), Dropout(0.2, seed=1), Dense(3)], seed=0
        )
    finally:
        cr.set_default_dtype("float32")
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=OPTIMIZERS[optimizer](),
        kernels=kernels,
    )
    model.fit(x, y, epochs=8, batch_size=16, verbose=0, seed=0, health=False)
    assert model.jit_fallback_reason is None
    return model


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@settings(max_examples=2, deadline=None, derandomize=True)
@given(width=st.integers(1, 9), dtype=st.sampled_from(["float32", "float64"]))
def test_fused_updates_are_bit_identical_to_numpy(optimizer, width, dtype):
    numpy_model = _trained(optimizer, "numpy", width, dtype)
    numba_model = _trained(optimizer, "numba", width, dtype)
    for a, b in zip(numpy_model.parameters(), numba_model.parameters()):
        assert a.dtype == b.dtype == np.dtype(dtype)
        assert np.array_equal(a.data, b.data)
    state_a, state_b = numpy_model.optimizer.state_dict(), numba_model.optimizer.state_dict()
    assert state_a.keys() == state_b.keys()
    for key, value in state_a.items():
        assert np.array_equal(value, state_b[key]), key


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "rmsprop", "adam", "adagrad"])
def test_the_numpy_rule_is_not_run_with_numba_kernels(monkeypatch, optimizer):
    rule = type(OPTIMIZERS[optimizer]())

    def numpy_update(*args):
        raise AssertionError("the NumPy rule ran")

    monkeypatch.setattr(rule, "_update", numpy_update)
    _trained(optimizer, "numba", 4, "float32")


def test_kernels_are_checked_and_numba_is_only_imported_when_asked(monkeypatch):
    model = Sequential([Dense(2, input_dim=2)])
    with pytest.raises(ValueError, match="kernels must be 'numpy' or 'numba'"):
        model.compile(loss="mse", kernels="cuda")
    monkeypatch.setattr(fast, "_KERNELS", None)
    monkeypatch.setitem(sys.modules, "numba", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[fast\]"'):
        model.compile(loss="mse", kernels="numba")
    code = "import sys, chainrule; print('numba' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_fused_finiteness_check_agrees_with_numpy(dtype):
    check = fast.load()["all_finite"]
    values = np.random.default_rng(0).standard_normal(1001).astype(dtype) * 1e30
    assert check(values) and check(values[:0])
    for bad in (np.nan, np.inf, -np.inf):
        for where in (0, 500, 1000):
            broken = values.copy()
            broken[where] = bad
            assert not check(broken), (bad, where)
    big = np.full(7, np.finfo(dtype).max, dtype)  # finite, though Σx² overflows
    assert check(big)


def test_a_non_finite_gradient_updates_nothing_with_numba_kernels():
    model = Sequential([Dense(3, input_dim=2, activation="relu"), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.1), kernels="numba")
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model.compiled_step(x, y)
    assert model.compiled_step.program(x, y).fused_kernels is not None
    before = [p.data.copy() for p in model.parameters()]
    x[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="6 NaN"):
        model.compiled_step(x, y)
    for old, p in zip(before, model.parameters()):
        assert np.array_equal(old, p.data)
