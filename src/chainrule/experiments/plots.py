"""A study's figures (matplotlib, the ``plot`` extra) and its HTML report.

Four panels, drawn from the figures the study file holds:

- the final validation figure of every finished trial against its learning rate (log axis);
- learning curves: the validation figure per epoch, mean over the seeds, per activation
  (one line style per depth);
- the gradient norm ‖∂𝓛/∂W⁽ˡ⁾‖ of each Dense layer l (mean over the epochs and seeds, log
  axis) by activation and depth: vanishing gradients show as lines falling towards layer 1;
- the fraction of dead (ReLU-like) or saturated (sigmoid-like) units of each hidden layer at
  the end of training, by activation and depth.

``save_study_figure`` writes the four as one PNG, SVG or PDF (the format from the suffix);
``study_html`` is a report a person can send: one self-contained file with the counts, the
ranking, the claims and every panel as inline SVG — no script, no link, nothing fetched.
"""

from __future__ import annotations

import html
import io
import math
import os
from collections.abc import Callable, Sequence
from typing import Any, Literal

from ..atomic import write_bytes_atomically
from .claims import Summary, format_claims, gradient_norms, layer_names, study_claims
from .report import ranking, varying_keys
from .schedulers import Objective
from .storage import TrialRecord

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
LineStyle = Literal["-", "--", ":", "-."]
_LINE_STYLES: tuple[LineStyle, ...] = ("-", "--", ":", "-.")


# ---------------------------------------------------------------------- figures of trials
def unhealthy_fractions(trial: TrialRecord) -> list[float]:
    """Each hidden layer's final fraction of dead units, or of saturated units where the
    activation has no dead measure (NaN where it has neither)."""
    fractions = []
    for name in layer_names(trial)[:-1]:  # the output layer has no activation measured
        key = next(
            (
                f"health/{name}/{kind}"
                for kind in ("dead", "saturated")
                if f"health/{name}/{kind}" in trial.history
            ),
            None,
        )
        fractions.append(math.nan if key is None else trial.value(key))
    return fractions


def _finished(trials: Sequence[TrialRecord], metric: str) -> list[TrialRecord]:
    return [t for t in trials if t.status == "done" and math.isfinite(t.value(metric))]


def _settings(trials: Sequence[TrialRecord]) -> dict[tuple[str, int], list[TrialRecord]]:
    """(activation, depth) → its trials, in the order the study lists them."""
    groups: dict[tuple[str, int], list[TrialRecord]] = {}
    for trial in trials:
        key = (str(trial.config.get("activation")), int(trial.config.get("depth", 0)))
        groups.setdefault(key, []).append(trial)
    return groups


def _mean_curve(curves: Sequence[Sequence[float]]) -> list[float]:
    """Position-wise mean over the seeds (as long as the longest curve)."""
    length = max((len(curve) for curve in curves), default=0)
    return [Summary.of(curve[i] for curve in curves if i < len(curve)).mean for i in range(length)]


class _Styles:
    """One colour per activation, one line style per depth, and a legend naming each once."""

    def __init__(self, trials: Sequence[TrialRecord]) -> None:
        activations = list(dict.fromkeys(str(t.config.get("activation")) for t in trials))
        depths = sorted({int(t.config.get("depth", 0)) for t in trials})
        self.colours = {name: f"C{i % 10}" for i, name in enumerate(activations)}
        self.lines: dict[int, LineStyle] = {
            depth: _LINE_STYLES[i % len(_LINE_STYLES)] for i, depth in enumerate(depths)
        }

    def legend(self, axes: Any, integer_x: bool = True) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        if integer_x:  # epochs and layers
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))

        handles = [
            Line2D([], [], color=colour, label=name) for name, colour in self.colours.items()
        ]
        if len(self.lines) > 1:
            handles += [
                Line2D([], [], color="0.4", linestyle=style, label=f"depth {depth}")
                for depth, style in self.lines.items()
            ]
        axes.legend(handles=handles, fontsize="x-small", ncol=2)


# ---------------------------------------------------------------------- the panels
def metric_against_learning_rate(
    axes: Any, trials: Sequence[TrialRecord], objective: Objective
) -> None:
    """Final validation figure of each finished trial against its learning rate (log x)."""
    finished = _finished(trials, objective.metric)
    styles = _Styles(finished)
    for (activation, _), members in _settings(finished).items():
        axes.scatter(
            [float(t.config.get("lr", math.nan)) for t in members],
            [t.value(objective.metric) for t in members],
            color=styles.colours[activation],
            s=14,
            alpha=0.8,
        )
    axes.set_xscale("log")
    axes.set(
        xlabel="learning rate α (log scale)",
        ylabel=f"final {objective.metric}",
        title=f"{objective.metric} against the learning rate",
    )
    styles.lines = {}  # the points are not lines: colours only
    styles.legend(axes, integer_x=False)


def learning_curves(axes: Any, trials: Sequence[TrialRecord], objective: Objective) -> None:
    """The validation figure per epoch, mean over seeds, per activation and depth."""
    finished = _finished(trials, objective.metric)
    styles = _Styles(finished)
    for (activation, depth), members in _settings(finished).items():
        curve = _mean_curve([t.history[objective.metric] for t in members])
        axes.plot(
            range(1, len(curve) + 1),
            curve,
            color=styles.colours[activation],
            linestyle=styles.lines[depth],
        )
    axes.set(
        xlabel="epoch",
        ylabel=objective.metric,
        title="learning curves per activation (mean over seeds)",
    )
    styles.legend(axes)


def _lines_by_layer(
    axes: Any,
    trials: Sequence[TrialRecord],
    objective: Objective,
    per_layer: Callable[[TrialRecord], Sequence[float]],
    shown: Callable[[float], bool],
) -> _Styles:
    """Per (activation, depth) of the finished trials: the mean over the seeds of
    ``per_layer(trial)`` (one value per layer) against the layer 1, 2, …, as dots on a line;
    left out where ``shown`` holds for none of its values. Returns the styles, for the legend."""
    finished = _finished(trials, objective.metric)
    styles = _Styles(finished)
    for (activation, depth), members in _settings(finished).items():
        values = _mean_curve([per_layer(t) for t in members])
        if any(shown(value) for value in values):
            axes.plot(
                range(1, len(values) + 1),
                values,
                marker=".",
                color=styles.colours[activation],
                linestyle=styles.lines[depth],
            )
    return styles


def gradient_norm_by_layer(axes: Any, trials: Sequence[TrialRecord], objective: Objective) -> None:
    """Each layer's gradient norm (mean over epochs and seeds, log y) by activation, depth."""
    styles = _lines_by_layer(axes, trials, objective, gradient_norms, lambda norm: norm > 0)
    axes.set_yscale("log")
    axes.set(
        xlabel="layer (1 = first, last = output)",
        ylabel="‖∂L/∂W‖ (log scale)",
        title="gradient norm per layer",
    )
    styles.legend(axes)


def unhealthy_fraction_by_layer(
    axes: Any, trials: Sequence[TrialRecord], objective: Objective
) -> None:
    """Each hidden layer's final dead-or-saturated fraction by activation and depth."""
    styles = _lines_by_layer(axes, trials, objective, unhealthy_fractions, math.isfinite)
    axes.set_ylim(-0.03, 1.03)
    axes.set(
        xlabel="hidden layer",
        ylabel="fraction of units",
        title="dead (ReLU-like) or saturated units at the end",
    )
    styles.legend(axes)


Panel = Callable[[Any, Sequence[TrialRecord], Objective], None]
PANELS: tuple[Panel, ...] = (
    metric_against_learning_rate,
    learning_curves,
    gradient_norm_by_layer,
    unhealthy_fraction_by_layer,
)


# ---------------------------------------------------------------------- figures and files
def _new_figure(width: float, height: float) -> Any:
    from ..plot import _new_figure as new_agg_figure  # raises the plot extra's ImportError

    return new_agg_figure(width, height, 100)


def study_figure(trials: Sequence[TrialRecord], objective: Objective) -> Any:
    """The four panels in one 2 × 2 matplotlib Figure."""
    if not _finished(trials, objective.metric):
        raise ValueError("no trial of the study has finished: nothing to plot")
    figure = _new_figure(12, 9)
    for index, panel in enumerate(PANELS):
        panel(figure.add_subplot(2, 2, index + 1), trials, objective)
    figure.tight_layout()
    return figure


def figure_format(path: str | os.PathLike[str]) -> str:
    """png, svg or pdf, from the file name's suffix."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the figure's format from {os.fspath(path)!r}: end the "
            f"name with {', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def _figure_bytes(figure: Any, kind: str) -> bytes:
    buffer = io.BytesIO()
    # no creation date in the file: the same study gives the same bytes
    metadata = {"Date": None} if kind in ("svg", "pdf") else None
    figure.savefig(buffer, format=kind, metadata=metadata)
    return buffer.getvalue()


def save_study_figure(
    trials: Sequence[TrialRecord], objective: Objective, path: str | os.PathLike[str]
) -> None:
    """Write the four panels to ``path`` (PNG, SVG or PDF by suffix), atomically."""
    kind = figure_format(path)
    write_bytes_atomically(path, _figure_bytes(study_figure(trials, objective), kind))


def _inline_svg(figure: Any) -> str:
    """The figure as an ``<svg>`` element (its XML declaration, DOCTYPE and RDF metadata left
    out: nothing in the page names another address but the XML namespaces)."""
    text = _figure_bytes(figure, "svg").decode("utf-8")
    text = text[text.index("<svg") :]
    if "<metadata>" in text:
        text = text[: text.index("<metadata>")] + text[text.index("</metadata>") + 11 :]
    return text


# ---------------------------------------------------------------------- the HTML report
_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:.9em}td,th{padding:.2em .6em;border-bottom:1px solid #ddd}
td.n{text-align:right;font-variant-numeric:tabular-nums}figure{display:inline-block;margin:.5em}
svg{max-width:100%;height:auto}"""


def _ranking_table(trials: Sequence[TrialRecord], objective: Objective) -> str:
    keys = varying_keys(trials)
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ("rank", *keys, f"mean {objective.metric}", "± s", "seeds", "best trial")
    )
    rows = []
    for rank, setting in enumerate(ranking(trials, objective), start=1):
        cells = [
            f"<td class=n>{rank}</td>",
            *(f"<td>{html.escape(str(setting.config.get(key)))}</td>" for key in keys),
            f"<td class=n>{setting.mean:.4f}</td>",
            f"<td class=n>{setting.spread:.4f}</td>",
            f"<td class=n>{setting.seeds}</td>",
            f"<td class=n>{setting.best_trial}</td>",
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>\n" + "\n".join(rows) + "</table>"


def _claims_html(trials: Sequence[TrialRecord], objective: Objective) -> str:
    blocks = []
    for block in format_claims(study_claims(trials, objective.metric)).split("\n\n"):
        title, *sentences = block.split("\n")
        items = "".join(f"<li>{html.escape(s.removeprefix('  - '))}</li>" for s in sentences)
        blocks.append(
            f"<h3>{html.escape(title)}</h3><ul>{items}</ul>"
            if items
            else f"<p>{html.escape(title)}</p>"
        )
    return "\n".join(blocks)


def study_html(trials: Sequence[TrialRecord], objective: Objective, title: str) -> str:
    """The whole report as one self-contained HTML page."""
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.status] = counts.get(trial.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    panels = []
    for panel in PANELS if _finished(trials, objective.metric) else ():
        figure = _new_figure(6.4, 4.6)
        panel(figure.add_subplot(1, 1, 1), trials, objective)
        figure.tight_layout()
        panels.append(f"<figure>{_inline_svg(figure)}</figure>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f"<p>{len(trials)} trials: {html.escape(summary)}. Ranked by {objective.metric} "
            f"({objective.mode}), mean and sample standard deviation s over the seeds.</p>",
            "<h2>Ranking</h2>",
            _ranking_table(trials, objective),
            "<h2>What the data said</h2>",
            _claims_html(trials, objective),
            "<h2>Figures</h2>",
            *panels,
            "</body></html>",
            "",
        ]
    )


__all__ = [
    "FORMATS",
    "PANELS",
    "figure_format",
    "gradient_norm_by_layer",
    "learning_curves",
    "metric_against_learning_rate",
    "save_study_figure",
    "study_figure",
    "study_html",
    "unhealthy_fraction_by_layer",
    "unhealthy_fractions",
]
