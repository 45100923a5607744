"""Model files and training checkpoints: round trips, bad files, atomic saves, exact resume."""

from __future__ import annotations

import json
import os
import signal
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import Callback, EarlyStopping
from chainrule.models import Sequential
from chainrule.nn import Activation, BatchNorm, Dense, Dropout, Maxout, PReLU


def _data(seed=0, rows=64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 4))
    labels = (x[:, 0] * x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    return x, labels


def _model(seed=0):
    model = Sequential(
        [
            Dense(16, input_dim=4, kernel_regularizer=cr.losses.L2(1e-3)),
            Activation("relu"),
            Dropout(0.2, seed=1),
            BatchNorm(),
            Dense(12, activation="leaky_relu"),
            PReLU(),
            Maxout(6, pieces=2),
            Dense(3),
        ],
        seed=seed,
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=cr.optim.Adam(lr=0.01),
        metrics=["accuracy"],
    )
    return model


def test_round_trip_keeps_architecture_weights_compile_and_metadata(tmp_path):
    x, labels = _data()
    model = _model()
    model.fit(x, labels, epochs=3, batch_size=16, verbose=0, seed=0)
    model.metadata = {"dataset": "toy", "classes": ["a", "b", "c"]}
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = cr.load(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    assert loaded.metadata == model.metadata
    assert loaded.loss.params == model.loss.params and loaded.optimizer.lr == 0.01
    assert loaded.evaluate(x, labels) == pytest.approx(model.evaluate(x, labels))
    assert loaded.layers[0].kernel_regularizer.lam == 1e-3
    with np.load(path, allow_pickle=False) as archive:  # plain arrays only
        assert "__description__" in archive.files


def test_preprocessing_is_stored_and_applied(tmp_path):
    from chainrule.datasets import Standardizer

    x, labels = _data()
    x = x * 50 + 10
    model = _model()
    model.preprocessing = Standardizer().fit(x)
    model.fit(x, labels, epochs=2, verbose=0, seed=0)
    model.save(tmp_path / "m.npz")
    loaded = cr.load(tmp_path / "m.npz")
    np.testing.assert_allclose(
        loaded.preprocessing.state()["mean"], model.preprocessing.state()["mean"]
    )
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def _saved(tmp_path):
    model = _model()
    path = tmp_path / "model.npz"
    model.save(path)
    return model, path


def test_truncated_and_corrupt_files_are_refused(tmp_path):
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(cr.ModelFileError, match="corrupt or truncated"):
        cr.load(truncated)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(cr.ModelFileError, match="corrupt or truncated"):
        cr.load(garbage)
    with pytest.raises(FileNotFoundError, match="no model file"):
        cr.load(tmp_path / "missing.npz")


def test_pickled_data_is_never_loaded(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, __description__=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(cr.ModelFileError, match="pickled"):
        cr.load(path)


def _rewrite_description(source, target, change):
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    description = json.loads(arrays["__description__"].tobytes())
    change(description)
    arrays["__description__"] = np.frombuffer(json.dumps(description).encode(), dtype=np.uint8)
    np.savez(target, **arrays)


def test_newer_format_and_inconsistent_descriptions_are_refused(tmp_path):
    _, path = _saved(tmp_path)
    newer = tmp_path / "newer.npz"
    _rewrite_description(path, newer, lambda d: d.update(format_version=99))
    with pytest.raises(cr.ModelFileError, match="format 99, newer .* upgrade chainrule"):
        cr.load(newer)
    mismatch = tmp_path / "mismatch.npz"
    _rewrite_description(
        path, mismatch, lambda d: d["model"]["layers"][0]["config"].update(units=17)
    )
    with pytest.raises(
        cr.ModelFileError, match="'dense_1'.*input_dim 16 differs from its input width 17"
    ):
        cr.load(mismatch)
    last = tmp_path / "last.npz"
    _rewrite_description(path, last, lambda d: d["model"]["layers"][-1]["config"].update(units=5))
    with pytest.raises(
        cr.ModelFileError,
        match=r"does not match the stored weights: the "
        r"description gives 'dense_2.weight' the shape \(5, 6\), but the file "
        r"stores shape \(3, 6\)",
    ):
        cr.load(last)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(cr.ModelFileError, match="not a chainrule model file"):
        cr.load(other)


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    model, path = _saved(tmp_path)
    before = path.read_bytes()

    def broken_savez(handle, **arrays):
        handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind


def test_only_sequential_models_can_be_saved(tmp_path):
    with pytest.raises(TypeError, match="only Sequential"):
        cr.Model(Dense(1, input_dim=1)).save(tmp_path / "x.npz")


# ---------------------------------------------------------------------- checkpoints
def _train(tmp_path, name, epochs, callbacks=(), resume=False, seed=0):
    x, labels = _data()
    x_val, labels_val = _data(seed=5, rows=32)
    model = _model(seed=seed)
    history = model.fit(
        x,
        labels,
        epochs=epochs,
        batch_size=16,
        verbose=0,
        seed=seed,
        validation_data=(x_val, labels_val),
        callbacks=list(callbacks),
        checkpoint=tmp_path / name,
        resume=resume,
    )
    return model, history


def test_resume_gives_the_same_model_as_an_uninterrupted_run(tmp_path):
    whole, whole_history = _train(
        tmp_path, "whole.npz", epochs=8, callbacks=[EarlyStopping(patience=100)]
    )
    _train(tmp_path, "split.npz", epochs=3, callbacks=[EarlyStopping(patience=100)])
    resumed, history = _train(
        tmp_path, "split.npz", epochs=8, callbacks=[EarlyStopping(patience=100)], resume=True
    )
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b)
    assert history.history["loss"] == whole_history.history["loss"]
    assert history.epoch == list(range(8))
    checkpoint = cr.load(tmp_path / "split.npz")  # a checkpoint is also a model file
    np.testing.assert_array_equal(
        checkpoint.layers[0].weight.numpy(), resumed.layers[0].weight.numpy()
    )


def test_resume_without_a_checkpoint_file_starts_fresh_and_needs_a_path(tmp_path):
    fresh, _ = _train(tmp_path, "new.npz", epochs=2, resume=True)
    reference, _ = _train(tmp_path, "ref.npz", epochs=2)
    np.testing.assert_array_equal(
        fresh.layers[0].weight.numpy(), reference.layers[0].weight.numpy()
    )
    with pytest.raises(ValueError, match="checkpoint path"):
        _model().fit(*_data(), epochs=1, verbose=0, resume=True)


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    _train(tmp_path, "ckpt.npz", epochs=1)
    other = Sequential([Dense(5, input_dim=4), Dense(3)], seed=0)
    other.compile(loss="mse", optimizer="sgd")
    with pytest.raises(cr.ModelFileError, match="does not match this model"):
        other.fit(*_data(), epochs=2, verbose=0, checkpoint=tmp_path / "ckpt.npz", resume=True)


class _InterruptAt(Callback):
    """Sends this process a real SIGINT in the middle of a chosen epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_stops_after_the_batch_and_resume_finishes_the_same_model(tmp_path):
    whole, _ = _train(tmp_path, "whole.npz", epochs=6)
    with pytest.raises(cr.TrainingInterrupted, match="epoch 4.*holds epoch 3.*resume"):
        _train(tmp_path, "cut.npz", epochs=6, callbacks=[_InterruptAt(3, 1)])
    assert isinstance(cr.TrainingInterrupted("x"), KeyboardInterrupt)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    resumed, _ = _train(tmp_path, "cut.npz", epochs=6, resume=True)
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_diverging_run_keeps_the_last_good_checkpoint(tmp_path):
    x = np.linspace(-1, 1, 32).reshape(-1, 1)
    y = x * 3.0

    class Explode(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.optimizer.lr = 1e6

    model = Sequential([Dense(8, input_dim=1, activation="tanh"), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.1))
    path = tmp_path / "ckpt.npz"
    with pytest.raises(FloatingPointError, match="learning rate"):
        model.fit(x, y, epochs=50, batch_size=8, verbose=0, checkpoint=path, callbacks=[Explode()])
    kept = cr.load(path)
    assert all(np.isfinite(p.numpy()).all() for p in kept.parameters())
    assert zipfile.is_zipfile(path)


def test_model_files_get_the_usual_permissions(tmp_path):
    _, path = _saved(tmp_path)
    mask = os.umask(0)
    os.umask(mask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~mask)


# ---------------------------------------------------------------------- prelu and maxout by name
def _named_activations_model():
    model = Sequential(
        [
            Dense(8, input_dim=4, activation="prelu"),
            Dense(8, activation="maxout"),
            Dense(8),
            Activation("prelu", gamma=0.5),
            Dense(8),
            Activation("maxout", pieces=4),
            Dense(6, activation=cr.activations.get("maxout", pieces=2)),
        ],
        seed=0,
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=cr.optim.Adam(lr=0.05),
    )
    return model


def test_prelu_slopes_and_maxout_widths_round_trip_exactly(tmp_path):
    x, labels = _data()
    model = _named_activations_model()
    model.fit(x, labels, epochs=3, batch_size=16, verbose=0, seed=0)
    learned = model.state_dict()
    assert {"dense.alpha", "activation.alpha"} <= learned.keys()
    assert np.abs(learned["dense.alpha"] - 0.25).max() > 0
    assert np.abs(learned["activation.alpha"] - 0.5).max() > 0
    path = tmp_path / "named.npz"
    model.save(path)
    loaded = cr.load(path)
    assert loaded.state_dict().keys() == learned.keys()
    for name, value in loaded.state_dict().items():
        np.testing.assert_array_equal(value, learned[name], err_msg=name)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert (
        loaded.output_shapes()
        == model.output_shapes()
        == [(8,), (4,), (8,), (8,), (8,), (2,), (3,)]
    )
    first, second = [], []
    model.summary(print_fn=first.append)
    loaded.summary(print_fn=second.append)
    assert first == second
    with np.load(path, allow_pickle=False) as archive:
        description = json.loads(archive["__description__"].tobytes())
    assert description["weights"]["dense_1.weight"] == [8, 8]
    assert description["weights"]["dense_2.weight"] == [8, 4]  # after maxout's 2 pieces
    assert description["weights"]["dense_4.weight"] == [6, 2]  # after maxout's 4 pieces
    assert description["model"]["layers"][6]["config"]["activation_params"] == {"pieces": 2}


def test_a_file_without_the_slopes_of_a_prelu_by_name_keeps_the_fixed_slope(tmp_path):
    # Files written before PReLU by name learned its slopes ran it with the fixed γ = 0.25.
    x, _ = _data()
    model = Sequential([Dense(6, input_dim=4, activation="prelu"), Dense(2)], seed=0)
    path, old = tmp_path / "now.npz", tmp_path / "old.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if key != "weights/dense.alpha"}
    np.savez(old, **arrays)
    loaded = cr.load(old)
    np.testing.assert_array_equal(loaded[0].alpha.numpy(), np.full(6, 0.25, dtype=np.float32))
    fixed = Sequential([Dense(6, input_dim=4), Activation("leaky_relu", gamma=0.25), Dense(2)])
    fixed.load_state_dict(
        {name: value for name, value in model.state_dict().items() if name != "dense.alpha"}
    )
    np.testing.assert_array_equal(loaded.predict(x), fixed.predict(x))


# ---------------------------------------------------------------------- files never left behind
def test_a_stale_temporary_file_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    import time

    from chainrule.atomic import STALE_AFTER_SECONDS

    model, path = _saved(tmp_path)
    stale = tmp_path / ".model.npz.k1ll3d_x.tmp"  # what a SIGKILL during a save leaves
    young = tmp_path / ".model.npz.w0rk1ng_.tmp"  # another writer's, still at work
    other = tmp_path / ".other.npz.k1ll3d_x.tmp"  # another target's
    for leftover in (stale, young, other):
        leftover.write_bytes(b"half a file")
    old = time.time() - 2 * STALE_AFTER_SECONDS
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    model.save(path)
    assert not stale.exists()
    assert young.exists() and other.exists()
    assert cr.load(path).predict(np.ones((1, 4))).shape == (1, 3)


@pytest.mark.parametrize("code", [28, 13])  # ENOSPC, EACCES
def test_an_os_error_while_saving_is_one_line_naming_the_file(tmp_path, monkeypatch, code):
    import errno as errno_module

    from chainrule.atomic import FileWriteError

    model, path = _saved(tmp_path)

    def failing_savez(handle, **arrays):
        handle.write(b"part")
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(FileWriteError) as info:
        model.save(path)
    message = str(info.value)
    assert message == f"cannot write {path}: {os.strerror(code)}"
    assert "\n" not in message and "Errno" not in message
    assert info.value.errno == code and info.value.filename == str(path)
    assert code in (errno_module.ENOSPC, errno_module.EACCES)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_an_unwritable_directory_is_one_line_naming_the_file(tmp_path, monkeypatch):
    import tempfile

    from chainrule.atomic import FileWriteError, write_bytes_atomically

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(FileWriteError, match=r"cannot write .*out\.csv: Permission denied$"):
        write_bytes_atomically(tmp_path / "out.csv", b"a,b\n")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, TypeError, OSError])
def test_every_exception_removes_the_temporary_file(tmp_path, error):
    from chainrule.atomic import atomic_output

    target = tmp_path / "t.bin"
    target.write_bytes(b"before")
    with pytest.raises(error), atomic_output(target) as handle:
        handle.write(b"half")
        raise error("stop")
    assert sorted(os.listdir(tmp_path)) == ["t.bin"] and target.read_bytes() == b"before"


def test_a_float64_model_loads_as_float64(tmp_path):
    """The file's dtype rebuilds the layers (it was rebuilt in the default float32)."""
    with cr.dtypes.default_dtype("float64"):
        model = Sequential([Dense(3, input_dim=2, activation="tanh"), Dense(1)], seed=0)
    model.save(tmp_path / "m.npz")
    loaded = cr.load(tmp_path / "m.npz")
    assert all(p.dtype == np.float64 for p in loaded.parameters())
    assert cr.get_default_dtype() == np.float32
    x = np.random.default_rng(0).normal(size=(4, 2))
    assert np.array_equal(loaded.predict(x), model.predict(x))
