"""Notebook views: the HTML that ``_repr_html_`` of models, histories and reports returns.

Jupyter shows an object's ``_repr_html_()`` instead of its ``repr``. These helpers build it
from what the objects already print (one fact in one place): a model's summary rows, a
history's curves (an inline SVG drawn by ``chainrule.plot.history`` when matplotlib is
installed, else a table of the numbers) with its bias/variance verdict, a gradient check's
table.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .nn.module import Module

__all__ = ["history_html", "model_html", "table_html"]


def table_html(
    header: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "", footer: str = ""
) -> str:
    """An HTML table with escaped cells (a caption above it and a footer line below)."""
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    tail = f"<p>{html.escape(footer)}</p>" if footer else ""
    return (
        f"<div><table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"{tail}</div>"
    )


def model_html(model: Module) -> str:
    """The model's layers (Sequential) or parameters as a table, with the total count."""
    name = getattr(model, "name", type(model).__name__)
    total = f"Total parameters: {model.count_parameters():,}"
    layers = getattr(model, "layers", None)
    if layers is not None and hasattr(model, "output_shapes"):
        rows = []
        for layer, shape in zip(layers, model.output_shapes()):
            built = getattr(layer, "built", True)
            count = sum(p.size for p in layer.parameters())
            rows.append(
                (
                    f"{getattr(layer, 'name', '') or '?'} ({type(layer).__name__})",
                    "?" if shape is None else "(None, " + ", ".join(map(str, shape)) + ")",
                    f"{count:,}" if built else "? (not built)",
                )
            )
        return table_html(
            ("Layer (type)", "Output shape", "Params"), rows, f'Model: "{name}"', total
        )
    parameters = [(key, tuple(p.shape), f"{p.size:,}") for key, p in model.named_parameters()]
    return table_html(("Parameter", "Shape", "Size"), parameters, f'Model: "{name}"', total)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def history_html(history: Any) -> str:
    """The curves as an inline SVG when matplotlib is installed, else the numbers as a table."""
    keys = list(history.history)
    if not history.epoch:
        return "<div><p>History: no epoch recorded yet</p></div>"
    verdict = _bias_variance_html(history)
    try:
        from . import plot

        figure = plot.history(history)
    except (ImportError, ValueError):
        rows = [
            (epoch + 1, *(_number(history.history[key][index]) for key in keys))
            for index, epoch in enumerate(history.epoch)
        ]
        return table_html(("epoch", *keys), rows, f"History: {len(history.epoch)} epochs") + verdict
    return f"<div>{figure._repr_svg_()}</div>{verdict}"


def _bias_variance_html(history: Any) -> str:
    """The bias/variance verdict of a history with an accuracy and its validation figure
    (empty when it has none: a loss alone is not a fraction to judge)."""
    from .bias_variance import from_history

    try:
        return from_history(history)._repr_html_()
    except ValueError:
        return ""
