"""Loss functions 𝓛(prediction, target) and weight penalties (docs/math.md §2–3).

Every loss reduces over all elements (``reduction="mean"``, the default), sums
(``"sum"``) or returns the per-sample values (``"none"``). Targets are constants.

The cross-entropies that take logits are fused and stable: softmax + cross-entropy is
𝓛 = logsumexp(z) − ⟨y, z⟩ with gradient ∂𝓛/∂z = softmax(z)·Σy − y (= ŷ − y for one-hot y), and
sigmoid + binary cross-entropy is max(z, 0) − z·y + log(1 + e^(−|z|)) with gradient σ(z) − y.
Their VJPs are written with tensor operations, so second derivatives work too.

Probability outputs are computed from their logits, as Keras does: when the prediction of a
cross-entropy on probabilities (``from_logits=False``) was made by a sigmoid (binary) or a
softmax along the loss's axis (categorical), the loss reads the logits z behind it and calls the
fused form above. The value is the probability formula's wherever that is not clipped (the
probability path clips log p at −100, or p to [1e−7, 1 − 1e−7]; from logits it is exact), and the
gradient w.r.t. z is ŷ − y, finite and non-zero even where the sigmoid or softmax saturates.

Misuse is refused with the fix in the message: probabilities outside [0, 1] or rows that do not
sum to 1 (logits given to a loss on probabilities), a sigmoid or softmax output with
``from_logits=True``, a softmax of a softmax, binary labels outside [0, 1], class labels out of
range. The checks are a reduction or two over the predictions and targets.

Penalties on weights (never biases): ``L2(λ)`` gives (λ/2)‖W‖²_F, ``L1(λ)`` gives λ‖W‖₁.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np

from . import activations
from ._tensor import Tensor
from .errors import ShapeError
from .naming import NameIndex, accepted_parameters, check_parameters, not_a_name, returned_as_is
from .ops import Kernel, apply, as_tensor, clip, exp, log, maximum, where
from .ops import abs as tensor_abs
from .ops import sum as tensor_sum

REDUCTIONS = ("mean", "sum", "none")
# Rows of float32 probabilities (a softmax) sum to 1 within about n·eps; this is ~100 times that.
ROW_SUM_TOLERANCE = 1e-5


class Loss:
    """Base class: checks shapes, converts the target, applies the reduction."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    formula: ClassVar[str]

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, not {reduction!r}")
        self.reduction = reduction

    def __call__(self, prediction: Any, target: Any, sample_weight: Any = None) -> Tensor:
        prediction = prediction if isinstance(prediction, Tensor) else Tensor(prediction)
        target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
        values = self.values(prediction, self.target(prediction, target_array))
        return self.reduce(values, sample_weight)

    def reduce(self, values: Tensor, weights: Any = None) -> Tensor:
        """Apply the reduction (mean, sum or none) to the unreduced loss.

        With ``weights`` w (one per sample, the first axis), every sample's loss values are
        multiplied by its weight first: "mean" gives Σᵢ wᵢ·ℓᵢ / N, ℓᵢ the mean of sample i's
        values (over the output columns), "sum" gives Σᵢ wᵢ·Σⱼ ℓᵢⱼ, "none" the weighted values.
        The mean divides by N, not by Σw (Keras' ``sum_over_batch_size``), so a batch of small
        weights has a small loss; all weights 1 give the unweighted loss. ``weights=None`` adds
        no op at all: unweighted losses are computed as before, bit for bit.
        """
        if weights is not None:
            if not isinstance(weights, Tensor):
                weights = Tensor._wrap(sample_weight_array(weights, values.shape, values.dtype))
            values = values * weights
        if self.reduction == "mean":
            return values.mean()
        if self.reduction == "sum":
            return values.sum()
        return values

    def target(self, prediction: Tensor, target: np.ndarray) -> Tensor:
        """The target as the loss uses it (checked, converted, one-hot): a constant tensor."""
        return self._same_shape_target(prediction, target)

    def values(self, prediction: Tensor, y: Tensor) -> Tensor:
        """The unreduced loss (per element or per sample) for the converted target ``y``."""
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {}

    @property
    def params(self) -> dict[str, Any]:
        return {**self._params(), "reduction": self.reduction}

    def __repr__(self) -> str:
        inside = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({inside})"

    def _same_shape_target(self, prediction: Tensor, target: np.ndarray) -> Tensor:
        if prediction.ndim and prediction.shape[-1] == 1 and target.shape == prediction.shape[:-1]:
            target = target.reshape(prediction.shape)  # one value per row for one output
        if target.shape != prediction.shape:
            raise ShapeError(
                f"{self.name}: prediction has shape {prediction.shape} but target has shape "
                f"{target.shape}; they must match"
            )
        return as_tensor(target, like=prediction)


def sample_weight_array(weights: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """One weight per sample (shape (N,)) as an array that broadcasts against loss values of
    ``shape``: (N, 1, …, 1) in ``dtype``. Refuses a wrong length and negative or non-finite
    weights."""
    array = np.asarray(weights.data if isinstance(weights, Tensor) else weights)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"sample weights must be numbers, got dtype {array.dtype}")
    if not shape:
        raise ShapeError("sample weights need loss values with a sample axis, got a scalar")
    if array.shape != shape[:1]:
        raise ShapeError(
            f"sample weights must have shape ({shape[0]},), one per sample, got shape {array.shape}"
        )
    converted = array.astype(dtype, copy=False)
    check_sample_weights(converted)
    return converted.reshape(shape[:1] + (1,) * (len(shape) - 1))


def check_sample_weights(weights: np.ndarray) -> None:
    """Refuse NaN, infinite or negative sample weights, naming the first bad one."""
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        index = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"sample weights must be finite and >= 0, got {weights[index]} for sample {index}"
        )


# ---------------------------------------------------------------------- regression
class MeanSquaredError(Loss):
    """MSE: mean of (ŷ − y)²; ∂/∂ŷ = 2(ŷ − y)/n."""

    name = "mse"
    aliases = ("mean_squared_error",)
    formula = "mean((ŷ − y)²)"

    def values(self, prediction: Tensor, y: Tensor) -> Tensor:
        difference = prediction - y
        return difference * difference


class MeanAbsoluteError(Loss):
    """MAE: mean of |ŷ − y|; ∂/∂ŷ = sign(ŷ − y)/n (0 where ŷ = y)."""

    name = "mae"
    aliases = ("mean_absolute_error", "l1_loss")
    formula = "mean(|ŷ − y|)"

    def values(self, prediction: Tensor, y: Tensor) -> Tensor:
        return tensor_abs(prediction - y)


class Huber(Loss):
    """Huber: ½d² where |d| ≤ δ, δ(|d| − ½δ) elsewhere, d = ŷ − y (quadratic, then linear)."""

    name = "huber"
    aliases = ("huber_loss", "smooth_l1")
    formula = "½d² if |d| ≤ δ else δ(|d| − ½δ), d = ŷ − y"

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"huber delta must be > 0, got {delta}")
        self.delta = float(delta)

    def _params(self) -> dict[str, Any]:
        return {"delta": self.delta}

    def values(self, prediction: Tensor, y: Tensor) -> Tensor:
        difference = prediction - y
        size = tensor_abs(difference)
        return where(
            size <= self.delta,
            0.5 * difference * difference,
            self.delta * (size - 0.5 * self.delta),
        )


# ---------------------------------------------------------------------- probabilities or logits
class ProbabilityLoss(Loss):
    """A cross-entropy on probabilities, or on logits with ``from_logits=True``.

    On probabilities, an output made by the loss's ``logits_activation`` (sigmoid, softmax) is
    computed from the logits z behind it, by the fused logits formula: exact, with gradient
    ŷ − y w.r.t. z (Keras does the same). Anything else keeps the probability formula.
    """

    logits_activation: ClassVar[str]  # the activation whose logits the fused formula takes

    def __init__(self, from_logits: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.from_logits = bool(from_logits)

    def _params(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits}

    def fuses(self, activation: activations.Activation, ndim: int) -> bool:
        """True when the fused logits formula replaces ``activation`` followed by this loss."""
        return activation.name == self.logits_activation

    def logits_of(self, prediction: Tensor) -> Tensor | None:
        """The logits the fused formula takes for ``prediction``, or None (probability formula).

        With ``from_logits=True``, the prediction itself (refused when a sigmoid or softmax made
        it); otherwise the z behind an output a = g(z) that this loss ``fuses``.
        """
        source = activations.activation_input(prediction)
        if source is not None:
            refuse_probabilities_of_probabilities(self.name, *source)
        if self.from_logits:
            if source is not None and source[0].name in PROBABILITY_OUTPUTS:
                made_by = source[0].name
                raise ValueError(
                    f"{self.name}: the outputs are already probabilities (made by a {made_by}): "
                    f"drop from_logits=True or the {made_by}"
                )
            return prediction
        if source is None or not self.fuses(source[0], prediction.ndim):
            return None
        return source[1]


def refuse_probabilities_of_probabilities(
    name: str, activation: activations.Activation, z: Tensor
) -> None:
    """Refuse a = g(z) when both g and the activation that made z output probabilities."""
    inner = activations.activation_input(z)
    outer_name = activation.name
    if inner is None or not {outer_name, inner[0].name} <= PROBABILITY_OUTPUTS:
        return
    double = f" (a double {outer_name})" if inner[0].name == outer_name else ""
    raise ValueError(
        f"{name}: the output is a {outer_name} of a {inner[0].name} output{double}, which "
        f"already is probabilities; remove one of them"
    )


def check_probabilities(name: str, p: np.ndarray, activation: str, upper: bool = True) -> None:
    """Refuse predictions below 0 (or above 1 when ``upper``): logits given as probabilities.

    Exactly 0 and 1 are probabilities (the loss clips them).
    """
    if p.size == 0:
        return
    low = p.min()
    high = p.max() if upper else low
    if low < 0 or high > 1:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name}: predictions must be probabilities in [0, 1], got {bad:.4g}; did you mean "
            f"from_logits=True, or a {activation} output?"
        )


def check_rows_sum_to_one(name: str, totals: np.ndarray, classes: int) -> None:
    """Refuse rows of probabilities whose sum is not 1 within ``ROW_SUM_TOLERANCE``·classes."""
    if totals.size == 0:
        return
    deviation = np.abs(totals - 1)
    worst = int(np.argmax(deviation))
    tolerance = ROW_SUM_TOLERANCE * classes
    if deviation.flat[worst] > tolerance:
        raise ValueError(
            f"{name}: each row of probabilities must sum to 1 (within {tolerance:.1g}), one "
            f"sums to {totals.flat[worst]:.6g}; did you mean from_logits=True, or a softmax output?"
        )


# ---------------------------------------------------------------------- binary classification
class BinaryCrossentropy(ProbabilityLoss):
    """Binary cross-entropy −[y log p + (1 − y) log(1 − p)], from probabilities or logits.

    From logits z (``from_logits=True``, the stable choice): max(z, 0) − z·y + log(1 + e^(−|z|)),
    gradient σ(z) − y. From probabilities p: when p = σ(z) is the output of a sigmoid, the loss
    is computed from z by that same formula (exact; gradient w.r.t. z is p − y, even where the
    sigmoid saturates); any other p has its logs clamped at −100 and the gradient
    (p − y)/max(p(1 − p), 1e−12), as PyTorch's BCELoss does, so p = 0 or 1 stays finite.

    Labels y must lie in [0, 1] (0/1 or soft labels); predictions on probabilities too.

    >>> import chainrule as cr
    >>> z = cr.tensor([40.0], requires_grad=True)
    >>> loss = get("binary_crossentropy")(cr.activations.get("sigmoid")(z), [0.0])
    >>> loss.backward()
    >>> round(loss.item(), 4), z.grad.numpy()
    (40.0, array([1.], dtype=float32))
    """

    name = "binary_crossentropy"
    aliases = ("bce", "binary_cross_entropy", "log_loss")
    formula = "−[y log p + (1 − y) log(1 − p)]"
    logits_activation = "sigmoid"

    def target(self, prediction: Tensor, target: np.ndarray) -> Tensor:
        y = self._same_shape_target(prediction, target)
        check_binary_labels(self.name, y.data)
        return y

    def values(self, prediction: Tensor, y: Tensor) -> Tensor:
        z = self.logits_of(prediction)
        if z is not None:
            return _bce_from_logits(z, y)
        check_probabilities(self.name, prediction.data, self.logits_activation)
        return _bce_from_probabilities(prediction, y)


def check_binary_labels(name: str, y: np.ndarray) -> None:
    """Binary targets are probabilities of the positive class: 0, 1 or soft labels between."""
    if y.size == 0:
        return
    low, high = y.min(), y.max()
    if low < 0 or high > 1:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name}: label {bad:g} is outside [0, 1]; binary targets are 0 or 1 (or soft "
            "labels in between): for class indices use sparse_categorical_crossentropy"
        )


def _bce_from_logits(z: Tensor, y: Tensor) -> Tensor:
    """max(z, 0) − z·y + log1p(e^(−|z|)); VJP: g·(σ(z) − y)."""
    sigmoid = activations.get("sigmoid")
    return apply(
        "bce_with_logits",
        Kernel(bce_with_logits_values),
        (z, y),
        lambda g, out, needs: (g * (sigmoid(z) - y), None),
    )


def bce_with_logits_values(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """max(z, 0) − z·y + log1p(e^(−|z|)), elementwise: BCE of σ(z) against y, stably."""
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def bce_values(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """−[y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)], elementwise (PyTorch's clamp)."""
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_not_p = np.maximum(np.log1p(-p), -100.0)
    return -(y * log_p + (1 - y) * log_not_p)


def _bce_from_probabilities(p: Tensor, y: Tensor) -> Tensor:
    """−[y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)]; VJP: g·(p − y)/max(p(1 − p), ε)."""

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (g * (p - y) / maximum(p * (1.0 - p), 1e-12), None)

    return apply("bce", Kernel(bce_values), (p, y), vjp)


# ---------------------------------------------------------------------- multi-class
def class_targets(name: str, prediction: Tensor, target: np.ndarray, axis: int) -> Tensor:
    """One-hot (or probability) targets from one-hot/probability arrays or integer labels."""
    if target.shape == prediction.shape:
        return as_tensor(target, like=prediction)
    classes_axis = axis % prediction.ndim if prediction.ndim else 0
    label_shape = prediction.shape[:classes_axis] + prediction.shape[classes_axis + 1 :]
    if prediction.ndim == 0 or target.shape != label_shape:
        raise ShapeError(
            f"{name}: prediction has shape {prediction.shape}; the target must be one-hot of the "
            f"same shape or integer labels of shape {label_shape}, got {target.shape}"
        )
    labels = integer_labels(name, target, prediction.shape[classes_axis])
    one_hot = np.take(_identity(prediction.shape[classes_axis], prediction.dtype.str), labels, 0)
    if classes_axis != prediction.ndim - 1:
        one_hot = np.moveaxis(one_hot, -1, classes_axis)
    return Tensor._wrap(one_hot)


@functools.lru_cache(maxsize=32)
def _identity(classes: int, dtype: str) -> np.ndarray:
    """The read-only identity matrix whose rows are the one-hot targets (made once per size,
    not per batch)."""
    identity = np.eye(classes, dtype=dtype)
    identity.flags.writeable = False
    return identity


def integer_labels(name: str, target: np.ndarray, classes: int) -> np.ndarray:
    """Validate class labels: whole numbers in [0, classes)."""
    if target.dtype.kind == "f":
        if not np.all(np.isfinite(target)) or np.any(target != np.round(target)):
            raise ValueError(f"{name}: integer class labels expected, got non-integer values")
    elif target.dtype.kind not in "iu":
        raise TypeError(f"{name}: class labels must be integers, got dtype {target.dtype}")
    labels = target.astype(np.int64)
    # One pass for both ends: a negative label, seen as unsigned, is at least 2⁶³.
    if labels.size and not (labels.view(np.uint64) < classes).all():
        bad = labels[(labels < 0) | (labels >= classes)].flat[0]
        fix = (
            f"; for {labels.max() + 1} classes give the output layer {labels.max() + 1} units"
            if bad >= classes
            else ""
        )
        raise ValueError(
            f"{name}: label {bad} is out of range for a model with {classes} outputs "
            f"(labels must be 0..{classes - 1}{fix})"
        )
    return labels


class CategoricalCrossentropy(ProbabilityLoss):
    """Cross-entropy −Σᵢ yᵢ log ŷᵢ along ``axis``, from probabilities or logits.

    Targets are one-hot (or probability) vectors, or integer class labels. From logits
    (``from_logits=True``) the softmax is fused in: logsumexp(z) − ⟨y, z⟩, gradient
    softmax(z)·Σy − y (= ŷ − y for one-hot targets). From probabilities: when ŷ = softmax(z)
    along ``axis`` is the output of a softmax, the loss is computed from z by that same fused
    formula (exact; gradient ŷ − y w.r.t. z, even at saturation); any other ŷ must be ≥ 0 with
    rows summing to 1, and is renormalised and clipped to [1e−7, 1 − 1e−7] before the log (as
    Keras does).

    >>> import chainrule as cr
    >>> z = cr.tensor([[50.0, -50.0]], requires_grad=True)
    >>> loss = get("categorical_crossentropy")(cr.activations.get("softmax")(z), [1])
    >>> loss.backward()
    >>> loss.item(), z.grad.numpy()
    (100.0, array([[ 1., -1.]], dtype=float32))
    """

    name = "categorical_crossentropy"
    aliases: ClassVar[tuple[str, ...]] = (
        "cce",
        "crossentropy",
        "cross_entropy",
        "softmax_crossentropy",
    )
    formula = "−Σᵢ yᵢ log ŷᵢ"
    logits_activation = "softmax"
    epsilon = 1e-7

    def __init__(self, from_logits: bool = False, axis: int = -1, reduction: str = "mean") -> None:
        super().__init__(from_logits, reduction)
        self.axis = int(axis)

    def _params(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits, "axis": self.axis}

    def fuses(self, activation: activations.Activation, ndim: int) -> bool:
        """A softmax along this loss's axis."""
        return (
            super().fuses(activation, ndim)
            and isinstance(activation, activations.Softmax)
            and activation.axis % ndim == self.axis % ndim
        )

    def target(self, prediction: Tensor, target: np.ndarray) -> Tensor:
        return class_targets(self.name, prediction, target, self.axis)

    def values(self, prediction: Tensor, y: Tensor) -> Tensor:
        z = self.logits_of(prediction)
        if z is not None:
            return _softmax_cross_entropy(z, y, self.axis)
        check_probabilities(self.name, prediction.data, self.logits_activation, upper=False)
        total = tensor_sum(prediction, self.axis, keepdims=True)
        check_rows_sum_to_one(self.name, total.data, prediction.shape[self.axis])
        probabilities = clip(prediction / total, self.epsilon, 1 - self.epsilon)
        return -tensor_sum(y * log(probabilities), self.axis)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy whose targets must be integer class labels."""

    name = "sparse_categorical_crossentropy"
    aliases = ("sparse_cce",)

    def target(self, prediction: Tensor, target: np.ndarray) -> Tensor:
        if target.shape == prediction.shape:
            raise ShapeError(
                f"{self.name}: expects integer labels of shape {prediction.shape[:-1]}, got "
                f"one-hot-shaped targets {target.shape}; use categorical_crossentropy for those"
            )
        return super().target(prediction, target)


def _softmax_cross_entropy(z: Tensor, y: Tensor, axis: int) -> Tensor:
    """logsumexp(z) − ⟨y, z⟩ = −⟨y, log_softmax(z)⟩ along ``axis``; VJP: g·(p·Σy − y) with
    p = softmax(z) = exp(log_softmax(z)), the log-probabilities of the forward pass (a node of
    their own, so that the VJP is differentiable again)."""
    log_probabilities = activations.get("log_softmax", axis=axis)(z)
    kept = keepdims_shape(z.shape, axis)

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        g = g.reshape(kept)
        probabilities = exp(log_probabilities)
        return (g * (probabilities * tensor_sum(y, axis, keepdims=True) - y), None, None)

    return apply(
        "softmax_cross_entropy",
        Kernel(cross_entropy_values, ignores=(0,), axis=axis),
        (z, log_probabilities, y),
        vjp,
        {"axis": axis},
    )


def cross_entropy_values(
    z: np.ndarray, log_probabilities: np.ndarray, y: np.ndarray, axis: int
) -> np.ndarray:
    """−Σ y·log p along ``axis`` (``z``, the logits, is the node's input; p is computed)."""
    return -(y * log_probabilities).sum(axis=axis)


def keepdims_shape(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """``shape`` with the ``axis`` entry set to 1 (a reduction's shape with keepdims)."""
    axis = axis % len(shape)
    return shape[:axis] + (1,) + shape[axis + 1 :]


class NegativeLogLikelihood(Loss):
    """NLL: −log pᵧ from log-probabilities (e.g. a log_softmax output) and integer labels."""

    name = "nll"
    aliases = ("negative_log_likelihood", "nll_loss")
    formula = "−log p_y"

    def __init__(self, axis: int = -1, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.axis = int(axis)

    def _params(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def target(self, prediction: Tensor, target: np.ndarray) -> Tensor:
        return class_targets(self.name, prediction, target, self.axis)

    def values(self, prediction: Tensor, y: Tensor) -> Tensor:
        return -tensor_sum(y * prediction, self.axis)


# ---------------------------------------------------------------------- penalties
class _Penalty:
    """A weight penalty of strength λ ≥ 0, called on a weight tensor."""

    def __init__(self, lam: float) -> None:
        if not lam >= 0:
            raise ValueError(f"the {type(self).__name__} strength λ must be ≥ 0, got {lam}")
        self.lam = float(lam)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lam={self.lam!r})"


class L2(_Penalty):
    """L2 penalty (λ/2)‖W‖²_F (the regularised risk of docs/math.md §2); its gradient is λW
    (weight decay)."""

    def __call__(self, weight: Tensor) -> Tensor:
        return (0.5 * self.lam) * tensor_sum(weight * weight)


class L1(_Penalty):
    """L1 penalty λ‖W‖₁ (sum of absolute values); its gradient is λ·sign(W)."""

    def __call__(self, weight: Tensor) -> Tensor:
        return self.lam * tensor_sum(tensor_abs(weight))


# ---------------------------------------------------------------------- registry
CATALOG: tuple[type[Loss], ...] = (
    MeanSquaredError,
    MeanAbsoluteError,
    Huber,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    NegativeLogLikelihood,
)
_classes = {cls.name: cls for cls in CATALOG}
# The activations whose outputs are probabilities: those a cross-entropy computes from logits.
PROBABILITY_OUTPUTS = frozenset(
    cls.logits_activation for cls in CATALOG if issubclass(cls, ProbabilityLoss)
)
_index = NameIndex("loss")
for _cls in CATALOG:
    _index.add(_cls.name, _cls.aliases)


def names() -> list[str]:
    """The canonical loss names."""
    return _index.names()


def get(name: str | Loss, **params: Any) -> Loss:
    """The loss called ``name`` (aliases accepted, case and '_' ignored), built with ``params``.

    >>> get("categorical_crossentropy", from_logits=True)
    CategoricalCrossentropy(from_logits=True, axis=-1, reduction='mean')
    """
    if isinstance(name, Loss):
        return returned_as_is(name, params, "a loss")
    if not isinstance(name, str):
        raise not_a_name("a loss is a name or a Loss object", name)
    loss_class = _classes[_index.resolve(name)]
    check_parameters(loss_class.name, accepted_parameters(loss_class), params)
    return loss_class(**params)


__all__ = [
    "bce_values",
    "bce_with_logits_values",
    "BinaryCrossentropy",
    "CATALOG",
    "CategoricalCrossentropy",
    "check_binary_labels",
    "check_probabilities",
    "check_rows_sum_to_one",
    "check_sample_weights",
    "class_targets",
    "cross_entropy_values",
    "get",
    "Huber",
    "integer_labels",
    "keepdims_shape",
    "L1",
    "L2",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "names",
    "NegativeLogLikelihood",
    "PROBABILITY_OUTPUTS",
    "ProbabilityLoss",
    "REDUCTIONS",
    "refuse_probabilities_of_probabilities",
    "ROW_SUM_TOLERANCE",
    "sample_weight_array",
    "SparseCategoricalCrossentropy",
]
