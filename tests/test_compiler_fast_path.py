"""The compiled path's speed work keeps the bits: the batch gather without a copy per batch,
fit's per-batch bookkeeping only for the callbacks that read it, and the fused kernels of the
program (each compared with its NumPy twin and with eager training, exactly)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import Callback, ProgressBar
from chainrule.nn import Dense, Sequential


def _data(rows: int = 100, features: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(np.float32)
    return x, rng.integers(0, 3, rows)


def _model(jit: bool, activation: str = "relu", optimizer=None) -> Sequential:
    model = Sequential([Dense(9, input_dim=4, activation=activation), Dense(3)], seed=2)
    model.compile(loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
                  optimizer=optimizer or cr.optim.SGD(lr=0.1, momentum=0.5), jit=jit)
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
    histories = [m.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=1, shuffle=shuffle,
                       sample_weight=weights).history for m in models]
    assert histories[0] == histories[1]
    for (name, a), (_, b) in zip(*(m.named_parameters() for m in models)):
        assert np.array_equal(a.data, b.data), name


def test_running_logs_go_to_the_callbacks_that_read_them(monkeypatch):
    x, y = _data()
    calls = []
    monkeypatch.setattr(ProgressBar, "on_batch_end",
                        lambda self, batch, logs=None: calls.append(batch))
    model = _model(jit=True)
    batches = _Batches()
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=0, callbacks=[batches])
    assert calls == []  # a silent progress bar is not called per batch
    assert [log["size"] for log in batches.logs] == [32, 32, 32, 4]
    assert batches.logs[-1]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-12)
    model.fit(x, y, epochs=1, batch_size=32, verbose=2, seed=0)
    assert calls == [0, 1, 2, 3]
