"""``chainrule info``: describe a model file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..nn import Activation
from ..nn.signals import Pairing, pairings
from .common import _add_model_argument, _load_model, _say, _subparser, _table


# ====================================================================== info
def _activation_after(pairing: Pairing, last: bool) -> str:
    """The activation a Dense layer's units go through (``chainrule.nn.signals.pairings``)."""
    layer, owner = pairing.dense, pairing.owner
    if owner is layer and pairing.activation is not None:
        return f"{pairing.activation.name} (its own)"
    if isinstance(owner, Activation):
        width = _width_after(owner, layer.units)
        passes = "" if width == layer.units else f", passing on {width}"
        return f"{owner.activation.name} (layer {owner.name}{passes})"
    return "none (linear outputs)" if last else "none"


def _width_after(activation: Activation, units: int) -> int:
    """The width an activation layer passes on from ``units`` inputs (maxout: fewer)."""
    return int(activation.output_shape((units,))[-1])


def _preprocessing_lines(preprocessing: Any) -> list[str]:
    """What the model does to raw inputs first (the Standardizer's statistics)."""
    if preprocessing is None:
        return ["Preprocessing: none (the model reads the inputs as they are)"]
    state = preprocessing.state()
    lines = [
        f"Preprocessing: {type(preprocessing).__name__} (applied to raw inputs by "
        "evaluate and predict)"
    ]
    if "names" in state:  # the playground's FeatureMap
        lines.append(f"  features of the raw inputs: {', '.join(state['names'])}")
    for key in ("mean", "std", "scale"):
        if key in state:
            values = np.asarray(state[key], dtype=np.float64)
            lines.append(
                f"  {key}: {values.size} values in [{values.min():.4g}, {values.max():.4g}]"
            )
    return lines


def _shown(value: Any) -> str:
    """A metadata value on one line: floats to 4 significant digits, long lists shortened."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_shown(item)}" for key, item in value.items())
    if isinstance(value, list):
        items = [_shown(item) for item in value[:8]]
        more = f", … ({len(value)} in all)" if len(value) > 8 else ""
        return "[" + ", ".join(items) + more + "]"
    return str(value)


def _metadata_lines(meta: dict[str, Any]) -> list[str]:
    """The model file's metadata, one key per line."""
    if not meta:
        return ["Metadata: none"]
    return ["Metadata:", *(f"  {key}: {_shown(value)}" for key, value in meta.items())]


def _activation_table(model: Any) -> str | None:
    """Each Dense layer with the activation applied to its outputs."""
    rows = [("Layer", "Units", "Activation after it")]
    rows += [
        (
            pairing.dense.name or "?",
            str(pairing.dense.units),
            _activation_after(pairing, pairing.dense is model.layers[-1]),
        )
        for pairing in pairings(model.layers)
    ]
    return _table(rows, right=(1,)) if len(rows) > 1 else None


def _training_line(model: Any) -> str | None:
    """The loss and optimiser the model was compiled with."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    detail = " (from logits)" if getattr(loss, "from_logits", False) else ""
    optimizer = getattr(model, "optimizer", None)
    chosen = (
        "" if optimizer is None else f"; optimizer {optimizer.name}, lr {optimizer.initial_lr:g}"
    )
    return f"Loss: {loss.name}{detail}{chosen}"


def command_info(args: argparse.Namespace) -> int:
    """Describe a model file: layers, activations, training data, preprocessing."""
    model = _load_model(args.model)
    path = Path(args.model)
    _say(f"Model file: {path} ({path.stat().st_size:,} bytes)")
    _say()
    model.summary(print_fn=_say)
    _say()
    table, training = _activation_table(model), _training_line(model)
    if table is not None:
        _say(table + "\n")
    if training is not None:
        _say(training)
    for line in _preprocessing_lines(getattr(model, "preprocessing", None)):
        _say(line)
    _say()
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    for line in _metadata_lines(meta):
        _say(line)
    return 0


def _add_info(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "info",
        command_info,
        "describe a model file",
        "Describe a model file: its layers, shapes and parameters, the activation "
        "of each layer,\nthe data it was trained on, and its preprocessing.",
        common,
    )
    _add_model_argument(parser)


__all__ = ["command_info"]
