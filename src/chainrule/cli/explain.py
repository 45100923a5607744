"""``chainrule explain [MODEL] [--data ...] [--row N]``: backprop on one example, term by term.

Prints ``chainrule.explain``'s explanation: the forward pass z⁽ˡ⁾, a⁽ˡ⁾, f'(z⁽ˡ⁾), the backward
pass δ⁽ˡ⁾, ∂R/∂W⁽ˡ⁾, ∂R/∂b⁽ˡ⁾ checked against the engine, the optimiser's update and the units
with f'(z) ≈ 0. Without MODEL: a small default network (2-3-2, sigmoid hidden units, softmax
output, SGD) on the built-in xor set. Exit code 1 when the model or data cannot be used.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import numpy as np

from .common import (
    CommandError,
    UsageError,
    _add_data_options,
    _add_model_argument,
    _check_features,
    _data_help,
    _labels_for_model,
    _load_model,
    _model_task,
    _non_negative_int,
    _say,
    _subparser,
    load_data,
)
from .evaluate import _compiled, _recorded_data

if TYPE_CHECKING:  # the layers are imported on use (a fast start for the other commands)
    from ..nn import Sequential

DEFAULT_EXPLAIN_DATA = "xor"


def default_model(features: int, classes: int) -> Sequential:
    """The network explained without MODEL: features → 3 sigmoid units → softmax, SGD(0.1)."""
    from .. import optim
    from ..models import Sequential
    from ..nn import Dense

    model = Sequential(
        [Dense(3, input_dim=features, activation="sigmoid"), Dense(classes, activation="softmax")],
        seed=0,
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optim.SGD(lr=0.1))
    return model


def _model_and_data(args: argparse.Namespace) -> tuple[Any, Any]:
    if args.model is None:
        data = load_data(args.data or DEFAULT_EXPLAIN_DATA, args.target)
        classes = data.num_classes  # None exactly for regression
        if data.task != "classification" or classes is None:
            raise UsageError(
                f"the default network classifies; {data.name} is a {data.task} "
                "dataset (give a MODEL trained on it)"
            )
        _say(
            f"Model: the default network ({data.x.shape[1]}-3-{classes}, sigmoid "
            "hidden units, softmax output, SGD α = 0.1), untrained"
        )
        return default_model(int(data.x.shape[1]), classes), data
    model = _compiled(_load_model(args.model))
    spec, target = (args.data, args.target) if args.data is not None else _recorded_data(model)[:2]
    data = load_data(spec, target)
    _check_features(model, data.x, data.name)
    task = _model_task(model)
    if task != data.task:
        raise UsageError(f"the model does {task}, but {data.name} is a {data.task} dataset")
    _say(f"Model: {args.model} ({model.count_parameters():,} parameters)")
    return model, data


def command_explain(args: argparse.Namespace) -> int:
    """Explain backpropagation on row --row of the data."""
    from ..explain import explain

    model, data = _model_and_data(args)
    if args.row >= len(data.x):
        raise UsageError(
            f"--row {args.row} is out of range: {data.name} has "
            f"{len(data.x)} rows (0..{len(data.x) - 1})"
        )
    x, y = data.x[args.row : args.row + 1], np.asarray(data.y)[args.row : args.row + 1]
    if data.task == "classification" and args.model is not None:
        y = _labels_for_model(model, y, data.classes)
    _say(f"Data: {data.name}, row {args.row}")
    _say()
    try:
        explanation = explain(model, x, y)
    except (TypeError, RuntimeError) as error:
        raise CommandError(f"cannot explain this model: {error}") from None
    _say(str(explanation))
    return 0 if explanation.verified else 1


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``explain`` command to the ``chainrule`` parser."""
    parser = _subparser(
        commands,
        "explain",
        command_explain,
        "backprop on one example, term by term",
        (
            "Run one example through a network's forward and backward pass and print every\n"
            "term in the notation of docs/math.md: z, a, f'(z), δ = f'(z) ⊙ (Wᵀδ),\n"
            "∂R/∂W = δ aᵀ, ∂R/∂b = δ,\n"
            "each checked against the engine's own gradient, the update the optimiser would\n"
            "make, and the units where f'(z) ≈ 0 (they barely learn from the example).\n\n"
            "Without MODEL: a small default network on the built-in xor set. Exit code 1 when\n"
            "the explicit terms disagree with the engine."
        ),
        common,
    )
    _add_model_argument(parser, "a small new network")
    _add_data_options(parser, None, _data_help(f"{DEFAULT_EXPLAIN_DATA}, or MODEL's recorded data"))
    parser.add_argument(
        "--row",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="the row of the data to explain, counted from 0",
    )


__all__ = ["add_parser", "command_explain", "DEFAULT_EXPLAIN_DATA", "default_model"]
