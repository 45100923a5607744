"""The Python snippet the page exports: the same data, network and epochs, with chainrule alone.

It makes the calls ``network`` makes (one ``fit`` per epoch, shuffled with seed + epoch), so
running it ends with the weights the page showed. Every value in it comes from a checked
``Setup`` (names from fixed tables, numbers written with ``repr``), never from raw input.

>>> from chainrule.playground.messages import Setup
>>> "Activation('tanh')" in snippet(Setup(), epochs=5)
True
"""

from __future__ import annotations

from collections.abc import Sequence

from .datasets import DATASETS, is_regression
from .features import FEATURES
from .messages import Setup
from .network import units_of

_HEADER = '''"""Reproduces a chainrule playground run: {dataset}, {epochs} epochs.

Run it with: python {filename}
"""

import numpy as np

import chainrule as cr
from chainrule.datasets import train_test_split
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense
{generator_import}

SEED = {seed}
EPOCHS = {epochs}

data = generate(n={samples}, noise={noise!r}, seed=SEED)
points_train, points_test, y_train, y_test = train_test_split(
    data.x, data.y, test_size={test_size!r}, seed=SEED)
'''

_FEATURES = '''

def features(x):
    """The input features chosen on the page: {labels}."""
    return np.stack([
{columns}
    ], axis=1).astype(np.float32)


x_train, x_test = features(points_train), features(points_test)
penalty = {penalty}
model = Sequential([
{layers}
], seed=SEED)
'''

_EPOCHS = '''for epoch in range({epoch_range}):
    model.fit(x_train, y_train, epochs=1, batch_size={batch_size}, seed=SEED + epoch, verbose=0,
              health=False)
'''

_CHANGE = '''# Epoch {epoch}: the page changed the training settings and kept the weights.
model.optimizer.lr = {learning_rate!r}
penalty = {penalty}
for layer in model.layers:
    if isinstance(layer, Dense):
        layer.kernel_regularizer = penalty
{compile}'''

_END = '''print("test:", model.evaluate(x_test, y_test, batch_size=None, return_dict=True))
print(model.health(x_train))
model.save("playground-model.npz")
'''

FILENAME = "playground_run.py"


def _penalty(setup: Setup) -> str:
    if setup.regularization == "none":
        return "None"
    return f"cr.losses.{setup.regularization.upper()}({setup.lam!r})"


def _layers(setup: Setup) -> str:
    lines = []
    width = f", input_dim={len(setup.features)}"
    for spec in setup.layers:
        units = units_of(spec.units, spec.activation)
        note = f"  # {spec.units} units × 2 pieces" if spec.activation == "maxout" else ""
        lines.append(f"    Dense({units}{width}, kernel_regularizer=penalty), "
                     f"Activation({spec.activation!r}),{note}")
        width = ""
    lines.append(f"    Dense(1{width}, kernel_regularizer=penalty),")
    return "\n".join(lines)


def _compile(setup: Setup, optimizer: str) -> str:
    if is_regression(setup.dataset):
        return f'model.compile(loss="mse", optimizer={optimizer})\n'
    return ('model.compile(loss=cr.losses.get("binary_crossentropy", from_logits=True),\n'
            f'              optimizer={optimizer}, metrics=["accuracy"])\n')


def _training(changes: Sequence[tuple[int, Setup]], epochs: int) -> str:
    """One fit per epoch, each setup for its stretch of epochs; the settings changed between."""
    parts = ["# One fit per epoch, shuffled with SEED + epoch, as the page trains:\n"]
    for index, (first, setup) in enumerate(changes):
        final = index == len(changes) - 1
        if index > 0:
            parts.append(_CHANGE.format(epoch=first, learning_rate=setup.learning_rate,
                                        penalty=_penalty(setup),
                                        compile=_compile(setup, "model.optimizer")))
        last = "EPOCHS" if final else str(changes[index + 1][0])
        epoch_range = f"{first}, {last}" if first else last
        if final or changes[index + 1][0] > first:
            parts.append(_EPOCHS.format(epoch_range=epoch_range, batch_size=setup.batch_size))
    return "".join(parts)


def snippet(changes: Setup | Sequence[tuple[int, Setup]], epochs: int) -> str:
    """Python source that rebuilds a run and trains it for ``epochs`` epochs.

    ``changes`` is the run's setup, or (first epoch, setup) for every setup it trained with
    (``Session.changes``: the later ones differ in ``TRAINING_SETTINGS`` only)."""
    if isinstance(changes, Setup):
        changes = [(0, changes)]
    setup = changes[0][1]
    _, generator_import = DATASETS[setup.dataset]
    header = _HEADER.format(
        dataset=setup.dataset, epochs=epochs, filename=FILENAME,
        generator_import=generator_import, seed=setup.seed, samples=setup.samples,
        noise=setup.noise, test_size=round(1.0 - setup.train_ratio, 6))
    chosen = [FEATURES[name] for name in setup.features]
    body = _FEATURES.format(
        labels=", ".join(feature.label for feature in chosen),
        columns="\n".join(f"        {feature.expression}," for feature in chosen),
        penalty=_penalty(setup), layers=_layers(setup))
    optimizer = f"cr.optim.get({setup.optimizer!r}, lr={setup.learning_rate!r})"
    targets = ("" if is_regression(setup.dataset) else
               "y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)  # one logit\n")
    return (header + body + targets + _compile(setup, optimizer) + _training(changes, epochs)
            + _END)


__all__ = ["FILENAME", "snippet"]
