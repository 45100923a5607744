"""Gradient checking: the analytic gradient against two-sided finite differences (SPEC §5).

Backpropagation computes ∂f/∂θ exactly, so a wrong VJP or activation derivative is a bug that
training can hide (the loss often still goes down, only worse). The check recomputes every partial
derivative from the definition, with the two-sided difference

    g_num = (f(θ + ε) − f(θ − ε)) / 2ε        (error O(ε²), for each entry θᵢ in turn)

in float64 with ε = 1e−7, and compares the vector of them with backprop's g_ana by

    relative error = ‖g_num − g_ana‖₂ / (‖g_num‖₂ + ‖g_ana‖₂)     (0/0 is defined as 0)

for all the entries together and for each parameter (tensor) on its own. The verdicts follow
SPEC section 5 ("about 1e−7 is right, 1e−5 deserves a look, 1e−3 or more is a bug"), with
these exact ends:

    ======================  ==================
    relative error e        verdict
    ======================  ==================
    e < 1e−7                "correct"
    1e−7 ≤ e ≤ 1e−5         "deserves a look"
    1e−5 < e < 1e−3         "suspicious"
    e ≥ 1e−3 (or NaN)       "a bug"
    ======================  ==================

A report passes (``ok``) when the overall error is below ``tolerance`` (1e−7 unless given) and
every parameter's own error is below ``parameter_tolerance`` (1e−5: "correct" or "deserves a
look"), so that a wrong gradient of one small bias cannot hide inside the pooled norm. The
per-parameter bound is looser because the finite difference carries a rounding error of about
u·|f|/ε ≈ 1e−9·|f| per entry (u = 2⁻⁵³), whatever the size of the gradient: a correct bias whose
gradient has norm 1e−3 measures about 1e−6, while the pooled error stays near 1e−8.

``check_function(fn, *inputs)`` checks any scalar function of tensors; ``check_model(model, x, y)``
checks a compiled model's cost — the compiled loss plus the weight penalties
(``Model.total_loss``), the regularisation term included as SPEC asks — on a float64 copy of
the model with dropout off, and names the parameters (``"dense_1.weight"``), and the entries in
them, where the two gradients disagree.

>>> import numpy as np
>>> report = check_function(lambda w, x: ((w @ x).exp()).sum(),
...                         np.array([[0.1, -0.2], [0.3, 0.4]]), np.array([0.5, -1.0]))
>>> report.ok, report.verdict, [p.name for p in report.parameters]
(True, 'correct', ['w', 'x'])
>>> bool(report.relative_error < 1e-7)
True
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor, gradients

#: the step ε of the two-sided difference
DEFAULT_EPS = 1e-7
#: a check passes when the overall relative error is below this ...
DEFAULT_TOLERANCE = 1e-7
#: ... and each parameter's relative error is below this (the top of "deserves a look")
DEFAULT_PARAMETER_TOLERANCE = 1e-5
#: below this: "correct"
CORRECT_BELOW = 1e-7
#: from CORRECT_BELOW up to and including this: "deserves a look"
LOOK_UP_TO = 1e-5
#: from this on (and NaN): "a bug"; between LOOK_UP_TO and BUG_FROM: "suspicious"
BUG_FROM = 1e-3

CORRECT = "correct"
DESERVES_A_LOOK = "deserves a look"
SUSPICIOUS = "suspicious"
BUG = "a bug"
VERDICTS = (CORRECT, DESERVES_A_LOOK, SUSPICIOUS, BUG)

#: how many of the worst entries each parameter keeps for the report
DEFAULT_WORST_ENTRIES = 5


class GradientCheckError(AssertionError):
    """``GradCheckReport.raise_if_failed()``: the analytic gradient disagrees with the numeric."""


# ---------------------------------------------------------------------- the formula
def relative_error(numeric: Any, analytic: Any) -> float:
    """‖numeric − analytic‖₂ / (‖numeric‖₂ + ‖analytic‖₂), with 0/0 defined as 0.

    Arrays of any shape are compared entry by entry (flattened). The result lies in [0, 1]:
    0 when they are equal, 1 when one is zero and the other is not (or they point in opposite
    directions). NaN or infinity in either gives NaN (judged "a bug").

    >>> relative_error([3.0, 4.0], [3.0, 4.0])
    0.0
    >>> round(relative_error([1.0, 0.0], [0.0, 1.0]), 12)  # √2 / (1 + 1)
    0.707106781187
    >>> relative_error([0.0, 0.0], [0.0, 0.0])
    0.0
    """
    numeric = np.asarray(numeric, dtype=np.float64).ravel()
    analytic = np.asarray(analytic, dtype=np.float64).ravel()
    if numeric.shape != analytic.shape:
        raise ValueError(
            f"relative_error needs arrays with the same number of entries, got {numeric.size} "
            f"and {analytic.size}"
        )
    if not (np.isfinite(numeric).all() and np.isfinite(analytic).all()):
        return math.nan
    denominator = float(np.linalg.norm(numeric) + np.linalg.norm(analytic))
    if denominator == 0.0:
        return 0.0
    return float(np.linalg.norm(numeric - analytic)) / denominator


def verdict(error: float) -> str:
    """SPEC section 5's reading of a relative error (the bands are in the module docstring).

    >>> [verdict(e) for e in (1e-9, 1e-7, 1e-5, 1e-4, 1e-3, float("nan"))]
    ['correct', 'deserves a look', 'deserves a look', 'suspicious', 'a bug', 'a bug']
    """
    if math.isnan(error) or error >= BUG_FROM:
        return BUG
    if error < CORRECT_BELOW:
        return CORRECT
    if error <= LOOK_UP_TO:
        return DESERVES_A_LOOK
    return SUSPICIOUS


def _passes(error: float, tolerance: float) -> bool:
    return not math.isnan(error) and error < tolerance


# ---------------------------------------------------------------------- the report
@dataclass(frozen=True)
class EntryComparison:
    """One entry θᵢ of a parameter: its index, backprop's ∂f/∂θᵢ and the finite difference."""

    index: tuple[int, ...]
    analytic: float
    numeric: float

    @property
    def difference(self) -> float:
        """analytic − numeric."""
        return self.analytic - self.numeric


@dataclass(frozen=True)
class ParameterCheck:
    """The check of one parameter (or input) tensor.

    ``indices`` are the flat indices of the entries that were perturbed (all of them unless a
    sample was asked for), ``analytic`` and ``numeric`` the two gradients at those entries,
    ``relative_error`` the SPEC formula on them, and ``worst_entries`` the entries with the
    largest |analytic − numeric|, worst first.
    """

    name: str
    shape: tuple[int, ...]
    relative_error: float
    verdict: str
    passed: bool
    indices: np.ndarray = field(repr=False)
    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)
    worst_entries: tuple[EntryComparison, ...] = field(repr=False)

    @property
    def size(self) -> int:
        """Number of entries of the tensor."""
        return math.prod(self.shape)

    @property
    def checked(self) -> int:
        """Number of entries that were perturbed."""
        return int(self.indices.size)

    @property
    def layer(self) -> str:
        """The owning module's dotted name ("dense_1" for "dense_1.weight"); the name itself
        for an input of ``check_function``."""
        owner, _, _ = self.name.rpartition(".")
        return owner or self.name


@dataclass(frozen=True)
class GradCheckReport:
    """The result of a gradient check: the overall and per-parameter relative errors.

    ``relative_error`` is the SPEC formula over every checked entry of every parameter;
    ``max_relative_error`` the largest per-parameter error. ``ok`` says whether the overall
    error is below ``tolerance`` and every parameter's below ``parameter_tolerance`` (its
    ``passed``). ``verdict`` reads the overall error, or the worst failing parameter's error
    when that is worse. ``loss`` is f(θ) — for a model, the compiled loss plus the weight
    penalties, in float64.
    """

    parameters: list[ParameterCheck]
    relative_error: float
    eps: float
    tolerance: float
    parameter_tolerance: float
    loss: float
    subject: str = "function"

    @property
    def max_relative_error(self) -> float:
        """The largest per-parameter relative error (NaN if any is NaN)."""
        errors = [p.relative_error for p in self.parameters]
        if any(math.isnan(e) for e in errors):
            return math.nan
        return max(errors, default=0.0)

    @property
    def verdict(self) -> str:
        """The verdict of the overall error, or of the worst failing parameter if worse."""
        readings = [verdict(self.relative_error), *(p.verdict for p in self.failing)]
        return max(readings, key=VERDICTS.index)

    @property
    def ok(self) -> bool:
        """True when the overall error is below ``tolerance`` and every parameter passed."""
        return _passes(self.relative_error, self.tolerance) and not self.failing

    @property
    def failing(self) -> list[ParameterCheck]:
        """The parameters whose error is not below ``parameter_tolerance``, in model order."""
        return [p for p in self.parameters if not p.passed]

    def worst(self) -> ParameterCheck:
        """The parameter with the largest relative error (NaN counts as the largest)."""
        if not self.parameters:
            raise ValueError("the report has no parameters")
        return max(self.parameters,
                   key=lambda p: math.inf if math.isnan(p.relative_error) else p.relative_error)

    def __getitem__(self, name: str) -> ParameterCheck:
        """The check of the parameter (or input) called ``name``."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(f"no parameter {name!r}; the report has "
                       f"{', '.join(p.name for p in self.parameters)}")

    def raise_if_failed(self) -> GradCheckReport:
        """Raise ``GradientCheckError`` (with the table) unless ``ok``; returns the report."""
        if not self.ok:
            raise GradientCheckError(str(self))
        return self

    def __repr__(self) -> str:
        return (f"GradCheckReport(relative_error={self.relative_error:.3g}, "
                f"verdict={self.verdict!r}, ok={self.ok}, parameters={len(self.parameters)})")

    def __str__(self) -> str:
        outcome = "passed" if self.ok else "FAILED"
        lines = [
            f"Gradient check of {self.subject}: two-sided differences in float64, "
            f"ε = {self.eps:g}, f(θ) = {self.loss:.10g}",
            f"relative error {_format_error(self.relative_error)} overall, "
            f"{_format_error(self.max_relative_error)} worst parameter: {self.verdict} "
            f"({outcome}: tolerance {self.tolerance:g} overall, "
            f"{self.parameter_tolerance:g} per parameter)",
            "",
        ]
        header = ("parameter", "shape", "checked", "‖analytic‖", "relative error", "verdict")
        rows = [header] + [
            (p.name, _format_shape(p.shape),
             f"{p.checked}" if p.checked == p.size else f"{p.checked}/{p.size}",
             f"{np.linalg.norm(p.analytic):.2e}", _format_error(p.relative_error),
             p.verdict + ("" if p.passed else "  <-- disagrees"))
            for p in self.parameters
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5]))
                         + "  " + row[5])
        failing = self.failing
        if failing:
            layers = list(dict.fromkeys(p.layer for p in failing if p.layer != p.name))
            where = f" (in {', '.join(layers)})" if layers else ""
            lines += ["", f"Disagreeing: {', '.join(p.name for p in failing)}{where}. "
                          "Worst entries:"]
            for parameter in failing:
                lines.append(f"  {parameter.name} {_format_shape(parameter.shape)}:")
                entry_rows = [("index", "analytic", "numeric", "analytic − numeric")] + [
                    (_format_shape(e.index), f"{e.analytic: .8e}", f"{e.numeric: .8e}",
                     f"{e.difference: .3e}")
                    for e in parameter.worst_entries
                ]
                entry_widths = [max(len(row[i]) for row in entry_rows) for i in range(4)]
                for row in entry_rows:
                    lines.append("    " + "  ".join(cell.rjust(entry_widths[i])
                                                    for i, cell in enumerate(row)).rstrip())
        return "\n".join(lines)


def _format_error(error: float) -> str:
    return "nan" if math.isnan(error) else f"{error:.2e}"


def _format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


# ---------------------------------------------------------------------- the engine
def _scalar(value: Any, what: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{what} must return a Tensor (built from its tensor arguments), "
                        f"got {type(value).__name__}")
    if value.size != 1:
        raise ValueError(f"{what} must return a scalar tensor, got shape {value.shape}; "
                         "reduce it (e.g. .sum()) first")
    return value


def _entries(size: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    """All flat indices, or ``limit`` of them drawn without replacement (sorted)."""
    if limit is None or limit >= size:
        return np.arange(size)
    if limit < 1:
        raise ValueError(f"the number of entries to check must be at least 1, got {limit}")
    return np.sort(rng.choice(size, size=int(limit), replace=False))


def _check(
    evaluate: Callable[[], Tensor],
    leaves: Sequence[Tensor],
    names: Sequence[str],
    eps: float,
    limit: int | None,
    seed: int | None,
    tolerance: float,
    parameter_tolerance: float,
    worst_entries: int,
    subject: str,
) -> GradCheckReport:
    """Compare backprop's gradient of ``evaluate()`` with two-sided differences, leaf by leaf.

    Every leaf holds a writable, C-contiguous float64 array that is perturbed in place and
    restored. The denominator is the step actually taken, (θᵢ + ε) − (θᵢ − ε) as stored in
    float64 — 2ε up to the rounding of θᵢ ± ε, which this removes from the quotient.
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    what = "the checked function" if subject == "function" else "the model's loss"
    value = _scalar(evaluate(), what)
    if not value.requires_grad:
        raise ValueError(f"{what} does not depend on any checked tensor (no graph was recorded)")
    loss = value.item()
    analytic = gradients(value, list(leaves), allow_unused=True)
    with no_grad():
        again = _scalar(evaluate(), what).item()
    if not (loss == again or math.isclose(loss, again, rel_tol=1e-12, abs_tol=1e-300)):
        raise ValueError(
            f"{what} gave {loss!r} and then {again!r} for the same θ: it is not deterministic "
            "(dropout or another random layer still active?), so finite differences are "
            "meaningless"
        )
    rng = np.random.default_rng(seed)
    results: list[ParameterCheck] = []
    all_numeric: list[np.ndarray] = []
    all_analytic: list[np.ndarray] = []
    for leaf, name, gradient in zip(leaves, names, analytic):
        data = leaf.data
        flat_analytic = (np.zeros(data.size) if gradient is None
                         else np.asarray(gradient.data, dtype=np.float64).reshape(-1))
        indices = _entries(data.size, limit, rng)
        numeric = np.empty(indices.size)
        with no_grad():
            for position, flat_index in enumerate(indices):
                index = np.unravel_index(flat_index, data.shape)
                original = data[index]
                data[index] = original + eps
                upper = data[index]
                f_plus = _scalar(evaluate(), what).item()
                data[index] = original - eps
                lower = data[index]
                f_minus = _scalar(evaluate(), what).item()
                data[index] = original
                numeric[position] = (f_plus - f_minus) / (upper - lower)
        checked_analytic = flat_analytic[indices]
        error = relative_error(numeric, checked_analytic)
        gaps = np.abs(checked_analytic - numeric)
        gaps = np.where(np.isnan(gaps), np.inf, gaps)
        order = np.argsort(-gaps, kind="stable")[:worst_entries]
        worst = tuple(
            EntryComparison(tuple(int(i) for i in np.unravel_index(indices[k], data.shape)),
                            float(checked_analytic[k]), float(numeric[k]))
            for k in order
        )
        results.append(ParameterCheck(
            name=name, shape=tuple(data.shape), relative_error=error, verdict=verdict(error),
            passed=_passes(error, parameter_tolerance), indices=indices, analytic=checked_analytic,
            numeric=numeric, worst_entries=worst,
        ))
        all_numeric.append(numeric)
        all_analytic.append(checked_analytic)
    overall = relative_error(np.concatenate(all_numeric or [np.zeros(0)]),
                             np.concatenate(all_analytic or [np.zeros(0)]))
    return GradCheckReport(parameters=results, relative_error=overall, eps=float(eps),
                           tolerance=float(tolerance),
                           parameter_tolerance=float(parameter_tolerance), loss=loss,
                           subject=subject)


# ---------------------------------------------------------------------- functions
def _input_names(fn: Callable[..., Any], count: int) -> list[str]:
    """The names of fn's positional parameters when they cover the inputs, else input_0, …"""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [p.name for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= count:
        return positional[:count]
    return [f"input_{i}" for i in range(count)]


def check_function(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = DEFAULT_EPS,
    names: Sequence[str] | None = None,
    max_entries: int | None = None,
    seed: int | None = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    parameter_tolerance: float = DEFAULT_PARAMETER_TOLERANCE,
    worst_entries: int = DEFAULT_WORST_ENTRIES,
) -> GradCheckReport:
    """Check backprop's gradient of a scalar function of tensors against finite differences.

    Each input (array, number or tensor) is copied to a float64 leaf that requires grad;
    ``fn(*leaves)`` must return a scalar tensor computed from them. The analytic gradient comes
    from ``chainrule.gradients``; the numeric one perturbs every entry by ±``eps`` — or, with
    ``max_entries``, that many entries of each input drawn with ``seed``. An input that ``fn``
    does not use has the gradient 0. The parameters of the report are named after ``names``,
    else after fn's positional parameters (``lambda w, x: ...`` gives "w" and "x"), else
    ``input_0``, ``input_1``, ….

    >>> import chainrule as cr
    >>> report = check_function(lambda z: cr.log(z.sigmoid()).sum(), [0.3, -1.2, 2.0])
    >>> report.verdict
    'correct'
    """
    if not inputs:
        raise ValueError("check_function needs at least one input to differentiate")
    leaves = [Tensor(np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64,
                              order="C", copy=True), requires_grad=True, dtype=np.float64)
              for x in inputs]
    if names is None:
        labels = _input_names(fn, len(inputs))
    else:
        labels = [str(n) for n in names]
        if len(labels) != len(inputs):
            raise ValueError(f"{len(labels)} names for {len(inputs)} inputs")
    return _check(lambda: fn(*leaves), leaves, labels, eps, max_entries, seed, tolerance,
                  parameter_tolerance, worst_entries, subject="function")


# ---------------------------------------------------------------------- models
def _float64_twin(model: Any, x: np.ndarray, batchnorm_train: bool) -> Any:
    """A deep copy of ``model`` in float64, built, with dropout off (the original is untouched).

    The optimiser is shared, not copied: the check never steps it, and its state may be large.
    """
    from .nn.layers import BatchNorm

    memo: dict[int, Any] = {}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        memo[id(optimizer)] = optimizer
    twin = copy.deepcopy(model, memo)
    twin.eval()
    with no_grad():
        twin(x)  # builds lazily built layers (in eval mode: no running statistics change)
    for _, parameter in twin.named_parameters():
        parameter.data = np.array(parameter.data, dtype=np.float64, order="C", copy=True)
        parameter.grad = None
    for _, module in twin.named_modules():
        for name, buffer in list(module._buffers.items()):
            array = np.asarray(buffer)
            if array.dtype.kind == "f":
                module.set_buffer(name, array.astype(np.float64))
    if batchnorm_train:
        for _, module in twin.named_modules():
            if isinstance(module, BatchNorm):
                module.train()
    return twin


def _as_float64(data: Any, what: str) -> np.ndarray:
    array = np.asarray(data.data if isinstance(data, Tensor) else data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, got data of dtype {array.dtype}")
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def check_model(
    model: Any,
    x: Any,
    y: Any,
    eps: float = DEFAULT_EPS,
    max_entries_per_parameter: int | None = None,
    seed: int | None = 0,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    parameter_tolerance: float = DEFAULT_PARAMETER_TOLERANCE,
    batchnorm_train: bool = False,
    worst_entries: int = DEFAULT_WORST_ENTRIES,
) -> GradCheckReport:
    """Check backprop's gradient of a compiled model's cost on (x, y), parameter by parameter.

    The cost is ``model.total_loss(model(x), y)``: the compiled loss plus every layer's weight
    penalty (SPEC: include the regularisation term). It is evaluated on a deep copy of the
    model cast to float64 (parameters and floating-point buffers), so the model itself — its
    dtype, weights, running statistics, random generators and train/eval mode — is untouched.
    ``x`` is raw data as for ``fit``: the model's ``preprocessing`` is applied when it has one.

    The copy runs in eval mode: dropout is off (a random mask would make f(θ + ε) and
    f(θ − ε) differ by chance), and BatchNorm normalises with its running statistics. With
    ``batchnorm_train=True`` BatchNorm uses the batch statistics instead, as in training; the
    cost of each sample then depends on the whole batch, and the check covers that coupling.

    Every parameter that requires grad is checked, named as in ``named_parameters()``
    ("dense_1.weight"); ``max_entries_per_parameter`` limits each to that many entries drawn
    with ``seed``. The model must be compiled (``model.compile(loss=...)``).
    """
    if not callable(getattr(model, "total_loss", None)):
        raise TypeError(
            f"check_model needs a chainrule Model (with compile and total_loss), got "
            f"{type(model).__name__}; use check_function for other functions"
        )
    if getattr(model, "loss", None) is None or getattr(model, "optimizer", None) is None:
        raise RuntimeError(
            "check_model needs a compiled model: call model.compile(loss=..., optimizer=...) "
            "first (the check differentiates the compiled loss plus the weight penalties)"
        )
    inputs = _as_float64(x, "x")
    targets = _as_float64(y, "y")
    preprocessing = getattr(model, "preprocessing", None)
    if preprocessing is not None:
        inputs = np.asarray(preprocessing.transform(inputs), dtype=np.float64)
    if inputs.ndim == 0 or len(inputs) != len(targets):
        raise ValueError(f"x and y must hold the same number of samples, got shapes "
                         f"{inputs.shape} and {targets.shape}")
    twin = _float64_twin(model, inputs, batchnorm_train)
    named = [(name, p) for name, p in twin.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("the model has no parameters that require grad; nothing to check")
    subject = f"model {getattr(model, 'name', type(model).__name__)!r}"
    return _check(lambda: twin.total_loss(twin(inputs), targets),
                  [p for _, p in named], [name for name, _ in named], eps,
                  max_entries_per_parameter, seed, tolerance, parameter_tolerance,
                  worst_entries, subject=subject)


__all__ = [
    "BUG", "BUG_FROM", "CORRECT", "CORRECT_BELOW", "DEFAULT_EPS", "DEFAULT_PARAMETER_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "DESERVES_A_LOOK", "EntryComparison", "GradCheckReport", "GradientCheckError", "LOOK_UP_TO",
    "ParameterCheck", "SUSPICIOUS", "VERDICTS", "check_function", "check_model",
    "relative_error", "verdict",
]
