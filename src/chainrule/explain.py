"""Backpropagation explained on your own network and numbers (docs/math.md §2–3).

``explain(model, x, y)`` runs one example (or a few) through the forward pass

    z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾,   a⁽ˡ⁾ = f_l(z⁽ˡ⁾),   a⁽⁰⁾ = x

and the backward pass written out as the textbook does it

    δ⁽ᴸ⁾ = ŷ − y (softmax/sigmoid + cross-entropy),   δ⁽ˡ⁾ = f_l'(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾)
    ∂𝓛/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ,   ∂𝓛/∂b⁽ˡ⁾ = δ⁽ˡ⁾

in NumPy, then checks every δ, ∂𝓛/∂W and ∂𝓛/∂b against the engine's own gradients
(``chainrule.gradients`` on the same example, float64) and computes the update the model's
optimiser would make, on a copy of the optimiser and its state. Units whose slope f'(z) is below
1% of the activation's largest slope are marked: their δ, and so every update of their incoming
weights, is ≈ 0 — they barely learn from this example.

With N examples the cost is the mean over them, so every δ row carries the factor 1/N and
∂R/∂W⁽ˡ⁾ = Σₙ δₙ⁽ˡ⁾ aₙ⁽ˡ⁻¹⁾ᵀ. ``str(explanation)`` is the text, ``_repr_html_`` the notebook view.
"""

from __future__ import annotations

import copy
import html
import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import activations, losses, optim
from ._tensor import Tensor, gradients
from .grad_mode import no_grad
from .nn.layers import Activation, Dense, Dropout, apply_activation
from .nn.signals import pairings
from .ops import linear
from .protocols import CompiledModel

__all__ = ["Explanation", "LayerExplanation", "SaturatedUnit", "explain", "SATURATION_FRACTION"]

# A unit is "saturated" (barely learns) where |f'(z)| is below this fraction of max |f'|.
SATURATION_FRACTION = 0.01
# Arrays with more entries than this are summarised (shape, min, max, mean |·|).
FULL_DISPLAY_LIMIT = 48
# Where the largest slope of an activation is looked for.
_SLOPE_GRID = np.linspace(-20.0, 20.0, 4001)


@dataclass(frozen=True)
class SaturatedUnit:
    """Unit ``unit`` (counted from 1) of layer ``layer``: f'(z) = ``slope`` on ``example``."""

    layer: int
    unit: int
    example: int
    slope: float
    max_slope: float

    def describe(self, examples: int) -> str:
        where = f" on example {self.example + 1}" if examples > 1 else ""
        return (
            f"unit {self.unit} of layer {self.layer}: f'(z) = {_number(self.slope)}{where} "
            f"(max {_number(self.max_slope)}), so δ and every update of its incoming "
            "weights are ≈ 0 — it barely learns from this example"
        )


@dataclass
class LayerExplanation:
    """One Dense layer l with its activation: the forward values, the backward terms, the
    engine's gradients they are checked against, and the optimiser's update."""

    index: int
    name: str
    activation: activations.Activation
    weight: np.ndarray
    bias: np.ndarray | None
    a_prev: np.ndarray
    z: np.ndarray
    a: np.ndarray
    slope: np.ndarray | None  # f'(z); None for a non-elementwise activation (softmax)
    delta: np.ndarray
    delta_rule: str
    weight_grad: np.ndarray
    bias_grad: np.ndarray | None
    penalty_grad: np.ndarray | None
    engine_delta: np.ndarray
    engine_weight_grad: np.ndarray
    engine_bias_grad: np.ndarray | None
    weight_update: np.ndarray | None = None
    bias_update: np.ndarray | None = None
    saturated: list[SaturatedUnit] = field(default_factory=list)

    @property
    def max_difference(self) -> float:
        """max |explicit − engine| over δ, ∂R/∂W and ∂R/∂b of this layer."""
        pairs = [(self.delta, self.engine_delta), (self.weight_grad, self.engine_weight_grad)]
        if self.bias_grad is not None and self.engine_bias_grad is not None:
            pairs.append((self.bias_grad, self.engine_bias_grad))
        return max(float(np.max(np.abs(mine - theirs))) for mine, theirs in pairs)


@dataclass
class Explanation:
    """Forward and backward pass of ``x`` through a model, term by term (see the module)."""

    layers: list[LayerExplanation]
    x: np.ndarray
    y: np.ndarray
    prediction: np.ndarray
    loss: float
    loss_name: str
    optimizer_rule: str
    tolerance: float

    @property
    def max_difference(self) -> float:
        """The largest |explicit − engine| over every δ and gradient."""
        return max(layer.max_difference for layer in self.layers)

    @property
    def verified(self) -> bool:
        """True when every δ and gradient equals the engine's within ``tolerance``."""
        return self.max_difference <= self.tolerance

    @property
    def saturated(self) -> list[SaturatedUnit]:
        return [unit for layer in self.layers for unit in layer.saturated]

    def __str__(self) -> str:
        return "\n".join(_text_lines(self))

    def _repr_html_(self) -> str:
        return _html(self)

    def __repr__(self) -> str:
        return (
            f"Explanation(layers={len(self.layers)}, examples={len(self.x)}, "
            f"loss={self.loss:.6g}, verified={self.verified}, "
            f"max_difference={self.max_difference:.2e})"
        )


# ---------------------------------------------------------------------- the model's layers
@dataclass
class _Stage:
    """A built Dense layer, its weight and bias, and the activation that follows it."""

    dense: Dense
    activation: activations.Activation
    weight: Tensor
    bias: Tensor | None


def _stages(model: CompiledModel) -> list[_Stage]:
    """The model as Dense layers, each with the activation that follows it."""
    layers = getattr(model, "layers", None)
    module = getattr(model, "module", None)  # a Model wrapping a Sequential (or one layer)
    if layers is None and module is not None:
        layers = getattr(module, "layers", [module])
    if not layers:
        raise TypeError("explain needs a Sequential model of Dense and Activation layers")
    for layer in layers:
        if not isinstance(layer, (Dense, Activation, Dropout)):
            raise TypeError(
                f"explain: layers of type {type(layer).__name__} are not supported "
                "(Dense, Activation and Dropout are)"
            )
    found = pairings(layers)  # Dropout, the identity in evaluation mode, is looked through
    owners = {id(pairing.owner) for pairing in found}
    for layer in layers:
        if isinstance(layer, Activation) and id(layer) not in owners:
            raise TypeError(
                f"explain: the activation layer {layer.name!r} does not follow "
                "a Dense layer without activation"
            )
    stages: list[_Stage] = []
    for pairing in found:
        dense, activation = pairing.dense, pairing.activation
        if activation is None:
            activation = activations.get("identity")
        if isinstance(activation, (activations.PReLU, activations.Maxout)):
            raise TypeError(
                f"explain: the {activation.name} activation of {dense.name!r} is not supported"
            )
        if dense.weight is None:
            raise RuntimeError(f"explain: the layer {dense.name!r} is not built")
        stages.append(_Stage(dense, activation, dense.weight, dense.bias))
    return stages


def _vjp(
    activation: activations.Activation, z: np.ndarray, v: np.ndarray, a: np.ndarray
) -> np.ndarray:
    """Jᵀv of a non-elementwise activation (softmax, log-softmax), from its own ``vjp``."""
    vjp = getattr(activation, "vjp", None)
    if vjp is None:
        raise TypeError(
            f"explain: the {activation.name} activation is not elementwise and "
            "has no vjp(z, v, a) to give Jᵀv"
        )
    return np.asarray(vjp(z, v, a))


def _max_slope(activation: activations.Activation) -> float:
    """The largest |f'(z)| of an elementwise activation (looked up on a grid)."""
    return float(np.max(np.abs(activation.derivative(_SLOPE_GRID))))


# ---------------------------------------------------------------------- the engine's gradients
def _engine_pass(stages: list[_Stage], loss: losses.Loss, x: np.ndarray, y: np.ndarray) -> dict:
    """Forward with the engine's ops on float64 copies of the weights; the gradients of the
    cost (loss plus penalties) w.r.t. every z, W and b from ``chainrule.gradients``."""
    a = Tensor(x, dtype=np.float64)
    weights, biases, zs, outputs = [], [], [], [a]
    penalty = None
    for stage in stages:
        weight = Tensor(stage.weight.data, requires_grad=True, dtype=np.float64)
        bias = (
            None
            if stage.bias is None
            else Tensor(stage.bias.data, requires_grad=True, dtype=np.float64)
        )
        z = linear(a, weight, bias)
        a = apply_activation(stage.activation, z, None)
        if stage.dense.kernel_regularizer is not None:
            term = stage.dense.kernel_regularizer(weight)
            penalty = term if penalty is None else penalty + term
        weights.append(weight)
        biases.append(bias)
        zs.append(z)
        outputs.append(a)
    data_loss = loss(a, y)
    cost = data_loss if penalty is None else data_loss + penalty
    wanted = [*zs, *weights, *[b for b in biases if b is not None], a]
    found = list(gradients(cost, wanted, retain_graph=True, allow_unused=True))
    count = len(stages)
    z_grads, w_grads = found[:count], found[count : 2 * count]
    rest = iter(found[2 * count : -1])
    b_grads = [None if b is None else next(rest) for b in biases]
    with no_grad():
        target = loss.target(a, y)
        values = loss.values(a, target)
    return {
        "z": [t.data for t in zs],
        "a": [t.data for t in outputs],
        "z_grad": [np.zeros_like(z.data) if g is None else g.data for z, g in zip(zs, z_grads)],
        "w_grad": [
            np.zeros_like(w.data) if g is None else g.data for w, g in zip(weights, w_grads)
        ],
        "b_grad": [None if g is None else g.data for g in b_grads],
        "output_grad": None if found[-1] is None else found[-1].data,
        "target": target.data,
        "loss": float(cost.item()),
        "values_count": values.size,
        "penalty_grad": [_penalty_gradient(stage, w) for stage, w in zip(stages, weights)],
    }


def _penalty_gradient(stage: _Stage, weight: Tensor) -> np.ndarray | None:
    if stage.dense.kernel_regularizer is None:
        return None
    (grad,) = gradients(stage.dense.kernel_regularizer(weight), weight)
    assert grad is not None  # without allow_unused an unused input is an error, never None
    return grad.data


# ---------------------------------------------------------------------- the explicit backward
def _output_delta(
    activation: activations.Activation,
    loss: losses.Loss,
    z: np.ndarray,
    a: np.ndarray,
    target: np.ndarray,
    scale: float,
    output_grad: Any,
    fused: bool,
) -> tuple[np.ndarray, str, bool]:
    """δ⁽ᴸ⁾, the rule it follows, and whether f'(z⁽ᴸ⁾) multiplies it."""
    per = "" if scale == 1 else f" · {_number(scale)} (mean over {round(1 / scale)} values)"
    if fused and isinstance(loss, losses.CategoricalCrossentropy):
        probabilities = activations.get("softmax").forward(z)
        delta = probabilities * target.sum(axis=-1, keepdims=True) - target
        return delta * scale, f"ŷ − y{per}   (softmax + cross-entropy: f' cancels)", False
    if fused and isinstance(loss, losses.BinaryCrossentropy):
        delta = activations.get("sigmoid").forward(z) - target
        return delta * scale, f"ŷ − y{per}   (sigmoid + binary cross-entropy: f' cancels)", False
    if isinstance(loss, losses.MeanSquaredError):
        upstream = 2 * (a - target) * scale
        rule = f"f'(z⁽ᴸ⁾) ⊙ 2(ŷ − y){per}   (mean squared error)"
    else:
        upstream = output_grad
        rule = f"f'(z⁽ᴸ⁾) ⊙ ∂𝓛/∂ŷ   (∂𝓛/∂ŷ of {loss.name} from the engine)"
    if not activation.elementwise:
        return _vjp(activation, z, upstream, a), rule.replace("f'(z⁽ᴸ⁾) ⊙", "J(z⁽ᴸ⁾)ᵀ"), False
    return activation.derivative(z, a) * upstream, rule, True


def _loss_is_fused(loss: losses.Loss, activation: activations.Activation) -> bool:
    if not isinstance(loss, losses.ProbabilityLoss):
        return False
    if loss.from_logits:
        return activation.name == "identity"
    return loss.fuses(activation, 2)


def _saturated_units(layer: int, slope: np.ndarray, max_slope: float) -> list[SaturatedUnit]:
    flat = np.argwhere(np.abs(slope) < SATURATION_FRACTION * max_slope)
    return [
        SaturatedUnit(layer, int(unit) + 1, int(example), float(slope[example, unit]), max_slope)
        for example, unit in flat
    ]


def _backward(stages: list[_Stage], loss: losses.Loss, engine: dict) -> list[LayerExplanation]:
    count = len(stages)
    scale = 1.0 if loss.reduction == "sum" else 1.0 / engine["values_count"]
    explained: list[LayerExplanation | None] = [None] * count
    delta: np.ndarray | None = None  # δ of the layer above (the loop runs from the output)
    for l in reversed(range(count)):
        stage, z, a = stages[l], engine["z"][l], engine["a"][l + 1]
        activation = stage.activation
        slope = activation.derivative(z, a) if activation.elementwise else None
        if l == count - 1:
            delta, rule, multiplied = _output_delta(
                activation,
                loss,
                z,
                a,
                engine["target"],
                scale,
                engine["output_grad"],
                _loss_is_fused(loss, activation),
            )
        else:
            assert delta is not None  # the output layer came first
            back = delta @ stages[l + 1].weight.data.astype(np.float64)
            n = l + 1
            if slope is None:
                delta = _vjp(activation, z, back, a)
                rule = f"J(z⁽{_sup(n)}⁾)ᵀ (W⁽{_sup(n + 1)}⁾ᵀ δ⁽{_sup(n + 1)}⁾)"
            else:
                delta = slope * back
                rule = f"f'(z⁽{_sup(n)}⁾) ⊙ (W⁽{_sup(n + 1)}⁾ᵀ δ⁽{_sup(n + 1)}⁾)"
            multiplied = slope is not None
        a_prev = engine["a"][l]
        penalty = engine["penalty_grad"][l]
        weight_grad = delta.T @ a_prev + (0 if penalty is None else penalty)
        saturated = []
        if multiplied and slope is not None and activation.name != "identity":
            saturated = _saturated_units(l + 1, slope, _max_slope(activation))
        explained[l] = LayerExplanation(
            index=l + 1,
            name=stage.dense.name or f"dense_{l}",
            activation=activation,
            weight=stage.weight.data.astype(np.float64),
            bias=None if stage.bias is None else stage.bias.data.astype(np.float64),
            a_prev=a_prev,
            z=z,
            a=a,
            slope=slope,
            delta=delta,
            delta_rule=rule,
            weight_grad=weight_grad,
            bias_grad=None if stage.bias is None else delta.sum(axis=0),
            penalty_grad=penalty,
            engine_delta=engine["z_grad"][l],
            engine_weight_grad=engine["w_grad"][l],
            engine_bias_grad=engine["b_grad"][l],
            saturated=saturated,
        )
    return [layer for layer in explained if layer is not None]


# ---------------------------------------------------------------------- the optimiser's update
def _optimizer_rule(optimizer: Any) -> str:
    """What the optimiser does with a gradient, from its own docstring (one place)."""
    name = type(optimizer).__name__
    simple_sgd = (
        name == "SGD"
        and not optimizer.momentum
        and not optimizer.weight_decay
        and optimizer.clipnorm is None
    )
    if simple_sgd:
        return f"SGD: ΔW = −α·∂R/∂W, Δb = −α·∂R/∂b with α = {optimizer.lr:g}"
    doc = inspect.getdoc(type(optimizer)) or ""
    body = " ".join(doc.split("\n\n", 1)[-1].split())
    return (
        f"{optimizer!r}: {body} Computed on a copy of the optimiser and its state "
        f"(this would be step {optimizer.iterations + 1})."
    )


def _updates(
    model: CompiledModel,
    optimizer: optim.Optimizer,
    layers: list[LayerExplanation],
    stages: list[_Stage],
) -> None:
    """Each layer's ΔW and Δb: one step of a copy of the optimiser (the model is untouched)."""
    if getattr(optimizer, "requires_closure", False):
        return
    originals = list(optimizer.params) if optimizer.bound else model.parameters()
    twin = copy.deepcopy(optimizer)
    if not twin.bound:
        twin.bind(copy.deepcopy(originals))
    position = {id(p): index for index, p in enumerate(originals)}
    for twin_param in twin.params:
        twin_param.grad = None
    for layer, stage in zip(layers, stages):
        for param, grad in ((stage.weight, layer.weight_grad), (stage.bias, layer.bias_grad)):
            if param is not None and id(param) in position:
                twin_param = twin.params[position[id(param)]]
                twin_param.grad = Tensor(grad, dtype=twin_param.dtype)
    twin.step()
    for layer, stage in zip(layers, stages):
        layer.weight_update = _change(stage.weight, twin, position)
        if stage.bias is not None:
            layer.bias_update = _change(stage.bias, twin, position)


def _change(param: Tensor, twin: Any, position: dict[int, int]) -> np.ndarray | None:
    if id(param) not in position:
        return None
    after = twin.params[position[id(param)]].data
    return after.astype(np.float64) - param.data.astype(np.float64)


# ---------------------------------------------------------------------- the entry point
def _as_rows(x: Any) -> np.ndarray:
    array = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(
            f"explain: x must be one example (a vector) or rows of examples, got "
            f"shape {array.shape}"
        )
    return array


def _as_targets(y: Any, rows: int) -> np.ndarray:
    array = np.asarray(y.data if isinstance(y, Tensor) else y)
    if array.ndim == 0 or (array.ndim == 1 and rows == 1 and array.size > 1):
        array = array.reshape(1, -1) if array.ndim == 1 else array.reshape(1)
    if len(array) != rows:
        raise ValueError(f"explain: x has {rows} examples but y has {len(array)}")
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def explain(model: CompiledModel, x: Any, y: Any, tolerance: float = 1e-9) -> Explanation:
    """Backpropagation on ``x`` (one example or a few rows, raw as for ``fit``) with targets
    ``y``, term by term, verified against the engine: an ``Explanation``.

    The model must be a compiled Sequential of Dense (+ Activation, Dropout) layers; its
    preprocessing is applied to ``x``. Nothing in the model or its optimiser changes.
    """
    loss: losses.Loss | None = getattr(model, "loss", None)
    optimizer: optim.Optimizer | None = getattr(model, "optimizer", None)
    if loss is None or optimizer is None:
        raise RuntimeError(
            "explain needs a compiled model: call model.compile(loss=..., "
            "optimizer=...) first (it explains that loss and that optimiser)"
        )
    rows = _as_rows(x)
    targets = _as_targets(y, len(rows))
    if getattr(model, "preprocessing", None) is not None:
        rows = np.asarray(model.preprocessing.transform(rows), dtype=np.float64)
    model.build(rows.shape[1:])
    stages = _stages(model)
    if rows.shape[1] != stages[0].dense.input_dim:
        raise ValueError(
            f"explain: the model expects {stages[0].dense.input_dim} features per "
            f"example, x has {rows.shape[1]}"
        )
    engine = _engine_pass(stages, loss, rows, targets)
    layers = _backward(stages, loss, engine)
    _updates(model, optimizer, layers, stages)
    return Explanation(
        layers=layers,
        x=rows,
        y=engine["target"],
        prediction=engine["a"][-1],
        loss=engine["loss"],
        loss_name=loss.name,
        optimizer_rule=_optimizer_rule(optimizer),
        tolerance=tolerance,
    )


# ---------------------------------------------------------------------- text
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sup(number: int) -> str:
    return str(number).translate(_SUPERSCRIPTS)


def _number(value: float) -> str:
    text = format(float(value), ".4g")
    return "0" if text == "-0" else text


def _vector(values: np.ndarray) -> str:
    return "[" + ", ".join(_number(v) for v in values) + "]"


def _array(values: np.ndarray) -> str:
    """Small arrays in full (one row per example or per unit), large ones summarised."""
    values = np.asarray(values, dtype=np.float64)
    if values.size > FULL_DISPLAY_LIMIT:
        return (
            f"{values.shape[0]}×{values.shape[1] if values.ndim > 1 else 1} values, "
            f"min {_number(values.min())}, max {_number(values.max())}, "
            f"mean |·| {_number(np.abs(values).mean())}"
        )
    if values.ndim == 1:
        return _vector(values)
    if len(values) == 1:
        return _vector(values[0])
    return "[" + ", ".join(_vector(row) for row in values) + "]"


def _check(mine: np.ndarray, engine: np.ndarray | None) -> str:
    if engine is None:
        return ""
    return f"   ✓ engine: max |Δ| {float(np.max(np.abs(mine - engine))):.1e}"


def _layer_forward_lines(layer: LayerExplanation) -> list[str]:
    n, p = _sup(layer.index), _sup(layer.index - 1)
    width_in, width_out = layer.weight.shape[1], layer.weight.shape[0]
    act = layer.activation
    lines = [
        f"Layer {layer.index} ({layer.name}: {width_in} → {width_out}, {act.name})",
        f"  W⁽{n}⁾ = {_array(layer.weight)}",
    ]
    if layer.bias is not None:
        lines.append(f"  b⁽{n}⁾ = {_array(layer.bias)}")
    bias = f" + b⁽{n}⁾" if layer.bias is not None else ""
    lines.append(f"  z⁽{n}⁾ = W⁽{n}⁾ a⁽{p}⁾{bias} = {_array(layer.z)}")
    lines.append(f"  a⁽{n}⁾ = {act.name}(z⁽{n}⁾) = {_array(layer.a)}")
    if layer.slope is not None:
        lines.append(f"  f'(z⁽{n}⁾) = {act.derivative_formula} = {_array(layer.slope)}")
    return lines


def _layer_backward_lines(layer: LayerExplanation) -> list[str]:
    n, p = _sup(layer.index), _sup(layer.index - 1)
    penalty = " + ∂penalty/∂W" if layer.penalty_grad is not None else ""
    lines = [
        f"Layer {layer.index}",
        f"  δ⁽{n}⁾ = {layer.delta_rule} = {_array(layer.delta)}"
        f"{_check(layer.delta, layer.engine_delta)}",
        f"  ∂R/∂W⁽{n}⁾ = δ⁽{n}⁾ a⁽{p}⁾ᵀ{penalty} = {_array(layer.weight_grad)}"
        f"{_check(layer.weight_grad, layer.engine_weight_grad)}",
    ]
    if layer.bias_grad is not None:
        lines.append(
            f"  ∂R/∂b⁽{n}⁾ = δ⁽{n}⁾ = {_array(layer.bias_grad)}"
            f"{_check(layer.bias_grad, layer.engine_bias_grad)}"
        )
    if layer.weight_update is not None:
        lines.append(f"  update ΔW⁽{n}⁾ = {_array(layer.weight_update)}")
    if layer.bias_update is not None:
        lines.append(f"  update Δb⁽{n}⁾ = {_array(layer.bias_update)}")
    return lines


def _text_lines(explanation: Explanation) -> list[str]:
    examples = len(explanation.x)
    lines = [
        f"Backpropagation on {examples} example{'s' if examples > 1 else ''} "
        "(docs/math.md §2–3; batch rows, so W a is computed as a Wᵀ)",
        "",
        "Forward",
        f"  a⁽⁰⁾ = x = {_array(explanation.x)}",
    ]
    for layer in explanation.layers:
        lines += _layer_forward_lines(layer)
    lines += [
        f"  ŷ = {_array(explanation.prediction)},  y = {_array(explanation.y)}",
        f"  R = {explanation.loss_name} (+ penalties) = {_number(explanation.loss)}",
        "",
        "Backward (δ⁽ˡ⁾ = ∂R/∂z⁽ˡ⁾)",
    ]
    for layer in reversed(explanation.layers):
        lines += _layer_backward_lines(layer)
    lines += ["", f"Update: {explanation.optimizer_rule}"]
    saturated = explanation.saturated
    if saturated:
        lines += ["", f"Units with f'(z) ≈ 0 (|f'| below {SATURATION_FRACTION:.0%} of its max):"]
        lines += [f"  {unit.describe(examples)}" for unit in saturated]
    verdict = "verified" if explanation.verified else "NOT verified"
    lines += [
        "",
        f"{verdict}: every δ, ∂R/∂W and ∂R/∂b equals the engine's gradient "
        f"(chainrule.gradients, float64) within max |Δ| {explanation.max_difference:.1e}"
        f" (tolerance {explanation.tolerance:g})",
    ]
    return lines


# ---------------------------------------------------------------------- HTML
def _html(explanation: Explanation) -> str:
    """The explanation as HTML: the text lines in a <pre>, saturated units highlighted."""
    rows = []
    for line in _text_lines(explanation):
        escaped = html.escape(line)
        if "barely learns" in line:
            escaped = f'<span style="background:#fde2e2">{escaped}</span>'
        elif "✓" in line:
            escaped = escaped.replace("✓", '<span style="color:#1a7f37">✓</span>')
        rows.append(escaped)
    return (
        '<div class="chainrule-explanation"><pre style="white-space:pre-wrap">'
        + "\n".join(rows)
        + "</pre></div>"
    )
