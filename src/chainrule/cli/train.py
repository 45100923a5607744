"""``chainrule train``: build, compile and fit a network on a dataset, and write the model file."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import textwrap
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import bias_variance, datasets, diagnostics, losses, optim
from .._tensor import Tensor
from ..callbacks import Callback, DivergenceGuard, EarlyStopping
from ..dtypes import default_dtype
from ..errors import CommandError, UsageError
from ..metrics import confusion_matrix, format_confusion_matrix
from ..models import Sequential
from ..nn import Activation, Dense
from ..serialization import ModelFileError, load_model
from ..training import TrainingInterrupted
from .common import (
    DEFAULT_DATA,
    DEFAULT_LR,
    DEFAULT_OUTPUT,
    VALIDATION_SPLIT,
    Split,
    _activation_name,
    _add_data_options,
    _check_writable,
    _error_rate,
    _fraction,
    _layer_sizes,
    _model_classes,
    _names_builtin,
    _non_negative_float,
    _non_negative_int,
    _note,
    _optimizer_name,
    _output_count,
    _plural,
    _positive_float,
    _positive_int,
    _refuse_overwriting,
    _say,
    _subparser,
    checkpoint_path,
    curves_path,
    file_sha256,
    load_data,
    split_data,
    train_optimizers,
)


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
    IDENTITY = (
        "data",
        "target",
        "layers",
        "activation",
        "optimizer",
        "lr",
        "l2",
        "batch_size",
        "test_size",
        "seed",
        "task",
        "dtype",
    )

    def as_metadata(self) -> dict[str, Any]:
        values = asdict(self)
        values["layers"] = list(self.layers)
        return values

    @staticmethod
    def from_args(args: argparse.Namespace) -> TrainOptions:
        data = args.data
        if not _names_builtin(data):
            data = str(Path(data).resolve())
        return TrainOptions(
            data=data,
            target=args.target,
            layers=tuple(args.layers),
            activation=args.activation,
            optimizer=args.optimizer,
            lr=args.lr,
            l2=args.l2,
            epochs=args.epochs,
            batch_size=args.batch_size,
            patience=args.patience,
            test_size=args.test_size,
            seed=args.seed,
            task=getattr(args, "task", None),
            dtype=getattr(args, "dtype", "float32"),
        )


def _check_checkpoint(checkpoint: Path, options: TrainOptions, resume: bool) -> bool:
    """Whether to resume; a checkpoint that would be overwritten or mismatches is an error."""
    if not checkpoint.exists():
        if resume:
            _note(f"no checkpoint at {checkpoint}; starting from the beginning")
        return False
    if not resume:
        raise UsageError(
            f"{checkpoint} holds an unfinished training run; add --resume to continue it, or "
            "delete that file to start over"
        )
    try:
        metadata = load_model(checkpoint).metadata
    except ModelFileError as error:
        raise CommandError(f"cannot resume: {error}; delete {checkpoint} to start over") from error
    saved = metadata.get("options", {})
    recorded = metadata.get("data_sha256")
    if isinstance(recorded, str) and file_sha256(options.data) != recorded:
        raise UsageError(
            f"{checkpoint} was written training on {options.data}, which has "
            "changed since (its SHA-256 differs); resume on the same data, or "
            "delete the checkpoint to start over"
        )
    current = options.as_metadata()
    different = [key for key in TrainOptions.IDENTITY if saved.get(key) != current[key]]
    if different:
        changes = "; ".join(
            f"--{key.replace('_', '-')} was {saved.get(key)!r}, now {current[key]!r}"
            for key in different
        )
        raise UsageError(
            f"{checkpoint} was written with other options ({changes}); resume "
            "with the same options, or delete the checkpoint to start over"
        )
    return True


def build_model(options: TrainOptions, features: int, outputs: int) -> Any:
    """The MLP: Dense + activation per hidden width, then a linear output layer; every Dense
    kernel carries the L2 penalty (λ/2)‖W‖² with λ = ``options.l2`` (none when 0)."""
    penalty = options.l2 or None
    layers: list[Any] = []
    for units in options.layers:
        layers.append(
            Dense(units, input_dim=None if layers else features, kernel_regularizer=penalty)
        )
        layers.append(Activation(options.activation))
    layers.append(
        Dense(outputs, input_dim=None if layers else features, kernel_regularizer=penalty)
    )
    return Sequential(layers, seed=options.seed, input_shape=(features,), name="mlp")


def _compile(model: Any, task: str, options: TrainOptions, jit: bool | str = False) -> None:
    optimizer = optim.get(options.optimizer, lr=options.lr)
    if task == "classification":
        model.compile(
            loss=losses.get("sparse_categorical_crossentropy", from_logits=True),
            optimizer=optimizer,
            metrics=["accuracy"],
            jit=jit,
        )
    else:
        model.compile(loss="mse", optimizer=optimizer, jit=jit)


def _hidden_widths(model: Any) -> list[tuple[int, int]]:
    """(units of each hidden Dense layer, the width its activation passes on): they differ
    for maxout, which keeps the largest of each group of pieces."""
    shapes = [int(shape[-1]) for shape in model.output_shapes()]
    return [
        (shapes[index], shapes[index + 1])
        for index, layer in enumerate(model.layers[:-1])
        if isinstance(layer, Dense) and isinstance(model.layers[index + 1], Activation)
    ]


def _describe_architecture(model: Any, options: TrainOptions, features: int) -> str:
    hidden = " → ".join(
        f"{units} {options.activation}" + ("" if width == units else f" → {width}")
        for units, width in _hidden_widths(model)
    )
    outputs = _output_count(model)
    parts = [str(features), *([hidden] if hidden else []), _plural(outputs or 0, "output")]
    return (
        f"Model: {' → '.join(parts)} ({model.count_parameters():,} parameters); "
        f"{options.optimizer}, lr {options.lr:g}, L2 {options.l2:g}, batch size "
        f"{options.batch_size}"
    )


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
        "split": {
            "test_size": options.test_size,
            "seed": options.seed,
            "stratify": data.task == "classification",
        },
        "options": options.as_metadata(),
    }


class _EpochCounter(Callback):
    """Remembers the last epoch that finished (for the message after Ctrl-C)."""

    def __init__(self) -> None:
        super().__init__()
        self.last: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.last = epoch


def _fit(model: Any, split: Split, options: TrainOptions, checkpoint: Path, resume: bool) -> Any:
    """``model.fit`` with early stopping and a checkpoint; its failures as CLI errors."""
    counter = _EpochCounter()
    stopper = EarlyStopping(
        monitor="val_loss", patience=options.patience, restore_best_weights=True, verbose=1
    )
    try:
        # No Python warning line reaches the terminal: overflow in a diverging run is
        # reported below instead, and the health monitor's findings as lines of their own.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("always", diagnostics.TrainingHealthWarning)
            try:
                return model.fit(
                    split.x_train,
                    _labels_as_classes(model, split.y_train),
                    epochs=options.epochs,
                    batch_size=options.batch_size,
                    validation_split=VALIDATION_SPLIT,
                    callbacks=[stopper, counter, DivergenceGuard()],
                    verbose=1,
                    seed=options.seed,
                    checkpoint=str(checkpoint),
                    resume=resume,
                )
            finally:
                said = dict.fromkeys(
                    ("Health", w.message.worded(diagnostics.CLI))
                    if isinstance(w.message, diagnostics.TrainingHealthWarning)
                    else ("Warning", str(w.message))
                    for w in caught
                )
                for kind, message in said:
                    print(f"{kind}: {message}", file=sys.stderr)
    except TrainingInterrupted:
        done = "" if counter.last is None else f" (epoch {counter.last + 1} of {options.epochs})"
        raise TrainingInterrupted(
            f"training interrupted; {checkpoint} holds the last completed epoch{done}. Run the "
            "same command with --resume to continue."
        ) from None
    except FloatingPointError as error:
        kept = (
            f" The checkpoint {checkpoint} keeps the last good epoch; delete it before "
            "training again."
            if checkpoint.exists()
            else ""
        )
        raise CommandError(
            f"training diverged: {str(error).rstrip('.')}.{kept} Lower the "
            f"learning rate (--lr, now {options.lr:g}; the default is "
            f"{DEFAULT_LR:g})"
        ) from None


def _labels_as_classes(model: Any, y: np.ndarray) -> np.ndarray:
    """Class indices ``y`` as the model's classes (what ``fit`` is given: the labels
    themselves, which it looks up among the classes); other targets as they are."""
    classes = _model_classes(model)
    return y if classes is None or y.dtype.kind not in "iu" else np.asarray(classes)[y]


def _classification_report(
    model: Any, x: np.ndarray, y: np.ndarray, label: str
) -> tuple[dict[str, float], str]:
    """(the numbers, the text): accuracy and the confusion matrix for (x, y)."""
    outputs = model.predict(x, batch_size=512)
    loss = float(model.loss(Tensor(outputs), y).item())  # the data term, without penalties
    predicted = outputs.argmax(axis=1)
    correct = int(np.sum(predicted == y))
    classes = _model_classes(model) or [str(i) for i in range(_output_count(model) or 0)]
    matrix = confusion_matrix(y, predicted, num_classes=len(classes))
    text = (
        f"{label} accuracy: {correct / len(y):.2%} ({correct:,}/{len(y):,}), "
        f"{label.lower()} loss {loss:.4f} ({model.loss.name})\n\n"
        + format_confusion_matrix(matrix, classes)
    )
    return {"loss": loss, "accuracy": correct / len(y)}, text


def _regression_report(
    model: Any, x: np.ndarray, y: np.ndarray, label: str
) -> tuple[dict[str, float], str]:
    """(the numbers, the text): the MSE (and MAE, RMSE) of the model on (x, y)."""
    prediction = model.predict(x, batch_size=512)
    mse = float(np.mean((prediction.astype(np.float64) - y) ** 2))
    mae = float(np.mean(np.abs(prediction.astype(np.float64) - y)))
    text = (
        f"{label} MSE: {mse:.6g} (MAE {mae:.6g}, RMSE {math.sqrt(mse):.6g}) on "
        f"{_plural(len(y), 'row')}"
    )
    return {"mse": mse, "mae": mae}, text


def _write_curves(history: Any, path: Path) -> bool:
    """Draw the training curves to a PNG (``chainrule.plot.history``) when matplotlib is
    importable; False (and no file) without it."""
    from .. import plot

    try:
        plot.history(history, path=path)
    except ImportError:
        return False
    return True


def _print_data_line(data: Any, split: Split) -> None:
    kind = (
        f"{_plural(data.num_classes, 'class')}" if data.task == "classification" else "regression"
    )
    _say(
        f"Data: {data.name} — {_plural(len(data), 'sample')}, "
        f"{_plural(data.x.shape[1], 'feature')}, {kind}"
    )
    held = int(round(len(split.x_train) * VALIDATION_SPLIT))
    _say(
        f"Split: {len(split.x_train):,} training rows ({held:,} of them for validation), "
        f"{len(split.x_test):,} test rows; inputs standardised on the training rows"
    )


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
    outputs = (data.num_classes or 0) if data.task == "classification" else int(data.y.shape[1])
    with default_dtype(options.dtype):
        model = build_model(options, features, outputs)
    # Compiled where it can be, eagerly (without a warning) where it cannot.
    _compile(model, data.task, options, jit="auto" if getattr(args, "jit", False) else False)
    model.preprocessing = datasets.Standardizer().fit(split.x_train)
    model.metadata = _train_metadata(data, options)
    return _TrainRun(options, output, checkpoint, resume, data, split, model)


def history_metadata(history: Any) -> dict[str, Any]:
    """The training history as the model file's metadata keeps it (JSON: lists of floats)."""
    return {
        "epoch": [int(epoch) for epoch in history.epoch],
        "history": {
            str(key): [float(value) for value in values] for key, values in history.history.items()
        },
    }


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


def _bias_variance_line(
    run: _TrainRun, results: dict[str, float], report: Any, baseline: float
) -> str:
    """The basic recipe's verdict: the error on the rows fit trained on (the validation rows
    apart) against the test error, as fractions (for a regression, MSE ÷ variance of y)."""
    held = int(round(len(run.split.x_train) * VALIDATION_SPLIT))
    x, y = (
        run.split.x_train[: len(run.split.x_train) - held],
        run.split.y_train[: len(run.split.y_train) - held],
    )
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
        line += (
            " (against a baseline of 0: if even the best model errs on this data, give "
            "that error with --baseline-error)"
        )
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
    report = _classification_report if run.data.task == "classification" else _regression_report
    results, text = report(run.model, run.split.x_test, run.split.y_test, "Test")
    curves = _save_results(run, history, results)  # the work is safe before any report
    _say()
    _say(text)
    _say()
    _say(_bias_variance_line(run, results, report, args.baseline_error))
    _say()
    _say(
        diagnostics.health_report(run.model, run.split.x_train, run.split.y_train).format(
            diagnostics.CLI
        )
    )
    _say()
    _say(f"Wrote the model to {run.output}")
    if curves:
        _say(f"Wrote the training curves to {curves_path(run.output)}")
    _say(
        f"Done in {time.monotonic() - started:.1f}s. Check it with: chainrule evaluate {run.output}"
    )
    return 0


def _add_train(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "train",
        command_train,
        "train an MLP and save it",
        (
            "Train a multilayer perceptron and write it to one .npz model file.\n\n"
            "With no options: the built-in digits, a stratified seeded split (20% test rows),\n"
            "inputs standardised on the training rows, a 64-64 ReLU network with an L2 penalty\n"
            "trained with Adam, early stopping on the validation loss (10% of the training rows).\n"
            "While it trains, the model is checkpointed to <output stem>.ckpt.npz after every\n"
            "epoch; after Ctrl-C, run the same command with --resume to continue."
        ),
        common,
    )
    _add_data_options(
        parser,
        DEFAULT_DATA,
        "a built-in dataset (see 'chainrule datasets'), a "
        "CSV file with a header row, or an .npz with arrays x and y",
    )
    parser.add_argument(
        "--layers",
        type=_layer_sizes,
        default="64,64",
        metavar="N,N,...",
        help="hidden-layer widths ('none': no hidden layer)",
    )
    parser.add_argument(
        "--activation",
        type=_activation_name,
        default="relu",
        help="the hidden layers' activation, any name of 'chainrule activations'",
    )
    parser.add_argument(
        "--optimizer",
        type=_optimizer_name,
        default="adam",
        help=f"one of {', '.join(train_optimizers())}",
    )
    parser.add_argument("--lr", type=_positive_float, default=DEFAULT_LR, help="learning rate")
    parser.add_argument(
        "--l2",
        type=_non_negative_float,
        default=0.003,
        help="L2 penalty (λ/2)‖W‖² on every Dense kernel (0: none)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=60,
        help="the most epochs to train (early stopping may end sooner)",
    )
    parser.add_argument(
        "--patience",
        type=_non_negative_int,
        default=8,
        help="epochs without a better validation loss before stopping",
    )
    parser.add_argument("--batch-size", type=_positive_int, default=32)
    parser.add_argument(
        "--test-size",
        type=_fraction,
        default=0.2,
        help="the fraction of rows held out for the test",
    )
    parser.add_argument(
        "--baseline-error",
        type=_error_rate,
        default=0.0,
        metavar="E",
        help="the error a human or the best possible model makes (a fraction; "
        "for a regression of the targets' variance), for the bias/variance "
        "verdict (default 0)",
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seeds the split, the initial weights and the shuffling",
    )
    parser.add_argument(
        "--output", "-o", default=DEFAULT_OUTPUT, metavar="FILE", help="the model file to write"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run whose checkpoint is <output stem>.ckpt.npz",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="the float type of the data and the model (float64 for "
        "integers beyond 2^24, such as identifiers)",
    )
    parser.add_argument(
        "--task",
        choices=("classification", "regression"),
        default=None,
        help="what the targets are (default: guessed: integers or text are "
        "class labels, other numbers regression targets)",
    )
    parser.add_argument(
        "--jit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train with the compiled step (bit-identical results, faster); "
        "--no-jit trains eagerly",
    )


__all__ = ["build_model", "command_train", "history_metadata", "TrainOptions"]
