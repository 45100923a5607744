"""Callbacks, History and the progress bar, driven by a fake model through hand-written logs.

``train`` below is the training loop's side of the callback contract (callbacks.py's module
docstring): the fake model's weights are set to the epoch number before ``on_epoch_end``, so
restored or saved weights tell which epoch they came from.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import warnings

import numpy as np
import pytest

from chainrule import callbacks as cb
from chainrule.progress import Progress, break_line, format_duration, format_logs


class FakeOptimizer:
    def __init__(self, lr: float = 0.1) -> None:
        self.lr = lr
        self.epochs_set: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs_set.append(epoch)


class FakeModel:
    """The model contract: stop_training, state_dict (copies), load_state_dict, optimizer."""

    def __init__(self) -> None:
        self.weights = {"dense.weight": np.zeros((2, 3)), "dense.bias": np.zeros(3)}
        self.optimizer = FakeOptimizer()
        self.stop_training = False

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self.weights.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        assert set(state) == set(self.weights)
        self.weights = {name: np.array(value) for name, value in state.items()}

    def mark(self, epoch: int) -> None:
        for value in self.weights.values():
            value[...] = epoch

    def marked(self) -> float:
        return float(self.weights["dense.weight"][0, 0])


class SavingModel(FakeModel):
    """A model with ``save``: writes its state with np.savez to exactly the path it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.saved_to: list[str] = []

    def save(self, path: str) -> None:
        self.saved_to.append(path)
        with open(path, "wb") as handle:
            np.savez(handle, **self.state_dict())


def train(callbacks, model, epoch_logs, batch_logs=None, steps=None):
    """The fit loop's calls; returns the number of epochs run."""
    callbacks = cb.CallbackList(callbacks)
    steps = len(batch_logs[0]) if batch_logs else steps
    callbacks.set_model(model)
    callbacks.set_params({"epochs": len(epoch_logs), "steps": steps, "verbose": 1})
    callbacks.on_train_begin({})
    run = 0
    for epoch, logs in enumerate(epoch_logs):
        model.optimizer.set_epoch(epoch)
        callbacks.on_epoch_begin(epoch, {})
        for batch, logs_of_batch in enumerate(batch_logs[epoch] if batch_logs else []):
            callbacks.on_batch_begin(batch, {})
            callbacks.on_batch_end(batch, dict(logs_of_batch))
        model.mark(epoch)
        callbacks.on_epoch_end(epoch, dict(logs))
        run += 1
        if model.stop_training:
            break
    callbacks.on_train_end({})
    return run


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


# ---------------------------------------------------------------------- Callback, CallbackList
class Recorder(cb.Callback):
    def __init__(self, name, calls):
        super().__init__()
        self.name = name
        self.calls = calls

    def on_train_begin(self, logs=None):
        self.calls.append((self.name, "train_begin"))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append((self.name, "epoch_begin", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.calls.append((self.name, "batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append((self.name, "batch_end", batch))

    def on_epoch_end(self, epoch, logs=None):
        logs["seen_by_" + self.name] = 1.0
        self.calls.append((self.name, "epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.calls.append((self.name, "train_end"))


def test_callback_list_calls_every_hook_of_every_callback_in_order():
    calls = []
    model = FakeModel()
    first, second = Recorder("a", calls), Recorder("b", calls)
    train([first, second], model, [{"loss": 1.0}], batch_logs=[[{"loss": 1.0}]])
    assert first.model is model and second.model is model
    assert first.params == {"epochs": 1, "steps": 1, "verbose": 1}
    assert calls == [
        ("a", "train_begin"),
        ("b", "train_begin"),
        ("a", "epoch_begin", 0),
        ("b", "epoch_begin", 0),
        ("a", "batch_begin", 0),
        ("b", "batch_begin", 0),
        ("a", "batch_end", 0),
        ("b", "batch_end", 0),
        # the same logs dict goes to both: b sees what a added
        ("a", "epoch_end", 0, ["loss", "seen_by_a"]),
        ("b", "epoch_end", 0, ["loss", "seen_by_a", "seen_by_b"]),
        ("a", "train_end"),
        ("b", "train_end"),
    ]


def test_base_callback_hooks_do_nothing():
    callback = cb.Callback()
    model = FakeModel()
    assert train([callback], model, [{"loss": 1.0}] * 2, batch_logs=[[{"loss": 1.0}]] * 2) == 2
    assert callback.model is model
    for hook in ("on_train_begin", "on_train_end"):
        getattr(callback, hook)()
    for hook in ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end"):
        getattr(callback, hook)(0)


def test_callback_list_refuses_non_callbacks_and_adds_defaults_once():
    with pytest.raises(TypeError, match=r"EarlyStopping\(\.\.\.\)"):
        cb.CallbackList([cb.EarlyStopping])
    with pytest.raises(TypeError, match="Callback"):
        cb.CallbackList([print])
    callbacks = cb.CallbackList(
        [cb.TerminateOnNaN()], add_history=True, add_progress_bar=True, verbose=0
    )
    assert [type(c).__name__ for c in callbacks] == ["TerminateOnNaN", "History", "ProgressBar"]
    own = cb.History()
    callbacks = cb.CallbackList([own], add_history=True, model=FakeModel(), params={"epochs": 3})
    assert len(callbacks) == 1 and callbacks.history is own
    assert own.params == {"epochs": 3} and own.model is not None
    late = cb.History()
    callbacks.append(late)
    assert late.params == {"epochs": 3}


# ---------------------------------------------------------------------- History
def test_history_records_floats_per_epoch():
    history = cb.History()
    logs = [
        {"loss": np.float32(0.5), "accuracy": 0.75, "val_loss": np.float64(0.6)},
        {"loss": 0.25, "accuracy": 1, "val_loss": np.array(0.4)},
    ]
    callbacks = cb.CallbackList([history], params={"epochs": 2, "steps": 4})
    for epoch, entry in enumerate(logs):
        callbacks.on_epoch_end(epoch, dict(entry))
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [0.5, 0.25], "accuracy": [0.75, 1.0], "val_loss": [0.6, 0.4]}
    assert all(type(v) is float for values in history.history.values() for v in values)
    assert history.params == {"epochs": 2, "steps": 4}
    assert len(history) == 2


def test_history_keeps_lists_aligned_when_keys_come_and_go():
    history = cb.History()
    history.append(0, {"loss": 1.0})
    history.append(1, {"loss": 0.8, "val_loss": 0.9})
    history.append(2, {"val_loss": 0.7})
    assert history.history["loss"][:2] == [1.0, 0.8] and math.isnan(history.history["loss"][2])
    assert math.isnan(history.history["val_loss"][0])
    assert history.history["val_loss"][1:] == [0.9, 0.7]


def test_history_to_dict_is_a_copy_and_repr_is_helpful():
    history = cb.History()
    assert "no epochs" in repr(history)
    history.append(0, {"loss": 0.123456, "val_loss": 0.5})
    history.append(1, {"loss": 0.1, "val_loss": 0.4})
    copy = history.to_dict()
    assert copy == {"loss": [0.123456, 0.1], "val_loss": [0.5, 0.4]}
    copy["loss"].append(99.0)
    assert history.history["loss"] == [0.123456, 0.1]
    text = repr(history)
    assert "2 epochs" in text and "'loss', 'val_loss'" in text and "val_loss=0.4" in text


def test_history_after_a_learning_rate_scheduler_records_lr():
    model = FakeModel()
    callbacks = cb.CallbackList([cb.LearningRateScheduler(lambda e, lr: lr / 2)], add_history=True)
    callbacks.set_model(model)
    callbacks.on_train_begin()
    for epoch in range(3):
        callbacks.on_epoch_begin(epoch)
        callbacks.on_epoch_end(epoch, {"loss": 1.0})
    assert callbacks.history.history["lr"] == [0.05, 0.025, 0.0125]


# ---------------------------------------------------------------------- EarlyStopping
def test_early_stopping_waits_patience_epochs_on_a_plateau():
    stopper = cb.EarlyStopping(patience=2)
    model = FakeModel()
    # 0.9 at epoch 2 equals the best, which is no improvement; epochs 2 and 3 make wait = 2
    ran = train([stopper], model, val_losses(1.0, 0.9, 0.9, 0.95, 0.91, 0.5))
    assert ran == 4
    assert model.stop_training
    assert (stopper.stopped_epoch, stopper.best, stopper.best_epoch, stopper.wait) == (3, 0.9, 1, 2)
    assert model.marked() == 3  # not restored by default


@pytest.mark.parametrize("patience, stopped", [(0, 2), (1, 2), (2, 3), (3, 4), (5, 0)])
def test_early_stopping_patience(patience, stopped):
    stopper = cb.EarlyStopping(patience=patience)
    model = FakeModel()
    ran = train([stopper], model, val_losses(1.0, 0.8, 0.85, 0.82, 0.81, 0.9))
    assert stopper.stopped_epoch == stopped
    assert ran == (stopped + 1 if stopped else 6)


def test_early_stopping_patience_zero_stops_at_the_first_non_improvement():
    stopper = cb.EarlyStopping(patience=0)
    assert train([stopper], FakeModel(), val_losses(1.0, 1.1, 0.5)) == 2
    assert stopper.stopped_epoch == 1


def test_early_stopping_min_delta():
    values = val_losses(1.0, 0.97, 0.92, 0.915, 0.91)
    stopper = cb.EarlyStopping(patience=1, min_delta=0.02)
    # 0.97 < 1.0 − 0.02 and 0.92 < 0.97 − 0.02 improve; 0.915 is not below 0.92 − 0.02
    assert train([stopper], FakeModel(), values) == 4
    assert (stopper.stopped_epoch, stopper.best) == (3, 0.92)
    stopper = cb.EarlyStopping(patience=1, min_delta=0.05)
    assert train([stopper], FakeModel(), values) == 2
    assert (stopper.stopped_epoch, stopper.best) == (1, 1.0)
    stopper = cb.EarlyStopping(patience=1, min_delta=-0.02)  # the sign is ignored, as in Keras
    assert train([stopper], FakeModel(), values) == 4


def test_early_stopping_restores_the_best_weights_when_it_stops():
    stopper = cb.EarlyStopping(patience=2, restore_best_weights=True)
    model = FakeModel()
    train([stopper], model, val_losses(1.0, 0.9, 0.95, 0.97, 0.2))
    assert stopper.stopped_epoch == 3
    assert model.marked() == 1
    assert stopper.best_weights["dense.bias"].tolist() == [1.0, 1.0, 1.0]


def test_early_stopping_restores_the_best_weights_also_without_stopping():
    stopper = cb.EarlyStopping(patience=10, restore_best_weights=True)
    model = FakeModel()
    assert train([stopper], model, val_losses(1.0, 0.5, 0.7, 0.8)) == 4
    assert stopper.stopped_epoch == 0 and model.marked() == 1


def test_early_stopping_keeps_a_copy_of_the_best_weights():
    class LiveModel(FakeModel):
        def state_dict(self):  # hands out its live arrays (the callback must copy them)
            return self.weights

    stopper = cb.EarlyStopping(patience=5, restore_best_weights=True)
    model = LiveModel()
    train([stopper], model, val_losses(0.1, 0.5, 0.6))
    assert model.marked() == 0


def test_early_stopping_mode_max_for_accuracy():
    logs = [{"loss": 1.0, "val_accuracy": a} for a in (0.5, 0.6, 0.6, 0.55, 0.9)]
    stopper = cb.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
    model = FakeModel()
    assert stopper.mode == "max"
    assert train([stopper], model, logs) == 4
    assert (stopper.best, stopper.best_epoch, model.marked()) == (0.6, 1, 1)
    # the same numbers read as "min" stop at the first rise
    stopper = cb.EarlyStopping(monitor="val_accuracy", patience=0, mode="min")
    assert train([stopper], FakeModel(), logs) == 2
    assert cb.EarlyStopping(monitor="acc").mode == "max"
    assert cb.EarlyStopping(monitor="val_mae").mode == "min"
    with pytest.raises(ValueError, match="mode"):
        cb.EarlyStopping(mode="maximum")


@pytest.mark.parametrize("baseline, stopped", [(None, 3), (0.5, 2), (0.85, 3)])
def test_early_stopping_baseline(baseline, stopped):
    # Keras: an improvement that does not beat the baseline does not reset the wait
    stopper = cb.EarlyStopping(patience=2, baseline=baseline)
    train([stopper], FakeModel(), val_losses(0.9, 0.8, 0.8, 0.8, 0.8))
    assert stopper.stopped_epoch == stopped


def test_early_stopping_start_from_epoch():
    stopper = cb.EarlyStopping(patience=0, start_from_epoch=3)
    assert train([stopper], FakeModel(), val_losses(1.0, 2.0, 3.0, 4.0, 5.0, 6.0)) == 5
    assert (stopper.stopped_epoch, stopper.best_epoch) == (4, 3)


def test_early_stopping_missing_monitor_warns_and_carries_on():
    stopper = cb.EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning, match=r"'val_loss'.*available keys: loss, accuracy"):
        ran = train([stopper], FakeModel(), [{"loss": 1.0, "accuracy": 0.5}] * 3)
    assert ran == 3 and stopper.stopped_epoch == 0


def test_early_stopping_can_be_reused_and_reports_when_verbose(capsys):
    stopper = cb.EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    train([stopper], FakeModel(), val_losses(1.0, 2.0, 3.0))
    err = capsys.readouterr().err
    assert "Epoch 2: early stopping" in err and "best epoch: 1" in err
    model = FakeModel()
    assert train([stopper], model, val_losses(3.0, 2.0, 1.0)) == 3
    assert (stopper.stopped_epoch, stopper.best, model.marked()) == (0, 1.0, 2)


# ---------------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_formats_names_and_writes_npz(tmp_path):
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.4f}.npz")
    checkpoint = cb.ModelCheckpoint(pattern)
    train([checkpoint], FakeModel(), val_losses(0.5, 0.25))
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01-0.5000.npz", "ckpt-02-0.2500.npz"]
    with np.load(tmp_path / "ckpt-02-0.2500.npz", allow_pickle=False) as saved:
        assert set(saved.files) == {"dense.weight", "dense.bias"}
        np.testing.assert_array_equal(saved["dense.weight"], np.full((2, 3), 1.0))
    assert checkpoint.last_saved == str(tmp_path / "ckpt-02-0.2500.npz")


def test_model_checkpoint_uses_the_name_exactly_and_makes_directories(tmp_path):
    path = tmp_path / "runs" / "a" / "weights.ckpt"
    train([cb.ModelCheckpoint(path)], FakeModel(), val_losses(0.5))
    assert os.listdir(path.parent) == ["weights.ckpt"]
    with np.load(path, allow_pickle=False) as saved:
        assert saved["dense.bias"].tolist() == [0.0, 0.0, 0.0]


def test_model_checkpoint_save_best_only_saves_on_improvement_only(tmp_path):
    checkpoint = cb.ModelCheckpoint(str(tmp_path / "best-{epoch}.npz"), save_best_only=True)
    train([checkpoint], FakeModel(), val_losses(0.5, 0.6, 0.4, 0.4, math.nan, 0.39))
    assert sorted(os.listdir(tmp_path)) == ["best-1.npz", "best-3.npz", "best-6.npz"]
    assert checkpoint.best == 0.39
    accuracy = [{"val_accuracy": a} for a in (0.5, 0.4, 0.7)]
    checkpoint = cb.ModelCheckpoint(
        str(tmp_path / "acc-{epoch}.npz"), monitor="val_accuracy", save_best_only=True
    )
    train([checkpoint], FakeModel(), accuracy)
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("acc")) == [
        "acc-1.npz",
        "acc-3.npz",
    ]


def test_model_checkpoint_keeps_overwriting_one_best_file(tmp_path):
    path = tmp_path / "best.npz"
    train([cb.ModelCheckpoint(path, save_best_only=True)], FakeModel(), val_losses(0.5, 0.3, 0.4))
    with np.load(path, allow_pickle=False) as saved:
        assert saved["dense.weight"][0, 0] == 1.0  # epoch 1 (0-based) had the best val_loss


def test_model_checkpoint_missing_monitor_warns(tmp_path):
    checkpoint = cb.ModelCheckpoint(tmp_path / "best.npz", save_best_only=True)
    with pytest.warns(UserWarning, match="available keys: loss"):
        train([checkpoint], FakeModel(), [{"loss": 1.0}])
    assert os.listdir(tmp_path) == []


def test_model_checkpoint_filepath_with_an_unknown_field(tmp_path):
    checkpoint = cb.ModelCheckpoint(tmp_path / "{val_acc:.2f}.npz")
    with pytest.raises(KeyError, match=r"\{val_acc\}.*have only: loss, val_loss, epoch"):
        train([checkpoint], FakeModel(), val_losses(0.5))


def test_model_checkpoint_prefers_model_save_and_replaces_atomically(tmp_path):
    model = SavingModel()
    path = tmp_path / "model-{epoch}.npz"
    train([cb.ModelCheckpoint(path)], model, val_losses(0.5, 0.4))
    assert sorted(os.listdir(tmp_path)) == ["model-1.npz", "model-2.npz"]
    # save() wrote a temporary file beside the target, never the target itself
    assert len(model.saved_to) == 2
    for written in model.saved_to:
        assert os.path.dirname(written) == str(tmp_path)
        assert os.path.basename(written).startswith(".model-") and written.endswith(".npz")
    with np.load(tmp_path / "model-2.npz", allow_pickle=False) as saved:
        assert saved["dense.weight"][0, 0] == 1.0


def test_a_failing_model_save_leaves_the_previous_checkpoint(tmp_path):
    class BrokenSave(FakeModel):
        def save(self, path):
            with open(path, "wb") as handle:
                handle.write(b"half a checkp")
            raise OSError("disk full")

    path = tmp_path / "ckpt.npz"
    path.write_bytes(b"the previous checkpoint")
    with pytest.raises(OSError, match="disk full"):
        train([cb.ModelCheckpoint(path)], BrokenSave(), val_losses(0.5))
    assert path.read_bytes() == b"the previous checkpoint"
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind


def test_a_failing_npz_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(cb.np, "savez", broken_savez)
    path = tmp_path / "ckpt.npz"
    path.write_bytes(b"the previous checkpoint")
    with pytest.raises(OSError, match="disk full"):
        train([cb.ModelCheckpoint(path)], FakeModel(), val_losses(0.5))
    assert path.read_bytes() == b"the previous checkpoint"
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_save_that_writes_elsewhere_is_an_error(tmp_path):
    class AddsExtension(FakeModel):
        def save(self, path):
            np.savez(path + ".npz", **self.state_dict())

    path = tmp_path / "ckpt"
    path.write_bytes(b"previous")
    with pytest.raises(RuntimeError, match="did not create"):
        train([cb.ModelCheckpoint(path)], AddsExtension(), val_losses(0.5))
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["ckpt"]


def test_npz_writing_refuses_objects_that_would_need_pickle(tmp_path):
    with pytest.raises(TypeError, match="pickl"):
        cb.write_npz_atomically(tmp_path / "x.npz", {"ragged": np.array([None, 1], dtype=object)})
    assert os.listdir(tmp_path) == []
    cb.write_npz_atomically(tmp_path / "x.npz", {"a": [1, 2]})
    with np.load(tmp_path / "x.npz", allow_pickle=False) as saved:
        assert saved["a"].tolist() == [1, 2]


def test_model_checkpoint_verbose_messages(tmp_path, capsys):
    checkpoint = cb.ModelCheckpoint(tmp_path / "b.npz", save_best_only=True, verbose=1)
    train([checkpoint], FakeModel(), val_losses(0.5, 0.6))
    err = capsys.readouterr().err
    assert "val_loss improved from inf to 0.50000" in err
    assert "Epoch 2: val_loss did not improve from 0.50000" in err


# ---------------------------------------------------------------------- LearningRateScheduler
class LrSpy(cb.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(self.model.optimizer.lr)


def test_learning_rate_scheduler_sets_lr_at_epoch_begin_and_logs_it():
    spy, history = LrSpy(), cb.History()
    scheduler = cb.LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.1)
    model = FakeModel()
    train([scheduler, spy, history], model, [{"loss": 1.0}] * 4)
    assert spy.seen == pytest.approx([0.1, 0.1, 0.01, 0.001])
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.001])
    assert model.optimizer.lr == pytest.approx(0.001)


def test_learning_rate_scheduler_accepts_a_one_argument_schedule():
    spy = LrSpy()
    train(
        [cb.LearningRateScheduler(lambda epoch: 1.0 / (epoch + 1)), spy],
        FakeModel(),
        [{"loss": 1.0}] * 3,
    )
    assert spy.seen == pytest.approx([1.0, 0.5, 1 / 3])


@pytest.mark.parametrize("bad", [None, math.nan, -0.1, "0.1"])
def test_learning_rate_scheduler_refuses_bad_rates(bad):
    with pytest.raises(ValueError, match="schedule returned"):
        train([cb.LearningRateScheduler(lambda epoch, lr: bad)], FakeModel(), [{"loss": 1.0}])


def test_learning_rate_scheduler_does_not_hide_errors_in_the_schedule(capsys):
    def schedule(epoch, lr):
        return lr + "oops"  # a TypeError inside the schedule must surface as it is

    with pytest.raises(TypeError, match="oops|str"):
        train([cb.LearningRateScheduler(schedule)], FakeModel(), [{"loss": 1.0}])
    train([cb.LearningRateScheduler(lambda e, lr: 0.5, verbose=1)], FakeModel(), [{"loss": 1.0}])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.5" in capsys.readouterr().err


# ---------------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    stopper = cb.TerminateOnNaN()
    model = FakeModel()
    batches = [[{"loss": 1.0}, {"loss": 0.9}, {"loss": math.nan}, {"loss": math.nan}]] * 2
    ran = train([stopper], model, [{"loss": math.nan}] * 2, batch_logs=batches)
    assert ran == 1 and model.stop_training
    assert stopper.terminated_at == ("batch", 2)
    err = capsys.readouterr().err
    assert "Batch 2: invalid loss (nan), terminating training" in err
    assert err.count("terminating") == 1


@pytest.mark.parametrize("loss", [math.inf, -math.inf, np.float32("nan")])
def test_terminate_on_nan_checks_the_epoch_loss_too(loss, capsys):
    stopper = cb.TerminateOnNaN()
    model = FakeModel()
    assert train([stopper], model, [{"loss": 1.0}, {"loss": loss}, {"loss": 1.0}]) == 2
    assert stopper.terminated_at == ("epoch", 1)
    assert "Epoch 1: invalid loss" in capsys.readouterr().err


def test_terminate_on_nan_leaves_finite_losses_alone(capsys):
    model = FakeModel()
    batches = [[{"loss": 1e30}, {"loss": 0.0}]] * 3
    assert train([cb.TerminateOnNaN()], model, [{"loss": 1.0}] * 3, batch_logs=batches) == 3
    assert not model.stop_training and capsys.readouterr().err == ""


# ---------------------------------------------------------------------- CSVLogger
EPOCHS = [
    {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625},
    {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5},
]


def test_csv_logger_writes_a_header_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    train([cb.CSVLogger(path)], FakeModel(), EPOCHS)
    assert path.read_text() == (
        "epoch,loss,accuracy,val_loss\n0,0.5,0.75,0.625\n1,0.25,0.875,0.5\n"
    )


def test_csv_logger_flushes_every_epoch(tmp_path):
    path = tmp_path / "log.csv"
    logger = cb.CSVLogger(path)
    logger.set_model(FakeModel())
    logger.on_train_begin()
    logger.on_epoch_end(0, dict(EPOCHS[0]))
    # still training (the file is open): what was written is on disk already
    assert path.read_text() == "epoch,loss,accuracy,val_loss\n0,0.5,0.75,0.625\n"
    logger.on_train_end()


def test_csv_logger_append_mode_and_overwrite_mode(tmp_path):
    path = tmp_path / "log.csv"
    train([cb.CSVLogger(path)], FakeModel(), EPOCHS[:1])
    train([cb.CSVLogger(path, append=True)], FakeModel(), EPOCHS[1:])
    assert path.read_text() == (
        "epoch,loss,accuracy,val_loss\n0,0.5,0.75,0.625\n0,0.25,0.875,0.5\n"
    )
    train([cb.CSVLogger(path)], FakeModel(), EPOCHS[1:])
    assert path.read_text() == "epoch,loss,accuracy,val_loss\n0,0.25,0.875,0.5\n"


def test_csv_logger_appends_under_the_existing_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,val_loss,loss\n0,0.9,1.0\n")
    train([cb.CSVLogger(path, append=True)], FakeModel(), [{"loss": 0.5, "val_loss": 0.6}])
    assert path.read_text() == "epoch,val_loss,loss\n0,0.9,1.0\n0,0.6,0.5\n"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    train([cb.CSVLogger(empty, append=True)], FakeModel(), [{"loss": 0.5}])
    assert empty.read_text() == "epoch,loss\n0,0.5\n"


def test_csv_logger_separator_missing_and_extra_keys(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "lr": 0.1}]
    train([cb.CSVLogger(path, separator=";")], FakeModel(), logs)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows == [["epoch", "loss", "val_loss"], ["0", "1.0", "2.0"], ["1", "0.5", "NA"]]


# ---------------------------------------------------------------------- progress
class FakeClock:
    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_redraws_one_line_with_an_eta():
    out = io.StringIO()
    progress = Progress(
        40, epoch=1, epochs=5, stream=out, enabled=True, clock=FakeClock(1.0), min_interval=0.0
    )
    for batch in range(40):
        progress.update(batch, {"loss": 1.0 / (batch + 1), "accuracy": 0.5})
    progress.close({"loss": 0.025, "accuracy": 0.5, "val_loss": 0.03})
    text = out.getvalue()
    assert text.count("\r") == 41 and text.count("\n") == 1 and text.endswith("\n")
    frames = text.split("\r")[1:]
    # the clock ticks once per call: batch 10 (index 9) is drawn at t = 10 → ETA = 10/10·30
    assert frames[9].startswith("Epoch 2/5 [=======>......................] 10/40 - 10s - ETA 30s")
    assert "loss 0.1 - accuracy 0.5" in frames[9]
    assert frames[-1].startswith("Epoch 2/5 [==============================] 40/40 - 41s - ")
    assert "val_loss 0.03" in frames[-1] and "ETA" not in frames[-1]


def test_progress_redraws_at_most_every_min_interval():
    out = io.StringIO()
    progress = Progress(1000, 0, 1, stream=out, enabled=True, clock=FakeClock(0.001))
    for batch in range(1000):
        progress.update(batch, {"loss": 1.0})
    progress.close()
    # 1 s of clock (one tick per update) → ~10 throttled redraws + the last batch + close
    assert 10 <= out.getvalue().count("\r") <= 13


def test_progress_pads_a_shorter_line_over_a_longer_one():
    out = io.StringIO()
    progress = Progress(3, 0, 1, stream=out, enabled=True, clock=FakeClock(0.5), min_interval=0)
    progress.update(0, {"loss": 1.234567, "accuracy": 0.123456})
    progress.update(1, {"loss": 1.0})
    first, second = out.getvalue().split("\r")[1:]
    assert len(second) == len(first) and second.endswith(" ")


def test_progress_off_a_terminal_writes_one_plain_line_per_epoch():
    out = io.StringIO()
    clock = FakeClock(0.01)
    for epoch in range(3):
        progress = Progress(50, epoch, 3, stream=out, clock=clock)
        for batch in range(50):
            progress.update(batch, {"loss": 0.5})
        progress.close({"loss": 0.5, "val_loss": 0.75})
    lines = out.getvalue().split("\n")
    assert "\r" not in out.getvalue() and lines[-1] == "" and len(lines) == 4
    assert lines[0] == "Epoch 1/3 - 50/50 batches - 10ms - loss 0.5 - val_loss 0.75"
    assert lines[2].startswith("Epoch 3/3 - 50/50 batches")


def test_progress_enabled_none_follows_isatty():
    assert Progress(10, 0, 1, stream=Terminal()).enabled
    assert not Progress(10, 0, 1, stream=io.StringIO()).enabled
    assert not Progress(10, 0, 1, stream=Terminal(), enabled=False).enabled


def test_progress_with_an_unknown_number_of_batches_and_double_close():
    out = io.StringIO()
    progress = Progress(
        None, 0, None, stream=out, enabled=True, clock=FakeClock(1.0), min_interval=0
    )
    progress.update(4, {"loss": 2.0})
    progress.close()
    progress.close()
    progress.update(5, {"loss": 1.0})
    assert out.getvalue().split("\r")[1:] == [
        "Epoch 1/? 5 - 1.0s - loss 2",
        "Epoch 1/? 5 - 2.0s - loss 2\n",
    ]


def test_a_message_breaks_an_unfinished_progress_line():
    out = Terminal()
    progress = Progress(4, 0, 1, stream=out, clock=FakeClock(1.0), min_interval=0)
    progress.update(0, {"loss": 1.0})
    break_line(io.StringIO())  # another stream: nothing to do
    progress.update(1, {"loss": 0.5})
    break_line(out)
    out.write("a message\n")
    break_line(out)  # the line is already broken
    progress.update(2, {"loss": 0.25})
    progress.close()
    bar = "[======================>.......] 3/4"
    assert out.getvalue() == (
        "\rEpoch 1/1 [=======>......................] 1/4 - 1.0s - ETA 3.0s - loss 1"
        "\rEpoch 1/1 [===============>..............] 2/4 - 2.0s - ETA 2.0s - loss 0.5\n"
        "a message\n"
        f"\rEpoch 1/1 {bar} - 3.0s - ETA 1.0s - loss 0.25"
        f"\rEpoch 1/1 {bar} - 4.0s - loss 0.25{' ' * len(' - ETA 1.0s')}\n"
    )


def test_callback_messages_do_not_run_into_a_progress_line(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    batches = [[{"loss": 1.0}, {"loss": math.nan}, {"loss": 1.0}]]
    train(
        [cb.TerminateOnNaN(), cb.ProgressBar(clock=FakeClock(1.0))],
        FakeModel(),
        [{"loss": math.nan}],
        batch_logs=batches,
    )
    lines = terminal.getvalue().split("\n")
    assert lines[1] == "Batch 1: invalid loss (nan), terminating training"
    assert lines[0].startswith("\rEpoch 1/1 [") and lines[2].startswith("\rEpoch 1/1 [")


def test_format_helpers():
    assert [format_duration(s) for s in (0.0042, 0.5, 9.95, 59.4, 61, 3599.6, 3661)] == [
        "4ms",
        "500ms",
        "9.9s",
        "59s",
        "1m01s",
        "1h00m",
        "1h01m",
    ]
    assert format_logs({"loss": 1234567.0, "acc": math.nan, "size": 32, "name": "x"}) == (
        "loss 1.235e+06 - acc nan"
    )


def test_progress_bar_callback_modes(capsys):
    logs = [{"loss": 0.5}] * 2
    batches = [[{"loss": 0.5}] * 5] * 2
    quiet = Terminal()
    train([cb.ProgressBar(verbose=0, stream=quiet)], FakeModel(), logs, batch_logs=batches)
    assert quiet.getvalue() == "" and capsys.readouterr().err == ""

    plain = io.StringIO()
    train(
        [cb.ProgressBar(stream=plain, clock=FakeClock(0.1))], FakeModel(), logs, batch_logs=batches
    )
    assert plain.getvalue() == (
        "Epoch 1/2 - 5/5 batches - 100ms - loss 0.5\nEpoch 2/2 - 5/5 batches - 100ms - loss 0.5\n"
    )

    terminal = Terminal()
    train(
        [cb.ProgressBar(stream=terminal, clock=FakeClock(0.2))],
        FakeModel(),
        logs,
        batch_logs=batches,
    )
    assert terminal.getvalue().count("\n") == 2 and "\r" in terminal.getvalue()
    assert "ETA" in terminal.getvalue()

    summary_only = Terminal()
    train([cb.ProgressBar(verbose=2, stream=summary_only)], FakeModel(), logs, batch_logs=batches)
    assert "\r" not in summary_only.getvalue() and summary_only.getvalue().count("\n") == 2
    with pytest.raises(ValueError, match="verbose"):
        cb.ProgressBar(verbose=3)


def test_progress_bar_defaults_to_stderr(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train([cb.ProgressBar()], FakeModel(), [{"loss": 0.5}], batch_logs=[[{"loss": 0.5}]])
    assert capsys.readouterr().err.startswith("Epoch 1/1 - 1/1 batches - ")


def test_divergence_guard_raises_once_the_loss_grows_past_its_factor():
    guard = cb.DivergenceGuard(factor=100.0)
    guard.on_train_begin()
    guard.on_epoch_begin(2)
    guard.on_batch_end(0, {"loss": 0.5})
    guard.on_batch_end(1, {"loss": 49.0})  # below 100 · 0.5
    with pytest.raises(FloatingPointError, match=r"grew from 0\.5 to 51 in epoch 3"):
        guard.on_batch_end(2, {"loss": 51.0})
    with pytest.raises(FloatingPointError, match="to nan"):
        guard.on_batch_end(3, {"loss": math.nan})
    tiny = cb.DivergenceGuard(factor=10.0)  # |ℓ₀| below 1e-3 counts as 1e-3
    tiny.on_batch_end(0, {"loss": 0.0})
    tiny.on_batch_end(1, {"loss": 0.009})
    with pytest.raises(FloatingPointError):
        tiny.on_batch_end(2, {"loss": 0.011})
    with pytest.raises(ValueError, match="factor must be a positive number, not 0"):
        cb.DivergenceGuard(factor=0)


def test_divergence_guard_starts_again_with_each_training():
    guard = cb.DivergenceGuard(factor=10.0)
    guard.on_batch_end(0, {"loss": 1.0})
    guard.on_train_begin()
    guard.on_batch_end(0, {"loss": 50.0})  # the new first loss
    guard.on_batch_end(1, {"loss": 60.0})
