"""What the commands share: the output helpers (``_say``, ``_note``, tables), the argument
types, output-file checks, reading data and model files, the parser classes, and the error
report and exit codes (the error classes live in ``chainrule.errors``)."""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .. import activations, datasets, optim
from ..data_path import FLOAT64_ADVICE
from ..errors import CommandError, DataError, UsageError
from ..serialization import ModelFileError, load_model

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
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("─" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def _terminal_width() -> int:
    """The terminal's width in characters ($COLUMNS first; 80 when it cannot be told)."""
    return shutil.get_terminal_size((80, 24)).columns


def _fit_columns(given: Sequence[Sequence[str]], width: int) -> tuple[list[list[str]], list[str]]:
    """(rows, dropped headers): the rightmost columns dropped until the table fits ``width``
    (the first column is kept); cells still too wide are cut, ending in "…"."""
    rows = [list(row) for row in given]
    dropped: list[str] = []

    def table_width(table: list[list[str]]) -> int:
        return sum(max(len(row[i]) for row in table) for i in range(len(table[0]))) + 2 * (
            len(table[0]) - 1
        )

    while len(rows[0]) > 2 and table_width(rows) > width:
        dropped.insert(0, rows[0][-1])
        rows = [row[:-1] for row in rows]
    excess = table_width(rows) - width
    if excess > 0:  # cut the widest column's long cells
        column = max(range(len(rows[0])), key=lambda i: max(len(row[i]) for row in rows))
        limit = max(1, max(len(row[column]) for row in rows) - excess)
        for row in rows:
            if len(row[column]) > limit:
                row[column] = row[column][: limit - 1] + "…"
    return rows, dropped


def _yes_no(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _plural(count: int, word: str) -> str:
    ending = "" if count == 1 else ("es" if word.endswith("s") else "s")
    return f"{count:,} {word}{ending}"


# ====================================================================== argument types
def _parsed(
    text: str, convert: Callable[[str], Any], accept: Callable[[Any], bool], expected: str
) -> Any:
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
    """ "64,64" → (64, 64); "" or "none" → () (no hidden layer: a linear model)."""
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


def _takes_learning_rate(cls: type[optim.Optimizer]) -> bool:
    """Whether an optimiser steps on mini-batches with a learning rate (the ones ``train``
    drives); lbfgs and cg minimise the full-batch loss with scipy and have no lr. Asked of
    the class: building L-BFGS needs SciPy, which the core does not."""
    from ..naming import accepted_parameters

    return "lr" in accepted_parameters(cls)


def train_optimizers() -> list[str]:
    """The optimiser names ``train --optimizer`` accepts."""
    return [name for name in optim.names() if _takes_learning_rate(optim.optimizer_class(name))]


def _optimizer_name(text: str) -> str:
    try:
        cls = optim.optimizer_class(text)
    except (KeyError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not _takes_learning_rate(cls):
        raise argparse.ArgumentTypeError(
            f"{cls.name} minimises the full-batch loss without a learning rate, which "
            f"'train' does not drive (use it from Python); choose one of: "
            f"{', '.join(train_optimizers())}"
        )
    return text.lower()


# ====================================================================== files
def _check_writable(path: Path, what: str = "output") -> None:
    """Fail now (before any work) if ``path`` cannot be written; touches nothing there."""
    if path.is_dir():
        raise CommandError(f"the {what} {path} is a directory; give a file name")
    directory = path.parent
    if not directory.exists():
        raise CommandError(
            f"cannot write the {what} {path}: the directory {directory} does not exist"
        )
    if not directory.is_dir():
        raise CommandError(f"cannot write the {what} {path}: {directory} is not a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise CommandError(f"cannot write the {what} {path}: the file exists and is read-only")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=directory)
    except OSError as error:
        raise CommandError(
            f"cannot write the {what} {path}: cannot create files in "
            f"{directory} ({error.strerror or error})"
        ) from None
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
            raise UsageError(
                f"{option} {output} is the {name}; writing it would destroy the "
                "input: choose another output file"
            )


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


def load_data(
    spec: str,
    target: str | None = None,
    task: str | None = None,
    dtype: str = "float32",
    model_task: str | None = None,
) -> datasets.Dataset:
    """A built-in dataset by name, or a data file (CSV with a header row, .npz with x and y)
    read for ``task`` (None: guessed from its targets, ``chainrule.data_path``'s rules) in
    ``dtype``; targets whose task is ambiguous are read for ``model_task`` when given (the
    task of the model the data is for)."""
    if target is not None and _names_builtin(spec):
        raise UsageError(
            f"--target names a column of a data file; the built-in dataset "
            f"{spec!r} has its own targets"
        )
    if Path(spec).suffix.lower() == ".npz" and _npz_without_rows(Path(spec)):
        raise CommandError(f"the data in {spec} has no rows")
    try:
        reading = {}  # built-in sets and IDX images (bytes, class labels) need no choice
        with contextlib.suppress(ValueError):  # an unknown format: datasets.load says so
            if not _names_builtin(spec) and datasets.file_format(spec) in ("csv", "tsv", "npz"):
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
        words in str(error) for words in ("has no column", "has no array")
    )


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
            data.x, data.y, test_size=test_size, stratify=stratify, seed=seed
        )
    except ValueError as error:
        raise CommandError(
            f"cannot split {data.name} into training and test rows: {error}"
        ) from error
    return Split(np.asarray(x_train), np.asarray(y_train), np.asarray(x_test), np.asarray(y_test))


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
        raise CommandError(
            f"the model expects {_plural(expected, 'feature')} per row, but "
            f"{source} has {_plural(x.shape[1], 'feature')} (columns)"
        )


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


def _labels_for_model(model: Any, y: np.ndarray, data_classes: list[str] | None) -> np.ndarray:
    """Labels ``y`` of data with ``data_classes`` as the model's class indices (matched by
    class name when both have names); a class the model does not have is an error."""
    classes = _model_classes(model)
    y = np.asarray(y)
    if data_classes is not None and classes is not None:
        position = {name: index for index, name in enumerate(classes)}
        mapped = np.array([position.get(name, -1) for name in data_classes], np.int64)[y]
        if np.any(mapped < 0):
            row = int(np.argmax(mapped < 0))
            raise CommandError(
                f"row {row} of the data has the class {data_classes[y[row]]!r}, "
                f"which the model does not know; its classes are: "
                f"{', '.join(classes)}"
            )
        return mapped
    if (
        data_classes is not None
        and classes is None
        and all(name.isdigit() for name in data_classes)
    ):  # a model of labels as indices 0..max
        y = np.array([int(name) for name in data_classes], np.int64)[y]
    count = len(classes) if classes is not None else _output_count(model)
    if count is not None and y.size and int(y.max()) >= count:
        row = int(np.argmax(y >= count))
        raise CommandError(
            f"label {int(y[row])} in row {row} is out of range: the model has "
            f"{_plural(count, 'class')} (labels 0..{count - 1})"
        )
    return y


def _output_count(model: Any) -> int | None:
    shapes = model.output_shapes() if hasattr(model, "output_shapes") else []
    return int(shapes[-1][-1]) if shapes and shapes[-1] else None


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


def _whole_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def convert(text: str) -> int:
        return _parsed(
            text, int, lambda v: low <= v <= high, f"a whole number from {low} to {high}"
        )

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
        self.exit(2, f"{PROG}: error: {_with_suggestion(message)} (see '{self.prog} --help')\n")


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


def _command_parser(
    commands: Any, name: str, summary: str, description: str, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The parser of command ``name``: ``summary`` in the list of commands, ``description`` in
    its --help, and the options every command takes (``common``)."""
    return commands.add_parser(
        name, help=summary, description=description, formatter_class=_Formatter, parents=[common]
    )


def _subparser(
    commands: Any,
    name: str,
    handler: Callable[[argparse.Namespace], int],
    summary: str,
    description: str,
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    parser = _command_parser(commands, name, summary, description, common)
    parser.set_defaults(handler=handler)
    return parser


def _command_group(
    commands: Any,
    name: str,
    summary: str,
    description: str,
    common: argparse.ArgumentParser,
    *,
    dest: str,
    metavar: str,
) -> Any:
    """A command made of subcommands (``chainrule plot WHAT``, ``chainrule study ACTION``): the
    subcommands' action, to add each to with ``_subparser``; one of them is required."""
    group = _command_parser(commands, name, summary, description, common)
    return group.add_subparsers(dest=dest, metavar=metavar, required=True, parser_class=_Parser)


_MODEL_HELP = "a model file written by 'train'"


def _add_model_argument(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """The MODEL argument of the commands that read a model file; with ``default`` (what the
    command works on without one, in words) it may be left out."""
    if default is None:
        parser.add_argument("model", metavar="MODEL", help=_MODEL_HELP)
    else:
        parser.add_argument(
            "model",
            nargs="?",
            default=None,
            metavar="MODEL",
            help=f"{_MODEL_HELP} (default: {default})%(default).0s",
        )


def _data_help(default: str) -> str:
    """--data's help for the commands that read a model's data unless given other data;
    ``default``: the data they use without --data, in words."""
    return (
        f"a built-in dataset, a CSV file or an .npz with x and y (default: {default})%(default).0s"
    )


def _add_data_options(parser: argparse.ArgumentParser, default: str | None, data_help: str) -> None:
    """The --data and --target options that train, evaluate, gradcheck and explain share."""
    parser.add_argument("--data", default=default, metavar="NAME|PATH", help=data_help)
    parser.add_argument(
        "--target",
        metavar="COL",
        default=None,
        help="the CSV column holding the targets (default: the last column)%(default).0s",
    )


# ====================================================================== main
TERMINATED = 143  # the shell's code for a process ended by SIGTERM


# Advice in the library's messages that names Python-only parameters, in the CLI's terms.
_PYTHON_ADVICE = (
    (re.compile(re.escape(FLOAT64_ADVICE)), "use float64: --dtype float64"),
    (
        re.compile(r" \(choose them with x_key= and y_key=\)"),
        " (the command reads the arrays 'x' and 'y'; --target names another array for y)",
    ),
    (
        re.compile(r"pass labels_path( to name it)?"),
        "put the labels file beside the images, named by MNIST's pattern",
    ),
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
    print(
        f"{PROG}: {label}: {detail}" if detail else f"{PROG}: {label}", file=sys.stderr, flush=True
    )
    # CPython (3.11) marks a KeyboardInterrupt that escapes exec(source) as unhandled and
    # then ends the process by SIGINT (exit -2), even once it is caught; the compiled
    # step's code is exec'd, so Ctrl-C there would set that mark. Running source code again
    # clears it, so the exit code below is the one the process exits with.
    exec("None")
    return TERMINATED if terminated else INTERRUPTED


__all__ = [
    "checkpoint_path",
    "curves_path",
    "DEFAULT_DATA",
    "DEFAULT_LR",
    "DEFAULT_OUTPUT",
    "file_sha256",
    "in_cli_terms",
    "INTERRUPTED",
    "load_data",
    "PROG",
    "Split",
    "split_data",
    "TERMINATED",
    "train_optimizers",
    "VALIDATION_SPLIT",
    "Z_TABLE",
]
