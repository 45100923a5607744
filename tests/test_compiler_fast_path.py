"""The compiled path's speed work keeps the bits: the batch gather without a copy per batch,
fit's per-batch bookkeeping only for the callbacks that read it, and the fused kernels of the
program (each compared with its NumPy twin and with eager training, exactly)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import dense_step, fused_loss
from chainrule.callbacks import Callback, ProgressBar
from chainrule.models import Sequential
from chainrule.nn import Dense


@pytest.fixture(autouse=True)
def _numpy_loss_kernels(monkeypatch):
    """The loss kernel of ``kernels="numba"`` agrees to rounding, not bit for bit
    (tests/test_fused_loss.py): here the bit-identical kernels are under test."""
    monkeypatch.setattr(fused_loss, "ENABLED", False)


def _data(rows: int = 100, features: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(np.float32)
    return x, rng.integers(0, 3, rows)


def _model(jit: bool, activation: str = "relu", optimizer=None) -> Sequential:
    model = Sequential([Dense(9, input_dim=4, activation=activation), Dense(3)], seed=2)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=optimizer or cr.optim.SGD(lr=0.1, momentum=0.5),
        jit=jit,
    )
    return model


class _Batches(Callback):
    """Records the running logs each batch ends with."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: list[dict] = []

    def on_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


def _record_batches(model: Sequential, monkeypatch) -> list[tuple[np.ndarray, np.ndarray]]:
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    train_step = model._train_step

    def spy(x, y, stop_on_nan, w=None):
        seen.append((x, x.copy()))
        return train_step(x, y, stop_on_nan, w)

    monkeypatch.setattr(model, "_train_step", spy)
    return seen


def test_a_compiled_fit_gathers_shuffled_batches_into_one_kept_array(monkeypatch):
    x, y = _data()
    model = _model(jit=True)
    seen = _record_batches(model, monkeypatch)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=5)
    rows = np.random.default_rng(5).permutation(len(x))[:32]
    assert np.array_equal(seen[0][1], x[rows])  # the same values as x[rows]
    for epoch in (seen[:4], seen[4:]):  # one array per epoch, no copy per batch
        assert all(np.shares_memory(batch, epoch[0][0]) for batch, _ in epoch)
    assert not np.shares_memory(seen[0][0], x)
    assert [len(b) for b, _ in seen] == [32, 32, 32, 4] * 2


def test_an_eager_fit_copies_its_batches_and_unshuffled_batches_are_views(monkeypatch):
    x, y = _data()
    eager = _model(jit=False)
    seen = _record_batches(eager, monkeypatch)
    eager.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=5)
    assert not any(np.shares_memory(a, b) for (a, _), (b, _) in zip(seen, seen[1:]))
    compiled = _model(jit=True)
    seen = _record_batches(compiled, monkeypatch)
    compiled.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    assert all(np.shares_memory(batch, x) for batch, _ in seen)
    assert np.array_equal(seen[1][1], x[32:64])


@pytest.mark.parametrize("shuffle", [True, False])
def test_compiled_and_eager_fit_stay_identical_with_the_new_gather(shuffle):
    x, y = _data()
    weights = np.linspace(0.5, 1.5, len(x)).astype(np.float32)
    models = [_model(jit) for jit in (False, True)]
    histories = [
        m.fit(
            x, y, epochs=3, batch_size=16, verbose=0, seed=1, shuffle=shuffle, sample_weight=weights
        ).history
        for m in models
    ]
    assert histories[0] == histories[1]
    for (name, a), (_, b) in zip(*(m.named_parameters() for m in models)):
        assert np.array_equal(a.data, b.data), name


def test_running_logs_go_to_the_callbacks_that_read_them(monkeypatch):
    x, y = _data()
    calls = []
    monkeypatch.setattr(
        ProgressBar, "on_batch_end", lambda self, batch, logs=None: calls.append(batch)
    )
    model = _model(jit=True)
    batches = _Batches()
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=0, callbacks=[batches])
    assert calls == []  # a silent progress bar is not called per batch
    assert [log["size"] for log in batches.logs] == [32, 32, 32, 4]
    assert batches.logs[-1]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-12)
    model.fit(x, y, epochs=1, batch_size=32, verbose=2, seed=0)
    assert calls == [0, 1, 2, 3]


# ---------------------------------------------------------------------- views made once
def test_views_of_buffers_are_made_once_and_the_bits_stay():
    x, y = _data(rows=32)
    model = _model(jit=True)
    program = model.compiled_step.program(x, y)
    listing = "\n".join(program.listing)
    # ∂L/∂W = Gᵀ X: the transpose of G's buffer is a view made when the program is built
    assert listing.count("a view, made once") == 2
    assert program.kernels == len(program.listing) - 2
    eager = _model(jit=False)
    for model_ in (eager, model):
        model_.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0)
    for (name, a), (_, b) in zip(eager.named_parameters(), model.named_parameters()):
        assert np.array_equal(a.data, b.data), name


# ---------------------------------------------------------------------- fused kernels
def _numba_kernels():
    if os.environ.get("CHAINRULE_REQUIRE_NUMBA") != "1":
        pytest.importorskip("numba")
    from chainrule import fast

    return fast.load()


def _special(dtype: str, size: int, seed: int) -> np.ndarray:
    """Random values with the awkward ones mixed in: ±0, ±inf, NaN of both signs, subnormals."""
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal(size) * 3).astype(dtype)
    info = np.finfo(dtype)
    special = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            info.tiny / 4,
            -info.tiny / 4,
            info.max,
            -info.max,
            1.0,
            -1.0,
        ],
        dtype,
    )
    negative_nan = np.array([np.nan], dtype)
    negative_nan.view(np.uint32 if dtype == "float32" else np.uint64)[0] |= (
        np.uint32(1 << 31) if dtype == "float32" else np.uint64(1 << 63)
    )
    special = np.concatenate([special, negative_nan])
    places = rng.choice(size, size=min(size, len(special)), replace=False)
    values[places] = special[: len(places)]
    return values


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (17, 33), (64, 130)])
def test_fused_bias_relu_is_bit_identical_to_its_numpy_twin(dtype, shape):
    kernels = _numba_kernels()
    z = _special(dtype, shape[0] * shape[1], seed=shape[1]).reshape(shape)
    bias = _special(dtype, shape[1], seed=1)
    with np.errstate(all="ignore"):  # inf − inf
        twin = cr.activations.get("relu")._forward_into(np.add(z, bias), np.empty(shape, dtype))
    fused = kernels["bias_activation"]["relu"](z.copy(), bias)
    assert fused.dtype == np.dtype(dtype)
    assert fused.tobytes() == twin.tobytes()


def _slope_case(
    dtype: str, name: str, size: int, slope_first: bool, negative_zeros: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """g, the activation's output a (NaN of either sign, ±∞, 0 among them) and the NumPy
    twin's product g ⊙ f'(a) in the order ``slope_first`` says."""
    activation = cr.activations.get(name)
    g = _special(dtype, size, seed=size)
    g[: min(negative_zeros, size)] = -0.0
    a = activation.forward(_special(dtype, size, seed=size + 1))
    if name == "relu":  # a NaN output of either sign (the slope is then NaN)
        a = np.where(np.isnan(a), _special(dtype, size, seed=size + 1), a)
    slope = activation.derivative_from_output(a)
    with np.errstate(all="ignore"):  # inf · 0
        return g, a, slope * g if slope_first else g * slope


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("slope_first", [False, True])
def test_fused_slope_times_gradient_is_bit_identical_to_its_numpy_twin(dtype, name, slope_first):
    kernels = _numba_kernels()
    for size in (1, 5, 64, 1000):
        g, a, twin = _slope_case(dtype, name, size, slope_first)
        out = np.empty_like(g)
        kernels["slope_times"][name](g, a, out, np.dtype(dtype).type(1), slope_first)
        assert out.tobytes() == twin.tobytes(), (name, size)
        kernels["slope_times"][name](g, a, g, np.dtype(dtype).type(1), slope_first)
        assert g.tobytes() == twin.tobytes(), (name, size, "in place")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("slope_first", [False, True])
def test_the_slope_kernel_with_the_bias_sum_gives_numpys_sum_over_rows(dtype, name, slope_first):
    kernels = _numba_kernels()
    one = np.dtype(dtype).type(1)
    for rows, columns in ((1, 1), (3, 5), (128, 64), (7, 129)):
        # a column of −0.0 products sums to +0.0, as NumPy's sum does
        g, a, product = _slope_case(dtype, name, rows * columns, slope_first, negative_zeros=3)
        twin = product.reshape(rows, columns).sum(axis=0)
        for in_place in (False, True):
            out = g.copy() if in_place else np.empty_like(g)
            sums = np.full(columns, np.nan, dtype)
            kernels["slope_times_sum"][name](
                out if in_place else g.copy(), a, out, one, slope_first, columns, sums
            )
            assert out.tobytes() == product.tobytes(), (name, rows, columns, in_place)
            assert sums.tobytes() == twin.tobytes(), (name, rows, columns, in_place)


def _deep(jit: bool, activation: str, optimizer: str, kernels: str = "numpy") -> Sequential:
    optimizers = {
        "sgd": lambda: cr.optim.SGD(lr=0.05),
        "momentum": lambda: cr.optim.SGD(lr=0.05, momentum=0.9),
        "adam": lambda: cr.optim.Adam(lr=0.01),
    }
    model = Sequential(
        [Dense(12, input_dim=4, activation=activation), Dense(7, activation=activation), Dense(3)],
        seed=4,
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=optimizers[optimizer](),
        jit=jit,
        kernels=kernels,
    )
    return model


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_the_fused_program_trains_to_the_eager_bits(monkeypatch, activation, optimizer):
    _numba_kernels()
    # this network is small enough for chainrule.dense_step's one kernel (equal to rounding,
    # tests/test_dense_step.py): here the fused elementwise kernels are under test
    monkeypatch.setattr(dense_step, "MAX_WIDTH", 0)
    x, y = _data()
    eager = _deep(False, activation, optimizer)
    fused = _deep(True, activation, optimizer, kernels="numba")
    for model in (eager, fused):
        model.fit(x, y, epochs=4, batch_size=16, verbose=0, seed=3)
    listing = "\n".join(fused.compiled_step.program(x[:16], y[:16]).listing)
    # both hidden layers' g ⊙ f'(a), and for ReLU both bias + activation passes, are fused
    assert listing.count("fused with the next") == (4 if activation == "relu" else 2)
    assert listing.count(f"(fused into {activation}')") == 2  # both hidden biases' Σ over rows
    for (name, a), (_, b) in zip(eager.named_parameters(), fused.named_parameters()):
        assert np.array_equal(a.data, b.data), name


def test_a_fused_kernel_that_disagrees_on_the_traced_step_is_not_used(monkeypatch):
    kernels = _numba_kernels()
    original = kernels["slope_times"]["tanh"]

    def off_by_one_ulp(g, a, out, one, slope_first):
        original(g, a, out, one, slope_first)
        out[:] = np.nextafter(out, np.inf)

    monkeypatch.setitem(kernels["slope_times"], "tanh", off_by_one_ulp)
    x, y = _data()
    model = _deep(True, "tanh", "sgd", kernels="numba")
    listing = "\n".join(model.compiled_step.program(x[:16], y[:16]).listing)
    assert "fused" not in listing


def test_a_batch_hook_set_on_the_instance_is_called():
    x, y = _data()
    callback, seen = Callback(), []
    callback.on_batch_end = lambda batch, logs=None: seen.append(logs["size"])
    _model(jit=True).fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[callback])
    assert seen == [32, 32, 32, 4]
