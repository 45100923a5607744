"""Callbacks: code that the training loop calls at fixed points of ``fit``, and the History.

The loop calls, on a ``CallbackList`` of them (Keras' order)::

    set_model(model); set_params({"epochs": E, "steps": S, "verbose": v, ...})
    on_train_begin(logs)
    for epoch in range(E):                     # 0-based
        on_epoch_begin(epoch, logs)
        for batch in range(S):                 # 0-based
            on_batch_begin(batch, logs)
            ...                                # one optimisation step
            on_batch_end(batch, logs)          # logs: running "loss" (and metrics) of the epoch
        on_epoch_end(epoch, logs)              # logs: "loss", metrics, "val_loss", "val_<metric>"
        if model.stop_training: break
    on_train_end(logs)

What a callback may use of the model: ``model.stop_training`` (set it to True to end training
after the current epoch), ``model.state_dict()`` (name → ndarray copies) and
``model.load_state_dict(state)``, ``model.optimizer.lr`` (settable learning rate), and
``model.save(path)`` when the model has it. The same ``logs`` dict goes to every callback in
turn, so a value one adds (``LearningRateScheduler``'s "lr") is seen by those after it — the
History comes last.

Callbacks here: ``History``, ``EarlyStopping``, ``ModelCheckpoint``, ``LearningRateScheduler``,
``TerminateOnNaN``, ``CSVLogger`` and ``ProgressBar``; subclass ``Callback`` for your own.
"""

from __future__ import annotations

import copy
import csv
import glob
import math
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

import numpy as np

from .atomic import fsync_directory, remove_path, write_npz_atomically
from .errors import MissingLogKeyError
from .progress import Progress, break_line
from .protocols import SupportsSave, TrainableModel

Logs = dict[str, Any]


def _say(message: str) -> None:
    """Messages of callbacks go to stderr, on a line of their own below any progress line."""
    break_line(sys.stderr)
    print(message, file=sys.stderr, flush=True)


def _as_float(value: Any) -> float | None:
    """A log value as a float, or None when it is not a single number."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------- base classes
class Callback:
    """Base class of callbacks: every hook does nothing; override the ones you need.

    ``self.model`` is the model being trained (set by ``set_model``) and ``self.params`` the
    training parameters (``set_params``: "epochs", "steps", "verbose", ...). Epoch and batch
    indices are 0-based. ``logs`` is a dict of numbers; a hook may add entries to it.
    """

    # Attributes a training checkpoint keeps, so that a resumed run continues exactly.
    state_attributes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.model: TrainableModel | None = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: TrainableModel) -> None:
        self.model = model

    def _trained_model(self) -> TrainableModel:
        """``self.model``; a hook that needs it before ``set_model`` is a clear error."""
        if self.model is None:
            raise RuntimeError(
                f"{type(self).__name__} has no model: call set_model(model) first (fit does)"
            )
        return self.model

    def get_state(self) -> dict[str, Any]:
        """The callback's progress (``state_attributes``), for a training checkpoint."""
        return {name: copy.deepcopy(getattr(self, name)) for name in self.state_attributes}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore what ``get_state`` returned (called after ``on_train_begin`` on resume)."""
        for name in self.state_attributes:
            if name in state:
                setattr(self, name, copy.deepcopy(state[name]))

    def set_params(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once after the last epoch (also after a stop)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of epoch ``epoch``."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called after epoch ``epoch`` with its training and validation results."""

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before the optimisation step on batch ``batch`` of the epoch."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after the step on batch ``batch``, with the epoch's running results."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CallbackList:
    """Several callbacks called as one: each hook goes to every callback, in order.

    ``add_history=True`` appends a ``History`` unless one is there already (it is ``.history``);
    ``add_progress_bar=True`` appends a ``ProgressBar(verbose)`` unless one is there. Both go at
    the end, so they see what the other callbacks add to the logs.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        *,
        model: TrainableModel | None = None,
        params: Mapping[str, Any] | None = None,
        add_history: bool = False,
        add_progress_bar: bool = False,
        verbose: int = 1,
    ) -> None:
        self.callbacks: list[Callback] = []
        self.model: TrainableModel | None = None
        self.params: dict[str, Any] = {}
        for callback in callbacks or ():
            self.append(callback)
        if add_history and self.history is None:
            self.append(History())
        if add_progress_bar and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            self.append(ProgressBar(verbose=verbose))
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        if isinstance(callback, type) and issubclass(callback, Callback):
            raise TypeError(
                f"got the class {callback.__name__}, not a callback object; "
                f"write {callback.__name__}(...)"
            )
        if not isinstance(callback, Callback):
            raise TypeError(
                f"a callback must be an instance of chainrule.callbacks.Callback (or a subclass), "
                f"got {type(callback).__name__}"
            )
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)

    @property
    def history(self) -> History | None:
        """The first ``History`` among the callbacks (None if there is none)."""
        return next((c for c in self.callbacks if isinstance(c, History)), None)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def __repr__(self) -> str:
        return f"CallbackList({self.callbacks!r})"

    def set_model(self, model: TrainableModel) -> None:
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)
        for callback in self.callbacks:
            callback.set_params(self.params)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)


# ---------------------------------------------------------------------- History
class History(Callback):
    """The per-epoch record of training: ``history[name]`` is a list with one float per epoch.

    Names are the epoch-end log keys: "loss", metric names, "val_loss", "val_<metric>", "lr".
    ``epoch`` lists the epoch indices recorded and ``params`` the training parameters. Every
    list stays as long as ``epoch``: a key missing from an epoch's logs (or first seen later)
    gets NaN there. ``fit`` returns it.

    >>> h = History()
    >>> h.append(0, {"loss": 0.9, "val_loss": 1.0})
    >>> h.append(1, {"loss": 0.5, "val_loss": 0.8})
    >>> h.history["loss"], h.epoch
    ([0.9, 0.5], [0, 1])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Record the logs of epoch ``epoch`` (numbers as floats, other values as given)."""
        logs = logs or {}
        for key in logs:
            if key not in self.history:
                self.history[key] = [math.nan] * len(self.epoch)
        self.epoch.append(int(epoch))
        for key, values in self.history.items():
            if key in logs:
                number = _as_float(logs[key])
                values.append(logs[key] if number is None else number)
            else:
                values.append(math.nan)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.append(epoch, logs)

    def bias_variance(
        self, baseline: float = 0.0, *, metric: str | None = None, scale: float | None = None
    ) -> Any:
        """The basic recipe's verdict on the last epoch's training and validation error (and
        the ``baseline`` error, e.g. a human's): ``chainrule.bias_variance.from_history``.
        Print it, or read ``.verdict`` ("fine", "high_bias", "high_variance", "both")."""
        from .bias_variance import from_history  # it sits above callbacks; imported on use

        return from_history(self, baseline, metric=metric, scale=scale)

    def _repr_html_(self) -> str:
        """The curves as an inline SVG (matplotlib), else a table of the numbers (notebooks)."""
        from .notebook import history_html

        return history_html(self)

    def to_dict(self) -> dict[str, list[Any]]:
        """A plain copy of ``history`` (name → list), e.g. for ``json.dump`` or a DataFrame."""
        return {key: list(values) for key, values in self.history.items()}

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        if not self.epoch:
            return "History(no epochs recorded)"
        last = ", ".join(
            f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value!r}"
            for key, value in ((k, v[-1]) for k, v in self.history.items())
        )
        return (
            f"History({len(self.epoch)} epoch{'s' if len(self.epoch) != 1 else ''}, "
            f"keys={list(self.history)}, last: {last})"
        )


# ---------------------------------------------------------------------- monitoring helpers
_MODES = ("auto", "min", "max")


def _direction(monitor: str, mode: str, who: str) -> str:
    """ "min" or "max": ``mode``, or for "auto" max for accuracies ("acc" in the name), else min."""
    if mode not in _MODES:
        raise ValueError(f"{who}: mode must be one of {', '.join(_MODES)}, not {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if "acc" in name or name.startswith(("auc", "fmeasure")) else "min"


def _monitored(monitor: str, logs: Mapping[str, Any] | None, who: str) -> float | None:
    """``logs[monitor]`` as a float, or None with a warning naming the keys that are there."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{who} is conditioned on {monitor!r}, which is not in the logs; available keys: "
            f"{', '.join(logs) or 'none'}",
            UserWarning,
            stacklevel=3,
        )
        return None
    number = _as_float(value)
    if number is None:
        warnings.warn(
            f"{who}: logs[{monitor!r}] = {value!r} is not a number; ignored",
            UserWarning,
            stacklevel=3,
        )
    return number


def _weights(model: TrainableModel) -> dict[str, np.ndarray]:
    return {name: np.array(value, copy=True) for name, value in model.state_dict().items()}


# ---------------------------------------------------------------------- EarlyStopping
class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving (Keras' EarlyStopping, exactly).

    An epoch improves when its value beats ``best`` by more than ``min_delta``: value < best −
    min_delta in "min" mode, value > best + min_delta in "max" mode ("auto": max when the name
    contains "acc", else min). The first monitored epoch always sets ``best``. At each monitored
    epoch ``wait`` is incremented, and reset to 0 on an improvement that also beats ``baseline``
    (when given); otherwise, once ``wait ≥ patience`` (and epoch > 0), ``model.stop_training`` is
    set and ``stopped_epoch`` records the epoch. Epochs before ``start_from_epoch`` are ignored.

    With ``restore_best_weights`` a copy of ``model.state_dict()`` is kept from the best epoch
    (``best_weights``, ``best_epoch``) and loaded back at the end of training, whether it stopped
    early or ran out of epochs. A missing ``monitor`` key warns (listing the keys there) and the
    epoch is skipped.
    """

    state_attributes = ("wait", "stopped_epoch", "best", "best_epoch", "best_weights")

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        baseline: float | None = None,
        start_from_epoch: int = 0,
        verbose: int = 0,
    ) -> None:
        super().__init__()
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be ≥ 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = _direction(monitor, mode, "EarlyStopping")
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = None if baseline is None else float(baseline)
        self.start_from_epoch = int(start_from_epoch)
        self.verbose = int(verbose)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()  # an instance can be reused for another fit

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = _monitored(self.monitor, logs, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something better shows up, the current weights are the best.
            self.best_weights = _weights(self._trained_model())
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _weights(self._trained_model())
            # Only restart the wait when beating both the previous best and the baseline.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self._trained_model().stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            _say(
                f"Epoch {self.stopped_epoch + 1}: early stopping ({self.monitor} did not "
                f"improve for {self.wait} epochs; best {self.best:.6g} at epoch "
                f"{self.best_epoch + 1})"
            )
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _say(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self._trained_model().load_state_dict(self.best_weights)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, mode={self.mode!r}, "
            f"restore_best_weights={self.restore_best_weights})"
        )


# ---------------------------------------------------------------------- ModelCheckpoint
def save_model_atomically(model: SupportsSave, path: str | os.PathLike[str]) -> None:
    """``model.save`` into a temporary name beside ``path``, then ``os.replace`` it into place.

    The temporary name ends like ``path`` (same extension), so a ``save`` that picks its format
    from the extension behaves the same. If ``save`` raises, or writes somewhere else than the
    path it was given, the previous file at ``path`` is left as it was.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    base = os.path.basename(path)
    extension = os.path.splitext(base)[1]
    temporary = os.path.join(directory, f".{base}.{uuid.uuid4().hex[:12]}.tmp{extension}")
    try:
        model.save(temporary)
        if not os.path.exists(temporary):
            raise RuntimeError(
                f"model.save({temporary!r}) did not create that path (did it add an "
                f"extension?); give the checkpoint filepath the extension save() writes"
            )
        os.replace(temporary, path)
    except BaseException:
        for leftover in glob.glob(glob.escape(temporary) + "*"):
            remove_path(leftover)
        raise
    fsync_directory(directory)


class ModelCheckpoint(Callback):
    """Save the model after every epoch, or only when ``monitor`` improves.

    ``filepath`` is a ``str.format`` template filled with ``epoch`` (1-based, as Keras) and the
    epoch's logs: "ckpt-{epoch:03d}-{val_loss:.4f}.npz". The model is written with
    ``model.save(path)`` if it has a ``save`` method, otherwise ``model.state_dict()`` goes to
    an .npz file (``numpy.savez``, no pickle: ``np.load(path, allow_pickle=False)`` reads it).
    Either way the write is atomic: a temporary file in the same directory, then ``os.replace``,
    so an existing checkpoint survives a failed or interrupted save.

    With ``save_best_only`` a file is written only when the value beats ``best`` (strictly; mode
    as in EarlyStopping); ``best`` starts at ±inf. ``last_saved`` is the latest path written.
    """

    state_attributes = ("best",)

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        verbose: int = 0,
    ) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _direction(monitor, mode, "ModelCheckpoint")
        self.verbose = int(verbose)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved: str | None = None

    def _better(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def path_for(self, epoch: int, logs: Mapping[str, Any] | None = None) -> str:
        """``filepath`` filled in for epoch ``epoch`` (0-based; shown 1-based) and ``logs``."""
        fields: dict[str, Any] = {}
        for key, value in (logs or {}).items():
            number = _as_float(value)
            fields[key] = value if number is None else number
        fields["epoch"] = epoch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise MissingLogKeyError(
                f"ModelCheckpoint filepath {self.filepath!r} uses {{{error.args[0]}}}, but the "
                f"logs of epoch {epoch + 1} have only: {', '.join(fields)}"
            ) from None
        except (ValueError, IndexError) as error:
            raise ValueError(
                f"ModelCheckpoint cannot fill in filepath {self.filepath!r}: {error}"
            ) from None

    def save(self, path: str) -> None:
        """Write the model to ``path`` atomically (``model.save`` or an .npz of its state)."""
        model = self._trained_model()
        if isinstance(model, SupportsSave) and callable(model.save):
            save_model_atomically(model, path)
        else:
            write_npz_atomically(path, model.state_dict())
        self.last_saved = path

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if not self.save_best_only:
            path = self.path_for(epoch, logs)
            if self.verbose > 0:
                _say(f"Epoch {epoch + 1}: saving model to {path}")
            self.save(path)
            return
        current = _monitored(self.monitor, logs, "ModelCheckpoint(save_best_only=True)")
        if current is None:
            return
        if self._better(current):
            path = self.path_for(epoch, logs)
            if self.verbose > 0:
                _say(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{current:.5f}, saving model to {path}"
                )
            self.save(path)
            self.best = current
        elif self.verbose > 0:
            _say(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")

    def __repr__(self) -> str:
        return (
            f"ModelCheckpoint({self.filepath!r}, monitor={self.monitor!r}, "
            f"save_best_only={self.save_best_only}, mode={self.mode!r})"
        )


# ---------------------------------------------------------------------- LearningRateScheduler
class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch: lr ← schedule(epoch, lr).

    ``schedule(epoch, lr) -> float`` (Keras' signature; epoch 0-based, lr the current rate; a
    one-argument ``schedule(epoch)`` works too) is called in ``on_epoch_begin`` and its value
    put into ``model.optimizer.lr``; ``on_epoch_end`` records the rate as logs["lr"].

    >>> step_decay = LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch % 10 == 9 else lr)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be a function (epoch, lr) -> lr, got {schedule!r}")
        self.schedule = schedule
        self.verbose = int(verbose)
        self._takes_lr = self._accepts_two_arguments(schedule)

    @staticmethod
    def _accepts_two_arguments(function: Callable[..., Any]) -> bool:
        try:
            import inspect  # imported on use: it is slow to import

            signature = inspect.signature(function)
        except (TypeError, ValueError):  # some builtins have no signature; assume Keras'
            return True
        try:
            signature.bind(0, 0.1)
        except TypeError:
            return False
        return True

    def _optimizer(self) -> Any:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "lr"):
            raise AttributeError(
                "LearningRateScheduler needs model.optimizer with an 'lr' attribute"
            )
        return optimizer

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = self._optimizer()
        if self._takes_lr:
            value = self.schedule(epoch, float(optimizer.lr))
        else:
            value = self.schedule(epoch)
        lr = _as_float(value)
        if lr is None or not math.isfinite(lr) or lr < 0:
            raise ValueError(
                f"the schedule returned {value!r} for epoch {epoch}; it must return a finite "
                "learning rate ≥ 0"
            )
        optimizer.lr = lr
        if self.verbose > 0:
            _say(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:.6g}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["lr"] = float(self._optimizer().lr)

    def __repr__(self) -> str:
        return f"LearningRateScheduler({self.schedule!r})"


# ---------------------------------------------------------------------- TerminateOnNaN
class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's or an epoch's "loss" is NaN or ±inf.

    Sets ``model.stop_training`` and prints which batch or epoch it was (once per training).
    ``terminated_at`` is ("batch", index) or ("epoch", index), None while all is well.
    """

    def __init__(self) -> None:
        super().__init__()
        self.terminated_at: tuple[str, int] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.terminated_at = None

    def _check(self, where: str, index: int, logs: Logs | None) -> None:
        loss = _as_float((logs or {}).get("loss"))
        if loss is None or math.isfinite(loss):
            return
        self._trained_model().stop_training = True
        if self.terminated_at is None:
            self.terminated_at = (where, index)
            _say(f"{where.capitalize()} {index}: invalid loss ({loss}), terminating training")

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._check("batch", batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._check("epoch", epoch, logs)


# ---------------------------------------------------------------------- DivergenceGuard
class DivergenceGuard(Callback):
    """Stop a run whose training loss explodes, by raising FloatingPointError.

    With ℓ₀ the first batch's loss, batch t fails when its loss ℓ_t is not finite or when
    ℓ_t > factor · max(|ℓ₀|, 10⁻³) (Adam with a huge learning rate rarely reaches NaN, so
    TerminateOnNaN alone misses it). The message names both losses and the (1-based) epoch.
    """

    FACTOR = 1e4

    def __init__(self, factor: float = FACTOR) -> None:
        super().__init__()
        if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor > 0):
            raise ValueError(f"DivergenceGuard's factor must be a positive number, not {factor!r}")
        self.factor = float(factor)
        self.first: float | None = None
        self.epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.first = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = float((logs or {}).get("loss", math.nan))
        if self.first is None:
            self.first = loss
            return
        if not math.isfinite(loss) or loss > self.factor * max(abs(self.first), 1e-3):
            raise FloatingPointError(
                f"the training loss grew from {self.first:.4g} to {loss:.4g} in epoch "
                f"{self.epoch + 1}"
            )


# ---------------------------------------------------------------------- CSVLogger
class CSVLogger(Callback):
    """Write one CSV row per epoch: "epoch" (0-based), then the epoch's log values.

    The columns are those of the first epoch's logs, in their order; later keys that are not
    columns are left out and missing ones written "NA". With ``append=True`` rows are added to
    an existing file under its own header (written only if the file is empty). Each row is
    flushed at once, so a crash keeps what was written. The file is opened at
    ``on_train_begin`` and closed at ``on_train_end``.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._write_header = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._open()

    def _open(self) -> None:
        self.keys = None
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as existing:
                header = next(csv.reader(existing, delimiter=self.separator), None)
            if header:
                self._write_header = False
                self.keys = [key for key in header if key != "epoch"]
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._file is None:  # used without on_train_begin
            self._open()
        assert self._file is not None
        if self.keys is None:
            self.keys = [key for key in logs if key != "epoch"]
        if self._writer is None:
            self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")
            if self._write_header:
                self._writer.writerow(["epoch", *self.keys])
        row: list[Any] = [epoch]
        for key in self.keys:
            value = logs.get(key, "NA")
            number = _as_float(value)
            row.append(value if number is None else number)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None

    def __repr__(self) -> str:
        return f"CSVLogger({self.filename!r}, separator={self.separator!r}, append={self.append})"


# ---------------------------------------------------------------------- ProgressBar
class ProgressBar(Callback):
    """A progress line per epoch (``chainrule.progress.Progress``).

    ``verbose=1``: redraws on a terminal, one plain line per epoch elsewhere; ``verbose=2``:
    always one plain line per epoch; ``verbose=0``: nothing. It reads "epochs" and "steps"
    (batches per epoch) from the training params. ``stream`` (default stderr) and ``clock``
    are for tests.
    """

    def __init__(
        self,
        verbose: int = 1,
        stream: IO[str] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        if verbose not in (0, 1, 2):
            raise ValueError(f"ProgressBar verbose must be 0, 1 or 2, got {verbose!r}")
        self.verbose = verbose
        self.stream = stream
        self.clock = clock
        self.progress: Progress | None = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self.verbose == 0:
            return
        extra: dict[str, Any] = {} if self.clock is None else {"clock": self.clock}
        self.progress = Progress(
            self.params.get("steps"),
            epoch,
            self.params.get("epochs"),
            stream=self.stream,
            enabled=None if self.verbose == 1 else False,
            **extra,
        )

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.progress is not None:
            self.progress.update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.progress is not None:
            self.progress.close(logs)
            self.progress = None

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.progress is not None:  # training stopped in the middle of an epoch
            self.progress.close()
            self.progress = None

    def __repr__(self) -> str:
        return f"ProgressBar(verbose={self.verbose})"


__all__ = [
    "Callback",
    "CallbackList",
    "CSVLogger",
    "DivergenceGuard",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "Logs",
    "MissingLogKeyError",
    "ModelCheckpoint",
    "ProgressBar",
    "save_model_atomically",
    "TerminateOnNaN",
]
