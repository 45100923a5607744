"""``chainrule evaluate``, ``predict`` and ``gradcheck``: use a saved model file."""

from __future__ import annotations

import argparse
import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets, losses
from ..atomic import write_bytes_atomically
from ..data_path import match_columns
from ..errors import CommandError, DataError, UsageError
from .common import (
    DEFAULT_DATA,
    DEFAULT_LR,
    _activation_name,
    _add_data_options,
    _add_model_argument,
    _check_features,
    _check_writable,
    _data_help,
    _labels_for_model,
    _layer_sizes,
    _load_model,
    _message,
    _model_classes,
    _model_dtype,
    _model_task,
    _names_builtin,
    _non_negative_float,
    _non_negative_int,
    _out,
    _plural,
    _positive_float,
    _positive_int,
    _refuse_overwriting,
    _say,
    _subparser,
    _trained_task,
    file_sha256,
    load_data,
    split_data,
)
from .train import (
    TrainOptions,
    _classification_report,
    _compile,
    _describe_architecture,
    _regression_report,
    build_model,
)


# ====================================================================== evaluate
def _compiled(model: Any) -> Any:
    """A loaded model ready for evaluate (compiled with its task's loss if it was not)."""
    if getattr(model, "loss", None) is None or getattr(model, "optimizer", None) is None:
        if _model_task(model) == "classification":
            model.compile(
                loss=losses.get("sparse_categorical_crossentropy", from_logits=True),
                optimizer="sgd",
                metrics=["accuracy"],
            )
        else:
            model.compile(loss="mse", optimizer="sgd")
    return model


def _recorded_data(model: Any) -> tuple[str, str | None, dict[str, Any]]:
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    spec = meta.get("data") or meta.get("dataset")
    split = meta.get("split")
    if not spec or not isinstance(split, dict):
        raise UsageError(
            "the model file does not record the data it was trained on; give --data NAME|PATH"
        )
    if not _names_builtin(spec) and not os.path.exists(spec):
        raise UsageError(
            f"the model was trained on {spec}, which no longer exists; give --data NAME|PATH"
        )
    recorded = meta.get("data_sha256")
    if isinstance(recorded, str) and not _names_builtin(spec) and file_sha256(spec) != recorded:
        raise UsageError(
            f"the model was trained on {spec}, which has changed since (its "
            "SHA-256 differs from the one recorded at training), so its recorded "
            "split is not the training split any more; give --data PATH to use "
            "the file as it is now"
        )
    return spec, meta.get("target"), split


def _target_for(args: argparse.Namespace, model: Any) -> str | None:
    """--target, or for a CSV file the column the model was trained to predict (so that a
    file without it is refused rather than read with its last column as the target)."""
    if args.target is not None or Path(args.data).suffix.lower() != ".csv":
        return args.target
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    return meta.get("target")


def _evaluation_data(
    args: argparse.Namespace, model: Any
) -> tuple[datasets.Dataset, np.ndarray, np.ndarray, str]:
    """(data, x, y, description): the recorded split's test rows, or all rows of --data."""
    if args.data is not None:
        data = load_data(
            args.data,
            _target_for(args, model),
            dtype=_model_dtype(model),
            model_task=_model_task(model),
        )
        return data, data.x, data.y, f"{data.name}, all rows"
    spec, target, settings = _recorded_data(model)
    data = load_data(spec, target, _trained_task(model), _model_dtype(model))
    split = split_data(data, float(settings["test_size"]), int(settings["seed"]))
    where = (
        f"{data.name}, the test rows of the training split (seed {settings['seed']}, "
        f"test size {settings['test_size']:g})"
    )
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
        _, text = _classification_report(model, x, _labels_for_model(model, y, data.classes), label)
    else:
        _, text = _regression_report(model, x, np.asarray(y, dtype=np.float64), label)
    _say(text)
    return 0


# ====================================================================== predict
def _feature_columns(header: list[str], model: Any, path: Path) -> list[int]:
    """The CSV columns to feed the model: matched by name to its feature names, in any
    order, its target column ignored (a missing or unknown column is a usage error listing
    them, ``data_path.match_columns``); all but the target by position when the model has
    no names."""
    meta = model.metadata if isinstance(model.metadata, dict) else {}
    target, features = meta.get("target"), meta.get("feature_names")
    if features:
        try:
            targets = (
                []
                if target is None
                else (datasets.files.target_columns(str(target), header) or [str(target)])
            )
            return match_columns(header, [str(f) for f in features], str(path), ignored=targets)
        except DataError as error:
            raise UsageError(str(error)) from None
    return [i for i, name in enumerate(header) if target is None or name != target]


def read_feature_csv(path: Path, model: Any) -> np.ndarray:
    """The model's input rows from a CSV with a header (read by ``datasets.files.read_csv_table``);
    a bad cell's error names its line and column, NaN or infinity the lines that hold them."""
    header, rows = datasets.files.read_csv_table(path, needs_target=False)
    columns = _feature_columns(header, model, path)
    values = np.empty((len(rows), len(columns)), dtype=np.float64)
    for index, (line, row) in enumerate(rows):
        for position, column in enumerate(columns):
            try:
                values[index, position] = float(row[column])
            except ValueError:
                raise CommandError(
                    f"{path}, line {line}, column {header[column]!r}: "
                    f"{row[column].strip()!r} is not a number"
                ) from None
    bad = [rows[i][0] for i in np.flatnonzero(~np.all(np.isfinite(values), axis=1))]
    if bad:
        raise CommandError(f"{path} has NaN or infinite values on lines {_listed(bad)}")
    return values


def _listed(numbers: Sequence[int] | np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(n)) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def _predict_inputs(model: Any, spec: str) -> np.ndarray:
    """The rows to predict for, from a CSV file or an .npz with an array 'x'."""
    path = Path(spec)
    if not path.is_file():
        raise UsageError(f"no input file at {spec}")
    if path.suffix.lower() == ".npz":
        x, names = _npz_inputs(path)
        features = model.metadata.get("feature_names") if isinstance(model.metadata, dict) else None
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
                raise CommandError(
                    f"{path} has no array 'x' (it has: {', '.join(archive.files) or 'nothing'})"
                )
            x = archive["x"]
            names = (
                None
                if "feature_names" not in archive.files
                else [str(n) for n in archive["feature_names"].tolist()]
            )
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
        raise CommandError(
            f"{path}: 'x' has NaN or infinite values in rows {_listed(bad)} (counting from 0)"
        )
    if names is not None and len(names) != x.shape[1]:
        raise CommandError(
            f"{path}: 'feature_names' has {len(names)} names for {x.shape[1]} columns of 'x'"
        )
    return x, names


def _prediction_rows(
    model: Any, x: np.ndarray, proba: bool = False, classes: bool = False
) -> list[list[str]]:
    """The header and one row per input: the class name, or the predicted value(s); with
    ``proba`` one probability column per class (headed by the class names), after the class
    name when ``classes`` is asked for too."""
    if proba or classes:
        return _class_rows(model, x, proba, classes)
    outputs = model.predict(x, batch_size=512)
    if _model_task(model) == "classification":
        names = _model_classes(model) or [str(i) for i in range(outputs.shape[1])]
        return [["prediction"], *([names[i]] for i in outputs.argmax(axis=1))]
    names = (
        ["prediction"]
        if outputs.shape[1] == 1
        else [f"prediction_{i}" for i in range(outputs.shape[1])]
    )
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
        raise CommandError(
            f"the model has {probabilities.shape[1]} outputs but its metadata "
            f"names {len(names)} classes"
        )
    header = (["prediction"] if classes else []) + (names if proba else [])
    rows = [header]
    for row in probabilities:
        rows.append(
            ([names[int(row.argmax())]] if classes else [])
            + ([f"{p:.7g}" for p in row] if proba else [])
        )
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


# ====================================================================== gradcheck
GRADCHECK_LAYERS = "16,16"
GRADCHECK_ACTIVATION = "relu"
GRADCHECK_L2 = 0.003


def _gradcheck_options(args: argparse.Namespace) -> TrainOptions:
    """The options ``train`` would get from these ``gradcheck`` options (training-only ones
    at ``train``'s defaults: they do not change the model or its cost)."""
    layers = _layer_sizes(GRADCHECK_LAYERS) if args.layers is None else args.layers
    return TrainOptions(
        data=args.data or DEFAULT_DATA,
        target=args.target,
        layers=tuple(layers),
        activation=args.activation or GRADCHECK_ACTIVATION,
        optimizer="adam",
        lr=DEFAULT_LR,
        l2=GRADCHECK_L2 if args.l2 is None else args.l2,
        epochs=1,
        batch_size=32,
        patience=0,
        test_size=0.2,
        seed=args.seed,
    )


def _gradcheck_new_model(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """(model, x, y, description): the model ``train`` would build, on training rows."""
    options = _gradcheck_options(args)
    data = load_data(options.data, options.target)
    split = split_data(data, options.test_size, options.seed)
    features = int(data.x.shape[1])
    outputs = (data.num_classes or 0) if data.task == "classification" else int(data.y.shape[1])
    model = build_model(options, features, outputs)
    _compile(model, data.task, options)
    model.preprocessing = datasets.Standardizer().fit(split.x_train)
    _say(
        f"Data: {data.name} — the first {_plural(min(args.samples, len(split.x_train)), 'row')} "
        f"of the training split (seed {options.seed})"
    )
    _say(_describe_architecture(model, options, features).split(";")[0] + f"; L2 {options.l2:g}")
    return model, split.x_train[: args.samples], split.y_train[: args.samples], data.name


def _gradcheck_saved_model(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """(model, x, y, description): a saved model, on its recorded training rows or --data."""
    given = [name for name in ("layers", "activation", "l2") if getattr(args, name) is not None]
    if given:
        raise UsageError(
            f"--{given[0]} describes a new model; a saved MODEL has its own "
            "architecture (leave it out, or leave out MODEL)"
        )
    model = _compiled(_load_model(args.model))
    if args.data is not None:
        data = load_data(
            args.data, args.target, dtype=_model_dtype(model), model_task=_model_task(model)
        )
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
    x, y = x[: args.samples], y[: args.samples]
    if task == "classification":
        y = _labels_for_model(model, y, data.classes)
    _say(f"Model: {args.model} ({model.count_parameters():,} parameters)")
    _say(f"Data: {where}: {_plural(len(x), 'row')}")
    return model, x, y, data.name


def command_gradcheck(args: argparse.Namespace) -> int:
    """Check backprop's gradients against two-sided numeric differences; exit 1 if they
    disagree."""
    from ..gradient_check import NonFiniteError, check_model

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
        _say(
            f"Verdict: {report.verdict} — backprop agrees with the numeric gradient "
            f"(relative error {report.relative_error:.2e}, noise floor "
            f"{report.noise_floor:.2e}, on {_plural(len(x), 'row')})"
        )
        return 0
    _say(
        f"Verdict: {report.verdict} — backprop DISAGREES with the numeric gradient "
        f"(relative error {report.relative_error:.2e}, noise floor {report.noise_floor:.2e}; "
        "see the rows marked above)"
    )
    return 1


def _add_evaluate(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "evaluate",
        command_evaluate,
        "loss and accuracy of a model",
        (
            "Measure a saved model's loss and accuracy (MSE for regression).\n\n"
            "Without --data: the dataset recorded in the model file, split exactly as 'train' "
            "split it,\nso the test accuracy printed by 'train' is reproduced. With --data: all "
            "rows of that data."
        ),
        common,
    )
    _add_model_argument(parser)
    _add_data_options(
        parser, None, _data_help("the test rows of the data the model was trained on")
    )


def _add_predict(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "predict",
        command_predict,
        "predict for new rows",
        (
            "Predict with a saved model: one prediction per input row (a class name, or a value "
            "for\nregression), as CSV with the header 'prediction'.\n\n"
            "INPUT is a CSV with a header row (every column is a feature; the model's target "
            "column\nis dropped if present) or an .npz with an array 'x'."
        ),
        common,
    )
    _add_model_argument(parser)
    parser.add_argument("input", metavar="INPUT", help="a CSV file or an .npz with 'x'")
    parser.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="FILE",
        help="write the predictions to FILE (atomically) (default: stdout)%(default).0s",
    )
    parser.add_argument(
        "--proba",
        action="store_true",
        help="write every class's probability, one column per class named after it",
    )
    parser.add_argument(
        "--classes",
        action="store_true",
        help="write the predicted class's name (with --proba: before the probabilities)",
    )


def _add_gradcheck(commands: Any, common: argparse.ArgumentParser) -> None:
    from ..gradient_check import DEFAULT_EPS  # small, and needs only what chainrule loads

    parser = _subparser(
        commands,
        "gradcheck",
        command_gradcheck,
        "check backprop against numeric gradients",
        (
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
            "NaN/inf)."
        ),
        common,
    )
    _add_model_argument(parser, "a new model built from the options")
    _add_data_options(parser, None, _data_help(f"{DEFAULT_DATA}, or MODEL's recorded data"))
    parser.add_argument(
        "--layers",
        type=_layer_sizes,
        default=None,
        metavar="N,N,...",
        help=f"hidden-layer widths ('none': no hidden layer) (default: "
        f"{GRADCHECK_LAYERS})%(default).0s",
    )
    parser.add_argument(
        "--activation",
        type=_activation_name,
        default=None,
        help=f"the hidden layers' activation (default: {GRADCHECK_ACTIVATION})%(default).0s",
    )
    parser.add_argument(
        "--l2",
        type=_non_negative_float,
        default=None,
        help=f"L2 penalty on every Dense kernel (default: {GRADCHECK_L2:g})%(default).0s",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, help="seeds the split and the initial weights"
    )
    parser.add_argument(
        "--samples", type=_positive_int, default=16, help="how many rows the cost is evaluated on"
    )
    parser.add_argument(
        "--eps",
        type=_positive_float,
        default=DEFAULT_EPS,
        help="the step ε of the differences (default: %(default)g)",
    )


__all__ = [
    "command_evaluate",
    "command_gradcheck",
    "command_predict",
    "GRADCHECK_ACTIVATION",
    "GRADCHECK_L2",
    "GRADCHECK_LAYERS",
    "read_feature_csv",
]
