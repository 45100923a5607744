"""From a ``Setup`` to the data and the compiled chainrule network that the page trains.

The network is a ``Sequential``: per hidden layer a ``Dense``, an ``Activation`` from the
catalog (maxout takes two pieces per unit, so its Dense has twice the units) and, when the
layer's rate is above 0, a ``Dropout``; then the output: one logit trained with binary
cross-entropy for the two-class sets, one logit per class trained with softmax cross-entropy
(sparse labels) for three or more classes, a value trained with the mean squared error for
the regression set. L1 or L2 puts ``kernel_regularizer`` on every
Dense. ``change_training`` applies a new learning rate, penalty or batch size to a model
mid-run, keeping its weights. One epoch is one call of ``fit`` seeded with ``seed + epoch``,
so the exported snippet, which makes the same calls, ends with the same weights.

>>> from chainrule.playground.messages import Setup
>>> data = make_data(Setup(samples=100))
>>> data.x_train.shape, data.x_test.shape
((50, 2), (50, 2))
>>> model = build_model(Setup())
>>> [type(layer).__name__ for layer in model.layers]
['Dense', 'Activation', 'Dense', 'Activation', 'Dense']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import losses, optim
from ..datasets import Dataset, train_test_split
from ..models import Sequential
from ..nn import Activation, Dense, Dropout
from .datasets import DATASETS, OWN, class_count, is_regression
from .features import feature_matrix
from .messages import Setup

#: maxout's pieces per unit in the playground
MAXOUT_PIECES = 2


@dataclass(frozen=True)
class RunData:
    """The raw points (for drawing), the feature matrices (for the network) and the targets."""

    points_train: np.ndarray
    points_test: np.ndarray
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    regression: bool
    classes: int = 2  # 0 for regression


def make_data(setup: Setup, own: Dataset | None = None) -> RunData:
    """Draw the data set (or take ``own``, the tab's uploaded CSV, for the dataset ``OWN``),
    split it (stratified for classes) and compute the chosen features."""
    if setup.dataset == OWN:
        if own is None:
            raise ValueError("no CSV uploaded in this tab: choose Your CSV first")
        data = own
    else:
        data = DATASETS[setup.dataset].generate(n=setup.samples, noise=setup.noise, seed=setup.seed)
    points_train, points_test, y_train, y_test = train_test_split(
        data.x, data.y, test_size=round(1.0 - setup.train_ratio, 6), seed=setup.seed
    )
    regression = is_regression(setup.dataset)
    if setup.dataset == OWN:
        classes = len(data.classes) if data.classes else int(np.max(data.y)) + 1
    else:
        classes = class_count(setup.dataset)
    if classes == 2:  # one logit: the targets are a column
        y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)
    return RunData(
        points_train,
        points_test,
        feature_matrix(points_train, setup.features),
        feature_matrix(points_test, setup.features),
        y_train,
        y_test,
        regression,
        classes,
    )


def output_units(classes: int) -> int:
    """The output layer's width: one logit per class for three or more, else one unit (two
    classes: one logit; regression, classes = 0: one value)."""
    return classes if classes > 2 else 1


def dropout_seed(seed: int, layer: int) -> int:
    """The seed of hidden layer ``layer``'s dropout masks: seed + 1 + layer (its own stream, so
    the exported snippet draws the same masks)."""
    return seed + 1 + layer


def units_of(layer_units: int, activation: str) -> int:
    """The width of the Dense feeding an activation (maxout needs its pieces)."""
    return layer_units * MAXOUT_PIECES if activation == "maxout" else layer_units


def _penalty(setup: Setup) -> Any:
    if setup.regularization == "l1":
        return losses.L1(setup.lam)
    if setup.regularization == "l2":
        return losses.L2(setup.lam)
    return None


def build_model(setup: Setup, classes: int | None = None) -> Sequential:
    """The compiled network for ``setup`` (weights drawn from ``setup.seed``); ``classes`` is
    the data's (by default the data set's: own data says its own)."""
    classes = class_count(setup.dataset) if classes is None else classes
    penalty = _penalty(setup)
    width: int | None = len(setup.features)
    layers: list[Any] = []
    for index, spec in enumerate(setup.layers):
        layers.append(
            Dense(
                units_of(spec.units, spec.activation), input_dim=width, kernel_regularizer=penalty
            )
        )
        layers.append(Activation(spec.activation))
        if spec.dropout > 0:
            layers.append(Dropout(spec.dropout, seed=dropout_seed(setup.seed, index)))
        width = None
    layers.append(Dense(output_units(classes), input_dim=width, kernel_regularizer=penalty))
    model = Sequential(layers, seed=setup.seed)
    _compile(model, setup, optim.get(setup.optimizer, lr=setup.learning_rate))
    return model


def _compile(model: Sequential, setup: Setup, optimizer: optim.Optimizer) -> None:
    if is_regression(setup.dataset):
        model.compile(loss="mse", optimizer=optimizer)
    elif getattr(model.layers[-1], "units", 1) > 1:  # one logit per class
        model.compile(
            loss=losses.get("sparse_categorical_crossentropy", from_logits=True),
            optimizer=optimizer,
            metrics=["accuracy"],
        )
    else:
        model.compile(
            loss=losses.get("binary_crossentropy", from_logits=True),
            optimizer=optimizer,
            metrics=["accuracy"],
        )


def change_training(model: Sequential, setup: Setup) -> None:
    """Apply ``setup``'s ``TRAINING_SETTINGS`` to a trained model, keeping its weights and its
    optimiser's state: the learning rate, every Dense's penalty, and a new compiled step (the
    old one was traced with the old penalty). The batch size is read by every epoch."""
    optimizer = model.optimizer
    if optimizer is None:
        raise RuntimeError("change_training needs a compiled model (build_model compiles it)")
    optimizer.lr = setup.learning_rate
    penalty = _penalty(setup)
    for layer in model.layers:
        if isinstance(layer, Dense):
            layer.kernel_regularizer = penalty
    _compile(model, setup, optimizer)


def train_epoch(model: Sequential, data: RunData, setup: Setup, epoch: int) -> None:
    """One epoch of mini-batch training: ``fit`` for one epoch, shuffled with seed + epoch."""
    model.fit(
        data.x_train,
        data.y_train,
        epochs=1,
        batch_size=setup.batch_size,
        seed=setup.seed + epoch,
        verbose=0,
        health=False,
    )


def measure(model: Sequential, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """``evaluate``'s loss (and accuracy for classes) on (x, y), in one batch."""
    return model.evaluate(x, y, batch_size=None, return_dict=True)


__all__ = [
    "build_model",
    "change_training",
    "make_data",
    "MAXOUT_PIECES",
    "measure",
    "RunData",
    "train_epoch",
    "units_of",
]
