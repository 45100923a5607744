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
import sys
import traceback

from .. import __version__
from ..errors import CommandError, UsageError
from . import experiments, explain, export
from .activations import _add_activations
from .common import (
    PROG,
    _Parser,
    _pipe_safe_streams,
    _report,
    _report_interruption,
    _Signals,
    checkpoint_path,
    curves_path,
    load_data,
    split_data,
)
from .datasets import _add_datasets
from .evaluate import _add_evaluate, _add_gradcheck, _add_predict
from .info import _add_info
from .playground import _add_playground
from .plot import _add_plot, history_plot_path
from .train import _add_train


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``chainrule`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )
    parser = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="chainrule: feedforward neural networks in NumPy, from the command line.",
        epilog="Start with: chainrule train   (then: chainrule evaluate chainrule-model.npz)",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    _add_train(commands, common)
    _add_evaluate(commands, common)
    _add_predict(commands, common)
    _add_info(commands, common)
    _add_datasets(commands, common)
    _add_activations(commands, common)
    _add_gradcheck(commands, common)
    _add_plot(commands, common)
    _add_playground(commands, common)
    experiments.add_parser(commands, common)  # compare, tune, study
    export.add_parser(commands, common)  # export
    explain.add_parser(commands, common)  # explain
    return parser


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


__all__ = [
    "CommandError",
    "UsageError",
    "build_parser",
    "checkpoint_path",
    "curves_path",
    "history_plot_path",
    "load_data",
    "main",
    "split_data",
]
