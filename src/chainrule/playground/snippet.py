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

from .datasets import DATASETS, OWN, class_count, is_regression
from .features import FEATURES
from .messages import Setup
from .network import dropout_seed, output_units, units_of

_HEADER = '''"""Reproduces a chainrule playground run: {dataset}, {epochs} epochs.

Run it with: python {filename}
"""

import numpy as np

import chainrule as cr
from chainrule.datasets import train_test_split
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense, Dropout
from chainrule.datasets.features import FeatureMap
{generator_import}

SEED = {seed}
EPOCHS = {epochs}

{data_line}
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

_EPOCHS = """for epoch in range({epoch_range}):
    model.fit(x_train, y_train, epochs=1, batch_size={batch_size}, seed=SEED + epoch, verbose=0,
              health=False)
"""

_CHANGE = """# Epoch {epoch}: the page changed the training settings and kept the weights.
model.optimizer.lr = {learning_rate!r}
penalty = {penalty}
for layer in model.layers:
    if isinstance(layer, Dense):
        layer.kernel_regularizer = penalty
{compile}"""

_END = """print("test:", model.evaluate(x_test, y_test, batch_size=None, return_dict=True))
print(model.health(x_train))
# The saved file takes the raw (x1, x2): predict computes the features itself.
model.preprocessing = FeatureMap({names!r})
model.save("playground-model.npz")
"""

FILENAME = "playground_run.py"


def _penalty(setup: Setup) -> str:
    if setup.regularization == "none":
        return "None"
    return f"cr.losses.{setup.regularization.upper()}({setup.lam!r})"


#: the file name the snippet reads an uploaded CSV from (put the CSV beside the snippet)
OWN_FILENAME = "playground-data.csv"


def _layers(setup: Setup, classes: int) -> str:
    lines = []
    width = f", input_dim={len(setup.features)}"
    for index, spec in enumerate(setup.layers):
        units = units_of(spec.units, spec.activation)
        note = f"  # {spec.units} units × 2 pieces" if spec.activation == "maxout" else ""
        dropout = (
            f" Dropout({spec.dropout!r}, seed=SEED + {dropout_seed(0, index)}),"
            if spec.dropout > 0
            else ""
        )
        lines.append(
            f"    Dense({units}{width}, kernel_regularizer=penalty), "
            f"Activation({spec.activation!r}),{dropout}{note}"
        )
        width = ""
    lines.append(f"    Dense({output_units(classes)}{width}, kernel_regularizer=penalty),")
    return "\n".join(lines)


def _compile(setup: Setup, optimizer: str, classes: int) -> str:
    if is_regression(setup.dataset):
        return f'model.compile(loss="mse", optimizer={optimizer})\n'
    if classes > 2:
        return (
            'model.compile(loss=cr.losses.get("sparse_categorical_crossentropy", '
            "from_logits=True),\n"
            f'              optimizer={optimizer}, metrics=["accuracy"])\n'
        )
    return (
        'model.compile(loss=cr.losses.get("binary_crossentropy", from_logits=True),\n'
        f'              optimizer={optimizer}, metrics=["accuracy"])\n'
    )


def _training(changes: Sequence[tuple[int, Setup]], epochs: int, classes: int) -> str:
    """One fit per epoch, each setup for its stretch of epochs; the settings changed between."""
    parts = ["# One fit per epoch, shuffled with SEED + epoch, as the page trains:\n"]
    for index, (first, setup) in enumerate(changes):
        final = index == len(changes) - 1
        if index > 0:
            parts.append(
                _CHANGE.format(
                    epoch=first,
                    learning_rate=setup.learning_rate,
                    penalty=_penalty(setup),
                    compile=_compile(setup, "model.optimizer", classes),
                )
            )
        last = "EPOCHS" if final else str(changes[index + 1][0])
        epoch_range = f"{first}, {last}" if first else last
        if final or changes[index + 1][0] > first:
            parts.append(_EPOCHS.format(epoch_range=epoch_range, batch_size=setup.batch_size))
    return "".join(parts)


def snippet(
    changes: Setup | Sequence[tuple[int, Setup]], epochs: int, classes: int | None = None
) -> str:
    """Python source that rebuilds a run and trains it for ``epochs`` epochs.

    ``changes`` is the run's setup, or (first epoch, setup) for every setup it trained with
    (``Session.changes``: the later ones differ in ``TRAINING_SETTINGS`` only); ``classes`` is
    the data's (needed for an uploaded CSV, whose data set is ``OWN``)."""
    if isinstance(changes, Setup):
        changes = [(0, changes)]
    setup = changes[0][1]
    if setup.dataset == OWN:
        generator_import = "from chainrule.datasets import load_csv"
        data_line = (
            f"# The CSV uploaded to the page: put it beside this file as "
            f"{OWN_FILENAME}.\ndata = load_csv({OWN_FILENAME!r}, target=-1)"
        )
    else:
        generator_import = DATASETS[setup.dataset].imports
        data_line = f"data = generate(n={setup.samples}, noise={setup.noise!r}, seed=SEED)"
    classes = class_count(setup.dataset) if classes is None else classes
    header = _HEADER.format(
        dataset=setup.dataset,
        epochs=epochs,
        filename=FILENAME,
        generator_import=generator_import,
        seed=setup.seed,
        data_line=data_line,
        test_size=round(1.0 - setup.train_ratio, 6),
    )
    chosen = [FEATURES[name] for name in setup.features]
    body = _FEATURES.format(
        labels=", ".join(feature.label for feature in chosen),
        columns="\n".join(f"        {feature.expression}," for feature in chosen),
        penalty=_penalty(setup),
        layers=_layers(setup, classes),
    )
    optimizer = f"cr.optim.get({setup.optimizer!r}, lr={setup.learning_rate!r})"
    targets = (
        ""
        if classes != 2
        else "y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)  # one logit\n"
    )
    return (
        header
        + body
        + targets
        + _compile(setup, optimizer, classes)
        + _training(changes, epochs, classes)
        + _END.format(names=list(setup.features))
    )


__all__ = ["FILENAME", "snippet"]
