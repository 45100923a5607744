"""Gradient checking: the analytic gradient against two-sided finite differences (docs/math.md §5).

Backpropagation computes ∂f/∂θ exactly, so a wrong VJP or activation derivative is a bug that
training can hide (the loss often still goes down, only worse). ``gradcheck(f, inputs)`` — like
``torch.autograd.gradcheck`` — recomputes every partial derivative from the definition, with the
two-sided difference

    g_num = (f(θ + ε) − f(θ − ε)) / 2ε        (error O(ε²), for each entry θᵢ in turn)

in float64 with ε = 1e−6, and compares the vector of them with backprop's g_ana by

    relative error = ‖g_num − g_ana‖₂ / (‖g_num‖₂ + ‖g_ana‖₂)     (0/0 is defined as 0)

for all the entries together and for each parameter (tensor) on its own.

The noise floor. The difference quotient is not exact: each f carries a rounding error of about
u·|f| (u = 2⁻⁵³), which the quotient divides by ε, and the step adds a truncation error
ε²·f'''/6. So every entry is also evaluated at ±2ε, and its numeric uncertainty is taken as
|g_num(ε) − g_num(2ε)| (rounding at both steps plus three times the truncation), and at least
u·max|f|/ε. Pooled like the error, ‖uncertainty‖₂ / (‖g_num‖₂ + ‖g_ana‖₂) is the parameter's
*noise floor*: the relative error that correct backprop would show. An error up to
``NOISE_FACTOR`` (4) times its floor is rounding and truncation, not a bug; ε = 1e−6 keeps the
floor near 1e−8 for ordinary nets (1e−7 sat on the floor: a trained ReLU net measured 2e−7).

The verdicts use docs/math.md §5's words ("about 1e−7 is right, 1e−5 deserves a look, 1e−3 or
more is a bug") with these exact ends:

    ===========================================  ==================
    relative error e (floor: its noise floor)    verdict
    ===========================================  ==================
    e < 1e−7, or e ≤ 4 × floor                   "correct"
    1e−7 ≤ e ≤ 1e−5                              "deserves a look"
    1e−5 < e < 1e−3                              "suspicious"
    e ≥ 1e−3, or a wrong value at a kink         "a bug"
    ===========================================  ==================

A report passes (``ok``, and ``bool(report)``) when the overall error and every parameter's own
error is below ``tolerance`` (1e−7) or within 4× its noise floor, and no kink has a wrong value;
with the default tolerance that is a "correct" verdict everywhere, so that a wrong gradient of one
small bias cannot hide inside the pooled norm. A floor above 1e−5 means that finite differences
cannot resolve that parameter's gradient (it is that small against f): the report says so.

Kinks. At a point where f is not differentiable (ReLU at 0, the hard functions, leaky ReLU, abs,
maxout ties) the two-sided difference is the mean of the two one-sided slopes

    forward  = (f(θ + ε) − f(θ)) / ε,    backward = (f(θ) − f(θ − ε)) / ε,

and any value between them is a valid subgradient (docs/math.md §1). An entry sits at a kink when
its one-sided slopes differ by far more than rounding (``KINK_NOISE_FACTOR`` × u·|f|/ε) and the
gap does not grow with the step as a curvature would (at 2ε it is less than 1.5 times the gap at
ε). Such an entry is left out of the relative error and judged on its own: an analytic value
between the one-sided slopes (within noise) is "a valid subgradient", one outside them is a bug.
A kink crossed between ε/2 and 2ε from θ is not recognised as one and can make an entry look
wrong; a smaller ``eps`` moves it out of reach.

NaN and infinity: a checked tensor, f(θ), f at a perturbed θ or backprop's gradient that is not
finite raises ``NonFiniteError`` naming the tensor and the entry (a relative error of NaN would
mean nothing).

``gradcheck(f, inputs)`` and ``check_function(f, *inputs)`` check any scalar function of tensors;
``check_model(model, x, y)`` (and ``model.gradcheck(x, y)``) checks a compiled model's cost — the
compiled loss plus the weight penalties (``Model.total_loss``), the regularisation term included
as docs/math.md §5 asks — on a float64 copy of the model with dropout off, and names the parameters
(``"dense_1.weight"``), and the entries in them, where the two gradients disagree. ``str(report)``
(what ``print(report)`` shows) is the table.

>>> import numpy as np
>>> report = gradcheck(lambda w, x: ((w @ x).exp()).sum(),
...                    (np.array([[0.1, -0.2], [0.3, 0.4]]), np.array([0.5, -1.0])))
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
from typing import TYPE_CHECKING, Any

import numpy as np

from ._tensor import Tensor, gradients
from .errors import GradientCheckError, NonFiniteError
from .grad_mode import no_grad

if TYPE_CHECKING:  # the check sits above the models; it only reads a Model given to it
    from .training import Model

#: the step ε of the two-sided difference (the noise floor also uses 2ε)
DEFAULT_EPS = 1e-6
#: a relative error below this passes whatever its noise floor
DEFAULT_TOLERANCE = 1e-7
#: an error up to this many times its noise floor is rounding and truncation: "correct"
NOISE_FACTOR = 4.0
#: one-sided slopes further apart than this many times u·max|f|/ε may mark a kink
KINK_NOISE_FACTOR = 1000.0
#: u, the unit roundoff of float64 (2⁻⁵³)
UNIT_ROUNDOFF = 2.0**-53
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

#: how many of the worst entries (and of the kinks) each parameter keeps for the report
DEFAULT_WORST_ENTRIES = 5


# ---------------------------------------------------------------------- the formulas
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


def noise_floor(uncertainty: Any, numeric: Any, analytic: Any) -> float:
    """‖uncertainty‖₂ / (‖numeric‖₂ + ‖analytic‖₂): the relative error that rounding and
    truncation alone produce, when each numeric entry is uncertain by ``uncertainty`` (0/0 is 0).

    >>> noise_floor([3e-9, 4e-9], [1.0, 0.0], [1.0, 0.0])
    2.5e-09
    """
    denominator = float(np.linalg.norm(np.ravel(numeric)) + np.linalg.norm(np.ravel(analytic)))
    spread = float(np.linalg.norm(np.ravel(uncertainty)))
    if spread == 0.0:
        return 0.0
    return spread / denominator if denominator > 0.0 else math.inf


def within_noise(error: float, floor: float) -> bool:
    """Whether ``error`` is explained by its noise floor: error ≤ NOISE_FACTOR · floor."""
    return not math.isnan(error) and error <= NOISE_FACTOR * floor


def verdict(error: float, floor: float = 0.0) -> str:
    """docs/math.md §5's reading of a relative error, given its noise floor (the bands are in
    the module docstring): "correct" below 1e−7 or within 4× the floor.

    >>> [verdict(e) for e in (1e-9, 1e-7, 1e-5, 1e-4, 1e-3, float("nan"))]
    ['correct', 'deserves a look', 'deserves a look', 'suspicious', 'a bug', 'a bug']
    >>> verdict(3e-6, floor=1e-6)  # rounding noise of a tiny gradient
    'correct'
    """
    if math.isnan(error):
        return BUG
    if error < CORRECT_BELOW or within_noise(error, floor):
        return CORRECT
    if error >= BUG_FROM:
        return BUG
    if error <= LOOK_UP_TO:
        return DESERVES_A_LOOK
    return SUSPICIOUS


def _passes(error: float, floor: float, tolerance: float) -> bool:
    return not math.isnan(error) and (error < tolerance or within_noise(error, floor))


# ---------------------------------------------------------------------- one entry's differences
@dataclass(frozen=True)
class Differences:
    """The finite differences of f along some entries of one tensor (arrays, one per entry).

    ``central`` is (f(θ+ε) − f(θ−ε)) / 2ε, ``central_wide`` the same with 2ε; ``forward`` and
    ``backward`` are the one-sided slopes (f(θ+ε) − f(θ))/ε and (f(θ) − f(θ−ε))/ε,
    ``forward_wide`` and ``backward_wide`` those with 2ε; ``rounding`` is u·max|f|/ε, the
    rounding error of a quotient whose f values each carry about u·|f|. Every denominator is
    the step as stored in float64, which removes the rounding of θ ± ε from the quotient.
    """

    central: np.ndarray
    central_wide: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    forward_wide: np.ndarray
    backward_wide: np.ndarray
    rounding: np.ndarray

    @property
    def uncertainty(self) -> np.ndarray:
        """How far each central difference may be from the derivative: |g(ε) − g(2ε)|, which
        holds both rounding errors and three times the truncation ε²f'''/6, and at least the
        rounding bound u·max|f|/ε."""
        return np.maximum(np.abs(self.central - self.central_wide), self.rounding)

    @property
    def at_kink(self) -> np.ndarray:
        """Entries whose one-sided slopes differ by far more than rounding, by a gap that does
        not grow with the step (a curvature f'' gives the gap ε·f'' at ε and 2ε·f'' at 2ε; a
        kink at θ gives the same jump at both)."""
        gap = self.forward - self.backward
        gap_wide = self.forward_wide - self.backward_wide
        return (np.abs(gap) > KINK_NOISE_FACTOR * self.rounding) & (
            np.abs(gap_wide - gap) < 0.5 * np.abs(gap)
        )

    def valid_subgradient(self, analytic: np.ndarray) -> np.ndarray:
        """Whether each analytic value lies between the one-sided slopes, within their noise
        (twice the rounding bound, times NOISE_FACTOR) and their curvature (how far each slope
        moves from ε to 2ε)."""
        low = np.minimum(self.forward, self.backward)
        high = np.maximum(self.forward, self.backward)
        slack = (
            NOISE_FACTOR * 2.0 * self.rounding
            + np.abs(self.forward_wide - self.forward)
            + np.abs(self.backward_wide - self.backward)
        )
        return (analytic >= low - slack) & (analytic <= high + slack)


def _perturbed_values(
    evaluate: Callable[[], float], data: np.ndarray, index: tuple[int, ...], eps: float, label: str
) -> dict[int, tuple[float, float]]:
    """{k: (step taken, f at θᵢ + k·ε)} for k = ±1, ±2; θᵢ is restored afterwards."""
    original = data[index]
    values: dict[int, tuple[float, float]] = {}
    try:
        for multiple in (1, -1, 2, -2):
            data[index] = original + multiple * eps
            step = float(data[index] - original)
            if step == 0.0:
                raise ValueError(
                    f"eps = {eps:g} is below the float64 resolution of "
                    f"{label} = {float(original)!r}; use a larger eps"
                )
            value = evaluate()
            if not math.isfinite(value):
                raise NonFiniteError(
                    f"f is {_non_finite_name(value)} when {label} is moved from "
                    f"{float(original)!r} by {multiple:+d}ε (ε = {eps:g}): f must be finite "
                    "around θ for finite differences"
                )
            values[multiple] = (step, value)
    finally:
        data[index] = original
    return values


def differences(
    evaluate: Callable[[], float],
    data: np.ndarray,
    indices: np.ndarray,
    eps: float,
    value: float,
    name: str,
) -> Differences:
    """The finite differences of ``evaluate()`` (f, with f(θ) = ``value``) along the flat
    ``indices`` of the float64 array ``data``, which is perturbed in place and restored."""
    columns = {key: np.empty(indices.size) for key in Differences.__dataclass_fields__}
    for position, flat_index in enumerate(indices):
        index = tuple(int(i) for i in np.unravel_index(flat_index, data.shape))
        f = _perturbed_values(evaluate, data, index, eps, f"{name}{list(index)}")
        (up, f_up), (down, f_down) = f[1], f[-1]
        (up_wide, f_up_wide), (down_wide, f_down_wide) = f[2], f[-2]
        columns["central"][position] = (f_up - f_down) / (up - down)
        columns["central_wide"][position] = (f_up_wide - f_down_wide) / (up_wide - down_wide)
        columns["forward"][position] = (f_up - value) / up
        columns["backward"][position] = (value - f_down) / -down
        columns["forward_wide"][position] = (f_up_wide - value) / up_wide
        columns["backward_wide"][position] = (value - f_down_wide) / -down_wide
        largest = max(abs(value), abs(f_up), abs(f_down), abs(f_up_wide), abs(f_down_wide))
        columns["rounding"][position] = UNIT_ROUNDOFF * largest / eps
    return Differences(**columns)


def _non_finite_name(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+inf" if value > 0 else "-inf")


def _require_finite(array: np.ndarray, what: str) -> None:
    """NonFiniteError naming ``what``, the first bad entry and how many there are."""
    bad = ~np.isfinite(array)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
    count = int(bad.sum())
    more = f" (and {count - 1} more entries)" if count > 1 else ""
    where = f" at {list(first)}" if array.ndim else ""
    raise NonFiniteError(
        f"{what} holds {_non_finite_name(float(array[first]))}{where}{more}: "
        "the gradient check needs finite values"
    )


# ---------------------------------------------------------------------- the report
@dataclass(frozen=True)
class EntryComparison:
    """One entry θᵢ of a parameter: its index, backprop's ∂f/∂θᵢ, the finite difference and
    how uncertain that difference is (its share of the noise floor)."""

    index: tuple[int, ...]
    analytic: float
    numeric: float
    uncertainty: float = 0.0

    @property
    def difference(self) -> float:
        """analytic − numeric."""
        return self.analytic - self.numeric


@dataclass(frozen=True)
class KinkEntry:
    """An entry at a kink: backprop's value against the one-sided slopes around θᵢ."""

    index: tuple[int, ...]
    analytic: float
    backward: float
    forward: float
    valid: bool

    def describe(self) -> str:
        """'at a kink: analytic 0 lies between the one-sided slopes 0 and 1 — a valid
        subgradient' (or '... outside ... — a bug')."""
        low, high = sorted((self.backward, self.forward))
        if self.valid:
            return (
                f"at a kink: analytic {self.analytic:.6g} lies between the one-sided slopes "
                f"{low:.6g} and {high:.6g} — a valid subgradient"
            )
        return (
            f"at a kink: analytic {self.analytic:.6g} lies outside the one-sided slopes "
            f"{low:.6g} and {high:.6g} — a bug"
        )


@dataclass(frozen=True)
class ParameterCheck:
    """The check of one parameter (or input) tensor.

    ``indices`` are the flat indices of the entries that were perturbed (all of them unless a
    sample was asked for), ``analytic`` and ``numeric`` the two gradients at those entries,
    ``uncertainty`` how far each numeric value may be off, and ``at_kink`` which entries sit at
    a kink. ``relative_error`` and ``noise_floor`` are the formula of docs/math.md §5 and its
    floor over the entries not at a kink; ``kinks`` describes those at one (wrong values first) and
    ``worst_entries`` the others with the largest |analytic − numeric|, worst first.
    """

    name: str
    shape: tuple[int, ...]
    relative_error: float
    noise_floor: float
    verdict: str
    passed: bool
    indices: np.ndarray = field(repr=False)
    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)
    uncertainty: np.ndarray = field(repr=False)
    at_kink: np.ndarray = field(repr=False)
    worst_entries: tuple[EntryComparison, ...] = field(repr=False)
    kinks: tuple[KinkEntry, ...] = field(repr=False, default=())
    kink_count: int = 0

    @property
    def size(self) -> int:
        """Number of entries of the tensor."""
        return math.prod(self.shape)

    @property
    def checked(self) -> int:
        """Number of entries that were perturbed."""
        return int(self.indices.size)

    @property
    def wrong_kinks(self) -> tuple[KinkEntry, ...]:
        """The kinks (of those kept) whose analytic value is not a valid subgradient."""
        return tuple(k for k in self.kinks if not k.valid)

    @property
    def unresolved(self) -> bool:
        """Whether the noise floor is above "deserves a look": finite differences cannot tell
        this gradient from zero (it is that small against f)."""
        return self.noise_floor > LOOK_UP_TO

    @property
    def layer(self) -> str:
        """The owning module's dotted name ("dense_1" for "dense_1.weight"); the name itself
        for an input of ``check_function``."""
        owner, _, _ = self.name.rpartition(".")
        return owner or self.name


def _judge(
    name: str,
    shape: tuple[int, ...],
    indices: np.ndarray,
    analytic: np.ndarray,
    found: Differences,
    tolerance: float,
    worst_entries: int,
) -> ParameterCheck:
    """A parameter's check from its analytic gradient and finite differences at ``indices``."""
    at_kink = found.at_kink
    smooth = ~at_kink
    numeric, uncertainty = found.central, found.uncertainty
    error = relative_error(numeric[smooth], analytic[smooth])
    floor = noise_floor(uncertainty[smooth], numeric[smooth], analytic[smooth])
    valid = found.valid_subgradient(analytic)
    wrong_kink = bool((at_kink & ~valid).any())

    def entry_index(k: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(indices[k], shape))

    kink_order = sorted(np.flatnonzero(at_kink).tolist(), key=lambda k: (bool(valid[k]), k))
    kinks = tuple(
        KinkEntry(
            entry_index(k),
            float(analytic[k]),
            float(found.backward[k]),
            float(found.forward[k]),
            bool(valid[k]),
        )
        for k in kink_order[:worst_entries]
    )
    gaps = np.where(smooth, np.abs(analytic - numeric), -1.0)
    order = [k for k in np.argsort(-gaps, kind="stable")[:worst_entries] if smooth[k]]
    worst = tuple(
        EntryComparison(
            entry_index(k), float(analytic[k]), float(numeric[k]), float(uncertainty[k])
        )
        for k in order
    )
    reading = BUG if wrong_kink else verdict(error, floor)
    return ParameterCheck(
        name=name,
        shape=shape,
        relative_error=error,
        noise_floor=floor,
        verdict=reading,
        passed=not wrong_kink and _passes(error, floor, tolerance),
        indices=indices,
        analytic=analytic,
        numeric=numeric,
        uncertainty=uncertainty,
        at_kink=at_kink,
        worst_entries=worst,
        kinks=kinks,
        kink_count=int(at_kink.sum()),
    )


@dataclass(frozen=True)
class GradCheckReport:
    """The result of a gradient check: the overall and per-parameter relative errors, their
    noise floors, and the entries at kinks. ``str(report)`` is the table.

    ``relative_error`` and ``noise_floor`` are the formula of docs/math.md §5 and its floor over
    every checked entry (kinks apart) of every parameter; ``max_relative_error`` the largest
    per-parameter error. ``ok`` (also ``bool(report)``) says whether the overall error and
    every parameter's passed: below ``tolerance`` or within 4× the noise floor, and no wrong
    value at a kink. ``verdict`` is the worst of the overall verdict and the parameters'.
    ``loss`` is f(θ) — for a model, the compiled loss plus the weight penalties, in float64.
    """

    parameters: list[ParameterCheck]
    relative_error: float
    noise_floor: float
    eps: float
    tolerance: float
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
        """The worst of the overall verdict and every parameter's."""
        readings = [
            verdict(self.relative_error, self.noise_floor),
            *(p.verdict for p in self.parameters),
        ]
        return max(readings, key=VERDICTS.index)

    @property
    def ok(self) -> bool:
        """True when the overall error and every parameter passed."""
        return _passes(self.relative_error, self.noise_floor, self.tolerance) and not self.failing

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failing(self) -> list[ParameterCheck]:
        """The parameters that did not pass, in model order."""
        return [p for p in self.parameters if not p.passed]

    @property
    def kinks(self) -> list[tuple[str, KinkEntry]]:
        """(parameter name, kink) for every kink the report kept, wrong values first."""
        found = [(p.name, k) for p in self.parameters for k in p.kinks]
        return sorted(found, key=lambda pair: pair[1].valid)

    def worst(self) -> ParameterCheck:
        """The parameter with the largest relative error (NaN counts as the largest)."""
        if not self.parameters:
            raise ValueError("the report has no parameters")
        return max(
            self.parameters,
            key=lambda p: math.inf if math.isnan(p.relative_error) else p.relative_error,
        )

    def __getitem__(self, name: str) -> ParameterCheck:
        """The check of the parameter (or input) called ``name``."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(
            f"no parameter {name!r}; the report has {', '.join(p.name for p in self.parameters)}"
        )

    def raise_if_failed(self) -> GradCheckReport:
        """Raise ``GradientCheckError`` (with the table) unless ``ok``; returns the report."""
        if not self.ok:
            raise GradientCheckError(str(self))
        return self

    def __repr__(self) -> str:
        return (
            f"GradCheckReport(relative_error={self.relative_error:.3g}, "
            f"noise_floor={self.noise_floor:.3g}, verdict={self.verdict!r}, ok={self.ok}, "
            f"parameters={len(self.parameters)})"
        )

    def _repr_html_(self) -> str:
        """``str(report)`` for notebooks: its table as HTML, the rest as text around it."""
        from .notebook import table_html

        text = str(self).split("\n")
        table = _parameter_rows(self.parameters)
        return table_html(
            table[0], table[1:], " ".join(text[:2]), "\n".join(text[3 + len(table) :]).strip()
        )

    def __str__(self) -> str:
        outcome = "passed" if self.ok else "FAILED"
        lines = [
            f"Gradient check of {self.subject}: two-sided differences in float64, "
            f"ε = {self.eps:g} (and 2ε for the noise floor), f(θ) = {self.loss:.10g}",
            f"relative error {_format_error(self.relative_error)} overall (noise floor "
            f"{_format_error(self.noise_floor)}), {_format_error(self.max_relative_error)} worst "
            f"parameter: {self.verdict} ({outcome}: below {self.tolerance:g} or within "
            f"{NOISE_FACTOR:g}× the noise floor, overall and per parameter)",
            "",
        ]
        lines += _parameter_table(self.parameters)
        lines += _failing_lines(self.failing)
        lines += _kink_lines(self.parameters)
        unresolved = [p for p in self.parameters if p.unresolved]
        if unresolved:
            lines += [
                "",
                "Below what finite differences resolve (noise floor above "
                f"{LOOK_UP_TO:g}; the check cannot judge them): "
                + ", ".join(p.name for p in unresolved),
            ]
        return "\n".join(lines)


def _parameter_rows(parameters: Sequence[ParameterCheck]) -> list[tuple[str, ...]]:
    """The header and one row of cells per parameter (the table of ``str`` and HTML)."""
    header: tuple[str, ...] = (
        "parameter",
        "shape",
        "checked",
        "‖analytic‖",
        "relative error",
        "noise floor",
        "verdict",
    )
    return [header] + [
        (
            p.name,
            _format_shape(p.shape),
            f"{p.checked}" if p.checked == p.size else f"{p.checked}/{p.size}",
            f"{np.linalg.norm(p.analytic):.2e}",
            _format_error(p.relative_error),
            _format_error(p.noise_floor),
            _verdict_cell(p),
        )
        for p in parameters
    ]


def _parameter_table(parameters: Sequence[ParameterCheck]) -> list[str]:
    rows = _parameter_rows(parameters)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1]
        for row in rows
    ]


def _verdict_cell(parameter: ParameterCheck) -> str:
    cell = parameter.verdict
    if parameter.kink_count:
        cell += f" ({parameter.kink_count} at a kink)"
    return cell + ("" if parameter.passed else "  <-- disagrees")


def _failing_lines(failing: Sequence[ParameterCheck]) -> list[str]:
    if not failing:
        return []
    layers = list(dict.fromkeys(p.layer for p in failing if p.layer != p.name))
    where = f" (in {', '.join(layers)})" if layers else ""
    lines = ["", f"Disagreeing: {', '.join(p.name for p in failing)}{where}. Worst entries:"]
    for parameter in failing:
        lines.append(f"  {parameter.name} {_format_shape(parameter.shape)}:")
        entry_rows = [("index", "analytic", "numeric", "analytic − numeric", "uncertainty")] + [
            (
                _format_shape(e.index),
                f"{e.analytic: .8e}",
                f"{e.numeric: .8e}",
                f"{e.difference: .3e}",
                f"{e.uncertainty:.1e}",
            )
            for e in parameter.worst_entries
        ]
        widths = [max(len(row[i]) for row in entry_rows) for i in range(len(entry_rows[0]))]
        for row in entry_rows:
            lines.append(
                "    " + "  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
            )
    return lines


def _kink_lines(parameters: Sequence[ParameterCheck]) -> list[str]:
    lines = []
    for parameter in parameters:
        for kink in parameter.kinks:
            lines.append(f"  {parameter.name}{_format_shape(kink.index)}: {kink.describe()}")
        hidden = parameter.kink_count - len(parameter.kinks)
        if hidden > 0:
            lines.append(f"  {parameter.name}: {hidden} more at a kink")
    if not lines:
        return []
    return [
        "",
        "Kinks (left out of the relative error, judged by the one-sided slopes "
        "(f(θ+ε) − f(θ))/ε and (f(θ) − f(θ−ε))/ε):",
        *lines,
    ]


def _format_error(error: float) -> str:
    return "nan" if math.isnan(error) else f"{error:.2e}"


def _format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


# ---------------------------------------------------------------------- the engine
def _scalar(value: Any, what: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{what} must return a Tensor (built from its tensor arguments), "
            f"got {type(value).__name__}"
        )
    if value.size != 1:
        raise ValueError(
            f"{what} must return a scalar tensor, got shape {value.shape}; "
            "reduce it (e.g. .sum()) first"
        )
    return value


def _entries(size: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    """All flat indices, or ``limit`` of them drawn without replacement (sorted)."""
    if limit is None or limit >= size:
        return np.arange(size)
    if limit < 1:
        raise ValueError(f"the number of entries to check must be at least 1, got {limit}")
    return np.sort(rng.choice(size, size=int(limit), replace=False))


def _require_eps(eps: float) -> float:
    if not (isinstance(eps, (int, float, np.floating)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    return float(eps)


# NumPy's warnings (log of 0, overflow) would only repeat, without a name, what NonFiniteError
# says with one.
@np.errstate(all="ignore")
def _check(
    evaluate: Callable[[], Tensor],
    leaves: Sequence[Tensor],
    names: Sequence[str],
    eps: float,
    limit: int | None,
    seed: int | None,
    tolerance: float,
    worst_entries: int,
    subject: str,
) -> GradCheckReport:
    """Compare backprop's gradient of ``evaluate()`` with finite differences, leaf by leaf.

    Every leaf holds a writable, C-contiguous float64 array that is perturbed in place and
    restored.
    """
    eps = _require_eps(eps)
    what = "the checked function" if subject == "function" else "the model's loss"
    for leaf, name in zip(leaves, names):
        _require_finite(leaf.data, name)
    value = _scalar(evaluate(), what)
    if not value.requires_grad:
        raise ValueError(f"{what} does not depend on any checked tensor (no graph was recorded)")
    loss = value.item()
    if not math.isfinite(loss):
        raise NonFiniteError(
            f"{what} is {_non_finite_name(loss)} at θ: a non-finite f has no gradient to check"
        )
    analytic = gradients(value, list(leaves), allow_unused=True)

    def f() -> float:
        return _scalar(evaluate(), what).item()

    with no_grad():
        again = f()
    if not (loss == again or math.isclose(loss, again, rel_tol=1e-12, abs_tol=1e-300)):
        raise ValueError(
            f"{what} gave {loss!r} and then {again!r} for the same θ: it is not deterministic "
            "(dropout or another random layer still active?), so finite differences are "
            "meaningless"
        )
    rng = np.random.default_rng(seed)
    results: list[ParameterCheck] = []
    for leaf, name, gradient in zip(leaves, names, analytic):
        data = leaf.data
        flat_analytic = (
            np.zeros(data.size)
            if gradient is None
            else np.asarray(gradient.data, dtype=np.float64).reshape(-1)
        )
        _require_finite(flat_analytic.reshape(data.shape), f"backprop's gradient of {name}")
        indices = _entries(data.size, limit, rng)
        with no_grad():
            found = differences(f, data, indices, eps, loss, name)
        results.append(
            _judge(
                name,
                tuple(data.shape),
                indices,
                flat_analytic[indices],
                found,
                tolerance,
                worst_entries,
            )
        )
    return _report(results, eps, tolerance, loss, subject)


def _report(
    results: list[ParameterCheck], eps: float, tolerance: float, loss: float, subject: str
) -> GradCheckReport:
    """The report over ``results``: the overall error and floor pool every smooth entry."""

    def pooled(attribute: str) -> np.ndarray:
        return np.concatenate([getattr(p, attribute)[~p.at_kink] for p in results] or [np.zeros(0)])

    numeric, analytic = pooled("numeric"), pooled("analytic")
    return GradCheckReport(
        parameters=results,
        relative_error=relative_error(numeric, analytic),
        noise_floor=noise_floor(pooled("uncertainty"), numeric, analytic),
        eps=eps,
        tolerance=float(tolerance),
        loss=loss,
        subject=subject,
    )


# ---------------------------------------------------------------------- functions
def _input_names(fn: Callable[..., Any], count: int) -> list[str]:
    """The names of fn's positional parameters when they cover the inputs, else input_0, …"""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [
        p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
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
    worst_entries: int = DEFAULT_WORST_ENTRIES,
) -> GradCheckReport:
    """Check backprop's gradient of a scalar function of tensors against finite differences.

    Each input (array, number or tensor) is copied to a float64 leaf that requires grad;
    ``fn(*leaves)`` must return a scalar tensor computed from them. The analytic gradient comes
    from ``chainrule.gradients``; the numeric one perturbs every entry by ±``eps`` and ±2·eps —
    or, with ``max_entries``, that many entries of each input drawn with ``seed``. An input that
    ``fn`` does not use has the gradient 0. The parameters of the report are named after
    ``names``, else after fn's positional parameters (``lambda w, x: ...`` gives "w" and "x"),
    else ``input_0``, ``input_1``, ….

    >>> import chainrule as cr
    >>> report = check_function(lambda z: cr.log(z.sigmoid()).sum(), [0.3, -1.2, 2.0])
    >>> report.verdict
    'correct'
    """
    if not inputs:
        raise ValueError("check_function needs at least one input to differentiate")
    if names is None:
        labels = _input_names(fn, len(inputs))
    else:
        labels = [str(n) for n in names]
        if len(labels) != len(inputs):
            raise ValueError(f"{len(labels)} names for {len(inputs)} inputs")
    leaves = []
    for value, label in zip(inputs, labels):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"input {label} must be numeric, got data of dtype {array.dtype}")
        leaves.append(
            Tensor(
                np.array(array, dtype=np.float64, order="C", copy=True),
                requires_grad=True,
                dtype=np.float64,
            )
        )
    return _check(
        lambda: fn(*leaves),
        leaves,
        labels,
        eps,
        max_entries,
        seed,
        tolerance,
        worst_entries,
        subject="function",
    )


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Any,
    *,
    eps: float = DEFAULT_EPS,
    tolerance: float = DEFAULT_TOLERANCE,
    names: Sequence[str] | None = None,
    max_entries: int | None = None,
    seed: int | None = 0,
    raise_exception: bool = False,
    worst_entries: int = DEFAULT_WORST_ENTRIES,
) -> GradCheckReport:
    """Check backprop's gradient of ``fn`` at ``inputs``, as ``torch.autograd.gradcheck`` does.

    ``inputs`` is one tensor or array (``fn`` gets one argument) or a tuple or list of them
    (``fn(*inputs)``). A non-scalar ``fn`` is checked through ⟨v, fn(inputs)⟩ for a fixed
    random v ~ N(0, 1) drawn with ``seed`` (the VJP with v: a wrong Jacobian entry shows
    unless v happens to cancel it, which has probability zero). Returns the report — true
    when the check passed (``if gradcheck(f, x):``), ``print`` shows the table;
    ``raise_exception=True`` raises ``GradientCheckError`` instead of returning a failed
    report. The other options are ``check_function``'s.

    Args:
        fn: a function of tensors returning a tensor (a scalar, or any shape: see above).
        inputs: one array or tensor, or a tuple/list of them (the arguments of ``fn``).
        eps: the finite-difference step ε (each entry is also checked at ±2ε).
        tolerance: the relative error below which a parameter passes (an error within
            ``NOISE_FACTOR`` times the measured noise floor passes too).
        names: a name for each input in the report (default: ``fn``'s parameter names).
        max_entries: check at most this many entries per input (drawn with ``seed``);
            default every entry.
        seed: seeds the projection vector v and the choice of entries.
        raise_exception: raise ``GradientCheckError`` instead of returning a failed report.
        worst_entries: how many of the worst entries the report keeps per input.

    Returns:
        A ``GradCheckReport``: true when every input passed; ``print`` shows the table,
        ``report["w"]`` one input's figures, ``report.verdict`` "correct", "a bug", ...

    Raises:
        GradientCheckError: with ``raise_exception=True``, when the check failed.
        NonFiniteError: an input or a value of ``fn`` holds NaN or infinity.

    >>> import numpy as np, chainrule as cr
    >>> bool(gradcheck(lambda z: z.tanh() * z, np.array([0.5, -2.0])))
    True
    >>> gradcheck(lambda z: z.relu().sum(), np.array([0.0, 1.0]))["z"].kinks[0].describe()
    'at a kink: analytic 0 lies between the one-sided slopes 0 and 1 — a valid subgradient'
    """
    arguments = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    cotangents: dict[tuple[int, ...], np.ndarray] = {}

    def projected(*leaves: Tensor) -> Tensor:
        value = fn(*leaves)
        if not isinstance(value, Tensor) or value.size == 1:
            return value
        if value.shape not in cotangents:
            cotangents[value.shape] = np.random.default_rng(seed).standard_normal(value.shape)
        return (value * cotangents[value.shape]).sum()

    labels = list(names) if names is not None else _input_names(fn, len(arguments))
    report = check_function(
        projected,
        *arguments,
        eps=eps,
        names=labels,
        max_entries=max_entries,
        seed=seed,
        tolerance=tolerance,
        worst_entries=worst_entries,
    )
    return report.raise_if_failed() if raise_exception else report


# ---------------------------------------------------------------------- models
def _float64_twin(model: Model, x: np.ndarray, batchnorm_train: bool) -> Model:
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
    with no_grad(), np.errstate(all="ignore"):  # a NaN weight is named after this, not here
        twin(x)  # builds lazily built layers (in eval mode: no running statistics change)
    for _, parameter in twin.named_parameters():
        parameter.data = np.array(parameter.data, dtype=np.float64, order="C", copy=True)
        parameter.grad = None
    for _, module in twin.named_modules():
        for name, buffer in list(module._buffers.items()):  # its own buffers
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
    model: Model,
    x: Any,
    y: Any,
    eps: float = DEFAULT_EPS,
    max_entries_per_parameter: int | None = None,
    seed: int | None = 0,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    batchnorm_train: bool = False,
    worst_entries: int = DEFAULT_WORST_ENTRIES,
) -> GradCheckReport:
    """Check backprop's gradient of a compiled model's cost on (x, y), parameter by parameter.

    The cost is ``model.total_loss(model(x), y)``: the compiled loss plus every layer's weight
    penalty (docs/math.md §5: include the regularisation term). It is evaluated on a deep copy
    of the model cast to float64 (parameters and floating-point buffers), so the model itself — its
    dtype, weights, running statistics, random generators and train/eval mode — is untouched.
    ``x`` is raw data as for ``fit``: the model's ``preprocessing`` is applied when it has one.

    The copy runs in eval mode: dropout is off (a random mask would make f(θ + ε) and
    f(θ − ε) differ by chance), and BatchNorm normalises with its running statistics. With
    ``batchnorm_train=True`` BatchNorm uses the batch statistics instead, as in training; the
    cost of each sample then depends on the whole batch, and the check covers that coupling.

    Every parameter that requires grad is checked, named as in ``named_parameters()``
    ("dense_1.weight"); ``max_entries_per_parameter`` limits each to that many entries drawn
    with ``seed``. The model must be compiled (``model.compile(loss=...)``). A NaN or infinity
    in x, y or a weight raises ``NonFiniteError`` naming it.
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
    _require_finite(inputs, "x")
    _require_finite(targets, "y")
    preprocessing = getattr(model, "preprocessing", None)
    if preprocessing is not None:
        inputs = np.asarray(preprocessing.transform(inputs), dtype=np.float64)
    if inputs.ndim == 0 or len(inputs) != len(targets):
        raise ValueError(
            f"x and y must hold the same number of samples, got shapes "
            f"{inputs.shape} and {targets.shape}"
        )
    twin = _float64_twin(model, inputs, batchnorm_train)
    named = [(name, p) for name, p in twin.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("the model has no parameters that require grad; nothing to check")
    subject = f"model {getattr(model, 'name', type(model).__name__)!r}"
    return _check(
        lambda: twin.total_loss(twin(inputs), targets),
        [p for _, p in named],
        [name for name, _ in named],
        eps,
        max_entries_per_parameter,
        seed,
        tolerance,
        worst_entries,
        subject=subject,
    )


__all__ = [
    "BUG",
    "BUG_FROM",
    "CORRECT",
    "CORRECT_BELOW",
    "DEFAULT_EPS",
    "DEFAULT_TOLERANCE",
    "DESERVES_A_LOOK",
    "Differences",
    "EntryComparison",
    "GradCheckReport",
    "GradientCheckError",
    "KINK_NOISE_FACTOR",
    "KinkEntry",
    "LOOK_UP_TO",
    "NOISE_FACTOR",
    "NonFiniteError",
    "ParameterCheck",
    "SUSPICIOUS",
    "UNIT_ROUNDOFF",
    "VERDICTS",
    "check_function",
    "check_model",
    "differences",
    "gradcheck",
    "noise_floor",
    "relative_error",
    "verdict",
    "within_noise",
]
