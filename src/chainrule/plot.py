"""Plots of activations, training histories, decision boundaries and gradient flow.

matplotlib is an optional dependency (``pip install "chainrule[plot]"``); it is imported only
when a function here is called. The figures are drawn on matplotlib's Agg canvas directly
(``matplotlib.figure.Figure``, not pyplot), so nothing here changes the backend a user has
chosen for interactive work. Every function returns the ``Figure`` (in a notebook it shows as
SVG: ``_repr_svg_``); with ``path`` it also writes the figure as a PNG, atomically (a crash never
leaves half a file).

- ``activations``: g and g′ (and g″) of catalog activations, one panel each;
- ``history``: loss and metrics over the epochs, training and validation;
- ``decision_boundary``: the predicted class over the plane of 2-feature data;
- ``gradient_flow``: the gradient norm of each layer over the epochs (log scale);
- ``activation_histograms``: z and a = g(z) of every Dense layer on some inputs.
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic import write_bytes_atomically
from .protocols import SupportsPredict

if TYPE_CHECKING:  # imported on use (the plots load without the layers)
    from .nn.module import Module

PathLike = str | os.PathLike[str]

__all__ = [
    "activation_histograms",
    "activations",
    "decision_boundary",
    "gradient_flow",
    "history",
]

_INSTALL_HINT = 'chainrule.plot needs matplotlib: pip install "chainrule[plot]"'


# ---------------------------------------------------------------------- figure plumbing
@functools.cache
def _notebook_figure_class() -> Any:
    """matplotlib's Figure with ``_repr_svg_``, so that a notebook shows it as SVG: a Figure
    made without pyplot has no inline display of its own (only its text repr)."""
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        """A ``matplotlib.figure.Figure`` that notebooks display as SVG."""

        def _repr_svg_(self) -> str:
            buffer = io.StringIO()
            self.savefig(buffer, format="svg")
            svg = buffer.getvalue()
            return svg[svg.index("<svg") :]  # the element, without the XML prolog and DOCTYPE

    return NotebookFigure


def _new_figure(width: float, height: float, dpi: float) -> Any:
    """A Figure on its own Agg canvas (pyplot and the global backend are left alone) that
    notebooks display as SVG."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        figure_class = _notebook_figure_class()
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    figure = figure_class(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


# The file formats a plot is written in, by the path's suffix.
FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def format_for(path: PathLike) -> str:
    """The file format of ``path`` by its suffix (.png, .pdf, .svg); another is an error."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the plot format from {os.fspath(path)!r}: name it {', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def _finish(figure: Any, path: PathLike | None, dpi: float) -> Any:
    """Lay the figure out; write it to ``path`` (atomically) in the format its suffix names,
    when a path is given."""
    figure.tight_layout()
    if path is not None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format=format_for(path), dpi=dpi)
        write_bytes_atomically(path, buffer.getvalue())
    return figure


def _grid(count: int, columns: int) -> tuple[int, int]:
    columns = max(1, min(count, columns))
    return -(-count // columns), columns


def _panels(count: int, columns: int, width: float, height: float, dpi: float) -> tuple[Any, Any]:
    """A figure of ``count`` panels of ``width`` × ``height`` inches, ``columns`` to a row
    (fewer for fewer panels): the figure and its first ``count`` axes; the grid's panels
    beyond them are hidden."""
    rows, cols = _grid(count, columns)
    figure = _new_figure(width * cols, height * rows, dpi)
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes[:count]


def _records(history: Any) -> tuple[dict[str, list[Any]], list[int]]:
    """The name → per-epoch list of a ``History`` (or of a plain dict), and the epoch numbers."""
    records = getattr(history, "history", history)
    if not isinstance(records, Mapping):
        raise TypeError(
            "expected a History (what fit returns) or a dict of lists, not "
            f"{type(history).__name__}"
        )
    records = {str(key): list(values) for key, values in records.items()}
    length = max((len(values) for values in records.values()), default=0)
    epochs = list(getattr(history, "epoch", []) or [])
    if len(epochs) != length:
        epochs = list(range(length))
    return records, epochs


def _numbers(values: Sequence[Any]) -> np.ndarray | None:
    """The values as floats, or None when some are not numbers (nothing to plot)."""
    try:
        return np.asarray([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------- activations
def activations(
    names: str | Any | Sequence[str | Any],
    z: tuple[float, float] = (-5, 5),
    second: bool = False,
    path: PathLike | None = None,
    *,
    points: int = 1001,
    columns: int = 3,
    dpi: float = 100,
) -> Any:
    """Plot g and g′ (and g″ with ``second=True``) of each named activation on a shared grid.

    One panel per activation, drawn the way textbooks do: g solid, g′ dashed, g″ dotted, the
    axes through the origin, the name as title and a legend. ``names`` is a name, an
    ``Activation`` object, or a list of them (parameters via ``chainrule.activations.get``).
    ``z`` is the (low, high) range of the grid. Vector activations (softmax, maxout) have no
    per-element curve and are refused with a ``ValueError``; an unknown name raises the
    catalog's ``UnknownActivationError``.
    """
    from . import activations as catalog

    if isinstance(names, (str, catalog.Activation)):
        names = [names]
    chosen = [catalog.get(name) for name in names]
    if not chosen:
        raise ValueError("give at least one activation name to plot")
    for activation in chosen:
        if not activation.elementwise:
            raise ValueError(
                f"{activation.name} is a vector activation (each output depends on the whole "
                "row), so it has no curve g(z) to draw; choose elementwise activations"
            )
    low, high = (float(v) for v in z)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"z must be a finite range (low, high) with low < high, got {z!r}")
    grid = np.linspace(low, high, int(points), dtype=np.float64)
    figure, axes = _panels(len(chosen), columns, 4.0, 3.2, dpi)
    for ax, activation in zip(axes, chosen):
        a = activation.forward(grid)
        ax.plot(grid, a, "-", color="C0", linewidth=2, label="g(z)")
        ax.plot(
            grid, activation.derivative(grid, a), "--", color="C1", linewidth=1.6, label="g′(z)"
        )
        if second:
            ax.plot(
                grid,
                activation.second_derivative(grid, a),
                ":",
                color="C2",
                linewidth=1.6,
                label="g″(z)",
            )
        ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.axvline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.set_xlim(low, high)
        ax.set_title(activation.name)
        ax.set_xlabel("z")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    return _finish(figure, path, dpi)


# ---------------------------------------------------------------------- training history
def _skipped(key: str) -> bool:
    return key.startswith("health/") or key in ("lr", "val_lr")


def history(history: Any, path: PathLike | None = None, *, dpi: float = 100) -> Any:
    """Plot the training and validation loss over the epochs, then each metric with its
    ``val_`` counterpart in further panels.

    ``history`` is what ``fit`` returns (or its ``.history`` dict). The ``health/...`` entries
    of the health monitor and the learning rate "lr" are left out (see ``gradient_flow``).
    """
    records, epochs = _records(history)
    series = {key: values for key, values in records.items() if not _skipped(key)}
    groups: list[str] = []
    for key in series:
        base = key[4:] if key.startswith("val_") else key
        if base not in groups and _numbers(series[key]) is not None:
            groups.append(base)
    if not groups:
        raise ValueError("the history has nothing to plot: fit the model for an epoch first")
    groups.sort(key=lambda base: base != "loss")  # the loss first, metrics in their order
    figure, axes = _panels(len(groups), 2, 5.0, 3.5, dpi)
    x = np.asarray(epochs) + 1  # epochs as people count them
    for ax, base in zip(axes, groups):
        for key, style, label in ((base, "-o", "train"), ("val_" + base, "--s", "validation")):
            values = _numbers(series.get(key, []))
            if values is None or not len(values):
                continue
            ax.plot(x[: len(values)], values, style, markersize=3, label=label)
        ax.set_title(base)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    return _finish(figure, path, dpi)


# ---------------------------------------------------------------------- decision boundary
def _classes(scores: np.ndarray, threshold: float) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.ndim == 1 or scores.shape[-1] == 1:
        return (scores.reshape(len(scores)) > threshold).astype(np.int64)
    return np.argmax(scores, axis=-1)


def _labels(y: Any, count: int) -> np.ndarray:
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot rows
        labels = np.argmax(labels, axis=1)
    labels = labels.reshape(-1)
    if len(labels) != count:
        raise ValueError(f"x has {count} rows but y has {len(labels)} labels")
    return labels


def decision_boundary(
    model: SupportsPredict,
    x: Any,
    y: Any,
    path: PathLike | None = None,
    resolution: int = 200,
    *,
    margin: float = 0.1,
    dpi: float = 100,
) -> Any:
    """Plot the class the model predicts over the plane of 2-feature data, with the points.

    The model's outputs on a ``resolution`` × ``resolution`` grid covering ``x`` (plus
    ``margin`` of its range on each side) become classes — argmax over several outputs, or
    the 0.5 threshold on one (0 on logits, when the loss is ``from_logits``) — drawn as a filled
    contour; the points of ``x`` are coloured by their label ``y`` (integers or one-hot rows).
    ``model.predict`` applies the model's preprocessing, so ``x`` is given raw.
    """
    points = np.asarray(x, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"decision_boundary draws 2-feature data (x of shape (N, 2)), got x of shape "
            f"{points.shape}"
        )
    if len(points) == 0:
        raise ValueError("x has no rows")
    resolution = int(resolution)
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    labels = _labels(y, len(points))
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.where(high > low, (high - low) * margin, 1.0)
    gx = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    gy = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    mesh_x, mesh_y = np.meshgrid(gx, gy)
    plane = np.column_stack([mesh_x.ravel(), mesh_y.ravel()])
    threshold = 0.0 if getattr(getattr(model, "loss", None), "from_logits", False) else 0.5
    predicted = _classes(model.predict(plane), threshold).reshape(mesh_x.shape)
    label_ids = labels.astype(np.int64) if np.issubdtype(labels.dtype, np.number) else None
    if label_ids is None:  # text labels: number them in sorted order
        _, label_ids = np.unique(labels, return_inverse=True)
    count = int(max(predicted.max(), label_ids.max())) + 1
    levels = np.arange(count + 1) - 0.5
    from matplotlib import colormaps
    from matplotlib.colors import Colormap, ListedColormap

    cmap: Colormap
    if count <= 10:  # the first colours of tab10: distinct hues, class 0 blue, 1 orange, ...
        tab10 = colormaps["tab10"]
        cmap = ListedColormap([tab10(i) for i in range(count)])  # an integer: the i-th colour
    else:
        cmap = colormaps["tab20"].resampled(count)
    figure = _new_figure(6.0, 5.0, dpi)
    ax = figure.add_subplot(1, 1, 1)
    ax.contourf(
        mesh_x, mesh_y, predicted, levels=levels, cmap=cmap, alpha=0.35, vmin=-0.5, vmax=count - 0.5
    )
    ax.scatter(
        points[:, 0],
        points[:, 1],
        c=label_ids,
        cmap=cmap,
        vmin=-0.5,
        vmax=count - 0.5,
        edgecolors="k",
        linewidths=0.4,
        s=18,
    )
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title("decision boundary")
    return _finish(figure, path, dpi)


# ---------------------------------------------------------------------- gradient flow
def gradient_flow(history: Any, path: PathLike | None = None, *, dpi: float = 100) -> Any:
    """Plot each layer's gradient norm over the epochs on a log axis: the vanishing-gradient
    picture (the first layers' lines far below the last ones').

    Reads the ``health/<layer>/grad_norm`` entries that the health monitor writes during
    ``fit(..., health=True)`` (the default); a history without them is a ``ValueError``.
    """
    records, epochs = _records(history)
    layers: list[tuple[str, np.ndarray]] = []
    for key, values in records.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "health" and parts[2] == "grad_norm":
            numbers = _numbers(values)
            if numbers is not None:
                layers.append((parts[1], numbers))
    if not layers:
        raise ValueError(
            "the history has no health/<layer>/grad_norm entries: fit the model with "
            "health=True (the default) to record the gradient norms"
        )
    figure = _new_figure(7.0, 4.5, dpi)
    ax = figure.add_subplot(1, 1, 1)
    x = np.asarray(epochs) + 1
    for name, norms in layers:
        positive = np.where(norms > 0, norms, np.nan)  # a log axis has no room for 0
        ax.plot(x[: len(positive)], positive, "-o", markersize=3, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient norm (median over sampled batches)")
    ax.set_title("gradient flow")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return _finish(figure, path, dpi)


# ---------------------------------------------------------------------- activation histograms
def _dense_signals(model: Any, x: Any) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(layer name, activation name, z, a) for each Dense layer of a Sequential, on x
    (``chainrule.nn.walk``)."""
    from .nn.layers import Dense
    from .nn.signals import layers_of, walk

    layers = layers_of(model, "activation_histograms")
    if not any(isinstance(layer, Dense) for layer in layers):
        raise ValueError("the model has no Dense layer to show")
    position = {id(layer): index for index, layer in enumerate(layers)}
    return [
        (
            signals.dense.name or f"layer{position[id(signals.dense)]}",
            signals.activation_name,
            np.asarray(signals.z),
            np.asarray(signals.a),
        )
        for signals in walk(model, x)
    ]


def activation_histograms(
    model: Module, x: Any, path: PathLike | None = None, bins: int = 50, *, dpi: float = 100
) -> Any:
    """Histograms of z (pre-activation) and a = g(z) (post-activation) of every Dense layer of
    a Sequential model on the inputs ``x``: one row per Dense layer.

    The layers run one by one in eval mode without recording a graph, after the model's
    preprocessing (``x`` is given raw, as to ``predict``). A Dense layer's g is its own
    activation or that of an ``Activation`` layer after it (through Dropout and BatchNorm); a
    Dense with neither (the output layer of a regression) shows a = z, "identity". Saturation
    shows as mass piled at g's bounds; dead ReLU units as a spike at 0.
    """
    bins = int(bins)
    if bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins}")
    signals = _dense_signals(model, x)
    figure = _new_figure(9.0, 2.8 * len(signals), dpi)
    axes = figure.subplots(len(signals), 2, squeeze=False)
    for (ax_z, ax_a), (name, g, z, a) in zip(axes, signals):
        for ax, values, color, title in (
            (ax_z, z, "C0", f"{name}: z"),
            (ax_a, a, "C1", f"{name}: a = {g}(z)"),
        ):
            finite = values[np.isfinite(values)].ravel()
            ax.hist(finite, bins=bins, color=color, alpha=0.8)
            ax.set_title(title, fontsize="medium")
            ax.set_ylabel("count")
            ax.grid(True, alpha=0.3)
    axes[-1][0].set_xlabel("pre-activation z")
    axes[-1][1].set_xlabel("post-activation a")
    return _finish(figure, path, dpi)
