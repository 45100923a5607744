"""Network health: dead and saturated hidden units, measured on data, with advice in plain words.

``health_report(model, x)`` runs ``x`` through a ``Sequential`` in eval mode, layer by layer
(applying ``model.preprocessing`` first when the model has one), and looks at every ``Dense``
layer whose outputs go through an activation — the Dense's own ``activation`` or an
``Activation`` layer after it (``Dropout`` and ``BatchNorm`` in between are looked through).
For each such layer it measures, over all the samples:

* **dead units** — for activations with a flat zero part (relu, relu6, hard_sigmoid,
  hard_swish: g(z) = g'(z) = 0 for z far enough left), a unit whose output is exactly 0 on
  every sample. No gradient reaches its weights, so it never recovers.
* **saturated units** — for activations that saturate (the catalog's ``saturating`` is "both",
  "right", or "left" with a smooth tail: sigmoid, tanh, the hard functions, softsign, ELU, ...),
  a unit with |g'(z)| < 1% of the largest |g'| on at least 99% of the samples (dead units are
  not counted again). Its gradient is nearly zero almost everywhere, so it learns very slowly.

A layer where at least ``threshold`` (10%) of the units are dead or saturated gets a warning
with advice. ``HealthReport.format()`` is a readable table; ``ok`` is True without warnings.

>>> import numpy as np
>>> from chainrule.nn import Sequential, Dense, Activation
>>> model = Sequential([Dense(4, input_dim=2, bias_init="zeros"), Activation("relu"), Dense(1)],
...                    seed=0)
>>> report = health_report(model, np.random.default_rng(0).normal(size=(100, 2)))
>>> report.rows[0].layer, report.rows[0].units, report.rows[0].activation
('dense', 4, 'relu')
>>> report.ok
True

``HealthMonitor`` is a callback that watches the same things, and the gradients, while ``fit``
trains (``Model.fit(health=True)``, the default, adds it): per Dense layer the gradient norm, the
update-to-weight ratio, NaN/infinity, dead and saturated units once an epoch, the ratio of the
first to the last layer's gradient norm (vanishing or exploding gradients), and symmetric
units. Its findings go into the epoch logs under ``health/...`` and, once per problem, into a
``TrainingHealthWarning``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .activations import Activation as ActivationFunction
from .callbacks import Callback, Logs
from .grad_mode import no_grad
from .init import symmetric_units
from .nn.layers import Activation, BatchNorm, Dense, Dropout, apply_activation
from .tensor import Tensor

#: |g'| below this fraction of the largest |g'| counts as "no gradient" for saturation
SLOPE_FRACTION = 0.01
#: a unit is saturated when its slope is that small on at least this fraction of the samples
SATURATED_SAMPLES = 0.99
#: layers with at least this fraction of dead or saturated units get a warning
DEFAULT_THRESHOLD = 0.1

_LOOKED_THROUGH = (Dropout, BatchNorm)  # shape-preserving layers between a Dense and its g
_DISPLAY = {"relu": "ReLU", "relu6": "ReLU6", "leaky_relu": "leaky ReLU", "elu": "ELU",
            "selu": "SELU", "celu": "CELU", "gelu": "GELU", "silu": "SiLU"}


@dataclass(frozen=True)
class LayerHealth:
    """The health of one Dense layer's units under its activation.

    ``dead`` and ``saturated`` are fractions of the ``units`` (None where the measure does not
    apply to the activation); ``dead_units`` and ``saturated_units`` are the unit indices.
    """

    layer: str
    units: int
    activation: str
    dead: float | None
    saturated: float | None
    dead_units: tuple[int, ...] = ()
    saturated_units: tuple[int, ...] = ()


@dataclass
class HealthReport:
    """Per-layer health rows, the advice they call for, and the number of samples measured."""

    rows: list[LayerHealth]
    warnings: list[str]
    samples: int
    threshold: float = DEFAULT_THRESHOLD
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no layer has too many dead or saturated units."""
        return not self.warnings

    def format(self) -> str:
        """A table of the rows, then the warnings (or a line saying all is well)."""
        header = ("Layer", "Units", "Activation", "Dead", "Saturated")
        table = [header] + [
            (row.layer, str(row.units), row.activation, _percent(row.dead),
             _percent(row.saturated))
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        lines = [f"Network health on {self.samples:,} samples"]
        for index, line in enumerate(table):
            lines.append("  ".join(
                cell.rjust(width) if 0 < column and column != 2 else cell.ljust(width)
                for column, (cell, width) in enumerate(zip(line, widths))
            ).rstrip())
            if index == 0:
                lines.append("  ".join("─" * width for width in widths))
        if not self.rows:
            lines.append("(no Dense layer followed by an activation)")
        lines.extend(f"note: {note}" for note in self.notes)
        if self.warnings:
            lines.extend(f"warning: {warning}" for warning in self.warnings)
        else:
            lines.append(
                f"OK: no layer has {self.threshold:.0%} or more dead or saturated units."
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{100 * fraction:.1f}%"


# ---------------------------------------------------------------------- activation properties
def _has_flat_zero(activation: ActivationFunction) -> bool:
    """True when g(z) = g'(z) = 0 on a whole left half-line (relu-like): units can die."""
    if not activation.elementwise or activation.saturating not in ("left", "both"):
        return False
    z = np.array([-50.0, -5.0, -4.0])
    return bool(np.all(activation.forward(z) == 0) and np.all(activation.derivative(z) == 0))


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
        self.flat_zero = _has_flat_zero(activation)
        self.measures_saturation = _saturation_applies(activation, self.flat_zero)
        self.cutoff = SLOPE_FRACTION * _largest_slope(activation) if (
            self.measures_saturation) else 0.0
        self.always_zero = np.ones(dense.units, dtype=bool)
        self.flat_counts = np.zeros(dense.units, dtype=np.int64)
        self.samples = 0

    def observe(self, z: np.ndarray, a: np.ndarray) -> None:
        self.samples += len(z)
        if self.flat_zero:
            self.always_zero &= np.all(a == 0, axis=0)
        if self.measures_saturation:
            slope = np.abs(self.activation.derivative(z, a))
            self.flat_counts += np.sum(slope < self.cutoff, axis=0)

    def result(self) -> LayerHealth:
        dead_mask = self.always_zero if self.flat_zero else np.zeros(self.dense.units, bool)
        saturated_mask = (self.flat_counts >= SATURATED_SAMPLES * self.samples) & ~dead_mask
        units = self.dense.units
        return LayerHealth(
            layer=self.dense.name or "dense",
            units=units,
            activation=self.activation.name,
            dead=float(dead_mask.mean()) if self.flat_zero else None,
            saturated=float(saturated_mask.mean()) if self.measures_saturation else None,
            dead_units=tuple(int(i) for i in np.flatnonzero(dead_mask)),
            saturated_units=tuple(int(i) for i in np.flatnonzero(saturated_mask))
            if self.measures_saturation else (),
        )


# ---------------------------------------------------------------------- the walk
def _layers_of(model: Any) -> list[Any]:
    """The layer list of a Sequential (or of a Model wrapping one)."""
    for candidate in (model, getattr(model, "module", None)):
        layers = getattr(candidate, "layers", None)
        if isinstance(layers, list):
            return layers
    raise TypeError(
        f"health_report needs a Sequential model (with .layers), got {type(model).__name__}"
    )


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
        raise ValueError(f"health_report: x has NaN or infinity (first in row "
                         f"{int(np.argwhere(bad)[0][0])})")
    return array


def _dtype_of(layers: list[Any]) -> np.dtype:
    for layer in layers:
        weight = getattr(layer, "weight", None)
        if weight is not None:
            return weight.data.dtype
    return np.dtype(np.float32)


def _run_batch(layers: list[Any], x: np.ndarray, probes: dict[int, _Probe]) -> None:
    """Forward one batch through ``layers``, feeding the probes their layers' z and a."""
    pending: Dense | None = None  # a Dense without its own activation, awaiting one
    for layer in layers:
        if isinstance(layer, Dense):
            z = x @ layer.weight.data.T
            if layer.bias is not None:
                z = z + layer.bias.data
            x = z if layer.activation is None else apply_activation(
                layer.activation, Tensor._wrap(z), layer.alpha).data  # PReLU: its learned slopes
            if layer.activation is not None:
                probes[id(layer)].observe(z, x)
            pending = layer if layer.activation is None else None
            continue
        output = layer(Tensor(x)).data
        if isinstance(layer, Activation) and pending is not None and id(pending) in probes:
            probes[id(pending)].observe(x, output)
        if not isinstance(layer, _LOOKED_THROUGH):
            pending = None
        x = output


def _find_probes(layers: list[Any]) -> dict[int, _Probe]:
    """One probe per Dense that feeds an activation (its own, or a following layer's)."""
    probes: dict[int, _Probe] = {}
    pending: Dense | None = None
    for layer in layers:
        if isinstance(layer, Dense):
            if layer.activation is not None:
                probes[id(layer)] = _Probe(layer, layer.activation)
            pending = layer if layer.activation is None else None
        elif isinstance(layer, Activation) and pending is not None:
            probes[id(pending)] = _Probe(pending, layer.activation)
            pending = None
        elif not isinstance(layer, _LOOKED_THROUGH):
            pending = None
    return probes


def _batches(x: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(x), size):
        yield x[start:start + size]


# ---------------------------------------------------------------------- advice
def _label(activation: str) -> str:
    return _DISPLAY.get(activation, activation)


def _advice(row: LayerHealth, threshold: float, where: str = "all samples") -> list[str]:
    advice = []
    if row.dead is not None and row.dead > 0 and row.dead >= threshold:
        remedy = ("lower the learning rate, use leaky_relu, or He initialisation"
                  if row.activation in ("relu", "relu6") else
                  "lower the learning rate, standardise the inputs, or use an activation "
                  "without a flat zero part (leaky_relu, elu)")
        advice.append(
            f"layer {row.layer}: {row.dead:.0%} of {_label(row.activation)} units are dead on "
            f"{where} — {remedy}"
        )
    if row.saturated is not None and row.saturated > 0 and row.saturated >= threshold:
        advice.append(
            f"layer {row.layer}: {row.saturated:.0%} of {_label(row.activation)} units are "
            f"saturated (|g'| below {SLOPE_FRACTION:.0%} of its maximum on at least "
            f"{SATURATED_SAMPLES:.0%} of the samples) — standardise the inputs, use Xavier "
            "initialisation or smaller initial weights, or lower the learning rate"
        )
    return advice


# ---------------------------------------------------------------------- entry point
def health_report(model: Any, x: Any, batch_size: int = 512,
                  threshold: float = DEFAULT_THRESHOLD) -> HealthReport:
    """Measure dead and saturated units of every Dense + activation of ``model`` on ``x``.

    ``x`` is raw data: the model's ``preprocessing`` (when set) is applied first. The model runs
    in eval mode (dropout off) and is put back in its previous mode afterwards. ``threshold`` is
    the fraction of dead or saturated units in a layer from which it gets a warning.
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    layers = _layers_of(model)
    x = _checked_input(x)
    preprocessing = getattr(model, "preprocessing", None)
    if preprocessing is not None:
        x = np.asarray(preprocessing.transform(x))
    if hasattr(model, "build"):
        model.build(x.shape[1:])
    x = x.astype(_dtype_of(layers), copy=False)
    probes = _find_probes(layers)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            for batch in _batches(x, int(batch_size)):
                _run_batch(layers, batch, probes)
    finally:
        model.train(was_training)
    rows = [probe.result() for probe in probes.values()]
    notes = [f"layer {row.layer}: {row.activation} is not elementwise; not measured"
             for row, probe in zip(rows, probes.values()) if not probe.activation.elementwise]
    warnings = [text for row in rows for text in _advice(row, threshold)]
    return HealthReport(rows=rows, warnings=warnings, samples=len(x), threshold=threshold,
                        notes=notes)



# ---------------------------------------------------------------------- monitoring during fit
#: the first Dense layer's gradient norm below this fraction of the last one's: vanishing
VANISHING_RATIO = 1e-3
#: the first Dense layer's gradient norm above this multiple of the last one's: exploding
EXPLODING_RATIO = 1e3
#: the monitor warns about a layer from this fraction of dead or saturated units (it is on by
#: default, so it speaks later than ``health_report``'s 10%: in a deep ReLU net trained well,
#: a quarter of a narrow layer's units can be dead on a 256-row sample)
MONITOR_THRESHOLD = 0.5
#: rows of the training set the monitor measures dead and saturated units on, per epoch
MONITOR_SAMPLES = 256


class TrainingHealthWarning(UserWarning):
    """A problem ``HealthMonitor`` saw during training (dead units, vanishing gradients, ...)."""


def sample_rows(x: Any, limit: int = MONITOR_SAMPLES) -> np.ndarray:
    """At most ``limit`` rows of ``x``, evenly spaced (deterministic: no random numbers used)."""
    array = np.asarray(x.data if isinstance(x, Tensor) else x)
    if len(array) <= limit:
        return array
    return array[np.linspace(0, len(array) - 1, limit).round().astype(np.int64)]


def _dense_layers(model: Any) -> list[Dense]:
    """Every Dense layer of ``model``, in order, each once."""
    found: list[Dense] = []
    for _, module in model.named_modules():
        if isinstance(module, Dense) and all(module is not d for d in found):
            found.append(module)
    return found


def _norm(array: np.ndarray) -> float:
    """‖array‖₂ in one BLAS pass (inf or NaN when an entry is)."""
    flat = np.asarray(array).reshape(-1)
    with np.errstate(all="ignore"):
        return math.sqrt(float(np.dot(flat, flat))) if flat.dtype.kind == "f" else float(
            np.sqrt(np.sum(np.square(flat, dtype=np.float64))))


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
    * NaN or infinity in the weight or its gradient.

    At the end of every epoch it writes into the epoch's logs (so the History keeps them), per
    layer, ``health/<layer>/grad_norm`` and ``health/<layer>/update_ratio`` (medians over the
    epoch's sampled batches), ``health/<layer>/dead`` and ``health/<layer>/saturated`` (fractions
    of units, from ``health_report`` on ``sample``, where the activation has such units), and
    ``health/grad_norm_ratio``: the first Dense layer's gradient norm over the last one's. The
    progress bar, which comes before the monitor, does not show these keys.

    It warns (``TrainingHealthWarning``, advice in plain words), at most once per problem and
    layer per ``fit``, when:

    * a layer has ``threshold`` (50%) or more dead or saturated units on the sample (not for
      saturation of the output layer: a sigmoid output that is sure of its answers is fine);
    * gradients vanish (``grad_norm_ratio`` < 1e-3) or explode (> 1e3) on the epoch's median;
    * a weight or its gradient holds NaN or infinity;
    * a layer's units are symmetric (identical weight rows, ``init.symmetric_units``) at the
      start of training or after an epoch.

    The monitor only reads: it changes no weight and draws no random numbers, so training with
    and without it gives the same model.
    """

    def __init__(self, every: int | None = None, sample: Any = None,
                 threshold: float = MONITOR_THRESHOLD) -> None:
        super().__init__()
        if every is not None and (int(every) != every or every < 1):
            raise ValueError(f"every must be a positive integer or None, got {every!r}")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        self.every = every
        self.sample = sample
        self.threshold = threshold
        self.warned: set[tuple[str, str]] = set()
        self._layers: list[Dense] = []
        self._snapshots: dict[int, np.ndarray] = {}
        self._buffers: dict[int, np.ndarray] = {}  # kept snapshot arrays, one per layer
        self._grad_norms: dict[str, list[float]] = {}
        self._ratios: dict[str, list[float]] = {}
        self._flow: list[float] = []
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
            _layers_of(self.model)
            self._measures_units = self.sample is not None
        except TypeError:  # not a Sequential: gradients only
            self._measures_units = False
        self._check_symmetry()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._grad_norms = {}
        self._ratios = {}
        self._flow = []
        self._snapshots = {}

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
        if not self._snapshots:
            return
        norms: list[float] = []
        for layer in self._layers:
            before = self._snapshots.get(id(layer))
            if before is None or layer.weight is None:
                continue
            name = layer.name or "dense"
            weight = layer.weight.data
            grad = layer.weight.grad
            weight_norm = _norm(weight)  # finite exactly when every weight is (or it overflows)
            grad_norm = 0.0
            if grad is not None:
                grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
                grad_norm = _norm(grad)
            finite = math.isfinite(weight_norm) and math.isfinite(grad_norm)
            if not finite:  # overflow of a finite sum, or NaN/inf: look closer
                finite = bool(np.isfinite(weight).all()) and (
                    grad is None or bool(np.isfinite(grad).all()))
            if not finite:
                self._warn("nonfinite", name,
                           f"layer {name}: its weights or gradients hold NaN or infinity — "
                           "lower the learning rate, clip the gradients, or check the data for "
                           "extreme values")
                continue
            if grad is not None:
                self._grad_norms.setdefault(name, []).append(grad_norm)
                norms.append(grad_norm)
            scale = max(_norm(before), weight_norm)
            with np.errstate(all="ignore"):
                change = _norm(np.subtract(weight, before, out=before))  # before is ours
            self._ratios.setdefault(name, []).append(change / scale if scale > 0 else 0.0)
        self._snapshots = {}
        # An exactly zero norm is a converged or cut-off layer, not a vanishing gradient.
        if len(norms) >= 2 and len(norms) == len(self._layers) and norms[0] > 0 and norms[-1] > 0:
            self._flow.append(norms[0] / norms[-1])

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is None:
            return
        for name, values in self._grad_norms.items():
            logs[f"health/{name}/grad_norm"] = float(np.median(values))
        for name, values in self._ratios.items():
            logs[f"health/{name}/update_ratio"] = float(np.median(values))
        if self._flow:
            ratio = float(np.median(self._flow))
            logs["health/grad_norm_ratio"] = ratio
            self._check_flow(ratio)
        if self._measures_units:
            self._check_units(logs)
        self._check_symmetry()

    # ------------------------------------------------------------------ checks
    def _warn(self, problem: str, where: str, message: str) -> None:
        if (problem, where) in self.warned:
            return
        self.warned.add((problem, where))
        warnings.warn(message, TrainingHealthWarning, stacklevel=3)

    def _check_flow(self, ratio: float) -> None:
        first = self._layers[0].name or "dense"
        last = self._layers[-1].name or "dense"
        if ratio < VANISHING_RATIO:
            self._warn("vanishing", "", (
                f"gradients vanish: the first layer's ({first}) gradient norm is {ratio:.1g} of "
                f"the last layer's ({last}) — use ReLU with He initialisation, fewer layers, "
                "or batch normalisation"))
        elif ratio > EXPLODING_RATIO:
            self._warn("exploding", "", (
                f"gradients explode: the first layer's ({first}) gradient norm is {ratio:.1g} "
                f"times the last layer's ({last}) — lower the learning rate, use smaller "
                "initial weights (Xavier or He), clip the gradients, or use fewer layers"))

    def _check_units(self, logs: Logs) -> None:
        if any(layer.weight is not None and not np.isfinite(layer.weight.data).all()
               for layer in self._layers):
            return  # already reported; the forward pass would only produce NaN
        with np.errstate(all="ignore"):
            report = health_report(self.model, self.sample, threshold=self.threshold)
        for row in report.rows:
            if row.dead is not None:
                logs[f"health/{row.layer}/dead"] = row.dead
            if row.saturated is not None:
                logs[f"health/{row.layer}/saturated"] = row.saturated
            output_layer = row.layer == (self._layers[-1].name or "dense")
            for message in _advice(row, self.threshold, "all training samples"):
                kind = "dead" if " dead " in message else "saturated"
                if not (kind == "saturated" and output_layer):
                    self._warn(kind, row.layer, message)

    def _check_symmetry(self) -> None:
        for layer in self._layers:
            name = layer.name or "dense"
            if layer.weight is not None and symmetric_units(layer.weight.data):
                self._warn("symmetric", name, (
                    f"layer {name}: all {layer.weight.data.shape[0]} units have identical "
                    "weights (symmetric), so they compute the same function and learn the same "
                    "thing — initialise with small random weights ('small'), Xavier (tanh, "
                    "sigmoid) or He (ReLU)"))


__all__ = ["HealthMonitor", "HealthReport", "LayerHealth", "TrainingHealthWarning",
           "health_report", "sample_rows"]
