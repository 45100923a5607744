"""One browser tab's run: its setup, data, network, epoch count and loss curves.

A ``Session`` is used from worker threads (training must not block the server) and from the
export endpoint, so every method takes the session's lock. ``train`` runs whole epochs with
chainrule's own ``fit``; ``snapshot`` gathers everything the page draws (``views``).

>>> session = Session()
>>> session.train(2)
>>> snapshot = session.snapshot()
>>> snapshot["epoch"], len(snapshot["train_loss"])
(2, 3)
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import Dataset
from ..errors import TrainingFailed
from ..models import Sequential
from . import views
from .datasets import OWN, read_upload
from .features import FeatureMap
from .limits import (
    BOUNDARY_GRID,
    MAX_CURVE_POINTS,
    MAX_EPOCHS,
    MAX_STEP_SECONDS,
    NEURON_GRID,
)
from .messages import Setup
from .network import RunData, build_model, change_training, make_data, measure, train_epoch
from .snippet import snippet
from .views import PLAYGROUND


class Session:
    """The state of one tab's run; thread-safe."""

    # set by configure (the setup and its data) and _start (the network and its epoch count)
    setup: Setup
    data: RunData
    model: Sequential
    epoch: int

    def __init__(self, setup: Setup | None = None) -> None:
        self._lock = threading.RLock()
        self.selected_layer = 0
        #: the raw point whose forward pass the hover formulas show (None: the first training
        #: point of the current data)
        self.probe_point: tuple[float, float] | None = None
        #: the tab's uploaded CSV (``read_own_csv``), used while the setup's dataset is OWN;
        #: a new upload starts a new network with the next setup
        self.own_data: Dataset | None = None
        self._own_changed = False
        #: points of an uploaded CSV without a class column: shown with the network's prediction
        self.own_points: np.ndarray | None = None
        self.configure(setup or Setup())

    # ------------------------------------------------------------------ changing the run
    def configure(self, setup: Setup) -> bool:
        """Apply a new setup; True when it started a new network at epoch 0.

        A change of the ``TRAINING_SETTINGS`` only (learning rate, penalty, batch size) keeps
        the weights, the epoch and the curves, as TensorFlow Playground keeps them on a
        learning-rate change; any other change (data, features, layers, optimiser, seed), or
        any change after the run diverged (its weights are no longer numbers), starts again;
        so does the first setup with the dataset OWN after a new upload.
        """
        with self._lock:
            previous = getattr(self, "setup", None)
            fresh_data = setup.dataset == OWN and self._own_changed  # a new upload
            if (
                previous is not None
                and self.diverged is None
                and not fresh_data
                and previous.keeps_network(setup)
            ):
                if setup != previous:
                    change_training(self.model, setup)
                    self.setup = setup
                    self.changes.append((self.epoch, setup))
                return False
            data: RunData = make_data(setup, self.own_data)  # ValueError: OWN, nothing uploaded
            self.setup, self.data = setup, data
            self._own_changed = self._own_changed and setup.dataset != OWN
            self._start()
            return True

    def upload(self, content: bytes, max_rows: int) -> dict[str, Any]:
        """Read an uploaded CSV (``read_upload``; ValueError with the page's sentence). With a
        class column the next setup with the dataset OWN trains on it; without one its points
        are shown with the network's predictions. Returns its rows and classes (None)."""
        data = read_upload(content, max_rows)
        with self._lock:
            if isinstance(data, np.ndarray):
                self.own_points = data
                return {"rows": len(data), "classes": None}
            self.own_data, self._own_changed = data, True
        return {
            "rows": len(data.x),
            "classes": data.classes or [str(c) for c in range(int(data.y.max()) + 1)],
        }

    def reset(self) -> None:
        """Back to epoch 0 with the setup's initial weights (the same seed gives the same)."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        self.model = build_model(self.setup, self.data.classes)
        self.epoch = 0
        self.train_loss: list[float] = []
        self.test_loss: list[float] = []
        #: (the epoch it took effect, the setup) for every setup the run has trained with
        self.changes: list[tuple[int, Setup]] = [(0, self.setup)]
        #: why training stopped for good (None while the loss is a number)
        self.diverged: str | None = None
        self._record()

    def set_probe(self, point: tuple[float, float]) -> None:
        """The point whose numbers the hover formulas show (the page: a click on the output)."""
        with self._lock:
            self.probe_point = (float(point[0]), float(point[1]))

    def explain(self, point: tuple[float, float], label: int | None = None) -> dict[str, Any]:
        """Backpropagation at the raw ``point`` for the explain panel (``views.explanation``):
        with the nearest training point's label, or ``label``, a class of the current data
        (ValueError with the page's sentence otherwise)."""
        with self._lock:
            data = self.data
            if label is not None:
                if data.regression:
                    raise ValueError(
                        "a regression has no classes to pick: the explanation "
                        "uses the nearest training point's value"
                    )
                if label >= data.classes:
                    raise ValueError(
                        f"class {label} is not in this data: it has the classes "
                        f"0 to {data.classes - 1}"
                    )
            view = views.explanation(self.model, self.setup, data, point, label)
            return {"epoch": self.epoch, **view}

    def select(self, layer: int) -> None:
        """The hidden layer whose activation, slope and z are shown."""
        with self._lock:
            self.selected_layer = layer

    # ------------------------------------------------------------------ training
    @property
    def finished(self) -> bool:
        """True once the session has trained ``MAX_EPOCHS`` epochs."""
        return self.epoch >= MAX_EPOCHS

    def train(self, epochs: int, seconds: float = MAX_STEP_SECONDS) -> None:
        """Train up to ``epochs`` epochs: fewer at the ``MAX_EPOCHS`` cap, or when they take
        longer than ``seconds`` in all (at least one epoch runs)."""
        with self._lock:
            self._refuse_if_diverged()
            deadline = time.perf_counter() + seconds
            for _ in range(min(epochs, MAX_EPOCHS - self.epoch)):
                self._one_epoch()
                if time.perf_counter() >= deadline:
                    break

    def train_for(self, seconds: float) -> None:
        """Train whole epochs for about ``seconds`` (at least one, unless finished)."""
        with self._lock:
            self._refuse_if_diverged()
            deadline = time.perf_counter() + seconds
            while not self.finished:
                self._one_epoch()
                if time.perf_counter() >= deadline:
                    break

    def _refuse_if_diverged(self) -> None:
        if self.diverged is not None:
            raise TrainingFailed(self.diverged)

    def _one_epoch(self) -> None:
        try:
            with np.errstate(all="ignore"):  # a diverging run is reported, not warned about
                train_epoch(self.model, self.data, self.setup, self.epoch)
        except FloatingPointError:
            self.epoch += 1
            self._diverge("the training loss")
        self.epoch += 1
        self._record()

    def _diverge(self, what: str) -> None:
        """Stop for good: the epoch, the curves and the last finite losses stay as they are."""
        self.diverged = (
            f"training diverged: {what} stopped being a finite number in epoch "
            f"{self.epoch}; {PLAYGROUND.advice(['lower_lr'])}, then reset"
        )
        raise TrainingFailed(self.diverged)

    def _record(self) -> None:
        with np.errstate(all="ignore"):
            train = measure(self.model, self.data.x_train, self.data.y_train)
            test = measure(self.model, self.data.x_test, self.data.y_test)
        if not (np.isfinite(train["loss"]) and np.isfinite(test["loss"])):
            self._diverge("the loss")
        self.train_loss.append(train["loss"])
        self.test_loss.append(test["loss"])
        self.train_metrics, self.test_metrics = train, test

    # ------------------------------------------------------------------ what the page shows
    def points(self) -> dict[str, Any]:
        """The raw training and test points with their targets (sent once per setup)."""
        with self._lock:
            data = self.data
            return {
                "regression": data.regression,
                "classes": data.classes,
                "train": _point_rows(data.points_train, data.y_train),
                "test": _point_rows(data.points_test, data.y_test),
            }

    def snapshot(self) -> dict[str, Any]:
        """Everything that changes while training: losses, maps, weights, g and g', health."""
        with self._lock, np.errstate(all="ignore"):
            model, setup, data = self.model, self.setup, self.data
            return {
                "epoch": self.epoch,
                "setup": setup.as_dict(),
                "train_loss": _thinned(self.train_loss),
                "test_loss": _thinned(self.test_loss),
                "train_metrics": dict(self.train_metrics),
                "test_metrics": dict(self.test_metrics),
                "boundary": views.boundary(model, setup, BOUNDARY_GRID, data.regression),
                "boundary_size": BOUNDARY_GRID,
                "classes": data.classes,
                "neurons": views.neuron_maps(model, setup, NEURON_GRID),
                "neuron_size": NEURON_GRID,
                "weights": views.weights(model, setup),
                "activation": views.activation_view(
                    model, setup, self.selected_layer, data.x_train
                ),
                "health": views.health(model, data.x_train),
                # no verdict on a diverged run: its advice is to lower the learning rate
                "bias_variance": None
                if self.diverged is not None
                else views.bias_variance(model, setup, data, self.train_metrics, self.test_metrics),
                "own_points": views.predicted_points(model, setup, self.own_points),
                "probe": views.probe(
                    model,
                    setup,
                    self.probe_point
                    if self.probe_point is not None
                    else tuple(data.points_train[0]),
                ),
                "finished": self.finished,
                "diverged": self.diverged,
            }

    # ------------------------------------------------------------------ export
    def model_file(self) -> bytes:
        """The trained model as the bytes of a ``.npz`` model file (``model.save``). Its
        preprocessing is the setup's ``FeatureMap``, so the file takes the raw (x₁, x₂):
        ``chainrule predict model.npz raw.csv`` reads a CSV with the columns x1, x2."""
        with self._lock:
            regression = self.data.regression
            self.model.metadata = {
                "playground": self.setup.as_dict(),
                "epoch": self.epoch,
                "features": list(self.setup.features),
                "feature_names": ["x1", "x2"],
                "task": "regression" if regression else "classification",
                **({} if regression else {"classes": self._class_names()}),
            }
            self.model.preprocessing = FeatureMap(self.setup.features)
            try:
                with tempfile.TemporaryDirectory(prefix="chainrule-playground-") as folder:
                    path = Path(folder) / "model.npz"
                    self.model.save(path)
                    return path.read_bytes()
            finally:
                self.model.preprocessing = None  # the session trains on the feature matrices

    def _class_names(self) -> list[str]:
        """The class names: an uploaded CSV's own (when it names them), else 0..k−1."""
        own = self.own_data if self.setup.dataset == OWN else None
        if own is not None and own.classes:
            return list(own.classes)
        return [str(c) for c in range(self.data.classes)]

    def snippet(self) -> str:
        """Python source that reproduces this run with chainrule."""
        with self._lock:
            return snippet(self.changes, self.epoch, self.data.classes)


def _point_rows(points: np.ndarray, targets: np.ndarray) -> list[list[float]]:
    rows = np.concatenate([points, np.asarray(targets, dtype=np.float64).reshape(-1, 1)], axis=1)
    return np.round(rows, 4).tolist()


def _thinned(values: list[float]) -> list[list[float]]:
    """(epoch, value) pairs, at most ``MAX_CURVE_POINTS`` of them, the last one always kept."""
    count = len(values)
    step = max(1, -(-count // MAX_CURVE_POINTS))
    epochs = list(range(0, count, step))
    if epochs[-1] != count - 1:
        epochs.append(count - 1)
    return [[epoch, round(float(values[epoch]), 6)] for epoch in epochs]


__all__ = ["Session", "TrainingFailed"]
