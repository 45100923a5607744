"""Drawing computation graphs: Graphviz DOT text, optionally rendered to SVG or PNG.

``draw_graph(t)`` walks the graph behind ``t`` (its recorded ops and their parents) and returns
a left-to-right Graphviz ``digraph``: leaves are boxes, operations are ellipses, and every node
shows its shape, its value (or a short summary of it) and, when present, its gradient
``∂ = ∂L/∂node``. Edges go from parent to child, in the direction the values flow.

>>> import chainrule as cr
>>> w = cr.tensor(0.0, requires_grad=True)
>>> f = 1 / (cr.exp(-(w * 1.0)) + 1)
>>> f.backward(retain_graph=True)
>>> dot = draw_graph(f, names={w: "w"})
>>> dot.splitlines()[0]
'digraph chainrule {'
>>> "∂ = 0.25" in dot
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._tensor import Tensor
from .atomic import write_bytes_atomically
from .errors import GraphFreedError
from .ops import OPERAND_ROLES  # each op names its operands' roles where it is defined
from .protocols import HasNamedParameters

__all__ = ["GraphView", "draw_graph", "operand_role", "show_graph", "trace_gradients"]

FREED_HINT = (
    "the graph behind this tensor was freed by backward(); draw it before backward, "
    "or call chainrule.graph.trace_gradients(tensor) instead of backward() to keep "
    "it with every node's gradient"
)

# Output formats by file suffix; "dot" is written as text, the others are rendered by Graphviz.
_SUFFIX_FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png"}
_FORMATS = ("dot", "svg", "png")
_RENDER_TIMEOUT_S = 120


def escape_label(text: str) -> str:
    """Escape ``text`` for a double-quoted DOT label: backslashes, quotes and line breaks.

    Lines are joined with DOT's ``\\n`` escape; other control characters become spaces.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    lines = [
        "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in line)
        for line in text.split("\n")
    ]
    return "\\n".join(lines)


def _format_number(value: float) -> str:
    """A compact number: ``0.5``, ``0.25``, ``1``, ``-3.142``, ``1.235e+04``, ``nan``."""
    text = format(float(value), ".4g")
    return "0" if text == "-0" else text


def _describe_array(array: np.ndarray) -> str:
    """The value itself for at most one element, else a short summary (mean, min, max)."""
    if array.size == 0:
        return "empty"
    if array.size == 1:
        return _format_number(array.reshape(-1)[0])
    values = np.asarray(array, dtype=np.float64)
    finite = values[np.isfinite(values)]
    summary = (
        f"mean {_format_number(values.mean())}, "
        f"min {_format_number(values.min())}, max {_format_number(values.max())}"
    )
    if finite.size != values.size:
        summary += f", {values.size - finite.size} non-finite"
    return summary


def _format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _normalize_names(names: Mapping[Tensor | int, str] | None) -> dict[int, str]:
    """Names keyed by tensor or by ``id(tensor)`` → names keyed by id (no Tensor equality)."""
    if names is None:
        return {}
    result: dict[int, str] = {}
    for key, name in names.items():
        if isinstance(key, Tensor):
            result[id(key)] = str(name)
        elif isinstance(key, int) and not isinstance(key, bool):
            result[key] = str(name)
        else:
            raise TypeError(f"names: keys must be tensors or id(tensor), got {type(key).__name__}")
    return result


def operand_role(op: str | None, position: int) -> str | None:
    """The role of input ``position`` of ``op`` ("numerator", "W", ...), or None."""
    roles = OPERAND_ROLES.get(op or "", ())
    return roles[position] if position < len(roles) else None


def _is_freed(tensor: Tensor) -> bool:
    node = tensor._node
    return node is not None and node.vjp is None and not node.parents


def trace_gradients(tensor: Tensor, grad: Any = None) -> Tensor:
    """``tensor.backward(grad)`` that keeps the graph and ∂L/∂node on every node; returns it.

    Every intermediate tensor behind ``tensor`` gets ``retain_grad()``, and backward runs with
    ``retain_graph=True``: ``draw_graph(tensor)`` then shows the value and the gradient of every
    node — the chain rule step by step. Leaves accumulate ``.grad`` as with ``backward``.

    >>> import chainrule as cr
    >>> w = cr.tensor(0.0, requires_grad=True)
    >>> f = 1 / (cr.exp(-(w * 1.0)) + 1)
    >>> _ = trace_gradients(f)
    >>> f.parents[1].grad.item()  # ∂f/∂(exp(−w) + 1) = −1/h²
    -0.25
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"trace_gradients: expected a Tensor, got {type(tensor).__name__}")
    if _is_freed(tensor):
        raise GraphFreedError(FREED_HINT)
    for node in _collect(tensor, max_nodes=10**7):
        if not node.is_leaf and node.requires_grad:
            node.retain_grad()
    tensor.backward(grad, retain_graph=True)
    return tensor


def _model_names(model: HasNamedParameters) -> dict[int, str]:
    """id(parameter) → its dotted name in ``model`` ("dense.weight")."""
    if not callable(getattr(model, "named_parameters", None)):
        raise TypeError(
            f"draw_graph: model= must be a chainrule Module, got {type(model).__name__}"
        )
    return {id(parameter): name for name, parameter in model.named_parameters()}


def _collect(root: Tensor, max_nodes: int) -> list[Tensor]:
    """Every tensor reachable from ``root``, in depth-first pre-order (parents in order)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        order.append(tensor)
        if len(order) > max_nodes:
            raise ValueError(
                f"draw_graph: the graph has more than max_nodes={max_nodes} nodes; pass a larger "
                "max_nodes= or draw a smaller part of the computation"
            )
        stack.extend(reversed(tensor.parents))
    return order


def _node_label(tensor: Tensor, name: str | None, show_values: bool, show_grads: bool) -> str:
    title: str | None
    if tensor.is_leaf:
        title = name if name is not None else ("parameter" if tensor.requires_grad else "input")
    else:
        title = tensor.op if name is None else f"{name} = {tensor.op}"
    lines = [title or "?", f"shape {_format_shape(tensor.shape)}"]
    if show_values:
        lines.append(f"value {_describe_array(tensor.data)}")
    if show_grads and tensor.grad is not None:
        lines.append(f"∂ = {_describe_array(tensor.grad.data)}")
    if _is_freed(tensor):
        lines.append("(inputs freed by backward)")
        lines.append(FREED_HINT.replace("; ", ";\n").replace(", or", ",\nor"))
    return escape_label("\n".join(lines))


def to_dot(
    tensor: Tensor,
    *,
    names: Mapping[Tensor | int, str] | None = None,
    show_values: bool = True,
    show_grads: bool = True,
    max_nodes: int = 500,
    model: HasNamedParameters | None = None,
) -> str:
    """The DOT text of the graph behind ``tensor`` (see ``draw_graph``)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive integer, got {max_nodes!r}")
    by_id = {} if model is None else _model_names(model)
    by_id.update(_normalize_names(names))
    order = _collect(tensor, max_nodes)
    ids = {id(t): f"n{index}" for index, t in enumerate(order)}
    lines = [
        "digraph chainrule {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    # Draw inputs before the ops that use them: reverse pre-order keeps parents before children
    # along each path; Graphviz lays the nodes out by the edges either way.
    for t in reversed(order):
        label = _node_label(t, by_id.get(id(t)), show_values, show_grads)
        if t.is_leaf:
            fill = "lightblue" if t.requires_grad else "lightgrey"
            attrs = f'shape=box, style="rounded,filled", fillcolor={fill}'
        else:
            attrs = "shape=ellipse"
        if t is tensor:
            attrs += ", penwidth=2"
        lines.append(f'  {ids[id(t)]} [label="{label}", {attrs}];')
    for t in reversed(order):
        for position, parent in enumerate(t.parents):
            role = operand_role(t.op, position)
            label = "" if role is None else f' [label="{escape_label(role)}"]'
            lines.append(f"  {ids[id(parent)]} -> {ids[id(t)]}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _output_format(path: Path, format: str | None) -> str:
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt == "gv":
            fmt = "dot"
        if fmt not in _FORMATS:
            raise ValueError(f"draw_graph: format must be one of {_FORMATS}, got {format!r}")
        return fmt
    suffix = path.suffix.lower()
    if suffix not in _SUFFIX_FORMATS:
        raise ValueError(
            f"draw_graph: cannot tell the format of {str(path)!r} from its suffix; use .dot, "
            ".svg or .png, or pass format='dot'|'svg'|'png'"
        )
    return _SUFFIX_FORMATS[suffix]


def render(dot_text: str, format: str) -> bytes:
    """Render DOT text to ``format`` ("svg" or "png") with Graphviz's ``dot`` executable."""
    executable = shutil.which("dot")
    if executable is None:
        raise RuntimeError(
            f"draw_graph: rendering {format.upper()} needs Graphviz's 'dot' program, which was "
            "not found on PATH; install Graphviz (Debian/Ubuntu: apt-get install graphviz, "
            "macOS: brew install graphviz) or save the graph as .dot text instead"
        )
    try:
        result = subprocess.run(
            [executable, f"-T{format}"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=_RENDER_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"draw_graph: Graphviz took more than {_RENDER_TIMEOUT_S} s to render the graph; "
            "lower max_nodes or save it as .dot"
        ) from None
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(
            f"draw_graph: Graphviz 'dot -T{format}' failed (exit {result.returncode}): {message}"
        )
    return result.stdout


def draw_graph(
    tensor: Tensor,
    path: str | os.PathLike[str] | None = None,
    *,
    format: str | None = None,
    names: Mapping[Tensor | int, str] | None = None,
    show_values: bool = True,
    show_grads: bool = True,
    max_nodes: int = 500,
    model: HasNamedParameters | None = None,
) -> str:
    """Draw the computation graph behind ``tensor``; return its Graphviz DOT text.

    One node per tensor, numbered ``n0, n1, …`` in depth-first order from ``tensor`` (so the
    output is the same for the same computation): leaves are boxes labelled with their name
    from ``names`` (keys: tensors or ``id(tensor)``), else "parameter" (requires grad) or
    "input" — with ``model=`` a model's parameters are named as in its ``named_parameters()``
    ("dense.weight"); operations are ellipses labelled with the op's name (``mul``, ``exp``,
    …). Each node shows its shape, with ``show_values`` its value (a compact number for at most one
    element, else mean/min/max) and with ``show_grads`` its gradient as ``∂ = 0.25`` when it
    has one: leaves that require grad after ``backward()``, and non-leaves only if
    ``retain_grad()`` was called on them before. Edges go parent → child. More than
    ``max_nodes`` tensors is a ValueError. Edges into ops whose inputs play different roles
    are labelled with the role: "numerator"/"denominator" (div), "base"/"exponent" (pow),
    "x"/"W"/"b" (linear), "a"/"b" (matmul), "condition"/"if true"/"if false" (where).

    ``backward()`` frees the graph: afterwards only the output and its op remain reachable
    (marked "inputs freed by backward", with the hint). Call ``trace_gradients(tensor)``
    instead of ``backward()`` to keep the graph and the gradient ∂L/∂node of every node, or
    draw before calling backward. ``show_graph`` gives the same drawing as an object that
    notebooks display as SVG.

    With ``path``: the DOT text is written there (``.dot``/``.gv``), or rendered to SVG or
    PNG by Graphviz's ``dot`` program (``.svg``/``.png``); ``format=`` ("dot", "svg", "png")
    overrides the suffix. Files are written atomically. Rendering without Graphviz installed
    is a RuntimeError (install it, e.g. ``apt-get install graphviz``, or save ``.dot``).

    Args:
        tensor: the output whose graph is drawn (usually the loss).
        path: where to write the drawing (``.dot``, ``.gv``, ``.svg``, ``.png``); none to
            only return the DOT text.
        format: "dot", "svg" or "png", overriding the suffix of ``path``.
        names: labels for leaves, keyed by tensor or ``id(tensor)``.
        show_values: show each node's value (a number, or mean/min/max).
        show_grads: show ∂L/∂node where the node has a gradient.
        max_nodes: the most tensors drawn; a larger graph is a ValueError.
        model: a model whose parameters are labelled with their names ("dense.weight").

    Returns:
        The Graphviz DOT text of the drawing.

    Raises:
        ValueError: more than ``max_nodes`` tensors, an unknown format, or ``format`` without
            ``path``.
        RuntimeError: rendering SVG/PNG without Graphviz installed.
    """
    dot_text = to_dot(
        tensor,
        names=names,
        show_values=show_values,
        show_grads=show_grads,
        max_nodes=max_nodes,
        model=model,
    )
    if path is not None:
        target = Path(os.fspath(path))
        fmt = _output_format(target, format)
        data = dot_text.encode("utf-8") if fmt == "dot" else render(dot_text, fmt)
        write_bytes_atomically(target, data)
    elif format is not None:
        raise ValueError("draw_graph: format= needs a path to write to")
    return dot_text


class GraphView:
    """A drawn graph for notebooks: ``_repr_svg_`` renders it with Graphviz (when ``dot`` is
    installed; otherwise notebooks show ``str(view)``, the DOT text)."""

    def __init__(self, dot: str) -> None:
        self.dot = dot

    def _repr_svg_(self) -> str | None:
        if shutil.which("dot") is None:
            return None
        return render(self.dot, "svg").decode("utf-8")

    def __str__(self) -> str:
        return self.dot

    def __repr__(self) -> str:
        return f"GraphView({self.dot.count('[label=')} nodes; str() is the DOT text)"


def show_graph(tensor: Tensor, **options: Any) -> GraphView:
    """``draw_graph(tensor, **options)`` as a ``GraphView`` that a notebook shows as SVG."""
    return GraphView(to_dot(tensor, **options))
