"""The forward and backward pass of a small Dense network as one Numba kernel.

For a network like XOR's 2-8-1, a compiled step is ~16 NumPy calls of ~1–3 µs each on arrays
of a few dozen entries: the calls, not the arithmetic, are the step. With
``compile(kernels="numba")``, a program whose model is a ``Sequential`` of ``Dense`` layers
(ReLU, tanh, sigmoid or no activation; logits out) trained on mean squared error or a
cross-entropy from logits, at most ``MAX_WIDTH`` units wide and ``MAX_ROWS`` rows per batch,
runs its forward and backward kernels as one call, ``chainrule.fast``'s ``dense_network``
(the finiteness check and the optimiser's update are the program's, unchanged).

The contract is not bit-identity: the kernel sums products in loop order (BLAS uses its own
order and fused multiply-adds) and uses Numba's tanh, exp and log1p. Before the program uses
it, the kernel runs once on the traced batch beside the NumPy kernels, and every gradient
entry and the loss must agree within ``ULPS`` units of the dtype's epsilon relative to the
largest gradient (the loss: to its own size); otherwise the program keeps its NumPy kernels.
Measured on the XOR step: the parameters after one step differ by at most a few ulp.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .losses import BinaryCrossentropy, CategoricalCrossentropy, MeanSquaredError
from .nn.layers import Dense

MAX_WIDTH = 64  # beyond this, BLAS's matrix products beat the kernel's loops
MAX_ROWS = 256
ULPS = 1024  # the agreement asked of the kernel, in epsilons of the largest gradient
_ACTIVATION_CODES = {None: 0, "identity": 0, "relu": 1, "tanh": 2, "sigmoid": 3}


def _loss_code(loss: Any) -> int | None:
    """0 MSE, 1 binary and 2 softmax cross-entropy from logits (mean); None for the rest."""
    if getattr(loss, "reduction", None) != "mean":
        return None
    if type(loss) is MeanSquaredError:
        return 0
    if type(loss) is BinaryCrossentropy and loss.from_logits:
        return 1
    if isinstance(loss, CategoricalCrossentropy) and loss.from_logits and loss.axis in (-1, 1):
        return 2
    return None


def _activation_code(layer: Dense) -> int | None:
    activation = layer.activation
    if activation is None:
        return 0
    if activation._subgradient_values is not None or activation.params:
        return None  # a kink value or parameters of one's own: the catalog's kernels
    return _ACTIVATION_CODES.get(activation.name)


def _offset(view: np.ndarray, base: np.ndarray) -> int | None:
    """Where the C-contiguous ``view`` starts in the 1-d ``base``, in entries (None if not in)."""
    if view.base is not base or not view.flags.c_contiguous:
        return None
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return start // base.itemsize


def install(model: Any, program: Any, x: np.ndarray, y: np.ndarray) -> bool:
    """Replace the program's forward and backward kernels by one ``dense_network`` call when
    the model is such a network and the kernel agrees with them on (x, y); True if it did."""
    layers = getattr(model, "layers", None)
    theta, grad = program._flat_parameters, program._flat
    loss_code = _loss_code(getattr(model, "loss", None))
    if (
        not layers
        or loss_code is None
        or theta is None
        or grad is None
        or program._on_demand
        or program._weights is not None
        or program._updates
        or program._sources
        or x.ndim != 2
        or not 0 < len(x) <= MAX_ROWS
        or x.dtype != theta.dtype
        or any(type(layer) is not Dense or layer.bias is None for layer in layers)
        or any(layer.kernel_regularizer is not None for layer in layers)
    ):
        return False
    params = list(model.parameters())
    expected = [p for layer in layers for p in (layer.weight, layer.bias)]
    if len(params) != len(expected) or any(a is not b for a, b in zip(params, expected)):
        return False
    codes = [_activation_code(layer) for layer in layers]
    widths = [x.shape[1]] + [layer.units for layer in layers]
    if None in codes or codes[-1] != 0 or max(widths) > MAX_WIDTH:
        return False
    gradients = {id(param): g.data for param, g in program._grads if g is not None}
    layout = []
    first, column = 0, widths[0]
    for layer in layers:
        offsets = [
            _offset(layer.weight.data, theta),
            _offset(layer.bias.data, theta),
            _offset(gradients.get(id(layer.weight), theta), grad),
            _offset(gradients.get(id(layer.bias), theta), grad),
        ]
        if None in offsets:
            return False
        layout.append(offsets + [layer.input_dim, layer.units, first, column])
        first, column = column, column + layer.units
    from .fast import load

    kernel = load()["dense_network"]
    dtype = theta.dtype
    rows, classes = len(x), widths[-1]
    scale = dtype.type(1) / dtype.type(rows if loss_code == 2 else rows * classes)
    layout_array = np.array(layout, dtype=np.int64)
    codes_array = np.array(codes, dtype=np.int64)
    outputs = np.empty((rows, column), dtype)
    deltas = np.empty((2, rows, max(widths)), dtype)
    prediction = np.empty((rows, classes), dtype)
    arrays = program._arrays
    x_slot, target_slot, total_slot = program._x_slot, program._target_slot, program._total_slot
    one = dtype.type(1)

    def run() -> None:
        arrays[total_slot] = kernel(
            arrays[x_slot],
            arrays[target_slot],
            theta,
            grad,
            layout_array,
            codes_array,
            loss_code,
            scale,
            one,
            outputs,
            deltas,
            prediction,
        )

    # The NumPy kernels' answer on the traced batch, then the kernel's: they must agree.
    x = np.ascontiguousarray(x)
    with np.errstate(all="ignore"):
        expected_loss = program.forward(x, y)
        program.backward()
        expected_grad = grad.copy()
        expected_prediction = np.array(program.prediction, copy=True)
        target = arrays[target_slot]
        if target.shape != prediction.shape or target.dtype != dtype:
            return False
        run()
    epsilon = float(np.finfo(dtype).eps)
    size = float(np.max(np.abs(expected_grad), initial=0.0))
    if not (
        np.all(np.isfinite(expected_grad))
        and np.allclose(grad, expected_grad, rtol=0.0, atol=ULPS * epsilon * max(size, 1e-30))
        and np.allclose(
            prediction,
            expected_prediction,
            rtol=ULPS * epsilon,
            atol=ULPS * epsilon * float(np.max(np.abs(expected_prediction), initial=1.0)),
        )
        and abs(float(arrays[total_slot]) - expected_loss)
        <= ULPS * epsilon * max(abs(expected_loss), 1e-30)
    ):
        return False
    arrays[program._prediction_slot] = prediction
    program._forward, program._backward = [run], []
    program.listing.insert(
        0,
        "whole    dense_network " + "-".join(map(str, widths)) + f" × {rows} rows: the forward "
        "and backward kernels below in one Numba call (chainrule.dense_step)",
    )
    program.kernels = 1
    program.dense_step = True
    return True


__all__ = ["MAX_ROWS", "MAX_WIDTH", "ULPS", "install"]
