"""Exact continuation: a saved model file carries its optimiser state, next epoch, generators
and history, so ``save`` + ``load`` + ``fit`` goes on like one unbroken run (issue 13, item 4)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.models import Sequential
from chainrule.nn import Dense, Dropout

OPTIMIZERS = {
    "sgd_momentum": lambda: cr.optim.SGD(lr=0.05, momentum=0.9),
    "adam": lambda: cr.optim.Adam(lr=0.01),
}


def _data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 3))
    return x, (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64)


def _model(optimizer: str, jit: bool | str = "auto"):
    model = Sequential(
        [Dense(8, input_dim=3, activation="tanh"), Dropout(0.25, seed=1), Dense(2)], seed=0
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=OPTIMIZERS[optimizer](),
        metrics=["accuracy"],
        jit=jit,
    )
    return model


def _fit(model, epochs, **options):
    return model.fit(*_data(), epochs=epochs, batch_size=8, verbose=0, health=False, **options)


def _assert_same_training(a, b, same_epoch=True):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(x, y, err_msg=name)
    state_a, state_b = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        if key == "epoch" and not same_epoch:
            continue
        np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=key)


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "eager"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_save_load_fit_continues_bit_identically(tmp_path, optimizer, jit):
    unbroken = _model(optimizer, jit)
    whole = _fit(unbroken, 6)

    first = _model(optimizer, jit)
    _fit(first, 3)
    first.save(tmp_path / "m.npz")
    loaded = cr.load(tmp_path / "m.npz")
    assert loaded.jit is jit
    history = _fit(loaded, 6, resume=True)  # epochs 4..6 of the same run
    _assert_same_training(unbroken, loaded)
    assert history.epoch == list(range(6))
    assert history.history == whole.history
    if jit:
        assert loaded.jit_fallback_reason is None and loaded.compiled_step.traces > 0

    plain = cr.load(tmp_path / "m.npz")  # no resume: the optimiser state and generators go
    _fit(plain, 3)  # on, as with a second fit in memory (which counts epochs from 0 again)
    _assert_same_training(unbroken, plain, same_epoch=False)

    checkpointed = _model(optimizer, jit)  # the same as resuming from a checkpoint
    _fit(checkpointed, 3, checkpoint=tmp_path / "c.npz")
    from_checkpoint = cr.load(tmp_path / "c.npz")  # a checkpoint is a model file that goes on
    _fit(from_checkpoint, 6, resume=True)
    resumed = _model(optimizer, jit)
    _fit(resumed, 6, checkpoint=tmp_path / "c.npz", resume=True)
    _assert_same_training(unbroken, resumed)
    _assert_same_training(unbroken, from_checkpoint)


def test_a_seeded_fit_continues_with_its_own_generator(tmp_path):
    unbroken = _model("adam")
    _fit(unbroken, 5, seed=7)
    first = _model("adam")
    _fit(first, 2, seed=7)
    first.save(tmp_path / "m.npz")
    loaded = cr.load(tmp_path / "m.npz")
    _fit(loaded, 5, resume=True)
    _assert_same_training(unbroken, loaded)


def test_resume_in_memory_continues_the_last_fit():
    unbroken = _model("adam")
    _fit(unbroken, 4)
    model = _model("adam")
    _fit(model, 1)
    history = _fit(model, 4, resume=True)
    _assert_same_training(unbroken, model)
    assert history.epoch == [0, 1, 2, 3]


def test_resume_without_anything_to_continue_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="has none; give checkpoint=PATH"):
        _fit(_model("adam"), 2, resume=True)
    model = _model("adam")
    _fit(model, 1)
    model.save(tmp_path / "m.npz")
    arrays = dict(np.load(tmp_path / "m.npz"))
    description = json.loads(arrays["__description__"].tobytes())
    del description["continuation"]  # a file written before models carried their progress
    arrays["__description__"] = np.frombuffer(json.dumps(description).encode(), np.uint8)
    arrays = {k: v for k, v in arrays.items() if not k.startswith("state/continuation")}
    np.savez(tmp_path / "old.npz", **arrays)
    old = cr.load(tmp_path / "old.npz")
    assert old.optimizer.iterations == 0
    with pytest.raises(ValueError, match="has none"):
        _fit(old, 2, resume=True)


def test_the_continuation_state_records_the_last_fit():
    model = _model("adam")
    _fit(model, 2)
    state = model.continuation_state()
    assert state["next_epoch"] == 2 and state["optimizer"]["iterations"] == 10
    assert state["fit_generator"] is None and state["shuffle_generator"] is not None
    assert set(state["layer_generators"]) == {"dropout"}


def test_a_checkpoint_of_another_optimizer_is_one_clear_line(tmp_path):
    _fit(_model("adam"), 1, checkpoint=tmp_path / "c.npz")
    other = _model("sgd_momentum")
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(cr.ModelFileError) as info:
        _fit(other, 3, checkpoint=tmp_path / "c.npz", resume=True)
    message = str(info.value)
    assert "\n" not in message
    assert "holds the state of the adam optimiser, but this model is compiled with sgd" in message
    assert "optimizer='adam'" in message and "delete the checkpoint" in message
    for a, b in zip(before, other.get_weights()):  # nothing was loaded
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_of_another_architecture_names_the_difference(tmp_path):
    _fit(_model("adam"), 1, checkpoint=tmp_path / "c.npz")
    wider = Sequential(
        [Dense(9, input_dim=3, activation="tanh"), Dropout(0.25, seed=1), Dense(2)], seed=0
    )
    wider.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True), optimizer="adam"
    )
    with pytest.raises(
        cr.ModelFileError,
        match=r"stores 'dense.bias' of shape \(8,\), "
        r"the model's is \(9,\)",
    ):
        _fit(wider, 2, checkpoint=tmp_path / "c.npz", resume=True)
    deeper = Sequential([Dense(8, input_dim=3), Dense(8), Dense(2)], seed=0)
    deeper.compile(loss="mse", optimizer="adam")
    with pytest.raises(cr.ModelFileError, match="it lacks 'dense_2.bias'"):
        _fit(deeper, 2, checkpoint=tmp_path / "c.npz", resume=True)
