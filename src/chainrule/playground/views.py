"""What the page draws, computed from the live network: plain lists, rounded, ready for JSON.

- ``boundary``: the network's output over a grid spanning [−DOMAIN, DOMAIN]² (the probability of
  class 1, or the predicted value for regression), row by row from the top (x₂ = DOMAIN); for
  three or more classes one such map per class, P(class j) = softmax(z)ⱼ.
- ``neuron_maps``: the same for every input feature and every hidden unit's output a, on a
  coarser grid.
- ``weights``: every Dense's W (out × in); for maxout the pieces of a unit are averaged.
- ``activation_view``: g and g' of one hidden layer's activation over z ∈ [−Z_RANGE, Z_RANGE]
  and a histogram of that layer's current z on the training inputs.
- ``health``: ``model.health(x)`` as the dead units and saturated pairs per layer and the
  advice, worded in ``PLAYGROUND``: the page's controls and its layer numbering ("Layer 2").
- ``explanation``: ``chainrule.explain`` on one raw point and its label, as plain numbers per
  layer under the page's names (Layer 1, …, Output layer).
- ``bias_variance``: the basic recipe's verdict (``chainrule.bias_variance``) from the training
  and test errors, baseline 0, advice in ``RECIPE``: the page's controls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations
from ..bias_variance import PLAYGROUND as RECIPE_WORDS
from ..bias_variance import RecipeVocabulary, diagnose
from ..diagnostics import Vocabulary
from ..explain import SATURATION_FRACTION, explain
from ..models import Sequential
from ..nn import Dense, walk
from .datasets import is_regression
from .features import feature_matrix
from .limits import DOMAIN
from .messages import Setup
from .network import MAXOUT_PIECES, RunData

#: z shown under g and g'
Z_RANGE = 5.0
CURVE_POINTS = 121
HISTOGRAM_BINS = 40
DIGITS = 4


def _rounded(array: np.ndarray) -> list[Any]:
    """Rounded plain floats; NaN and infinities (a diverged run) become JSON-safe numbers."""
    values = np.nan_to_num(np.asarray(array, dtype=np.float64), nan=0.0, posinf=1e6, neginf=-1e6)
    return np.round(values, DIGITS).tolist()


def grid_points(size: int) -> np.ndarray:
    """Raw points of a size × size grid over [−DOMAIN, DOMAIN]², top row first (x₂ high)."""
    axis = np.linspace(-DOMAIN, DOMAIN, size)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


def layer_outputs(model: Sequential, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The pre-activations z and the outputs a of every hidden layer, and the network output
    last among the z (``chainrule.nn.walk``: eval mode, without a graph)."""
    signals = walk(model, x)
    return (
        [step.z for step in signals],
        [step.a for step in signals if step.activation is not None],
    )


def boundary(model: Sequential, setup: Setup, size: int, regression: bool) -> list[Any]:
    """The output over the grid: P(class 1) for two classes, the value for regression, and for
    three or more classes the maps P(class j) = exp(zⱼ) / Σₖ exp(zₖ), one per class."""
    inputs = feature_matrix(grid_points(size), setup.features)
    output = model.predict(inputs)
    if output.shape[1] > 1:  # one logit per class
        probabilities = activations.get("softmax").forward(output.astype(np.float64))
        return [_rounded(probabilities[:, j]) for j in range(probabilities.shape[1])]
    output = output[:, 0]
    if not regression:
        output = activations.get("sigmoid").forward(output)
    return _rounded(output)


def predicted_points(
    model: Sequential, setup: Setup, points: np.ndarray | None
) -> list[list[float]] | None:
    """Rows (x₁, x₂, prediction) for the points of a CSV without classes: the class the
    network gives each (argmax of its softmax, or P(class 1) > ½), or its value (regression)."""
    if points is None:
        return None
    output = model.predict(feature_matrix(points, setup.features))
    if output.shape[1] > 1:
        predicted = output.argmax(axis=1).astype(np.float64)
    elif is_regression(setup.dataset):
        predicted = output[:, 0].astype(np.float64)
    else:
        predicted = (output[:, 0] > 0).astype(np.float64)  # logit > 0 ⇔ P(class 1) > ½
    return _rounded(np.concatenate([points, predicted[:, None]], axis=1))


def neuron_maps(model: Sequential, setup: Setup, size: int) -> dict[str, Any]:
    """Small heat maps: each input feature's value and each hidden unit's output a."""
    inputs = feature_matrix(grid_points(size), setup.features)
    _, post = layer_outputs(model, inputs)
    return {
        "inputs": [_rounded(inputs[:, column]) for column in range(inputs.shape[1])],
        "layers": [
            [_rounded(outputs[:, unit]) for unit in range(outputs.shape[1])] for outputs in post
        ],
    }


def _weight_of(layer: Dense) -> np.ndarray:
    """W of a Dense layer (the playground's networks are built when made, by build_model)."""
    if layer.weight is None:
        raise RuntimeError(f"the layer {layer.name!r} is not built")
    return layer.weight.data


def weights(model: Sequential, setup: Setup) -> list[list[list[float]]]:
    """W of every Dense (units × inputs), one row per unit shown on the page (a maxout unit's
    k pieces are consecutive rows: z[u·k], …, z[u·k + k − 1])."""
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    matrices = []
    for index, layer in enumerate(dense):
        w = _weight_of(layer)
        if index < len(setup.layers) and setup.layers[index].activation == "maxout":
            w = w.reshape(-1, MAXOUT_PIECES, w.shape[1]).mean(axis=1)
        matrices.append(_rounded(w))
    return matrices


def activation_view(
    model: Sequential, setup: Setup, layer: int, x: np.ndarray
) -> dict[str, Any] | None:
    """g, g' and the histogram of z for hidden layer ``layer`` (None without hidden layers)."""
    if not setup.layers:
        return None
    layer = min(layer, len(setup.layers) - 1)
    act = activations.get(setup.layers[layer].activation)
    view: dict[str, Any] = {
        "layer": layer,
        "name": act.name,
        "formula": act.formula,
        "derivative_formula": act.derivative_formula,
        "elementwise": act.elementwise,
    }
    pre, _ = layer_outputs(model, x)
    z = pre[layer].ravel()
    z = z[np.isfinite(z)]
    counts, _ = np.histogram(
        np.clip(z, -Z_RANGE, Z_RANGE), bins=HISTOGRAM_BINS, range=(-Z_RANGE, Z_RANGE)
    )
    view["histogram"] = counts.tolist()
    view["outside"] = int(np.sum(np.abs(z) > Z_RANGE))
    view["z_range"] = Z_RANGE
    if act.elementwise:
        grid = np.linspace(-Z_RANGE, Z_RANGE, CURVE_POINTS)
        view["z"] = _rounded(grid)
        view["g"] = _rounded(act.forward(grid))
        view["dg"] = _rounded(act.derivative(grid))
    return view


def probe(model: Sequential, setup: Setup, point: tuple[float, float]) -> dict[str, Any]:
    """Every number of the forward pass at one raw point p = (x₁, x₂), for the hover formulas:
    the input features a⁽⁰⁾ = φ(p), then per Dense layer l its W⁽ˡ⁾, b⁽ˡ⁾, the inputs a⁽ˡ⁻¹⁾
    it reads, z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and the output a⁽ˡ⁾ = f(z⁽ˡ⁾) of the activation after it
    (none after the output layer: its z is the logit, or the value for regression). Evaluation
    mode: dropout is off. A maxout unit u reads the pieces z[u·k], …, z[u·k + k − 1]."""
    inputs = feature_matrix(np.array([point], dtype=np.float64), setup.features)
    pre, post = layer_outputs(model, inputs)
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    layers = []
    reading = inputs[0]
    for index, layer in enumerate(dense):
        output = post[index][0] if index < len(post) else None
        bias = layer.bias.data if layer.bias is not None else np.zeros(layer.units)
        layers.append(
            {
                "w": _rounded(_weight_of(layer)),
                "b": _rounded(bias),
                "a_in": _rounded(reading),
                "z": _rounded(pre[index][0]),
                "a": None if output is None else _rounded(output),
                "pieces": (
                    MAXOUT_PIECES
                    if index < len(setup.layers) and setup.layers[index].activation == "maxout"
                    else 1
                ),
            }
        )
        reading = output if output is not None else pre[index][0]
    return {
        "point": [float(point[0]), float(point[1])],
        "features": _rounded(inputs[0]),
        "layers": layers,
    }


#: the basic recipe in the page's words: ``bias_variance.PLAYGROUND``, and the page's dropout
#: menu per hidden layer (the library's table predates it and offers no dropout)
RECIPE = RECIPE_WORDS
#: the page has no baseline field: the error of the best possible model is taken as 0
BASELINE_ERROR = 0.0


def _recipe(setup: Setup) -> RecipeVocabulary:
    """``RECIPE`` without "a lower Regularization rate" when the run has no penalty to lower."""
    if setup.regularization != "none" and setup.lam > 0:
        return RECIPE
    return RecipeVocabulary("playground", {**RECIPE.remedies, "less_regularisation": None})


def bias_variance(
    model: Sequential,
    setup: Setup,
    data: RunData,
    train_metrics: dict[str, float],
    test_metrics: dict[str, float],
) -> dict[str, Any] | None:
    """The basic recipe's verdict on the current network, with e* = ``BASELINE_ERROR`` = 0:

        avoidable bias = e_train − e*,   variance = e_test − e_train

    The errors are 1 − accuracy for classes, and for regression the MSE over the variance of
    the training targets, MSE / Var(y_train) (1 − R²; the MSE of the predictions, without the
    penalty that the loss adds). None when an error is not a finite number (a diverged run)."""
    if data.regression:
        scale = float(np.var(data.y_train))
        errors = [
            float(np.mean((model.predict(x).astype(np.float64) - y) ** 2)) / scale
            if scale > 0
            else float("nan")
            for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test))
        ]
        measure = "MSE ÷ variance of the training targets"
    else:
        errors = [
            1.0 - float(metrics.get("accuracy", float("nan")))
            for metrics in (train_metrics, test_metrics)
        ]
        measure = "error"
    if not all(np.isfinite(errors)):
        return None
    result = diagnose(errors[0], errors[1], BASELINE_ERROR, measure=measure, validation="test")
    words = _recipe(setup)
    return {
        "training_error": result.training_error,
        "test_error": result.validation_error,
        "baseline": result.baseline,
        "avoidable_bias": result.avoidable_bias,
        "variance": result.variance,
        "verdict": result.verdict,
        "remedies": [words.remedies[key] for key in result.remedies if words.remedies[key]],
        "figures": result.figures(),
        "advice": result.advice(words),
    }


def _plain(array: Any) -> Any:
    """The numbers unrounded (what ``explain`` computed, exactly); NaN/inf JSON-safe."""
    if array is None:
        return None
    return np.nan_to_num(
        np.asarray(array, dtype=np.float64), nan=0.0, posinf=1e6, neginf=-1e6
    ).tolist()


def _scalar(value: float) -> float:
    return float(_plain(np.float64(value)))


def nearest_label(data: RunData, point: tuple[float, float]) -> tuple[int, Any]:
    """The index of the training point nearest to ``point`` (raw x₁, x₂) and its target: a
    class for classes, the value for regression."""
    distances = np.sum((data.points_train - np.asarray(point, dtype=np.float64)) ** 2, axis=1)
    index = int(np.argmin(distances))
    target = np.asarray(data.y_train[index]).ravel()[0]
    return index, float(target) if data.regression else int(target)


def explanation(
    model: Sequential,
    setup: Setup,
    data: RunData,
    point: tuple[float, float],
    label: int | None = None,
) -> dict[str, Any]:
    """``chainrule.explain`` on the raw point p = (x₁, x₂) with the label y: the nearest
    training point's target, or ``label`` (a class the user picked). Per Dense layer l, under
    the page's name, the forward values z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and a⁽ˡ⁾ = f(z⁽ˡ⁾), the slope
    f'(z⁽ˡ⁾), δ⁽ˡ⁾ = f'(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾), ∂R/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ, ∂R/∂b⁽ˡ⁾ = δ⁽ˡ⁾, the
    optimiser's update for this one example, how far each term is from the engine's gradient,
    and the units (counted from 1) whose f'(z) is ≈ 0, so that their update vanishes. Dropout is
    off (evaluation mode). An activation ``explain`` does not cover gives ``unsupported``."""
    nearest, target = nearest_label(data, point)
    chosen = label is not None
    y = label if chosen else target
    inputs = feature_matrix(np.array([point], dtype=np.float64), setup.features)
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    names = [
        _page_layer(position, len(dense), layer.name or "") for position, layer in enumerate(dense)
    ]
    result: dict[str, Any] = {
        "point": [float(point[0]), float(point[1])],
        "features": _plain(inputs[0]),
        "label": y,
        "label_from": "chosen" if chosen else "nearest",
        "nearest": _plain(data.points_train[nearest]),
        "regression": data.regression,
        "classes": data.classes,
        "dropout": any(spec.dropout > 0 for spec in setup.layers),
        "saturation_fraction": SATURATION_FRACTION,
        "unsupported": None,
    }
    if data.regression or data.classes == 2:
        targets = np.array([[y]], dtype=np.float64)
    else:
        targets = np.array([y])
    try:
        with np.errstate(all="ignore"):
            found = explain(model, inputs, targets)
    except TypeError as problem:  # maxout, PReLU: not one slope per unit
        text = str(problem).removeprefix("explain: ")
        for layer, name in zip(dense, names):
            text = text.replace(repr(layer.name), name)
        result["unsupported"] = text
        return result
    layers = []
    for name, step in zip(names, found.layers):
        layers.append(
            {
                "name": name,
                "activation": step.activation.name,
                "z": _plain(step.z[0]),
                "a": _plain(step.a[0]),
                "slope": None if step.slope is None else _plain(step.slope[0]),
                "delta": _plain(step.delta[0]),
                "delta_rule": step.delta_rule,
                "weight_grad": _plain(step.weight_grad),
                "bias_grad": _plain(step.bias_grad),
                "weight_update": _plain(step.weight_update),
                "bias_update": _plain(step.bias_update),
                "max_difference": _scalar(step.max_difference),
                "saturated": [unit.unit for unit in step.saturated],
                "max_slope": step.saturated[0].max_slope if step.saturated else None,
            }
        )
    output = found.prediction[0].astype(np.float64)
    if data.regression:
        probabilities = None
    elif output.size > 1:
        probabilities = activations.get("softmax").forward(output)
    else:
        probabilities = activations.get("sigmoid").forward(output)
    result.update(
        {
            "layers": layers,
            "output": _plain(output),
            "probabilities": _plain(probabilities),
            "loss": _scalar(found.loss),
            "loss_name": found.loss_name,
            "penalty": any(step.penalty_grad is not None for step in found.layers),
            "optimizer_rule": found.optimizer_rule,
            "verified": found.verified,
            "max_difference": _scalar(found.max_difference),
            "tolerance": found.tolerance,
        }
    )
    return result


def _page_layer(position: int, count: int, name: str) -> str:
    """The page numbers the hidden layers from 1 and calls the last Dense the output."""
    return "Output layer" if position == count - 1 else f"Layer {position + 1}"


#: health advice in the page's words: only its controls (Learning rate, a layer's activation,
#: the − button); it has no gradient clipping, initialisation or BatchNorm to offer
PLAYGROUND = Vocabulary(
    "playground",
    {
        "lower_lr": "lower the Learning rate",
        "raise_lr": "raise the Learning rate",
        "clip": None,
        "check_data": None,
        "leaky": "choose leaky_relu or elu as this layer's activation",
        "he_init": None,
        "relu_he": "choose relu or leaky_relu as the hidden layers' activation",
        "batchnorm": None,
        "fewer_layers": "remove a hidden layer (−)",
        "small_init": None,
        "standardise": None,
        "random_init": None,
    },
    layer=_page_layer,
)


def health(model: Sequential, x: np.ndarray) -> dict[str, Any]:
    """The health report on ``x``: per hidden layer the dead units and saturated pairs (the
    same measure as the report's table), and the findings in the page's words."""
    report = model.health(x)
    return {
        "layers": [
            {
                "layer": row.layer,
                "activation": row.activation,
                "dead": row.dead,
                "saturated": row.saturated,
                "dead_units": list(row.dead_units),
                "saturated_units": list(row.saturated_units),
            }
            for row in report.rows
        ],
        "warnings": report.messages(PLAYGROUND),
        "notes": list(report.notes),
        "summary": report.summary(),
        "ok": report.ok,
    }


__all__ = [
    "activation_view",
    "boundary",
    "CURVE_POINTS",
    "DIGITS",
    "grid_points",
    "health",
    "HISTOGRAM_BINS",
    "layer_outputs",
    "neuron_maps",
    "PLAYGROUND",
    "weights",
    "Z_RANGE",
]
