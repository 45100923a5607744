"""Bias and variance: the basic recipe's verdict from the training and validation errors.

With e* the baseline error (the error of a human or of the best possible model, Bayes' error;
0 unless given), e_train the training error and e_val the validation (or test) error::

    avoidable bias = e_train − e*        variance = e_val − e_train

(docs/math.md §7). The bias is high when the avoidable bias is ``BIAS_THRESHOLD`` (2 points of
error) or more, the variance when the variance is ``VARIANCE_THRESHOLD`` (2 points) or more. The
basic recipe then says what to try: for high bias a bigger network or longer training (or less
regularisation); for high variance more data, more regularisation or dropout; for both, the bias
first. The errors are fractions: for classification the share of misclassified samples
(1 − accuracy), for regression the MSE divided by the variance of the targets (1 − R², the
share of the variance the model does not explain), so that one pair of thresholds fits both.

Advice is worded per place, as the health monitor's is (``chainrule.diagnostics.Vocabulary``):
``API`` names Python parameters, ``CLI`` ``chainrule train``'s options and ``PLAYGROUND`` the
page's controls; each says nothing of what its place does not offer.

>>> result = diagnose(0.15, 0.16)           # Ng's example: 15% training, 16% dev error
>>> result.verdict, round(result.avoidable_bias, 2), round(result.variance, 2)
('high_bias', 0.15, 0.01)
>>> diagnose(0.15, 0.16, baseline=0.15).verdict
'fine'
>>> diagnose(0.01, 0.11).verdict, diagnose(0.15, 0.30).verdict
('high_variance', 'both')
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .diagnostics import Vocabulary

__all__ = [
    "API",
    "BIAS_THRESHOLD",
    "CLI",
    "PLAYGROUND",
    "VARIANCE_THRESHOLD",
    "VERDICTS",
    "BiasVariance",
    "RecipeVocabulary",
    "diagnose",
    "from_history",
]

#: the avoidable bias e_train − e* from which the bias is high (2 points of error)
BIAS_THRESHOLD = 0.02
#: the variance e_val − e_train from which the variance is high (2 points of error)
VARIANCE_THRESHOLD = 0.02

#: the verdicts, and the remedies the basic recipe tries for each (bias first)
_BIAS_REMEDIES = ("bigger_network", "train_longer", "less_regularisation")
_VARIANCE_REMEDIES = ("more_data", "regularise", "dropout")
VERDICTS: dict[str, tuple[str, ...]] = {
    "fine": (),
    "high_bias": _BIAS_REMEDIES,
    "high_variance": _VARIANCE_REMEDIES,
    "both": _BIAS_REMEDIES + _VARIANCE_REMEDIES,
}


class RecipeVocabulary(Vocabulary):
    """How one place words the basic recipe's remedies (a ``Vocabulary`` of its own keys)."""

    known: ClassVar[tuple[str, ...]] = _BIAS_REMEDIES + _VARIANCE_REMEDIES


#: the Python API: layer sizes, fit's epochs, kernel_regularizer, Dropout layers
API = RecipeVocabulary(
    "api",
    {
        "bigger_network": "a bigger network (more units per Dense layer, or more layers)",
        "train_longer": "longer training (fit's epochs=...)",
        "less_regularisation": "less regularisation (a smaller kernel_regularizer, less Dropout)",
        "more_data": "more training data",
        "regularise": "more regularisation (kernel_regularizer=1e-3 on the Dense layers)",
        "dropout": "Dropout layers (Dropout(0.2) after a hidden layer's activation)",
    },
)

#: ``chainrule train``: its options (it has no dropout)
CLI = RecipeVocabulary(
    "cli",
    {
        "bigger_network": "a bigger network (--layers, e.g. 128,128)",
        "train_longer": "longer training (--epochs, --patience)",
        "less_regularisation": "less regularisation (a smaller --l2)",
        "more_data": "more training rows (a larger --data file, or a smaller --test-size)",
        "regularise": "more regularisation (a larger --l2)",
        "dropout": None,
    },
)

#: the playground's controls (it has no dropout)
PLAYGROUND = RecipeVocabulary(
    "playground",
    {
        "bigger_network": "more neurons (+) or another hidden layer",
        "train_longer": "more epochs (let it run longer)",
        "less_regularisation": "a lower Regularization rate λ",
        "more_data": "more Samples (or a higher Ratio of training to test data)",
        "regularise": "L2 Regularization with a higher Regularization rate λ",
        "dropout": "Dropout on a hidden layer (its drop menu, e.g. drop 0.2)",
    },
)


def _points(fraction: float) -> str:
    points = 100 * fraction
    return f"{points:.1f} point{'' if abs(points) == 1 else 's'}"


def _band(fraction: float) -> str:
    return f"{100 * fraction:g} point{'' if 100 * fraction == 1 else 's'}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


@dataclass(frozen=True)
class BiasVariance:
    """The training and validation errors, the baseline, and the basic recipe's verdict.

    ``measure`` says what the errors are: "error" (the misclassified share), or for instance
    "MSE ÷ variance of y"; ``validation`` names the held-out set ("validation", "test").
    """

    training_error: float
    validation_error: float
    baseline: float = 0.0
    measure: str = "error"
    validation: str = "validation"
    bias_threshold: float = BIAS_THRESHOLD
    variance_threshold: float = VARIANCE_THRESHOLD

    @property
    def avoidable_bias(self) -> float:
        """e_train − e*: how far the training error is above the baseline."""
        return self.training_error - self.baseline

    @property
    def variance(self) -> float:
        """e_val − e_train: how much worse the model does on data it was not trained on."""
        return self.validation_error - self.training_error

    @property
    def high_bias(self) -> bool:
        return self.avoidable_bias >= self.bias_threshold

    @property
    def high_variance(self) -> bool:
        return self.variance >= self.variance_threshold

    @property
    def verdict(self) -> str:
        """ "fine", "high_bias", "high_variance" or "both"."""
        if self.high_bias and self.high_variance:
            return "both"
        return "high_bias" if self.high_bias else "high_variance" if self.high_variance else "fine"

    @property
    def remedies(self) -> tuple[str, ...]:
        """What the recipe tries, in order (bias first), as ``RecipeVocabulary`` keys."""
        return VERDICTS[self.verdict]

    def figures(self) -> str:
        """The errors and the two gaps, in points of error."""
        what = "" if self.measure == "error" else f" (error: {self.measure})"
        return (
            f"training error {_percent(self.training_error)}, {self.validation} error "
            f"{_percent(self.validation_error)}{what}, baseline {_percent(self.baseline)}: "
            f"avoidable bias {_points(self.avoidable_bias)}, variance "
            f"{_points(self.variance)}"
        )

    def advice(self, vocabulary: Vocabulary = API) -> str:
        """The verdict and what to try, in ``vocabulary``'s words."""
        bias = vocabulary.advice(_BIAS_REMEDIES)
        variance = vocabulary.advice(_VARIANCE_REMEDIES)
        bands = (
            f"high from {_band(self.bias_threshold)} of avoidable bias, "
            f"{_band(self.variance_threshold)} of variance"
        )
        if self.verdict == "fine":
            return f"neither bias nor variance is high ({bands})"
        if self.verdict == "high_bias":
            return f"high bias ({bands}) — try {bias}"
        if self.verdict == "high_variance":
            return f"high variance ({bands}) — try {variance}"
        return (
            f"high bias and high variance ({bands}) — first the bias: {bias}; then the "
            f"variance: {variance}"
        )

    def message(self, vocabulary: Vocabulary = API) -> str:
        """One line: the figures, the verdict and the advice in ``vocabulary``'s words."""
        return f"{self.figures()} → {self.advice(vocabulary)}"

    def __str__(self) -> str:
        return self.message(API)

    def _repr_html_(self) -> str:
        """The line for notebooks, the verdict in bold."""
        return (
            f"<div><p>Bias/variance: {html.escape(self.figures())} → "
            f"<b>{html.escape(self.advice(API))}</b></p></div>"
        )


def _error(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"bias/variance: the {what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"bias/variance: the {what} must be finite and ≥ 0, got {value!r}")
    return number


def diagnose(
    training_error: float,
    validation_error: float,
    baseline: float = 0.0,
    *,
    measure: str = "error",
    validation: str = "validation",
    bias_threshold: float = BIAS_THRESHOLD,
    variance_threshold: float = VARIANCE_THRESHOLD,
) -> BiasVariance:
    """The basic recipe's verdict: avoidable bias e_train − e* against ``bias_threshold``,
    variance e_val − e_train against ``variance_threshold`` (errors as fractions)."""
    for name, threshold in (
        ("bias_threshold", bias_threshold),
        ("variance_threshold", variance_threshold),
    ):
        if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
            raise ValueError(f"bias/variance: {name} must be a positive number, got {threshold!r}")
    return BiasVariance(
        _error(training_error, "training error"),
        _error(validation_error, f"{validation} error"),
        _error(baseline, "baseline error"),
        measure,
        validation,
        float(bias_threshold),
        float(variance_threshold),
    )


def _accuracy_key(records: Mapping[str, Any]) -> str | None:
    return next(
        (
            key
            for key in records
            if "acc" in key and not key.startswith("val_") and f"val_{key}" in records
        ),
        None,
    )


def _last_pair(train: list[Any], held_out: list[Any]) -> tuple[float, float] | None:
    for a, b in zip(reversed(train), reversed(held_out)):
        try:
            a, b = float(a), float(b)
        except (TypeError, ValueError):
            continue
        if math.isfinite(a) and math.isfinite(b):
            return a, b
    return None


def from_history(
    history: Any, baseline: float = 0.0, *, metric: str | None = None, scale: float | None = None
) -> BiasVariance:
    """The verdict from the last epoch of a ``History`` (or a name → list mapping) that has
    both the training figure and its "val_" one.

    ``metric`` defaults to the accuracy the model was compiled with (error = 1 − accuracy).
    Any other figure ("mse", "loss") is an error in its own units, so give ``scale`` to turn
    it into a fraction: ``scale=np.var(y_train)`` makes an MSE the share of the variance not
    explained. The training figures fit logs are averaged over the epoch's batches while the
    weights moved (and with dropout on), so they read a little above the final weights' error.
    """
    records = getattr(history, "history", history)
    if not isinstance(records, Mapping):
        raise TypeError(
            f"bias/variance: expected a History or a mapping of lists, got {type(history).__name__}"
        )
    key = metric if metric is not None else _accuracy_key(records)
    if key is None:
        if scale is None:
            raise ValueError(
                "bias/variance: the history has no accuracy with a validation "
                "figure; compile with metrics=['accuracy'] and fit with "
                "validation_data= (or validation_split=), or give metric='mse' "
                "and scale=np.var(y_train) for a regression"
            )
        key = "mse" if "mse" in records and "val_mse" in records else "loss"
    if key not in records or f"val_{key}" not in records:
        raise ValueError(
            f"bias/variance: the history has no {key!r} and 'val_{key}' (it has "
            f"{', '.join(records) or 'nothing'}); fit with validation_data= or "
            "validation_split= to measure the variance"
        )
    pair = _last_pair(list(records[key]), list(records[f"val_{key}"]))
    if pair is None:
        raise ValueError(f"bias/variance: no epoch has finite {key!r} and 'val_{key}'")
    if "acc" in key:
        return diagnose(1.0 - pair[0], 1.0 - pair[1], baseline)
    if scale is None or not float(scale) > 0 or not math.isfinite(float(scale)):
        raise ValueError(
            f"bias/variance: {key!r} is not a fraction; give scale= (a positive "
            f"number such as np.var(y_train)) to divide it by, got {scale!r}"
        )
    return diagnose(
        pair[0] / float(scale), pair[1] / float(scale), baseline, measure=f"{key} ÷ scale"
    )
