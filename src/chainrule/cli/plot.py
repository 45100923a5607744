"""``chainrule plot``: activation curves, and the training history of a model file."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CommandError, UsageError
from ..serialization import ModelFileError, load_model
from .common import _check_writable, _command_group, _message, _plural, _say, _stem, _subparser


# ====================================================================== plot
def _plot_module() -> Any:
    from .. import plot

    return plot


def _draw(draw: Callable[[], Any], path: Path) -> None:
    """Run a plot function writing to ``path`` (in the format of its suffix); a missing
    matplotlib is a one-line error."""
    try:
        _plot_module().format_for(path)
    except ValueError as error:
        raise UsageError(f"--output: {error}") from None
    _check_writable(path, "plot")
    try:
        draw()
    except ImportError:
        raise CommandError(
            'plotting needs matplotlib, which is not installed: pip install "chainrule[plot]"'
        ) from None


def command_plot_activations(args: argparse.Namespace) -> int:
    """g and g′ (and g″) of some activations, one panel each (PNG, PDF or SVG)."""
    from .. import activations as catalog

    names = [name.strip() for name in args.names.split(",") if name.strip()]
    if not names:
        raise UsageError("give activation names separated by commas, e.g. relu,tanh")
    chosen = []
    for name in names:
        try:
            chosen.append(catalog.get(name))
        except (KeyError, ValueError) as error:
            raise UsageError(_message(error)) from None
    vector = [act.name for act in chosen if not act.elementwise]
    if vector:
        kind = "is a vector activation" if len(vector) == 1 else "are vector activations"
        raise UsageError(
            f"{', '.join(vector)} {kind} "
            "(each output depends on the whole row), with no curve g(z) to draw; "
            "choose elementwise activations"
        )
    path = Path(args.output)
    _draw(lambda: _plot_module().activations(chosen, second=args.second, path=path), path)
    _say(f"Wrote the plot of {', '.join(act.name for act in chosen)} to {path}")
    return 0


def history_plot_path(path: Path) -> Path:
    """The default output of ``plot history FILE``: ``<FILE stem>-history.png``."""
    stem = _stem(path)
    return stem.with_name(stem.name + "-history.png")


def _recorded_history(path: Path) -> Any:
    """The history a checkpoint's training state records, or (for a finished model file)
    the one ``train`` keeps in its metadata; None when the file has neither."""
    from ..serialization import read_training_state

    try:
        state, _ = read_training_state(path)
    except ModelFileError as error:
        if "without training progress" not in str(error):
            raise
        metadata = load_model(path).metadata
        return metadata.get("history") if isinstance(metadata, dict) else None
    return state.get("history") if isinstance(state, dict) else None


def _read_history(path: Path) -> Any:
    """The training history recorded in a model file written by ``train`` or a checkpoint."""
    from types import SimpleNamespace

    if not path.exists():
        raise UsageError(f"no file at {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a model file or checkpoint")
    try:
        recorded = _recorded_history(path)
    except ModelFileError as error:
        raise CommandError(f"cannot read {path}: {error}") from error
    except (OSError, ValueError, KeyError) as error:
        raise CommandError(f"cannot read {path}: {_message(error)}") from error
    if not isinstance(recorded, dict) or not isinstance(recorded.get("history"), dict):
        raise CommandError(
            f"{path} records no training history (model files written by 'train' and its "
            "checkpoints, <output stem>.ckpt.npz, do)"
        )
    records = {str(k): list(np.ravel(v)) for k, v in recorded["history"].items()}
    epochs = [int(e) for e in np.ravel(recorded.get("epoch", []))]
    return SimpleNamespace(history=records, epoch=epochs)


def command_plot_history(args: argparse.Namespace) -> int:
    """The loss and metrics over the epochs of a run (PNG, PDF or SVG)."""
    source = Path(args.file)
    history = _read_history(source)
    if not any(len(values) for values in history.history.values()):
        raise CommandError(f"{source} has no completed epoch to plot")
    path = Path(args.output) if args.output is not None else history_plot_path(source)
    try:
        _draw(lambda: _plot_module().history(history, path=path), path)
    except (TypeError, ValueError) as error:
        raise CommandError(f"cannot plot the history in {source}: {_message(error)}") from error
    _say(f"Wrote the training history ({_plural(len(history.epoch), 'epoch')}) to {path}")
    return 0


def _add_plot(commands: Any, common: argparse.ArgumentParser) -> None:
    kinds = _command_group(
        commands,
        "plot",
        "draw activations or a training history (PNG, PDF, SVG)",
        "Draw a plot to a .png, .pdf or .svg file (needs matplotlib: pip install "
        '"chainrule[plot]").',
        common,
        dest="plot",
        metavar="WHAT",
    )
    acts = _subparser(
        kinds,
        "activations",
        command_plot_activations,
        "g, g′ (and g″) of activations",
        (
            "Plot g and g′ (and g″ with --second) of activations, one panel each.\n"
            "NAMES: comma-separated catalog names (see 'chainrule activations'), e.g. "
            "relu,tanh,gelu.\nVector activations (softmax, maxout) have no curve and are "
            "refused."
        ),
        common,
    )
    acts.add_argument("names", metavar="NAMES", help="activation names separated by commas")
    acts.add_argument(
        "--output",
        "-o",
        default="activations.png",
        metavar="FILE",
        help="the file to write (.png, .pdf or .svg)",
    )
    acts.add_argument("--second", action="store_true", help="also draw g″")
    hist = _subparser(
        kinds,
        "history",
        command_plot_history,
        "loss and metrics over the epochs",
        (
            "Plot the loss and metrics (training and validation) over the epochs of a run.\n"
            "FILE is a model file written by 'train' (it keeps its history) or a training\n"
            "checkpoint, <output stem>.ckpt.npz, which 'train' keeps while it runs."
        ),
        common,
    )
    hist.add_argument(
        "file", metavar="FILE", help="a model file written by 'train', or a checkpoint (.ckpt.npz)"
    )
    hist.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="OUT",
        help="the file to write, .png, .pdf or .svg (default: "
        "<FILE stem>-history.png)%(default).0s",
    )


__all__ = ["command_plot_activations", "command_plot_history", "history_plot_path"]
