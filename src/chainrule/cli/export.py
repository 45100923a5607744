"""``chainrule export MODEL OUT.onnx [--opset N]``: a saved model as an ONNX file.

The ONNX model takes raw rows (the model's preprocessing is part of it) and returns what
``model.predict`` returns; see ``chainrule.onnx_export``. Needs the onnx extra. Exit codes as
every command: 1 when the model cannot be read or exported, 2 for an opset that is out of range
or too low for the model.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import (
    CommandError,
    UsageError,
    _add_model_argument,
    _check_writable,
    _load_model,
    _positive_int,
    _say,
    _subparser,
)


def _shape(shape: tuple[int, ...]) -> str:
    return "(N, " + ", ".join(str(size) for size in shape) + ")"


def command_export(args: argparse.Namespace) -> int:
    """Write MODEL as ONNX to OUT, at the lowest opset it needs (or --opset)."""
    from ..onnx_export import OnnxExportError, OpsetError, export_onnx, import_onnx

    try:
        import_onnx()
    except ImportError as error:
        raise CommandError(str(error)) from None
    output = Path(args.output)
    _check_writable(output)
    model = _load_model(args.model)
    try:
        written = export_onnx(model, output, opset=args.opset)
    except OpsetError as error:
        raise UsageError(str(error)) from None
    except OnnxExportError as error:
        raise CommandError(f"cannot export {args.model}: {error}") from None
    _say(
        f"Wrote {output} (ONNX opset {written.opset}, IR version {written.ir_version}): "
        f"input {_shape(written.input_shape)} raw {written.dtype} rows, output "
        f"{_shape(written.output_shape)}: {written.output}."
    )
    return 0


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``export`` command to the ``chainrule`` parser."""
    parser = _subparser(
        commands,
        "export",
        command_export,
        "write a model as ONNX",
        (
            "Write a saved model as an ONNX file (atomically), to run it with onnxruntime or any\n"
            "ONNX runtime. The ONNX model takes raw rows: the model's preprocessing is part of "
            "it.\n"
            "Its output is what 'predict' computes from: probabilities after a softmax or sigmoid\n"
            "output layer, logits when the loss was computed from logits.\n\n"
            "The opset is the lowest the model needs (7 for a ReLU network; Mish needs 18, GELU\n"
            '20). Needs the onnx extra: pip install "chainrule[onnx]".'
        ),
        common,
    )
    _add_model_argument(parser)
    parser.add_argument("output", metavar="OUT", help="the .onnx file to write")
    parser.add_argument(
        "--opset",
        type=_positive_int,
        default=None,
        metavar="N",
        help="the ONNX opset to write (default: the lowest the model needs)%(default).0s",
    )


__all__ = ["add_parser", "command_export"]
