"""The ``chainrule`` command: train, evaluate, predict, info, datasets, activations,
gradcheck, plot, playground, export.

``chainrule train`` with no arguments trains an MLP on the built-in digits (a stratified, seeded
80/20 split, inputs standardised on the training rows) and writes ``chainrule-model.npz``;
``chainrule evaluate chainrule-model.npz`` reproduces its test accuracy from the file alone.
Every subcommand has ``--help``.

Exit codes: 0 success; 2 usage and bad input (a bad option, an unknown name, a missing file, a
wrong --target, an output that would overwrite an input); 1 a failure while running (data or a
model file that cannot be used, a diverging run); 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM), both keeping the training checkpoint. Errors are one line on stderr,
``chainrule: error: ...``; ``--debug`` adds the traceback. A reader that closes the pipe
(``| head``) only silences the output: the work (and its files) is finished.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import __version__, activations, bias_variance, datasets, diagnostics, losses, optim
from ._tensor import Tensor
from .atomic import write_bytes_atomically
from .callbacks import Callback, EarlyStopping
from .data_path import FLOAT64_ADVICE, match_columns
from .dtypes import default_dtype
from .errors import CommandError, DataError, UsageError
from .metrics import confusion_matrix
from .models import Sequential
from .nn import Activation, Dense
from .nn.signals import Pairing, pairings
from .serialization import ModelFileError, load_model
from .training import TrainingInterrupted

PROG = "chainrule"
DEFAULT_OUTPUT = "chainrule-model.npz"
DEFAULT_DATA = "digits"
DEFAULT_LR = 0.001
INTERRUPTED = 130  # the shell's code for a process ended by SIGINT
VALIDATION_SPLIT = 0.1
Z_TABLE = (-3.0, -1.0, 0.0, 1.0, 3.0)


# ====================================================================== small helpers
def _out() -> TextIO:
    return sys.stdout


def _say(text: str = "") -> None:
    print(text, file=_out(), flush=True)


def _note(text: str) -> None:
    """A remark that is not the command's result: on stderr."""
    print(text, file=sys.stderr, flush=True)


def _table(rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Rows of cells as aligned columns, a rule under the first row (the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("─" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def _terminal_width() -> int:
    """The terminal's width in characters ($COLUMNS first; 80 when it cannot be told)."""
    return shutil.get_terminal_size((80, 24)).columns


def _fit_columns(rows: Sequence[Sequence[str]], width: int
                 ) -> tuple[list[list[str]], list[str]]:
    """(rows, dropped headers): the rightmost columns dropped until the table fits ``width``
    (the first column is kept); cells still too wide are cut, ending in "…"."""
    rows = [list(row) for row in rows]
    dropped: list[str] = []

    def table_width(table: list[list[str]]) -> int:
        return sum(max(len(row[i]) for row in table) for i in range(len(table[0]))) + \
            2 * (len(table[0]) - 1)

    while len(rows[0]) > 2 and table_width(rows) > width:
        dropped.insert(0, rows[0][-1])
        rows = [row[:-1] for row in rows]
    excess = table_width(rows) - width
    if excess > 0:  # cut the widest column's long cells
        column = max(range(len(rows[0])), key=lambda i: max(len(row[i]) for row in rows))
        limit = max(1, max(len(row[column]) for row in rows) - excess)
        for row in rows:
            if len(row[column]) > limit:
                row[column] = row[column][:limit - 1] + "…"
    return rows, dropped


def _yes_no(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _plural(count: int, word: str) -> str:
    ending = "" if count == 1 else ("es" if word.endswith("s") else "s")
    return f"{count:,} {word}{ending}"


# ====================================================================== argument types
def _parsed(text: str, convert: Callable[[str], Any], accept: Callable[[Any], bool],
            expected: str) -> Any:
    """``convert(text)`` if it works and ``accept``s the value, else argparse's usage error."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _parsed(text, int, lambda v: v >= 1, "a positive whole number")


def _non_negative_int(text: str) -> int:
    return _parsed(text, int, lambda v: v >= 0, "a whole number ≥ 0")


def _positive_float(text: str) -> float:
    return _parsed(text, float, lambda v: math.isfinite(v) and v > 0, "a positive finite number")


def _non_negative_float(text: str) -> float:
    return _parsed(text, float, lambda v: math.isfinite(v) and v >= 0, "a finite number ≥ 0")


def _fraction(text: str) -> float:
    return _parsed(text, float, lambda v: 0.0 < v < 1.0, "a number between 0 and 1")


def _error_rate(text: str) -> float:
    return _parsed(text, float, lambda v: 0.0 <= v < 1.0, "an error from 0 to 1 (0.05 is 5%)")


def _layer_sizes(text: str) -> tuple[int, ...]:
    """"64,64" → (64, 64); "" or "none" → () (no hidden layer: a linear model)."""
    if text.strip().lower() in ("", "none"):
        return ()
    sizes = []
    for part in text.split(","):
        try:
            size = int(part.strip())
        except ValueError:
            size = 0
        if size < 1:
            raise argparse.ArgumentTypeError(
                f"--layers takes hidden-layer widths separated by commas, e.g. 64,64; "
                f"{part.strip()!r} in {text!r} is not a positive whole number"
            )
        sizes.append(size)
    return tuple(sizes)


def _activation_name(text: str) -> str:
    try:
        return activations.get(text).name
    except (KeyError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _takes_learning_rate(optimizer: Any) -> bool:
    """Whether an optimiser steps on mini-batches with a learning rate (the ones ``train``
    drives); lbfgs and cg minimise the full-batch loss with scipy and have no lr."""
    from .naming import accepted_parameters

    return "lr" in accepted_parameters(type(optimizer))


def train_optimizers() -> list[str]:
    """The optimiser names ``train --optimizer`` accepts."""
    return [name for name in optim.names() if _takes_learning_rate(optim.get(name))]


def _optimizer_name(text: str) -> str:
    try:
        optimizer = optim.get(text)
    except (KeyError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not _takes_learning_rate(optimizer):
        raise argparse.ArgumentTypeError(
            f"{optimizer.name} minimises the full-batch loss without a learning rate, which "
            f"'train' does not drive (use it from Python); choose one of: "
            f"{', '.join(train_optimizers())}")
    return text.lower()


# ====================================================================== files
def _check_writable(path: Path, what: str = "output") -> None:
    """Fail now (before any work) if ``path`` cannot be written; touches nothing there."""
    if path.is_dir():
        raise CommandError(f"the {what} {path} is a directory; give a file name")
    directory = path.parent
    if not directory.exists():
        raise CommandError(f"cannot write the {what} {path}: the directory {directory} does "
                           "not exist")
    if not directory.is_dir():
        raise CommandError(f"cannot write the {what} {path}: {directory} is not a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise CommandError(f"cannot write the {what} {path}: the file exists and is read-only")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe",
                                         dir=directory)
    except OSError as error:
        raise CommandError(f"cannot write the {what} {path}: cannot create files in "
                           f"{directory} ({error.strerror or error})") from None
    os.close(handle)
    os.remove(probe)


def _same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file (after symlinks; hard links too when both exist)."""
    if first.resolve() == second.resolve():
        return True
    with contextlib.suppress(OSError):
        return first.exists() and second.exists() and os.path.samefile(first, second)
    return False


def _refuse_overwriting(output: Path, option: str, inputs: dict[str, str]) -> None:
    """A usage error when ``output`` is one of the ``inputs`` (their option names → paths)."""
    for name, spec in inputs.items():
        if spec is not None and _same_file(output, Path(spec)):
            raise UsageError(f"{option} {output} is the {name}; writing it would destroy the "
                             "input: choose another output file")


def _stem(output: Path) -> Path:
    """The output path without its ``.npz`` extension."""
    return output.with_suffix("") if output.suffix.lower() == ".npz" else output


def checkpoint_path(output: Path) -> Path:
    """Where ``train`` keeps its checkpoint while training: ``<output stem>.ckpt.npz``."""
    stem = _stem(output)
    return stem.with_name(stem.name + ".ckpt.npz")


def curves_path(output: Path) -> Path:
    """Where ``train`` draws its training curves: ``<output stem>-curves.png``."""
    stem = _stem(output)
    return stem.with_name(stem.name + "-curves.png")


def _load_model(path: str) -> Any:
    """The model at ``path``; a missing or unreadable file is a one-line error."""
    if not Path(path).exists():
        raise UsageError(f"no model file at {path}")
    if Path(path).is_dir():
        raise UsageError(f"{path} is a directory, not a model file")
    try:
        return load_model(path)
    except ModelFileError as error:
        raise CommandError(f"cannot load the model: {error}") from error


# ====================================================================== data
def _names_builtin(spec: str) -> bool:
    """Whether ``spec`` is read as a dataset name rather than a path (datasets.load's rule)."""
    return not ("/" in spec or os.sep in spec or Path(spec).suffix or Path(spec).exists())


def load_data(spec: str, target: str | None = None, task: str | None = None,
              dtype: str = "float32", model_task: str | None = None) -> datasets.Dataset:
    """A built-in dataset by name, or a data file (CSV with a header row, .npz with x and y)
    read for ``task`` (None: guessed from its targets, ``chainrule.data_path``'s rules) in
    ``dtype``; targets whose task is ambiguous are read for ``model_task`` when given (the
    task of the model the data is for)."""
    if target is not None and _names_builtin(spec):
        raise UsageError(f"--target names a column of a data file; the built-in dataset "
                         f"{spec!r} has its own targets")
    if Path(spec).suffix.lower() == ".npz" and _npz_without_rows(Path(spec)):
        raise CommandError(f"the data in {spec} has no rows")
    try:
        reading = {}  # built-in sets and IDX images (bytes, class labels) need no choice
        with contextlib.suppress(ValueError):  # an unknown format: datasets.load says so
            if not _names_builtin(spec) and datasets.file_format(spec) in ("csv", "tsv",
                                                                           "npz"):
                reading = {"task": task, "dtype": dtype}
        data = datasets.load(spec, target=target, **reading)
    except datasets.UnknownDatasetError as error:
        raise UsageError(_message(error)) from None
    except FileNotFoundError:
        raise UsageError(f"no data file at {spec}") from None
    except IsADirectoryError:
        raise UsageError(f"{spec} is a directory, not a data file") from None
    except IndexError as error:  # --target N beyond the last column
        raise UsageError(f"--target: {_message(error)}") from None
    except DataError as error:  # bad input: an ambiguous task (say --task)
        if model_task is not None and task is None:
            return load_data(spec, target, model_task, dtype)
        raise UsageError(_message(error)) from None
    except (ValueError, TypeError, KeyError, OSError) as error:
        if target is not None and _names_a_missing_column(error):
            raise UsageError(f"--target: {_message(error)}") from None
        raise CommandError(f"cannot use the data: {_message(error)}") from error
    if len(data) == 0:
        raise CommandError(f"the data in {spec} has no rows")
    return data


def _names_a_missing_column(error: BaseException) -> bool:
    """Whether a data error says the target column (CSV) or array (.npz) is not there."""
    return isinstance(error, ValueError) and any(
        words in str(error) for words in ("has no column", "has no array"))


def _npz_without_rows(path: Path) -> bool:
    """True for an .npz data file whose 'x' has no rows (datasets.load fails unclearly)."""
    with contextlib.suppress(Exception), np.load(path, allow_pickle=False) as archive:
        return "x" in archive.files and archive["x"].shape[:1] == (0,)
    return False


def _message(error: BaseException) -> str:
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    return text or type(error).__name__


@dataclass
class Split:
    """The rows of a dataset used for training and for testing."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def split_data(data: Any, test_size: float, seed: int) -> Split:
    """The seeded (stratified for classification) train/test split that ``train`` uses."""
    stratify = data.task == "classification"
    try:
        x_train, x_test, y_train, y_test = datasets.train_test_split(
            data.x, data.y, test_size=test_size, stratify=stratify, seed=seed)
    except ValueError as error:
        raise CommandError(f"cannot split {data.name} into training and test rows: {error}"
                           ) from error
    return Split(np.asarray(x_train), np.asarray(y_train), np.asarray(x_test),
                 np.asarray(y_test))


def _feature_count(model: Any) -> int | None:
    """The columns of a raw input row (a preprocessing that makes features says how many)."""
    raw_width = getattr(getattr(model, "preprocessing", None), "raw_width", None)
    if raw_width is not None:
        return int(raw_width)
    shape = getattr(model, "input_shape", None)
    return None if not shape else int(shape[-1])


def _check_features(model: Any, x: np.ndarray, source: str) -> None:
    expected = _feature_count(model)
    if expected is not None and x.shape[1] != expected:
        raise CommandError(f"the model expects {_plural(expected, 'feature')} per row, but "
                           f"{source} has {_plural(x.shape[1], 'feature')} (columns)")


def _trained_task(model: Any) -> str | None:
    """The --task that ``train`` was given (None: it guessed), to read its data again."""
    options = model.metadata.get("options") if isinstance(model.metadata, dict) else None
    task = options.get("task") if isinstance(options, dict) else None
    return task if task in ("classification", "regression") else None


def _model_dtype(model: Any) -> str:
    """The float type of a saved model's parameters, in which its data is read."""
    parameters = model.parameters()
    return parameters[0].dtype.name if parameters else "float32"


def _model_classes(model: Any) -> list[str] | None:
    classes = model.metadata.get("classes") if isinstance(model.metadata, dict) else None
    return None if classes is None else [str(c) for c in classes]


def _model_task(model: Any) -> str:
    task = model.metadata.get("task") if isinstance(model.metadata, dict) else None
    if task in ("classification", "regression"):
        return task
    loss = getattr(model.loss, "name", "")
    return "classification" if "crossentropy" in loss or loss == "nll" else "regression"


def _labels_for_model(model: Any, y: np.ndarray, data_classes: list[str] | None
                      ) -> np.ndarray:
    """Labels ``y`` of data with ``data_classes`` as the model's class indices (matched by
    class name when both have names); a class the model does not have is an error."""
    classes = _model_classes(model)
    y = np.asarray(y)
    if data_classes is not None and classes is not None:
        position = {name: index for index, name in enumerate(classes)}
        mapped = np.array([position.get(name, -1) for name in data_classes], np.int64)[y]
        if np.any(mapped < 0):
            row = int(np.argmax(mapped < 0))
            raise CommandError(f"row {row} of the data has the class {data_classes[y[row]]!r}, "
                               f"which the model does not know; its classes are: "
                               f"{', '.join(classes)}")
        return mapped
    if data_classes is not None and classes is None and all(
            name.isdigit() for name in data_classes):  # a model of labels as indices 0..max
        y = np.array([int(name) for name in data_classes], np.int64)[y]
    count = len(classes) if classes is not None else _output_count(model)
    if count is not None and y.size and int(y.max()) >= count:
        row = int(np.argmax(y >= count))
        raise CommandError(f"label {int(y[row])} in row {row} is out of range: the model has "
                           f"{_plural(count, 'class')} (labels 0..{count - 1})")
    return y


def _output_count(model: Any) -> int | None:
    shapes = model.output_shapes() if hasattr(model, "output_shapes") else []
    return int(shapes[-1][-1]) if shapes and shapes[-1] else None


# ====================================================================== train
@dataclass(frozen=True)
class TrainOptions:
    """The options of one ``train`` run (recorded in the model file's metadata)."""

    data: str
    target: str | None
    layers: tuple[int, ...]
    activation: str
    optimizer: str
    lr: float
    l2: float
    epochs: int
    batch_size: int
    patience: int
    test_size: float
    seed: int
    task: str | None = None  # None: guessed from the targets
    dtype: str = "float32"

    # options a resumed run must share with the run that wrote the checkpoint
    IDENTITY = ("data", "target", "layers", "activation", "optimizer", "lr", "l2",
                "batch_size", "test_size", "seed", "task", "dtype")

    def as_metadata(self) -> dict[str, Any]:
        values = asdict(self)
        values["layers"] = list(self.layers)
        return values

    @staticmethod
    def from_args(args: argparse.Namespace) -> TrainOptions:
        data = args.data
        if not _names_builtin(data):
            data = str(Path(data).resolve())
        return TrainOptions(data=data, target=args.target, layers=tuple(args.layers),
                            activation=args.activation, optimizer=args.optimizer, lr=args.lr,
                            l2=args.l2, epochs=args.epochs, batch_size=args.batch_size,
                            patience=args.patience, test_size=args.test_size, seed=args.seed,
                            task=getattr(args, "task", None),
                            dtype=getattr(args, "dtype", "float32"))


def _check_checkpoint(checkpoint: Path, options: TrainOptions, resume: bool) -> bool:
    """Whether to resume; a checkpoint that would be overwritten or mismatches is an error."""
    if not checkpoint.exists():
        if resume:
            _note(f"no checkpoint at {checkpoint}; starting from the beginning")
        return False
    if not resume:
        raise UsageError(
            f"{checkpoint} holds an unfinished training run; add --resume to continue it, or "
            "delete that file to start over")
    try:
        metadata = load_model(checkpoint).metadata
    except ModelFileError as error:
        raise CommandError(f"cannot resume: {error}; delete {checkpoint} to start over"
                           ) from error
    saved = metadata.get("options", {})
    recorded = metadata.get("data_sha256")
    if isinstance(recorded, str) and file_sha256(options.data) != recorded:
        raise UsageError(f"{checkpoint} was written training on {options.data}, which has "
                         "changed since (its SHA-256 differs); resume on the same data, or "
                         "delete the checkpoint to start over")
    current = options.as_metadata()
    different = [key for key in TrainOptions.IDENTITY if saved.get(key) != current[key]]
    if different:
        changes = "; ".join(f"--{key.replace('_', '-')} was {saved.get(key)!r}, now "
                            f"{current[key]!r}" for key in different)
        raise UsageError(f"{checkpoint} was written with other options ({changes}); resume "
                         "with the same options, or delete the checkpoint to start over")
    return True


def build_model(options: TrainOptions, features: int, outputs: int) -> Any:
    """The MLP: Dense + activation per hidden width, then a linear output layer; every Dense
    kernel carries the L2 penalty (λ/2)‖W‖² with λ = ``options.l2`` (none when 0)."""
    penalty = options.l2 or None
    layers: list[Any] = []
    for units in options.layers:
        layers.append(Dense(units, input_dim=None if layers else features,
                            kernel_regularizer=penalty))
        layers.append(Activation(options.activation))
    layers.append(Dense(outputs, input_dim=None if layers else features,
                        kernel_regularizer=penalty))
    return Sequential(layers, seed=options.seed, input_shape=(features,), name="mlp")


def _compile(model: Any, task: str, options: TrainOptions, jit: bool | str = False) -> None:
    optimizer = optim.get(options.optimizer, lr=options.lr)
    if task == "classification":
        model.compile(loss=losses.get("sparse_categorical_crossentropy", from_logits=True),
                      optimizer=optimizer, metrics=["accuracy"], jit=jit)
    else:
        model.compile(loss="mse", optimizer=optimizer, jit=jit)


def _hidden_widths(model: Any) -> list[tuple[int, int]]:
    """(units of each hidden Dense layer, the width its activation passes on): they differ
    for maxout, which keeps the largest of each group of pieces."""
    shapes = [int(shape[-1]) for shape in model.output_shapes()]
    return [(shapes[index], shapes[index + 1]) for index, layer in enumerate(model.layers[:-1])
            if isinstance(layer, Dense) and isinstance(model.layers[index + 1], Activation)]


def _describe_architecture(model: Any, options: TrainOptions, features: int) -> str:
    hidden = " → ".join(
        f"{units} {options.activation}" + ("" if width == units else f" → {width}")
        for units, width in _hidden_widths(model))
    outputs = _output_count(model)
    parts = [str(features), *([hidden] if hidden else []), _plural(outputs or 0, "output")]
    return (f"Model: {' → '.join(parts)} ({model.count_parameters():,} parameters); "
            f"{options.optimizer}, lr {options.lr:g}, L2 {options.l2:g}, batch size "
            f"{options.batch_size}")


def _train_metadata(data: Any, options: TrainOptions) -> dict[str, Any]:
    return {
        "command": "chainrule train",
        "dataset": data.name,
        "data": options.data,
        "data_sha256": None if _names_builtin(options.data) else file_sha256(options.data),
        "target": options.target,
        "task": data.task,
        "classes": data.classes,
        "feature_names": data.feature_names,
        "num_features": int(data.x.shape[1]),
        "split": {"test_size": options.test_size, "seed": options.seed,
                  "stratify": data.task == "classification"},
        "options": options.as_metadata(),
    }


class _EpochCounter(Callback):
    """Remembers the last epoch that finished (for the message after Ctrl-C)."""

    def __init__(self) -> None:
        super().__init__()
        self.last: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.last = epoch


class _DivergenceGuard(Callback):
    """Stops a run whose training loss explodes (Adam with a huge lr rarely reaches NaN)."""

    FACTOR = 1e4

    def __init__(self) -> None:
        super().__init__()
        self.first: float | None = None
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = float((logs or {}).get("loss", math.nan))
        if self.first is None:
            self.first = loss
            return
        if not math.isfinite(loss) or loss > self.FACTOR * max(abs(self.first), 1e-3):
            raise FloatingPointError(
                f"the training loss grew from {self.first:.4g} to {loss:.4g} in epoch "
                f"{self.epoch + 1}")


def _fit(model: Any, split: Split, options: TrainOptions, checkpoint: Path, resume: bool
         ) -> Any:
    """``model.fit`` with early stopping and a checkpoint; its failures as CLI errors."""
    counter = _EpochCounter()
    stopper = EarlyStopping(monitor="val_loss", patience=options.patience,
                            restore_best_weights=True, verbose=1)
    try:
        # No Python warning line reaches the terminal: overflow in a diverging run is
        # reported below instead, and the health monitor's findings as lines of their own.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("always", diagnostics.TrainingHealthWarning)
            try:
                return model.fit(split.x_train, _labels_as_classes(model, split.y_train),
                                 epochs=options.epochs,
                                 batch_size=options.batch_size,
                                 validation_split=VALIDATION_SPLIT,
                                 callbacks=[stopper, counter, _DivergenceGuard()], verbose=1,
                                 seed=options.seed, checkpoint=str(checkpoint), resume=resume)
            finally:
                said = dict.fromkeys(
                    ("Health", w.message.worded(diagnostics.CLI))
                    if isinstance(w.message, diagnostics.TrainingHealthWarning)
                    else ("Warning", str(w.message)) for w in caught)
                for kind, message in said:
                    print(f"{kind}: {message}", file=sys.stderr)
    except TrainingInterrupted:
        done = "" if counter.last is None else f" (epoch {counter.last + 1} of {options.epochs})"
        raise TrainingInterrupted(
            f"training interrupted; {checkpoint} holds the last completed epoch{done}. Run the "
            "same command with --resume to continue.") from None
    except FloatingPointError as error:
        kept = (f" The checkpoint {checkpoint} keeps the last good epoch; delete it before "
                "training again." if checkpoint.exists() else "")
        raise CommandError(f"training diverged: {str(error).rstrip('.')}.{kept} Lower the "
                           f"learning rate (--lr, now {options.lr:g}; the default is "
                           f"{DEFAULT_LR:g})") from None


def _labels_as_classes(model: Any, y: np.ndarray) -> np.ndarray:
    """Class indices ``y`` as the model's classes (what ``fit`` is given: the labels
    themselves, which it looks up among the classes); other targets as they are."""
    classes = _model_classes(model)
    return y if classes is None or y.dtype.kind not in "iu" else np.asarray(classes)[y]


def _classification_report(model: Any, x: np.ndarray, y: np.ndarray, label: str
                           ) -> tuple[dict[str, float], str]:
    """(the numbers, the text): accuracy and the confusion matrix for (x, y)."""
    outputs = model.predict(x, batch_size=512)
    loss = float(model.loss(Tensor(outputs), y).item())  # the data term, without penalties
    predicted = outputs.argmax(axis=1)
    correct = int(np.sum(predicted == y))
    classes = _model_classes(model) or [str(i) for i in range(_output_count(model) or 0)]
    matrix = confusion_matrix(y, predicted, num_classes=len(classes))
    text = (f"{label} accuracy: {correct / len(y):.2%} ({correct:,}/{len(y):,}), "
            f"{label.lower()} loss {loss:.4f} ({model.loss.name})\n\n"
            + format_confusion(matrix, classes))
    return {"loss": loss, "accuracy": correct / len(y)}, text


def _regression_report(model: Any, x: np.ndarray, y: np.ndarray, label: str
                       ) -> tuple[dict[str, float], str]:
    """(the numbers, the text): the MSE (and MAE, RMSE) of the model on (x, y)."""
    prediction = model.predict(x, batch_size=512)
    mse = float(np.mean((prediction.astype(np.float64) - y) ** 2))
    mae = float(np.mean(np.abs(prediction.astype(np.float64) - y)))
    text = (f"{label} MSE: {mse:.6g} (MAE {mae:.6g}, RMSE {math.sqrt(mse):.6g}) on "
            f"{_plural(len(y), 'row')}")
    return {"mse": mse, "mae": mae}, text


def format_confusion(matrix: np.ndarray, classes: Sequence[str]) -> str:
    """The confusion matrix as a table: rows the true class, columns the predicted class."""
    corner = "true \\ predicted"
    header = [corner, *classes]
    rows = [header] + [[name, *(str(int(v)) for v in row)] for name, row in zip(classes, matrix)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["Confusion matrix (rows: true class, columns: predicted class)"]
    for row in rows:
        lines.append("  ".join([row[0].ljust(widths[0]),
                                *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:]))]))
    return "\n".join(lines)


def _write_curves(history: Any, path: Path) -> bool:
    """Draw the training curves to a PNG (``chainrule.plot.history``) when matplotlib is
    importable; False (and no file) without it."""
    from . import plot

    try:
        plot.history(history, path=path)
    except ImportError:
        return False
    return True


def _print_data_line(data: Any, split: Split) -> None:
    kind = (f"{_plural(data.num_classes, 'class')}" if data.task == "classification"
            else "regression")
    _say(f"Data: {data.name} — {_plural(len(data), 'sample')}, "
         f"{_plural(data.x.shape[1], 'feature')}, {kind}")
    held = int(round(len(split.x_train) * VALIDATION_SPLIT))
    _say(f"Split: {len(split.x_train):,} training rows ({held:,} of them for validation), "
         f"{len(split.x_test):,} test rows; inputs standardised on the training rows")


@dataclass
class _TrainRun:
    """Everything a ``train`` run works with, set up before the first epoch."""

    options: TrainOptions
    output: Path
    checkpoint: Path
    resume: bool
    data: datasets.Dataset
    split: Split
    model: Any


def _set_up_training(args: argparse.Namespace) -> _TrainRun:
    """Check the options and the output, load and split the data, build the model."""
    options = TrainOptions.from_args(args)
    output = Path(args.output)
    checkpoint = checkpoint_path(output)
    if not _names_builtin(args.data):
        _refuse_overwriting(output, "--output", {"data file (--data)": args.data})
        _refuse_overwriting(checkpoint, "the checkpoint", {"data file (--data)": args.data})
    _check_writable(output, "output")
    resume = _check_checkpoint(checkpoint, options, args.resume)
    data = load_data(args.data, args.target, options.task, options.dtype)
    split = split_data(data, options.test_size, options.seed)
    features = int(data.x.shape[1])
    outputs = data.num_classes if data.task == "classification" else int(data.y.shape[1])
    with default_dtype(options.dtype):
        model = build_model(options, features, outputs)
    # Compiled where it can be, eagerly (without a warning) where it cannot.
    _compile(model, data.task, options, jit="auto" if getattr(args, "jit", False) else False)
    model.preprocessing = datasets.Standardizer().fit(split.x_train)
    model.metadata = _train_metadata(data, options)
    return _TrainRun(options, output, checkpoint, resume, data, split, model)


def history_metadata(history: Any) -> dict[str, Any]:
    """The training history as the model file's metadata keeps it (JSON: lists of floats)."""
    return {"epoch": [int(epoch) for epoch in history.epoch],
            "history": {str(key): [float(value) for value in values]
                        for key, values in history.history.items()}}


def _save_results(run: _TrainRun, history: Any, results: dict[str, float]) -> bool:
    """Save the model with its history and test results (then drop the checkpoint) and
    draw the curves, before anything is printed; whether the curves were drawn."""
    run.model.metadata["epochs_trained"] = len(history.epoch)
    run.model.metadata["history"] = history_metadata(history)
    run.model.metadata["test_results"] = results
    run.model.save(str(run.output))
    with contextlib.suppress(FileNotFoundError):
        run.checkpoint.unlink()
    return _write_curves(history, curves_path(run.output))


def _bias_variance_line(run: _TrainRun, results: dict[str, float], report: Any,
                       baseline: float) -> str:
    """The basic recipe's verdict: the error on the rows fit trained on (the validation rows
    apart) against the test error, as fractions (for a regression, MSE ÷ variance of y)."""
    held = int(round(len(run.split.x_train) * VALIDATION_SPLIT))
    x, y = run.split.x_train[:len(run.split.x_train) - held], \
        run.split.y_train[:len(run.split.y_train) - held]
    trained, _ = report(run.model, x, y, "Training")
    if run.data.task == "classification":
        errors = 1.0 - trained["accuracy"], 1.0 - results["accuracy"]
        measure = "error"
    else:
        variance = float(np.mean(np.var(np.asarray(y, dtype=np.float64), axis=0)))
        if not variance > 0:
            return "Bias/variance: not judged (the training targets are constant)"
        errors = trained["mse"] / variance, results["mse"] / variance
        measure = "MSE ÷ variance of y"
    verdict = bias_variance.diagnose(*errors, baseline, measure=measure, validation="test")
    line = f"Bias/variance: {verdict.message(bias_variance.CLI)}"
    if verdict.high_bias and baseline == 0:
        line += (" (against a baseline of 0: if even the best model errs on this data, give "
                 "that error with --baseline-error)")
    return textwrap.fill(line, width=100, subsequent_indent="  ", break_on_hyphens=False)


def command_train(args: argparse.Namespace) -> int:
    """Train an MLP, report it on the test rows, and write the model file."""
    started = time.monotonic()
    run = _set_up_training(args)
    _print_data_line(run.data, run.split)
    _say(_describe_architecture(run.model, run.options, int(run.data.x.shape[1])))
    if run.resume:
        _say(f"Resuming from {run.checkpoint}")
    _say()
    history = _fit(run.model, run.split, run.options, run.checkpoint, run.resume)
    report = (_classification_report if run.data.task == "classification"
              else _regression_report)
    results, text = report(run.model, run.split.x_test, run.split.y_test, "Test")
    curves = _save_results(run, history, results)  # the work is safe before any report
    _say()
    _say(text)
    _say()
    _say(_bias_variance_line(run, results, report, args.baseline_error))
    _say()
    _say(diagnostics.health_report(run.model, run.split.x_train, run.split.y_train)
         .format(diagnostics.CLI))
    _say()
    _say(f"Wrote the model to {run.output}")
    if curves:
        _say(f"Wrote the training curves to {curves_path(run.output)}")
    _say(f"Done in {time.monotonic() - started:.1f}s. Check it with: "
         f"chainrule evaluate {run.output}")
    return 0


# ====================================================================== evaluate
def _compiled(model: Any) -> Any:
    """A loaded model ready for evaluate (compiled with its task's loss if it was not)."""
    if getattr(model, "loss", None) is None or getattr(model, "optimizer", None) is None:
        if _model_task(model) == "classification":
            model.compile(loss=losses.get("sparse_categorical_crossentropy", from_logits=True),
                          optimizer="sgd", metrics=["accuracy"])
        else:
            model.compile(loss="mse", optimizer="sgd")
    return model


def _recorded_data(model: Any) -> tuple[str, str | None, dict[str, Any]]:
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    spec = meta.get("data") or meta.get("dataset")
    split = meta.get("split")
    if not spec or not isinstance(split, dict):
        raise UsageError("the model file does not record the data it was trained on; give "
                         "--data NAME|PATH")
    if not _names_builtin(spec) and not os.path.exists(spec):
        raise UsageError(f"the model was trained on {spec}, which no longer exists; give "
                           "--data NAME|PATH")
    recorded = meta.get("data_sha256")
    if isinstance(recorded, str) and not _names_builtin(spec) and file_sha256(spec) != recorded:
        raise UsageError(f"the model was trained on {spec}, which has changed since (its "
                         "SHA-256 differs from the one recorded at training), so its recorded "
                         "split is not the training split any more; give --data PATH to use "
                         "the file as it is now")
    return spec, meta.get("target"), split


def file_sha256(path: str | os.PathLike[str]) -> str | None:
    """The SHA-256 of the file at ``path`` (hex), read in 1 MiB blocks; None for a folder."""
    import hashlib

    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _target_for(args: argparse.Namespace, model: Any) -> str | None:
    """--target, or for a CSV file the column the model was trained to predict (so that a
    file without it is refused rather than read with its last column as the target)."""
    if args.target is not None or Path(args.data).suffix.lower() != ".csv":
        return args.target
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    return meta.get("target")


def _evaluation_data(args: argparse.Namespace, model: Any
                     ) -> tuple[datasets.Dataset, np.ndarray, np.ndarray, str]:
    """(data, x, y, description): the recorded split's test rows, or all rows of --data."""
    if args.data is not None:
        data = load_data(args.data, _target_for(args, model), dtype=_model_dtype(model),
                         model_task=_model_task(model))
        return data, data.x, data.y, f"{data.name}, all rows"
    spec, target, settings = _recorded_data(model)
    data = load_data(spec, target, _trained_task(model), _model_dtype(model))
    split = split_data(data, float(settings["test_size"]), int(settings["seed"]))
    where = (f"{data.name}, the test rows of the training split (seed {settings['seed']}, "
             f"test size {settings['test_size']:g})")
    return data, split.x_test, split.y_test, where


def command_evaluate(args: argparse.Namespace) -> int:
    """Loss and accuracy (or MSE) of a saved model on data."""
    model = _compiled(_load_model(args.model))
    data, x, y, where = _evaluation_data(args, model)
    _check_features(model, x, data.name)
    task = _model_task(model)
    if task != data.task:
        raise CommandError(f"the model does {task}, but {data.name} is a {data.task} dataset")
    _say(f"Model: {args.model}")
    _say(f"Data: {where}: {_plural(len(x), 'row')}")
    _say()
    label = "Test" if args.data is None else "Data"
    if task == "classification":
        _, text = _classification_report(model, x, _labels_for_model(model, y, data.classes),
                                          label)
    else:
        _, text = _regression_report(model, x, np.asarray(y, dtype=np.float64), label)
    _say(text)
    return 0


# ====================================================================== predict
def _read_csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows (with their line numbers) of a CSV file."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as error:
        raise CommandError(f"{path} is not a text CSV file ({error.reason})") from None
    except csv.Error as error:
        raise CommandError(f"{path} is not valid CSV: {error}") from None
    rows = [(line, row) for line, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise CommandError(f"{path} is empty: expected a header row and data rows")
    if len(rows) == 1:
        raise CommandError(f"{path} has a header but no data rows")
    return [cell.strip() for cell in rows[0][1]], rows[1:]


def _feature_columns(header: list[str], model: Any, path: Path) -> list[int]:
    """The CSV columns to feed the model: matched by name to its feature names, in any
    order, its target column ignored (a missing or unknown column is a usage error listing
    them, ``data_path.match_columns``); all but the target by position when the model has
    no names."""
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    target, features = meta.get("target"), meta.get("feature_names")
    if features:
        try:
            targets = [] if target is None else (
                datasets.files.target_columns(str(target), header) or [str(target)])
            return match_columns(header, [str(f) for f in features], str(path),
                                 ignored=targets)
        except DataError as error:
            raise UsageError(str(error)) from None
    return [i for i, name in enumerate(header) if target is None or name != target]


def read_feature_csv(path: Path, model: Any) -> np.ndarray:
    """The model's input rows from a CSV with a header; a bad cell's error names its line and
    column, NaN or infinity the lines that hold them."""
    header, rows = _read_csv_rows(path)
    columns = _feature_columns(header, model, path)
    values = np.empty((len(rows), len(columns)), dtype=np.float64)
    for index, (line, row) in enumerate(rows):
        if len(row) != len(header):
            raise CommandError(f"{path}, line {line}: {len(row)} cells, but the header has "
                               f"{len(header)}")
        for position, column in enumerate(columns):
            try:
                values[index, position] = float(row[column])
            except ValueError:
                raise CommandError(f"{path}, line {line}, column {header[column]!r}: "
                                   f"{row[column].strip()!r} is not a number") from None
    bad = [rows[i][0] for i in np.flatnonzero(~np.all(np.isfinite(values), axis=1))]
    if bad:
        raise CommandError(f"{path} has NaN or infinite values on lines {_listed(bad)}")
    return values


def _listed(numbers: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(int(n)) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def _predict_inputs(model: Any, spec: str) -> np.ndarray:
    """The rows to predict for, from a CSV file or an .npz with an array 'x'."""
    path = Path(spec)
    if not path.is_file():
        raise UsageError(f"no input file at {spec}")
    if path.suffix.lower() == ".npz":
        x, names = _npz_inputs(path)
        features = model.metadata.get("feature_names") if isinstance(model.metadata,
                                                                      dict) else None
        if names is not None and features:  # named columns: matched by name
            try:
                x = x[:, match_columns(names, [str(f) for f in features], f"{path}")]
            except DataError as error:
                raise UsageError(str(error)) from None
        return x
    return read_feature_csv(path, model)


def _npz_inputs(path: Path) -> tuple[np.ndarray, list[str] | None]:
    """The array 'x' of an .npz file, checked: numeric, rows of features, finite; and the
    names in its array 'feature_names', if it has one."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "x" not in archive.files:
                raise CommandError(f"{path} has no array 'x' (it has: "
                                   f"{', '.join(archive.files) or 'nothing'})")
            x = archive["x"]
            names = (None if "feature_names" not in archive.files
                     else [str(n) for n in archive["feature_names"].tolist()])
    except ValueError as error:
        raise CommandError(f"cannot read {path}: {error}") from None
    except (OSError, EOFError) as error:
        raise CommandError(f"cannot read {path}: not a readable .npz file ({error})") from None
    if x.dtype.kind not in "biuf":
        raise CommandError(f"{path}: 'x' must be numeric, got {x.dtype}")
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or len(x) == 0:
        raise CommandError(f"{path}: 'x' must be rows of features, got shape {x.shape}")
    x = x.astype(np.float64)
    bad = np.flatnonzero(~np.all(np.isfinite(x), axis=1))
    if bad.size:
        raise CommandError(f"{path}: 'x' has NaN or infinite values in rows {_listed(bad)} "
                           "(counting from 0)")
    if names is not None and len(names) != x.shape[1]:
        raise CommandError(f"{path}: 'feature_names' has {len(names)} names for "
                           f"{x.shape[1]} columns of 'x'")
    return x, names


def _prediction_rows(model: Any, x: np.ndarray, proba: bool = False,
                     classes: bool = False) -> list[list[str]]:
    """The header and one row per input: the class name, or the predicted value(s); with
    ``proba`` one probability column per class (headed by the class names), after the class
    name when ``classes`` is asked for too."""
    if proba or classes:
        return _class_rows(model, x, proba, classes)
    outputs = model.predict(x, batch_size=512)
    if _model_task(model) == "classification":
        classes = _model_classes(model) or [str(i) for i in range(outputs.shape[1])]
        return [["prediction"], *([classes[i]] for i in outputs.argmax(axis=1))]
    names = (["prediction"] if outputs.shape[1] == 1
             else [f"prediction_{i}" for i in range(outputs.shape[1])])
    return [names, *([f"{v:.7g}" for v in row] for row in outputs)]


def _class_rows(model: Any, x: np.ndarray, proba: bool, classes: bool) -> list[list[str]]:
    """``predict --proba`` / ``--classes``: the class name and/or every class's probability
    (a single sigmoid output p is the two classes' 1 − p and p)."""
    if _model_task(model) != "classification":
        asked = "--proba" if proba else "--classes"
        raise CommandError(f"{asked} needs a classification model; this one does regression")
    try:
        probabilities = model.predict_proba(x, batch_size=512)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if probabilities.shape[1] == 1:
        probabilities = np.concatenate([1 - probabilities, probabilities], axis=1)
    names = _model_classes(model) or [str(i) for i in range(probabilities.shape[1])]
    if len(names) != probabilities.shape[1]:
        raise CommandError(f"the model has {probabilities.shape[1]} outputs but its metadata "
                           f"names {len(names)} classes")
    header = (["prediction"] if classes else []) + (names if proba else [])
    rows = [header]
    for row in probabilities:
        rows.append(([names[int(row.argmax())]] if classes else [])
                    + ([f"{p:.7g}" for p in row] if proba else []))
    return rows


def _as_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def command_predict(args: argparse.Namespace) -> int:
    """One prediction per input row: a class name, or a value for regression."""
    output = None if args.output is None else Path(args.output)
    if output is not None:
        _refuse_overwriting(output, "--output", {"INPUT": args.input, "MODEL": args.model})
        _check_writable(output, "output")
    model = _load_model(args.model)
    x = _predict_inputs(model, args.input)
    _check_features(model, x, args.input)
    rows = _prediction_rows(model, x, args.proba, args.classes)
    if output is None:
        _out().write(_as_csv(rows))
        _out().flush()
    else:
        write_bytes_atomically(output, _as_csv(rows).encode("utf-8"))
        _say(f"Wrote {_plural(len(rows) - 1, 'prediction')} to {output}")
    return 0


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
    lines = [f"Preprocessing: {type(preprocessing).__name__} (applied to raw inputs by "
             "evaluate and predict)"]
    if "names" in state:  # the playground's FeatureMap
        lines.append(f"  features of the raw inputs: {', '.join(state['names'])}")
    for key in ("mean", "std", "scale"):
        if key in state:
            values = np.asarray(state[key], dtype=np.float64)
            lines.append(f"  {key}: {values.size} values in [{values.min():.4g}, "
                         f"{values.max():.4g}]")
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
    rows += [(pairing.dense.name or "?", str(pairing.dense.units),
              _activation_after(pairing, pairing.dense is model.layers[-1]))
             for pairing in pairings(model.layers)]
    return _table(rows, right=(1,)) if len(rows) > 1 else None


def _training_line(model: Any) -> str | None:
    """The loss and optimiser the model was compiled with."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    detail = " (from logits)" if getattr(loss, "from_logits", False) else ""
    optimizer = getattr(model, "optimizer", None)
    chosen = "" if optimizer is None else f"; optimizer {optimizer.name}, lr " \
                                         f"{optimizer.initial_lr:g}"
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


# ====================================================================== datasets
def command_datasets(args: argparse.Namespace) -> int:
    """The built-in datasets as a table."""
    rows = [("Name", "Task", "Samples", "Features", "Classes", "Description")]
    for name, task, samples, features, classes, description in datasets.describe():
        rows.append((str(name), str(task), f"{samples:,}", str(features),
                     "—" if classes is None else str(classes), str(description)))
    _say(_table(rows, right=(2, 3, 4)))
    _say()
    _say("Train on one with: chainrule train --data NAME  (or --data FILE.csv --target COLUMN)")
    return 0


# ====================================================================== activations
def _catalog_table() -> str:
    rows = [("Name", "Formula", "Derivative", "Range", "Zero-centred", "Monotonic",
             "Saturating", "Smooth")]
    for name in activations.names():
        act = activations.get(name)
        rows.append((name, act.formula, act.derivative_formula, act.output_range,
                     _yes_no(act.zero_centered), _yes_no(act.monotonic), act.saturating,
                     _yes_no(act.smooth)))
    width = _terminal_width()
    fitted, dropped = _fit_columns(rows, width)
    note = ("" if not dropped else "\n" + textwrap.fill(
        f"(columns left out to fit the terminal: {', '.join(dropped)}; see them with "
        "'chainrule activations NAME')", width=max(width, 20)))
    return _table(fitted) + note


def _kink_lines(act: Any) -> list[str]:
    if act.kinks:
        pairs = ", ".join(f"z = {k:g}: g' taken as {v:g}"
                          for k, v in zip(act.kinks, act.subgradients_at_kinks))
        return [f"Kinks: {pairs} (change with subgradient=...)"]
    if act.smooth:
        return ["Kinks: none (differentiable everywhere)"]
    return ["Kinks: wherever two pieces tie (g' goes to the first winning piece)"]


def _number(value: float) -> str:
    return f"{float(value) + 0.0:.6f}"  # + 0.0 turns −0.0 into 0.0


def _value_table(act: Any) -> str:
    z = np.array(Z_TABLE, dtype=np.float64)
    values = [act.forward(z), act.derivative(z), act.second_derivative(z)]
    rows = [("z", "g(z)", "g'(z)", "g''(z)")]
    for i, point in enumerate(z):
        rows.append((f"{point:g}", *(_number(column[i]) for column in values)))
    return _table(rows, right=(0, 1, 2, 3))


def _vector(values: Any) -> str:
    return "(" + ", ".join(f"{float(v) + 0.0:.4g}" for v in np.ravel(values)) + ")"


def _vector_example(act: Any) -> list[str]:
    z = np.array([-1.0, 0.0, 1.0, 3.0] if act.name == "maxout" else [-1.0, 0.0, 1.0])
    lines = [f"Example at z = {_vector(z)}:", f"  g(z) = {_vector(act.forward(z))}"]
    derivative = act.derivative(z)
    if derivative.ndim == 1:
        lines.append(f"  winner mask ∂a/∂z = {_vector(derivative)}")
    else:
        lines.append("  Jacobian J[i, j] = ∂aᵢ/∂zⱼ:")
        lines += [f"    {_vector(row)}" for row in derivative]
    return lines


def _describe_activation(name: str) -> str:
    try:
        act = activations.get(name)
    except (KeyError, ValueError) as error:
        raise UsageError(_message(error)) from None
    aliases = f" (aliases: {', '.join(act.aliases)})" if act.aliases else ""
    lines = [f"{act.name}{aliases}", ""]
    if not act.elementwise:
        lines.append(f"{act.name} is vector-valued: it maps a whole vector z to a vector a, so "
                     "its derivative is a Jacobian matrix, not one slope per element.")
    lines += [f"  g(z)   {act.formula}", f"  g'(z)  {act.derivative_formula}",
              f"  g''(z) {act.second_derivative_formula}"]
    if act.derivative_from_output_formula:
        lines.append(f"  g' from the output a: {act.derivative_from_output_formula}")
    lines += ["", f"Range: {act.output_range}; zero-centred: {_yes_no(act.zero_centered)}; "
              f"monotonic: {_yes_no(act.monotonic)}; saturating: {act.saturating}; "
              f"smooth: {_yes_no(act.smooth)}"]
    if act.params:
        lines.append("Parameters: " + ", ".join(f"{k} = {v}" for k, v in act.params.items()))
    lines += _kink_lines(act)
    lines.append("")
    lines += _vector_example(act) if not act.elementwise else [_value_table(act)]
    return "\n".join(lines)


def command_activations(args: argparse.Namespace) -> int:
    """The activation catalog, or one activation in detail."""
    if args.name is None:
        _say(_catalog_table())
        _say()
        _say(textwrap.fill("Details of one: chainrule activations NAME (aliases work: "
                           "logistic, swish, ...)", width=max(_terminal_width(), 20)))
    else:
        _say(_describe_activation(args.name))
    return 0


# ====================================================================== gradcheck
GRADCHECK_LAYERS = "16,16"
GRADCHECK_ACTIVATION = "relu"
GRADCHECK_L2 = 0.003


def _gradcheck_options(args: argparse.Namespace) -> TrainOptions:
    """The options ``train`` would get from these ``gradcheck`` options (training-only ones
    at ``train``'s defaults: they do not change the model or its cost)."""
    layers = _layer_sizes(GRADCHECK_LAYERS) if args.layers is None else args.layers
    return TrainOptions(data=args.data or DEFAULT_DATA, target=args.target, layers=tuple(layers),
                        activation=args.activation or GRADCHECK_ACTIVATION, optimizer="adam",
                        lr=DEFAULT_LR, l2=GRADCHECK_L2 if args.l2 is None else args.l2,
                        epochs=1, batch_size=32, patience=0, test_size=0.2, seed=args.seed)


def _gradcheck_new_model(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """(model, x, y, description): the model ``train`` would build, on training rows."""
    options = _gradcheck_options(args)
    data = load_data(options.data, options.target)
    split = split_data(data, options.test_size, options.seed)
    features = int(data.x.shape[1])
    outputs = data.num_classes if data.task == "classification" else int(data.y.shape[1])
    model = build_model(options, features, outputs)
    _compile(model, data.task, options)
    model.preprocessing = datasets.Standardizer().fit(split.x_train)
    _say(f"Data: {data.name} — the first {_plural(min(args.samples, len(split.x_train)), 'row')} "
         f"of the training split (seed {options.seed})")
    _say(_describe_architecture(model, options, features).split(";")[0] + f"; L2 {options.l2:g}")
    return model, split.x_train[:args.samples], split.y_train[:args.samples], data.name


def _gradcheck_saved_model(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """(model, x, y, description): a saved model, on its recorded training rows or --data."""
    given = [name for name in ("layers", "activation", "l2") if getattr(args, name) is not None]
    if given:
        raise UsageError(f"--{given[0]} describes a new model; a saved MODEL has its own "
                         "architecture (leave it out, or leave out MODEL)")
    model = _compiled(_load_model(args.model))
    if args.data is not None:
        data = load_data(args.data, args.target, dtype=_model_dtype(model),
                         model_task=_model_task(model))
        x, y, where = data.x, data.y, f"{data.name}, the first rows"
    else:
        spec, target, settings = _recorded_data(model)
        data = load_data(spec, target, _trained_task(model), _model_dtype(model))
        split = split_data(data, float(settings["test_size"]), int(settings["seed"]))
        x, y = split.x_train, split.y_train
        where = f"{data.name}, the first training rows of its split"
    _check_features(model, x, data.name)
    task = _model_task(model)
    if task != data.task:
        raise CommandError(f"the model does {task}, but {data.name} is a {data.task} dataset")
    x, y = x[:args.samples], y[:args.samples]
    if task == "classification":
        y = _labels_for_model(model, y, data.classes)
    _say(f"Model: {args.model} ({model.count_parameters():,} parameters)")
    _say(f"Data: {where}: {_plural(len(x), 'row')}")
    return model, x, y, data.name


def command_gradcheck(args: argparse.Namespace) -> int:
    """Check backprop's gradients against two-sided numeric differences; exit 1 if they
    disagree."""
    from .gradient_check import NonFiniteError, check_model

    if args.model is not None:
        model, x, y, _ = _gradcheck_saved_model(args)
    else:
        model, x, y, _ = _gradcheck_new_model(args)
    _say()
    try:
        report = check_model(model, x, np.asarray(y), eps=args.eps, seed=args.seed)
    except NonFiniteError as error:
        raise CommandError(f"cannot check the gradients: {_message(error)}") from error
    except (TypeError, RuntimeError) as error:
        raise CommandError(f"cannot check the gradients: {_message(error)}") from error
    _say(str(report))
    _say()
    if report.ok:
        _say(f"Verdict: {report.verdict} — backprop agrees with the numeric gradient "
             f"(relative error {report.relative_error:.2e}, noise floor "
             f"{report.noise_floor:.2e}, on {_plural(len(x), 'row')})")
        return 0
    _say(f"Verdict: {report.verdict} — backprop DISAGREES with the numeric gradient "
         f"(relative error {report.relative_error:.2e}, noise floor {report.noise_floor:.2e}; "
         "see the rows marked above)")
    return 1


# ====================================================================== plot
def _plot_module() -> Any:
    from . import plot

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
        raise CommandError('plotting needs matplotlib, which is not installed: '
                           'pip install "chainrule[plot]"') from None


def command_plot_activations(args: argparse.Namespace) -> int:
    """g and g′ (and g″) of some activations, one panel each (PNG, PDF or SVG)."""
    from . import activations as catalog

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
        raise UsageError(f"{', '.join(vector)} {kind} "
                         "(each output depends on the whole row), with no curve g(z) to draw; "
                         "choose elementwise activations")
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
    from .serialization import read_training_state

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
            "checkpoints, <output stem>.ckpt.npz, do)")
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
        raise CommandError(f"cannot plot the history in {source}: {_message(error)}"
                           ) from error
    _say(f"Wrote the training history ({_plural(len(history.epoch), 'epoch')}) to {path}")
    return 0


# ====================================================================== playground
def command_playground(args: argparse.Namespace) -> int:
    """Serve the playground page until Ctrl-C (needs the ``web`` extra, imported only here)."""
    from . import playground

    try:
        server = playground.web_server()
    except ImportError as error:
        raise CommandError(str(error)) from None
    from .playground.limits import Caps

    caps = Caps(max_layers=args.max_layers, max_units=args.max_units,
                max_sessions=args.max_tabs, max_samples=args.max_samples)  # checked by argparse
    try:
        server.serve(host=args.host, port=args.port, open_browser=args.open, announce=_say,
                     caps=caps)
    except KeyboardInterrupt:  # Ctrl-C is how the server is meant to stop
        pass
    except OSError as error:
        raise CommandError(f"cannot serve on {args.host}:{args.port}: {_message(error)}"
                           ) from None
    _say("Stopped the playground.")
    return 0


def _port(text: str) -> int:
    return _parsed(text, int, lambda v: 0 <= v <= 65535, "a port number 0..65535")


def _add_playground(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(commands, "playground", command_playground,
                        "a local web page to train networks live", (
        "Start the playground: a local web page where you pick a 2-D data set, the features,\n"
        "the layers and their activations, and watch chainrule train: the decision boundary,\n"
        "every neuron, the weights, the losses, g and g' of a layer over its z, dead and\n"
        "saturated units. It exports the model file and a Python snippet of the run.\n\n"
        'Needs the web extra: pip install "chainrule[web]". Ctrl-C stops the server.'), common)
    parser.add_argument("--port", type=_port, default=8765, help="the TCP port (0: any free)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to bind (another than 127.0.0.1 exposes the page "
                        "to the network)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    from .playground.limits import CAP_CEILINGS, DEFAULT_CAPS, MIN_SAMPLES

    for option, field, what in (("--max-layers", "max_layers", "hidden layers in a network"),
                                ("--max-units", "max_units", "units in one hidden layer"),
                                ("--max-tabs", "max_sessions", "tabs served at the same time"),
                                ("--max-samples", "max_samples", "points in a data set")):
        low, high = (MIN_SAMPLES if field == "max_samples" else 1), CAP_CEILINGS[field]
        parser.add_argument(option, type=_whole_in(low, high), metavar="N",
                            default=getattr(DEFAULT_CAPS, field),
                            help=f"the most {what} ({low}..{high})")


def _whole_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""
    def convert(text: str) -> int:
        return _parsed(text, int, lambda v: low <= v <= high,
                       f"a whole number from {low} to {high}")
    return convert


# ====================================================================== the parser
class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the descriptions' line breaks and show every option's default."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line: ``chainrule: error: ...`` (exit code 2);
    a mistyped choice gets a did-you-mean, a missing command the list of commands."""

    def error(self, message: str) -> Any:
        if "required: COMMAND" in message:
            self.print_help(sys.stderr)
            sys.stderr.write("\n")
        self.exit(2, f"{PROG}: error: {_with_suggestion(message)} (see '{self.prog} "
                  "--help')\n")


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


def _with_suggestion(message: str) -> str:
    """argparse's "invalid choice" message with the closest choice suggested, if any."""
    import difflib

    found = _INVALID_CHOICE.search(message)
    if found is None:
        return message
    choices = re.findall(r"'([^']*)'", found[2])
    close = difflib.get_close_matches(found[1], choices, n=1, cutoff=0.6)
    return f"{message}; did you mean {close[0]}?" if close else message


def _subparser(commands: Any, name: str, handler: Callable[[argparse.Namespace], int],
               summary: str, description: str, common: argparse.ArgumentParser
               ) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=summary, description=description,
                                 formatter_class=_Formatter, parents=[common])
    parser.set_defaults(handler=handler)
    return parser


def _add_train(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(commands, "train", command_train, "train an MLP and save it", (
        "Train a multilayer perceptron and write it to one .npz model file.\n\n"
        "With no options: the built-in digits, a stratified seeded split (20% test rows),\n"
        "inputs standardised on the training rows, a 64-64 ReLU network with an L2 penalty\n"
        "trained with Adam, early stopping on the validation loss (10% of the training rows).\n"
        "While it trains, the model is checkpointed to <output stem>.ckpt.npz after every\n"
        "epoch; after Ctrl-C, run the same command with --resume to continue."), common)
    _add_data_options(parser, DEFAULT_DATA, "a built-in dataset (see 'chainrule datasets'), a "
                      "CSV file with a header row, or an .npz with arrays x and y")
    parser.add_argument("--layers", type=_layer_sizes, default="64,64", metavar="N,N,...",
                        help="hidden-layer widths ('none': no hidden layer)")
    parser.add_argument("--activation", type=_activation_name, default="relu",
                        help="the hidden layers' activation, any name of 'chainrule "
                        "activations'")
    parser.add_argument("--optimizer", type=_optimizer_name, default="adam",
                        help=f"one of {', '.join(train_optimizers())}")
    parser.add_argument("--lr", type=_positive_float, default=DEFAULT_LR, help="learning rate")
    parser.add_argument("--l2", type=_non_negative_float, default=0.003,
                        help="L2 penalty (λ/2)‖W‖² on every Dense kernel (0: none)")
    parser.add_argument("--epochs", type=_positive_int, default=60,
                        help="the most epochs to train (early stopping may end sooner)")
    parser.add_argument("--patience", type=_non_negative_int, default=8,
                        help="epochs without a better validation loss before stopping")
    parser.add_argument("--batch-size", type=_positive_int, default=32)
    parser.add_argument("--test-size", type=_fraction, default=0.2,
                        help="the fraction of rows held out for the test")
    parser.add_argument("--baseline-error", type=_error_rate, default=0.0, metavar="E",
                        help="the error a human or the best possible model makes (a fraction; "
                        "for a regression of the targets' variance), for the bias/variance "
                        "verdict (default 0)")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seeds the split, the initial weights and the shuffling")
    parser.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="FILE",
                        help="the model file to write")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run whose checkpoint is "
                        "<output stem>.ckpt.npz")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="the float type of the data and the model (float64 for "
                        "integers beyond 2^24, such as identifiers)")
    parser.add_argument("--task", choices=("classification", "regression"), default=None,
                        help="what the targets are (default: guessed: integers or text are "
                        "class labels, other numbers regression targets)")
    parser.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True,
                        help="train with the compiled step (bit-identical results, faster); "
                        "--no-jit trains eagerly")


def _add_data_options(parser: argparse.ArgumentParser, default: str | None,
                      data_help: str) -> None:
    """The --data and --target options that train, evaluate and gradcheck share."""
    parser.add_argument("--data", default=default, metavar="NAME|PATH", help=data_help)
    parser.add_argument("--target", metavar="COL", default=None,
                        help="the CSV column holding the targets (default: the last "
                        "column)%(default).0s")


def _add_evaluate(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(commands, "evaluate", command_evaluate, "loss and accuracy of a model", (
        "Measure a saved model's loss and accuracy (MSE for regression).\n\n"
        "Without --data: the dataset recorded in the model file, split exactly as 'train' "
        "split it,\nso the test accuracy printed by 'train' is reproduced. With --data: all "
        "rows of that data."), common)
    parser.add_argument("model", metavar="MODEL", help="a model file written by 'train'")
    _add_data_options(parser, None, "a built-in dataset, a CSV file or an .npz with x and y "
                      "(default: the test rows of the data the model was trained on)"
                      "%(default).0s")


def _add_predict(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(commands, "predict", command_predict, "predict for new rows", (
        "Predict with a saved model: one prediction per input row (a class name, or a value "
        "for\nregression), as CSV with the header 'prediction'.\n\n"
        "INPUT is a CSV with a header row (every column is a feature; the model's target "
        "column\nis dropped if present) or an .npz with an array 'x'."), common)
    parser.add_argument("model", metavar="MODEL", help="a model file written by 'train'")
    parser.add_argument("input", metavar="INPUT", help="a CSV file or an .npz with 'x'")
    parser.add_argument("--output", "-o", default=None, metavar="FILE",
                        help="write the predictions to FILE (atomically) (default: "
                        "stdout)%(default).0s")
    parser.add_argument("--proba", action="store_true",
                        help="write every class's probability, one column per class named "
                        "after it")
    parser.add_argument("--classes", action="store_true",
                        help="write the predicted class's name (with --proba: before the "
                        "probabilities)")


def _add_gradcheck(commands: Any, common: argparse.ArgumentParser) -> None:
    from .gradient_check import DEFAULT_EPS  # small, and needs only what chainrule loads

    parser = _subparser(commands, "gradcheck", command_gradcheck,
                        "check backprop against numeric gradients", (
        "Check backpropagation: compare the analytic gradient of the cost (loss plus L2\n"
        "penalty) with two-sided numeric differences in float64, parameter by parameter.\n\n"
        "Without MODEL: the network 'train' would build from these options (hidden layers\n"
        f"{GRADCHECK_LAYERS} by default, small for speed), on --samples training rows. With "
        "MODEL: that saved\nmodel on its recorded training data (or --data).\n\n"
        "Verdicts: 'correct' when the relative error is below 1e-7 or within 4x its noise\n"
        "floor (the rounding and truncation of the differences, measured with steps eps and\n"
        "2·eps); entries at a kink pass when backprop's value lies between the one-sided\n"
        "slopes (a valid subgradient).\n\n"
        "Exit code 0 when the gradients agree, 1 when they do not (or a loss or weight is\n"
        "NaN/inf)."), common)
    parser.add_argument("model", nargs="?", default=None, metavar="MODEL",
                        help="a model file written by 'train' (default: a new model built "
                        "from the options)%(default).0s")
    _add_data_options(parser, None, "a built-in dataset, a CSV file or an .npz with x and y "
                      f"(default: {DEFAULT_DATA}, or MODEL's recorded data)%(default).0s")
    parser.add_argument("--layers", type=_layer_sizes, default=None, metavar="N,N,...",
                        help=f"hidden-layer widths ('none': no hidden layer) (default: "
                        f"{GRADCHECK_LAYERS})%(default).0s")
    parser.add_argument("--activation", type=_activation_name, default=None,
                        help="the hidden layers' activation (default: "
                        f"{GRADCHECK_ACTIVATION})%(default).0s")
    parser.add_argument("--l2", type=_non_negative_float, default=None,
                        help=f"L2 penalty on every Dense kernel (default: {GRADCHECK_L2:g})"
                        "%(default).0s")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seeds the split and the initial weights")
    parser.add_argument("--samples", type=_positive_int, default=16,
                        help="how many rows the cost is evaluated on")
    parser.add_argument("--eps", type=_positive_float, default=DEFAULT_EPS,
                        help="the step ε of the differences (default: %(default)g)")


def _add_plot(commands: Any, common: argparse.ArgumentParser) -> None:
    plot = commands.add_parser(
        "plot", help="draw activations or a training history (PNG, PDF, SVG)",
        description="Draw a plot to a .png, .pdf or .svg file (needs matplotlib: pip install "
        "\"chainrule[plot]\").", formatter_class=_Formatter, parents=[common])
    kinds = plot.add_subparsers(dest="plot", metavar="WHAT", required=True,
                                parser_class=_Parser)
    acts = _subparser(kinds, "activations", command_plot_activations,
                      "g, g′ (and g″) of activations", (
        "Plot g and g′ (and g″ with --second) of activations, one panel each.\n"
        "NAMES: comma-separated catalog names (see 'chainrule activations'), e.g. "
        "relu,tanh,gelu.\nVector activations (softmax, maxout) have no curve and are "
        "refused."), common)
    acts.add_argument("names", metavar="NAMES", help="activation names separated by commas")
    acts.add_argument("--output", "-o", default="activations.png", metavar="FILE",
                      help="the file to write (.png, .pdf or .svg)")
    acts.add_argument("--second", action="store_true", help="also draw g″")
    hist = _subparser(kinds, "history", command_plot_history,
                      "loss and metrics over the epochs", (
        "Plot the loss and metrics (training and validation) over the epochs of a run.\n"
        "FILE is a model file written by 'train' (it keeps its history) or a training\n"
        "checkpoint, <output stem>.ckpt.npz, which 'train' keeps while it runs."), common)
    hist.add_argument("file", metavar="FILE",
                      help="a model file written by 'train', or a checkpoint (.ckpt.npz)")
    hist.add_argument("--output", "-o", default=None, metavar="OUT",
                      help="the file to write, .png, .pdf or .svg (default: "
                      "<FILE stem>-history.png)%(default).0s")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``chainrule`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error")
    parser = _Parser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="chainrule: feedforward neural networks in NumPy, from the command line.",
        epilog="Start with: chainrule train   (then: chainrule evaluate chainrule-model.npz)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=_Parser)
    _add_train(commands, common)
    _add_evaluate(commands, common)
    _add_predict(commands, common)
    info = _subparser(commands, "info", command_info, "describe a model file",
                      "Describe a model file: its layers, shapes and parameters, the activation "
                      "of each layer,\nthe data it was trained on, and its preprocessing.", common)
    info.add_argument("model", metavar="MODEL", help="a model file written by 'train'")
    _subparser(commands, "datasets", command_datasets, "list the built-in datasets",
               "List the built-in datasets (use one with 'chainrule train --data NAME').", common)
    acts = _subparser(commands, "activations", command_activations, "the activation catalog",
                      "Without NAME: a table of the whole activation catalog. With NAME (aliases "
                      "accepted):\nits formulas, properties, kink values, and g, g', g'' at "
                      "z = −3, −1, 0, 1, 3.", common)
    acts.add_argument("name", nargs="?", metavar="NAME", help="one activation to describe")
    _add_gradcheck(commands, common)
    _add_plot(commands, common)
    _add_playground(commands, common)
    # Command groups in modules of their own (they import cli's helpers, so import them here).
    from . import cli_experiments, cli_explain, cli_export

    cli_experiments.add_parser(commands, common)  # compare, tune, study
    cli_export.add_parser(commands, common)  # export
    cli_explain.add_parser(commands, common)  # explain
    return parser


# ====================================================================== main
TERMINATED = 143  # the shell's code for a process ended by SIGTERM


# Advice in the library's messages that names Python-only parameters, in the CLI's terms.
_PYTHON_ADVICE = (
    (re.compile(re.escape(FLOAT64_ADVICE)), "use float64: --dtype float64"),
    (re.compile(r" \(choose them with x_key= and y_key=\)"),
     " (the command reads the arrays 'x' and 'y'; --target names another array for y)"),
    (re.compile(r"pass labels_path( to name it)?"),
     "put the labels file beside the images, named by MNIST's pattern"),
    (re.compile(r"use dtype='float64' or rescale the data"), "rescale the data"),
    (re.compile(r"use dtype='float64' or float data"), "use float data"),
    (re.compile(r"\btarget="), "--target"),
    (re.compile(r"\btask='(classification|regression)'"), r"--task \1"),
    (re.compile(r"; pass stratify=False"), "; give every class at least 2 rows"),
)


def in_cli_terms(message: str) -> str:
    """``message`` with advice naming Python-only parameters put in the CLI's terms."""
    for pattern, replacement in _PYTHON_ADVICE:
        message = pattern.sub(replacement, message)
    return message


def _report(error: BaseException, debug: bool, label: str = "error") -> None:
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    message = in_cli_terms(_message(error))
    expected = (UsageError, CommandError, ValueError, OSError, FloatingPointError)
    hint = "" if debug or isinstance(error, expected) else " (run with --debug for the traceback)"
    if not isinstance(error, expected):
        message = f"{type(error).__name__}: {message}"
    print(f"{PROG}: {label}: {message}{hint}", file=sys.stderr, flush=True)


class _PipeSafeStream:
    """A text stream whose reader may go away (``| head``): the first EPIPE points the
    stream's file descriptor at /dev/null and every later write is dropped, so the command
    finishes its work (and writes its files) instead of dying half-way."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        self.closed_by_reader = True
        with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())  # so the flush at exit cannot fail again
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _pipe_safe_streams() -> Any:
    """sys.stdout and sys.stderr as ``_PipeSafeStream``s while the command runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _PipeSafeStream(sys.stdout), _PipeSafeStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


class _Signals:
    """SIGTERM handled like Ctrl-C (training stops after the batch and keeps its checkpoint),
    remembering which of the two it was, for the exit code."""

    def __init__(self) -> None:
        self.terminated = False
        self._previous: Any = None

    def __enter__(self) -> _Signals:
        with contextlib.suppress(ValueError, AttributeError):  # not the main thread
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        self.terminated = True
        on_sigint = signal.getsignal(signal.SIGINT)
        if callable(on_sigint):
            on_sigint(signal.SIGINT, frame)  # fit's handler: stop after this batch
        else:
            raise KeyboardInterrupt

    def __exit__(self, *exc_info: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _report_interruption(error: KeyboardInterrupt, terminated: bool, debug: bool) -> int:
    """One line for Ctrl-C (exit 130) or SIGTERM (exit 143), with fit's advice if it has one."""
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    label = "terminated (SIGTERM)" if terminated else "interrupted"
    detail = _message(error) if str(error) else ""
    print(f"{PROG}: {label}: {detail}" if detail else f"{PROG}: {label}", file=sys.stderr,
          flush=True)
    # CPython (3.11) marks a KeyboardInterrupt that escapes exec(source) as unhandled and
    # then ends the process by SIGINT (exit -2), even once it is caught; the compiled
    # step's code is exec'd, so Ctrl-C there would set that mark. Running source code again
    # clears it, so the exit code below is the one the process exits with.
    exec("None")
    return TERMINATED if terminated else INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    """Run the ``chainrule`` command with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    with _pipe_safe_streams(), _Signals() as signals:
        try:
            return _run(argv)
        except KeyboardInterrupt as error:
            return _report_interruption(error, signals.terminated, False)


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) and argparse's usage errors (2)
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.handler(args) or 0)
    except UsageError as error:
        _report(error, debug)
        return 2
    except BrokenPipeError:  # a pipe other than stdout/stderr: stop quietly
        return 1
    except KeyboardInterrupt as error:
        if debug:
            traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
        raise
    except Exception as error:
        _report(error, debug)
        return 1


__all__ = ["build_parser", "checkpoint_path", "curves_path", "history_plot_path", "load_data",
           "main", "split_data"]
