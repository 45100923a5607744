"""Network health: dead and saturated units, non-finite values, gradient flow and update sizes,
measured on data, with advice in the words of the place the user is in.

``health_report(model, x, y=None)`` runs ``x`` through a ``Sequential`` in eval mode, layer by
layer (applying ``model.preprocessing`` first when the model has one), and looks at every
``Dense`` layer whose outputs go through an activation — the Dense's own ``activation`` or an
``Activation`` layer after it (``Dropout`` and ``BatchNorm`` in between are looked through:
``chainrule.nn.walk``).
For each such layer it measures, over all the samples:

* **dead units** — for activations with a flat zero part (the record's ``dead_below``: relu,
  relu6, hard_sigmoid, hard_swish: g(z) = g'(z) = 0 for z far enough left), the fraction of
  the units whose output
  is exactly 0 on every sample. No gradient reaches their weights, so they never recover.
* **saturation** — for activations that saturate (the catalog's ``saturating`` is "both",
  "right", or "left" with a smooth tail: sigmoid, tanh, the hard functions, softsign, ELU, ...),
  the fraction of (unit, sample) pairs where |g'(z)| < 1% of the largest |g'| (the pairs of dead
  units are not counted again). There the gradient is nearly zero, so learning is slow.
  ``saturated_units`` lists the units that are that flat on at least 99% of the samples.
* **non-finite values** — NaN or infinity in a parameter or in a layer's z (never "OK").

With ``y`` (a compiled model) it also backpropagates one batch of up to ``batch_size`` evenly
spaced rows and reads every Dense layer's gradient norm ‖∇W‖ and the ratio of the first to the
last (vanishing or exploding gradients).

One function, ``verdicts``, turns these measures into ``Finding``s, both here and in the
``HealthMonitor`` that ``fit`` runs, so the two agree. The bands (all documented below as
constants): a layer with ``threshold`` (50%) or more dead units, or
``saturation_threshold`` (50%) or more saturated pairs; a
first/last gradient-norm ratio below 1e-3 (vanishing) or above 1e3 (exploding); a median
update-to-weight ratio ‖ΔW‖/‖W‖ above 0.25 (too large: healthy is about 1e-3) or below 1e-6 (too
small); NaN/inf anywhere; a diverging loss. When the steps are too large (updates above 0.25, a
diverging loss, non-finite values), every finding advises lowering the learning rate first.

A finding's advice is written in a ``Vocabulary``: ``API`` names Python parameters
(``lr=``, ``clipnorm=``, ``kernel_init="he_normal"``), ``CLI`` names ``chainrule train``'s
options (``--lr``, ``--activation``), and the playground has its own (its controls, "Layer 2").

>>> import numpy as np
>>> from chainrule.models import Sequential
>>> from chainrule.nn import Dense, Activation
>>> model = Sequential([Dense(4, input_dim=2, bias_init="zeros"), Activation("relu"), Dense(1)],
...                    seed=0)
>>> report = health_report(model, np.random.default_rng(0).normal(size=(100, 2)))
>>> report.rows[0].layer, report.rows[0].units, report.rows[0].activation
('dense', 4, 'relu')
>>> report.ok
True

``HealthMonitor`` is the callback that measures the same things, and the update ratios, while
``fit`` trains (``Model.fit(health=True)``, the default, adds it). Its measures go into the epoch
logs under ``health/...`` and each finding, once per problem and layer, into a
``TrainingHealthWarning`` whose ``finding`` can be worded for another place.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from . import activations
from ._tensor import Tensor
from .activations import Activation as ActivationFunction
from .callbacks import Callback, Logs
from .grad_mode import no_grad
from .init import symmetric_units
from .nn.layers import Dense
from .nn.signals import Pairing, Signals, layers_of, pairings, walk_layers

#: |g'| below this fraction of the largest |g'| counts as "no gradient" for saturation
SLOPE_FRACTION = 0.01
#: a unit is listed as saturated when its slope is that small on at least this fraction of the
#: samples (extra detail: the verdict reads the fraction of flat (unit, sample) pairs)
SATURATED_SAMPLES = 0.99
#: a layer with at least this fraction of dead units gets a finding (report and monitor alike:
#: in a deep ReLU net trained well, a quarter of a narrow layer's units can be dead)
DEFAULT_THRESHOLD = 0.5
#: a layer with at least this fraction of saturated (unit, sample) pairs gets a finding (a
#: trained tanh classifier's last hidden layer is often flat on a third of its pairs)
SATURATION_THRESHOLD = 0.5
#: the first Dense layer's gradient norm below this fraction of the last one's: vanishing
VANISHING_RATIO = 1e-3
#: the first Dense layer's gradient norm above this multiple of the last one's: exploding
EXPLODING_RATIO = 1e3
#: a median ‖ΔW‖/‖W‖ per step above this is too large: each step moves the weights by a quarter
#: of their size (healthy is about 1e-3; a small layer's first epoch can reach 0.1)
UPDATE_RATIO_HIGH = 0.25
#: a median ‖ΔW‖/‖W‖ per step below this (and above 0) is too small to learn anything
UPDATE_RATIO_LOW = 1e-6
#: rows of the training set the monitor measures dead and saturated units on, per epoch
MONITOR_SAMPLES = 256


# ---------------------------------------------------------------------- advice in words
#: every remedy a finding can call for; each vocabulary says it in its own words or not at all
REMEDIES = (
    "lower_lr",
    "raise_lr",
    "clip",
    "check_data",
    "leaky",
    "he_init",
    "relu_he",
    "batchnorm",
    "fewer_layers",
    "small_init",
    "standardise",
    "random_init",
)


def _named_layer(position: int, count: int, name: str) -> str:
    return f"layer {name}"


@dataclass(frozen=True)
class Vocabulary:
    """How one place (the Python API, the CLI, the playground) words advice.

    ``remedies`` maps every key of ``REMEDIES`` to the words for it there, or to None where
    that place offers no such thing (the CLI has no gradient clipping); ``layer`` names the
    Dense layer at ``position`` of ``count`` called ``name``.
    """

    name: str
    remedies: Mapping[str, str | None]
    layer: Callable[[int, int, str], str] = _named_layer
    #: the remedies a vocabulary must word (a subclass for other advice names its own)
    known: ClassVar[tuple[str, ...]] = REMEDIES

    def __post_init__(self) -> None:
        missing = sorted(set(self.known) - set(self.remedies))
        unknown = sorted(set(self.remedies) - set(self.known))
        if missing or unknown:
            raise ValueError(
                f"vocabulary {self.name!r}: missing remedies {missing}, unknown remedies {unknown}"
            )

    def advice(self, remedies: Sequence[str]) -> str:
        """The offered remedies as one phrase: "a, b, or c" (empty when none is offered)."""
        words = [word for key in remedies if (word := self.remedies[key])]
        if len(words) <= 2:
            return " or ".join(words)
        return ", ".join(words[:-1]) + ", or " + words[-1]


#: the Python API: parameters of compile, Dense and the optimisers
API = Vocabulary(
    "api",
    {
        "lower_lr": "lower the learning rate (the optimiser's lr=...)",
        "raise_lr": "raise the learning rate (the optimiser's lr=...)",
        "clip": "clip the gradients (the optimiser's clipnorm=1.0)",
        "check_data": "check the data for extreme values",
        "leaky": 'use activation="leaky_relu" or "elu"',
        "he_init": 'use kernel_init="he_normal"',
        "relu_he": 'use activation="relu" with kernel_init="he_normal"',
        "batchnorm": "add BatchNorm layers",
        "fewer_layers": "use fewer layers",
        "small_init": 'use kernel_init="glorot_uniform" or smaller initial weights',
        "standardise": "standardise the inputs (model.preprocessing = Standardizer().fit(x))",
        "random_init": 'initialise with random weights (kernel_init="glorot_uniform", or '
        '"he_normal" for ReLU)',
    },
)

#: ``chainrule train``: its options (it standardises the inputs and picks the initialisation
#: for the activation itself, and has no clipping or BatchNorm)
CLI = Vocabulary(
    "cli",
    {
        "lower_lr": "lower the learning rate (--lr)",
        "raise_lr": "raise the learning rate (--lr)",
        "clip": None,
        "check_data": "check the data for extreme values (--data)",
        "leaky": "use --activation leaky_relu or --activation elu",
        "he_init": None,
        "relu_he": "use --activation relu (He initialisation comes with it)",
        "batchnorm": None,
        "fewer_layers": "use fewer hidden layers (--layers)",
        "small_init": None,
        "standardise": None,
        "random_init": None,
    },
)


@dataclass(frozen=True)
class Finding:
    """One health problem: what was measured and the remedies it calls for, not yet in words.

    ``kind`` is one of "nonfinite", "diverging", "update_large", "update_small", "dead",
    "saturated", "vanishing", "exploding", "symmetric"; ``layer`` the Dense layer's name (None
    for the whole network). ``text`` describes the measurement; its ``{layer}``, ``{first}`` and
    ``{last}`` stand for the Dense layers at the positions in ``places`` (of ``count``), named in
    the vocabulary's way.
    """

    kind: str
    layer: str | None
    text: str
    remedies: tuple[str, ...]
    places: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    count: int = 0

    def message(self, vocabulary: Vocabulary = API) -> str:
        """The finding and its advice in ``vocabulary``'s words."""
        labels = {
            key: vocabulary.layer(position, self.count, name)
            for key, (position, name) in self.places.items()
        }
        text = self.text.format(**labels)
        advice = vocabulary.advice(self.remedies)
        return f"{text} — {advice}" if advice else text


@dataclass
class Measures:
    """What ``verdicts`` judges, from ``health_report`` or from the monitor's epoch.

    ``layers`` are the Dense layers' names in order; ``nonfinite`` pairs a layer (or parameter)
    name with what in it is not finite; ``grad_norms`` and ``update_ratios`` are per Dense
    layer (absent where not measured); ``grad_norm_ratio`` is ‖∇W‖ of the first over the last;
    ``diverged`` says how the loss diverged (None: it did not).
    """

    layers: list[str]
    rows: list[LayerHealth] = field(default_factory=list)
    nonfinite: list[tuple[str, str]] = field(default_factory=list)
    grad_norms: dict[str, float] = field(default_factory=dict)
    update_ratios: dict[str, float] = field(default_factory=dict)
    grad_norm_ratio: float | None = None
    diverged: str | None = None
    symmetric: list[tuple[str, int]] = field(default_factory=list)

    @property
    def steps_too_large(self) -> bool:
        """The learning rate is the likely cause of whatever else is wrong."""
        return bool(
            self.diverged
            or self.nonfinite
            or any(ratio > UPDATE_RATIO_HIGH for ratio in self.update_ratios.values())
        )


def _place(measures: Measures, name: str) -> dict[str, tuple[int, str]]:
    position = measures.layers.index(name) if name in measures.layers else 0
    return {"layer": (position, name)}


def verdicts(
    measures: Measures,
    threshold: float = DEFAULT_THRESHOLD,
    saturation_threshold: float = SATURATION_THRESHOLD,
) -> list[Finding]:
    """The findings ``measures`` call for, worst first (one function for report and monitor).

    Non-finite values and a diverging loss come first, then update ratios outside
    [1e-6, 0.25] (a too small one only where the gradients do not already vanish, which says
    why), dead units from ``threshold`` and saturated pairs from ``saturation_threshold``,
    vanishing (< 1e-3) or exploding (> 1e3) gradient-norm ratios, then symmetric units. While
    the steps are too large, every finding advises the learning rate (and clipping), never an
    activation.
    """
    count = len(measures.layers)
    big_steps = measures.steps_too_large
    findings: list[Finding] = []
    if measures.diverged:
        findings.append(
            Finding(
                "diverging",
                None,
                f"training diverges: {measures.diverged}",
                ("lower_lr", "clip", "check_data"),
                count=count,
            )
        )
    for name, what in measures.nonfinite:
        findings.append(
            Finding(
                "nonfinite",
                name,
                f"{{layer}}: {what}",
                ("lower_lr", "clip", "check_data"),
                _place(measures, name),
                count,
            )
        )
    flow = _flow_findings(measures, big_steps)
    findings.extend(
        _update_findings(measures, vanishing=any(finding.kind == "vanishing" for finding in flow))
    )
    last = measures.layers[-1] if measures.layers else None
    for row in measures.rows:
        findings.extend(
            _unit_findings(
                row,
                (threshold, saturation_threshold),
                big_steps,
                row.layer == last,
                _place(measures, row.layer),
                count,
            )
        )
    findings.extend(flow)
    for name, units in measures.symmetric:
        findings.append(
            Finding(
                "symmetric",
                name,
                f"{{layer}}: all {units} units have identical weights (symmetric), so they compute "
                "the same function and learn the same thing",
                ("random_init",),
                _place(measures, name),
                count,
            )
        )
    return findings


def _update_findings(measures: Measures, vanishing: bool) -> list[Finding]:
    """Median update ratios above ``UPDATE_RATIO_HIGH`` or (without vanishing gradients, which
    explain tiny updates themselves) below ``UPDATE_RATIO_LOW``."""
    count = len(measures.layers)
    found = []
    for name, ratio in measures.update_ratios.items():
        if ratio > UPDATE_RATIO_HIGH:
            found.append(
                Finding(
                    "update_large",
                    name,
                    f"{{layer}}: each step changes its weights by {ratio:.2g} of their norm "
                    f"(median ‖ΔW‖/‖W‖; about 1e-3 is healthy, above {UPDATE_RATIO_HIGH:g} is too "
                    "large)",
                    ("lower_lr", "clip"),
                    _place(measures, name),
                    count,
                )
            )
        elif 0 < ratio < UPDATE_RATIO_LOW and not vanishing:
            found.append(
                Finding(
                    "update_small",
                    name,
                    f"{{layer}}: each step changes its weights by only {ratio:.2g} of their norm "
                    f"(median ‖ΔW‖/‖W‖; about 1e-3 is healthy, below {UPDATE_RATIO_LOW:g} nothing "
                    "is learnt): its gradient vanishes or the learning rate is too small",
                    ("raise_lr",),
                    _place(measures, name),
                    count,
                )
            )
    return found


def _record(activation: str) -> ActivationFunction | None:
    """The catalog's record of the activation a row names (None: no longer in the catalog)."""
    try:
        return activations.get(activation)
    except activations.UnknownActivationError:
        return None


def _label(activation: str) -> str:
    record = _record(activation)
    return activation if record is None else record.label


def _dies_from_zero(activation: str) -> bool:
    """g = g' = 0 on the whole of z < 0 (relu, relu6): a zero-mean start already silences
    half of the pre-activations, so He's initialisation and a leaky slope are the remedies."""
    record = _record(activation)
    return record is not None and record.dead_below == 0


def _unit_findings(
    row: LayerHealth,
    thresholds: tuple[float, float],
    big_steps: bool,
    output_layer: bool,
    place: dict[str, tuple[int, str]],
    count: int,
) -> list[Finding]:
    threshold, saturation_threshold = thresholds
    found = []
    if row.dead is not None and row.dead > 0 and row.dead >= threshold:
        remedies = (
            ("lower_lr", "clip")
            if big_steps
            else ("lower_lr", "leaky", "he_init")
            if _dies_from_zero(row.activation)
            else ("lower_lr", "standardise", "leaky")
        )
        found.append(
            Finding(
                "dead",
                row.layer,
                f"{{layer}}: {row.dead:.0%} of its {_label(row.activation)} units are dead "
                "(output 0 "
                f"on every sample; warning from {threshold:.0%})",
                remedies,
                place,
                count,
            )
        )
    # A sigmoid output that is sure of its answers is fine: the output layer is not judged.
    if (
        row.saturated is not None
        and row.saturated > 0
        and row.saturated >= saturation_threshold
        and not output_layer
    ):
        remedies = ("lower_lr", "clip") if big_steps else ("standardise", "small_init", "lower_lr")
        found.append(
            Finding(
                "saturated",
                row.layer,
                f"{{layer}}: {row.activation} is saturated on {row.saturated:.0%} of (unit, "
                "sample) "
                f"pairs (|g'(z)| below {SLOPE_FRACTION:.0%} of its maximum; warning from "
                f"{saturation_threshold:.0%})",
                remedies,
                place,
                count,
            )
        )
    return found


def _flow_findings(measures: Measures, big_steps: bool) -> list[Finding]:
    ratio = measures.grad_norm_ratio
    if ratio is None or not measures.layers:
        return []
    count = len(measures.layers)
    places = {"first": (0, measures.layers[0]), "last": (count - 1, measures.layers[-1])}
    if ratio < VANISHING_RATIO:
        saturating = any(row.saturated is not None for row in measures.rows)
        remedies = (
            ("lower_lr", "clip")
            if big_steps
            else ("relu_he", "batchnorm", "fewer_layers")
            if saturating
            else ("he_init", "batchnorm", "fewer_layers")
        )
        return [
            Finding(
                "vanishing",
                None,
                (
                    f"gradients vanish: the gradient norm of the first layer ({{first}}) is "
                    f"{ratio:.1g} "
                    f"of the last one's ({{last}}; warning below {VANISHING_RATIO:g})"
                ),
                remedies,
                places,
                count,
            )
        ]
    if ratio > EXPLODING_RATIO:
        return [
            Finding(
                "exploding",
                None,
                (
                    f"gradients explode: the gradient norm of the first layer ({{first}}) is "
                    f"{ratio:.1g} "
                    f"times the last one's ({{last}}; warning above {EXPLODING_RATIO:g})"
                ),
                ("lower_lr", "clip", "small_init", "fewer_layers"),
                places,
                count,
            )
        ]
    return []


# ---------------------------------------------------------------------- the report
@dataclass(frozen=True)
class LayerHealth:
    """The health of one Dense layer's units under its activation.

    ``dead`` is the fraction of the ``units`` that output 0 on every sample, ``saturated`` the
    fraction of (unit, sample) pairs with |g'(z)| below 1% of its maximum (None where the
    measure does not apply to the activation); ``dead_units`` and ``saturated_units`` (flat on
    at least 99% of the samples) are unit indices; ``nonfinite`` counts NaN or infinite z.
    """

    layer: str
    units: int
    activation: str
    dead: float | None
    saturated: float | None
    dead_units: tuple[int, ...] = ()
    saturated_units: tuple[int, ...] = ()
    nonfinite: int = 0


@dataclass
class HealthReport:
    """Per-layer health rows, the findings they call for, and the number of samples measured.

    ``grad_norms`` (per Dense layer) and ``grad_norm_ratio`` are set when ``y`` was given.
    """

    rows: list[LayerHealth]
    findings: list[Finding]
    samples: int
    threshold: float = DEFAULT_THRESHOLD
    saturation_threshold: float = SATURATION_THRESHOLD
    notes: list[str] = field(default_factory=list)
    grad_norms: dict[str, float] = field(default_factory=dict)
    grad_norm_ratio: float | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was found (non-finite values are never OK)."""
        return not self.findings

    @property
    def warnings(self) -> list[str]:
        """The findings in the Python API's words."""
        return self.messages(API)

    def messages(self, vocabulary: Vocabulary = API) -> list[str]:
        """The findings in ``vocabulary``'s words."""
        return [finding.message(vocabulary) for finding in self.findings]

    def table(self) -> list[list[str]]:
        """The header and one row of cells per layer (the table of ``format`` and the HTML)."""
        header = ["Layer", "Units", "Activation", "Dead", "Saturated"]
        table = [
            [row.layer, str(row.units), row.activation, _percent(row.dead), _percent(row.saturated)]
            for row in self.rows
        ]
        if self.grad_norms:
            header.append("Grad norm")
            for line, row in zip(table, self.rows):
                norm = self.grad_norms.get(row.layer)
                line.append("—" if norm is None else f"{norm:.3g}")
        return [header, *table]

    def format(self, vocabulary: Vocabulary = API) -> str:
        """A table of the rows, what its columns mean, then the warnings (or that all is well)."""
        table = self.table()
        header = table[0]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        lines = [f"Network health on {self.samples:,} samples"]
        for index, line in enumerate(table):
            lines.append(
                "  ".join(
                    cell.rjust(width) if 0 < column and column != 2 else cell.ljust(width)
                    for column, (cell, width) in enumerate(zip(line, widths))
                ).rstrip()
            )
            if index == 0:
                lines.append("  ".join("─" * width for width in widths))
        if not self.rows:
            lines.append("(no Dense layer followed by an activation)")
        else:
            lines.append(
                "Dead: units that output 0 on every sample. Saturated: (unit, sample) pairs"
            )
            lines.append(
                f"with |g'(z)| below {SLOPE_FRACTION:.0%} of its maximum. Warning from "
                f"{self.threshold:.0%} dead, {self.saturation_threshold:.0%} saturated."
            )
        if self.grad_norm_ratio is not None:
            lines.append(
                f"Gradient norm, first layer over last: {self.grad_norm_ratio:.3g} "
                f"(vanishing below {VANISHING_RATIO:g}, exploding above "
                f"{EXPLODING_RATIO:g})"
            )
        lines.extend(f"note: {note}" for note in self.notes)
        if self.findings:
            lines.extend(f"warning: {message}" for message in self.messages(vocabulary))
        else:
            lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        """One line on how the network is: OK, or how many problems were found."""
        if self.findings:
            count = len(self.findings)
            return f"{count} problem{'s' if count > 1 else ''} found."
        return (
            f"OK: no layer has {self.threshold:.0%} or more dead units or "
            f"{self.saturation_threshold:.0%} or more saturated pairs"
            + (", and the gradients flow." if self.grad_norm_ratio is not None else ".")
        )

    def __str__(self) -> str:
        return self.format()

    def _repr_html_(self) -> str:
        """``format()`` for notebooks: the table as HTML, the lines after it as text, each
        warning on a line of its own."""
        from .notebook import table_html

        table = self.table()
        after = self.format().split("\n")[2 + len(table) :]
        if self.rows:  # the legend's two lines are one paragraph
            after[:2] = [" ".join(after[:2])]
        else:  # "(no Dense layer ...)" is said by the empty table's caption
            after = after[1:]
        caption = f"Network health on {self.samples:,} samples" + (
            "" if self.rows else " (no Dense layer followed by an activation)"
        )
        page = table_html(table[0], table[1:], caption)
        paragraphs = "".join(
            f"<p><b>warning:</b> {html.escape(line.removeprefix('warning: '))}</p>"
            if line.startswith("warning: ")
            else f"<p>{html.escape(line)}</p>"
            for line in after
        )
        return page[: -len("</div>")] + paragraphs + "</div>"


def _percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{100 * fraction:.1f}%"


# ---------------------------------------------------------------------- activation properties
def _saturation_applies(activation: ActivationFunction, flat_zero: bool) -> bool:
    """Saturation is measured where g' → 0 somewhere, except where that is only the dead side."""
    if not activation.elementwise or activation.saturating not in ("left", "right", "both"):
        return False
    return not (flat_zero and activation.saturating == "left")


def _largest_slope(activation: ActivationFunction) -> float:
    """max |g'(z)| over z in [−20, 20] (the reference slope of the saturation test)."""
    z = np.linspace(-20.0, 20.0, 4001)
    return float(np.max(np.abs(activation.derivative(z))))


# ---------------------------------------------------------------------- accumulating
class _Probe:
    """Running counts for one Dense layer's pre-activations z, batch by batch."""

    def __init__(self, dense: Dense, activation: ActivationFunction) -> None:
        self.dense = dense
        self.activation = activation
        self.flat_zero = activation.elementwise and activation.can_die
        self.measures_saturation = _saturation_applies(activation, self.flat_zero)
        self.cutoff = (
            SLOPE_FRACTION * _largest_slope(activation) if (self.measures_saturation) else 0.0
        )
        self.always_zero = np.ones(dense.units, dtype=bool)
        self.flat_counts = np.zeros(dense.units, dtype=np.int64)
        self.nonfinite = 0
        self.samples = 0

    def observe(self, signals: Signals) -> None:
        z, a = signals.z, signals.a
        self.samples += len(z)
        finite = np.isfinite(z)
        if not finite.all():
            self.nonfinite += int(z.size - np.count_nonzero(finite))
        if self.flat_zero:
            self.always_zero &= np.all(a == 0, axis=0)
        if self.measures_saturation:
            slope = np.abs(signals.slope)
            self.flat_counts += np.sum(slope < self.cutoff, axis=0)

    def result(self) -> LayerHealth:
        units = self.dense.units
        dead_mask = self.always_zero if self.flat_zero else np.zeros(units, bool)
        if self.nonfinite:
            dead_mask = np.zeros(units, bool)  # NaN is not 0; nothing is measured honestly
        saturated_mask = (self.flat_counts >= SATURATED_SAMPLES * self.samples) & ~dead_mask
        flat_pairs = int(np.sum(self.flat_counts[~dead_mask]))
        pairs = max(units * self.samples, 1)
        return LayerHealth(
            layer=self.dense.name or "dense",
            units=units,
            activation=self.activation.name,
            dead=float(dead_mask.mean()) if self.flat_zero else None,
            saturated=flat_pairs / pairs if self.measures_saturation else None,
            dead_units=tuple(int(i) for i in np.flatnonzero(dead_mask)),
            saturated_units=tuple(int(i) for i in np.flatnonzero(saturated_mask))
            if self.measures_saturation
            else (),
            nonfinite=self.nonfinite,
        )


# ---------------------------------------------------------------------- the walk
def _checked_input(x: Any) -> np.ndarray:
    array = np.asarray(x.data if isinstance(x, Tensor) else x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"health_report: x must be numeric, got dtype {array.dtype}")
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"health_report: x must be rows of samples, got shape {array.shape}")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(
            f"health_report: x has NaN or infinity (first in row {int(np.argwhere(bad)[0][0])})"
        )
    return array


def _dtype_of(layers: list[Any]) -> np.dtype:
    for layer in layers:
        weight = getattr(layer, "weight", None)
        if weight is not None:
            return weight.data.dtype
    return np.dtype(np.float32)


def _find_probes(found: list[Pairing]) -> dict[int, _Probe]:
    """One probe per Dense that feeds an activation (its own, or a following layer's)."""
    return {
        id(pairing.dense): _Probe(pairing.dense, pairing.activation)
        for pairing in found
        if pairing.activation is not None
    }


def _batches(x: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(x), size):
        yield x[start : start + size]


def _dense_layers(model: Any) -> list[Dense]:
    """Every Dense layer of ``model``, in order, each once."""
    found: list[Dense] = []
    for _, module in model.named_modules():
        if isinstance(module, Dense) and all(module is not d for d in found):
            found.append(module)
    return found


def _layer_name(layer: Dense) -> str:
    return layer.name or "dense"


def _norm(array: np.ndarray) -> float:
    """‖array‖₂ in one BLAS pass (inf or NaN when an entry is)."""
    flat = np.asarray(array).reshape(-1)
    with np.errstate(all="ignore"):
        return (
            math.sqrt(float(np.dot(flat, flat)))
            if flat.dtype.kind == "f"
            else float(np.sqrt(np.sum(np.square(flat, dtype=np.float64))))
        )


def _describe_nonfinite(array: np.ndarray, what: str) -> str | None:
    """ "its weights hold NaN in 12 of 40 entries" (None when every entry is finite)."""
    array = np.asarray(array)
    finite = np.isfinite(array)
    if finite.all():
        return None
    nan = int(np.count_nonzero(np.isnan(array)))
    kinds = " and ".join(
        kind
        for kind, present in (
            ("NaN", nan),
            ("infinity", array.size - np.count_nonzero(finite) - nan),
        )
        if present
    )
    return (
        f"its {what} hold {kinds} in {array.size - int(np.count_nonzero(finite))} of "
        f"{array.size} entries"
    )


def _nonfinite_parameters(dense_layers: list[Dense]) -> list[tuple[str, str]]:
    """(layer, what) for every Dense whose weights, biases or slopes are not all finite."""
    found = []
    for layer in dense_layers:
        for what, parameter in (
            ("weights", layer.weight),
            ("biases", layer.bias),
            ("PReLU slopes", layer.alpha),
        ):
            if parameter is not None:
                description = _describe_nonfinite(parameter.data, what)
                if description:
                    found.append((_layer_name(layer), description))
    return found


def _nonfinite_gradients(dense_layers: list[Dense]) -> list[tuple[str, str]]:
    found = []
    for layer in dense_layers:
        grad = _gradient_of(layer)
        description = None if grad is None else _describe_nonfinite(grad, "weight gradients")
        if description:
            found.append((_layer_name(layer), description))
    return found


def _gradient_of(layer: Dense) -> np.ndarray | None:
    grad = None if layer.weight is None else layer.weight.grad
    if grad is None:
        return None
    return np.asarray(grad.data if isinstance(grad, Tensor) else grad)


def _flow_ratio(norms: Sequence[float]) -> float | None:
    """‖∇W‖ of the first Dense over the last; None when not measurable (an exactly zero norm
    is a converged or cut-off layer, not a vanishing gradient)."""
    if len(norms) < 2 or not all(math.isfinite(n) for n in norms):
        return None
    if norms[0] <= 0 or norms[-1] <= 0:
        return None
    return norms[0] / norms[-1]


def _gradient_norms(
    model: Any, dense_layers: list[Dense], x: np.ndarray, y: np.ndarray
) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Backpropagate the loss (penalties included) of (x, y) once; the Dense layers' ‖∇W‖ and
    their non-finite gradients. Every parameter's ``.grad`` is put back as it was."""
    if getattr(model, "loss", None) is None or not hasattr(model, "total_loss"):
        raise ValueError(
            "health_report with y needs a compiled model "
            "(model.compile(loss=...)) to compute the gradients"
        )
    target = y
    if target.dtype.kind == "f":
        target = target.astype(x.dtype, copy=False)
    parameters = model.parameters()
    kept = [parameter.grad for parameter in parameters]
    try:
        for parameter in parameters:
            parameter.grad = None
        with np.errstate(all="ignore"):
            model.total_loss(model(x), target).backward()
        norms = {}
        for layer in dense_layers:
            grad = _gradient_of(layer)
            if grad is not None:
                norms[_layer_name(layer)] = _norm(grad)
        bad = _nonfinite_gradients(dense_layers)
    finally:
        for parameter, grad in zip(parameters, kept):
            parameter.grad = grad
    return norms, bad


def _checked_targets(x: np.ndarray, y: Any) -> np.ndarray:
    target = np.asarray(y.data if isinstance(y, Tensor) else y)
    if len(target) != len(x):
        raise ValueError(f"health_report: x has {len(x)} rows but y has {len(target)}")
    return target


# ---------------------------------------------------------------------- entry point
def health_report(
    model: Any,
    x: Any,
    y: Any = None,
    batch_size: int = 512,
    threshold: float = DEFAULT_THRESHOLD,
    saturation_threshold: float = SATURATION_THRESHOLD,
) -> HealthReport:
    """Measure the health of every Dense + activation of ``model`` on ``x`` (and with ``y``,
    the gradients of one batch), and judge it with ``verdicts``.

    ``x`` is raw data: the model's ``preprocessing`` (when set) is applied first. The model runs
    in eval mode (dropout off) and is put back in its previous mode afterwards; no weight and no
    ``.grad`` is changed. ``threshold`` is the fraction of dead units, ``saturation_threshold``
    the fraction of saturated pairs, from which a layer gets a finding. With ``y`` the model
    must be compiled: its loss is backpropagated on up to ``batch_size`` evenly spaced rows.
    """
    _check_thresholds(threshold, saturation_threshold)
    measures, notes, samples = measure_network(model, x, y, batch_size)
    return HealthReport(
        rows=measures.rows,
        findings=verdicts(measures, threshold, saturation_threshold),
        samples=samples,
        threshold=threshold,
        saturation_threshold=saturation_threshold,
        notes=notes,
        grad_norms=measures.grad_norms,
        grad_norm_ratio=measures.grad_norm_ratio,
    )


def _check_thresholds(*thresholds: float) -> None:
    for name, value in zip(("threshold", "saturation_threshold"), thresholds):
        if not 0.0 < value <= 1.0:
            raise ValueError(f"{name} must be in (0, 1], got {value!r}")


def measure_network(
    model: Any, x: Any, y: Any = None, batch_size: int = 512
) -> tuple[Measures, list[str], int]:
    """``health_report``'s measures (not yet judged), its notes and the number of samples."""
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    layers = layers_of(model, "health_report")
    x = _checked_input(x)
    target = None if y is None else _checked_targets(x, y)
    preprocessing = getattr(model, "preprocessing", None)
    if preprocessing is not None:
        x = np.asarray(preprocessing.transform(x))
    if hasattr(model, "build"):
        model.build(x.shape[1:])
    x = x.astype(_dtype_of(layers), copy=False)
    dense_layers = _dense_layers(model)
    measures = Measures(
        layers=[_layer_name(layer) for layer in dense_layers],
        nonfinite=_nonfinite_parameters(dense_layers),
        symmetric=_symmetric(dense_layers),
    )
    found = pairings(layers)
    probes = _find_probes(found)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad(), np.errstate(all="ignore"):
            for batch in _batches(x, int(batch_size)):
                for signals in walk_layers(layers, batch, found):
                    if id(signals.dense) in probes:
                        probes[id(signals.dense)].observe(signals)
        if target is not None:
            rows = _evenly_spaced(len(x), int(batch_size))
            measures.grad_norms, bad = _gradient_norms(model, dense_layers, x[rows], target[rows])
            measures.nonfinite += bad
            measures.grad_norm_ratio = _flow_ratio(
                [measures.grad_norms.get(name, 0.0) for name in measures.layers]
            )
    finally:
        model.train(was_training)
    measures.rows = [probe.result() for probe in probes.values()]
    measures.nonfinite += [
        (
            row.layer,
            f"its pre-activations z hold NaN or infinity in {row.nonfinite} of "
            f"{row.units * len(x)} values",
        )
        for row in measures.rows
        if row.nonfinite
    ]
    notes = [
        f"layer {row.layer}: {row.activation} is not elementwise; not measured"
        for row, probe in zip(measures.rows, probes.values())
        if not probe.activation.elementwise
    ]
    return measures, notes, len(x)


def _symmetric(dense_layers: list[Dense]) -> list[tuple[str, int]]:
    """(layer, units) for every Dense whose units all have identical weight rows."""
    return [
        (_layer_name(layer), layer.weight.data.shape[0])
        for layer in dense_layers
        if layer.weight is not None
        and np.isfinite(layer.weight.data).all()
        and symmetric_units(layer.weight.data)
    ]


def _evenly_spaced(count: int, limit: int) -> np.ndarray:
    """At most ``limit`` evenly spaced indices of ``count`` rows (no random numbers)."""
    if count <= limit:
        return np.arange(count)
    return np.linspace(0, count - 1, limit).round().astype(np.int64)


def sample_rows(x: Any, limit: int = MONITOR_SAMPLES) -> np.ndarray:
    """At most ``limit`` rows of ``x``, evenly spaced (deterministic: no random numbers used)."""
    array = np.asarray(x.data if isinstance(x, Tensor) else x)
    return array[_evenly_spaced(len(array), limit)]


# ---------------------------------------------------------------------- monitoring during fit
class TrainingHealthWarning(UserWarning):
    """A problem ``HealthMonitor`` saw during training; ``finding`` is the ``Finding`` (None if
    the warning was made from a text alone), so another place can word it its own way."""

    def __init__(self, message: str, finding: Finding | None = None) -> None:
        super().__init__(message)
        self.finding = finding

    def worded(self, vocabulary: Vocabulary) -> str:
        """The warning in ``vocabulary``'s words (its own text when it has no finding)."""
        return str(self) if self.finding is None else self.finding.message(vocabulary)


class HealthMonitor(Callback):
    """Watches a network's health while ``fit`` trains it; cheap enough to leave on.

    ``Model.fit`` adds one (``health=True``, the default), after the user's callbacks and before
    the History, with ``sample`` set to at most 256 evenly spaced training rows (raw data: the
    model's ``preprocessing`` is applied by ``health_report``). Every ``every`` batches (default:
    about 4 times an epoch, every ``max(1, steps // 4)`` batches) it reads, for each Dense layer
    (named as in ``named_parameters``: "dense", "dense_1", ...):

    * the gradient norm ‖∇W‖ of its weight (``.grad`` is still set in ``on_batch_end``);
    * the update-to-weight ratio ‖ΔW‖/‖W‖ of that optimiser step (the weight is copied in
      ``on_batch_begin``; the denominator is the larger of ‖W‖ before and after, so a layer
      that starts at zero reads 1, not infinity);
    * NaN or infinity in the weight or its gradient, and a non-finite batch loss (divergence).

    At the end of every epoch it writes into the epoch's logs (so the History keeps them), per
    layer, ``health/<layer>/grad_norm`` and ``health/<layer>/update_ratio`` (medians over the
    epoch's sampled batches), ``health/<layer>/dead`` and ``health/<layer>/saturated`` (from
    ``health_report`` on ``sample``: the fraction of dead units and of saturated (unit, sample)
    pairs, where the activation has such units), and ``health/grad_norm_ratio``: the median of
    the first Dense layer's gradient norm over the last one's. The progress bar, which comes
    before the monitor, does not show these keys.

    It judges these measures with ``verdicts`` — the same function as ``health_report`` — and
    warns (``TrainingHealthWarning``, worded in ``vocabulary``) at most once per problem and
    layer per ``fit``. The monitor only reads: it changes no weight and draws no random numbers,
    so training with and without it gives the same model.
    """

    def __init__(
        self,
        every: int | None = None,
        sample: Any = None,
        threshold: float = DEFAULT_THRESHOLD,
        saturation_threshold: float = SATURATION_THRESHOLD,
        vocabulary: Vocabulary = API,
    ) -> None:
        super().__init__()
        if every is not None and (int(every) != every or every < 1):
            raise ValueError(f"every must be a positive integer or None, got {every!r}")
        _check_thresholds(threshold, saturation_threshold)
        self.every = every
        self.sample = sample
        self.threshold = threshold
        self.saturation_threshold = saturation_threshold
        self.vocabulary = vocabulary
        self.warned: set[tuple[str, str | None]] = set()
        self._layers: list[Dense] = []
        self._snapshots: dict[int, np.ndarray] = {}
        self._buffers: dict[int, np.ndarray] = {}  # kept snapshot arrays, one per layer
        self._grad_norms: dict[str, list[float]] = {}
        self._ratios: dict[str, list[float]] = {}
        self._flow: list[float] = []
        self._nonfinite: dict[str, str] = {}
        self._diverged: str | None = None
        self._measures_units = True

    def set_params(self, params: Mapping[str, Any]) -> None:
        super().set_params(params)
        if "health_sample" in params:
            self.sample = params["health_sample"]

    @property
    def interval(self) -> int:
        """Sample every this many batches."""
        if self.every is not None:
            return int(self.every)
        return max(1, int(self.params.get("steps", 1) or 1) // 4)

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.warned = set()
        self._layers = _dense_layers(self.model) if self.model is not None else []
        try:
            layers_of(self.model, "health_report")
            self._measures_units = self.sample is not None
        except TypeError:  # not a Sequential: gradients only
            self._measures_units = False
        self._report(Measures(layers=self._names(), symmetric=_symmetric(self._layers)))

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._grad_norms = {}
        self._ratios = {}
        self._flow = []
        self._snapshots = {}
        self._nonfinite = {}
        self._diverged = None

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._snapshots = {}
        if batch % self.interval == 0:
            for layer in self._layers:
                if layer.weight is not None:
                    weight = layer.weight.data
                    kept = self._buffers.get(id(layer))
                    if kept is None or kept.shape != weight.shape or kept.dtype != weight.dtype:
                        kept = self._buffers[id(layer)] = np.empty_like(weight)
                    np.copyto(kept, weight)  # into a kept array: no allocation per batch
                    self._snapshots[id(layer)] = kept

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if self._diverged is None and loss is not None and not math.isfinite(float(loss)):
            self._diverged = f"the training loss became {float(loss)} in batch {batch + 1}"
        if not self._snapshots:
            return
        norms: list[float] = []
        for layer in self._layers:
            before = self._snapshots.get(id(layer))
            if before is None or layer.weight is None:
                continue
            name = _layer_name(layer)
            weight = layer.weight.data
            grad = _gradient_of(layer)
            weight_norm = _norm(weight)  # finite exactly when every weight is (or it overflows)
            grad_norm = 0.0 if grad is None else _norm(grad)
            if not (math.isfinite(weight_norm) and math.isfinite(grad_norm)):
                # overflow of a finite sum, or NaN/inf: look closer
                problem = _describe_nonfinite(weight, "weights") or (
                    None if grad is None else _describe_nonfinite(grad, "weight gradients")
                )
                if problem:
                    self._nonfinite.setdefault(name, problem)
                    continue
            if grad is not None:
                self._grad_norms.setdefault(name, []).append(grad_norm)
                norms.append(grad_norm)
            scale = max(_norm(before), weight_norm)
            with np.errstate(all="ignore"):
                change = _norm(np.subtract(weight, before, out=before))  # before is ours
            self._ratios.setdefault(name, []).append(change / scale if scale > 0 else 0.0)
        self._snapshots = {}
        if len(norms) == len(self._layers):
            ratio = _flow_ratio(norms)
            if ratio is not None:
                self._flow.append(ratio)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is None:
            return
        measures = self._epoch_measures()
        for name, value in measures.grad_norms.items():
            logs[f"health/{name}/grad_norm"] = value
        for name, values in self._ratios.items():
            logs[f"health/{name}/update_ratio"] = float(np.median(values))
        if measures.grad_norm_ratio is not None:
            logs["health/grad_norm_ratio"] = measures.grad_norm_ratio
        if self._measures_units and not measures.nonfinite:
            # (with NaN weights the forward pass would only produce NaN: already reported)
            with np.errstate(all="ignore"):
                units, _, _ = measure_network(self.model, self.sample)
            measures.rows = units.rows
            measures.nonfinite += units.nonfinite  # non-finite z (the parameters are finite)
            for row in units.rows:
                if row.dead is not None:
                    logs[f"health/{row.layer}/dead"] = row.dead
                if row.saturated is not None:
                    logs[f"health/{row.layer}/saturated"] = row.saturated
        self._report(measures)

    # ------------------------------------------------------------------ judging
    @property
    def _line_search(self) -> bool:
        return bool(getattr(getattr(self.model, "optimizer", None), "requires_closure", False))

    def _names(self) -> list[str]:
        return [_layer_name(layer) for layer in self._layers]

    def _epoch_measures(self) -> Measures:
        """The epoch's medians and problems, ready for ``verdicts``."""
        return Measures(
            layers=self._names(),
            nonfinite=list(self._nonfinite.items()),
            grad_norms={name: float(np.median(v)) for name, v in self._grad_norms.items()},
            # (a full-batch line search — L-BFGS, conjugate gradient — takes large steps by design)
            update_ratios={}
            if self._line_search
            else {name: float(np.median(v)) for name, v in self._ratios.items()},
            grad_norm_ratio=float(np.median(self._flow)) if self._flow else None,
            diverged=self._diverged,
            symmetric=_symmetric(self._layers),
        )

    def _report(self, measures: Measures) -> None:
        for finding in verdicts(measures, self.threshold, self.saturation_threshold):
            self._warn(finding)

    def _warn(self, finding: Finding) -> None:
        key = (finding.kind, finding.layer)
        if key in self.warned:
            return
        self.warned.add(key)
        warnings.warn(
            TrainingHealthWarning(finding.message(self.vocabulary), finding), stacklevel=4
        )


__all__ = [
    "API",
    "CLI",
    "REMEDIES",
    "Finding",
    "HealthMonitor",
    "HealthReport",
    "LayerHealth",
    "Measures",
    "TrainingHealthWarning",
    "Vocabulary",
    "health_report",
    "measure_network",
    "sample_rows",
    "verdicts",
]
