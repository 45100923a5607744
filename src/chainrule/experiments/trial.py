"""One trial: train the network a configuration describes, for a budget of epochs.

``run_trial(config, epochs, checkpoint)`` is a pure function of its arguments, so any process
on any machine can run it: the data is built from the configuration (a built-in dataset, split
and scaled with a fixed seed), the network and its shuffling from ``config["seed"]``, and a
trial that continues (a promoted trial of successive halving) gets the previous run's
checkpoint as bytes and returns the new one as bytes — no shared filesystem is assumed.
Continuing goes through ``fit(checkpoint=..., resume=True)``, which ends bit-identical to an
uninterrupted run of the same configuration.

A configuration's keys (missing ones take ``TRIAL_DEFAULTS``):

- ``data`` (a built-in dataset name), ``samples`` (rows drawn for the generated 2-D sets),
  ``validation`` (the held-out fraction the score is measured on), ``split_seed``;
- ``depth`` (hidden layers) and ``width`` (units in each), ``activation``, ``dropout``
  (the rate after each hidden activation; 0: none), ``l2`` (λ of (λ/2)‖W‖² on every kernel);
- ``optimizer``, ``lr``, ``beta`` (momentum's β, or Adam's β₁, when given), ``batch_size``;
- ``seed``: the initial weights, the dropout masks and the shuffling.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import datasets, losses, optim
from ..callbacks import TerminateOnNaN
from ..models import Sequential
from ..nn import Activation, Dense, Dropout

TRIAL_DEFAULTS: dict[str, Any] = {
    "data": "moons",
    "samples": 400,
    "validation": 0.25,
    "split_seed": 0,
    "depth": 2,
    "width": 16,
    "activation": "relu",
    "dropout": 0.0,
    "l2": 0.0,
    "optimizer": "adam",
    "lr": 0.01,
    "batch_size": 32,
    "seed": 0,
}
# Generated data sets take a row count; the built-in digits do not.
_GENERATED = ("xor", "circles", "moons", "spirals", "gaussians", "regression1d")
# The options of optim.get that a configuration's "beta" sets, by optimiser: momentum's β, Adam's
# β₁ (β₂ kept at its default), RMSprop's decay α.
_BETA_OPTIONS = {
    "sgd": lambda beta: {"momentum": beta},
    "momentum": lambda beta: {"momentum": beta},
    "nesterov": lambda beta: {"momentum": beta},
    "adam": lambda beta: {"betas": (beta, 0.999)},
    "adamw": lambda beta: {"betas": (beta, 0.999)},
    "rmsprop": lambda beta: {"alpha": beta},
}


@dataclass
class TrialResult:
    """What a trial sends back: the whole per-epoch history (``history[key][epoch]``, with the
    ``health/...`` figures), the checkpoint to continue from, and what happened."""

    epochs_done: int
    history: dict[str, list[float]]
    checkpoint: bytes
    seconds: float
    task: str
    warnings: list[str] = field(default_factory=list)

    def value(self, key: str, epoch: int | None = None) -> float:
        """``key`` at ``epoch`` (0-based; default the last one); NaN when it was not logged."""
        values = self.history.get(key, [])
        index = len(values) - 1 if epoch is None else epoch
        return float(values[index]) if 0 <= index < len(values) else float("nan")


def full_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with the defaults filled in; unknown keys are an error."""
    unknown = sorted(set(config) - set(TRIAL_DEFAULTS) - {"beta"})
    if unknown:
        raise ValueError(
            f"unknown trial settings {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(sorted([*TRIAL_DEFAULTS, 'beta']))}"
        )
    return {**TRIAL_DEFAULTS, **config}


@functools.lru_cache(maxsize=8)
def _split_data(
    name: str, samples: int, validation: float, split_seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    options = {"n": samples, "seed": split_seed} if name in _GENERATED else {}
    data = datasets.load(name, **options)
    x_train, x_val, y_train, y_val = datasets.train_test_split(
        data.x, data.y, test_size=validation, seed=split_seed
    )
    return x_train, x_val, y_train, y_val, data.task


def build_network(config: Mapping[str, Any], features: int, outputs: int) -> Sequential:
    """``depth`` × (Dense(width) → activation [→ Dropout]) → Dense(outputs), seeded."""
    penalty = config["l2"] or None
    layers: list[Any] = []
    for index in range(int(config["depth"])):
        layers.append(Dense(int(config["width"]), kernel_regularizer=penalty))
        layers.append(Activation(config["activation"]))
        if config["dropout"]:
            layers.append(Dropout(float(config["dropout"]), seed=int(config["seed"]) + index))
    layers.append(Dense(outputs, kernel_regularizer=penalty))
    return Sequential(layers, seed=int(config["seed"]), input_shape=(features,), name="mlp")


def _optimizer(config: Mapping[str, Any]) -> optim.Optimizer:
    options: dict[str, Any] = {"lr": float(config["lr"])}
    if config.get("beta") is not None:
        beta_options = _BETA_OPTIONS.get(config["optimizer"])
        if beta_options is None:
            raise ValueError(f"the optimizer {config['optimizer']!r} has no β to set")
        options.update(beta_options(float(config["beta"])))
    return optim.get(config["optimizer"], **options)


def run_trial(
    config: Mapping[str, Any], epochs: int, checkpoint: bytes | None = None
) -> TrialResult:
    """Train ``config``'s network until it has done ``epochs`` epochs in all, continuing from
    ``checkpoint`` (the bytes a previous ``run_trial`` returned) when given."""
    started = time.perf_counter()
    config = full_config(config)
    x_train, x_val, y_train, y_val, task = _split_data(
        config["data"],
        int(config["samples"]),
        float(config["validation"]),
        int(config["split_seed"]),
    )
    classes = int(y_train.max()) + 1 if task == "classification" else 1
    model = build_network(config, x_train.shape[1], classes)
    model.preprocessing = datasets.Standardizer().fit(x_train)
    if task == "classification":
        loss = losses.get("sparse_categorical_crossentropy", from_logits=True)
        model.compile(loss=loss, optimizer=_optimizer(config), metrics=["accuracy"])
    else:
        model.compile(loss="mse", optimizer=_optimizer(config))
    with tempfile.TemporaryDirectory(prefix="chainrule-trial-") as directory:
        path = os.path.join(directory, "trial.ckpt.npz")
        if checkpoint is not None:
            with open(path, "wb") as handle:
                handle.write(checkpoint)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(
                x_train,
                y_train,
                epochs=epochs,
                batch_size=int(config["batch_size"]),
                validation_data=(x_val, y_val),
                verbose=0,
                seed=int(config["seed"]),
                checkpoint=path,
                resume=True,
                callbacks=[TerminateOnNaN()],
            )
        with open(path, "rb") as handle:
            state = handle.read()
    return TrialResult(
        epochs_done=len(history.epoch),
        history=history.to_dict(),
        checkpoint=state,
        seconds=time.perf_counter() - started,
        task=task,
        warnings=sorted({str(w.message) for w in caught}),
    )


__all__ = ["TRIAL_DEFAULTS", "TrialResult", "build_network", "full_config", "run_trial"]
