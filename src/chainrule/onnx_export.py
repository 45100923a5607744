"""Export a trained model to ONNX, so it runs outside Python (onnxruntime, browsers, phones).

The exported graph computes what ``model.predict`` computes, from the same raw inputs:

- the model's preprocessing first (a ``Standardizer``: (x − μ)/s, in float64 and rounded to
  float32 as ``Standardizer.transform`` does, so the standardised rows are the same bits);
- ``Dense``: z = x Wᵀ + b is ``Gemm(transB=1)``, which takes chainrule's (out, in) weight as it is;
- ``BatchNorm`` right after a ``Dense`` without activation is folded into it at inference,
  W' = diag(s)·W, b' = s·(b − μ) + β with s = γ/√(σ² + ε) (computed in float64); elsewhere it is
  a ``BatchNormalization`` with the running statistics;
- ``Dropout`` is the identity at inference and is left out; ``Flatten`` is ``Flatten``;
- every activation of the catalog, in the form its record gives (``Activation.to_onnx``): as
  one ONNX op where one computes the same function (Relu,
  Sigmoid, Tanh, Softmax, LogSoftmax, Elu, Selu, Celu, LeakyRelu, PRelu with the learned slopes,
  HardSigmoid with α = 1/6 and β = ½ — ONNX's default 0.2 is Keras 2's function —, HardSwish,
  Mish, Softsign, Gelu exact and tanh) and as a short decomposition otherwise (silu = z·σ(z),
  relu6 and hard tanh with Clip, log σ(z) = −softplus(−z), softplus(β, threshold) with its linear
  part, maxout as the Max of its pieces);
- the output as ``predict`` gives it: probabilities after a softmax or sigmoid output layer, and
  logits when the model ends without one (a loss with ``from_logits=True`` fuses the softmax or
  sigmoid into the loss, so ``predict`` returns logits: so does the ONNX model).

The opset is the lowest the model needs, derived from the ops emitted: each node gets the lowest
opset whose ONNX schema of its op accepts it (``onnx.checker.check_node``), no lower than
``FLOOR_OPSET``; the model's opset is the highest of those. Mish needs 18, Gelu 20, HardSwish 14,
Celu 12, Clip with bounds as inputs (and Gemm without bias) 11, a ReLU network 7. The IR version
is pinned to the lowest one that opset needs (``make_model`` would write the newest, which
older runtimes refuse). The model passes ``onnx.checker.check_model(full_check=True)`` and is
written atomically. A layer or activation without an ONNX form is an ``OnnxExportError`` naming
it. Needs the ``onnx`` extra: ``pip install "chainrule[onnx]"``.

The graph computes in the model's dtype: float32, or float64 for a model built with the
default dtype float64 (inputs, weights and output all double). onnxruntime has no float64
kernel for Elu, Selu, Celu, LeakyRelu, PRelu, HardSigmoid, HardSwish, Softsign, Softplus,
Mish and Erf (so Gelu), so a float64 graph writes those as their decompositions into ops it
has (``FLOAT64_DECOMPOSITIONS``: max/min parts, e^min(z, 0), z/(1 + |z|), max(z, 0) +
log(1 + e^(−|z|)), Φ by Cody's rational approximations as ``chainrule.special`` computes
it, the tanh GELU as z·σ(2u) like ``GELUTanh``), and uses Max, Min (opset 8) and Clip
(opset 12) only where onnxruntime has their float64 kernels (``FLOAT64_SINCE``). A model
whose parameters mix dtypes, or are neither float32 nor float64, is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import activations, losses, special
from ._version import __version__
from .activations import modern
from .activations.modern import SELU_ALPHA, SELU_SCALE
from .atomic import write_bytes_atomically
from .datasets import Standardizer
from .errors import OnnxExportError, OpsetError
from .models import Sequential
from .nn.layers import Activation, BatchNorm, Dense, Dropout, Flatten, Layer, Maxout, PReLU
from .nn.module import Module
from .training import Model

#: No opset below this one: ONNX's NumPy-style broadcasting of Add/Sub/Mul/Div, Gemm's broadcast
#: bias and PRelu's broadcast slopes are opset 7's, and onnxruntime runs nothing older.
FLOOR_OPSET = 7
#: IR version 4 is the first where initializers need not be listed as graph inputs.
FLOOR_IR_VERSION = 4
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def import_onnx() -> Any:
    """The ``onnx`` package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            'ONNX export needs the onnx package: pip install "chainrule[onnx]"'
        ) from error
    return onnx


@dataclass(frozen=True)
class OnnxExport:
    """What ``export_onnx`` wrote: the file, its opset and IR version, the shapes (without the
    batch axis), what the output holds and the dtype it computes in."""

    path: str
    opset: int
    ir_version: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    output: str
    dtype: str = "float32"  # of the input and the output: the model's parameters' dtype


# ---------------------------------------------------------------------- the graph being built
@dataclass
class _Emitted:
    node: Any
    owner: str  # "layer 'dense' (mish)": named in errors about the opset
    since: int  # the lowest opset whose semantics of the op are the ones wanted


class _Graph:
    """Nodes and initializers of the graph under construction, with unique value names, in
    the model's floating-point ``dtype`` (float32 or float64)."""

    def __init__(self, onnx: Any, dtype: Any = np.float32) -> None:
        self.onnx = onnx
        self.dtype = np.dtype(dtype)
        self.emitted: list[_Emitted] = []
        self.initializers: list[Any] = []
        self.owner = ""
        self.scope = ""
        self._taken: set[str] = {INPUT_NAME, OUTPUT_NAME}

    def _unique(self, base: str) -> str:
        name, index = base, 1
        while name in self._taken:
            name, index = f"{base}_{index}", index + 1
        self._taken.add(name)
        return name

    def constant(self, label: str, value: Any, dtype: Any = None) -> str:
        """An initializer holding ``value`` (as ``dtype``, by default the graph's); returns its
        name."""
        name = self._unique(f"{self.scope}.{label}" if self.scope else label)
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(
        self, op_type: str, inputs: list[str], since: int = FLOOR_OPSET, **attributes: Any
    ) -> str:
        """Append a node computing ``op_type(inputs)``; returns the name of its output.
        ``since``: an opset below which the op means something else than wanted. In a float64
        graph, an op that onnxruntime has no float64 kernel for is written as its
        decomposition (``FLOAT64_DECOMPOSITIONS``), or at the first opset where it has one
        (``FLOAT64_SINCE``)."""
        if self.dtype == np.float64:
            decomposition = FLOAT64_DECOMPOSITIONS.get(op_type)
            written = None if decomposition is None else decomposition(self, inputs, **attributes)
            if written is not None:
                return written
            since = max(since, FLOAT64_SINCE.get(op_type, since))
        output = self._unique(f"{self.scope}/{op_type}" if self.scope else op_type)
        node = self.onnx.helper.make_node(op_type, inputs, [output], name=output, **attributes)
        self.emitted.append(_Emitted(node, self.owner, since))
        return output

    def rename_output(self, value: str) -> None:
        """Make ``value`` the graph's output (through an Identity when no node of ours produces
        it: a model of Dropout layers alone)."""
        producer = next((e.node for e in self.emitted if value in e.node.output), None)
        if producer is None:
            value = self.op("Identity", [value])
            producer = self.emitted[-1].node
        producer.output[list(producer.output).index(value)] = OUTPUT_NAME


# ---------------------------------------------------------------------- activations
def _lower_activation(
    graph: _Graph, activation: Any, x: str, shape: tuple[int, ...], slopes: Any = None
) -> str:
    """The activation's own ONNX form (``Activation.to_onnx``, on its record)."""
    slope_values = None if slopes is None else np.asarray(slopes.data)
    try:
        return activation.to_onnx(graph, x, shape, slope_values)
    except (NotImplementedError, ValueError) as error:
        raise OnnxExportError(f"{graph.owner}: {error}") from None


# ---------------------------------------------------------------------- layers
def _gemm(graph: _Graph, x: str, weight: np.ndarray, bias: np.ndarray | None) -> str:
    """z = x Wᵀ + b: Gemm(transB=1) takes the (out, in) weight unchanged."""
    inputs = [x, graph.constant("weight", weight)]
    if bias is not None:
        inputs.append(graph.constant("bias", bias))
    return graph.op("Gemm", inputs, transB=1)


def _weight(dense: Dense) -> np.ndarray:
    """The Dense layer's W (``_input_shape`` has refused a model that is not built)."""
    if dense.weight is None:
        raise OnnxExportError(f"{_describe(dense)} is not built yet")
    return dense.weight.data


def _folded_batch_norm(dense: Dense, norm: BatchNorm) -> tuple[np.ndarray, np.ndarray]:
    """W' = diag(s)·W and b' = s·(b − μ) + β, s = γ/√(σ² + ε), in float64: the Dense followed
    by the BatchNorm at inference as one affine map."""
    weight = np.asarray(_weight(dense), dtype=np.float64)
    bias = (
        np.zeros(dense.units)
        if dense.bias is None
        else np.asarray(dense.bias.data, dtype=np.float64)
    )
    gamma = 1.0 if norm.weight is None else np.asarray(norm.weight.data, dtype=np.float64)
    beta = 0.0 if norm.bias is None else np.asarray(norm.bias.data, dtype=np.float64)
    scale = gamma / np.sqrt(np.asarray(norm.running_var, dtype=np.float64) + norm.eps)
    mean = np.asarray(norm.running_mean, dtype=np.float64)
    return weight * scale[:, None], scale * (bias - mean) + beta


def _lower_dense(
    graph: _Graph, layer: Dense, x: str, shape: tuple[int, ...], folded: BatchNorm | None
) -> str:
    if folded is None:
        bias = None if layer.bias is None else layer.bias.data
        z = _gemm(graph, x, _weight(layer), bias)
    else:
        z = _gemm(graph, x, *_folded_batch_norm(layer, folded))
    if layer.activation is None:
        return z
    return _lower_activation(graph, layer.activation, z, (layer.units,), layer.alpha)


def _lower_batch_norm(graph: _Graph, layer: BatchNorm, x: str, shape: tuple[int, ...]) -> str:
    """y = γ(x − μ)/√(σ² + ε) + β with the running statistics: BatchNormalization."""
    features = shape[0]
    gamma = np.ones(features) if layer.weight is None else layer.weight.data
    beta = np.zeros(features) if layer.bias is None else layer.bias.data
    inputs = [
        x,
        graph.constant("weight", gamma),
        graph.constant("bias", beta),
        graph.constant("running_mean", layer.running_mean),
        graph.constant("running_var", layer.running_var),
    ]
    return graph.op("BatchNormalization", inputs, epsilon=layer.eps)


def _lower_layer(
    graph: _Graph, layer: Layer, x: str, shape: tuple[int, ...], folded: BatchNorm | None
) -> str:
    if type(layer) is Dense:
        return _lower_dense(graph, layer, x, shape, folded)
    if type(layer) is Activation:
        return _lower_activation(graph, layer.activation, x, shape, layer.alpha)
    if type(layer) is PReLU:
        return _lower_activation(graph, activations.get("prelu"), x, shape, layer.alpha)
    if type(layer) is Maxout:
        z = _lower_dense(graph, layer.linear, x, shape, None)
        return _lower_activation(
            graph, activations.get("maxout", pieces=layer.pieces), z, (layer.units * layer.pieces,)
        )
    if type(layer) is BatchNorm:
        return _lower_batch_norm(graph, layer, x, shape)
    if type(layer) is Flatten:
        return graph.op("Flatten", [x], axis=1)
    own_form = getattr(layer, "to_onnx", None)  # a layer of one's own: to_onnx(graph, x, shape)
    if callable(own_form):
        return str(own_form(graph, x, shape))
    raise OnnxExportError(
        f"{graph.owner} has no ONNX form (exported layers: Dense, "
        "Activation, PReLU, Maxout, Dropout, BatchNorm, Flatten)"
    )


def _layers(model: Module) -> list[Layer]:
    """The layers of a Sequential (nested ones unpacked), or the one layer a Model wraps."""
    if isinstance(model, Sequential):
        return [inner for layer in model.layers for inner in _layers(layer)]
    if type(model) is Model and model.module is not None:
        return _layers(model.module)
    if isinstance(model, Layer):
        return [model]
    raise OnnxExportError(
        f"only Sequential models of chainrule's layers can be exported, not "
        f"a {type(model).__name__}"
    )


def _describe(layer: Module) -> str:
    name = getattr(layer, "name", None) or type(layer).__name__.lower()
    activation = getattr(layer, "activation", None)
    kind = type(layer).__name__ + ("" if activation is None else f", {activation.name}")
    return f"layer {name!r} ({kind})"


def _input_shape(model: Module, layers: list[Layer]) -> tuple[int, ...]:
    shape = getattr(model, "input_shape", None)
    if shape is None:
        first = layers[0]
        width = getattr(first, "input_dim", None) or getattr(
            getattr(first, "linear", None), "input_dim", None
        )
        shape = None if width is None else (int(width),)
    if shape is None or not all(getattr(layer, "built", True) for layer in layers):
        raise OnnxExportError(
            "the model is not built yet (its input width is unknown): fit "
            "it, or give the first layer input_dim"
        )
    return tuple(int(s) for s in shape)


def float_dtype(model: Module) -> np.dtype:
    """The one floating-point dtype of the model's parameters (float32 or float64), which the
    exported graph computes in; a model without parameters uses the default dtype."""
    from .dtypes import get_default_dtype

    dtypes = sorted({str(p.dtype) for p in model.parameters()} or {get_default_dtype().name})
    if len(dtypes) > 1 or dtypes[0] not in ("float32", "float64"):
        raise OnnxExportError(
            f"ONNX export writes float32 or float64 models; this model has "
            f"{' and '.join(dtypes)} parameters"
        )
    return np.dtype(dtypes[0])


def _lower_preprocessing(graph: _Graph, preprocessing: Any, x: str) -> str:
    """(x − μ)/s in float64, rounded to float32: the bits ``Standardizer.transform`` gives
    (float32 also for a float64 model, whose graph then widens them again)."""
    if preprocessing is None:
        return x
    if type(preprocessing) is not Standardizer or not preprocessing.fitted:
        raise OnnxExportError(
            f"the model's preprocessing ({preprocessing!r}) has no ONNX form "
            "(a fitted Standardizer has)"
        )
    graph.owner, graph.scope = "the preprocessing (Standardizer)", "preprocessing"
    double, single = graph.onnx.TensorProto.DOUBLE, graph.onnx.TensorProto.FLOAT
    wide = x if graph.dtype == np.float64 else graph.op("Cast", [x], to=double)
    centred = graph.op("Sub", [wide, graph.constant("mean", preprocessing.mean, np.float64)])
    scaled = graph.op("Div", [centred, graph.constant("scale", preprocessing.scale, np.float64)])
    rounded = graph.op("Cast", [scaled], to=single)
    return rounded if graph.dtype == np.float32 else graph.op("Cast", [rounded], to=double)


def _lower_model(graph: _Graph, model: Module) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Emit the whole model; returns the input and output shapes (without the batch axis)."""
    every_layer = _layers(model)
    if not every_layer:
        raise OnnxExportError("the model has no layers to export")
    input_shape = _input_shape(model, every_layer)
    layers = [layer for layer in every_layer if type(layer) is not Dropout]
    value = _lower_preprocessing(graph, getattr(model, "preprocessing", None), INPUT_NAME)
    shape, index = input_shape, 0
    while index < len(layers):
        layer = layers[index]
        following = layers[index + 1] if index + 1 < len(layers) else None
        folded = (
            following
            if type(layer) is Dense and layer.activation is None and type(following) is BatchNorm
            else None
        )
        graph.owner, graph.scope = _describe(layer), layer.name or ""
        value = _lower_layer(graph, layer, value, shape, folded)
        for consumed in (layer,) if folded is None else (layer, folded):
            shape = consumed.output_shape(shape)
        index += 1 if folded is None else 2
    graph.rename_output(value)
    return input_shape, shape


# ---------------------------------------------------------------------- float64 forms
# onnxruntime (1.32, CPU) has float32 kernels only for these ops: in a float64 graph each is
# written with ops it has float64 kernels for (Max, Min, Exp, Log, Abs, Tanh, Where, ...).
Decomposition = Callable[..., "str | None"]


def _positive_and_negative_parts(graph: _Graph, x: str) -> tuple[str, str]:
    """max(z, 0) and min(z, 0) (Max and Min broadcast from opset 8)."""
    zero = graph.constant("zero", 0.0)
    return (graph.op("Max", [x, zero], since=8), graph.op("Min", [x, zero], since=8))


def _exponential_branch(graph: _Graph, x: str, alpha: float, divisor: float) -> str:
    """max(z, 0) + α(e^(min(z, 0)/d) − 1): ELU (d = 1) and CELU (d = α); the exponent is
    never positive, so it never overflows, and the second term is exactly 0 for z ≥ 0."""
    positive, negative = _positive_and_negative_parts(graph, x)
    if divisor != 1.0:
        negative = graph.op("Div", [negative, graph.constant("alpha", divisor)])
    exp = graph.op("Sub", [graph.op("Exp", [negative]), graph.constant("one", 1.0)])
    return graph.op("Add", [positive, graph.op("Mul", [exp, graph.constant("alpha", alpha)])])


def _elu64(graph: _Graph, inputs: list[str], alpha: float = 1.0) -> str:
    """z if z > 0, α(e^z − 1) otherwise."""
    return _exponential_branch(graph, inputs[0], alpha, 1.0)


def _selu64(
    graph: _Graph, inputs: list[str], alpha: float = SELU_ALPHA, gamma: float = SELU_SCALE
) -> str:
    """λ·elu_α(z)."""
    return graph.op("Mul", [_elu64(graph, inputs, alpha), graph.constant("gamma", gamma)])


def _celu64(graph: _Graph, inputs: list[str], alpha: float = 1.0) -> str:
    """max(0, z) + α(e^(min(z, 0)/α) − 1)."""
    return _exponential_branch(graph, inputs[0], alpha, alpha)


def _leaky_relu64(graph: _Graph, inputs: list[str], alpha: float = 0.01) -> str:
    """max(z, 0) + α·min(z, 0)."""
    positive, negative = _positive_and_negative_parts(graph, inputs[0])
    return graph.op("Add", [positive, graph.op("Mul", [negative, graph.constant("alpha", alpha)])])


def _prelu64(graph: _Graph, inputs: list[str]) -> str:
    """max(z, 0) + γᵢ·min(z, 0) with the slopes input."""
    positive, negative = _positive_and_negative_parts(graph, inputs[0])
    return graph.op("Add", [positive, graph.op("Mul", [negative, inputs[1]])])


def _hard_sigmoid64(graph: _Graph, inputs: list[str], alpha: float = 0.2, beta: float = 0.5) -> str:
    """min(max(αz + β, 0), 1)."""
    line = graph.op(
        "Add",
        [
            graph.op("Mul", [inputs[0], graph.constant("alpha", alpha)]),
            graph.constant("beta", beta),
        ],
    )
    return graph.op(
        "Min",
        [graph.op("Max", [line, graph.constant("zero", 0.0)], since=8), graph.constant("one", 1.0)],
        since=8,
    )


def _hard_swish64(graph: _Graph, inputs: list[str]) -> str:
    """z·hard_sigmoid(z) with α = 1/6, β = ½ (ONNX's HardSwish)."""
    return graph.op("Mul", [inputs[0], _hard_sigmoid64(graph, inputs, 1.0 / 6.0, 0.5)])


def _softsign64(graph: _Graph, inputs: list[str]) -> str:
    """z/(1 + |z|)."""
    x = inputs[0]
    return graph.op("Div", [x, graph.op("Add", [graph.op("Abs", [x]), graph.constant("one", 1.0)])])


def _softplus64(graph: _Graph, inputs: list[str]) -> str:
    """log(1 + e^z) = max(z, 0) + log(1 + e^(−|z|)), which never overflows."""
    x = inputs[0]
    positive, _ = _positive_and_negative_parts(graph, x)
    tail = graph.op("Exp", [graph.op("Neg", [graph.op("Abs", [x])])])
    return graph.op(
        "Add", [positive, graph.op("Log", [graph.op("Add", [tail, graph.constant("one", 1.0)])])]
    )


def _mish64(graph: _Graph, inputs: list[str]) -> str:
    """z·tanh(softplus(z))."""
    return graph.op("Mul", [inputs[0], graph.op("Tanh", [_softplus64(graph, inputs)])])


def _polynomial(
    graph: _Graph, x: str, leading: float, coefficients: Sequence[float], constant: float
) -> str:
    """((leading·x + c₀)·x + c₁)·x … + constant, Horner's rule as ``special`` evaluates it."""
    value = graph.op("Mul", [x, graph.constant("c", leading)])
    for coefficient in coefficients:
        value = graph.op("Mul", [graph.op("Add", [value, graph.constant("c", coefficient)]), x])
    return graph.op("Add", [value, graph.constant("c", constant)])


def _normal_cdf64(graph: _Graph, x: str) -> str:
    """Φ(z) by Cody's rational approximations, as ``chainrule.special.normal_cdf`` computes
    it (without its exact-square split of e^(−z²/2), which only matters for the relative
    accuracy of Φ in the far left tail): ½ + ½·erf(t), t = z/√2, for |t| ≤ 0.46875; else
    r = ½·e^(−z²/2)·E(|t|) with E(y) = e^(y²)·erfc(y) (Cody's middle form for y ≤ 4, his tail
    form beyond), and Φ = r for z < 0, 1 − r for z > 0."""
    t = graph.op("Mul", [x, graph.constant("inv_sqrt2", special._INV_SQRT2)])
    y = graph.op("Abs", [t])
    square = graph.op("Mul", [y, y])
    small_num = _polynomial(graph, square, special._A[4], special._A[:3], special._A[3])
    small_den = _polynomial(graph, square, 1.0, special._B[:3], special._B[3])
    erf_small = graph.op("Div", [graph.op("Mul", [t, small_num]), small_den])
    small = graph.op(
        "Add",
        [graph.op("Mul", [erf_small, graph.constant("half", 0.5)]), graph.constant("half", 0.5)],
    )
    mid = graph.op(
        "Div",
        [
            _polynomial(graph, y, special._C[8], special._C[:7], special._C[7]),
            _polynomial(graph, y, 1.0, special._D[:7], special._D[7]),
        ],
    )
    z = graph.op("Reciprocal", [square])
    tail_ratio = graph.op(
        "Div",
        [
            _polynomial(graph, z, special._P[5], special._P[:4], special._P[4]),
            _polynomial(graph, z, 1.0, special._Q[:4], special._Q[4]),
        ],
    )
    tail = graph.op(
        "Div",
        [
            graph.op(
                "Sub", [graph.constant("sqrpi", special._SQRPI), graph.op("Mul", [z, tail_ratio])]
            ),
            y,
        ],
    )
    in_mid = graph.op("Not", [graph.op("Greater", [y, graph.constant("four", special._FOUR)])])
    scaled = graph.op("Where", [in_mid, mid, tail])
    gauss = graph.op("Exp", [graph.op("Neg", [square])])  # e^(−t²) = e^(−z²/2)
    r = graph.op("Mul", [graph.op("Mul", [gauss, scaled]), graph.constant("half", 0.5)])
    large = graph.op(
        "Where",
        [
            graph.op("Less", [x, graph.constant("zero", 0.0)]),
            r,
            graph.op("Sub", [graph.constant("one", 1.0), r]),
        ],
    )
    is_small = graph.op(
        "Not", [graph.op("Greater", [y, graph.constant("threshold", special._THRESH)])]
    )
    return graph.op("Where", [is_small, small, large])


def _tanh_gelu_weight(graph: _Graph, x: str) -> str:
    """σ(2u) = (1 + tanh u)/2, u = √(2/π)(z + 0.044715z³) at z clipped to ±30, as
    ``GELUTanh`` computes it (onnxruntime's float64 Gelu(approximate="tanh") is only accurate
    to about 5e-9)."""
    bound = modern._GELU_TANH_SATURATION
    clipped = graph.op(
        "Min", [graph.op("Max", [x, graph.constant("low", -bound)]), graph.constant("high", bound)]
    )
    cube = graph.op("Mul", [graph.op("Mul", [clipped, clipped]), clipped])
    inner = graph.op(
        "Add", [clipped, graph.op("Mul", [cube, graph.constant("cubic", modern._GELU_CUBIC)])]
    )
    twice_u = graph.op("Mul", [inner, graph.constant("scale", 2 * modern._SQRT_2_OVER_PI)])
    return graph.op("Sigmoid", [twice_u])


def _gelu64(graph: _Graph, inputs: list[str], approximate: str = "none") -> str:
    """z·Φ(z) (exact) or z·σ(2u) (tanh), with z taken as 0 where the weight is 0, as
    ``modern.zero_where_vanished`` does (gelu(−∞) = 0)."""
    x = inputs[0]
    weight = _normal_cdf64(graph, x) if approximate == "none" else _tanh_gelu_weight(graph, x)
    vanished = graph.op("Equal", [weight, graph.constant("zero", 0.0)], since=11)  # on floats
    factor = graph.op("Where", [vanished, graph.constant("zero", 0.0), x])
    return graph.op("Mul", [factor, weight])


#: The first opset at which onnxruntime has float64 kernels for these ops.
FLOAT64_SINCE = {"Max": 8, "Min": 8, "Clip": 12}

FLOAT64_DECOMPOSITIONS: dict[str, Decomposition] = {
    "Elu": _elu64,
    "Selu": _selu64,
    "Celu": _celu64,
    "LeakyRelu": _leaky_relu64,
    "PRelu": _prelu64,
    "HardSigmoid": _hard_sigmoid64,
    "HardSwish": _hard_swish64,
    "Softsign": _softsign64,
    "Softplus": _softplus64,
    "Mish": _mish64,
    "Gelu": _gelu64,
}


# ---------------------------------------------------------------------- opset and model
def lowest_opset(onnx: Any, node: Any, floor: int = FLOOR_OPSET) -> int | None:
    """The lowest opset ≥ ``floor`` whose schema of ``node``'s op accepts it (attributes, number
    of inputs), by ``onnx.checker.check_node``; None when no opset onnx knows does."""
    for version in range(floor, onnx.defs.onnx_opset_version() + 1):
        context = onnx.checker.C.CheckerContext()
        context.ir_version = onnx.IR_VERSION
        context.opset_imports = {"": version}
        try:
            onnx.checker.check_node(node, context)
        except onnx.checker.ValidationError:
            continue
        return version
    return None


def _chosen_opset(onnx: Any, emitted: list[_Emitted], requested: int | None) -> int:
    needs: list[tuple[int, _Emitted]] = []
    for entry in emitted:
        version = lowest_opset(onnx, entry.node, entry.since)
        if version is None:
            raise OnnxExportError(
                f"{entry.owner}: the installed onnx {onnx.__version__} has no "
                f"opset with {entry.node.op_type}"
            )
        needs.append((version, entry))
    top: tuple[int, _Emitted | None] = (
        max(needs, key=lambda pair: pair[0]) if needs else (FLOOR_OPSET, None)
    )
    needed, neediest = top
    if requested is None:
        return needed
    latest = onnx.defs.onnx_opset_version()
    if not FLOOR_OPSET <= requested <= latest:
        raise OpsetError(
            f"opset {requested} is out of range: the export writes opsets "
            f"{FLOOR_OPSET} to {latest} (the newest the installed onnx knows)"
        )
    if neediest is not None and requested < needed:  # needed > FLOOR_OPSET: a node needs it
        raise OpsetError(
            f"opset {requested} is too low for this model: {neediest.owner} "
            f"needs opset {needed} (ONNX {neediest.node.op_type})"
        )
    return int(requested)


def output_meaning(model: Module) -> str:
    """What the exported output holds: what ``predict`` returns (logits when the loss is
    computed from them)."""
    loss = getattr(model, "loss", None)
    if not getattr(loss, "from_logits", False):
        return "what model.predict returns"
    squash = "a sigmoid" if isinstance(loss, losses.BinaryCrossentropy) else "a softmax"
    return (
        f"logits, as model.predict returns them ({type(loss).__name__} is computed from "
        f"logits; apply {squash} for probabilities)"
    )


def to_onnx(model: Module, opset: int | None = None) -> Any:
    """The ONNX ``ModelProto`` of ``model`` (checked by ``onnx.checker`` with full_check), at the
    lowest opset it needs, or at ``opset`` (which must be at least that)."""
    onnx = import_onnx()

    graph = _Graph(onnx, float_dtype(model))
    input_shape, output_shape = _lower_model(graph, model)
    chosen = _chosen_opset(onnx, graph.emitted, opset)
    helper = onnx.helper
    element = helper.np_dtype_to_tensor_dtype(graph.dtype)  # the model's float type
    body = helper.make_graph(
        [entry.node for entry in graph.emitted],
        getattr(model, "name", None) or "chainrule",
        [
            helper.make_tensor_value_info(
                INPUT_NAME,
                element,
                ["N", *input_shape],
                doc_string="raw inputs, as given to model.predict",
            )
        ],
        [
            helper.make_tensor_value_info(
                OUTPUT_NAME, element, ["N", *output_shape], doc_string=output_meaning(model)
            )
        ],
        initializer=graph.initializers,
    )
    opsets = [helper.make_opsetid("", chosen)]
    ir_version = max(FLOOR_IR_VERSION, helper.find_min_ir_version_for(opsets))
    proto = helper.make_model(
        body,
        opset_imports=opsets,
        ir_version=ir_version,
        producer_name="chainrule",
        producer_version=__version__,
        doc_string=f"Exported by chainrule; output: {output_meaning(model)}.",
    )
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise OnnxExportError(
            f"the exported graph at opset {chosen} fails onnx.checker: {first_line}"
        ) from error
    return proto


def export_onnx(
    model: Module, path: str | os.PathLike[str], opset: int | None = None
) -> OnnxExport:
    """Write ``model`` to ``path`` as an ONNX file (atomically): see the module's docstring."""
    proto = to_onnx(model, opset)
    write_bytes_atomically(path, proto.SerializeToString())
    graph = proto.graph
    return OnnxExport(
        path=os.fspath(path),
        opset=proto.opset_import[0].version,
        ir_version=proto.ir_version,
        input_shape=_shape_of(graph.input[0]),
        output_shape=_shape_of(graph.output[0]),
        output=output_meaning(model),
        dtype=float_dtype(model).name,
    )


def _shape_of(value_info: Any) -> tuple[int, ...]:
    return tuple(d.dim_value for d in value_info.type.tensor_type.shape.dim[1:])


__all__ = [
    "FLOOR_OPSET",
    "OnnxExport",
    "OnnxExportError",
    "OpsetError",
    "export_onnx",
    "import_onnx",
    "lowest_opset",
    "output_meaning",
    "to_onnx",
]
