"""``chainrule activations``: the activation catalog, or one activation in detail."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

import numpy as np

from .. import activations
from ..errors import UsageError
from .common import (
    Z_TABLE,
    _fit_columns,
    _message,
    _say,
    _subparser,
    _table,
    _terminal_width,
    _yes_no,
)


# ====================================================================== activations
def _catalog_table() -> str:
    rows = [
        (
            "Name",
            "Formula",
            "Derivative",
            "Range",
            "Zero-centred",
            "Monotonic",
            "Saturating",
            "Smooth",
        )
    ]
    for name in activations.names():
        act = activations.get(name)
        rows.append(
            (
                name,
                act.formula,
                act.derivative_formula,
                act.output_range,
                _yes_no(act.zero_centered),
                _yes_no(act.monotonic),
                act.saturating,
                _yes_no(act.smooth),
            )
        )
    width = _terminal_width()
    fitted, dropped = _fit_columns(rows, width)
    note = (
        ""
        if not dropped
        else "\n"
        + textwrap.fill(
            f"(columns left out to fit the terminal: {', '.join(dropped)}; see them with "
            "'chainrule activations NAME')",
            width=max(width, 20),
        )
    )
    return _table(fitted) + note


def _kink_lines(act: Any) -> list[str]:
    if act.kinks:
        pairs = ", ".join(
            f"z = {k:g}: g' taken as {v:g}" for k, v in zip(act.kinks, act.subgradients_at_kinks)
        )
        return [f"Kinks: {pairs} (change with subgradient=...)"]
    if act.smooth:
        return ["Kinks: none (differentiable everywhere)"]
    return ["Kinks: wherever two pieces tie (g' goes to the first winning piece)"]


def _number(value: float) -> str:
    return f"{float(value) + 0.0:.6f}"  # + 0.0 turns −0.0 into 0.0


def _value_table(act: Any) -> str:
    z = np.array(Z_TABLE, dtype=np.float64)
    values = [act.forward(z), act.derivative(z), act.second_derivative(z)]
    rows: list[tuple[str, ...]] = [("z", "g(z)", "g'(z)", "g''(z)")]
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
        lines.append(
            f"{act.name} is vector-valued: it maps a whole vector z to a vector a, so "
            "its derivative is a Jacobian matrix, not one slope per element."
        )
    lines += [
        f"  g(z)   {act.formula}",
        f"  g'(z)  {act.derivative_formula}",
        f"  g''(z) {act.second_derivative_formula}",
    ]
    if act.derivative_from_output_formula:
        lines.append(f"  g' from the output a: {act.derivative_from_output_formula}")
    lines += [
        "",
        f"Range: {act.output_range}; zero-centred: {_yes_no(act.zero_centered)}; "
        f"monotonic: {_yes_no(act.monotonic)}; saturating: {act.saturating}; "
        f"smooth: {_yes_no(act.smooth)}",
    ]
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
        _say(
            textwrap.fill(
                "Details of one: chainrule activations NAME (aliases work: logistic, swish, ...)",
                width=max(_terminal_width(), 20),
            )
        )
    else:
        _say(_describe_activation(args.name))
    return 0


def _add_activations(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "activations",
        command_activations,
        "the activation catalog",
        "Without NAME: a table of the whole activation catalog. With NAME (aliases "
        "accepted):\nits formulas, properties, kink values, and g, g', g'' at "
        "z = −3, −1, 0, 1, 3.",
        common,
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="one activation to describe")


__all__ = ["command_activations"]
